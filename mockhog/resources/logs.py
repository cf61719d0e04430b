"""Logs: PostHog's LogsQuery over seeded OpenTelemetry log rows.

``POST logs/query`` filters by date range (ISO or relative to now), severity, service, a search
term and property filters (``filterGroup``: a flat list of filters, as PostHog's own CLI sends it,
or a nested AND/OR group), orders by time and pages with a cursor, as
products/logs/backend/api.py (``LogsViewSet.query``) does. The aggregations beside it (count,
count-ranges, facet values, services, patterns, sparkline) and the attribute suggestions
(``attributes/``, ``values/``) count the same stored rows.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import errors
from ..store import Record
from . import log_patterns
from .base import Call, Resource, iso, quirk

DEFAULT_LIMIT = 1000
MAX_LIMIT = 2000
# What the export endpoint will produce at most; the query answer states it.
MAX_EXPORTABLE_LOGS = 10_000
# OpenTelemetry SeverityNumber of each level's first step.
SEVERITY_NUMBERS = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
# How often each level shows up in a healthy production service.
SEVERITY_WEIGHTS = {"trace": 4, "debug": 15, "info": 55, "warn": 14, "error": 10, "fatal": 2}
DEFAULT_TARGET_BUCKETS = 10
MAX_TARGET_BUCKETS = 100
# The bucket widths CountRangesQueryRunner picks from (1/5/10s, 1/2/5/10/15/30/60/120/240/360/720/1440m).
BUCKET_SECONDS = (1, 5, 10, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
FACET_FIELDS = frozenset({"severity_text", "service_name"})
MAX_SERVICES = 10_000
SPARKLINE_SERVICES = 25
TOP_SERVICES = 5
# LogAttributesQueryRunner / LogValuesQueryRunner read log_attributes, rolled up per 10 minutes.
ATTRIBUTE_BUCKET = timedelta(minutes=10)
ATTRIBUTES_LIMIT = 100
# A value search (search_values) needs a term at least this long, else keys only are searched.
MIN_VALUE_SEARCH_LENGTH = 4
# LogsQueryRunnerMixin.BUCKET_TARGET: the sparkline's width is the listed one nearest window / 50.
SPARKLINE_BUCKET_TARGET = 50
SPARKLINE_TOP_VALUES = 10
SPARKLINE_ROW_LIMIT = 1000
# posthog/hogql_queries/insights/utils/breakdowns.py BREAKDOWN_OTHER_STRING_LABEL
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
SPARKLINE_BREAKDOWNS = {"severity": "severity_text", "service": "service_name"}
# QueryDateRange's range when a date range names no start: from midnight seven days back.
DEFAULT_DATE_FROM_DAYS = 7
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

    @quirk("logs_count_create")
    def count(self, call: Call) -> Any:
        """LogsViewSet.count (products/logs/backend/presentation/views/api.py): CountQueryRunner's
        ``count()`` of the rows the filters match, the range defaulting to the last hour."""
        query, start, end = self._filters(call)
        return {"count": len(self._matching(call, query, start, end))}

    @quirk("logs_count_ranges_create")
    def count_ranges(self, call: Call) -> Any:
        """LogsViewSet.count_ranges / CountRangesQueryRunner: counts per bucket of the listed width
        nearest the window split into ``targetBuckets`` (1..100, default 10; ``pick_interval``), buckets
        ascending with explicit Z-suffixed bounds, empty ones left out."""
        query, start, end = self._filters(call)
        raw_target = self._query_data(call).get("targetBuckets", DEFAULT_TARGET_BUCKETS)
        target = max(1, min(int(raw_target), MAX_TARGET_BUCKETS))
        rows = self._matching(call, query, start, end)
        window_end = end or call.now
        window_start = start or window_end - timedelta(hours=1)
        window = window_end - window_start
        step = pick_interval(window, target)
        counts = bucket_counts(rows, step)
        ranges = [
            {"date_from": _utc_z(bucket), "date_to": _utc_z(bucket + step), "count": n}
            for bucket, n in sorted(counts.items())
        ]
        return {"ranges": ranges, "interval": interval_name(step, window / target)}

    @quirk("logs_facet_values_create")
    def facet_values(self, call: Call) -> Any:
        """LogsViewSet.facet_values / LogFacetValuesQueryRunner: counts per value of one facet
        (a top-level column, a resource attribute or a log attribute) under every active filter
        but the facet's own, most frequent first."""
        data = self._query_data(call)
        field, resource_key, log_key = (
            data.get("facetField"),
            data.get("facetResourceAttribute"),
            data.get("facetAttribute"),
        )
        if sum(1 for target in (field, resource_key, log_key) if target) != 1:
            raise errors.parse_error(
                "Provide exactly one of facetField, facetResourceAttribute or facetAttribute"
            )
        if field and field not in FACET_FIELDS:
            raise errors.parse_error(f"facetField must be one of {sorted(FACET_FIELDS)}")
        query, start, end = self._filters(call)
        if field == "severity_text":
            query["severityLevels"] = []
        elif field == "service_name":
            query["serviceNames"] = []
        elif resource_key:
            query["filterGroup"] = _without(
                query["filterGroup"],
                lambda f: f.get("type") == "log_resource_attribute" and f.get("key") == resource_key,
            )
        else:
            # A log-attribute facet honours severity, service and resource filters only.
            query.pop("searchTerm", None)
            query["filterGroup"] = _without(
                query["filterGroup"], lambda f: f.get("type") != "log_resource_attribute"
            )
        values: dict[str, int] = {}
        for row in self._matching(call, query, start, end):
            value = _facet_value(row, field, resource_key, log_key)
            if value is not None:
                values[str(value)] = values.get(str(value), 0) + 1
        needle = str(data.get("facetSearch") or "").lower()
        ranked = sorted(
            ((value, n) for value, n in values.items() if needle in value.lower()),
            key=lambda item: (-item[1], item[0]),
        )
        return {"results": [{"value": value, "count": n} for value, n in ranked]}

    @quirk("logs_services_create")
    def services(self, call: Call) -> Any:
        """LogsViewSet.services / ServicesQueryRunner, in _LogsServicesResponseSerializer's shape:
        per-service volume, errors (error and fatal) and coarse severity counts, noisiest first;
        a per-service sparkline of the top 25; the true service count; the top 5's share. The
        range is required here (the view reads it with get_model, no default)."""
        data = self._query_data(call)
        if not isinstance(data.get("dateRange"), dict):
            raise errors.parse_error(_date_range_error(data.get("dateRange")))
        query, start, end = self._filters(call)
        search = str(data.get("serviceNameSearch") or "").lower()
        rows = [row for row in self._matching(call, query, start, end) if search in _service(row).lower()]
        by_service: dict[str, list[Record]] = {}
        for row in rows:
            by_service.setdefault(_service(row), []).append(row)
        ranked = sorted(by_service.items(), key=lambda item: (-len(item[1]), item[0]))
        total = len(rows)
        services = [_service_aggregate(name, members, total) for name, members in ranked[:MAX_SERVICES]]
        window_end = end or call.now
        step = pick_interval(window_end - (start or window_end - timedelta(hours=1)), DEFAULT_TARGET_BUCKETS)
        sparkline = [
            {"time": _utc_z(bucket), "service_name": name, "count": n}
            for name, members in ranked[:SPARKLINE_SERVICES]
            for bucket, n in sorted(bucket_counts(members, step).items())
        ]
        top = ranked[:TOP_SERVICES]
        return {
            "services": services,
            "sparkline": sorted(sparkline, key=lambda b: (b["time"], b["service_name"])),
            "total_services": len(by_service),
            "summary": {
                "top_services_count": len(top),
                "top_services_volume_share_pct": _share(sum(len(m) for _, m in top), total),
            },
        }

    @quirk("logs_patterns_create")
    def patterns(self, call: Call) -> Any:
        """LogsViewSet.patterns / PatternsQueryRunner: templates mined from the bodies of the rows
        the filters select in [date_from, date_to), the range defaulting to the last hour
        (mockhog.resources.log_patterns says how)."""
        query, start, end = self._filters(call)
        return self._mined(call, query, start, end or call.now)

    @quirk("logs_patterns_diff_create")
    def patterns_diff(self, call: Call) -> Any:
        """LogsViewSet.patterns_diff / run_patterns_diff: the query's window mined against a
        baseline, by default the same window a week earlier; each window's metadata."""
        query, start, end = self._filters(call)
        end = end or call.now
        start = start or end - timedelta(hours=1)
        raw = call.body.get("baselineDateRange") if isinstance(call.body, dict) else None
        if raw:
            if not isinstance(raw, dict):
                raise errors.parse_error(_date_range_error(raw))
            base_start = resolve_date(raw.get("date_from"), call.now, "baselineDateRange__date_from")
            base_end = resolve_date(raw.get("date_to"), call.now, "baselineDateRange__date_to") or call.now
            base_start = base_start or base_end - timedelta(hours=1)
        else:
            base_start, base_end = start - timedelta(days=7), end - timedelta(days=7)
        current = self._mined(call, query, start, end)
        baseline = self._mined(call, query, base_start, base_end)
        entries = log_patterns.diff(
            current["patterns"], baseline["patterns"], (start, end), (base_start, base_end)
        )
        return {
            "entries": entries,
            "current": _window_meta(current, start, end),
            "baseline": _window_meta(baseline, base_start, base_end),
        }

    @quirk("logs_attributes_retrieve")
    def attributes(self, call: Call) -> Any:
        """LogsViewSet.attributes / LogAttributesQueryRunner: the attribute keys of one type
        (``attribute_type`` ``log``, else ``resource``) the selected rows carry, matching ``search``
        (a case-insensitive substring), ordered exact match first, then a match of a whole word of
        the key, then by how many rows carry it, then by name; ``count`` is every matching key.
        With ``search_values`` and a term of 4 characters or more, keys whose values match follow
        the keys whose names do (``matchedOn`` "value" with the most frequent matching value)."""
        search = str(call.query.get("search") or "")
        scope = _AttributeScope.read(call, columns=True)
        totals, values = _attribute_counts(self._scoped(call, scope), scope.attribute_type)
        needle = search.lower()
        exact = _key_order(search)
        keys = sorted(
            (key for key in totals if needle in key.lower()), key=lambda k: (*exact(k), -totals[k], k)
        )
        kind = "log_resource_attribute" if scope.attribute_type == "resource" else "log_attribute"
        if not (_truthy(call.query.get("search_values")) and len(search) >= MIN_VALUE_SEARCH_LENGTH):
            page = keys[scope.offset : scope.offset + scope.limit] if scope.limit > 0 else []
            results = [{"name": key, "propertyFilterType": kind, "matchedOn": "key"} for key in page]
            return {"results": results, "count": max(len(keys) - scope.offset, 0) + scope.offset}
        by_value = []
        for key, counted in values.items():
            if needle in key.lower():
                continue
            hits = {value: n for value, n in counted.items() if needle in value.lower()}
            if hits:
                sample = min(hits, key=lambda value: (-hits[value], value))
                by_value.append((key, sample, sum(hits.values())))
        by_value.sort(key=lambda item: (*exact(item[0]), -item[2], item[0]))
        entries = [{"name": key, "propertyFilterType": kind, "matchedOn": "key"} for key in keys]
        for key, sample, _ in by_value:
            entry = {"name": key, "propertyFilterType": kind, "matchedOn": "value"}
            entries.append({**entry, "matchedValue": sample} if sample else entry)
        page = entries[scope.offset : scope.offset + scope.limit] if scope.limit > 0 else []
        # The runner does not count the value search: the page plus the offset is its lower bound.
        return {"results": page, "count": len(page) + scope.offset}

    @quirk("logs_values_retrieve")
    def values(self, call: Call) -> Any:
        """LogsViewSet.values / LogValuesQueryRunner: the distinct values of one attribute
        (``key``, required: else 400 with the bare JSON string "key is required") over the selected
        rows, most frequent first then by value, ``value`` an ILIKE pattern (``%`` and ``_`` are
        wildcards, as the runner does not escape them) inside ``%...%``; limit 100, offset."""
        key = str(call.query.get("key") or "")
        if not key:
            raise errors.BareError(400, "key is required")
        scope = _AttributeScope.read(call, columns=False)
        wanted = _ilike(f"%{call.query.get('value') or ''}%")
        counts: dict[str, int] = {}
        for row in self._scoped(call, scope):
            value = _source(row, scope.attribute_type).get(key)
            if value is not None and wanted(_as_text(value)):
                counts[_as_text(value)] = counts.get(_as_text(value), 0) + 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        page = ranked[scope.offset : scope.offset + scope.limit] if scope.limit > 0 else []
        return {"results": [{"id": v, "name": v, "count": n} for v, n in page], "refreshing": False}

    @quirk("logs_sparkline_create")
    def sparkline(self, call: Call) -> Any:
        """LogsViewSet.sparkline / SparklineQueryRunner: a bare list of buckets ``{time, severity
        or service, count, bytes_uncompressed}`` over the window (no dateRange: the last hour), the
        width the listed one nearest a fiftieth of it, every bucket of the window present (an empty
        one as a single "(no value)" row of 0), ordered by time then value; the 10 values with the
        most rows (or bytes, ``sparklineRankBy``) keep their own rows, the rest are summed as
        PostHog's "other" label; at most 1000 rows."""
        data = self._query_data(call)
        field = SPARKLINE_BREAKDOWNS[data.get("sparklineBreakdownBy") or "severity"]
        by_bytes = data.get("sparklineRankBy") == "bytes"
        query, start, end = self._filters(call)
        end = end or call.now
        start = start or _default_start(call.now)
        step = pick_interval(end - start, SPARKLINE_BUCKET_TARGET)
        first, last = _floor(start, step), _floor(max(start, end - timedelta(seconds=1)), step)
        spine = [first + step * i for i in range(int((_floor(end, step) - first) / step) + 1)]
        spine = [bucket for bucket in spine if bucket <= max(first, last)]
        cells: dict[tuple[datetime, str], list[int]] = {}
        for row in self._matching(call, query, None, None):
            bucket = _floor(_parse_iso(row["timestamp"]), step)
            if first <= bucket <= end:
                cell = cells.setdefault((bucket, _breakdown_value(row, field)), [0, 0])
                cell[0] += 1
                cell[1] += _row_bytes(row)
        totals: dict[str, int] = {}
        for (_, value), (n, size) in cells.items():
            totals[value] = totals.get(value, 0) + (size if by_bytes else n)
        top = set(sorted(totals, key=lambda value: (-totals[value], value))[:SPARKLINE_TOP_VALUES])
        folded: dict[tuple[datetime, str], list[int]] = {}
        for (bucket, value), (n, size) in cells.items():
            cell = folded.setdefault((bucket, value if value in top else BREAKDOWN_OTHER), [0, 0])
            cell[0] += n
            cell[1] += size
        key = "service" if field == "service_name" else "severity"
        rows = []
        for bucket in spine:
            present = sorted((value, cell) for (at, value), cell in folded.items() if at == bucket)
            for value, (n, size) in present or [("", [0, 0])]:
                label = value or "(no value)"
                rows.append({"time": _utc_z(bucket), key: label, "count": n, "bytes_uncompressed": size})
        return rows[:SPARKLINE_ROW_LIMIT]

    def _scoped(self, call: Call, scope: _AttributeScope) -> list[Record]:
        """The rows an attribute runner reads: the 10-minute buckets of the window, the services,
        and the filters it honours (all ANDed, as LogsFilterBuilder flattens the group)."""
        rows = []
        for row in self.table(call).values():
            bucket = _floor(_parse_iso(row["timestamp"]), ATTRIBUTE_BUCKET)
            if not scope.first <= bucket <= scope.last:
                continue
            if scope.service_names and _service_name(row) not in scope.service_names:
                continue
            if all(_filter_matches(flt, row) for flt in scope.filters):
                rows.append(row)
        return rows

    def _mined(
        self, call: Call, query: dict[str, Any], start: datetime | None, end: datetime
    ) -> dict[str, Any]:
        rows = [
            row
            for row in self._matching(call, query, start, end)
            if _parse_iso(row["timestamp"]) < end  # the runner's window is half-open
        ]
        rows.sort(key=_position)
        samples = [
            log_patterns.Sample(
                row["body"], row["severity_text"], _service(row), _parse_iso(row["timestamp"])
            )
            for row in rows
        ]
        kept, sampled = log_patterns.sample_rows(samples, [row["uuid"] for row in rows])
        first = start or (samples[0].timestamp if samples else end - timedelta(hours=1))
        return log_patterns.mine(kept, len(samples), (first, end), sampled)

    def _query_data(self, call: Call) -> dict[str, Any]:
        data = (call.body or {}).get("query", {}) if isinstance(call.body, dict) else {}
        if not isinstance(data, dict):
            # _require_dict_query: a query that is not an object is a ParseError
            raise errors.parse_error("query must be an object")
        return data

    def _filters(self, call: Call) -> tuple[dict[str, Any], datetime | None, datetime | None]:
        """_filtered_logs_query: the filters of the body's query, the range defaulting to the
        last hour where it is absent."""
        data = self._query_data(call)
        date_range = data.get("dateRange") or {"date_from": "-1h"}
        if not isinstance(date_range, dict):
            raise errors.parse_error(_date_range_error(date_range))
        query = normalise({**data, "dateRange": date_range})
        start, end = (
            resolve_date(query["dateRange"][name], call.now, f"query__dateRange__{name}")
            for name in ("date_from", "date_to")
        )
        return query, start, end

    def _matching(
        self, call: Call, query: dict[str, Any], start: datetime | None, end: datetime | None
    ) -> list[Record]:
        return [row for row in self.table(call).values() if matches(query, row, start, end)]

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
    if isinstance(raw, dict) and raw.get("type") in ("AND", "OR") and isinstance(raw.get("values"), list):
        return raw
    return {
        "type": "AND",
        "values": [],
    }  # anything else means no filters (a group without its type was echoed)


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
    try:
        if relative:
            amount, unit = int(relative.group(1)), relative.group(2)
            if unit in _UNIT_SECONDS:
                return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
            return _months_before(now, amount * _UNIT_MONTHS[unit])
        return _parse_iso(value.strip())
    except (ValueError, OverflowError):
        # an offset further back than any date is no date either
        raise errors.validation_error(f"Invalid date: {value}", attr) from None


