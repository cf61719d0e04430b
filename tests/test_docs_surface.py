"""Walks every operation documented in ../shared/seeds/ under both prefixes, with and without the
trailing slash, and checks the status and the documented keys and types of the body.

Where the docs and the real server disagree, the server wins; each such case is listed in
REAL_SERVER below and in docs/divergences.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from docs_pages import DocumentedOperation, documented_operations

from mockhog.catalog import PREFIXES, Catalog

DOCUMENTED = documented_operations()
SHAPES = sorted({(op.method, op.path) for op in DOCUMENTED})

# (method, path): (real status, what to compare the docs' example against)
REAL_SERVER: dict[tuple[str, str], tuple[int, str]] = {
    ("POST", "insights/{insight_id}/sharing/passwords/"): (201, "password object, not the config"),
    ("POST", "session_recordings/{recording_id}/sharing/passwords/"): (201, "password object"),
    ("POST", "file_system/log_view/"): (204, "no body"),
    ("POST", "external_data_sources/"): (201, "only {id}"),
    ("GET", "groups/"): (200, "cursor page of the documented Group"),
    ("GET", "event_definitions/by_name/"): (200, "the event definition, not the docs' placeholder"),
}
# Keys the docs show that the real server never sends.
NOT_SENT = {
    ("GET", "persons/"): {"count"},  # only with ?include_total
    ("GET", "external_data_sources/"): {"client_secret", "account_id"},  # write-only
    ("GET", "external_data_sources/{id}/"): {"client_secret", "account_id"},
    ("PATCH", "external_data_sources/{id}/"): {"client_secret", "account_id"},
}


def test_the_docs_list_75_operations_and_all_are_in_the_catalog():
    assert len(DOCUMENTED) == 75
    served = {(op.prefix, op.method, op.path) for op in Catalog.load().operations}
    assert not {op.key for op in DOCUMENTED} - served


def test_every_documented_shape_is_served_under_both_prefixes():
    served = {(op.prefix, op.method, op.path) for op in Catalog.load().operations}
    for method, path in SHAPES:
        for prefix in PREFIXES:
            assert (prefix, method, path) in served


def test_documented_scopes_are_required_where_the_docs_name_them():
    catalog = {(op.prefix, op.method, op.path): op for op in Catalog.load().operations}
    for doc in DOCUMENTED:
        op = catalog[doc.key]
        if doc.scopes and (doc.method, doc.path) != ("POST", "max_tools/create_and_query_insight/"):
            assert set(doc.scopes) <= set(op.scopes), (doc.key, doc.scopes, op.scopes)


def _first(client, path: str, query: str = "") -> dict[str, Any]:
    body = client.get(f"/api/projects/1/{path}?{query}").get_json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows, f"seed data has no {path}"
    return rows[0]


def _folder(client) -> dict[str, Any]:
    return client.post(
        "/api/projects/1/file_system/", json={"path": "Walk/Empty", "type": "folder"}
    ).get_json()


def _password_id(client, parent: str) -> int:
    client.patch(f"/api/projects/1/{parent}/sharing/", json={"password_required": True})
    made = client.post(f"/api/projects/1/{parent}/sharing/passwords/", json={"raw_password": "walk-the-docs"})
    return made.get_json()["id"]


def _group(client) -> dict[str, Any]:
    return _first(client, "groups/", "group_type_index=0")


def _group_query(client) -> str:
    group = _group(client)
    return f"group_type_index=0&group_key={group['group_key']}"


def _undo_item(client) -> dict[str, Any]:
    row = _first(client, "file_system/", "type=insight")
    client.delete(f"/api/projects/1/file_system/{row['id']}/")
    return {"items": [{"type": row["type"], "ref": row["ref"], "path": row["path"]}]}


def _prepare(client, method: str, path: str) -> tuple[str, str, Any]:
    """A concrete path, query string and body for one documented operation."""
    params: dict[str, Any] = {"insight_id": 1, "recording_id": "0197a3d0-walk"}
    query, body = "", None
    resource = path.split("/")[0]
    if "{id}" in path:
        if resource == "file_system":
            params["id"] = _folder(client)["id"]
        elif resource == "persisted_folder":
            params["id"] = client.post(
                "/api/projects/1/persisted_folder/", json={"type": "pinned"}
            ).get_json()["id"]
        else:
            params["id"] = _first(client, f"{resource}/")["id"]
    if "{password_id}" in path:
        params["password_id"] = _password_id(client, "insights/1")
    if path.startswith("session_recordings") and path.endswith("passwords/"):
        client.patch(
            f"/api/projects/1/session_recordings/{params['recording_id']}/sharing/",
            json={"password_required": True},
        )
    if path.startswith("insights") and path.endswith("passwords/"):
        client.patch("/api/projects/1/insights/1/sharing/", json={"password_required": True})
    if resource == "groups" and path != "groups/" and path != "groups/property_definitions/":
        query = _group_query(client)
    bodies = {
        ("POST", "exports/"): {"insight": 1, "export_format": "text/csv"},
        ("POST", "file_system/"): {"path": "Walk/Notes", "type": "folder"},
        ("PATCH", "file_system/{id}/"): {"meta": {"walked": True}},
        ("POST", "file_system/{id}/link/"): {"new_path": "Walk/Linked"},
        ("POST", "file_system/{id}/move/"): {"new_path": "Walk/Moved"},
        ("POST", "file_system/log_view/"): {"type": "insight", "ref": "1"},
        ("POST", "groups/"): {"group_type_index": 0, "group_key": "walk-key", "group_properties": {}},
        ("POST", "groups/update_property/"): {"key": "plan", "value": "enterprise"},
        ("POST", "insights/{insight_id}/sharing/passwords/"): {"raw_password": "walk-the-docs"},
        ("POST", "session_recordings/{recording_id}/sharing/passwords/"): {"raw_password": "walk-the-docs"},
        ("POST", "project_secret_api_keys/"): {"label": "walk", "scopes": ["endpoint:read"]},
        ("PATCH", "project_secret_api_keys/{id}/"): {"label": "walked"},
        ("PATCH", "event_definitions/{id}/"): {"description": "walked"},
        ("POST", "external_data_sources/"): {
            "source_type": "Stripe",
            "prefix": "walk_",
            "payload": {
                "stripe_secret_key": "sk_test_walk",
                "schemas": [{"name": "Charge", "should_sync": True, "sync_type": "full_refresh"}],
            },
        },
        ("PATCH", "external_data_sources/{id}/"): {"description": "walked"},
        ("PATCH", "external_data_sources/{id}/revenue_analytics_config/"): {"enabled": True},
        ("POST", "external_data_sources/database_schema/"): {
            "source_type": "Stripe",
            "stripe_secret_key": "sk",
        },
        ("POST", "external_data_sources/source_prefix/"): {"source_type": "Stripe", "prefix": "walk2_"},
        ("POST", "logs/query/"): {"query": {"limit": 5}},
        ("POST", "max_tools/create_and_query_insight/"): {
            "query": "weekly signups",
            "insight_type": "trends",
        },
        ("POST", "persisted_folder/"): {"type": "home"},
        ("PATCH", "persisted_folder/{id}/"): {"path": "Walk/Home"},
    }
    body = bodies.get((method, path))
    if (method, path) == ("POST", "groups/delete_property/"):
        body = {"$unset": next(iter(_group(client)["group_properties"]))}
    if (method, path) == ("GET", "groups/property_values/"):
        query = f"group_type_index=0&key={next(iter(_group(client)['group_properties']))}"
    if (method, path) == ("POST", "file_system/count_by_path/"):
        query = "path=Marketing"
    if (method, path) == ("POST", "file_system/undo_delete/"):
        body = _undo_item(client)
    if (method, path) == ("GET", "event_definitions/by_name/"):
        query = "name=%24pageview"
    return path.format(**params), query, body


def _same_type(documented: Any, served: Any) -> bool:
    if documented is None or served is None:
        return True  # the docs do not show nullability
    if isinstance(documented, bool):
        return isinstance(served, bool)
    if isinstance(documented, int):
        return isinstance(served, int) and not isinstance(served, bool)
    return isinstance(served, type(documented))


def _compare(doc: DocumentedOperation, body: Any) -> None:
    example = doc.example
    if not isinstance(example, dict):
        return
    if "results" in example and "results" not in body:
        pytest.fail(f"expected a page, got {sorted(body)}")
    if (doc.method, doc.path) == ("GET", "groups/"):
        example, body = {"results": [example]}, body
    skip = NOT_SENT.get((doc.method, doc.path), set())
    pairs = [(example, body)]
    if "results" in example and example["results"] and body["results"]:
        pairs.append((example["results"][0], body["results"][0]))
    for documented, served in pairs:
        for key, value in documented.items():
            if key in skip or key == "results":
                continue
            assert key in served, f"{doc.method} {doc.path}: missing documented key {key!r}"
            assert _same_type(value, served[key]), f"{doc.method} {doc.path}: {key!r} is {served[key]!r}"


@pytest.mark.parametrize("slash", [True, False], ids=["slash", "no-slash"])
@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{m} {p}" for m, p in SHAPES])
def test_walk(client, shape, prefix, slash):
    method, path = shape
    doc = next(op for op in DOCUMENTED if (op.method, op.path) == shape)
    concrete, query, body = _prepare(client, method, path)
    url = f"/api/{prefix}/1/{concrete if slash else concrete.rstrip('/')}" + (f"?{query}" if query else "")
    response = client.open(url, method=method, json=body)
    status, divergence = REAL_SERVER.get(shape, (doc.status, ""))
    assert response.status_code == status, (url, response.get_data(as_text=True)[:500])
    if divergence or not response.is_json:
        return
    _compare(doc, response.get_json())
