"""The operations PostHog's API docs pages document, read from tests/data/docs_surface.json: per
operation its scopes, parameters, example status and the keys and types of its example body. Tests
use it so that an undocumented gap fails a test.

The data file is derived from the docs pages by tools/derive_docs_surface.py (facts only, no page
text), so the suite is whole in any clone of the repo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SURFACE_FILE = Path(__file__).resolve().parent / "data" / "docs_surface.json"


@dataclass(frozen=True)
class DocumentedOperation:
    method: str
    prefix: str
    path: str  # relative to the project prefix, catalog style: "exports/{id}/"
    operation_id: str | None  # PostHog's, where its OpenAPI document has the operation
    scopes: tuple[str, ...]
    parameters: dict[str, list[dict[str, Any]]]  # "path" | "query" | "body": [{name, types, ...}]
    status: int | None
    response: dict[str, Any] | None  # the example body's shape: {"type", "keys" | "items"}

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.prefix, self.method, self.path)


def documented_operations() -> list[DocumentedOperation]:
    rows = json.loads(SURFACE_FILE.read_text())["operations"]
    return [
        DocumentedOperation(
            row["method"],
            row["prefix"],
            row["path"],
            row["operation_id"],
            tuple(row["scopes"]),
            row["parameters"],
            row["status"],
            row["response"],
        )
        for row in rows
    ]
