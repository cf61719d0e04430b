"""A stateful fuzz run over HTTP (Flask test client): a Hypothesis state machine creates, retrieves,
updates (PATCH and PUT) and deletes file-system rows, persisted folders and project secret API keys,
and creates and retrieves exports, checking each answer against a plain model of the project.

No answer may be a 5xx; the app validates every 2xx body against its schema and answers 500 when one
breaks it, so "no 5xx" also means "every 2xx body matches its schema"."""

from __future__ import annotations

import string
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from mockhog import DEFAULT_API_KEY, Backend, create_app

P = "/api/projects/1"
MAX_SECRET_KEYS = 50
FOLDER_TYPES = ("home", "pinned", "custom_products")
# Video and GIF exports render session recordings (tests/test_exports.py covers them).
EXPORT_FORMATS = ("text/csv", "application/json", "image/png", "application/pdf")

backend = Backend(seed=0)
app = create_app(backend=backend)

# Text a client might send: ASCII, accents, CJK, emoji, inner and outer blanks. No NUL (refused by
# PostHog, see test_hostile_input), no lone surrogates, no "/" or "\" (they would nest file-system rows).
ALPHABET = st.one_of(
    st.sampled_from(string.ascii_letters + string.digits + " -_.:'\"()"),
    st.sampled_from("éüñßçøå日本語한글🦔🚀✨"),
)
text = st.text(ALPHABET, min_size=0, max_size=24)
nonblank = st.builds(lambda head, tail: head + tail, st.sampled_from(string.ascii_letters + "é日🦔"), text)


def drf_string(value: str) -> str:
    """What DRF's CharField keeps: the value with surrounding blanks trimmed."""
    return value.strip()


