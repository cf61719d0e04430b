"""PostHog's time formats, for the store, the seed, the resources and the HTTP layer alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso(moment: datetime) -> str:
    """PostHog's datetime format: ISO 8601 with microseconds and a Z; the year in four digits, as
    ``isoformat`` writes it (``strftime("%Y")`` writes year 709 as ``709``, which is no date-time)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}{utc.strftime('-%m-%dT%H:%M:%S.%fZ')}"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed, naive taken as UTC), or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
