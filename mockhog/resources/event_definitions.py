"""Event definitions: PostHog's EnterpriseEventDefinition, list filters, by_name, metrics, code generators."""

from __future__ import annotations

import json
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any

from .. import errors
from ..store import Record
from . import codegen
from .base import Call, Resource, iso, quirk

LIST_EVENT_TYPES = ("event", "event_custom", "event_posthog")
ORDERING_FIELDS = ("name", "last_seen_at", "last_seen_at::date", "created_at", "created_at::date")
# Events PostHog's taxonomy describes: they count as verified for the ?verified= filter.
CORE_EVENTS = frozenset(
    ["$pageview", "$pageleave", "$autocapture", "$identify", "$screen", "$set", "$groupidentify",
     "$create_alias", "$feature_flag_called", "$rageclick", "$dead_click", "$exception", "$web_vitals",
     "$opt_in", "$snapshot", "$survey_shown", "$survey_sent", "$survey_dismissed", "$merge_dangerously"]
)  # fmt: skip
STALE_EVENT_DAYS = 30
# Fields only actions carry; DRF skips them for a plain event definition (see the schema).
ACTION_ONLY = ("last_updated_at", "action_id", "is_calculating", "last_calculated_at", "created_by")


class EventDefinitions(Resource):
    query_ordering = True  # ?order_by= / ?ordering= / ?search= change the order

    @property
    def world_clock(self) -> datetime:
        """Seeded last_seen_at values are measured back from the world's clock; staleness too."""
        return datetime.fromisoformat(self.profile["clock"].replace("Z", "+00:00"))

    # -- lookups -----------------------------------------------------------------------------
    def get(self, call: Call, key: Any = None) -> Record:
        key = call.params.get("id") if key is None else key
        try:
            uuid.UUID(str(key))
        except ValueError:
            raise errors.not_found("Event definition not found.") from None
        return super().get(call, key)

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        event_type = query.get("event_type", "event")
        if event_type in ("all", "action_event"):
            event_type = "event"  # neither ever returned actions: PostHog answers them as "event"
        if event_type not in LIST_EVENT_TYPES:
            raise errors.validation_error(
                f"Not a valid event type. Use one of: {', '.join(LIST_EVENT_TYPES)}.", "event_type"
            )
        if event_type == "event_custom":
            rows = [row for row in rows if not row["name"].startswith("$")]
        elif event_type == "event_posthog":
            rows = [row for row in rows if row["name"].startswith("$")]
        # Every whitespace-separated search term must appear in the name.
        terms = [term.lower() for term in str(query.get("search") or "").split()]
        rows = [row for row in rows if all(term in row["name"].lower() for term in terms)]
        if _truthy(query.get("exclude_hidden")):
            rows = [row for row in rows if not row.get("hidden")]
        if _truthy(query.get("exclude_stale")):
            cutoff = iso(min(call.now, self.world_clock) - timedelta(days=STALE_EVENT_DAYS))
            rows = [row for row in rows if row["last_seen_at"] is None or row["last_seen_at"] > cutoff]
        if "verified" in query:
            wanted = str(query["verified"]).lower() == "true"
            rows = [row for row in rows if (bool(row["verified"]) or row["name"] in CORE_EVENTS) == wanted]
        names = {name for value in call.query_lists.get("names", []) for name in value.split(",") if name}
        if names:
            rows = [row for row in rows if row["name"] in names]
        excluded = set(_json_list(query.get("excluded_properties")))
        tags = set(_json_list(query.get("tags")))
        if tags:
            rows = [row for row in rows if tags & set(row["tags"])]
        return [row for row in rows if row["name"] not in excluded]

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        """``?ordering=`` fields in request order, else last seen (by day, nulls last) then name.

        A search without an explicit ordering puts the shortest (closest) names first.
        """
        requested = [
            value
            for raw in call.query_lists.get("ordering", [])
            for value in raw.split(",")
            if value and value.replace("-", "") in ORDERING_FIELDS
        ]
        keys = [(value.replace("-", ""), value.startswith("-")) for value in requested]
        if not keys:
            keys = [("last_seen_at::date", True), ("name", False)]
        if not any(field == "name" for field, _ in keys):
            keys.append(("name", False))  # name is unique: it keeps offset paging stable
        if str(call.query.get("search") or "").strip() and not requested:
            keys.insert(0, ("length(name)", False))
        for field, descending in reversed(keys):
            rows = _sort_nulls(rows, field, descending)
        return rows

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        body = super().serialize(call, record)
        for name in ACTION_ONLY:
            if record.get(name) is None:
                body.pop(name, None)
        return body

    # -- writes ------------------------------------------------------------------------------
    @quirk("event_definitions_create")
    def create(self, call: Call) -> Any:
        """EventDefinitionViewSet.create through EnterpriseEventDefinitionSerializer.create: a
        definition nobody has sent yet (created_at and last_seen_at null until an event arrives)."""
        name = call.body["name"]
        if any(row["name"] == name for row in self.table(call).values()):
            # PostHog's unique index would fail here; its non-enterprise serializer words it so.
            raise errors.validation_error(f"Event definition with name '{name}' already exists", "name")
        blank = {
            "id": call.new_uuid(), "name": name, "owner": None, "description": "", "tags": [],
            "created_at": None, "updated_at": call.timestamp(), "updated_by": call.user,
            "last_seen_at": None, "verified": False, "verified_at": None, "verified_by": None,
            "hidden": False, "enforcement_mode": "allow", "is_action": False, "post_to_slack": False,
            "default_columns": [], "media_preview_urls": [], "primary_property": None,
            "_properties": [], "_query_usage_30_day": 0,
        }  # fmt: skip
        data = {key: value for key, value in call.body.items() if key != "name"}
        if "verified" in data and not data["verified"]:
            del data["verified"]  # nothing to unverify on a new definition
        record = self.change(call, blank, data)
        return self.serialize(call, self.save(call, {**record, "post_to_slack": False}))

    # -- updates -----------------------------------------------------------------------------
    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """EnterpriseEventDefinitionSerializer.validate + update: hidden and verified exclude each other."""
        data = dict(data)
        if "owner" in data:  # a field error: DRF reports it before validate() runs
            data["owner"] = self._owner(call, data["owner"])
        if data.get("hidden") and data.get("verified"):
            raise errors.validation_error("An event cannot be both hidden and verified")
        if "tags" in data:
            data["tags"] = sorted({tag.strip().lower() for tag in data["tags"]})
        if data.get("hidden"):
            data["verified"] = False
        elif data.get("verified"):
            data["hidden"] = False
        if "verified" in data:
            if data["verified"] and not record["verified"]:
                data.update(verified_by=call.user, verified_at=call.timestamp())
            elif not data["verified"]:
                data.update(verified_by=None, verified_at=None)
            else:
                del data["verified"]  # re-verifying an already verified event is ignored
        # post_to_slack is not a model field: echoed back by this response only, never stored.
        data.pop("post_to_slack", None)
        return {**record, **data, "updated_at": call.timestamp(), "updated_by": call.user}

    def _owner(self, call: Call, owner: int | None) -> dict[str, Any] | None:
        if owner is None:
            return None
        if owner != call.user["id"]:
            detail = f'Invalid pk "{owner}" - object does not exist.'
            raise errors.validation_error(detail, "owner", "does_not_exist")
        return call.user

    @quirk("event_definitions_update", "event_definitions_partial_update")
    def update(self, call: Call) -> Any:
        record = self.save(call, self.change(call, self.get(call), call.body))
        body = self.serialize(call, record)
        if "post_to_slack" in call.body:
            body["post_to_slack"] = call.body["post_to_slack"]
        return body

    # -- custom actions ------------------------------------------------------------------------
    @quirk("event_definitions_metrics_retrieve")
    def metrics(self, call: Call) -> dict[str, int]:
        record = self.get(call)
        # Fixture records may lack the seeded count: derive a stable one from the name.
        fallback = zlib.crc32(record["name"].encode()) % 250
        return {"query_usage_30_day": record.get("_query_usage_30_day", fallback)}

    @quirk("event_definitions_by_name_retrieve")
    def by_name(self, call: Call) -> Any:
        name = call.query.get("name")
        if not name:
            raise errors.BareError(400, {"detail": "Query parameter 'name' is required"})
        found = self.table(call).find("name", name)
        if found is None:
            raise errors.BareError(404, {"detail": f"Event definition with name '{name}' not found"})
        return self.serialize(call, found)

    @quirk("event_definitions_typescript_retrieve")
    def typescript(self, call: Call) -> dict[str, Any]:
        return self._generate(call, "typescript")

    @quirk("event_definitions_golang_retrieve")
    def golang(self, call: Call) -> dict[str, Any]:
        return self._generate(call, "golang")

    @quirk("event_definitions_python_retrieve")
    def python(self, call: Call) -> dict[str, Any]:
        return self._generate(call, "python")

    def _generate(self, call: Call, language: str) -> dict[str, Any]:
        rows = [row for row in self.rows(call) if codegen.included(row["name"])]
        rows.sort(key=lambda row: row["name"])
        events = [codegen.EventSchema.from_record(row) for row in rows]
        return codegen.generate(language, events, call.timestamp())

    # -- seed ----------------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        names = ctx.profile["events"]["standard"] + ctx.profile["events"]["custom"]
        return [self._seed_record(ctx, name) for name in names]

    def _seed_record(self, ctx: Any, name: str) -> Record:
        custom = not name.startswith("$")
        created = ctx.moment(365, 120)
        updated = ctx.moment(120)
        stale = ctx.rng.random() < 0.15
        last_seen = ctx.moment(90, 35) if stale else ctx.moment(3)
        verified = custom and ctx.rng.random() < 0.5
        hidden = not verified and ctx.rng.random() < 0.1
        owner = ctx.user if custom and ctx.rng.random() < 0.6 else None
        description = _describe(ctx, name) if custom else ""
        edited = owner is not None or verified or hidden or bool(description)
        tags = sorted(ctx.rng.sample(ctx.profile["events"]["tags"], ctx.rng.randint(0, 2))) if custom else []
        return {
            "id": ctx.uuid(),
            "name": name,
            "owner": owner,
            "description": description,
            "tags": tags,
            "created_at": created,
            "updated_at": updated,
            "updated_by": ctx.user if edited else None,
            "last_seen_at": last_seen,
            "verified": verified,
            "verified_at": updated if verified else None,
            "verified_by": ctx.user if verified else None,
            "hidden": hidden,
            "enforcement_mode": "allow",
            "is_action": False,
            "post_to_slack": False,
            "default_columns": [],
            "media_preview_urls": [],
            "primary_property": "$pathname" if name == "$pageview" else None,
            "_properties": _seed_properties(ctx, name),
            "_query_usage_30_day": ctx.rng.randint(0, 400),
        }