def pick_interval(window: timedelta, target: int) -> timedelta:
    """LogsQueryRunnerMixin.query_date_range: the listed width nearest the window split into
    ``target`` buckets (the narrower on a tie)."""
    step = window.total_seconds() / target
    return timedelta(seconds=min(BUCKET_SECONDS, key=lambda width: (abs(width - step), width)))


def interval_name(step: timedelta, share: timedelta) -> str:
    """CountRangesQueryRunner._interval_short of the picked width: in seconds while the window's
    share of a bucket is under a minute (so a 60-second width is "60s"), else in minutes shown as
    hours or days where they divide evenly."""
    seconds = int(step.total_seconds())
    if share < timedelta(minutes=1):
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def bucket_counts(rows: list[Record], step: timedelta) -> dict[datetime, int]:
    """Rows per ``toStartOfInterval(timestamp, step)`` bucket (aligned to the epoch, in UTC)."""
    width = int(step.total_seconds())
    counts: dict[datetime, int] = {}
    for row in rows:
        moment = int(_parse_iso(row["timestamp"]).timestamp())
        bucket = datetime.fromtimestamp(moment - moment % width, UTC)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def _utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _service(row: Record) -> str:
    return str(row["resource_attributes"].get("service.name") or "(no service)")


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def _service_aggregate(name: str, rows: list[Record], total: int) -> dict[str, Any]:
    levels = [row["severity_text"] for row in rows]
    errors_seen = sum(1 for level in levels if level in ("error", "fatal"))
    return {
        "service_name": name,
        "log_count": len(rows),
        "error_count": errors_seen,
        "error_rate": round(errors_seen / len(rows), 4),
        "volume_share_pct": _share(len(rows), total),
        "severity_breakdown": {
            "debug": sum(1 for level in levels if level in ("trace", "debug")),
            "info": levels.count("info"),
            "warn": levels.count("warn"),
            "error": errors_seen,
        },
        "active_rules": [],
    }


