"""The request log of ``mockhog serve``: one line per request, as text or as JSON.

A WSGI middleware around the app sees every request (the API, the control plane, CORS preflights);
a journal listener adds what the API layer knew about it: the operationId and, for a refused
request, the rule it broke. Secrets never reach the line: the query string goes through the
journal's redaction, and a key the request presented is masked wherever it would appear.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import parse_qs, unquote_plus

from .journal import REDACTED, Entry, Journal, redact

FORMATS = ("text", "json")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestLog:
    """Wraps a WSGI app; writes one line to ``stream`` when each response is done."""

    def __init__(self, app: WsgiApp, journal: Journal, stream: IO[str], log_format: str = "text") -> None:
        if log_format not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
        self._app = app
        self._stream = stream
        self._format = log_format
        self._write_lock = threading.Lock()
        self._current = threading.local()  # the journal entry of the request this thread serves
        journal.listeners.append(self.recorded)

    def recorded(self, entry: Entry) -> None:
        """The journal listener: keeps the entry for the line this thread will write."""
        self._current.entry = entry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        self._current.entry = None
        seen: dict[str, Any] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *args)

        body = self._app(environ, recording_start_response)
        entry = self._current.entry
        self._current.entry = None
        return _Closing(body, lambda: self._write(environ, seen.get("status"), started, entry))

    def _write(
        self, environ: dict[str, Any], status: int | None, started: float, entry: Entry | None
    ) -> None:
        record = describe(environ, status, (time.perf_counter() - started) * 1000, entry)
        line = json.dumps(record, ensure_ascii=False) if self._format == "json" else as_text(record)
        for secret in _presented_keys(environ):
            line = line.replace(secret, REDACTED)
        with self._write_lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class _Closing:
    """The response body, calling ``done`` once the server has sent it (or given up on it)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def describe(
    environ: dict[str, Any], status: int | None, duration_ms: float, entry: Entry | None
) -> dict[str, Any]:
    """The log record of one request: what the client sent and what it got."""
    query = _redacted_query(environ.get("QUERY_STRING", ""))
    record: dict[str, Any] = {
        "time": datetime.fromtimestamp(time.time() - duration_ms / 1000, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%f"
        )[:-3]
        + "Z",
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", "") + ("?" + query if query else ""),
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "operation_id": entry.operation_id if entry else None,
        "rule": entry.rule if entry else None,
        "violation": entry.violation if entry else False,
        "detail": _detail(entry.error) if entry and entry.rule else None,
    }
    if entry and entry.fault:
        record["fault"] = entry.fault
    return record


def as_text(record: dict[str, Any]) -> str:
    """``time METHOD path status duration operationId [rule: detail]``, space separated."""
    parts = [
        record["time"],
        record["method"],
        record["path"],
        str(record["status"]),
        f"{record['duration_ms']}ms",
        record["operation_id"] or "-",
    ]
    if record["rule"]:
        refused = "refused by" if record["violation"] else "answered by"
        parts.append(
            f"{refused} {record['rule']}: {record['detail']}" if record["detail"] else record["rule"]
        )
    if record.get("fault"):
        parts.append(f"(fault {record['fault']})")
    return " ".join(parts)


def _redacted_query(raw: str) -> str:
    """The query string as sent, with the value of every secret-looking parameter masked."""
    pairs = []
    for pair in raw.split("&") if raw else []:
        name, sep, value = pair.partition("=")
        if sep and redact({unquote_plus(name): value})[unquote_plus(name)] == REDACTED:
            value = REDACTED
        pairs.append(name + sep + value)
    return "&".join(pairs)


def _detail(error: Any) -> str | None:
    """PostHog's error detail; about a secret-looking field, the values it quotes are masked."""
    if not isinstance(error, dict) or not isinstance(error.get("detail"), str):
        return None
    attr = error.get("attr")
    if isinstance(attr, str) and redact({attr: "x"})[attr] == REDACTED:
        return _QUOTED.sub(REDACTED, error["detail"])
    return error["detail"]


def _presented_keys(environ: dict[str, Any]) -> list[str]:
    """The credentials the request carried in its headers or query string."""
    found = []
    for header in ("HTTP_AUTHORIZATION", "HTTP_X_MOCKHOG_ADMIN_TOKEN"):
        value = environ.get(header, "")
        found.append(value.split(" ", 1)[1] if value.startswith("Bearer ") else value)
    found.extend(parse_qs(environ.get("QUERY_STRING", "")).get("personal_api_key", []))
    return [value.strip() for value in found if len(value.strip()) >= 4]
