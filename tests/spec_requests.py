"""Paths of imported operations that address records that exist (shared by the generated tests)."""

from __future__ import annotations

from typing import Any

from mockhog import Backend
from mockhog.spec import SpecOperation
from mockhog.spec.viewsets import organization_scope


def path_values(backend: Backend, op: SpecOperation) -> dict[str, Any] | None:
    """Values for the operation's path parameters: a seeded parent and record where it has them
    (None: the collection has no record to address)."""
    values: dict[str, Any] = {"project_id": "1", "organization_id": "@current"}
    parent = None
    tables = backend.generic.tables
    if op.parents:
        name = op.parents[-1]
        parent_table = dict(tables.parents.get(op.table, ())).get(name)
        scope = _scope_key(backend, op)
        rows = list(backend.store.table(scope, parent_table).values()) if parent_table else []
        if rows:
            values[name] = rows[0][tables.reference_field(parent_table, name)]
            parent = {name: values[name]}
    if op.lookup:
        record = _record(backend, op, parent)
        if record is None:
            return None
        value: Any = record
        for part in backend.generic._lookup_field(op).split("__"):
            value = value.get(part) if isinstance(value, dict) else None
        values[op.lookup] = "@current" if op.collection == "/api/organizations/" else value
    for name, schema in op.params.items():
        if name not in values:
            values[name] = 1 if schema.get("type") == "integer" else "1"
    return values


def path_for(backend: Backend, op: SpecOperation) -> str | None:
    values = path_values(backend, op)
    if values is None:
        return None
    path = op.template
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _scope_key(backend: Backend, op: SpecOperation) -> Any:
    if op.scope == "project":
        return 1
    return organization_scope(backend.world.organization["id"])


def _record(backend: Backend, op: SpecOperation, parent: dict[str, Any] | None) -> dict[str, Any] | None:
    rows = [
        row
        for row in backend.store.table(_scope_key(backend, op), op.table).values()
        if not row.get("_deleted") and row.get("deleted") is not True
    ]
    if parent:
        rows = [row for row in rows if row.get("_parent") in (None, parent)]
    return rows[0] if rows else None
