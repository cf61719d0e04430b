"""PostHog's pagination: DRF limit/offset and cursor pages, with absolute links."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Any
from urllib.parse import parse_qs, urlencode

from . import errors

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class PageUrl:
    """The request's absolute URL, split so links can replace parameters the way DRF does."""

    base: str  # scheme://host/path
    query: str  # the raw query string

    def replace(self, **changes: Any) -> str:
        """DRF's ``replace_query_param``: keys re-sorted, blanks kept; a None value removes a key."""
        params = parse_qs(self.query, keep_blank_values=True)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = [str(value)]
        encoded = urlencode(sorted(params.items()), doseq=True)
        return f"{self.base}?{encoded}" if encoded else self.base


def positive_int(raw: Any, default: int, strict: bool = False) -> int:
    """DRF's ``_positive_int``: anything that is not a non-negative integer means the default."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if value < 0 or (strict and value == 0):
        return default
    return value


def limit_offset_page(
    rows: Sequence[Any], query: dict[str, Any], url: PageUrl, default_limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """``{count, next, previous, results}`` exactly as DRF's LimitOffsetPagination builds it."""
    limit = positive_int(query.get("limit"), default_limit, strict=True)
    offset = positive_int(query.get("offset"), 0)
    count = len(rows)
    next_url = url.replace(limit=limit, offset=offset + limit) if offset + limit < count else None
    if offset <= 0:
        previous = None
    elif offset - limit <= 0:
        previous = url.replace(limit=limit, offset=None)
    else:
        previous = url.replace(limit=limit, offset=offset - limit)
    return {
        "count": count,
        "next": next_url,
        "previous": previous,
        "results": list(rows[offset : offset + limit]),
    }


def encode_cursor(offset: int, reverse: bool, position: str | None) -> str:
    parts = []
    if offset:
        parts.append(("o", str(offset)))
    if reverse:
        parts.append(("r", "1"))
    if position is not None:
        parts.append(("p", position))
    return base64.b64encode(urlencode(parts).encode()).decode()


def decode_cursor(raw: str) -> tuple[int, bool, str | None]:
    """(offset, reverse, position) from DRF's cursor; a bad cursor is 404 "Invalid cursor"."""
    try:
        decoded = base64.b64decode(raw.encode(), validate=False).decode()
        parts = parse_qs(decoded, keep_blank_values=True)
        offset = positive_int(parts.get("o", ["0"])[0], 0)
        reverse = bool(int(parts.get("r", ["0"])[0]))
        position = parts.get("p", [None])[0]
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise errors.not_found("Invalid cursor") from exc
    return offset, reverse, position


def cursor_page(
    rows: Sequence[dict[str, Any]],
    position_of: Any,
    query: dict[str, Any],
    url: PageUrl,
    page_size: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """DRF's CursorPagination, forward only, over rows sorted by descending position.

    A cursor holds the position of the last row shown whose position differs from the next
    page's first row, and how many rows after it were shown already: pages stay disjoint even
    when many rows share a timestamp.
    """
    offset, position = 0, None
    if query.get("cursor"):
        offset, _reverse, position = decode_cursor(query["cursor"])
    if position is not None:
        rows = [row for row in rows if position_of(row) < position]
    window = list(rows[offset : offset + page_size + 1])
    page = window[:page_size]
    next_url = None
    if len(window) > page_size:
        following = position_of(window[-1])
        tail = len(list(takewhile(lambda row: position_of(row) == following, reversed(page))))
        if tail < len(page):
            compare, shown = position_of(page[-1 - tail]), tail
        else:
            # every row on the page shares one position: step on from the current cursor
            compare, shown = position, offset + page_size
        next_url = url.replace(cursor=encode_cursor(shown, False, compare))
    return {"next": next_url, "previous": None, "results": page}
