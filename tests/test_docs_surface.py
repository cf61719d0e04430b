"""Walks every operation PostHog's docs pages document (tests/data/docs_surface.json) under both
prefixes, with and without the trailing slash, and checks the status and the documented keys and
types of the body.

Where the docs and the real server disagree, the server wins; each such case is listed in
REAL_SERVER below and in docs/divergences.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from docs_pages import DocumentedOperation, documented_operations
from walk import prepare

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
# Keys the docs show that the real server never sends (or sends with another type).
ACTION_ONLY = {"last_updated_at", "action_id", "is_calculating", "last_calculated_at", "created_by"}
NOT_SENT = {
    ("GET", "event_definitions/{id}/"): ACTION_ONLY | {"owner"},  # owner: a UserBasic, not an id
    ("PATCH", "event_definitions/{id}/"): ACTION_ONLY | {"owner"},
    ("GET", "persons/"): {"count"},  # only with ?include_total
    # client_secret and account_id are write-only; schemas is a list of objects, not a string
    ("GET", "external_data_sources/"): {"client_secret", "account_id", "schemas"},
    ("GET", "external_data_sources/{id}/"): {"client_secret", "account_id", "schemas"},
    ("PATCH", "external_data_sources/{id}/"): {"client_secret", "account_id", "schemas"},
    # created_by: a UserBasic today, an id in the docs (docs/divergences.md)
    **{
        (method, path): {"created_by"}
        for method, path in [
            ("GET", "project_secret_api_keys/"),
            ("GET", "project_secret_api_keys/{id}/"),
            ("POST", "project_secret_api_keys/"),
            ("PATCH", "project_secret_api_keys/{id}/"),
            ("POST", "project_secret_api_keys/{id}/roll/"),
        ]
    },
}


def test_the_docs_list_75_operations_and_all_are_in_the_catalog():
    assert len(DOCUMENTED) == 75
    served = {(op.prefix, op.method, op.path) for op in Catalog.load().operations}
    assert not {op.key for op in DOCUMENTED} - served


# PostHog's drf-spectacular names its event definitions list `event_definitions_retrieve` and the
# retrieve `event_definitions_retrieve_2`; the catalog calls them `_list` and `_retrieve`.
OPERATION_ID_DIVERGENCE = {("projects", "GET", "event_definitions/{id}/"): "event_definitions_retrieve"}


def test_documented_operations_carry_posthogs_operation_ids():
    catalog = {(op.prefix, op.method, op.path): op.operation_id for op in Catalog.load().operations}
    named = [doc for doc in DOCUMENTED if doc.operation_id]
    assert len(named) == 52  # the rest are missing from PostHog's 2025 OpenAPI document
    for doc in named:
        assert catalog[doc.key] == OPERATION_ID_DIVERGENCE.get(doc.key, doc.operation_id), doc.key


def test_every_documented_shape_is_served_under_both_prefixes():
    served = {(op.prefix, op.method, op.path) for op in Catalog.load().operations}
    for method, path in SHAPES:
        for prefix in PREFIXES:
            assert (prefix, method, path) in served


# Where today's PostHog asks for another scope than the docs name (docs/divergences.md).
SCOPE_CHANGED = {("POST", "max_tools/create_and_query_insight/"), ("POST", "logs/query/")}


def test_documented_scopes_are_required_where_the_docs_name_them():
    catalog = {(op.prefix, op.method, op.path): op for op in Catalog.load().operations}
    for doc in DOCUMENTED:
        op = catalog[doc.key]
        if doc.scopes and (doc.method, doc.path) not in SCOPE_CHANGED:
            assert set(doc.scopes) <= set(op.scopes), (doc.key, doc.scopes, op.scopes)


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "array": list,
    "object": dict,
}


def _same_type(documented: dict[str, Any], served: Any) -> bool:
    if documented["type"] == "null" or served is None:
        return True  # the docs do not show nullability
    if documented["type"] == "boolean" or isinstance(served, bool):
        return documented["type"] == "boolean" and isinstance(served, bool)
    return isinstance(served, _JSON_TYPES[documented["type"]])


def _compare(doc: DocumentedOperation, body: Any) -> None:
    example = doc.response
    if not example or example["type"] != "object":
        return
    if "results" in example["keys"] and "results" not in body:
        pytest.fail(f"expected a page, got {sorted(body)}")
    if (doc.method, doc.path) == ("GET", "groups/"):
        example = {"type": "object", "keys": {"results": {"type": "array", "items": example}}}
    skip = NOT_SENT.get((doc.method, doc.path), set())
    pairs = [(example["keys"], body)]
    first = example["keys"].get("results", {}).get("items")
    if first and first["type"] == "object" and body["results"]:
        pairs.append((first["keys"], body["results"][0]))
    for documented, served in pairs:
        for key, shape in documented.items():
            if key in skip or key == "results":
                continue
            assert key in served, f"{doc.method} {doc.path}: missing documented key {key!r}"
            assert _same_type(shape, served[key]), f"{doc.method} {doc.path}: {key!r} is {served[key]!r}"


@pytest.mark.parametrize("slash", [True, False], ids=["slash", "no-slash"])
@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{m} {p}" for m, p in SHAPES])
def test_walk(client, shape, prefix, slash):
    method, path = shape
    doc = next(op for op in DOCUMENTED if (op.method, op.path) == shape)
    concrete, query, body = prepare(client, method, path)
    url = f"/api/{prefix}/1/{concrete if slash else concrete.rstrip('/')}" + (f"?{query}" if query else "")
    response = client.open(url, method=method, json=body)
    status, divergence = REAL_SERVER.get(shape, (doc.status, ""))
    assert response.status_code == status, (url, response.get_data(as_text=True)[:500])
    if divergence or not response.is_json:
        return
    _compare(doc, response.get_json())
