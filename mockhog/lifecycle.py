"""When asynchronous work finishes: export rendering, data-warehouse sync jobs.

Each kind of work finishes at once (the default), a number of seconds after it starts, or when a
control call advances it. A record holds ``_ready_at``: None when done, an ISO time when it will be,
or ``MANUAL`` until advanced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import errors
from .times import iso

KINDS = ("exports", "external_data_jobs")
MODES = ("immediate", "timed", "manual")
MANUAL = "manual"


@dataclass(frozen=True)
class Mode:
    mode: str = "immediate"
    seconds: float = 0.0


class Lifecycle:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.modes = {kind: Mode() for kind in KINDS}

    def configure(self, kind: str, mode: str, seconds: float = 0.0) -> Mode:
        if kind not in KINDS:
            raise errors.validation_error(f'"{kind}" is not a valid choice.', "kind", "invalid_choice")
        if mode not in MODES:
            raise errors.validation_error(f'"{mode}" is not a valid choice.', "mode", "invalid_choice")
        if mode == "timed" and not (isinstance(seconds, int | float) and 0 <= seconds <= 86400):
            raise errors.validation_error("Ensure this value is between 0 and 86400.", "seconds")
        self.modes[kind] = Mode(mode, float(seconds))
        return self.modes[kind]

    def due(self, kind: str, now: datetime) -> str | None:
        """``_ready_at`` for work of this kind starting now."""
        mode = self.modes[kind]
        if mode.mode == "timed":
            return iso(now + timedelta(seconds=mode.seconds))
        return MANUAL if mode.mode == MANUAL else None


def finished(ready_at: str | None, now: datetime) -> bool:
    return ready_at is None or (ready_at != MANUAL and ready_at <= iso(now))
