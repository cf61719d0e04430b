"""What PostHog's product viewsets' serializers share: tags, searches, times, live rows, flags.

ForbidDestroyModel's soft delete (posthog/api/forbid_destroy_model.py) is a viewset row
(``soft_delete = "forbid_destroy"`` in mockhog/spec/viewsets.toml), served by the interpreter in
mockhog.resources.base: the flag lives in the record's private ``_deleted`` field, the one every
resource (and the file system's delete and undo) already reads; ``deleted`` in bodies maps onto it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..store import Record
from .base import Call


def is_live(call: Call, table: str, key: Any) -> bool:
    """Whether a row exists and is not soft-deleted: Insight.objects and Dashboard.objects (the
    models' default managers, which related fields and lookups use) hide soft-deleted rows."""
    row = call.table(table).get(key)
    return row is not None and not row.get("_deleted")


def parse_moment(text: str | None) -> datetime | None:
    """A datetime as DRF reads one (ISO 8601; a naive time is in the server's zone, UTC)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def drf_datetime(text: str | None) -> str | None:
    """A client's datetime as DRF writes it back: UTC, ``Z``, microseconds only when there are any."""
    moment = parse_moment(text)
    if moment is None:
        return None
    written = moment.astimezone(UTC).isoformat()
    return written[:-6] + "Z" if written.endswith("+00:00") else written


def tagify(tags: list[Any]) -> list[str]:
    """Tags as PostHog stores them: trimmed, lower case, each once."""
    return sorted({str(tag).strip().lower() for tag in tags})


def tagged(data: dict[str, Any]) -> dict[str, Any]:
    """A validated body with its ``tags`` (when sent) as PostHog stores them."""
    return {**data, "tags": tagify(data["tags"])} if "tags" in data else data


def json_properties(raw: str | None) -> Any:
    """A ``?properties=`` query value as JSON (None when absent); text that is not JSON is PostHog's
    400 "Properties are unparsable!" (the events and cohort persons lists alike)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.validation_error("Properties are unparsable!") from None


def editable(view: dict[str, Any]) -> dict[str, Any]:
    """UserAccessControlSerializerMixin's field, for the mock user (who may edit everything)."""
    return {**view, "user_access_level": "editor"}


def write_flag(call: Call, body: dict[str, Any], flag_id: int | None = None) -> Record:
    """A product writing the flag it owns, as PostHog does through FeatureFlagSerializer: a new flag
    (``data=body``) or a partial update of one (``partial=True``), under the flags' own rules, whose
    errors are the answer. Returns the stored flag."""
    flags = call.backend.resources["feature_flags"]
    action = "create" if flag_id is None else "partial_update"
    op = next(
        op for op in call.backend.catalog.operations if op.resource is flags.spec and op.action == action
    )
    sub = replace(call, op=op, body=body, params={} if flag_id is None else {"id": flag_id})
    table = call.table("feature_flags")
    if flag_id is not None:
        flags.update(sub)
        return table.get(flag_id)
    flags.create(sub)
    return next(row for row in table.values() if row["key"] == body["key"] and not row.get("deleted"))
