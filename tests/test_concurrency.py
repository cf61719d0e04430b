"""Concurrency: 8 client threads hammer the real threaded server (waitress) with interleaved creates,
updates (PATCH and PUT), deletes and lists. Afterwards: no 5xx at any time, no lost write, no
duplicate id, and every list walks page by page to exactly its count."""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from waitress import create_server

from mockhog import DEFAULT_API_KEY, Backend, create_app

THREADS = 8
ROUNDS = 14  # each round: a few requests on every resource, so about 60 requests per thread
P = "/api/projects/1"
FOLDER_TYPES = ("home", "pinned", "custom_products")  # persisted folders: one row per type


@dataclass
class Answer:
    status: int
    body: Any


class Client:
    """One keep-alive HTTP connection to the server, with the default key."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def __call__(self, method: str, path: str, body: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):
            self.connection.close()  # a closed keep-alive connection: retry once on a new one
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        return Answer(response.status, json.loads(data) if data else None)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, Backend]]:
    """mockhog on waitress with 8 worker threads, on a free port, with its own backend."""
    backend = Backend(seed=0)
    wsgi = create_server(create_app(backend=backend), host="127.0.0.1", port=0, threads=THREADS)
    runner = threading.Thread(target=wsgi.run, daemon=True)
    runner.start()
    try:
        yield wsgi.effective_port, backend
    finally:
        wsgi.close()


# -- what each worker believes the server holds --------------------------------------------------------
@dataclass
class Expected:
    """Everything one worker wrote: the last written fields of what survives, and what it deleted."""

    file_system: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group_key -> properties
    exports: dict[int, dict[str, Any]] = field(default_factory=dict)
    persisted_folder: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # type -> row
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (collection path, id)
    created_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, index: int, port: int) -> None:
        self.index = index
        self.rng = random.Random(index)
        self.http = Client(port)
        self.expected = Expected()
        self.counter = 0

    def call(self, method: str, path: str, body: Any = None, want: tuple[int, ...] = (200,)) -> Answer:
        answer = self.http(method, path, body)
        if answer.status >= 500 or answer.status not in want:
            self.expected.problems.append(f"{method} {path} {body!r} -> {answer.status} {answer.body!r}")
        return answer

    def name(self) -> str:
        self.counter += 1
        return f"t{self.index}-{self.counter}"

    # -- file system ---------
    def file_system_step(self) -> None:
        mine = self.expected.file_system
        choice = self.rng.random()
        if not mine or choice < 0.35:
            path = f"Concurrency/t{self.index}/{self.name()}"
            made = self.call("POST", f"{P}/file_system/", {"path": path, "type": "folder"}, want=(201,))
            if made.status == 201:
                mine[made.body["id"]] = {"path": path, "type": "folder", "href": None, "meta": {}}
                self.expected.created_ids.append(made.body["id"])
            return
        row_id = self.rng.choice(sorted(mine))
        if choice < 0.6:
            change = {"href": f"/patched/{self.name()}"}
            if self.call("PATCH", f"{P}/file_system/{row_id}/", change).status == 200:
                mine[row_id].update(change)
        elif choice < 0.8:
            full = {
                "path": mine[row_id]["path"],
                "type": "folder",
                "href": f"/put/{self.name()}",
                "meta": {"writer": self.index, "n": self.counter},
            }
            if self.call("PUT", f"{P}/file_system/{row_id}/", full).status == 200:
                mine[row_id].update(full)
        else:
            if self.call("DELETE", f"{P}/file_system/{row_id}/", want=(204,)).status == 204:
                del mine[row_id]
                self.expected.deleted.append(("file_system", row_id))

    # -- project secret API keys (at most 10 per project: each worker holds at most one) ---------
    def secret_key_step(self) -> None:
        mine = self.expected.secret_keys
        if not mine:
            label = f"conc {self.name()}"
            made = self.call(
                "POST",
                f"{P}/project_secret_api_keys/",
                {"label": label, "scopes": ["endpoint:read"]},
                want=(201,),
            )
            if made.status == 201:
                mine[made.body["id"]] = {"label": label, "scopes": ["endpoint:read"]}
                self.expected.created_ids.append(made.body["id"])
            return
        key_id = next(iter(mine))
        choice = self.rng.random()
        if choice < 0.4:
            change = {"label": f"patched {self.name()}"}
            if self.call("PATCH", f"{P}/project_secret_api_keys/{key_id}/", change).status == 200:
                mine[key_id].update(change)
        elif choice < 0.7:
            full = {"label": f"put {self.name()}", "scopes": ["endpoint:read"]}
            if self.call("PUT", f"{P}/project_secret_api_keys/{key_id}/", full).status == 200:
                mine[key_id].update(full)
        elif self.call("DELETE", f"{P}/project_secret_api_keys/{key_id}/", want=(204,)).status == 204:
            del mine[key_id]
            self.expected.deleted.append(("project_secret_api_keys", key_id))

    # -- persisted folders: worker i < 3 owns one type, so its writes are the last ones ---------
    def persisted_folder_step(self) -> None:
        if self.index >= len(FOLDER_TYPES):
            self.call("GET", f"{P}/persisted_folder/")
            return
        kind = FOLDER_TYPES[self.index]
        state = self.expected.persisted_folder
        choice = self.rng.random()
        row = state.get(kind)
        if row is None or choice < 0.3:
            body = {"type": kind, "protocol": "products://", "path": f"created/{self.name()}"}
            made = self.call("POST", f"{P}/persisted_folder/", body, want=(201,))
            if made.status == 201:
                state[kind] = {"id": made.body["id"], "protocol": body["protocol"], "path": body["path"]}
        elif choice < 0.6:
            change = {"path": f"patched/{self.name()}"}
            if self.call("PATCH", f"{P}/persisted_folder/{row['id']}/", change).status == 200:
                row.update(change)
        elif choice < 0.85:
            full = {"type": kind, "protocol": f"p{self.index}://", "path": f"put/{self.name()}"}
            if self.call("PUT", f"{P}/persisted_folder/{row['id']}/", full).status == 200:
                row.update(protocol=full["protocol"], path=full["path"])
        elif self.call("DELETE", f"{P}/persisted_folder/{row['id']}/", want=(204,)).status == 204:
            self.expected.deleted.append(("persisted_folder", row["id"]))
            state[kind] = None

    # -- groups: create, then property updates ---------
    def groups_step(self) -> None:
        mine = self.expected.groups
        if not mine or self.rng.random() < 0.4:
            key = f"conc-{self.name()}"
            body = {"group_type_index": 0, "group_key": key, "group_properties": {"writer": self.index}}
            if self.call("POST", f"{P}/groups/", body, want=(201,)).status == 201:
                mine[key] = {"writer": self.index}
            return
        key = self.rng.choice(sorted(mine))
        value = self.name()
        path = f"{P}/groups/update_property/?group_type_index=0&group_key={quote(key)}"
        if self.call("POST", path, {"key": "last", "value": value}).status == 200:
            mine[key]["last"] = value

    # -- exports: create only (they cannot be changed or deleted) ---------
    def exports_step(self) -> None:
        context = {"path": f"/concurrency/{self.name()}"}
        made = self.call(
            "POST",
            f"{P}/exports/",
            {"export_format": "text/csv", "insight": 1, "export_context": context},
            want=(201,),
        )
        if made.status == 201:
            self.expected.exports[made.body["id"]] = {"export_format": "text/csv", "export_context": context}

    # -- lists, read while others write ---------
    def list_step(self) -> None:
        collection = self.rng.choice(
            ["file_system", "project_secret_api_keys", "exports", "persisted_folder"]
        )
        limit = self.rng.choice([1, 5, 50, 1000])
        page = self.call("GET", f"{P}/{collection}/?limit={limit}&offset={self.rng.randrange(0, 30)}")
        if page.status == 200 and len(page.body["results"]) > limit:
            self.expected.problems.append(
                f"{collection}: {len(page.body['results'])} results for limit={limit}"
            )
        self.call("GET", f"{P}/groups/?group_type_index=0")

    def run(self) -> None:
        steps: list[Callable[[], None]] = [
            self.file_system_step,
            self.file_system_step,
            self.secret_key_step,
            self.persisted_folder_step,
            self.groups_step,
            self.exports_step,
            self.list_step,
        ]
        try:
            for _ in range(ROUNDS):
                self.rng.shuffle(steps)
                for step in steps:
                    step()
        except Exception as error:  # noqa: BLE001 - reported to the main thread
            self.expected.problems.append(f"worker {self.index} crashed: {error!r}")
        finally:
            self.http.close()


# -- reading everything back ---------------------------------------------------------------------------
def walk(client: Client, first: str) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Every result of a list, following ``next`` to the end; also each page's ``count``."""
    results: list[dict[str, Any]] = []
    counts: list[int | None] = []
    url: str | None = first
    for _ in range(10_000):
        if url is None:
            return results, counts
        parts = urlsplit(url)
        answer = client("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        assert answer.status == 200, (url, answer.status, answer.body)
        results += answer.body["results"]
        counts.append(answer.body.get("count"))
        url = answer.body["next"]
    raise AssertionError(f"{first}: next never ends")


def test_eight_threads_lose_no_write_and_never_answer_5xx(server: tuple[int, Backend]) -> None:
    port, _backend = server
    workers = [Worker(index, port) for index in range(THREADS)]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    problems = [problem for worker in workers for problem in worker.expected.problems]
    assert problems == [], "\n".join(problems[:20])

    client = Client(port)
    try:
        # No duplicate id: every create got a fresh id.
        created = [made for worker in workers for made in worker.expected.created_ids]
        assert len(created) == len(set(created))

        # Pages: disjoint, complete, and each page's count is the total.
        for collection in ("file_system", "project_secret_api_keys", "exports", "persisted_folder"):
            paged, counts = walk(client, f"{P}/{collection}/?limit=7")
            ids = [row["id"] for row in paged]
            assert len(ids) == len(set(ids)), f"{collection}: pages overlap"
            assert set(counts) == {len(ids)}, f"{collection}: counts {set(counts)} for {len(ids)} rows"
            whole = client("GET", f"{P}/{collection}/?limit=100000").body
            assert sorted(map(str, ids)) == sorted(str(row["id"]) for row in whole["results"])

        by_id = {row["id"]: row for row in walk(client, f"{P}/file_system/?limit=50")[0]}
        folders = [row["path"] for row in by_id.values() if row["type"] == "folder"]
        assert len(folders) == len(set(folders)), "two folders with the same path (a parent-folder race)"

        for worker in workers:
            expected = worker.expected
            for row_id, fields in expected.file_system.items():
                assert row_id in by_id, f"lost file_system row {row_id}"
                assert {k: by_id[row_id][k] for k in fields} == fields
            for key_id, fields in expected.secret_keys.items():
                answer = client("GET", f"{P}/project_secret_api_keys/{key_id}/")
                assert answer.status == 200
                assert {k: answer.body[k] for k in fields} == fields
                assert answer.body["value"] is None
            for export_id, fields in expected.exports.items():
                answer = client("GET", f"{P}/exports/{export_id}/")
                assert answer.status == 200 and {k: answer.body[k] for k in fields} == fields
            for key, properties in expected.groups.items():
                answer = client("GET", f"{P}/groups/find/?group_type_index=0&group_key={quote(key)}")
                assert answer.status == 200 and answer.body["group_properties"] == properties
            for kind, row in expected.persisted_folder.items():
                listed = [
                    r
                    for r in client("GET", f"{P}/persisted_folder/?limit=100").body["results"]
                    if r["type"] == kind
                ]
                if row is None:
                    assert listed == []
                else:
                    assert len(listed) == 1 and listed[0]["id"] == row["id"]
                    assert (listed[0]["protocol"], listed[0]["path"]) == (row["protocol"], row["path"])
            for collection, row_id in expected.deleted:
                assert client("GET", f"{P}/{collection}/{row_id}/").status == 404

        # Groups (cursor pages, no count): disjoint pages holding every group each worker made.
        groups, _ = walk(client, f"{P}/groups/?group_type_index=0")
        keys = [group["group_key"] for group in groups]
        assert len(keys) == len(set(keys)), "group pages overlap"
        made = {key for worker in workers for key in worker.expected.groups}
        assert made <= set(keys)
        # One persisted folder per type at most.
        types = [row["type"] for row in client("GET", f"{P}/persisted_folder/?limit=100").body["results"]]
        assert len(types) == len(set(types))
    finally:
        client.close()