# Properties each event is known to carry; events not listed draw from GENERIC_PROPERTIES.
KNOWN_PROPERTIES: dict[str, list[tuple[str, str]]] = {
    "$pageview": [("$current_url", "String"), ("$pathname", "String"), ("$referrer", "String")],
    "$pageleave": [("$current_url", "String"), ("$prev_pageview_duration", "Numeric")],
    "$screen": [("$screen_name", "String"), ("$screen_height", "Numeric"), ("$screen_width", "Numeric")],
    "signed_up": [("signup_method", "String"), ("referral_code", "String"), ("is_invited", "Boolean")],
    "file_uploaded": [("file_size_bytes", "Numeric"), ("file_type", "String"), ("uploaded_at", "DateTime")],
    "file_shared": [("file_id", "String"), ("share_type", "String"), ("recipient_count", "Numeric")],
    "folder_created": [("folder_depth", "Numeric"), ("is_shared", "Boolean")],
    "plan_upgraded": [("previous_plan", "String"), ("new_plan", "String"), ("mrr_change", "Numeric")],
    "plan_downgraded": [("previous_plan", "String"), ("new_plan", "String"), ("reason", "String")],
    "invite_sent": [("invitee_email", "String"), ("role", "String")],
    "invite_accepted": [("invite_age_hours", "Numeric"), ("role", "String")],
    "download_started": [("file_id", "String"), ("file-size", "Numeric")],
    "payment_failed": [("amount", "Numeric"), ("currency", "String"), ("retry_at", "DateTime")],
    "onboarding_completed": [("steps_completed", "Numeric"), ("skipped_tour", "Boolean")],
    "search_performed": [("query", "String"), ("result_count", "Numeric"), ("used_filters", "Boolean")],
}
GENERIC_PROPERTIES = [
    ("source", "String"),
    ("duration_ms", "Numeric"),
    ("success", "Boolean"),
    ("occurred_at", "DateTime"),
]


