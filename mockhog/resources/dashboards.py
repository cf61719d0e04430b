"""Dashboards: PostHog's DashboardsViewSet and DashboardSerializer
(products/dashboards/backend/api/dashboard.py).

A dashboard's tiles hold insights (answered in full, nothing computed) or text. Duplicating
(``use_dashboard``) links the same insights and texts, or copies them with ``duplicate_tiles``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .. import errors
from ..store import Record
from . import dashboard_tiles as tiles
from .base import Call, Resource, quirk
from .file_system import VIEW_LOG_TABLE, join_path, split_path
from .product import tagify

EVERYONE_CAN_EDIT, ONLY_COLLABORATORS, CAN_EDIT = 21, 37, 37
TEXT_LIMIT = 4000
BASIC_FIELDS = (
    "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at",
    "last_viewed_at", "folder", "is_shared", "deleted", "creation_mode", "tags", "restriction_level",
    "effective_restriction_level", "effective_privilege_level", "user_access_level",
    "access_control_version", "last_refresh", "team_id", "search_match_type",
)  # fmt: skip
DETAIL_FIELDS = (
    "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at",
    "last_viewed_at", "folder", "is_shared", "deleted", "creation_mode", "filters", "variables",
    "breakdown_colors", "data_color_theme_id", "tags", "restriction_level", "effective_restriction_level",
    "effective_privilege_level", "user_access_level", "access_control_version", "last_refresh",
    "persisted_filters", "persisted_variables", "team_id", "quick_filter_ids", "tiles",
)  # fmt: skip


class Dashboards(Resource):
    table_name = "dashboards"
    query_ordering = True

    @property
    def world_clock(self) -> str:
        return self.profile["clock"]

    # -- lookups -----------------------------------------------------------------------------
    def get(self, call: Call, key: Any = None) -> Record:
        """Deleted dashboards only for an update whose body sets ``deleted`` to a false value."""
        record = self.table(call).get(call.params["id"] if key is None else key)
        restoring = (
            call.op.action in ("update", "partial_update")
            and "deleted" in call.body
            and call.body["deleted"] is not None
            and not call.body["deleted"]
        )
        if record is None or (record.get("_deleted") and not restoring):
            raise errors.not_found()
        return self.complete(call.user, record)

    def rows(self, call: Call) -> list[Record]:
        return [self.complete(call.user, row) for row in super().rows(call)]

    def complete(self, user: dict[str, Any] | None, record: Record) -> Record:
        """A stored row with every field (fixture rows may hold only an id and a name)."""
        if "creation_mode" in record:
            return record
        stamp = record.get("created_at") or self.world_clock  # a fixture row may have no times
        return {
            **self.defaults,
            "created_by": user,
            "last_accessed_at": None,
            "last_refresh": None,
            **record,
            "created_at": stamp,
        }

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        """DashboardsViewSet.filter_queryset: the tags asked for, and the search, whose similar
        matches are dropped when an exact one is left after the filters (drop_similar_when_exact_exists)."""
        wanted = set(call.query_lists.get("tags", []))
        if wanted:
            rows = [row for row in rows if wanted & set(row["tags"])]
        return super().filter(call, rows)  # the row's search fields

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        """Pinned first, then by name (Postgres puts NULL names last)."""
        return sorted(
            rows, key=lambda row: (not row["pinned"], row["name"] is None, row["name"] or "", row["id"])
        )

    # -- answers -----------------------------------------------------------------------------
    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        record = self.complete(call.user, record)
        listed = call.op.action == "list" and call.op.resource.name == "dashboards"
        view = {
            **_derived(record),
            "last_viewed_at": _last_viewed(call, record),
            "folder": _folder(call, record),
            "is_shared": bool(
                (call.table("sharing_configurations").get(f"dashboard:{record['id']}") or {}).get("enabled")
            ),
            "team_id": call.project_id,
            "search_match_type": self.search_match_type(call, record) if listed else None,
        }
        if listed:
            return {name: view[name] for name in BASIC_FIELDS}
        view["tiles"] = self.tiles_of(call, record)
        return {name: view[name] for name in DETAIL_FIELDS}

    def tiles_of(self, call: Call, dashboard: Record) -> list[dict[str, Any]]:
        """The live tiles, in layout order, each with its insight (if live) or text."""
        insights = call.backend.resources["insights"]
        shown = []
        for tile in tiles.live_tiles(call, dashboard=dashboard["id"]):
            insight = call.table("insights").get(tile["insight"]) if tile["insight"] is not None else None
            if tile["insight"] is not None and (insight is None or insight.get("_deleted")):
                continue  # dashboard_queryset leaves out tiles of deleted insights
            shown.append((tile, insight))
        ordered = tiles.layout_order([tile for tile, _ in shown])
        by_id = {tile["id"]: insight for tile, insight in shown}
        answers = []
        for order, tile in enumerate(ordered):
            insight = by_id[tile["id"]]
            insight_view = insights.serialize(call, insight) if insight is not None else None
            answers.append(
                {
                    "id": tile["id"],
                    "insight": insight_view,
                    "text": _text_view(call, tile["text"]) if tile["text"] is not None else None,
                    "button_tile": None,
                    "widget": None,
                    **{name: tile[name] for name in tiles.DISPLAY_FIELDS if name != "deleted"},
                    "order": order,
                    "last_refresh": (insight_view or {}).get("last_refresh"),
                    "is_cached": (insight_view or {}).get("is_cached", False),
                }
            )
        return answers

    def fixture_view(self, record: Record) -> dict[str, Any]:
        full = _derived(self.complete(None, record))
        view = {**full, "last_viewed_at": None, "folder": None, "is_shared": False, "team_id": 0, "tiles": []}
        return {name: view[name] for name in DETAIL_FIELDS}

    # -- writes ------------------------------------------------------------------------------
    @quirk("dashboards_create")
    def create(self, call: Call) -> Any:
        data = dict(call.body)
        template, source_id = data.pop("use_template", None), data.pop("use_dashboard", None)
        data.pop("delete_insights", None)
        if template and source_id:
            raise errors.validation_error("`use_dashboard` and `use_template` cannot be used together")
        source = None
        if source_id:
            source = self.table(call).get(source_id)
            if source is None or source.get("_deleted"):
                raise errors.validation_error("Invalid value provided", "use_dashboard")
            source = self.complete(call.user, source)
        if template:
            # mockhog carries none of PostHog's dashboard templates (docs/divergences.md).
            raise errors.validation_error(f"Invalid template provided: {template}", "use_template")
        filters = _filters(call.body)
        data = self._validated(data)
        mode = "duplicate" if source else "default"
        record = self.build(call, {**data, "creation_mode": mode})
        if source is not None:
            record["filters"] = filters or source["filters"]
            for name in ("variables", "breakdown_colors", "data_color_theme_id", "quick_filter_ids"):
                if source.get(name):
                    record[name] = source[name]
        else:
            record["filters"] = filters or {}
        self.save(call, record)
        if source is not None:
            deep = bool(call.body.get("duplicate_tiles"))
            for tile in tiles.live_tiles(call, dashboard=source["id"]):
                self._copy_tile(call, tile, record, deep)
        return self.serialize(call, record)

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        record = super().build(call, data)
        return {**record, "created_by": call.user, "last_accessed_at": None, "last_refresh": None}

    @quirk("dashboards_update", "dashboards_partial_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        data = self._validated(
            {k: v for k, v in call.body.items() if k not in ("use_template", "use_dashboard")}
        )
        delete_insights = bool(data.pop("delete_insights", False))
        if record.get("_deleted") and "deleted" in data and not data["deleted"]:
            self._restore_tiles(call, record)
        if not record.get("_deleted") and data.get("deleted"):
            self._delete_tiles(call, record, delete_insights)
        filters = _filters(call.body)
        changed = self.change(call, record, data)
        if filters:
            changed["filters"] = filters
        self.save(call, changed)
        for tile_data in call.body.get("tiles") or []:
            self._update_tile(call, changed, tile_data)
        return self.serialize(call, changed)

    def _validated(self, data: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in data.items() if k not in ("_create_in_folder", "tiles", "duplicate_tiles")}
        data.pop("filters", None)  # read from the raw body (a method field in the serializer)
        if "tags" in data:
            data["tags"] = tagify(data["tags"])
        if data.get("quick_filter_ids"):
            normalized = []
            for value in data["quick_filter_ids"]:
                try:
                    normalized.append(str(uuid.UUID(value)))
                except ValueError:
                    raise errors.validation_error(f"Invalid UUID: {value}", "quick_filter_ids") from None
            # The project has no quick filters in mockhog, so every id is unknown.
            raise errors.validation_error(
                f"Quick filters not found: {', '.join(normalized)}", "quick_filter_ids"
            )
        if "quick_filter_ids" in data:
            data["quick_filter_ids"] = []
        return data

    def _delete_tiles(self, call: Call, dashboard: Record, delete_insights: bool) -> None:
        if delete_insights:
            for tile in tiles.live_tiles(call, dashboard=dashboard["id"]):
                if tile["insight"] is None:
                    continue
                if len(tiles.live_tiles(call, insight=tile["insight"])) == 1:
                    insight = call.table("insights").get(tile["insight"])
                    if insight is not None:
                        call.table("insights").put(insight["id"], {**insight, "_deleted": True})
        for tile in tiles.all_tiles(call, dashboard=dashboard["id"]):
            tiles.put(call, {**tile, "deleted": True})

    def _restore_tiles(self, call: Call, dashboard: Record) -> None:
        for tile in tiles.all_tiles(call, dashboard=dashboard["id"]):
            tiles.put(call, {**tile, "deleted": False})
            insight = call.table("insights").get(tile["insight"]) if tile["insight"] is not None else None
            if insight is not None and insight.get("_deleted"):
                call.table("insights").put(insight["id"], {**insight, "_deleted": False})

    def _update_tile(self, call: Call, dashboard: Record, data: Any) -> None:
        """One entry of a PATCH's ``tiles``: a text tile (new or edited), or display fields."""
        if not isinstance(data, dict):
            raise errors.validation_error("Each tile must be an object.", "tiles")
        if not _is_id(data.get("id")):
            raise errors.validation_error("A tile's id must be an integer.", "tiles")
        display = {name: data[name] for name in tiles.DISPLAY_FIELDS if name in data}
        _check_display(display)
        if data.get("text"):
            text = self._save_text(call, dashboard, data["text"])
            existing = call.table(tiles.TILES).get(data.get("id")) if data.get("id") is not None else None
            if existing is not None and existing["dashboard"] == dashboard["id"]:
                tiles.put(call, {**existing, **display, "text": text["id"]})
            else:
                tiles.new_tile(call, dashboard["id"], text=text["id"], **display)
            return
        if not display or data.get("id") is None:
            return
        existing = call.table(tiles.TILES).get(data["id"])
        if existing is None or existing["dashboard"] != dashboard["id"]:
            return  # an unknown tile id is skipped, never created
        tiles.put(call, {**existing, **display})

    def _save_text(self, call: Call, dashboard: Record, text: Any) -> Record:
        if not isinstance(text, dict):
            raise errors.validation_error("Invalid data. Expected a dictionary.", "text")
        body = text.get("body")
        if body is not None and not isinstance(body, str):
            raise errors.validation_error("Not a valid string.", "text__body")
        if body is not None and len(body) > TEXT_LIMIT:
            raise errors.validation_error(
                "Text body cannot exceed 4000 characters", "text__body", "max_length"
            )
        texts = call.table(tiles.TEXTS)
        text_id = text.get("id")
        if not _is_id(text_id):
            raise errors.validation_error("A text's id must be an integer.", "text")
        if text_id:
            stored = texts.get(text_id)
            if stored is None:
                raise errors.validation_error("Text tile not found in this team.", "text")
            if not any(tile["text"] == text_id for tile in tiles.all_tiles(call, dashboard=dashboard["id"])):
                raise errors.validation_error("Text tile not found.", "text")
            saved = {
                **stored,
                "body": body,
                "last_modified_by": call.user,
                "last_modified_at": call.timestamp(),
            }
        else:
            saved = {
                "id": texts.allocate_id(),
                "body": body,
                "created_by": call.user,
                "last_modified_by": None,
                "last_modified_at": call.timestamp(),
            }
        texts.put(saved["id"], saved)
        return saved

    def _copy_tile(self, call: Call, tile: Record, dashboard: Record, deep: bool) -> None:
        """copy_to_dashboard (same insight or text), or with ``duplicate_tiles`` a copy of each."""
        display = {name: tile[name] for name in tiles.DISPLAY_FIELDS if name != "deleted"}
        if not deep:
            tiles.new_tile(call, dashboard["id"], insight=tile["insight"], text=tile["text"], **display)
            return
        if tile["insight"] is not None:
            original = call.table("insights").get(tile["insight"])
            if original is None or original.get("_deleted"):
                return
            insights = call.backend.resources["insights"]
            original = insights.complete(call.user, original)
            copy = insights.build(
                call,
                {
                    "name": f"{original['name']} (Copy)" if original.get("name") else None,
                    **{
                        name: original.get(name)
                        for name in ("derived_name", "filters", "query", "description", "tags", "favorited")
                    },
                },
            )
            insights.save(call, copy)
            tiles.new_tile(call, dashboard["id"], insight=copy["id"], **display)
        elif tile["text"] is not None:
            original = call.table(tiles.TEXTS).get(tile["text"])
            copy = self._save_text(call, dashboard, {"body": (original or {}).get("body")})
            tiles.new_tile(call, dashboard["id"], text=copy["id"], **display)

    # -- seed --------------------------------------------------------------------------------
    seed_writes = (tiles.TILES, tiles.TEXTS)

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's dashboards (the rows exports, sharing and the tree point at), their
        insight tiles in a two-column grid under an optional full-width text tile."""
        tile_rows = ctx.tables.setdefault(tiles.TILES, {})
        texts = ctx.tables.setdefault(tiles.TEXTS, {})
        records = []
        for key, row in sorted(ctx.tables["dashboards"].items()):
            spec = ctx.profile["dashboard_layouts"].get(row["name"], {})
            records.append(
                {
                    **self.defaults,
                    **row,
                    "description": spec.get("description", ""),
                    "pinned": bool(spec.get("pinned")),
                    "tags": tagify(spec.get("tags", [])),
                    "restriction_level": spec.get("restriction_level", EVERYONE_CAN_EDIT),
                    "created_by": ctx.user,
                    "last_accessed_at": None,
                    "last_refresh": None,
                }
            )
            top = 0
            if spec.get("text"):
                text_id = len(texts) + 1
                texts[text_id] = {
                    "id": text_id,
                    "body": spec["text"],
                    "created_by": ctx.user,
                    "last_modified_by": None,
                    "last_modified_at": row["created_at"],
                }
                _seed_tile(tile_rows, key, text=text_id, layouts={"sm": {"x": 0, "y": 0, "w": 12, "h": 1}})
                top = 1
            for index, insight in enumerate(spec.get("insights", [])):
                box = {"x": 6 * (index % 2), "y": top + 5 * (index // 2), "w": 6, "h": 5}
                _seed_tile(tile_rows, key, insight=insight, layouts={"sm": box})
        return records


def _seed_tile(rows: dict[int, Record], dashboard: int, **content: Any) -> None:
    key = len(rows) + 1
    rows[key] = tiles.row(key, dashboard, **content)


def _derived(record: Record) -> dict[str, Any]:
    """The stored dashboard with the fields derived from it alone."""
    level = record["restriction_level"]
    return {
        **record,
        "deleted": bool(record.get("_deleted")),
        "filters": record["filters"] or {},
        "variables": record["variables"] or {},
        "effective_restriction_level": level,
        "effective_privilege_level": CAN_EDIT,
        # The creator (and any organization admin) has the highest access level on an object.
        "user_access_level": "manager",
        "access_control_version": "v1" if level > EVERYONE_CAN_EDIT else "v2",
        "persisted_filters": record["filters"] or None,
        "persisted_variables": record["variables"] or None,
        "quick_filter_ids": record.get("quick_filter_ids") or [],
    }


def _text_view(call: Call, text_id: int) -> dict[str, Any] | None:
    """TextSerializer (fields "__all__"): the tiles showing the text, and its team."""
    text = call.table(tiles.TEXTS).get(text_id)
    if text is None:
        return None
    showing = [tiles.basic(tile) for tile in tiles.live_tiles(call) if tile["text"] == text_id]
    return {
        "id": text["id"],
        "created_by": text["created_by"],
        "last_modified_by": text["last_modified_by"],
        "body": text["body"],
        "dashboard_tiles": showing,
        "last_modified_at": text["last_modified_at"],
        "team": call.project_id,
    }


def _filters(body: dict[str, Any]) -> dict[str, Any] | None:
    """The raw body's filters: a truthy value must be a dictionary."""
    raw = body.get("filters")
    if raw and not isinstance(raw, dict):
        raise errors.validation_error("Filters must be a dictionary")
    return raw or None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    """A row id a tile or text names, or none (the lookups take nothing else: PostHog 500s)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_box(box: Any) -> bool:
    return isinstance(box, dict) and all(_is_number(box[axis]) for axis in "xywh" if axis in box)


# What a tile's display fields must hold for the tile to be answered (the Tile schema) and its
# layouts sorted (layout_order): PostHog writes them with a queryset update, unchecked, so a wrong
# type is stored and fails later (a 500 there); refused here on the tile, stating the field.
_DISPLAY_CHECKS = {
    "color": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "layouts": (
        lambda v: isinstance(v, dict) and all(_is_box(box) for box in v.values()),
        "an object of boxes ({x, y, w, h} numbers) per breakpoint",
    ),
    "filters_overrides": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "show_description": (lambda v: v is None or isinstance(v, bool), "a boolean or null"),
    "transparent_background": (lambda v: v is None or isinstance(v, bool), "a boolean or null"),
    "deleted": (lambda v: isinstance(v, bool), "a boolean"),
}


def _check_display(display: dict[str, Any]) -> None:
    for name, value in display.items():
        holds, wanted = _DISPLAY_CHECKS[name]
        if not holds(value):
            raise errors.validation_error(f"A tile's {name} must be {wanted}.", "tiles")


def _last_viewed(call: Call, record: Record) -> str | None:
    """The requesting user's last view, from the file system's view log (type dashboard)."""
    # The view log keys its rows by [user, type, ref], as mockhog.resources.file_system writes them.
    view = call.table(VIEW_LOG_TABLE).get(json.dumps([call.user["id"], "dashboard", str(record["id"])]))
    return view["viewed_at"] if view else None


def _folder(call: Call, record: Record) -> str | None:
    """The folder of the dashboard's own (non-shortcut) entry in the project tree, if it has one."""
    entries = [
        row
        for row in call.table("file_system").values()
        if row.get("type") == "dashboard" and row.get("ref") == str(record["id"]) and not row.get("shortcut")
    ]
    if not entries:
        return None
    first = min(entries, key=lambda row: row["id"])
    return join_path(split_path(first["path"])[:-1])
