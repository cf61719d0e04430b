"""Dashboard tiles: the rows that put an insight or a text on a dashboard (PostHog's DashboardTile).

Insights and dashboards both read and write them, so the insight's ``dashboards`` and a
dashboard's ``tiles`` always agree. A tile is soft-deleted (``deleted``), never removed.
"""

from __future__ import annotations

from typing import Any

from ..store import Record
from .base import Call

TILES = "dashboard_tiles"
TEXTS = "dashboard_texts"
DISPLAY_FIELDS = (
    "color",
    "layouts",
    "filters_overrides",
    "show_description",
    "transparent_background",
    "deleted",
)


def live_tiles(call: Call, *, insight: int | None = None, dashboard: int | None = None) -> list[Record]:
    """DashboardTile.objects: tiles that are not deleted, on dashboards that are not deleted."""
    dashboards = call.table("dashboards")
    tiles = []
    for tile in call.table(TILES).values():
        if tile["deleted"] or (insight is not None and tile["insight"] != insight):
            continue
        if dashboard is not None and tile["dashboard"] != dashboard:
            continue
        board = dashboards.get(tile["dashboard"])
        if board is None or board.get("_deleted"):
            continue
        tiles.append(tile)
    return sorted(tiles, key=lambda tile: tile["id"])


def all_tiles(call: Call, *, insight: int | None = None, dashboard: int | None = None) -> list[Record]:
    """DashboardTile.objects_including_soft_deleted, for one insight or one dashboard."""
    return [
        tile
        for tile in call.table(TILES).values()
        if (insight is None or tile["insight"] == insight)
        and (dashboard is None or tile["dashboard"] == dashboard)
    ]


def row(key: int, dashboard: int, **content: Any) -> Record:
    """A tile row: exactly one of ``insight`` or ``text`` is set in ``content``."""
    return {
        "id": key,
        "dashboard": dashboard,
        "insight": None,
        "text": None,
        "layouts": {},
        "color": None,
        "filters_overrides": {},
        "show_description": None,
        "transparent_background": None,
        "deleted": False,
        "last_refresh": None,
        **content,
    }


def new_tile(call: Call, dashboard: int, **content: Any) -> Record:
    return put(call, row(call.table(TILES).allocate_id(), dashboard, **content))


def put(call: Call, tile: Record) -> Record:
    call.table(TILES).put(tile["id"], tile)
    return tile


def place_insight(call: Call, insight: int, dashboard: int, **fields: Any) -> Record:
    """get_or_create the insight's tile on the dashboard, undeleting a soft-deleted one."""
    existing = next(iter(all_tiles(call, insight=insight, dashboard=dashboard)), None)
    if existing is None:
        return new_tile(call, dashboard, insight=insight, **fields)
    return put(call, {**existing, "deleted": False})


def basic(tile: Record) -> dict[str, Any]:
    """DashboardTileBasicSerializer."""
    return {"id": tile["id"], "dashboard_id": tile["dashboard"], "deleted": tile["deleted"]}


def layout_order(tiles: list[Record], size: str = "sm") -> list[Record]:
    """DashboardTile.sort_tiles_by_layout: by row, then column, unplaced tiles last."""

    def position(tile: Record) -> tuple[Any, Any]:
        box = (tile.get("layouts") or {}).get(size) or {}
        return box.get("y", 100), box.get("x", 100)

    return sorted(tiles, key=position)
