"""Persisted folders: one row per (user, type) in a project; creating an existing type overwrites it."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..store import Record
from .base import Call, Resource


class PersistedFolder(Resource):
    def rows(self, call: Call) -> list[Record]:
        """PostHog only ever shows the requesting user's own folders."""
        return [row for row in super().rows(call) if row.get("_user") == call.user["id"]]

    def get(self, call: Call, key: Any = None) -> Record:
        record = super().get(call, key)
        if record.get("_user") != call.user["id"]:
            raise errors.not_found()
        return record

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        # Queryset order is Lower(type); a user has at most one row per type, so it is total.
        return sorted(rows, key=lambda row: (row["type"].lower(), row["id"]))

    def create(self, call: Call) -> Any:
        """An upsert per type: an existing row gets the body's protocol/path (or the defaults)."""
        existing = next((row for row in self.rows(call) if row["type"] == call.body["type"]), None)
        if existing is None:
            return super().create(call)
        wanted = {**self.defaults, **call.body}
        updated = {
            **existing,
            "protocol": wanted["protocol"],
            "path": wanted["path"],
            "updated_at": call.timestamp(),
        }
        return self.serialize(call, self.save(call, updated))

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        record = super().build(call, data)
        return {**record, "updated_at": record["created_at"], "_user": call.user["id"]}

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        clash = any(row["type"] == data.get("type") and row["id"] != record["id"] for row in self.rows(call))
        if clash:
            # PostHog's unique (team, user, type) index raises an IntegrityError its view does not
            # catch (a 500); mockhog answers bad input with a 400 instead (docs/divergences.md).
            raise errors.validation_error(f"You already have a {data['type']} folder.", "type", "unique")
        return {**record, **data, "updated_at": call.timestamp()}

    def seed(self, ctx: Any) -> list[Record]:
        """The default user has pinned the products panel, as the PostHog app does on first use."""
        created = ctx.moment(60, 30)
        return [
            {
                **self.defaults,
                "id": ctx.uuid(),
                "type": "pinned",
                "created_at": created,
                "updated_at": created,
                "_user": ctx.user["id"],
            }
        ]