def _seed_properties(ctx: Any, name: str) -> list[dict[str, Any]]:
    """The event's schema: known properties, or a few generic ones; the first is always required."""
    if name.startswith("$") and name not in codegen.INCLUDED_SYSTEM_EVENTS:
        return []
    pool = KNOWN_PROPERTIES.get(name) or ctx.rng.sample(GENERIC_PROPERTIES, ctx.rng.randint(0, 3))
    return [
        {"name": prop, "type": kind, "required": index == 0 or ctx.rng.random() < 0.4}
        for index, (prop, kind) in enumerate(pool)
    ]


def _describe(ctx: Any, name: str) -> str:
    action = name.replace("_", " ")
    templates = [f"Fired when a user has {action}.", f"Tracks {action} on web and mobile.", f"Key: {action}."]
    return ctx.rng.choice([*templates, ""])


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def _json_list(raw: Any) -> list[str]:
    """A JSON-encoded list of names; anything else filters nothing (as PostHog ignores it)."""
    if not raw:
        return []
    try:
        decoded = json.loads(raw)
    except ValueError:
        return []
    return [item for item in decoded if isinstance(item, str)] if isinstance(decoded, list) else []


def _sort_key(row: Record, field: str) -> Any:
    if field == "length(name)":
        return len(row["name"])
    base, _, cast = field.partition("::")
    value = row.get(base)
    return value[:10] if value and cast == "date" else value


def _sort_nulls(rows: list[Record], field: str, descending: bool) -> list[Record]:
    """A stable sort with Postgres' null placement: NULLS FIRST ascending, NULLS LAST descending."""
    present = [row for row in rows if _sort_key(row, field) is not None]
    missing = [row for row in rows if _sort_key(row, field) is None]
    present = sorted(present, key=lambda row: _sort_key(row, field), reverse=descending)
    return present + missing if descending else missing + present
