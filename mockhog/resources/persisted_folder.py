"""Persisted folders (posthog/api/persisted_folder.py): DRF's defaults plus the viewset's row in
mockhog/spec/viewsets.toml (the user's own rows, ordered by ``Lower(type)``, a create that is an
upsert per type, the unique (team, user, type) index). What is left here is the seed."""

from __future__ import annotations

from typing import Any

from ..store import Record
from .base import Resource


class PersistedFolder(Resource):
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
