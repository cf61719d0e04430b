"""Actions: PostHog's ActionViewSet and ActionSerializer (posthog/api/action.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..contract import _FORMAT_MESSAGES
from ..store import Record
from .base import Call, Resource, quirk
from .product import drf_datetime, parse_moment, tagged, tagify

STEP_FIELDS = (
    "event", "properties", "selector", "selector_regex", "tag_name", "text", "text_matching",
    "href", "href_matching", "url", "url_matching",
)  # fmt: skip
# ?ordering= fields, as PostHog's CLI documents the list (name, created_at, pinned_at, created_by).
ORDERING_FIELDS = ("name", "created_at", "pinned_at", "created_by")
_OLDEST = datetime.min.replace(tzinfo=UTC)


def step_views(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ActionStepJSONSerializer: every step field, the ones a step leaves out null."""
    return [{**dict.fromkeys(STEP_FIELDS), **step, "selector_regex": None} for step in steps]


class Actions(Resource):
    query_ordering = True

    # -- reads -------------------------------------------------------------------------------
    @quirk("actions_list")
    def list(self, call: Call) -> dict[str, Any]:
        """Every action under ``results``: the list is not paginated (``limit``/``offset`` only slice)."""
        rows = self.filter(call, self.ordered(call))
        offset = max(int(call.query.get("offset") or 0), 0)
        limit = call.query.get("limit")
        rows = rows[offset : offset + limit] if limit else rows[offset:]
        results = [self.serialize(call, row) for row in rows]
        if call.query.get("include_reference_count"):
            for body in results:
                body["reference_count"] = len(references(call, body["id"]))
        return {"results": results}

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        rows = super().filter(call, rows)  # the row's search fields
        creators = {part.strip() for part in str(query.get("created_by") or "").split(",") if part.strip()}
        if creators:
            rows = [row for row in rows if row["created_by"] and str(row["created_by"]["id"]) in creators]
        if query.get("tags"):
            try:
                wanted = set(tagify(json.loads(query["tags"])))
            except (ValueError, TypeError):
                wanted = set()
            rows = [row for row in rows if wanted & set(row["tags"])]
        return rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        """``-last_calculated_at, name`` unless ``?ordering=`` names one of the list's fields."""
        requested = str(call.query.get("ordering") or "")
        field = requested.lstrip("-")
        if field in ORDERING_FIELDS:
            descending = requested.startswith("-")
            if field == "created_by":
                value = lambda row: (row["created_by"] or {}).get("id") or 0  # noqa: E731
            elif field == "name":
                value = lambda row: (row["name"] or "").lower()  # noqa: E731
            else:
                value = lambda row: parse_moment(row[field]) or _OLDEST  # noqa: E731
            return sorted(rows, key=lambda row: (value(row), row["id"]), reverse=descending)
        by_name = sorted(rows, key=lambda row: (row["name"] is None, (row["name"] or "").lower(), row["id"]))
        return sorted(by_name, key=lambda row: parse_moment(row["last_calculated_at"]), reverse=True)

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        view = {
            **record,
            "steps": step_views(record["steps"]),
            "is_calculating": False,
            "is_action": True,
            "creation_context": None,
            "team_id": call.project_id,
            # The creator (and any organization admin) has the highest access level on an object.
            "user_access_level": "manager",
        }
        return super().serialize(call, view)

    @quirk("actions_references_retrieve")
    def references(self, call: Call) -> list[dict[str, Any]]:
        return references(call, self.get(call)["id"])

    # -- writes ------------------------------------------------------------------------------
    def build(self, call: Call, data: dict[str, Any]) -> Record:
        data = self._validated(call, data)
        if data.get("pinned_at"):
            data["pinned_at"] = drf_datetime(data["pinned_at"])
        record = super().build(call, data)
        record.setdefault("last_calculated_at", record["created_at"])
        return {**record, "created_by": call.user, "bytecode_error": None}

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        data = self._validated(call, data)
        if data.get("pinned_at"):
            # Pinning ignores the client's time: the server's now, or nothing if already pinned.
            if record["pinned_at"]:
                del data["pinned_at"]
            else:
                data["pinned_at"] = call.timestamp()
        return super().change(call, record, data)

    def _validated(self, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        """ActionSerializer.validate: a step's unknown keys are dropped; pinned_at '' means none (a
        blank name is the schema's refusal; a name another live action of the project already has
        is the row's unique constraint)."""
        data = {k: v for k, v in data.items() if k != "_create_in_folder"}
        if isinstance(data.get("steps"), list):
            # the nested ActionStepJSONSerializer keeps its own fields only, as any DRF serializer
            data["steps"] = [
                {k: v for k, v in step.items() if k in STEP_FIELDS} if isinstance(step, dict) else step
                for step in data["steps"]
            ]
        pinned = data.get("pinned_at")
        if pinned == "":
            data["pinned_at"] = None
        elif pinned is not None:
            try:
                parse_moment(str(pinned))
            except ValueError:
                raise errors.validation_error(_FORMAT_MESSAGES["date-time"], "pinned_at") from None
        if "last_calculated_at" in data:
            data["last_calculated_at"] = drf_datetime(data["last_calculated_at"])
        return tagged(data)

    # -- seed --------------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        """The profile's actions, each on events the project really has."""
        records = []
        for index, action in enumerate(ctx.profile["actions"], start=1):
            created = ctx.moment(200, 30)
            records.append(
                {
                    **self.defaults,
                    "id": index,
                    "name": action["name"],
                    "description": action.get("description", ""),
                    "tags": tagify(action.get("tags", [])),
                    "steps": action["steps"],
                    "created_at": created,
                    "created_by": ctx.user,
                    "last_calculated_at": ctx.moment(2),
                    "bytecode_error": None,
                }
            )
        return records


def references(call: Call, action_id: int) -> list[dict[str, Any]]:
    """What refers to an action (find_action_references): live insights whose query or filters
    name it, live experiments whose metrics or settings do, then live cohorts whose filters match
    on it, at most 50."""

    def rows(table: str) -> list[Record]:
        return sorted(call.table(table).values(), key=lambda row: row["id"])

    def ref(kind: str, key: Any, name: str | None, url: str, row: Record) -> dict[str, Any]:
        fields = {"name": name or "Unnamed", "url": url, "created_at": row.get("created_at")}
        return {"type": kind, "id": str(key), **fields, "created_by": row.get("created_by")}

    refs = [
        ref(
            "insight",
            row["short_id"],
            row.get("name") or row.get("derived_name"),
            f"/insights/{row['short_id']}",
            row,
        )
        for row in rows("insights")
        if not row.get("_deleted")
        and _mentions_action([row.get("query"), row.get("filters") or {}], action_id)
    ]
    refs += [
        ref("experiment", row["id"], row.get("name"), f"/experiments/{row['id']}", row)
        for row in rows("experiments")
        if not row.get("deleted")
        and _mentions_action([row.get(f) for f in EXPERIMENT_JSON_FIELDS], action_id)
    ]
    refs += [
        ref("cohort", row["id"], row.get("name"), f"/cohorts/{row['id']}", row)
        for row in rows("cohorts")
        if not row.get("_deleted") and _cohort_mentions_action(row.get("filters"), action_id)
    ]
    return refs[:50]


# The experiment fields find_action_references searches (variants: web experiments').
EXPERIMENT_JSON_FIELDS = (
    "metrics",
    "metrics_secondary",
    "filters",
    "parameters",
    "exposure_criteria",
    "stats_config",
    "scheduling_config",
    "variants",
)


def _mentions_action(values: list[Any], action_id: int) -> bool:
    """_ACTION_JSONPATH / _ACTIONS_ARRAY_JSONPATH over JSON fields: an ActionsNode, an actionId or an
    ``{"type": "actions"}`` entity of that id anywhere, or an entry of a top-level ``actions`` list."""
    wanted = (action_id, str(action_id))

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("kind") == "ActionsNode" and node.get("id") in wanted:
                return True
            if node.get("actionId") in wanted or (node.get("type") == "actions" and node.get("id") in wanted):
                return True
            return any(walk(value) for value in node.values())
        if isinstance(node, list):
            return any(walk(item) for item in node)
        return False

    def listed(value: Any) -> bool:
        actions = value.get("actions") if isinstance(value, dict) else None
        return isinstance(actions, list) and any(
            isinstance(a, dict) and a.get("id") in wanted for a in actions
        )

    return any(walk(value) or listed(value) for value in values)


def _cohort_mentions_action(node: Any, action_id: int) -> bool:
    wanted = (action_id, str(action_id))
    if isinstance(node, dict):
        if node.get("event_type") == "actions" and node.get("key") in wanted:
            return True
        if node.get("seq_event_type") == "actions" and node.get("seq_event") in wanted:
            return True
        return any(_cohort_mentions_action(value, action_id) for value in node.values())
    if isinstance(node, list):
        return any(_cohort_mentions_action(item, action_id) for item in node)
    return False