class ApiMachine(RuleBasedStateMachine):
    file_rows = Bundle("file_rows")
    folders = Bundle("folders")
    secret_keys = Bundle("secret_keys")
    exports = Bundle("exports")

    def __init__(self) -> None:
        super().__init__()
        reset = getattr(backend, "reset_all", backend.reset)
        reset()
        self.client = app.test_client()
        self.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {DEFAULT_API_KEY}"
        self.files: dict[str, dict[str, Any]] = {}  # id -> fields this machine wrote
        self.folder_rows: dict[str, dict[str, Any]] = {}  # id -> {type, protocol, path}
        self.keys: dict[str, dict[str, Any]] = {}  # id -> {label, scopes}
        self.export_rows: dict[int, dict[str, Any]] = {}
        self.gone: set[Any] = set()  # ids this machine deleted

    # -- HTTP ---------
    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.open(path, method=method, json=body)
        assert response.status_code < 500, (method, path, body, response.status_code, response.data[:500])
        if response.status_code >= 400:
            answer = response.get_json()
            assert isinstance(answer, dict) and answer, (method, path, response.data[:300])
        return response.status_code, (response.get_json() if response.data else None)

    @initialize()
    def read_the_seeded_state(self) -> None:
        status, page = self.send("GET", f"{P}/persisted_folder/?limit=100")
        assert status == 200
        for row in page["results"]:
            self.folder_rows[row["id"]] = {k: row[k] for k in ("type", "protocol", "path")}
        status, page = self.send("GET", f"{P}/project_secret_api_keys/?limit=100")
        assert status == 200
        for row in page["results"]:
            self.keys[row["id"]] = {"label": row["label"], "scopes": row["scopes"]}

    # -- file system ---------
    @rule(
        target=file_rows,
        name=nonblank,
        kind=st.sampled_from(["folder", "notebook", "insight"]),
        href=st.none() | text,
        meta=st.none() | st.dictionaries(st.sampled_from("abc"), st.integers()),
    )
    def create_file_row(self, name: str, kind: str, href: str | None, meta: dict[str, int] | None) -> str:
        body: dict[str, Any] = {"path": f"sf-{name}", "type": kind, "href": href}
        if kind == "insight":
            body["ref"] = "987654"  # no such insight: deleting this row is a hard delete
        if meta is not None:
            body["meta"] = meta
        status, made = self.send("POST", f"{P}/file_system/", body)
        assert status == 201, made
        expected = {
            "path": drf_string(body["path"]),
            "type": kind,
            "href": href and drf_string(href),
            "depth": 1,
            "shortcut": False,
        }
        assert {k: made[k] for k in expected} == expected
        self.files[made["id"]] = {**expected, **({"meta": meta} if meta is not None else {})}
        return made["id"]

    @rule(row_id=file_rows)
    def retrieve_file_row(self, row_id: str) -> None:
        status, row = self.send("GET", f"{P}/file_system/{row_id}/")
        if row_id in self.files:
            assert status == 200 and {k: row[k] for k in self.files[row_id]} == self.files[row_id]
        else:
            assert status == 404

    @rule(row_id=file_rows, name=st.none() | nonblank, href=st.none() | text)
    def patch_file_row(self, row_id: str, name: str | None, href: str | None) -> None:
        change: dict[str, Any] = {"href": href}
        if name is not None:
            change["path"] = f"sf-{name}"
        status, row = self.send("PATCH", f"{P}/file_system/{row_id}/", change)
        if row_id not in self.files:
            assert status == 404
            return
        assert status == 200, row
        self.files[row_id].update({k: v and drf_string(v) for k, v in change.items()})
        assert {k: row[k] for k in self.files[row_id]} == self.files[row_id]

    @rule(row_id=file_rows, name=nonblank, meta=st.dictionaries(st.sampled_from("xyz"), st.booleans()))
    def put_file_row(self, row_id: str, name: str, meta: dict[str, bool]) -> None:
        kind = self.files.get(row_id, {}).get("type", "folder")
        body = {"path": f"sf-{name}", "type": kind, "meta": meta}
        status, row = self.send("PUT", f"{P}/file_system/{row_id}/", body)
        if row_id not in self.files:
            assert status == 404
            return
        assert status == 200, row
        self.files[row_id].update(path=drf_string(body["path"]), meta=meta)
        assert {k: row[k] for k in self.files[row_id]} == self.files[row_id]

    @rule(row_id=file_rows)
    def delete_file_row(self, row_id: str) -> None:
        before = backend.store.dump()
        status, body = self.send("DELETE", f"{P}/file_system/{row_id}/")
        if row_id not in self.files:
            assert status == 404
        elif self.files[row_id]["type"] == "notebook":
            # PostHog cannot delete this type through the tree: 400, and nothing changes.
            assert status == 400 and body["detail"] == "Cannot delete resources with type 'notebook'."
            assert backend.store.dump() == before
        else:
            assert status in (200, 204), body
            del self.files[row_id]
            self.gone.add(row_id)

    # -- persisted folders (an upsert per type) ---------
    def folder_of_type(self, kind: str) -> str | None:
        return next((row_id for row_id, row in self.folder_rows.items() if row["type"] == kind), None)

    @rule(
        target=folders,
        kind=st.sampled_from(FOLDER_TYPES),
        protocol=st.none() | nonblank.map(lambda s: s[:64]),
        path=st.none() | text,
    )
    def create_folder(self, kind: str, protocol: str | None, path: str | None) -> str:
        body: dict[str, Any] = {"type": kind}
        if protocol is not None:
            body["protocol"] = protocol
        if path is not None:
            body["path"] = path
        status, made = self.send("POST", f"{P}/persisted_folder/", body)
        assert status == 201, made
        existing = self.folder_of_type(kind)
        if existing is not None:
            assert made["id"] == existing  # the upsert keeps the row
        expected = {
            "type": kind,
            "protocol": drf_string(protocol) if protocol is not None else "products://",
            "path": drf_string(path) if path is not None else "",
        }
        assert {k: made[k] for k in expected} == expected
        self.folder_rows[made["id"]] = expected
        self.gone.discard(made["id"])
        return made["id"]

    @rule(row_id=folders)
    def retrieve_folder(self, row_id: str) -> None:
        status, row = self.send("GET", f"{P}/persisted_folder/{row_id}/")
        if row_id in self.folder_rows:
            assert status == 200 and {k: row[k] for k in self.folder_rows[row_id]} == self.folder_rows[row_id]
        else:
            assert status == 404

    @rule(row_id=folders, data=st.data(), use_put=st.booleans())
    def update_folder(self, row_id: str, data: st.DataObject, use_put: bool) -> None:
        # Only the row's own type or a free one: a taken type breaks PostHog's unique index (its 500).
        own = self.folder_rows.get(row_id, {}).get("type")
        free = [kind for kind in FOLDER_TYPES if kind == own or self.folder_of_type(kind) is None]
        body: dict[str, Any] = {"path": data.draw(text, label="path")}
        if use_put or data.draw(st.booleans(), label="with type"):
            body["type"] = data.draw(st.sampled_from(free or list(FOLDER_TYPES)), label="type")
        if use_put or data.draw(st.booleans(), label="with protocol"):
            body["protocol"] = data.draw(nonblank.map(lambda s: s[:64]), label="protocol")
        status, row = self.send("PUT" if use_put else "PATCH", f"{P}/persisted_folder/{row_id}/", body)
        if row_id not in self.folder_rows:
            assert status == 404
            return
        assert status == 200, row
        self.folder_rows[row_id].update({k: drf_string(v) for k, v in body.items()})
        assert {k: row[k] for k in self.folder_rows[row_id]} == self.folder_rows[row_id]

    @rule(row_id=folders)
    def delete_folder(self, row_id: str) -> None:
        status, _ = self.send("DELETE", f"{P}/persisted_folder/{row_id}/")
        if row_id in self.folder_rows:
            assert status == 204
            del self.folder_rows[row_id]
            self.gone.add(row_id)
        else:
            assert status == 404

    # -- project secret API keys ---------
    @rule(target=secret_keys, label=text.map(lambda s: s[:40]))
    def create_secret_key(self, label: str) -> str:
        status, made = self.send(
            "POST", f"{P}/project_secret_api_keys/", {"label": label, "scopes": ["endpoint:read"]}
        )
        wanted = drf_string(label)
        if not wanted:
            assert status == 400 and made["code"] == "blank" and made["attr"] == "label"
            return str(uuid.uuid4())  # an id that never existed
        if len(self.keys) >= MAX_SECRET_KEYS:
            limit = f"You can only have {MAX_SECRET_KEYS} project secret API keys"
            assert status == 400 and limit in made["detail"], made
            return str(uuid.uuid4())
        if any(key["label"] == wanted for key in self.keys.values()):
            assert (
                status == 400
                and made["detail"] == f"Project secret API key with label '{wanted}' already exists."
            )
            return str(uuid.uuid4())
        assert status == 201, made
        assert made["value"].startswith("phs_") and made["label"] == wanted
        self.keys[made["id"]] = {"label": wanted, "scopes": ["endpoint:read"]}
        return made["id"]

    @rule(key_id=secret_keys)
    def retrieve_secret_key(self, key_id: str) -> None:
        status, row = self.send("GET", f"{P}/project_secret_api_keys/{key_id}/")
        if key_id in self.keys:
            assert status == 200 and row["value"] is None
            assert {k: row[k] for k in self.keys[key_id]} == self.keys[key_id]
        else:
            assert status == 404

    @rule(key_id=secret_keys, label=nonblank.map(lambda s: s[:40]), use_put=st.booleans())
    def update_secret_key(self, key_id: str, label: str, use_put: bool) -> None:
        body: dict[str, Any] = {"label": label}
        if use_put:
            body["scopes"] = ["endpoint:read"]
        status, row = self.send("PUT" if use_put else "PATCH", f"{P}/project_secret_api_keys/{key_id}/", body)
        wanted = drf_string(label)
        if key_id not in self.keys:
            assert status == 404
        elif any(key["label"] == wanted for other, key in self.keys.items() if other != key_id):
            assert status == 400 and "already exists" in row["detail"]
        else:
            assert status == 200, row
            assert row["value"] is None and row["label"] == wanted
            self.keys[key_id]["label"] = wanted

    @rule(key_id=secret_keys)
    def roll_secret_key(self, key_id: str) -> None:
        status, row = self.send("POST", f"{P}/project_secret_api_keys/{key_id}/roll/")
        if key_id in self.keys:
            assert status == 200 and row["value"].startswith("phs_") and row["last_rolled_at"]
        else:
            assert status == 404

    @rule(key_id=consumes(secret_keys))
    def delete_secret_key(self, key_id: str) -> None:
        status, _ = self.send("DELETE", f"{P}/project_secret_api_keys/{key_id}/")
        if key_id in self.keys:
            assert status == 204
            del self.keys[key_id]
            self.gone.add(key_id)
        else:
            assert status == 404

    # -- exports (create and retrieve only) ---------
    @rule(
        target=exports,
        export_format=st.sampled_from(EXPORT_FORMATS),
        insight=st.sampled_from([None, 1, 10]),
        path=text,
    )
    def create_export(self, export_format: str, insight: int | None, path: str) -> int:
        body = {"export_format": export_format, "insight": insight, "export_context": {"path": path}}
        status, made = self.send("POST", f"{P}/exports/", body)
        assert status == 201, made
        expected = {"export_format": export_format, "insight": insight, "export_context": {"path": path}}
        assert {k: made[k] for k in expected} == expected
        self.export_rows[made["id"]] = expected
        return made["id"]

    @rule(export_id=exports)
    def retrieve_export(self, export_id: int) -> None:
        status, row = self.send("GET", f"{P}/exports/{export_id}/")
        assert (
            status == 200 and {k: row[k] for k in self.export_rows[export_id]} == self.export_rows[export_id]
        )
        content = self.client.get(f"{P}/exports/{export_id}/content/")
        assert content.status_code == (200 if row["has_content"] else 404)

    # -- ids that never existed ---------
    @rule(
        collection=st.sampled_from(["file_system", "persisted_folder", "project_secret_api_keys", "exports"]),
        method=st.sampled_from(["GET", "PATCH", "DELETE"]),
    )
    def unknown_id_is_404(self, collection: str, method: str) -> None:
        row_id = "987654321" if collection == "exports" else str(uuid.uuid4())
        if collection == "exports" and method != "GET":
            return
        before = backend.store.dump()
        status, body = self.send(method, f"{P}/{collection}/{row_id}/", {} if method == "PATCH" else None)
        assert status == 404 and body["code"] == "not_found"
        assert backend.store.dump() == before

    # -- invariants ---------
    @invariant()
    def lists_match_the_model(self) -> None:
        if not hasattr(self, "client"):
            return
        status, page = self.send("GET", f"{P}/project_secret_api_keys/?limit=100")
        assert status == 200 and page["count"] == len(self.keys) == len(page["results"])
        assert {row["id"] for row in page["results"]} == set(self.keys)
        assert all(row["value"] is None for row in page["results"])
        status, page = self.send("GET", f"{P}/persisted_folder/?limit=100")
        assert status == 200
        assert {row["id"]: {k: row[k] for k in ("type", "protocol", "path")} for row in page["results"]} == (
            self.folder_rows
        )

    def teardown(self) -> None:
        if not hasattr(self, "client"):
            return
        status, page = self.send("GET", f"{P}/file_system/?limit=10000")
        assert status == 200 and page["count"] == len(page["results"])
        listed = {row["id"]: row for row in page["results"]}
        for row_id, fields in self.files.items():
            assert {k: listed[row_id][k] for k in fields} == fields
        assert not (self.gone & set(listed))


ApiMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestApiStateful = ApiMachine.TestCase
