"""The OpenAPI 3.1 document: valid, complete, and the same one the server publishes."""

import json
import subprocess
import sys

import pytest
import yaml
from openapi_spec_validator import validate

from mockhog.catalog import Catalog
from mockhog.openapi import build_document
from mockhog.spec import Spec
from mockhog.spec.document import verified_matches


def test_served_document_is_valid_and_covers_every_operation(client):
    document = client.get("/api/schema/").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    served = {
        op["operationId"]: (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    catalog, spec = Catalog.load(), Spec.load()
    # every verified operation, under PostHog's operationId and path where PostHog has it too,
    # and every operation of PostHog's imported document
    matches = verified_matches(catalog, spec)
    named = {op: matches.get((op.method, op.template)) for op in catalog.operations}
    expected = {m.operation_id if m else op.operation_id for op, m in named.items()}
    assert set(served) == expected | {op.operation_id for op in spec.operations}
    for op, match in named.items():
        path, method, entry = served[match.operation_id if match else op.operation_id]
        assert path == (match.template if match else op.template) and method == op.method.lower()
        assert entry["x-mockhog-tier"] == "verified"
        assert entry["security"] == [{"PersonalAPIKeyAuth": list(op.scopes)}]
        assert entry.get("deprecated", False) == (op.prefix == "environments")
        assert str(op.status) in entry["responses"]


def test_known_operation_ids_and_bodies(client):
    document = client.get("/api/schema/").get_json()
    exports = document["paths"]["/api/projects/{project_id}/exports/"]
    assert exports["get"]["operationId"] == "exports_list"
    assert exports["post"]["operationId"] == "exports_create"
    body = exports["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ExportedAssetRequest"}
    assert "export_format" in document["components"]["schemas"]["ExportedAssetRequest"]["required"]
    env = document["paths"]["/api/environments/{project_id}/exports/"]["get"]
    assert env["operationId"] == "environments_exports_list" and env["deprecated"] is True


def test_yaml_is_the_same_document(client):
    as_json = client.get("/api/schema/").get_json()
    as_yaml = client.get("/api/schema/?format=yaml")
    assert as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.get_data(as_text=True)) == as_json


def test_cli_writes_the_document(tmp_path, client):
    target = tmp_path / "openapi.json"
    subprocess.run([sys.executable, "-m", "mockhog", "openapi", "-o", str(target)], check=True)
    document = json.loads(target.read_text())
    validate(document)
    assert document == client.get("/api/schema/").get_json()


def _walk(node, path=""):
    """Every schema-like dict in the document, with where it is."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _operations(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _component(document, ref):
    return document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def test_bodies_are_offered_as_json_only(client):
    """mockhog reads form and multipart bodies too, but converts only their top-level scalars and
    lists; only PostHog's file uploads (which take no JSON) are offered as multipart."""
    document = client.get("/api/schema/").get_json()
    bodies = {
        op["operationId"]: op["requestBody"] for _, _, op in _operations(document) if "requestBody" in op
    }
    uploads = {name for name, body in bodies.items() if list(body["content"]) == ["multipart/form-data"]}
    assert {name.removeprefix("environments_") for name in uploads} == {
        "error_tracking_symbol_sets_create",
        "error_tracking_symbol_sets_start_upload_create",
        "error_tracking_symbol_sets_update",
        "error_tracking_symbol_sets_partial_update",
        "warehouse_tables_file_create",
        "user_interviews_create",  # a FileField (audio) the body requires
        "user_interviews_update",
        "user_interviews_partial_update",
    }
    others = [body for name, body in bodies.items() if name not in uploads]
    assert others and all(list(body["content"]) == ["application/json"] for body in others)


def test_every_array_says_what_it_holds_and_every_ref_resolves(client):
    document = client.get("/api/schema/").get_json()
    names = set(document["components"]["schemas"])
    for where, node in _walk(document):
        kinds = node.get("type", [])
        if "array" in ([kinds] if isinstance(kinds, str) else kinds):
            assert "items" in node, where
        if isinstance(node.get("$ref"), str):
            assert node["$ref"].removeprefix("#/components/schemas/") in names, where


def test_lists_answer_typed_pages_of_their_model(client):
    document = client.get("/api/schema/").get_json()
    schemas = document["components"]["schemas"]
    listed = client.get("/api/projects/1/exports/").get_json()
    answer = document["paths"]["/api/projects/{project_id}/exports/"]["get"]["responses"]["200"]
    page = _component(document, answer["content"]["application/json"]["schema"])
    assert page == schemas["PaginatedExportedAssetList"]
    assert page["properties"]["results"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ExportedAsset"},
    }
    assert set(page["required"]) == set(listed) == {"count", "next", "previous", "results"}
    groups = schemas["PaginatedGroupList"]
    assert "count" not in groups["properties"]  # a cursor page
    assert groups["properties"]["results"]["items"] == {"$ref": "#/components/schemas/Group"}
    # only what an operation reaches is published: the untyped envelopes are not
    assert "LimitOffsetPage" not in schemas and "CursorPage" not in schemas


def test_inline_objects_and_enums_have_names_of_their_own(client, backend):
    """Generators name an inline object after its property: ``ActivityLogEntry.user`` would become
    ``User1`` beside the real ``User``. (The imported components keep PostHog's own shapes.)"""
    verified = build_document(backend.catalog, backend.contract.schemas)["components"]["schemas"]
    schemas = {
        name: schema
        for name, schema in client.get("/api/schema/").get_json()["components"]["schemas"].items()
        if name in verified
    }
    assert schemas["ActivityLogEntry"]["properties"]["user"] == {
        "$ref": "#/components/schemas/ActivityLogEntryUser"
    }
    assert "email" in schemas["ActivityLogEntryUser"]["properties"]
    for name, schema in schemas.items():
        for prop, value in schema.get("properties", {}).items():
            assert "properties" not in value and "enum" not in value, f"{name}.{prop}"


def test_lenient_and_required_query_parameters(client):
    document = client.get("/api/schema/").get_json()
    params = {(path, p["name"]): p for path, method, op in _operations(document) for p in op["parameters"]}
    # DRF's pagination takes any limit or offset (a negative or non-numeric one means the default)
    offset = params[("/api/projects/", "offset")]
    assert offset["required"] is False and offset["schema"]["type"] == ["integer", "string"]
    assert client.get("/api/projects/?offset=-5").status_code == 200
    assert client.get("/api/projects/?limit=abc").status_code == 200
    # a parameter the view requires is required, and blank counts as missing
    key = params[("/api/projects/{project_id}/groups/property_values/", "key")]
    assert key["required"] is True and key["schema"]["minLength"] == 1
    blank = client.get("/api/projects/1/groups/property_values/?group_type_index=0&key=")
    assert blank.status_code == 400 and blank.get_json()["attr"] == "key"


def test_what_a_view_refuses_by_hand_is_published(client):
    """``x-view``: the view's own checks, published with the schema (validation leaves them to the
    view, which answers in its own words)."""
    document = client.get("/api/schema/").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["NewPathRequest"]["required"] == ["new_path"]
    assert schemas["NewPathRequest"]["properties"]["new_path"]["type"] == "string"
    assert "x-view" not in json.dumps(document)
    move = document["paths"]["/api/projects/{project_id}/file_system/{id}/move/"]["post"]
    assert move["requestBody"]["required"] is True
    folder = next(r for r in client.get("/api/projects/1/file_system/").get_json()["results"])
    refused = client.post(f"/api/projects/1/file_system/{folder['id']}/move/", json={})
    assert refused.status_code == 400 and refused.get_json() == {"detail": "new_path is required"}
    assert schemas["LogsQueryRequest"]["required"] == ["query"]
    assert client.post("/api/projects/1/logs/query/", json={}).get_json() == {"error": "No query provided"}


@pytest.mark.parametrize(
    "path, name, published, refused",
    [
        ("insights/trending/", "days", {"type": "integer"}, "days=abc"),
        ("experiments/eligible_feature_flags/", "limit", {"type": "integer"}, "limit=abc"),
        (
            "annotations/",
            "date_from",
            {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}, {"maxLength": 0}]},
            "date_from=-7d",
        ),
        ("surveys/", "ids", {"type": "string"}, "ids=not-a-uuid"),
    ],
)
def test_query_text_a_view_parses_is_published_in_its_form(client, path, name, published, refused):
    """A query parameter the view parses itself is published in the form it takes (x-view), so a
    contract tool's valid values are taken and others refused with the view's own 400."""
    document = client.get("/api/schema/").get_json()
    operation = document["paths"][f"/api/projects/{{project_id}}/{path}"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
    assert published.items() <= parameter["schema"].items()
    assert client.get(f"/api/projects/1/{path}?{refused}").status_code == 400


def test_json_text_query_parameters_are_published_as_json(client):
    """x-json: feature flags' groups is JSON text holding an object, published as content."""
    document = client.get("/api/schema/").get_json()
    for path in ("my_flags", "evaluation_reasons"):
        operation = document["paths"][f"/api/projects/{{project_id}}/feature_flags/{path}/"]["get"]
        (groups,) = [p for p in operation["parameters"] if p["name"] == "groups"]
        assert groups["content"] == {"application/json": {"schema": {"type": "object"}}}
    assert client.get("/api/projects/1/feature_flags/my_flags/?groups=5").status_code == 400
    assert client.get('/api/projects/1/feature_flags/my_flags/?groups={"company":"a"}').status_code == 200


def test_project_secret_key_scopes_are_published_as_the_server_allows_them(client):
    from mockhog.resources.project_secret_api_keys import ALLOWED_SCOPES

    schemas = client.get("/api/schema/").get_json()["components"]["schemas"]
    assert schemas["Scopes"]["items"]["enum"] == list(ALLOWED_SCOPES)


def test_a_delete_is_a_bare_204_or_a_200_with_what_it_reached(client):
    document = client.get("/api/schema/").get_json()
    responses = document["paths"]["/api/projects/{project_id}/file_system/{id}/"]["delete"]["responses"]
    assert "content" not in responses["204"]
    body = _component(document, responses["200"]["content"]["application/json"]["schema"])
    assert body["required"] == ["deleted"]


def test_an_export_file_is_published_in_each_format_it_has(client):
    document = client.get("/api/schema/").get_json()
    content = document["paths"]["/api/projects/{project_id}/exports/{id}/content/"]["get"]["responses"][
        "200"
    ]["content"]
    formats = document["components"]["schemas"]["ExportFormat"]["enum"]
    assert list(content) == formats
    assert content["image/png"]["schema"] == {"type": "string", "format": "binary"}
    assert content["text/csv"]["schema"] == {"type": "string"}
    assert content["application/json"]["schema"] == {}
    for export in client.get("/api/projects/1/exports/").get_json()["results"]:
        answer = client.get(f"/api/projects/1/exports/{export['id']}/content/")
        assert answer.status_code == 200 and answer.mimetype in content


def test_an_export_still_being_generated_is_a_published_425(client):
    """ExportedAssetViewSet.content answers 425 export_not_ready while the file is generated
    (get_content_response in PostHog's exports API): the document says so
    for the file download, and for no JSON operation."""
    paths = client.get("/api/schema/").get_json()["paths"]
    content = paths["/api/projects/{project_id}/exports/{id}/content/"]["get"]["responses"]
    assert "425" in content
    assert "425" not in paths["/api/projects/{project_id}/exports/"]["get"]["responses"]


def _components_both_ways(backend):
    """The served components without and with --strict."""
    lenient = backend.openapi()["components"]["schemas"]
    backend.strict = True
    try:
        return lenient, backend.openapi()["components"]["schemas"]
    finally:
        backend.strict = False


def test_a_strict_server_publishes_closed_request_bodies(backend):
    lenient, strict = _components_both_ways(backend)
    assert "additionalProperties" not in lenient["ExportedAssetRequest"]
    assert strict["ExportedAssetRequest"]["additionalProperties"] is False
    assert strict["PatchedFileSystemRequest"]["additionalProperties"] is False
    # a response model is as it was
    assert strict["ExportedAsset"] == lenient["ExportedAsset"]


def test_a_decimal_field_is_published_as_the_server_reads_it(backend):
    """drf-spectacular's pattern for a DecimalField also matches "", "-" and ".", which DRF refuses;
    the served request view states the text DRF takes and, without --strict, the numbers (bounds
    and a step: max_digits=3, decimal_places=2), so a contract tool neither sends what the server
    refuses nor finds it taking what the document forbids."""
    import re

    lenient, strict = _components_both_ways(backend)
    published = lenient["PatchedProjectBackwardCompatRequest"]["properties"]["session_recording_sample_rate"]
    assert published["type"] == ["string", "null", "number"]
    assert (published["minimum"], published["maximum"], published["multipleOf"]) == (-9.99, 9.99, 0.01)
    text = re.compile(published["pattern"])
    assert [t for t in ("0.5", "-.25", "1.", " 1 ", "+0.10") if not text.match(t)] == []
    assert [t for t in ("", "-", ".", "12", "0.125", "1e-1") if text.match(t)] == []
    closed = strict["PatchedProjectBackwardCompatRequest"]["properties"]["session_recording_sample_rate"]
    assert closed["type"] == ["string", "null"] and closed["pattern"] == published["pattern"]
    assert "multipleOf" not in closed
