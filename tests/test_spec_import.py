"""``mockhog import-schema``: PostHog's OpenAPI document becomes mockhog's contract (facts only)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mockhog.spec import HERE, Spec
from mockhog.spec.importer import (
    COMPONENTS_FILE,
    OPERATIONS_FILE,
    ImportError_,
    convert_schema,
    import_document,
    read_source,
    run,
)

PINNED_SHA256 = "81e8d68838fb4ce8b8a53225c24bfe9e7c98d0c3204941d0699b099e9a6a45a6"

WIDGET = {
    "type": "object",
    "description": "A widget.",
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "maxLength": 40, "title": "Name"},
        "description": {"type": "string", "nullable": True, "description": "prose, dropped"},
        "kind": {"allOf": [{"$ref": "#/components/schemas/KindEnum"}], "nullable": True},
        "x-moar-hint": {"type": "string"},
    },
    "required": ["id", "name"],
    "x-moar-primitive-count": 3,
}
KIND = {"enum": ["a", "b"], "type": "string", "description": "* `a` - A"}


def _inlined(schema):
    """What a published copy of the document holds: every $ref replaced by its target."""
    text = json.dumps(schema).replace('{"$ref": "#/components/schemas/KindEnum"}', json.dumps(KIND))
    return json.loads(text)


def synthetic() -> dict:
    widget = _inlined(WIDGET)
    return {
        "openapi": "3.0.3",
        "info": {"title": "PostHog API", "version": "1.0.0", "description": "prose"},
        "paths": {
            "/api/projects/{project_id}/widgets/": {
                "get": {
                    "operationId": "widgets_list",
                    "description": "List widgets.",
                    "parameters": [
                        {"in": "path", "name": "project_id", "required": True, "schema": {"type": "string"}},
                        {"in": "query", "name": "limit", "schema": {"type": "integer"}, "description": "x"},
                        {
                            "in": "query",
                            "name": "where",
                            "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
                        },
                    ],
                    "security": [{"PersonalAPIKeyAuth": ["widget:read"]}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"results": {"type": "array", "items": widget}},
                                    }
                                }
                            },
                            "description": "",
                        }
                    },
                    "x-moar-complexity-skipped": False,
                },
                "post": {
                    "operationId": "widgets_create",
                    "security": [{"PersonalAPIKeyAuth": ["widget:write"]}],
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": widget},
                            "multipart/form-data": {"schema": widget},
                        },
                        "required": True,
                    },
                    "responses": {
                        "201": {"content": {"application/json": {"schema": widget}}, "description": ""}
                    },
                },
            },
            "/api/organizations/{organization_id}/secrets/{id}/": {
                "delete": {
                    "operationId": "secrets_destroy",
                    "parameters": [
                        {
                            "in": "path",
                            "name": "id",
                            "required": True,
                            "schema": {"type": "string", "format": "uuid"},
                        },
                    ],
                    "security": [{"PersonalAPIKeyAuth": ["INTERNAL"]}],
                    "responses": {"204": {"description": "No response body"}},
                }
            },
        },
        "components": {"schemas": {"Widget": WIDGET, "KindEnum": KIND}},
    }


def test_components_become_json_schema_2020_12_without_prose():
    contract = import_document(synthetic())
    widget = contract["components"]["Widget"]
    assert widget == {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string", "maxLength": 40},
            # a property called "description" is a field, not prose: kept
            "description": {"type": ["string", "null"]},
            "kind": {"anyOf": [{"allOf": [{"$ref": "#/components/schemas/KindEnum"}]}, {"type": "null"}]},
            "x-moar-hint": {"type": "string"},
        },
        "required": ["id", "name"],
    }
    assert contract["components"]["KindEnum"] == {"enum": ["a", "b"], "type": "string"}


def test_nullable_enums_admit_null():
    assert convert_schema({"enum": ["x"], "type": "string", "nullable": True}) == {
        "enum": ["x", None],
        "type": ["string", "null"],
    }
    assert convert_schema({"type": "integer", "minimum": 0, "exclusiveMinimum": True}) == {
        "type": "integer",
        "exclusiveMinimum": 0,
    }


def test_inlined_bodies_become_refs_to_the_component_they_equal():
    contract = import_document(synthetic())
    ops = {op["id"]: op for op in contract["operations"]}
    create = ops["widgets_create"]
    assert create["body"] == {
        "required": True,
        "content": ["application/json", "multipart/form-data"],
        "schema": {"$ref": "#/components/schemas/Widget"},
    }
    assert create["responses"] == {
        "201": {"content": ["application/json"], "schema": {"$ref": "#/components/schemas/Widget"}}
    }
    page = ops["widgets_list"]["responses"]["200"]["schema"]
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/Widget"}


def test_operations_keep_method_path_prefix_parameters_and_scopes():
    ops = {op["id"]: op for op in import_document(synthetic())["operations"]}
    listing = ops["widgets_list"]
    assert (listing["method"], listing["path"], listing["prefix"]) == (
        "GET",
        "/api/projects/{project_id}/widgets/",
        "projects",
    )
    assert listing["params"] == {"project_id": {"type": "string"}}
    # a parameter sent as JSON text keeps its decoded value's schema and says how it is encoded
    assert listing["query"] == {
        "limit": {"schema": {"type": "integer"}},
        "where": {"schema": {"type": "array", "items": {}}, "content": "application/json"},
    }
    assert listing["scopes"] == ["widget:read"]
    secret = ops["secrets_destroy"]
    assert secret["prefix"] == "organizations"
    assert secret["params"] == {"id": {"type": "string", "format": "uuid"}}
    # PostHog refuses personal API keys where the scope object is INTERNAL (or none is derived)
    assert secret["scopes"] is None
    assert "x-moar-complexity-skipped" not in json.dumps(ops)


def test_output_is_deterministic_and_names_its_input(tmp_path):
    raw = json.dumps(synthetic()).encode()
    source = tmp_path / "openapi.json.gz"
    source.write_bytes(gzip.compress(raw))
    first = run(source, tmp_path / "a")
    run(source, tmp_path / "b")
    for name in (OPERATIONS_FILE, COMPONENTS_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first["source"]["sha256"] == hashlib.sha256(raw).hexdigest()
    spec = Spec.load(tmp_path / "a")
    assert [op.operation_id for op in spec.operations] == [
        "secrets_destroy",
        "widgets_list",
        "widgets_create",
    ]
    assert set(spec.components) == {"Widget", "KindEnum"}


def test_reads_the_wheel_that_ships_the_document_yaml_and_refuses_other_files(tmp_path):
    raw = json.dumps(synthetic()).encode()
    wheel = tmp_path / "arcade_posthog_api-0.2.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("arcade_posthog_api/__init__.py", "")
        archive.writestr("arcade_posthog_api/moar/openapi.json", raw)
    assert read_source(wheel)[0] == raw
    yaml = pytest.importorskip("yaml")
    document = tmp_path / "schema.yaml"
    document.write_text(yaml.safe_dump(synthetic()))
    assert read_source(document)[1]["paths"].keys() == synthetic()["paths"].keys()
    with pytest.raises(ImportError_, match="sha256"):
        run(wheel, tmp_path / "out", expect_sha256="0" * 64)
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    with pytest.raises(ImportError_, match="not an OpenAPI document"):
        read_source(bogus)


def test_the_command_writes_the_contract(tmp_path):
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(synthetic()))
    done = subprocess.run(
        [sys.executable, "-m", "mockhog", "import-schema", str(source), "-o", str(tmp_path / "spec")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "imported 3 operations and 2 components" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mockhog", "import-schema", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "cannot read it" in bad.stderr


def test_the_committed_contract_is_the_pinned_document():
    operations = json.loads((HERE / OPERATIONS_FILE).read_text())
    components = json.loads((HERE / COMPONENTS_FILE).read_text())
    assert operations["source"]["sha256"] == PINNED_SHA256
    assert components["source"] == operations["source"]
    assert operations["source"]["operations"] == len(operations["operations"]) == 772
    prefixes = [op["prefix"] for op in operations["operations"]]
    assert [prefixes.count(p) for p in ("projects", "environments", "organizations", "users")] == [
        400,
        289,
        65,
        18,
    ]


WHEEL = os.environ.get("MOCKHOG_POSTHOG_WHEEL")


@pytest.mark.skipif(
    not WHEEL,
    reason="set MOCKHOG_POSTHOG_WHEEL to the arcade-posthog-api 0.2.1 wheel "
    "(pip download arcade-posthog-api==0.2.1 --no-deps -d DIR); the suite never downloads it",
)
def test_the_pinned_input_is_re_created_from_the_package(tmp_path):
    wheel = Path(WHEEL or "")
    assert wheel.is_file(), f"MOCKHOG_POSTHOG_WHEEL={WHEEL} is no file"
    contract = run(wheel, tmp_path, expect_sha256=PINNED_SHA256)
    assert contract["source"]["sha256"] == PINNED_SHA256
    for name in (OPERATIONS_FILE, COMPONENTS_FILE):
        assert (tmp_path / name).read_bytes() == (HERE / name).read_bytes(), (
            f"{name} differs from the wheel's"
        )
