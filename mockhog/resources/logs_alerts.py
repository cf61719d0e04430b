"""Logs alerts: PostHog's LogsAlertViewSet over a store-backed alerts table.

Behaviour as products/logs/backend/presentation/views/alerts_api.py serves it today
(LogsAlertConfigurationSerializer, LogsAlertViewSet and its events, simulate, destinations and
destinations/delete actions), the model in products/logs/backend/models.py
(LogsAlertConfiguration, LogsAlertEvent) and the state machine in
products/alerts_platform/backend/facade/lifecycle.py (LOGS_ALERT_POLICY):

- the serializer's fields, defaults and messages; at most 20 alerts per project; a draft
  (enabled false) may have no filters; window_minutes one of 5, 10, 15, 30, 60;
- PATCH moves the state as PostHog's update does (enable or disable, else snooze or unsnooze, else
  a threshold or filter change) and records that as an alert event;
- simulate counts the stored log rows the filters match per check interval and runs the N-of-M
  state machine over the rolling window, as the view does over ClickHouse's bucketed counts;
- a destination is one HogFunction per event kind (firing, resolved, broken, errored), kept with
  the alert here (mockhog's generic hog_functions table does not list them).

The logs-alerting feature flag PostHog checks (PostHogFeatureFlagPermission) is taken as on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .. import errors
from ..pagination import limit_offset_page
from ..store import Record
from .base import Call, Resource, iso, quirk
from .logs import SEVERITY_NUMBERS, _parse_iso, matches, normalise, resolve_date

ALLOWED_WINDOW_MINUTES = (5, 10, 15, 30, 60)
MAX_ALERTS_PER_TEAM = 20
MAX_EVALUATION_PERIODS = 10
MAX_SIMULATE_LOOKBACK_DAYS = 30
MAX_SIMULATE_BUCKETS = 15_000
DEFAULT_CHECK_INTERVAL_MINUTES = 5
STATE_TIMELINE_HOURS = 24
MAX_CONSECUTIVE_FAILURES = 5
# The event kinds a destination notifies on: one HogFunction each (alert_destinations.py).
DESTINATION_EVENT_KINDS = ("firing", "resolved", "broken", "errored")
# DestinationType: (value, label); the label words the validation messages.
DESTINATION_TYPES = {"slack": "Slack", "webhook": "Webhook", "teams": "Teams"}
DESTINATION_FIELDS = {
    "slack": ("slack_workspace_id", "slack_channel_id"),
    "webhook": ("webhook_url",),
    "teams": ("webhook_url",),
}
THRESHOLD_FIELDS = (
    "threshold_count",
    "threshold_operator",
    "filters",
    "datapoints_to_alarm",
    "evaluation_periods",
)
FILTER_KEYS = ("severityLevels", "serviceNames", "filterGroup")
UNTITLED = "Untitled alert"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_BLOCKED_WINDOWS = 5
MIN_BLOCKED_MINUTES = 30
EVENTS_TABLE = "logs_alert_events"
DESTINATIONS_TABLE = "logs_alert_destinations"


class LogsAlerts(Resource):
    seed_reads = ()
    seed_writes = (EVENTS_TABLE,)

    def __init__(self, spec: Any, backend: Any) -> None:
        super().__init__(spec, backend)
        # What a create or a PUT leaves out: the writable fields' serializer defaults, as the schema
        # holds them (the model's defaults of the fields its request body takes).
        writable = backend.contract.schemas.definition(f"{spec.schema}.json", "LogsAlertConfigurationRequest")
        # LogsAlertEvent.kind's choices (the events list's ?kind= filter), as the schema holds them
        kinds = backend.contract.schemas.definition(f"{spec.schema}.json", "LogsAlertEvent")["properties"][
            "kind"
        ]
        self.event_kinds = tuple(kinds["enum"])
        self.writable_defaults = {
            name: value
            for name, value in self.defaults.items()
            if name in writable.get("properties", {}) and value is not None
        }

    # -- reads -------------------------------------------------------------------------------------
    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        """LogsAlertListQuerySerializer: ``?created_by=<user uuid>`` (a UUIDField)."""
        wanted = call.query.get("created_by")
        if wanted is None:
            return rows
        return [row for row in rows if (row.get("created_by") or {}).get("uuid") == str(wanted)]

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        events = self._events(call, record["id"])
        shown = {
            **record,
            "last_error_message": _last_error(events),
            "state_timeline": _timeline(record, events, call.now),
            "destination_types": self._destination_types(call, record["id"]),
        }
        return {name: shown.get(name) for name in self.fields}

    def _events(self, call: Call, alert_id: str) -> list[Record]:
        rows = [row for row in call.table(EVENTS_TABLE).values() if row["alert_id"] == alert_id]
        return sorted(rows, key=lambda row: (row["created_at"], row["id"]))

    def _destinations(self, call: Call, alert_id: str) -> list[Record]:
        rows = call.table(DESTINATIONS_TABLE).values()
        return [row for row in rows if row["alert_id"] == alert_id and not row["deleted"]]

    def _destination_types(self, call: Call, alert_id: str) -> list[str]:
        return sorted({row["type"] for row in self._destinations(call, alert_id)})

    # -- writes ------------------------------------------------------------------------------------
    @quirk("logs_alerts_create")
    def create(self, call: Call) -> Any:
        data = self._validated(call, {**self.writable_defaults, **call.body}, None)
        if len(self.table(call)) >= MAX_ALERTS_PER_TEAM:
            raise errors.validation_error(
                f"Maximum number of alerts ({MAX_ALERTS_PER_TEAM}) reached for this team."
            )
        now = call.timestamp()
        name = str(data.get("name") or "")
        record = {
            **self.defaults,
            **data,
            "id": call.new_uuid(),
            "name": name if name.strip() else UNTITLED,
            "filters": data.get("filters", {}),
            "check_interval_minutes": DEFAULT_CHECK_INTERVAL_MINUTES,
            "state": "not_firing",
            "consecutive_failures": 0,
            "first_enabled_at": now if data["enabled"] else None,
            "created_at": now,
            "created_by": call.user,
            "updated_at": now,
        }
        return self.serialize(call, self.save(call, record))

    @quirk("logs_alerts_update")
    def update(self, call: Call) -> Any:
        # A PUT is DRF's full update: the fields it leaves out take the serializer's defaults.
        return self._update(call, {**self.writable_defaults, **call.body})

    @quirk("logs_alerts_partial_update")
    def partial_update(self, call: Call) -> Any:
        return self._update(call, dict(call.body))

    def _update(self, call: Call, body: dict[str, Any]) -> Any:
        record = self.get(call)
        data = self._validated(call, body, record)
        if "name" in data and not str(data["name"]).strip():
            data["name"] = UNTITLED
        changed = {**record, **data, "updated_at": call.timestamp()}
        threshold_changed = any(f in data and data[f] != record.get(f) for f in THRESHOLD_FIELDS)
        window_changed = "window_minutes" in data and data["window_minutes"] != record["window_minutes"]
        transition = None
        if "enabled" in data and data["enabled"] != record["enabled"]:
            if data["enabled"]:
                if record["first_enabled_at"] is None:
                    changed["first_enabled_at"] = call.timestamp()
                transition = ("enable", "not_firing", 0)
            else:
                transition = ("disable", "not_firing", record["consecutive_failures"])
        elif "snooze_until" in data:
            if data["snooze_until"] is None:
                transition = ("unsnooze", "not_firing", 0)
            else:
                transition = ("snooze", "snoozed", record["consecutive_failures"])
        elif threshold_changed:
            if record["state"] == "snoozed":
                transition = ("threshold_change", "snoozed", record["consecutive_failures"])
            else:
                transition = ("threshold_change", "not_firing", 0)
        if transition:
            kind, state, failures = transition
            self._record_event(call, record, kind, state)
            changed.update(state=state, consecutive_failures=failures)
        if threshold_changed or window_changed:
            changed["next_check_at"] = None
        return self.serialize(call, self.save(call, changed))

    def _record_event(self, call: Call, record: Record, kind: str, state_after: str) -> None:
        """apply_outcome's audit row for a control-plane transition."""
        event = {
            "id": call.new_uuid(),
            "alert_id": record["id"],
            "created_at": call.timestamp(),
            "kind": kind,
            "state_before": record["state"],
            "state_after": state_after,
            "threshold_breached": False,
            "result_count": None,
            "error_message": None,
            "query_duration_ms": None,
        }
        call.table(EVENTS_TABLE).put(event["id"], event)

    @quirk("logs_alerts_destroy")
    def destroy(self, call: Call) -> Any:
        """perform_destroy: the alert's destinations are soft-deleted, its events go with it."""
        record = self.get(call)
        destinations = call.table(DESTINATIONS_TABLE)
        for row in self._destinations(call, record["id"]):
            destinations.put(row["id"], {**row, "deleted": True})
        events = call.table(EVENTS_TABLE)
        for event in self._events(call, record["id"]):
            events.delete(event["id"])
        self.table(call).delete(record["id"])
        return None

    def _validated(self, call: Call, data: dict[str, Any], record: Record | None) -> dict[str, Any]:
        """The serializer's field validation (filters, schedule_restriction) then validate()."""
        data = dict(data)
        if "filters" in data:
            data["filters"] = check_filters(data["filters"])
        if "schedule_restriction" in data:
            data["schedule_restriction"] = check_schedule(data["schedule_restriction"])
        if "snooze_until" in data and data["snooze_until"] is not None:
            data["snooze_until"] = iso(_parse_iso(str(data["snooze_until"])))

        def effective(name: str, default: Any) -> Any:
            if name in data:
                return data[name]
            return record.get(name, default) if record is not None else default

        filters = effective("filters", {}) or {}
        if effective("enabled", True) or filters:
            require_a_filter(filters)
        window = effective("window_minutes", None)
        if window is not None and window not in ALLOWED_WINDOW_MINUTES:
            raise errors.validation_error(f"Must be one of {list(ALLOWED_WINDOW_MINUTES)}.", "window_minutes")
        periods, needed = effective("evaluation_periods", 1), effective("datapoints_to_alarm", 1)
        if needed > periods:
            raise errors.validation_error(
                f"Cannot exceed evaluation_periods ({needed} > {periods}).", "datapoints_to_alarm"
            )
        snooze = data.get("snooze_until")
        if snooze is not None and _parse_iso(snooze) <= call.now:
            raise errors.validation_error("Must be a future datetime.", "snooze_until")
        return data

    # -- events ----------------------------------------------------------------------------------
    @quirk("logs_alerts_events_list")
    def events(self, call: Call) -> Any:
        """The alert's event history, newest first, without the quiet checks (a check row with no
        error whose state did not change); ``?kind=`` narrows to one kind; DRF's limit/offset page."""
        record = self.get(call)
        kind = call.query.get("kind")
        if kind is not None and kind not in self.event_kinds:
            raise errors.validation_error(f"Must be one of {sorted(self.event_kinds)}.", "kind")
        rows = [
            row
            for row in self._events(call, record["id"])
            if row["kind"] != "check"
            or row["error_message"] is not None
            or row["state_before"] != row["state_after"]
        ]
        if kind is not None:
            rows = [row for row in rows if row["kind"] == kind]
        rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
        page = limit_offset_page(rows, call.query, call.url, self.default_limit)
        page["results"] = [{k: v for k, v in row.items() if k != "alert_id"} for row in page["results"]]
        return page

    # -- simulate --------------------------------------------------------------------------------
    @quirk("logs_alerts_simulate_create")
    def simulate(self, call: Call) -> Any:
        """LogsAlertViewSet.simulate: the matching stored rows counted per check interval from
        date_from to now (empty intervals as 0), each check reading the window before it, through
        the N-of-M state machine; nothing is written."""
        body = {
            "check_interval_minutes": DEFAULT_CHECK_INTERVAL_MINUTES,
            "evaluation_periods": 1,
            "datapoints_to_alarm": 1,
            "cooldown_minutes": 0,
            **call.body,
        }
        # The request serializer's fields in their declared order (DRF answers the first
        # field's error), then its validate().
        filters = check_filters(body["filters"])
        require_a_filter(filters)
        window, cadence = body["window_minutes"], body["check_interval_minutes"]
        if window not in ALLOWED_WINDOW_MINUTES:
            raise errors.validation_error(f"Must be one of {list(ALLOWED_WINDOW_MINUTES)}.", "window_minutes")
        start = _simulate_start(body["date_from"], call.now)
        if body["datapoints_to_alarm"] > body["evaluation_periods"]:
            raise errors.validation_error("Cannot exceed evaluation_periods.", "datapoints_to_alarm")
        if cadence > window:
            raise errors.validation_error("Cannot exceed window_minutes.", "check_interval_minutes")
        end = call.now
        expected = int((end - start).total_seconds() / (cadence * 60)) + 1
        if expected > MAX_SIMULATE_BUCKETS:
            raise errors.validation_error(
                f"Simulation would produce {expected} buckets (max {MAX_SIMULATE_BUCKETS}). "
                "Use a shorter date range or larger window."
            )
        counts = self._bucketed(call, filters, start, end, cadence)
        return _run_state_machine(counts, body, window // cadence)

    def _bucketed(
        self, call: Call, filters: dict[str, Any], start: datetime, end: datetime, cadence: int
    ) -> list[tuple[datetime, int]]:
        """AlertCheckQuery.execute_bucketed plus _fill_empty_buckets: counts per interval aligned
        to 2000-01-01, every interval from the one holding ``start`` to ``end``."""
        query = normalise({"dateRange": {}, **{k: v for k, v in filters.items() if v is not None}})
        step = cadence * 60
        by_bucket: dict[int, int] = {}
        for row in call.table("logs").values():
            moment = _parse_iso(row["timestamp"])
            if start <= moment < end and matches(query, row, None, None):
                offset = int((moment - _EPOCH).total_seconds()) // step
                by_bucket[offset] = by_bucket.get(offset, 0) + 1
        first = int((start - _EPOCH).total_seconds()) // step
        cursor, result = first, []
        while _EPOCH + timedelta(seconds=cursor * step) <= end:
            moment = _EPOCH + timedelta(seconds=cursor * step)
            if cursor in by_bucket or moment >= start:
                result.append((moment, by_bucket.get(cursor, 0)))
            cursor += 1
        return result

    # -- destinations ------------------------------------------------------------------------------
    @quirk("logs_alerts_destinations_create")
    def create_destination(self, call: Call) -> Any:
        """One HogFunction per event kind for the destination, created together; their ids."""
        body = call.body
        kind = body["type"]
        url = body.get("webhook_url")
        if url is not None and not _valid_url(str(url)):
            raise errors.validation_error("Enter a valid URL.", "webhook_url")
        missing = [name for name in DESTINATION_FIELDS[kind] if not body.get(name)]
        label = DESTINATION_TYPES[kind]
        if len(missing) == 1:
            raise errors.validation_error(f"{missing[0]} is required for {label} destinations.", missing[0])
        if missing:
            raise errors.validation_error(f"{label} destinations require {' and '.join(missing)}.")
        record = self.get(call)
        table, ids = call.table(DESTINATIONS_TABLE), []
        group = call.new_uuid()
        for event_kind in DESTINATION_EVENT_KINDS:
            function = {
                "id": call.new_uuid(),
                "alert_id": record["id"],
                "group": group,
                "type": kind,
                "event_kind": event_kind,
                "target": body.get("webhook_url") or body.get("slack_channel_id"),
                "deleted": False,
                "created_at": call.timestamp(),
            }
            table.put(function["id"], function)
            ids.append(function["id"])
        return {"hog_function_ids": ids}

    @quirk("logs_alerts_destinations_delete_create")
    def delete_destination(self, call: Call) -> Any:
        """soft_delete_alert_destinations: every id must be a live destination of this alert, else
        nothing is deleted."""
        wanted = call.body["hog_function_ids"]
        if len(wanted) < 1:
            raise errors.validation_error(
                "Ensure this field has at least 1 elements.", "hog_function_ids", "min_length"
            )
        if len(wanted) > len(DESTINATION_EVENT_KINDS):
            raise errors.validation_error(
                f"Ensure this field has no more than {len(DESTINATION_EVENT_KINDS)} elements.",
                "hog_function_ids",
                "max_length",
            )
        record = self.get(call)
        owned = {row["id"]: row for row in self._destinations(call, record["id"])}
        unknown = sorted(set(wanted) - set(owned))
        if unknown:
            raise errors.validation_error(
                f"These HogFunctions do not belong to this alert: {', '.join(unknown)}. "
                "Refresh the alert and try again.",
                "hog_function_ids",
            )
        table = call.table(DESTINATIONS_TABLE)
        for hog_function_id in set(wanted):
            table.put(hog_function_id, {**owned[hog_function_id], "deleted": True})
        return None

    # -- seed ------------------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        """Two alerts on the seeded services, each with a short event history."""
        services = ctx.profile["logs"]["services"]
        plans = [
            (
                "Gateway errors",
                {"serviceNames": [services[0]], "severityLevels": ["error", "fatal"]},
                20,
                "above",
                True,
            ),
            ("Quiet billing worker", {"serviceNames": [services[2 % len(services)]]}, 1, "below", False),
        ]
        alerts = []
        for name, filters, threshold, operator, enabled in plans:
            created = ctx.moment(30, 10)
            alert = {
                **self.defaults,
                "id": ctx.uuid(),
                "name": name,
                "enabled": enabled,
                "filters": filters,
                "threshold_count": threshold,
                "threshold_operator": operator,
                "window_minutes": 10,
                "check_interval_minutes": DEFAULT_CHECK_INTERVAL_MINUTES,
                "state": "not_firing",
                "evaluation_periods": 3 if enabled else 1,
                "datapoints_to_alarm": 2 if enabled else 1,
                "cooldown_minutes": 30 if enabled else 0,
                "schedule_restriction": None,
                "snooze_until": None,
                "next_check_at": None,
                "last_notified_at": None,
                "last_checked_at": ctx.moment(1) if enabled else None,
                "consecutive_failures": 0,
                "first_enabled_at": created if enabled else None,
                "created_at": created,
                "created_by": ctx.user,
                "updated_at": created,
            }
            alerts.append(alert)
        events = ctx.tables.setdefault(EVENTS_TABLE, {})
        for event in seed_events(ctx, alerts):
            events[event["id"]] = event
        return alerts

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return {
            **{k: v for k, v in record.items() if not k.startswith("_")},
            "last_error_message": None,
            "state_timeline": [],
            "destination_types": [],
        }


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def check_filters(value: Any) -> dict[str, Any]:
    """LogsAlertFiltersField: a JSON object that LogsAlertFilters (pydantic) accepts; its first
    error as ``Invalid filters shape at `<loc>`: <msg>``."""
    if not isinstance(value, dict):
        raise errors.validation_error("Must be a JSON object.", "filters")

    def refuse(location: str, message: str) -> errors.ApiError:
        return errors.validation_error(f"Invalid filters shape at `{location}`: {message}", "filters")

    for key in value:
        if key not in FILTER_KEYS:
            raise refuse(key, "Extra inputs are not permitted")
    levels = value.get("severityLevels")
    if levels is not None:
        if not isinstance(levels, list):
            raise refuse("severityLevels", "Input should be a valid list")
        for index, level in enumerate(levels):
            if not isinstance(level, str) or level not in SEVERITY_NUMBERS:
                raise refuse(
                    f"severityLevels.{index}",
                    "Input should be 'trace', 'debug', 'info', 'warn', 'error' or 'fatal'",
                )
    names = value.get("serviceNames")
    if names is not None:
        if not isinstance(names, list):
            raise refuse("serviceNames", "Input should be a valid list")
        for index, name in enumerate(names):
            if not isinstance(name, str):
                raise refuse(f"serviceNames.{index}", "Input should be a valid string")
    group = value.get("filterGroup")
    if group is not None:
        _check_group(group, "filterGroup", refuse)
    return value


def _check_group(group: Any, location: str, refuse: Any) -> None:
    if not isinstance(group, dict):
        raise refuse(location, "Input should be a valid dictionary or instance of PropertyGroupFilter")
    if "type" not in group:
        raise refuse(f"{location}.type", "Field required")
    if group["type"] not in ("AND", "OR"):
        raise refuse(f"{location}.type", "Input should be 'AND' or 'OR'")
    if "values" not in group:
        raise refuse(f"{location}.values", "Field required")
    if not isinstance(group["values"], list):
        raise refuse(f"{location}.values", "Input should be a valid list")


def require_a_filter(filters: dict[str, Any]) -> None:
    """_validate_filters: at least one of severityLevels, serviceNames or filterGroup."""
    if not any(filters.get(key) for key in FILTER_KEYS):
        raise errors.validation_error(
            "At least one filter is required (severityLevels, serviceNames, or filterGroup).", "filters"
        )


def check_schedule(value: Any) -> dict[str, Any] | None:
    """Quiet hours: ``{"blocked_windows": [{start, end}]}`` in HH:MM, at most five windows of 30
    minutes or more (a window may wrap midnight), overlapping ones merged, an empty list clearing
    them (null). The rules are the CLI's description of the field; the messages are mockhog's."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("blocked_windows"), list):
        raise errors.validation_error(
            "Expected an object with a blocked_windows list.", "schedule_restriction"
        )
    windows = value["blocked_windows"]
    if len(windows) > MAX_BLOCKED_WINDOWS:
        raise errors.validation_error(
            f"At most {MAX_BLOCKED_WINDOWS} blocked windows are allowed.", "schedule_restriction"
        )
    covered = [False] * 1440  # the day's minutes the windows block, so overlaps merge
    for window in windows:
        bounds = [
            _minutes(window.get(name) if isinstance(window, dict) else None) for name in ("start", "end")
        ]
        if None in bounds:
            raise errors.validation_error(
                "Each blocked window needs start and end as HH:MM.", "schedule_restriction"
            )
        start, end = bounds
        length = (end - start) % 1440 or 1440
        if length < MIN_BLOCKED_MINUTES:
            raise errors.validation_error(
                f"Each blocked window must span at least {MIN_BLOCKED_MINUTES} minutes.",
                "schedule_restriction",
            )
        for minute in range(start, start + length):
            covered[minute % 1440] = True
    if not any(covered):
        return None
    if all(covered):
        return {"blocked_windows": [{"start": "00:00", "end": "00:00"}]}
    # Walk the day from a free minute, so a window that wraps midnight stays one window.
    origin = covered.index(False)
    merged, run_start = [], None
    for step in range(1, 1441):
        minute = (origin + step) % 1440
        if covered[minute] and run_start is None:
            run_start = minute
        elif not covered[minute] and run_start is not None:
            merged.append((run_start, minute))
            run_start = None
    merged.sort()
    return {"blocked_windows": [{"start": _hhmm(a), "end": _hhmm(b)} for a, b in merged]}


def _valid_url(text: str) -> bool:
    """Django's URLValidator, as far as mockhog checks it: an http(s) or ftp(s) URL with a host."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https", "ftp", "ftps") and bool(parts.hostname) and " " not in text


def _minutes(text: Any) -> int | None:
    found = _HHMM.match(text) if isinstance(text, str) else None
    return int(found.group(1)) * 60 + int(found.group(2)) if found else None


def _hhmm(minutes: int) -> str:
    minutes %= 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _simulate_start(raw: str, now: datetime) -> datetime:
    """validate_date_from: a relative (or absolute) date no more than 30 days back."""
    try:
        start = resolve_date(raw, now, "date_from")
    except errors.ApiError:
        start = None
    if start is None:
        raise errors.validation_error("Invalid date_from value.", "date_from")
    if start < now - timedelta(days=MAX_SIMULATE_LOOKBACK_DAYS):
        raise errors.validation_error(
            f"date_from cannot be more than {MAX_SIMULATE_LOOKBACK_DAYS} days in the past.", "date_from"
        )
    return start


def _run_state_machine(
    counts: list[tuple[datetime, int]], body: dict[str, Any], per_window: int
) -> dict[str, Any]:
    """The simulate loop: bucket i's check sees the ``per_window`` buckets before it (the
    evaluator at T queries [T - window, T)), then evaluate_alert_check under the logs policy."""
    threshold, above = body["threshold_count"], body["threshold_operator"] == "above"
    periods, needed = body["evaluation_periods"], body["datapoints_to_alarm"]
    cooldown = timedelta(minutes=body["cooldown_minutes"])
    values = [n for _, n in counts]
    state, last_notified, recent = "not_firing", None, ()
    result, fires, resolves = [], 0, 0
    for index, (moment, _) in enumerate(counts):
        window_count = sum(values[max(0, index - per_window) : index])
        breached = window_count > threshold if above else window_count < threshold
        recent_window = (breached, *recent)[:periods]
        new_state, notification = _evaluate(state, recent_window, needed, cooldown, last_notified, moment)
        if notification == "fire":
            fires += 1
        elif notification == "resolve":
            resolves += 1
        suppressed = (
            notification == "none"
            and new_state != state
            and new_state in ("firing", "not_firing")
            and state in ("firing", "not_firing", "pending_resolve")
            and breached != (state == "not_firing")
        )
        result.append(
            {
                "timestamp": moment.isoformat(),
                "count": window_count,
                "threshold_breached": breached,
                "state": new_state,
                "notification": notification,
                "reason": _reason(
                    state,
                    new_state,
                    window_count,
                    threshold,
                    above,
                    breached,
                    recent_window,
                    needed,
                    periods,
                    suppressed,
                ),
            }
        )
        if notification != "none":
            last_notified = moment
        state, recent = new_state, recent_window
    return {
        "buckets": result,
        "fire_count": fires,
        "resolve_count": resolves,
        "total_buckets": len(result),
        "threshold_count": threshold,
        "threshold_operator": body["threshold_operator"],
    }


def _evaluate(
    state: str,
    window: tuple[bool, ...],
    needed: int,
    cooldown: timedelta,
    last_notified: datetime | None,
    now: datetime,
) -> tuple[str, str]:
    """evaluate_alert_check for a successful check under LOGS_ALERT_POLICY: fire on N of the last
    M checks breached, resolve on the first clear one, never re-notify while firing, cooldown
    gating both the fire and the resolve."""
    breached = sum(window) >= needed
    new_state = "firing" if breached else "not_firing"
    if state in ("firing", "pending_resolve"):
        notification = "none" if breached else "resolve"  # logs never re-notifies while firing
    else:
        notification = "fire" if breached else "none"
    within_cooldown = cooldown > timedelta(0) and last_notified is not None and now < last_notified + cooldown
    if notification != "none" and within_cooldown:
        notification = "none"
    return new_state, notification


def _reason(
    before: str,
    after: str,
    count: int,
    threshold: int,
    above: bool,
    breached: bool,
    window: tuple[bool, ...],
    needed: int,
    periods: int,
    suppressed: bool,
) -> str:
    """_build_reason: what the check decided, in PostHog's words."""
    op = ">" if above else "<"
    described = f"{count} {op} {threshold}" if breached else f"{count} {'≤' if above else '≥'} {threshold}"
    n_of_m = not (needed == 1 and periods == 1)
    breaches = sum(1 for hit in window if hit)
    tally = f"{breaches} of last {len(window)} checks breached (need {needed} of {periods})"
    if before == "not_firing":
        if after == "firing":
            if n_of_m:
                return f"{described}, {tally} — fired"
            return f"{described} — fired"
        if breached and n_of_m:
            return f"{described}, {tally} — waiting"
        return f"{described} — OK"
    if before in ("firing", "pending_resolve"):
        if after == "not_firing":
            return f"{described} — resolved" + (
                " (notification suppressed by cooldown)" if suppressed else ""
            )
        if after == "firing" and breached:
            return f"{described} — still firing" + (
                " (notification suppressed by cooldown)" if suppressed else ""
            )
    return described


def _last_error(events: list[Record]) -> str | None:
    errored = [row for row in events if row["kind"] == "check" and row["error_message"] is not None]
    return errored[-1]["error_message"] if errored else None


def _timeline(record: Record, events: list[Record], now: datetime) -> list[dict[str, Any]]:
    """get_state_timeline: (state, enabled) intervals over the last 24 hours, oldest first."""
    start = now - timedelta(hours=STATE_TIMELINE_HOURS)
    inside = [row for row in events if _parse_iso(row["created_at"]) >= start]
    toggles = ("enable", "disable")
    state = inside[0]["state_before"] if inside else record["state"]
    before = [row for row in events if row["kind"] in toggles and _parse_iso(row["created_at"]) < start]
    if before:
        enabled = before[-1]["kind"] == "enable"
    else:
        first = next((row for row in inside if row["kind"] in toggles), None)
        enabled = first["kind"] == "disable" if first else record["enabled"]
    intervals, current = [], start
    for row in inside:
        new_enabled = {"enable": True, "disable": False}.get(row["kind"], enabled)
        if row["state_after"] == state and new_enabled == enabled:
            continue
        moment = _parse_iso(row["created_at"])
        intervals.append({"start": iso(current), "end": iso(moment), "state": state, "enabled": enabled})
        current, state, enabled = moment, row["state_after"], new_enabled
    intervals.append({"start": iso(current), "end": iso(now), "state": state, "enabled": enabled})
    return intervals


def seed_events(ctx: Any, alerts: list[Record]) -> list[Record]:
    """A short history per seeded alert: enabled, then a check that fired and one that resolved."""
    rows = []
    for alert in alerts:
        if not alert["enabled"]:
            continue
        created = _parse_iso(alert["created_at"])
        steps = [
            ("enable", "not_firing", "not_firing", False, None),
            ("check", "not_firing", "not_firing", False, 3),
            ("check", "not_firing", "firing", True, 41),
            ("check", "firing", "not_firing", False, 2),
        ]
        for hours, (kind, before, after, breached, count) in enumerate(steps):
            rows.append(
                {
                    "id": ctx.uuid(),
                    "alert_id": alert["id"],
                    "created_at": iso(created + timedelta(hours=hours)),
                    "kind": kind,
                    "state_before": before,
                    "state_after": after,
                    "threshold_breached": breached,
                    "result_count": count,
                    "error_message": None,
                    "query_duration_ms": 40 + 7 * hours if kind == "check" else None,
                }
            )
    return rows