def _window_meta(results: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "scanned_count": results["scanned_count"],
        "total_count": results["total_count"],
        "sampled": results["sampled"],
        "sample_coverage_pct": results["sample_coverage_pct"],
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
    }


def _facet_value(row: Record, field: str | None, resource_key: str | None, log_key: str | None) -> Any:
    if field == "severity_text":
        return row["severity_text"]
    if field == "service_name":
        return row["resource_attributes"].get("service.name")
    if resource_key:
        return row["resource_attributes"].get(resource_key)
    return row["attributes"].get(log_key)


def _without(group: dict[str, Any], drop: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The filter group with the filters ``drop`` picks taken out, at any depth."""
    if "values" not in group or "key" in group:
        return group
    kept = []
    for member in group["values"]:
        if "key" in member and drop(member):
            continue
        kept.append(_without(member, drop))
    return {**group, "values": kept}


@dataclasses.dataclass(frozen=True)
class _AttributeScope:
    """What LogsViewSet.attributes and values read from the query string, as their runners use it."""

    attribute_type: str
    limit: int
    offset: int
    first: datetime  # the first and last 10-minute bucket of log_attributes the runner reads
    last: datetime
    service_names: list[str]
    filters: list[dict[str, Any]]

    @classmethod
    def read(cls, call: Call, columns: bool) -> _AttributeScope:
        raw_range = _json_param(call, "dateRange", "{}")
        # Text that is no JSON is the last hour; JSON that is no DateRange is get_model's ParseError.
        date_range = {"date_from": "-1h"} if raw_range is _MALFORMED else _date_range_model(raw_range)
        start = resolve_date(date_range.get("date_from"), call.now, "dateRange__date_from")
        end = resolve_date(date_range.get("date_to"), call.now, "dateRange__date_to") or call.now
        start = start or _default_start(call.now)
        services = _json_param(call, "serviceNames", "[]")
        services = [] if services is _MALFORMED else services
        if not isinstance(services, list) or not all(isinstance(name, str) for name in services):
            # LogAttributesQuery(serviceNames=...) is pydantic's list[str]; PostHog lets the error through
            raise errors.validation_error("serviceNames must be a JSON list of strings.", "serviceNames")
        group = _json_param(call, "filterGroup", "{}")
        filters = _attribute_filters(None if group is _MALFORMED else group, columns)
        return cls(
            attribute_type="resource" if call.query.get("attribute_type") == "resource" else "log",
            limit=_int_param(call.query.get("limit"), ATTRIBUTES_LIMIT),
            offset=max(_int_param(call.query.get("offset"), 0), 0),
            first=_floor(start, ATTRIBUTE_BUCKET),
            last=_floor(end, ATTRIBUTE_BUCKET) + ATTRIBUTE_BUCKET,
            service_names=services,
            filters=filters,
        )


_MALFORMED = object()


def _json_param(call: Call, name: str, default: str) -> Any:
    """A query parameter the view reads with json.loads (default when absent), or _MALFORMED."""
    raw = call.query.get(name)
    try:
        return json.loads(default if raw is None else str(raw))
    except ValueError:
        return _MALFORMED


def _int_param(raw: Any, default: int) -> int:
    """``int(request.GET.get(...))``, the default where that raises ValueError."""
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw)) if raw is not None else default
    except ValueError:
        return default


def _truthy(raw: Any) -> bool:
    """``search_values``: only the text true, in any case, is true."""
    return str(raw).lower() == "true" if raw is not None else False


_DATE_RANGE_FIELDS = {"date_from": (str,), "date_to": (str,), "explicitDate": (bool,)}


def _date_range_model(value: Any) -> dict[str, Any]:
    """``get_model(value, DateRange)``: pydantic's DateRange (extra fields forbidden), its
    ValidationError as the view's ParseError."""
    if not isinstance(value, dict):
        raise errors.parse_error(_date_range_error(value))
    problems = []
    for name, item in value.items():
        if name not in _DATE_RANGE_FIELDS:
            problems.append((name, "Extra inputs are not permitted", "extra_forbidden", item))
        elif item is not None and not isinstance(item, _DATE_RANGE_FIELDS[name]):
            kind = "string" if name != "explicitDate" else "boolean"
            problems.append((name, f"Input should be a valid {kind}", f"{kind}_type", item))
    if problems:
        lines = [f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} for DateRange"]
        for name, message, code, item in problems:
            shown = f"input_value={item!r}, input_type={type(item).__name__}"
            lines += [name, f"  {message} [type={code}, {shown}]"]
        raise errors.parse_error("JSON parse error - " + "\n".join(lines))
    return value


def _attribute_filters(group: Any, columns: bool) -> list[dict[str, Any]]:
    """The filters an attribute runner honours of a PropertyGroupFilter (anything else, a flat
    list included, fails get_model and the view drops it): the resource-attribute filters of the
    last inner group (LogsFilterBuilder keeps only the last group's), and for the attributes
    runner also the severity_level and service_name column filters."""
    if not isinstance(group, dict) or group.get("type") not in ("AND", "OR"):
        return []
    inner = group.get("values")
    if not isinstance(inner, list) or not all(_is_group(member) for member in inner):
        return []
    if not inner:
        return []
    honoured = []
    for flt in inner[-1]["values"]:
        column = flt.get("type") == "log" and flt.get("key") in ("severity_level", "service_name")
        if flt.get("type") == "log_resource_attribute" or (columns and column):
            honoured.append(flt)
    return honoured


def _is_group(member: Any) -> bool:
    return (
        isinstance(member, dict)
        and member.get("type") in ("AND", "OR")
        and isinstance(member.get("values"), list)
        and all(_is_filter(flt) for flt in member["values"])
    )


def _is_filter(flt: Any) -> bool:
    return isinstance(flt, dict) and isinstance(flt.get("key"), str) and "type" in flt


def _source(row: Record, attribute_type: str) -> dict[str, Any]:
    return row["resource_attributes"] if attribute_type == "resource" else row["attributes"]


def _as_text(value: Any) -> str:
    """An attribute value as log_attributes stores it: text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value if isinstance(value, str) else str(value)


def _attribute_counts(
    rows: list[Record], attribute_type: str
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Rows per attribute key, and per key rows per value (log_attributes' attribute_count)."""
    totals: dict[str, int] = {}
    values: dict[str, dict[str, int]] = {}
    for row in rows:
        for key, value in _source(row, attribute_type).items():
            totals[key] = totals.get(key, 0) + 1
            counted = values.setdefault(key, {})
            counted[_as_text(value)] = counted.get(_as_text(value), 0) + 1
    return totals, values


def _key_order(search: str) -> Callable[[str], tuple[bool, bool]]:
    """The runner's first two sort terms: the key equal to the term, then a word of the key equal
    to it (splitByNonAlpha), both case-insensitive."""
    term = search.lower()

    def order(key: str) -> tuple[bool, bool]:
        words = [word for word in re.split(r"[^0-9a-z]+", key.lower()) if word]
        return key.lower() != term, term not in words

    return order


def _ilike(pattern: str) -> Callable[[str], bool]:
    """ClickHouse's ILIKE: ``%`` any run, ``_`` one character, a backslash escapes, any case."""
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    compiled = re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def _default_start(now: datetime) -> datetime:
    """QueryDateRange's start for a range without one: midnight (UTC) seven days back."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=DEFAULT_DATE_FROM_DAYS
    )


def _floor(moment: datetime, step: timedelta) -> datetime:
    """``toStartOfInterval(moment, step)``: aligned to the epoch, in UTC."""
    width = int(step.total_seconds())
    seconds = int(moment.timestamp()) // width * width
    return datetime.fromtimestamp(seconds, UTC)


def _service_name(row: Record) -> str:
    """The logs table's service_name column: the resource's service.name, empty when unset."""
    return str(row["resource_attributes"].get("service.name") or "")


def _breakdown_value(row: Record, field: str) -> str:
    return str(row["severity_text"] or "") if field == "severity_text" else _service_name(row)


def _row_bytes(row: Record) -> int:
    """mockhog's stand-in for the ingested record's _bytes_uncompressed: the UTF-8 size of its
    body and attributes."""
    attributes = {**row["attributes"], **row["resource_attributes"]}
    return len(row["body"].encode()) + sum(len(f"{k}{_as_text(v)}".encode()) for k, v in attributes.items())


def _months_before(moment: datetime, months: int) -> datetime:
    """The moment ``months`` calendar months back, on the month's last day where it is shorter;
    ValueError where that is before year 1."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is out of range")
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


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
