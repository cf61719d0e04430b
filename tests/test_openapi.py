"""The OpenAPI 3.1 document: valid, complete, and the same one the server publishes."""

import json
import subprocess
import sys

import yaml
from openapi_spec_validator import validate

from mockhog.catalog import Catalog
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
