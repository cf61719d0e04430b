"""The OpenAPI 3.1 document, assembled from the catalog and schemas/ (nothing restated here)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from . import __version__
from .catalog import ROOT, Catalog, Operation
from .contract import PAGE_SCHEMAS, Schemas

ERROR_STATUSES = {
    "400": "Bad request: validation_error or parse_error",
    "401": "No key, or an unknown personal API key",
    "403": "The key lacks a required scope or access to the project",
    "404": "Unknown project or object",
}
BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def build_document(catalog: Catalog, schemas: Schemas) -> dict[str, Any]:
    names = _component_names(schemas)
    components = {
        names[(document, name)]: _rewrite(copy.deepcopy(definition), document, names)
        for document, doc in sorted(schemas.documents.items())
        for name, definition in doc.get("$defs", {}).items()
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in catalog.operations:
        paths.setdefault(op.template, {})[op.method.lower()] = _operation(op, names, components)
    _link_creates(catalog, paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PostHog API (mockhog)",
            "version": __version__,
            "description": "The PostHog REST API as served by mockhog: every operation, with the "
            "request and response schemas mockhog enforces.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "PersonalAPIKeyAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_..."}
            },
        },
        "security": [{"PersonalAPIKeyAuth": []}],
    }


def _component_names(schemas: Schemas) -> dict[tuple[str, str], str]:
    """``$defs`` names, prefixed by their file's name where two files use the same one."""
    owners: dict[str, list[str]] = {}
    for document, doc in schemas.documents.items():
        for name in doc.get("$defs", {}):
            owners.setdefault(name, []).append(document)
    names = {}
    for name, documents in owners.items():
        for document in documents:
            stem = "".join(part.title() for part in document.removesuffix(".json").split("_"))
            names[(document, name)] = name if len(documents) == 1 else f"{stem}{name}"
    return names


def _rewrite(node: Any, document: str, names: dict[tuple[str, str], str]) -> Any:
    """Point every ``$ref`` at ``#/components/schemas/...``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, name = value.partition("#/$defs/")
                out[key] = f"#/components/schemas/{names[(target or document, name)]}"
            else:
                out[key] = _rewrite(value, document, names)
        return out
    if isinstance(node, list):
        return [_rewrite(value, document, names) for value in node]
    return node


def _ref(names: dict[tuple[str, str], str], document: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{names[(document, name)]}"}


def _operation(op: Operation, names: dict[tuple[str, str], str], components: dict[str, Any]) -> dict:
    document = f"{op.resource.schema}.json"
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.resource.name],
        "parameters": _parameters(op, names, components, document),
        "security": [{"PersonalAPIKeyAuth": list(op.scopes)}],
        "responses": _responses(op, names, document),
    }
    if op.prefix == "environments":
        result["deprecated"] = True
        result["description"] = "Deprecated: use /api/projects/{project_id}/ instead."
    if op.request and op.is_write:
        schema = _ref(names, document, op.request)
        if op.action == "partial_update":
            name = f"Patched{names[(document, op.request)]}"
            patched = {k: v for k, v in components[names[(document, op.request)]].items() if k != "required"}
            components.setdefault(name, patched)
            schema = {"$ref": f"#/components/schemas/{name}"}
        result["requestBody"] = {
            "required": op.action in ("create", "update"),
            "content": {media: {"schema": schema} for media in BODY_TYPES},
        }
    return result


def _link_creates(catalog: Catalog, paths: dict[str, dict[str, Any]]) -> None:
    """OpenAPI links from each create to the operations on what it created (by its ``id``), so
    that tools can follow them (Schemathesis' stateful runs)."""
    for create in catalog.operations:
        if create.action != "create" or create.response is None:
            continue
        targets = [
            op
            for op in catalog.operations
            if op.resource is create.resource and op.prefix == create.prefix and "{id}" in op.path
        ]
        if not targets:
            continue
        links = {
            op.operation_id: {
                "operationId": op.operation_id,
                "parameters": {
                    "path.project_id": "$request.path.project_id",
                    "path.id": "$response.body#/id",
                },
            }
            for op in targets
        }
        paths[create.template][create.method.lower()]["responses"][str(create.status)]["links"] = links


def _parameters(op: Operation, names: dict, components: dict, document: str) -> list[dict[str, Any]]:
    kinds = {"integer": {"type": "integer"}, "uuid": {"type": "string", "format": "uuid"}}
    params = []
    if op.prefix != ROOT:
        params.append(
            {
                "name": "project_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "Project ID of the project you're trying to access. To find the ID of "
                "the project, make a call to /api/projects/.",
            }
        )
    for name, kind in op.path_params.items():
        params.append(
            {"name": name, "in": "path", "required": True, "schema": kinds.get(kind, {"type": "string"})}
        )
    if op.query:
        query = components[names[(document, op.query)]]
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            # x-required: the view refuses the request without it, in its own words
            needed = name in required or bool(schema.get("x-required"))
            entry = {"name": name, "in": "query", "required": needed, "schema": schema}
            if "description" in schema:
                entry["description"] = schema["description"]
            params.append(entry)
    return params


def _responses(op: Operation, names: dict, document: str) -> dict[str, Any]:
    status = str(op.status)
    if op.response is None:
        success: dict[str, Any] = {"description": "No response body"}
    elif op.response == "binary":
        success = {
            "description": "The exported file",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    elif op.response == "page":
        page = _ref(names, "common.json", PAGE_SCHEMAS[op.resource.pagination])
        items = _ref(names, document, op.resource.model or "")
        schema = {"allOf": [page, {"type": "object", "properties": {"results": {"items": items}}}]}
        success = {"description": "A page of results", "content": {"application/json": {"schema": schema}}}
    else:
        schema = _ref(names, document, op.response)
        success = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    error = {"application/json": {"schema": _ref(names, "common.json", "AnyError")}}
    responses = {status: success}
    for code, description in ERROR_STATUSES.items():
        responses[code] = {"description": description, "content": error}
    return responses


def yaml_dump(node: Any, indent: int = 0) -> str:
    """A small YAML writer for the document (JSON-compatible YAML, no dependency)."""
    pad = "  " * indent
    if isinstance(node, dict):
        if not node:
            return "{}"
        lines = []
        for key, value in node.items():
            text = _scalar(str(key))
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{text}:\n{yaml_dump(value, indent + 1)}")
            else:
                lines.append(f"{pad}{text}: {yaml_dump(value, indent + 1)}")
        return "\n".join(lines)
    if isinstance(node, list):
        if not node:
            return "[]"
        lines = []
        for value in node:
            if isinstance(value, dict | list) and value:
                body = yaml_dump(value, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {yaml_dump(value, indent + 1)}")
        return "\n".join(lines)
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, int | float):
        return str(node)
    return _scalar(str(node))


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./{}-]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def _scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)
