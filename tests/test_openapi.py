"""The OpenAPI 3.1 document: valid, complete, and the same one the server publishes."""

import json
import subprocess
import sys

import yaml
from openapi_spec_validator import validate

from mockhog.catalog import Catalog


def test_served_document_is_valid_and_covers_every_operation(client):
    document = client.get("/api/schema/").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    served = {
        op["operationId"]: (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    catalog = Catalog.load()
    assert set(served) == {op.operation_id for op in catalog.operations}
    for op in catalog.operations:
        path, method, entry = served[op.operation_id]
        assert path == op.template and method == op.method.lower()
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
