"""PostHog OpenAPI documents for the tests, built from the committed contract (the tests never read
PostHog's own file; tools/check_pinned.py holds the contract to it where it is beside the repo):
``document_from_contract()`` is the pinned document as the importer saw it (prose dropped,
references folded), so that importing it gives the committed contract back."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from mockhog.spec import HERE


def document_from_contract(directory: Path = HERE) -> dict[str, Any]:
    """An OpenAPI 3.0 document with the committed operations and components."""
    operations = json.loads((directory / "operations.json").read_text())
    components = json.loads((directory / "components.json").read_text())["components"]
    paths: dict[str, dict[str, Any]] = {}
    for op in operations["operations"]:
        parameters: list[dict[str, Any]] = [
            {"in": "path", "name": name, "required": True, "schema": schema}
            for name, schema in op["params"].items()
        ]
        for name, entry in op["query"].items():
            parameter = {"in": "query", "name": name, "schema": entry["schema"]}
            if entry.get("required"):
                parameter["required"] = True
            if entry.get("explode") is False:
                parameter.update(style="form", explode=False)
            parameters.append(parameter)
        item: dict[str, Any] = {
            "operationId": op["id"],
            "parameters": parameters,
            "responses": {
                status: {"description": "", **_content(r)} for status, r in op["responses"].items()
            },
        }
        if op["scopes"] is not None:
            item["security"] = [{"PersonalAPIKeyAuth": op["scopes"]}]
        if "body" in op:
            item["requestBody"] = {"required": op["body"]["required"], **_content(op["body"])}
        paths.setdefault(op["path"], {})[op["method"].lower()] = item
    source = operations["source"]
    return {
        "openapi": source["openapi"],
        "info": {"title": source["title"], "version": source["version"]},
        "paths": paths,
        "components": {"schemas": components},
    }


def _content(entry: dict[str, Any]) -> dict[str, Any]:
    if "content" not in entry:
        return {}
    schemas = entry.get("schemas", {})
    return {"content": {media: {"schema": schemas.get(media, entry["schema"])} for media in entry["content"]}}


def write(document: dict[str, Any], path: Path) -> Path:
    """The document as a gzipped JSON file (as PostHog's pinned one is kept)."""
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    return path
