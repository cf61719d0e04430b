"""Logs: PostHog's LogsQuery over seeded OpenTelemetry log rows.

``POST logs/query`` filters by date range (ISO or relative to now), severity, service, a search
term and property filters (``filterGroup``: a flat list of filters, as PostHog's own CLI sends it,
or a nested AND/OR group), orders by time and pages with a cursor, as
products/logs/backend/api.py (``LogsViewSet.query``) does.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import errors
from ..store import Record
from .base import Call, Resource, iso, quirk

DEFAULT_LIMIT = 1000
MAX_LIMIT = 2000
# What the export endpoint will produce at most; the query answer states it.
MAX_EXPORTABLE_LOGS = 10_000
# OpenTelemetry SeverityNumber of each level's first step.
SEVERITY_NUMBERS = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
# How often each level shows up in a healthy production service.
SEVERITY_WEIGHTS = {"trace": 4, "debug": 15, "info": 55, "warn": 14, "error": 10, "fatal": 2}
_RELATIVE = re.compile(r"^-?(\d+)([sMhdwmqy])$")
_UNIT_SECONDS = {"s": 1, "M": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_MONTHS = {"m": 1, "q": 3, "y": 12}


class Logs(Resource):
    key_field = "uuid"

    @quirk("logs_query_create")
    def query(self, call: Call) -> Any:
        raw = call.body.get("query")
        if raw is None:
            raise errors.BareError(400, {"error": "No query provided"})
        if not isinstance(raw.get("dateRange"), dict):
            raise errors.parse_error(_date_range_error(raw.get("dateRange")))
        query = normalise(raw)
        start, end = (
            resolve_date(query["dateRange"][name], call.now, f"query__dateRange__{name}")
            for name in ("date_from", "date_to")
        )
        cursor = _decode_cursor(query["after"]) if query.get("after") else None
        rows = [row for row in self.table(call).values() if matches(query, row, start, end)]
        newest_first = query["orderBy"] == "latest"
        rows.sort(key=_position, reverse=newest_first)
        if cursor:
            rows = [
                row for row in rows if (_position(row) < cursor if newest_first else _position(row) > cursor)
            ]
        # PostHog asks its runner for one row more than the page to learn whether there is more,
        # and echoes that limit.
        requested = query["limit"] - 1
        page = rows[:requested]
        has_more = len(rows) > requested
        return {
            "query": query,
            "results": [_present(row) for row in page],
            "hasMore": has_more,
            "nextCursor": _encode_cursor(page[-1]) if has_more and page else None,
            "maxExportableLogs": MAX_EXPORTABLE_LOGS,
        }

    def seed(self, ctx: Any) -> list[Record]:
        setup = ctx.profile["logs"]
        severities = setup["severities"]
        weights = [SEVERITY_WEIGHTS.get(level, 1) for level in severities]
        services = {name: _service_resource(ctx, name) for name in setup["services"]}
        ctx = dataclasses.replace(ctx, faker=_Vocabulary(ctx))
        records = []
        for _ in range(setup["count"]):
            service = ctx.rng.choice(setup["services"])
            level = ctx.rng.choices(severities, weights)[0]
            records.append(_seed_row(ctx, service, services[service], level))
        return records


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """The query as PostHog echoes it: every field present, an unknown order as ``latest``, the
    filters as a nested group, the limit capped and one more than the page, None fields left out."""
    date_range = raw["dateRange"]
    limit = raw.get("limit")
    query = {
        "kind": "LogsQuery",
        "dateRange": {"date_from": date_range.get("date_from"), "date_to": date_range.get("date_to")},
        "severityLevels": list(raw.get("severityLevels") or []),
        "serviceNames": list(raw.get("serviceNames") or []),
        "orderBy": raw.get("orderBy") if raw.get("orderBy") in ("latest", "earliest") else "latest",
        "searchTerm": raw.get("searchTerm"),
        "filterGroup": _filter_group(raw.get("filterGroup")),
        "limit": min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT) + 1,
        "after": raw.get("after"),
    }
    return {k: v for k, v in query.items() if v is not None}


def _filter_group(raw: Any) -> dict[str, Any]:
    """A flat list of filters becomes one AND group inside the outer AND, as PostHog nests it."""
    if isinstance(raw, list):
        return {"type": "AND", "values": [{"type": "AND", "values": raw}] if raw else []}
    if isinstance(raw, dict):
        return raw
    return {"type": "AND", "values": []}


def _date_range_error(value: Any) -> str:
    """PostHog validates the date range with pydantic and answers its message as a parse error."""
    shown = "None" if value is None else repr(value)
    return (
        "JSON parse error - 1 validation error for DateRange\n  Input should be a valid dictionary or "
        f"instance of DateRange [type=model_type, input_value={shown}, "
        f"input_type={type(value).__name__}]"
    )


def matches(query: dict[str, Any], row: Record, start: datetime | None, end: datetime | None) -> bool:
    moment = _parse_iso(row["timestamp"])
    tests: list[Callable[[], bool]] = [
        lambda: start is None or moment >= start,
        lambda: end is None or moment <= end,
        lambda: not query["severityLevels"] or row["severity_text"] in query["severityLevels"],
        lambda: (
            not query["serviceNames"] or row["resource_attributes"]["service.name"] in query["serviceNames"]
        ),
        lambda: not query.get("searchTerm") or query["searchTerm"].lower() in row["body"].lower(),
        lambda: _group_matches(query["filterGroup"], row),
    ]
    return all(test() for test in tests)


def _group_matches(group: dict[str, Any], row: Record) -> bool:
    """A property group (``{"type": "AND"|"OR", "values": [...]}``) or one filter, on one row."""
    if "values" not in group or "key" in group:
        return _filter_matches(group, row)
    results = (_group_matches(member, row) for member in group["values"])
    return any(results) if group.get("type") == "OR" else all(results)


# A "log" filter's key names a column of the row; "message" is the body.
_LOG_COLUMNS: dict[str, Callable[[Record], Any]] = {
    "message": lambda row: row["body"],
    "severity_level": lambda row: row["severity_text"],
    "service_name": lambda row: row["resource_attributes"].get("service.name"),
    "trace_id": lambda row: row["trace_id"],
    "span_id": lambda row: row["span_id"],
}


def _filter_value(flt: dict[str, Any], row: Record) -> Any:
    kind, key = flt.get("type"), flt.get("key")
    if kind == "log_attribute":
        return row["attributes"].get(key)
    if kind == "log_resource_attribute":
        return row["resource_attributes"].get(key)
    column = _LOG_COLUMNS.get(str(key))
    return column(row) if column else row["attributes"].get(key)


def _filter_matches(flt: dict[str, Any], row: Record) -> bool:
    actual, operator, wanted = _filter_value(flt, row), flt.get("operator", "exact"), flt.get("value")
    if operator == "is_set":
        return actual is not None
    if operator == "is_not_set":
        return actual is None
    if actual is None:
        return operator.startswith(("is_not", "not_"))
    negated = operator.startswith("not_") or operator == "is_not"
    test = _OPERATORS.get(operator.removeprefix("not_").replace("is_not", "exact"))
    if test is None:
        return True
    values = wanted if isinstance(wanted, list) else [wanted]
    hit = any(_safely(test, actual, value) for value in values)
    return not hit if negated else hit


def _safely(test: Callable[[Any, Any], bool], actual: Any, wanted: Any) -> bool:
    try:
        return test(actual, wanted)
    except (TypeError, ValueError, re.error):
        return False


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda a, w: str(a) == str(w),
    "icontains": lambda a, w: str(w).lower() in str(a).lower(),
    "starts_with": lambda a, w: str(a).startswith(str(w)),
    "ends_with": lambda a, w: str(a).endswith(str(w)),
    "regex": lambda a, w: re.search(str(w), str(a)) is not None,
    "gt": lambda a, w: float(a) > float(w),
    "lt": lambda a, w: float(a) < float(w),
    "is_date_exact": lambda a, w: _parse_iso(str(a)) == _parse_iso(str(w)),
    "is_date_before": lambda a, w: _parse_iso(str(a)) < _parse_iso(str(w)),
    "is_date_after": lambda a, w: _parse_iso(str(a)) > _parse_iso(str(w)),
}


def resolve_date(value: str | None, now: datetime, attr: str) -> datetime | None:
    """An ISO date or PostHog's relative form (``-7d``: 7 days before now); None means unbounded."""
    if not value:
        return None
    relative = _RELATIVE.match(value.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        if unit in _UNIT_SECONDS:
            return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
        return _months_before(now, amount * _UNIT_MONTHS[unit])
    try:
        return _parse_iso(value.strip())
    except ValueError:
        raise errors.validation_error(f"Invalid date: {value}", attr) from None


def _months_before(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _position(row: Record) -> tuple[str, str]:
    return row["timestamp"], row["uuid"]


def _encode_cursor(row: Record) -> str:
    payload = json.dumps({"timestamp": row["timestamp"], "uuid": row["uuid"]}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def _decode_cursor(raw: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.b64decode(raw.encode(), validate=True))
        return str(data["timestamp"]), str(data["uuid"])
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise errors.validation_error("Invalid cursor", "query__after") from None


def _present(row: Record) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


# -- seed ------------------------------------------------------------------------------------------
def _service_resource(ctx: Any, service: str) -> dict[str, str]:
    """The OpenTelemetry resource every log line of one service carries."""
    return {
        "service.name": service,
        "service.version": f"1.{ctx.rng.randint(0, 40)}.{ctx.rng.randint(0, 9)}",
        "deployment.environment": "production",
        "host.name": f"{service}-{ctx.faker.hexify('^^^^^^^^^^')}-{ctx.faker.lexify('?????').lower()}",
        "k8s.namespace.name": "hedgebox",
    }


class _Vocabulary:
    """The few Faker values log lines use, drawn once: 600 rows of fresh Faker calls would be a
    third of mockhog's start-up."""

    def __init__(self, ctx: Any, size: int = 24) -> None:
        faker, self._rng = ctx.faker, ctx.rng
        self._pools = {
            name: [getattr(faker, name)() for _ in range(size)]
            for name in ("word", "uri_path", "file_name", "email", "hostname")
        }

    def __getattr__(self, name: str) -> Any:
        pool = self._pools[name]
        return lambda: self._rng.choice(pool)


def _seed_row(ctx: Any, service: str, resource: dict[str, str], level: str) -> Record:
    body, attributes = MESSAGES.get(level, _info)(ctx)
    moment = datetime.fromisoformat(ctx.moment(7).replace("Z", "+00:00"))
    observed = moment + timedelta(milliseconds=ctx.rng.randint(1, 400))
    return {
        "uuid": ctx.uuid(),
        "trace_id": f"{ctx.rng.getrandbits(128):032x}",
        "span_id": f"{ctx.rng.getrandbits(64):016x}",
        "body": body,
        "attributes": attributes,
        "timestamp": iso(moment),
        "observed_timestamp": iso(observed),
        "severity_text": level,
        "severity_number": SEVERITY_NUMBERS.get(level, 0),
        "level": level,
        "resource_attributes": resource,
        "instrumentation_scope": f"hedgebox.{service.replace('-', '_')}",
        "event_name": "",
    }


def _request(ctx: Any) -> tuple[str, dict[str, Any]]:
    method = ctx.rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE"])
    path = "/" + ctx.faker.uri_path()
    status = ctx.rng.choice([200, 200, 200, 201, 204, 304])
    millis = ctx.rng.randint(3, 450)
    attributes = {
        "http.method": method,
        "http.route": path,
        "http.status_code": status,
        "duration_ms": millis,
    }
    return f"{method} {path} {status} {millis}ms", attributes


def _trace(ctx: Any) -> tuple[str, dict[str, Any]]:
    handler = f"{ctx.faker.word()}_{ctx.faker.word()}"
    return f"Entering {handler} handler", {"code.function": handler}


def _debug(ctx: Any) -> tuple[str, dict[str, Any]]:
    if ctx.rng.random() < 0.5:
        key = f"user:{ctx.rng.randint(1, 9999)}:{ctx.faker.word()}"
        return f"Cache hit for key {key}", {"cache.key": key}
    table, millis = f"{ctx.faker.word()}s", ctx.rng.randint(1, 80)
    return f"Query on {table} executed in {millis}ms", {"db.table": table, "duration_ms": millis}


def _info(ctx: Any) -> tuple[str, dict[str, Any]]:
    if ctx.rng.random() < 0.6:
        return _request(ctx)
    name, email = ctx.faker.file_name(), ctx.faker.email()
    size = ctx.rng.randint(1, 80000)
    return f"Uploaded {name} ({size} KB) for {email}", {"file.name": name, "user.email": email}


def _warn(ctx: Any) -> tuple[str, dict[str, Any]]:
    if ctx.rng.random() < 0.5:
        host, attempt = ctx.faker.hostname(), ctx.rng.randint(1, 4)
        return f"Retrying request to {host} (attempt {attempt}/5)", {
            "peer.host": host,
            "retry.attempt": attempt,
        }
    body, attributes = _request(ctx)
    slow = ctx.rng.randint(1500, 9000)
    return f"Slow request: {body.rsplit(' ', 1)[0]} {slow}ms", {**attributes, "duration_ms": slow}


def _error(ctx: Any) -> tuple[str, dict[str, Any]]:
    if ctx.rng.random() < 0.5:
        email = ctx.faker.email()
        return f"Payment failed for {email}: card declined", {"user.email": email, "error.type": "CardError"}
    peer = ctx.faker.hostname()
    return f"ConnectionResetError while talking to {peer}", {
        "error.type": "ConnectionResetError",
        "peer.host": peer,
    }


def _fatal(ctx: Any) -> tuple[str, dict[str, Any]]:
    worker = ctx.rng.randint(1, 32)
    return f"Out of memory: worker {worker} killed", {"process.pid": 1000 + worker}


MESSAGES: dict[str, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    "trace": _trace,
    "debug": _debug,
    "info": _info,
    "warn": _warn,
    "error": _error,
    "fatal": _fatal,
}
