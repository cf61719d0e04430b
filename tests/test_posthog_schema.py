"""A user's own PostHog: ``mockhog serve --posthog-schema FILE`` and ``Backend(spec=Spec.from_file(FILE))``
serve and validate against the user's document: operations it lacks disappear, new ones are served
generically, the verified ones and the overlay's corrections stay."""

from __future__ import annotations

import copy
import json

import pytest
import requests
from serving import serving
from spec_documents import document_from_contract, write

from mockhog import DEFAULT_API_KEY, Backend, create_app
from mockhog.cli import main
from mockhog.spec import Spec, load_overlay
from mockhog.spec.viewsets import TIER_HEADER

WIDGET = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "maxLength": 40},
        "size": {"enum": ["small", "large"], "type": "string"},
        "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    },
    "required": ["id", "name", "created_at"],
}
PAGE = {
    "type": "object",
    "required": ["count", "results"],
    "properties": {
        "count": {"type": "integer"},
        "next": {"type": ["string", "null"], "format": "uri"},
        "previous": {"type": ["string", "null"], "format": "uri"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Widget"}},
    },
}
PROJECT = {"in": "path", "name": "project_id", "required": True, "schema": {"type": "string"}}
ID = {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}


def _json(ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def users_posthog() -> dict:
    """A newer PostHog: widgets are new, early access features are gone."""
    document = copy.deepcopy(document_from_contract())
    del document["paths"]["/api/projects/{project_id}/early_access_feature/"]
    del document["paths"]["/api/projects/{project_id}/early_access_feature/{id}/"]
    document["components"]["schemas"].update(Widget=WIDGET, PaginatedWidgetList=PAGE)
    read = [{"PersonalAPIKeyAuth": ["widget:read"]}]
    write_ = [{"PersonalAPIKeyAuth": ["widget:write"]}]
    document["paths"]["/api/projects/{project_id}/widgets/"] = {
        "get": {
            "operationId": "widgets_list",
            "parameters": [PROJECT, {"in": "query", "name": "limit", "schema": {"type": "integer"}}],
            "security": read,
            "responses": {"200": {"description": "", **_json("PaginatedWidgetList")}},
        },
        "post": {
            "operationId": "widgets_create",
            "parameters": [PROJECT],
            "security": write_,
            "requestBody": {"required": True, **_json("Widget")},
            "responses": {"201": {"description": "", **_json("Widget")}},
        },
    }
    document["paths"]["/api/projects/{project_id}/widgets/{id}/"] = {
        "get": {
            "operationId": "widgets_retrieve",
            "parameters": [PROJECT, ID],
            "security": read,
            "responses": {"200": {"description": "", **_json("Widget")}},
        },
    }
    return document


@pytest.fixture(scope="module")
def document_file(tmp_path_factory) -> str:
    return str(write(users_posthog(), tmp_path_factory.mktemp("posthog") / "schema.json.gz"))


@pytest.fixture(scope="module")
def users_backend(document_file) -> Backend:
    return Backend(seed=0, spec=Spec.from_file(document_file))


@pytest.fixture
def client(users_backend):
    users_backend.reset_all()
    client = create_app(backend=users_backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {DEFAULT_API_KEY}"
    return client


def test_new_operations_are_served_generically_and_validated(client):
    listed = client.get("/api/projects/1/widgets/")
    assert listed.status_code == 200, listed.get_json()
    assert listed.headers[TIER_HEADER] == "generic"
    page = listed.get_json()
    assert page["count"] >= 1 and {"id", "name", "created_at"} <= set(page["results"][0])
    created = client.post("/api/projects/1/widgets/", json={"name": "Gear", "size": "large"})
    assert created.status_code == 201, created.get_json()
    widget = created.get_json()
    assert client.get(f"/api/projects/1/widgets/{widget['id']}/").get_json() == widget
    refused = client.post("/api/projects/1/widgets/", json={"name": "Gear", "size": "huge"})
    assert refused.status_code == 400
    body = refused.get_json()
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "invalid_choice", "size")
    missing = client.post("/api/projects/1/widgets/", json={"size": "small"})
    assert missing.status_code == 400 and missing.get_json()["attr"] == "name"
    assert client.get("/api/projects/1/widgets/").get_json()["count"] == page["count"] + 1


def test_operations_the_document_lacks_disappear(client):
    gone = client.get("/api/projects/1/early_access_feature/")
    assert gone.status_code == 404
    assert gone.get_json()["type"] == "invalid_request"
    assert "not found" in gone.get_json()["detail"].lower()


def test_verified_operations_and_other_imported_ones_stay(client):
    persons = client.get("/api/projects/1/persons/?limit=1")
    assert persons.status_code == 200 and TIER_HEADER not in persons.headers
    notebooks = client.get("/api/projects/1/notebooks/")
    assert notebooks.status_code == 200 and notebooks.headers[TIER_HEADER] == "generic"


def test_the_served_document_is_the_users(client):
    document = client.get("/api/schema/").get_json()
    ids = {entry["operationId"] for item in document["paths"].values() for entry in item.values()}
    assert {"widgets_list", "widgets_create", "widgets_retrieve", "notebooks_list"} <= ids
    assert "early_access_feature_list" not in ids
    assert document["paths"]["/api/projects/{project_id}/widgets/"]["get"]["x-mockhog-tier"] == "generic"


def test_the_overlay_is_re_applied(users_backend):
    fixes = load_overlay()
    assert fixes, "the overlay has corrections to re-apply"
    components = users_backend.spec.components
    for fix in fixes:
        node = components[fix["component"]]
        parts = fix["pointer"].strip("/").split("/")
        for part in parts[:-1]:
            node = node[part]
        if fix["action"] == "remove":
            assert parts[-1] not in node
        else:
            assert node[parts[-1]] == fix["value"]
    assert users_backend.spec.overlay_skipped == []


def test_an_overlay_fix_without_a_target_is_skipped_and_said():
    document = {
        "openapi": "3.0.3",
        "info": {"title": "PostHog API", "version": "1.0.0"},
        "paths": {},
        "components": {"schemas": {"Widget": WIDGET}},
    }
    spec = Spec.from_document(document)
    assert set(spec.components) == {"Widget"}
    assert [reason for _, reason in spec.overlay_skipped] == [
        f"no component {fix['component']!r}" for fix in load_overlay()
    ]


def test_the_commands_take_the_users_document(document_file, tmp_path, capsys):
    assert main(["routes", "--posthog-schema", document_file]) == 0
    captured = capsys.readouterr()
    assert "widgets_create" in captured.out and "early_access_feature_list" not in captured.out
    assert "generic" in captured.err
    out = tmp_path / "served.json"
    assert main(["openapi", "--posthog-schema", document_file, "-o", str(out)]) == 0
    assert "/api/projects/{project_id}/widgets/{id}/" in json.loads(out.read_text())["paths"]


def test_a_bad_document_is_one_line_and_exit_2(tmp_path, capsys):
    bogus = tmp_path / "schema.yaml"
    bogus.write_text("just: text\n")
    for command in ("serve", "routes", "openapi"):
        assert main([command, "--posthog-schema", str(bogus)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mockhog: ") and "not an OpenAPI document" in err
    assert main(["serve", "--posthog-schema", str(tmp_path / "nothing.json")]) == 2
    assert "cannot read it" in capsys.readouterr().err
    cut_short = tmp_path / "cut.json"
    cut_short.write_text(json.dumps({"openapi": "3.0.3", "paths": {"/api/x/": {"get": {"responses": {}}}}}))
    assert main(["serve", "--posthog-schema", str(cut_short)]) == 2
    assert "GET /api/x/: not an OpenAPI operation (no 'operationId')" in capsys.readouterr().err
    assert main(["drift", str(cut_short)]) == 2
    assert "not an OpenAPI operation" in capsys.readouterr().err


def test_the_pytest_plugin_takes_the_users_document(pytester, document_file):
    pytester.makeini(f"[pytest]\nmockhog_posthog_schema = {document_file}\n")
    pytester.makepyfile(
        test_inner="""
import requests

def test_widgets(mockhog):
    response = requests.get(f"{mockhog.url}/api/projects/1/widgets/", headers=mockhog.headers)
    assert response.status_code == 200 and response.headers["X-Mockhog-Tier"] == "generic"
    with mockhog.expect_violation():  # a route the user's PostHog does not have
        gone = requests.get(f"{mockhog.url}/api/projects/1/early_access_feature/", headers=mockhog.headers)
    assert gone.status_code == 404
    with mockhog.expect_violation():
        bad = requests.post(f"{mockhog.url}/api/projects/1/widgets/", json={}, headers=mockhog.headers)
    assert bad.status_code == 400
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)
    bogus = pytester.makefile(".json", bogus='{"a": 1}')
    failed = pytester.runpytest(f"--mockhog-posthog-schema={bogus}")
    failed.stderr.fnmatch_lines(["*mockhog_posthog_schema: *not an OpenAPI document*"])


def test_serve_posthog_schema_on_a_socket(document_file):
    with serving("--posthog-schema", document_file, "--quiet") as served:
        lines = [served.line() for _ in range(3)]
        assert any(f"contract: {document_file} (" in line for line in lines), lines
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        widgets = requests.get(f"{served.url}/api/projects/1/widgets/?limit=1", headers=headers, timeout=10)
        assert widgets.status_code == 200 and widgets.headers[TIER_HEADER] == "generic"
        assert widgets.json()["next"] == f"{served.url}/api/projects/1/widgets/?limit=1&offset=1"
        gone = requests.get(f"{served.url}/api/projects/1/early_access_feature/", headers=headers, timeout=10)
        assert gone.status_code == 404 and gone.json()["detail"] == "Endpoint not found."
