"""Annotations: PostHog's AnnotationsViewSet (posthog/api/annotation.py) and its model's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..store import Record
from .base import Call, Resource
from .product import drf_datetime, is_live, parse_moment, tagify

# Annotation.Scope today (products/annotations/backend/models/annotation.py), in its order.
SCOPES = ("dashboard_item", "dashboard", "project", "organization", "tag", "recording")
_TRUE = ("true", "1", "yes")
_OLDEST = datetime.min.replace(tzinfo=UTC)


class Annotations(Resource):
    # -- what a request may see --------------------------------------------------------------
    def rows(self, call: Call) -> list[Record]:
        return [row for row in self.table(call).values() if self._visible(call, row)]

    def get(self, call: Call, key: Any = None) -> Record:
        record = self.table(call).get(call.params["id"] if key is None else key)
        if record is None or not self._visible(call, record):
            raise errors.not_found()
        return record

    def ordered(self, call: Call) -> list[Record]:
        # Query filters decide which rows exist for every action, so nothing is kept between requests.
        return self.order(call, self.rows(call))

    def _visible(self, call: Call, record: Record) -> bool:
        """The viewset's queryset, which every action (not only list) goes through."""
        # Deleted rows stay reachable by PATCH only, so that {"deleted": false} can restore them.
        if record.get("_deleted") and call.op.action != "partial_update":
            return False
        # Attached to a soft-deleted insight or dashboard: hidden until the parent is restored.
        for field, table in (("dashboard_item", "insights"), ("dashboard_id", "dashboards")):
            parent = call.table(table).get(record[field]) if record[field] is not None else None
            if parent is not None and parent.get("_deleted"):
                return False
        return all(keep(record) for keep in self._query_filters(call))

    def _query_filters(self, call: Call) -> list[Any]:
        query = call.query
        keeps = []
        scope = query.get("scope")
        if scope:
            scope = "dashboard_item" if scope == "insight" else scope
            if scope not in SCOPES:
                raise errors.validation_error(f"Invalid scope: {scope}")
            keeps.append(lambda row: row["scope"] == scope)
        bounds = {}
        for name in ("date_from", "date_to"):
            if query.get(name):
                try:
                    bounds[name] = parse_moment(str(query[name]))
                except ValueError:
                    raise errors.validation_error(
                        f"Invalid date range: {name} must be a valid ISO 8601 date"
                    ) from None
        if "date_from" in bounds and "date_to" in bounds and bounds["date_from"] > bounds["date_to"]:
            raise errors.validation_error("Invalid date range: date_from must be before date_to")
        if "date_from" in bounds:
            keeps.append(lambda row: _marker(row) is not None and _marker(row) >= bounds["date_from"])
        if "date_to" in bounds:
            keeps.append(lambda row: _marker(row) is not None and _marker(row) <= bounds["date_to"])
        hidden = query.get("hidden_in_user_interface")
        if hidden is not None:
            wanted = str(hidden).lower() in _TRUE
            keeps.append(lambda row: bool(row["hidden_in_user_interface"]) == wanted)
        # DRF's SearchFilter: every term (split on blanks and commas) within the content.
        terms = str(query.get("search") or "").replace("\x00", "").replace(",", " ").lower().split()
        if terms:
            keeps.append(lambda row: all(term in (row["content"] or "").lower() for term in terms))
        return keeps

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        """Newest date_marker first; Postgres puts NULLs first in a descending sort."""
        if call.op.action != "list":
            return rows

        def key(row: Record) -> tuple[bool, datetime, int]:
            marker = _marker(row)
            return (marker is None, marker or _OLDEST, row["id"])

        return sorted(rows, key=key, reverse=True)

    # -- writes ------------------------------------------------------------------------------
    def build(self, call: Call, data: dict[str, Any]) -> Record:
        data = self._validated(call, data, None)
        record = super().build(call, data)
        return {**record, "created_by": call.user, "updated_at": record["created_at"]}

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        changed = super().change(call, record, self._validated(call, data, record))
        return {**changed, "updated_at": call.timestamp()}

    def _validated(self, call: Call, data: dict[str, Any], record: Record | None) -> dict[str, Any]:
        """AnnotationSerializer: the insight field first, then validate() (dashboard, the deprecated
        recording scope, then the tag scope's tags, judged on the scope the row will have)."""
        data = dict(data)
        insight = data.get("dashboard_item")
        if insight is not None and not is_live(call, "insights", insight):
            raise errors.validation_error(
                f'Invalid pk "{insight}" - object does not exist.', "dashboard_item", "does_not_exist"
            )
        for index, tag in enumerate(data.get("tags") or []):
            if not str(tag).strip():  # each tag is a CharField, which trims before its blank check
                raise errors.validation_error("This field may not be blank.", f"tags__{index}", "blank")
        if data.get("dashboard_id") is not None and not is_live(call, "dashboards", data["dashboard_id"]):
            raise errors.validation_error("Dashboard not found.", "dashboard_id")
        if data.get("scope") == "recording":
            raise errors.validation_error("Recording scope is deprecated")
        scope = data["scope"] if "scope" in data else (record["scope"] if record else None)
        if scope == "tag":
            tags = data["tags"] if "tags" in data else (record.get("tags") if record else None)
            if not tags:
                raise errors.validation_error("At least one tag is required when scope is 'tag'.", "tags")
        elif data.get("tags"):
            raise errors.validation_error("Tags can only be set when scope is 'tag'.", "tags")
        if "tags" in data:
            data["tags"] = tagify(data["tags"])  # TaggedItemSerializerMixin: each once, as tagify stores it
        if "emoji" in data:
            data["emoji"] = data["emoji"] or None  # a blank emoji is stored as none
        if "date_marker" in data:
            data["date_marker"] = drf_datetime(data["date_marker"])
        return data

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        insight = call.table("insights").get(record["dashboard_item"]) if record["dashboard_item"] else None
        dashboard = call.table("dashboards").get(record["dashboard_id"]) if record["dashboard_id"] else None
        derived = {
            "dashboard_name": dashboard.get("name") if dashboard else None,
            "insight_short_id": insight.get("short_id") if insight else None,
            "insight_name": insight.get("name") if insight else None,
            "insight_derived_name": insight.get("derived_name") if insight else None,
        }
        return super().serialize(call, {"tags": [], **record, **derived})

    # -- seed --------------------------------------------------------------------------------
    seed_reads = ("insights", "dashboards")

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's notes: releases on the project, one per seeded dashboard and on early
        insights, one for the whole organization, a few from a GitHub integration."""
        records = []
        insights = sorted(ctx.tables["insights"])
        dashboards = sorted(ctx.tables["dashboards"])
        for index, content in enumerate(ctx.profile["annotations"], start=1):
            scope = ("project", "dashboard_item", "dashboard", "project", "organization")[index % 5]
            created = ctx.moment(80, 2)
            records.append(
                {
                    **self.defaults,
                    "id": index,
                    "content": content,
                    "date_marker": ctx.moment(80, 1)[:10] + "T00:00:00Z",
                    "creation_type": "GIT" if index % 4 == 0 else "USR",
                    "dashboard_item": insights[index % len(insights)] if scope == "dashboard_item" else None,
                    "dashboard_id": dashboards[index % len(dashboards)] if scope == "dashboard" else None,
                    "created_by": ctx.user,
                    "created_at": created,
                    "updated_at": created,
                    "scope": scope,
                }
            )
        return records


def _marker(row: Record) -> datetime | None:
    return parse_moment(row["date_marker"])
