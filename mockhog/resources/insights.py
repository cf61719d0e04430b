"""Insights: PostHog's InsightViewSet and InsightSerializer
(products/product_analytics/backend/api/insight.py).

mockhog runs no queries. An insight is answered the way the server answers it when no query runs
(its default ``refresh=force_cache`` with nothing cached): ``result``, ``last_refresh`` and the other
result fields are null and ``is_cached`` is false. The query itself is stored and returned.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from datetime import datetime, timedelta
from typing import Any

from .. import errors
from ..store import Record
from . import dashboard_tiles as tiles
from .base import Call, Reply, Resource, iso, quirk
from .file_system import short_id as seeded_short_id
from .product import parse_moment, tagged, tagify

VIEWS = "insight_views"  # InsightViewed: (user, insight) -> last_viewed_at
MAX_DAYS = 700_000  # trending: a window a datetime can still hold (year 1 is about 739,000 days back)
EVERYONE_CAN_EDIT, CAN_EDIT = 21, 37  # Dashboard.RestrictionLevel / PrivilegeLevel
MATERIAL_FIELDS = ("name", "description", "filters")  # Insight.MATERIAL_INSIGHT_FIELDS
INSIGHT_KINDS = {
    "TRENDS": "TrendsQuery",
    "FUNNELS": "FunnelsQuery",
    "RETENTION": "RetentionQuery",
    "PATHS": "PathsQuery",
    "STICKINESS": "StickinessQuery",
    "LIFECYCLE": "LifecycleQuery",
}
WRAPPER_KINDS = ("InsightVizNode", "DataTableNode", "DataVisualizationNode")
BASIC_FIELDS = (
    "id", "short_id", "name", "derived_name", "filters", "query", "dashboards", "dashboard_tiles",
    "description", "last_refresh", "refreshing", "saved", "tags", "updated_at", "created_by",
    "created_at", "last_modified_at", "favorited", "user_access_level", "last_viewed_at",
    "search_match_type",
)  # fmt: skip
# Result fields: null when no query ran (in the serializer's order, in two runs).
NOT_COMPUTED = dict.fromkeys(
    ("last_refresh", "cache_target_age", "next_allowed_client_refresh", "result", "hasMore", "columns")
)
NOT_COMPUTED_LATER = dict.fromkeys(("query_status", "hogql", "types", "resolved_date_range"))
_RELATIVE = re.compile(r"^-?([0-9]+)([hdwmy])$")
_SHORT_ID_ALPHABET = string.ascii_letters + string.digits


class Insights(Resource):
    table_name = "insights"
    query_ordering = True

    @property
    def world_clock(self) -> str:
        """What a fixture row without times is stamped with: the seed world's clock."""
        return self.profile["clock"]

    # -- lookups -----------------------------------------------------------------------------
    def new_key(self, call: Call) -> int:
        return self.table(call).allocate_id()

    def get(self, call: Call, key: Any = None) -> Record:
        """The row's lookup (numeric id, then short_id; a deleted insight for the PATCH that
        restores it), completed."""
        return self.complete(call.user, super().get(call, key))

    def rows(self, call: Call) -> list[Record]:
        return [self.complete(call.user, row) for row in super().rows(call)]

    def complete(self, user: dict[str, Any] | None, record: Record) -> Record:
        """A stored row with every field (fixture rows may hold only an id and a name)."""
        if "short_id" in record and "last_modified_at" in record:
            return record
        created = record.get("created_at")
        stamp = created or self.world_clock
        return {
            **self.defaults,
            "short_id": seeded_short_id(record["id"]),
            "filters": {},
            "created_by": user,
            "created_at": created,
            "updated_at": stamp,
            "last_modified_at": stamp,
            "last_modified_by": user,
            "is_sample": False,
            **record,
        }

    # -- the list ----------------------------------------------------------------------------
    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        if "saved" in query:
            if _truthy(query["saved"]):
                rows = [row for row in rows if row["saved"] or self._on_listed_dashboard(call, row)]
            else:
                rows = [row for row in rows if not row["saved"]]
        if "user" in query:
            rows = [row for row in rows if (row["created_by"] or {}).get("id") == call.user["id"]]
        if "favorited" in query:
            rows = [row for row in rows if row["favorited"]]
        if query.get("insight"):
            rows = [row for row in rows if _has_type(row, query["insight"])]
        for name, field, bound in (
            ("date_from", "last_modified_at", "after"),
            ("date_to", "last_modified_at", "before"),
            ("created_date_from", "created_at", "after"),
            ("created_date_to", "created_at", "before"),
        ):
            if query.get(name):
                limit = _relative_date(call, name, str(query[name]))
                rows = [row for row in rows if _compare(row.get(field), limit, bound)]
        creators = _json_param(query, "created_by")
        if creators:
            rows = [row for row in rows if (row["created_by"] or {}).get("id") in creators]
        for board in _json_param(query, "dashboards"):
            on_board = {tile["insight"] for tile in tiles.all_tiles(call, dashboard=_int(board))}
            rows = [row for row in rows if row["id"] in on_board]
        tag_names = _json_param(query, "tags")
        if not all(isinstance(tag, str) for tag in tag_names):
            raise errors.validation_error("tags must be a JSON array of tag names.", "tags")
        wanted_tags = set(tag_names)
        if wanted_tags:
            rows = [row for row in rows if wanted_tags & set(row["tags"])]
        rows = super().filter(call, rows)  # the row's filterset_fields and search (ranked)
        # order_queryset: an ?order= wins over the search's ranking
        return self.order(call, rows) if call.query.get("order") else rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        """``?order=`` (a field, ``-`` for descending), else the ``order`` field (nulls last)."""
        requested = str(call.query.get("order") or "")
        field = requested.lstrip("-")
        if field and (field in self.fields or field == "last_viewed_at"):
            descending = requested.startswith("-")
            present = [row for row in rows if self._value(call, row, field) is not None]
            missing = [row for row in rows if self._value(call, row, field) is None]
            present.sort(
                key=lambda row: (_sortable(self._value(call, row, field)), row["id"]), reverse=descending
            )
            # Postgres: NULLs sort last ascending and first descending (last_viewed_at: always last).
            nulls_first = descending and field != "last_viewed_at"
            return missing + present if nulls_first else present + missing
        if str(call.query.get("search") or "").strip():
            return sorted(rows, key=lambda row: ((row["name"] or "").lower(), row["id"]))
        return sorted(rows, key=lambda row: (row["order"] is None, row["order"] or 0, row["id"]))

    def _value(self, call: Call, row: Record, field: str) -> Any:
        return self._last_viewed(call, row) if field == "last_viewed_at" else row.get(field)

    def _on_listed_dashboard(self, call: Call, row: Record) -> bool:
        boards = call.table("dashboards")
        return any(
            (boards.get(tile["dashboard"]) or {}).get("creation_mode") != "unlisted"
            for tile in tiles.all_tiles(call, insight=row["id"])
        )

    # -- answers -----------------------------------------------------------------------------
    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        record = self.complete(call.user, record)
        own = call.op.resource.name == "insights"
        listed = own and call.op.action == "list"
        on = tiles.live_tiles(call, insight=record["id"])
        boards = call.table("dashboards")
        view = present(
            record,
            on,
            restriction=max(
                (
                    (boards.get(tile["dashboard"]) or {}).get("restriction_level", EVERYONE_CAN_EDIT)
                    for tile in on
                ),
                default=EVERYONE_CAN_EDIT,
            ),
            timezone=call.backend.projects[call.project_id].get("timezone", "UTC")
            if own and _truthy(call.query.get("refresh"))
            else None,
            # Annotated by the list's queryset only: other actions answer null.
            last_viewed=self._last_viewed(call, record) if listed else None,
            match_type=self.search_match_type(call, record) if listed else None,
            cache=cache_key(call.project_id, record),
        )
        if own and call.op.action in ("list", "retrieve") and _truthy(call.query.get("basic")):
            return basic(view)
        return view

    def _last_viewed(self, call: Call, record: Record) -> str | None:
        seen = [
            view["last_viewed_at"] for view in call.table(VIEWS).values() if view["insight"] == record["id"]
        ]
        return max(seen, default=None)

    @quirk("insights_retrieve")
    def retrieve(self, call: Call) -> Any:
        record = self.get(call)
        body = self.serialize(call, record)
        board = _int(call.query.get("from_dashboard"))
        tile = (
            next(iter(tiles.all_tiles(call, insight=record["id"], dashboard=board)), None) if board else None
        )
        if tile is not None:
            body["color"] = tile["color"]
            body["layouts"] = tile["layouts"]
        return body

    # -- views (InsightViewed) ------------------------------------------------------------
    @quirk("insights_viewed_create")
    def viewed(self, call: Call) -> Reply:
        """``viewed``: stamps now on the user's view of each id; ids of deleted insights or of
        other projects are dropped silently. 201 with no body."""
        table = call.table(VIEWS)
        for key in dict.fromkeys(call.body["insight_ids"]):
            row = self.table(call).get(key)
            if row is not None and not row.get("_deleted"):
                view = {"user": call.user["id"], "insight": key, "last_viewed_at": call.timestamp()}
                table.put(json.dumps([call.user["id"], key]), view)
        return Reply(body=None, status=201)

    def views(self, call: Call) -> list[Record]:
        """The views of live insights, newest first."""
        live = [
            v
            for v in call.table(VIEWS).values()
            if not (self.table(call).get(v["insight"]) or {}).get("_deleted")
        ]
        return sorted(live, key=lambda v: v["last_viewed_at"], reverse=True)

    @quirk("insights_my_last_viewed_retrieve")
    def my_last_viewed(self, call: Call) -> Any:
        """InsightBasicSerializer of the user's last 5 viewed insights, most recent first, each with
        the time of that view."""
        mine = [v for v in self.views(call) if v["user"] == call.user["id"]][:5]
        table = self.table(call)
        return [
            {**basic(self.serialize(call, table.get(v["insight"]))), "last_viewed_at": v["last_viewed_at"]}
            for v in mine
        ]

    @quirk("insights_trending_retrieve")
    def trending(self, call: Call) -> Any:
        """Insights ranked by distinct viewers over the last ``days`` (7), then the latest modified;
        at most ``limit`` (10, 100 at most); InsightBasic plus view_count, up to 3 recent viewers and
        last_modified_by, in the paginated envelope with no next page."""
        try:
            days = int(call.query.get("days", "7"))
            limit = min(int(call.query.get("limit", "10")), 100)
        except ValueError:
            raise errors.validation_error("days and limit must be valid integers") from None
        if abs(days) > MAX_DAYS:
            # PostHog's timedelta overflows (a 500) long before a day count stops being an integer
            raise errors.validation_error(f"days must be between -{MAX_DAYS} and {MAX_DAYS}")
        cutoff = iso(call.now - timedelta(days=days))
        recent: dict[int, list[Record]] = {}
        for view in self.views(call):
            if view["last_viewed_at"] >= cutoff:
                recent.setdefault(view["insight"], []).append(view)
        table = self.table(call)
        ranked = sorted(
            recent,
            key=lambda key: (len(recent[key]), table.get(key).get("last_modified_at") or ""),
            reverse=True,
        )[: max(limit, 0)]
        users = {call.user["id"]: call.user}
        results = []
        for key in ranked:
            row = table.get(key)
            view = basic(self.serialize(call, row))
            results.append(
                {
                    **view,
                    "last_viewed_at": self._last_viewed(call, row),
                    "view_count": len(recent[key]),
                    "viewers": [users[v["user"]] for v in recent[key][:3] if v["user"] in users],
                    "last_modified_by": row.get("last_modified_by"),
                }
            )
        return {"count": len(results), "next": None, "previous": None, "results": results}

    def fixture_view(self, record: Record) -> dict[str, Any]:
        """A fixture row as the model schema sees it: completed, on no dashboard, nothing computed."""
        full = self.complete(None, record)
        return present(
            full,
            [],
            restriction=EVERYONE_CAN_EDIT,
            timezone=None,
            last_viewed=None,
            match_type=None,
            cache="",
        )

    # -- writes ------------------------------------------------------------------------------
    @quirk("insights_create")
    def create(self, call: Call) -> Any:
        record = self.save(call, self.build(call, call.body))
        self.place_on(call, record, call.body.get("dashboards") or [])
        view = {"user": call.user["id"], "insight": record["id"], "last_viewed_at": call.timestamp()}
        call.table(VIEWS).put(json.dumps([call.user["id"], record["id"]]), view)
        return self.serialize(call, record)

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        data = self._validated(call, data)
        data.pop("dashboards", None)
        record = super().build(call, data)
        now = record["created_at"]
        return {
            **record,
            "short_id": "".join(call.rng.choice(_SHORT_ID_ALPHABET) for _ in range(8)),
            "created_by": call.user,
            "updated_at": now,
            "last_modified_at": now,
            "last_modified_by": call.user,
            "is_sample": False,
        }

    @quirk("insights_update", "insights_partial_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        data = self._validated(call, call.body)
        boards = data.pop("dashboards", None)
        changed = {**super().change(call, record, data), "is_sample": False, "updated_at": call.timestamp()}
        if "saved" not in data:
            changed["saved"] = True  # an update always makes the insight saved unless it says otherwise
        if any(name in data for name in MATERIAL_FIELDS):
            changed.update(last_modified_at=call.timestamp(), last_modified_by=call.user)
        if data.get("deleted"):
            for tile in tiles.all_tiles(call, insight=record["id"]):
                tiles.put(call, {**tile, "deleted": True})
        elif boards is not None:
            self.move_to(call, record, boards)
        return self.serialize(call, self.save(call, changed))

    def place_on(self, call: Call, record: Record, boards: list[int]) -> None:
        for board in boards:
            tiles.new_tile(call, board, insight=record["id"], last_refresh=call.timestamp())

    def move_to(self, call: Call, record: Record, boards: list[int]) -> None:
        """_update_insight_dashboards: add tiles for new dashboards, soft-delete the others."""
        current = {tile["dashboard"] for tile in tiles.live_tiles(call, insight=record["id"])}
        wanted = set(boards)
        for board in sorted(wanted - current):
            tiles.place_insight(call, record["id"], board)
        for tile in tiles.all_tiles(call, insight=record["id"]):
            if tile["dashboard"] in current - wanted:
                tiles.put(call, {**tile, "deleted": True})

    def _validated(self, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in data.items() if k != "_create_in_folder"}
        query = data.get("query")
        if query and (not isinstance(query, dict) or not isinstance(query.get("kind"), str)):
            # QuerySchemaParser validates the query before the serializer sees the body.
            raise errors.parse_error("query: not a query node (an object with a known 'kind')")
        if query is not None and not isinstance(query, dict):
            # what the parser lets through ([], "", 0, false) QueryFieldSerializer refuses
            raise errors.validation_error("Query must be a valid JSON object", "query")
        if "dashboards" in data:
            boards = call.table("dashboards")
            for board in data["dashboards"]:
                found = boards.get(board)
                if found is None or found.get("_deleted"):
                    raise errors.validation_error(
                        f'Invalid pk "{board}" - object does not exist.', "dashboards", "does_not_exist"
                    )
        return tagged(data)

    # -- seed --------------------------------------------------------------------------------
    seed_writes = (VIEWS,)

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's insights (the reference rows exports, sharing and the tree point at),
        each with a query on the seeded events."""
        records = []
        ctx.tables.setdefault(VIEWS, {})
        for key, row in sorted(ctx.tables["insights"].items()):
            spec = ctx.profile["insight_queries"].get(row["name"], {})
            modified = ctx.moment(60, 1)
            records.append(
                {
                    **self.defaults,
                    **row,
                    "short_id": seeded_short_id(key),
                    "query": spec.get("query"),
                    "description": spec.get("description"),
                    "tags": tagify(spec.get("tags", [])),
                    "favorited": bool(spec.get("favorited")),
                    "order": None,
                    "created_by": ctx.user,
                    "updated_at": modified,
                    "last_modified_at": modified,
                    "last_modified_by": ctx.user,
                    "is_sample": False,
                }
            )
        return records


def present(
    record: Record,
    on: list[Record],
    *,
    restriction: int,
    timezone: str | None,
    last_viewed: str | None,
    match_type: str | None,
    cache: str,
) -> dict[str, Any]:
    """InsightSerializer's fields, in its order, for a stored insight on the given live tiles."""
    has_query = record.get("query") is not None
    return {
        **{name: record.get(name) for name in ("id", "short_id", "name", "derived_name")},
        "filters": {} if has_query else (record.get("filters") or {"insight": "TRENDS"}),
        "query": record.get("query"),
        "order": record.get("order"),
        "deleted": bool(record.get("_deleted")),
        "dashboards": [tile["dashboard"] for tile in on],
        "dashboard_tiles": [tiles.basic(tile) for tile in on],
        **NOT_COMPUTED,
        **{name: record.get(name) for name in ("created_at", "created_by", "description", "updated_at")},
        "tags": record.get("tags", []),
        "favorited": record.get("favorited", False),
        "saved": record.get("saved", True),
        "last_modified_at": record.get("last_modified_at"),
        "last_modified_by": record.get("last_modified_by"),
        "is_sample": record.get("is_sample", False),
        "effective_restriction_level": restriction,
        "effective_privilege_level": CAN_EDIT,
        # The creator (and any organization admin) has the highest access level on an object.
        "user_access_level": "manager",
        "timezone": timezone,
        "is_cached": False,
        **NOT_COMPUTED_LATER,
        "alerts": [],
        "last_viewed_at": last_viewed,
        "search_match_type": match_type,
        "filters_hash": cache,
    }


def basic(view: dict[str, Any]) -> dict[str, Any]:
    """InsightBasicSerializer's fields, from the full answer (the model's refreshing is false)."""
    return {name: False if name == "refreshing" else view[name] for name in BASIC_FIELDS}


def cache_key(project_id: int | None, record: Record) -> str:
    """A stable stand-in for the query runner's cache key (``cache_`` and a hash)."""
    basis = json.dumps(
        [project_id, record.get("query") or record.get("filters")], sort_keys=True, default=str
    )
    return "cache_" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _truthy(value: Any) -> bool:
    return value is not None and str(value).lower() not in ("", "0", "false", "f", "n", "no", "off")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_param(query: dict[str, Any], name: str) -> list[Any]:
    """A list parameter's JSON text: PostHog iterates ``json.loads`` of it, a 500 for what is no
    JSON list; a 400 here."""
    raw = query.get(name)
    if not raw:
        return []
    try:
        loaded = json.loads(raw)
    except ValueError:
        loaded = None
    if not isinstance(loaded, list):
        raise errors.validation_error(f"{name} must be a JSON array.", name)
    return loaded


def _has_type(row: Record, kind: str) -> bool:
    query = row.get("query")
    if query is None:
        return (row.get("filters") or {}).get("insight") == kind
    source = query.get("source") or {}
    if kind == "SQL":
        return query.get("kind") in WRAPPER_KINDS and source.get("kind") == "HogQLQuery"
    if kind == "JSON":
        return not (
            query.get("kind") in WRAPPER_KINDS
            and source.get("kind") in (*INSIGHT_KINDS.values(), "HogQLQuery")
        )
    return query.get("kind") == "InsightVizNode" and source.get("kind") == INSIGHT_KINDS.get(kind)


def _relative_date(call: Call, name: str, raw: str) -> datetime:
    """relative_date_parse: ``-7d``, ``-2w``, ``-1m``, ``-3h``, ``-1y`` back from now, or a date."""
    found = _RELATIVE.match(raw.strip())
    if found:
        amount, unit = int(found.group(1)), found.group(2)
        days = {"h": amount / 24, "d": amount, "w": 7 * amount, "m": 30 * amount, "y": 365 * amount}[unit]
        try:
            return call.now - timedelta(days=days)
        except OverflowError:  # further back than a datetime reaches: before everything
            return datetime.min.replace(tzinfo=call.now.tzinfo)
    try:
        moment = parse_moment(raw)
    except ValueError:
        raise errors.validation_error(f"{name}: not a date or a relative date like -7d.", name) from None
    assert moment is not None
    return moment


def _compare(value: str | None, limit: datetime, bound: str) -> bool:
    moment = parse_moment(value) if value else None
    if moment is None:
        return False
    return moment > limit if bound == "after" else moment < limit


def _sortable(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str):
        return value.lower()
    return value
