"""The request journal: what each request asked, what it got, and which contract rule it broke.

Bounded in memory, by entries and by bytes (oldest entries drop first): a body or error larger than
the per-entry limit is kept as the start of its JSON text with a marker, and nesting deeper than
``MAX_DEPTH`` is cut with a marker. Secrets never enter it: authorization headers are not recorded
and secret-looking fields are masked wherever they appear in a body.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import orjson

REDACTED = "[redacted]"
MAX_DEPTH = 64  # levels of a body the journal keeps (orjson renders up to 255)
TOO_DEEP = f"[mockhog: nested deeper than {MAX_DEPTH} levels, not kept]"
DEFAULT_ENTRIES = 10_000
DEFAULT_BYTES = 64 * 1024 * 1024  # the whole journal
DEFAULT_BODY_BYTES = 64 * 1024  # one body or error as the journal keeps it
ENTRY_OVERHEAD = 512  # bytes an entry costs beside its body, error, path and query (roughly)
_SECRET_NAME = re.compile(
    r"(password|secret|token|api_key|apikey|private_key|credential|^value$|^key$|authorization)", re.I
)
# Which layer refused a request. These are contract violations: PostHog would refuse it too, for
# a reason the client's code can fix. "rule" (a resource's own check) and "not_found" are answers.
VIOLATIONS = ("route", "auth", "scope", "project", "parse", "schema", "strict", "response_schema")


def redact(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of a JSON value with every secret-looking field's value masked.

    Iterative, so no nesting can exhaust the stack; containers deeper than ``max_depth`` become
    the ``TOO_DEEP`` marker."""
    root: list[Any] = [None]
    pending: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while pending:
        source, target, slot, depth = pending.pop()
        if isinstance(source, dict | list) and depth > max_depth:
            target[slot] = TOO_DEEP
        elif isinstance(source, dict):
            copy: dict[Any, Any] = {}
            target[slot] = copy
            for key, item in source.items():
                if _SECRET_NAME.search(str(key)) and item is not None and item != "":
                    copy[key] = REDACTED
                else:
                    copy[key] = None
                    pending.append((item, copy, key, depth + 1))
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            target[slot] = items
            pending.extend((item, items, index, depth + 1) for index, item in enumerate(source))
        else:
            target[slot] = source
    return root[0]


def bounded(value: Any, limit: int = DEFAULT_BODY_BYTES) -> tuple[Any, int]:
    """``value`` redacted as the journal keeps it, and what it costs in bytes.

    Past ``limit`` bytes of JSON, what is kept is the start of the JSON text and a marker saying how
    large the whole was."""
    if value is None:
        return None, 0
    kept = redact(value)
    text = _json_bytes(kept)
    if len(text) <= limit:
        return kept, len(text)
    start = text[:limit].decode("utf-8", "ignore")
    return f"{start}... [mockhog: truncated, {len(text)} bytes of JSON, {limit} kept]", limit + 80


def _json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: json writes it (depth is capped, so no recursion)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(slots=True)
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
    size: int = field(default=ENTRY_OVERHEAD, repr=False, compare=False)  # bytes, for the bound

    @property
    def violation(self) -> bool:
        return self.rule in VIOLATIONS

    def to_json(self) -> dict[str, Any]:
        moment = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "size"}
        return {**shown, "query": dict(self.query), "warnings": list(self.warnings), "time": moment,
                "violation": self.violation}  # fmt: skip


class Journal:
    """A thread-safe list of entries with filters, bounded by entries and by bytes."""

    def __init__(
        self,
        limit: int = DEFAULT_ENTRIES,
        max_bytes: int = DEFAULT_BYTES,
        body_limit: int = DEFAULT_BODY_BYTES,
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.body_limit = min(body_limit, max_bytes)
        self._entries: deque[Entry] = deque()
        self._bytes = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # Called with each entry as it is recorded, on the thread that served the request.
        self.listeners: list[Callable[[Entry], None]] = []

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._bytes += entry.size
            while len(self._entries) > self.limit or (
                self._bytes > self.max_bytes and len(self._entries) > 1
            ):
                self._bytes -= self._entries.popleft().size
        for listener in self.listeners:
            listener(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def resize(self, max_bytes: int) -> None:
        """A new bound in bytes (per-entry bodies keep at most a sixteenth of it, up to 64 KiB)."""
        with self._lock:
            self.max_bytes = max_bytes
            self.body_limit = min(DEFAULT_BODY_BYTES, max(max_bytes // 16, 256))
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                self._bytes -= self._entries.popleft().size

    @property
    def bytes(self) -> int:
        """What the kept entries cost, as the bound counts it."""
        return self._bytes

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
