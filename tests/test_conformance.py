"""Generated conformance: every operation mockhog serves generically, from PostHog's contract.

- a valid request built from the operation's schema, sent with a key holding exactly the
  operation's scopes, gets a 2xx (or a status the document gives it) whose body validates against
  PostHog's response schema;
- a round trip (create, retrieve, in the list, partial update, delete or soft delete, gone) for
  every standard viewset;
- the scope matrix: a key without the operation's scope is refused naming it, for every operation.

Every generic operation runs (no sampling): the whole file takes seconds.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from spec_requests import path_for

from mockhog import Backend, create_app
from mockhog.keys import ApiKey
from mockhog.spec import SpecOperation
from mockhog.spec.document import verified_matches
from mockhog.spec.values import ValueMaker
from mockhog.spec.viewsets import TIER_HEADER

backend = Backend(seed=0)
app = create_app(backend=backend)
spec = backend.spec
_verified = {op.operation_id for op in verified_matches(backend.catalog, spec).values()}
GENERIC = [op for op in spec.operations if op.operation_id not in _verified]
STANDARD = ("list", "create", "retrieve", "update", "partial_update", "destroy")


@pytest.fixture(autouse=True)
def fresh():
    backend.reset_all()
    yield
    backend.reset_all()


def _maker(stream: str) -> ValueMaker:
    return ValueMaker(backend.generic._resolve, random.Random(stream), backend.clock)


def _body(op: SpecOperation) -> Any:
    if op.body is None or "schema" not in op.body:
        return None
    schema = backend.contract[op].body_ref
    value = _maker(op.operation_id).make(schema)
    properties = spec.resolve(schema).get("properties", {}) if isinstance(schema, dict) else {}
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if not spec.resolve(properties.get(k, {})).get("readOnly")}
    return value


def _file_fields(op: SpecOperation) -> set[str]:
    schema = backend.contract[op].body_ref if op.body and "schema" in op.body else None
    properties = spec.resolve(schema).get("properties", {}) if isinstance(schema, dict) else {}
    return {name for name, prop in properties.items() if spec.resolve(prop).get("format") == "binary"}


def _query(op: SpecOperation) -> dict[str, Any]:
    maker = _maker("query:" + op.operation_id)
    return {
        name: maker.make(entry["schema"], name) for name, entry in op.query.items() if entry.get("required")
    }


def _client(scopes: list[str]) -> Any:
    backend.keys.add(ApiKey(id="conformance", label="conformance", value="phx_conformance", scopes=scopes))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer phx_conformance"
    return client


def _send(op: SpecOperation, scopes: list[str]) -> Any:
    path = path_for(backend, op)
    if path is None:
        pytest.skip(f"{op.table}: no record to address (the collection has no model to seed from)")
    kwargs: dict[str, Any] = {"query_string": _query(op)}
    body = _body(op)
    files = _file_fields(op)
    if isinstance(body, dict) and files:
        # a FileField's body is multipart, the file a part of its own (no JSON value is a file)
        kwargs["data"] = {
            k: (io.BytesIO(b"RIFF"), "upload.wav") if k in files else v for k, v in body.items()
        }
        kwargs["content_type"] = "multipart/form-data"
    elif body is not None:
        kwargs["json"] = body
    return _client(scopes).open(path, method=op.method, **kwargs), path


@pytest.mark.parametrize("op", GENERIC, ids=[op.operation_id for op in GENERIC])
def test_a_valid_request_gets_a_documented_answer(op):
    response, path = _send(op, list(op.scopes or ["*"]))
    if op.scopes is None:
        assert response.status_code == 403, response.data
        assert response.get_json()["detail"] == "This action does not support personal API key access"
        return
    documented = {int(status) for status in op.responses}
    assert response.status_code < 300 or response.status_code in documented, (path, response.get_json())
    assert response.headers.get(TIER_HEADER) == "generic"
    if 200 <= response.status_code < 300 and op.response_schema is not None:
        problem = backend.contract[op].check_response(response.get_json())
        assert problem is None, problem


@pytest.mark.parametrize("op", [op for op in GENERIC if op.scopes], ids=lambda op: op.operation_id)
def test_a_key_without_the_scope_is_refused_naming_it(op):
    path = path_for(backend, op) or op.template.replace("{project_id}", "1")
    response = _client(["nothing:read"]).open(path, method=op.method)
    assert response.status_code == 403
    assert response.get_json()["detail"] == f"API key missing required scope '{sorted(op.scopes)[0]}'"


def _viewsets() -> list[tuple[str, dict[str, SpecOperation]]]:
    by_collection: dict[str, dict[str, SpecOperation]] = {}
    for op in GENERIC:
        if op.prefix == "projects" or op.scope == "organization":
            by_collection.setdefault(op.collection, {})[op.kind] = op
    wanted = {"list", "create", "retrieve", "partial_update", "destroy"}
    return sorted(
        (c, ops) for c, ops in by_collection.items() if wanted <= set(ops) and not ops["list"].parents
    )


@pytest.mark.parametrize("collection, ops", _viewsets(), ids=[c for c, _ in _viewsets()])
def test_round_trip_of_every_standard_viewset(collection, ops):
    if any(op.scopes is None for op in ops.values()):
        pytest.skip("PostHog refuses personal API keys on this viewset")
    client = _client(["*"])
    base = path_for(backend, ops["list"])
    created = client.post(base, json=_body(ops["create"]))
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    field = backend.generic._lookup_field(ops["retrieve"])
    url = f"{base}{record[field] if field in record else record['id']}/"
    assert client.get(url).get_json() == record
    listed = client.get(base, query_string={"limit": 1000}).get_json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert record in rows
    patch = {k: v for k, v in (_body(ops["partial_update"]) or {}).items() if k != "deleted"}
    patched = client.patch(url, json=patch)
    assert patched.status_code == 200, patched.get_json()
    if ops["destroy"].forbids_destroy:
        assert client.delete(url).status_code == 405
        assert client.patch(url, json={"deleted": True}).status_code == 200
    else:
        assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    listed = client.get(base, query_string={"limit": 1000}).get_json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert all(row.get(field) != record.get(field) for row in rows)


def test_every_list_route_starts_non_empty():
    empty = []
    client = _client(["*"])
    for op in GENERIC:
        if op.kind != "list" or op.scopes is None:
            continue
        path = path_for(backend, op)
        body = client.get(path).get_json() if path else None
        rows = body.get("results") if isinstance(body, dict) else body
        if not rows:
            empty.append(op.operation_id)
    assert empty == []
