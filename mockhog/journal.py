"""The request journal: what each request asked, what it got, and which contract rule it broke.

Bounded in memory (oldest entries drop first). Secrets never enter it: authorization headers are
not recorded and secret-looking fields are masked wherever they appear in a body.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"(password|secret|token|api_key|apikey|private_key|credential|^value$|^key$|authorization)", re.I
)
# Which layer refused a request. These are contract violations: PostHog would refuse it too, for
# a reason the client's code can fix. "rule" (a resource's own check) and "not_found" are answers.
VIOLATIONS = ("route", "auth", "scope", "project", "parse", "schema", "strict", "response_schema")


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking field's value masked."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_NAME.search(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class Entry:
    """One request as the journal keeps it."""

    id: int
    time: float  # seconds since the epoch; ISO 8601 in to_json()
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    duration_ms: float
    operation_id: str | None = None
    project_id: int | None = None
    error: Any = None
    rule: str | None = None  # which layer refused it (see VIOLATIONS), else None
    warnings: list[str] = field(default_factory=list)
    fault: str | None = None  # the fault rule that answered, if any

    @property
    def violation(self) -> bool:
        return self.rule in VIOLATIONS

    def to_json(self) -> dict[str, Any]:
        moment = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {**asdict(self), "time": moment, "violation": self.violation}


class Journal:
    """A bounded, thread-safe list of entries with filters."""

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def find(
        self,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        violation: bool | None = None,
        since: int | None = None,
    ) -> list[Entry]:
        """Entries matching every filter given: ``path`` is a substring, ``since`` an entry id."""
        return list(_select(self.entries(), method, path, operation, status, violation, since))


def _select(
    entries: Iterable[Entry],
    method: str | None,
    path: str | None,
    operation: str | None,
    status: int | None,
    violation: bool | None,
    since: int | None,
) -> Iterable[Entry]:
    for entry in entries:
        if method and entry.method != method.upper():
            continue
        if path and path not in entry.path:
            continue
        if operation and entry.operation_id != operation:
            continue
        if status is not None and entry.status != status:
            continue
        if violation is not None and entry.violation != violation:
            continue
        if since is not None and entry.id <= since:
            continue
        yield entry
