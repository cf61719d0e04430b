"""Logs alerts and log patterns over HTTP, as PostHog serves them today.

Sources: products/logs/backend/presentation/views/alerts_api.py (LogsAlertConfigurationSerializer,
LogsAlertViewSet with its events, simulate, destinations and destinations/delete actions),
products/logs/backend/models.py (LogsAlertConfiguration, LogsAlertEvent),
products/alerts_platform/backend/facade/lifecycle.py (the state machine under LOGS_ALERT_POLICY),
products/logs/backend/presentation/views/api.py (LogsViewSet.patterns, patterns_diff),
products/logs/backend/log_patterns.py and pattern_diff.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mockhog.times import iso

ALERTS = "/api/projects/1/logs/alerts/"
LOGS = "/api/projects/1/logs/"
WEB_ERRORS = {"serviceNames": ["web"], "severityLevels": ["error"]}
USER_UUID = "01975a3c-0000-7000-8000-000000000001"
NEED_FILTER = "At least one filter is required (severityLevels, serviceNames, or filterGroup)."
WINDOWS = "Must be one of [5, 10, 15, 30, 60]."
LEVELS = "Input should be 'trace', 'debug', 'info', 'warn', 'error' or 'fatal'"
INVALID = "invalid_input"
TOO_MANY = "Simulation would produce 43201 buckets (max 15000). Use a shorter date range or larger window."


def create(client: Any, status: int = 201, **body: Any) -> dict[str, Any]:
    response = client.post(ALERTS, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def seeded(client: Any) -> list[dict[str, Any]]:
    return client.get(ALERTS).get_json()["results"]


def put_logs(backend: Any, rows: list[tuple[datetime, str, str, str]]) -> None:
    """Log rows (timestamp, service, severity, body) written into the store, shaped as seeded."""
    table = backend.store.table(1, "logs")
    template = next(iter(table.values()))
    for index, (moment, service, level, body) in enumerate(rows):
        uuid = f"00000000-0000-4000-8000-{index:012d}"
        table.put(
            uuid,
            {
                **template,
                "uuid": uuid,
                "body": body,
                "timestamp": iso(moment),
                "observed_timestamp": iso(moment),
                "severity_text": level,
                "level": level,
                "resource_attributes": {**template["resource_attributes"], "service.name": service},
            },
        )


# -- CRUD -------------------------------------------------------------------------------------------
def test_a_create_fills_the_serializers_defaults(client):
    """LogsAlertConfigurationSerializer.create: 'Untitled alert' for no name, the fields' defaults
    (threshold 100 above, a 5-minute window, 1 of 1, no cooldown), the model's check interval (5)
    and state (not_firing), first_enabled_at set for an enabled alert, created_by the user."""
    made = create(client, filters=WEB_ERRORS)
    assert made["name"] == "Untitled alert" and made["enabled"] is True
    assert (made["threshold_count"], made["threshold_operator"], made["window_minutes"]) == (100, "above", 5)
    assert (made["evaluation_periods"], made["datapoints_to_alarm"], made["cooldown_minutes"]) == (1, 1, 0)
    assert (made["check_interval_minutes"], made["state"], made["consecutive_failures"]) == (
        5,
        "not_firing",
        0,
    )
    assert made["first_enabled_at"] == made["created_at"] == made["updated_at"]
    assert made["created_by"]["uuid"] == USER_UUID and made["destination_types"] == []
    assert made["schedule_restriction"] is None and made["snooze_until"] is None
    assert made["last_error_message"] is None and len(made["state_timeline"]) == 1
    assert list(made) == [
        "id", "name", "enabled", "filters", "threshold_count", "threshold_operator", "window_minutes",
        "check_interval_minutes", "state", "evaluation_periods", "datapoints_to_alarm", "cooldown_minutes",
        "schedule_restriction", "snooze_until", "next_check_at", "last_notified_at", "last_checked_at",
        "consecutive_failures", "last_error_message", "state_timeline", "destination_types",
        "first_enabled_at", "created_at", "created_by", "updated_at",
    ]  # fmt: skip
    shown = client.get(f"{ALERTS}{made['id']}/").get_json()
    assert {**shown, "state_timeline": None} == {**made, "state_timeline": None}


def test_the_list_is_newest_first_and_filters_by_creator(client):
    """LogsAlertViewSet: queryset ordered by -created_at; ?created_by= a user's UUID
    (LogsAlertListQuerySerializer, a UUIDField: anything else is 'Must be a valid UUID.')."""
    before = seeded(client)
    made = create(client, name="newest", filters=WEB_ERRORS)
    listed = client.get(ALERTS).get_json()
    assert listed["count"] == len(before) + 1 and listed["results"][0]["id"] == made["id"]
    mine = client.get(f"{ALERTS}?created_by={USER_UUID}").get_json()
    assert mine["count"] == len(before) + 1
    nobody = client.get(f"{ALERTS}?created_by=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").get_json()
    assert nobody["count"] == 0
    bad = client.get(f"{ALERTS}?created_by=someone")
    assert bad.status_code == 400 and bad.get_json()["detail"] == "Must be a valid UUID."


@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({}, "filters", NEED_FILTER),
        ({"filters": {"serviceNames": []}}, "filters", NEED_FILTER),
        ({"filters": WEB_ERRORS, "window_minutes": 7}, "window_minutes", WINDOWS),
        (
            {"filters": WEB_ERRORS, "evaluation_periods": 2, "datapoints_to_alarm": 3},
            "datapoints_to_alarm",
            "Cannot exceed evaluation_periods (3 > 2).",
        ),
        (
            {"filters": WEB_ERRORS, "snooze_until": "2020-01-01T00:00:00Z"},
            "snooze_until",
            "Must be a future datetime.",
        ),
        ({"filters": [1]}, "filters", "Must be a JSON object."),
        (
            {"filters": {"severityLevels": ["loud"]}},
            "filters",
            f"Invalid filters shape at `severityLevels.0`: {LEVELS}",
        ),
        (
            {"filters": {"services": []}},
            "filters",
            "Invalid filters shape at `services`: Extra inputs are not permitted",
        ),
        (  # a level that is no text is pydantic's refusal too (it was a 500)
            {"filters": {"severityLevels": [{}]}},
            "filters",
            f"Invalid filters shape at `severityLevels.0`: {LEVELS}",
        ),
    ],
)
def test_a_create_the_serializer_refuses_changes_nothing(refused, body, attr, detail):
    """LogsAlertConfigurationSerializer.validate and _validate_filters; LogsAlertFiltersField's
    pydantic check (LogsAlertFilters.model_validate, its first error's location and message)."""
    refused("post", ALERTS, body, "invalid_input", attr, detail)


def test_field_validation_is_drfs(client):
    """The serializer's fields: name at most 255, threshold_count at least 0, evaluation_periods
    1..10 (MAX_EVALUATION_PERIODS), threshold_operator above or below."""
    long = client.post(ALERTS, json={"filters": WEB_ERRORS, "name": "x" * 256}).get_json()
    assert long["detail"] == "Ensure this field has no more than 255 characters." and long["attr"] == "name"
    negative = client.post(ALERTS, json={"filters": WEB_ERRORS, "threshold_count": -1}).get_json()
    assert negative["detail"] == "Ensure this value is greater than or equal to 0."
    periods = client.post(ALERTS, json={"filters": WEB_ERRORS, "evaluation_periods": 11}).get_json()
    assert periods["detail"] == "Ensure this value is less than or equal to 10."
    operator = client.post(ALERTS, json={"filters": WEB_ERRORS, "threshold_operator": "equal"}).get_json()
    assert operator["detail"] == '"equal" is not a valid choice.' and operator["attr"] == "threshold_operator"


def test_a_draft_needs_no_filters_until_it_is_enabled(client):
    """validate(): drafts (enabled false, no filters) are allowed; first_enabled_at stays null until
    the first enable, which the update sets and records as an enable event."""
    draft = create(client, enabled=False)
    assert draft["first_enabled_at"] is None and draft["filters"] == {}
    refused = client.patch(f"{ALERTS}{draft['id']}/", json={"enabled": True})
    assert refused.status_code == 400 and refused.get_json()["attr"] == "filters"
    enabled = client.patch(
        f"{ALERTS}{draft['id']}/", json={"enabled": True, "filters": WEB_ERRORS}
    ).get_json()
    assert enabled["enabled"] is True and enabled["first_enabled_at"] is not None
    events = client.get(f"{ALERTS}{draft['id']}/events/").get_json()["results"]
    assert [(e["kind"], e["state_before"], e["state_after"]) for e in events] == [
        ("enable", "not_firing", "not_firing")
    ]


def test_twenty_alerts_per_project(client, backend):
    """MAX_ALERTS_PER_TEAM: the 21st create is a ValidationError (no attr) and stores nothing."""
    for _ in range(20 - len(seeded(client))):
        create(client, filters=WEB_ERRORS)
    before = backend.store.dump()
    refused = client.post(ALERTS, json={"filters": WEB_ERRORS})
    assert refused.status_code == 400
    assert refused.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Maximum number of alerts (20) reached for this team.",
        "attr": None,
    }
    assert backend.store.dump() == before


def test_patch_moves_the_state_as_the_update_does(client):
    """LogsAlertConfigurationSerializer.update: snoozing sets state snoozed (apply_snooze); a
    threshold change keeps a snoozed alert snoozed (apply_threshold_change); unsnoozing is
    not_firing; disabling is not_firing; each writes an event with threshold_breached false; a
    blank name becomes 'Untitled alert'."""
    alert = create(client, name="web", filters=WEB_ERRORS)
    url = f"{ALERTS}{alert['id']}/"
    snoozed = client.patch(url, json={"snooze_until": "2999-01-01T00:00:00Z"}).get_json()
    assert snoozed["state"] == "snoozed" and snoozed["snooze_until"].startswith("2999-01-01T00:00:00")
    assert client.patch(url, json={"threshold_count": 5}).get_json()["state"] == "snoozed"
    assert client.patch(url, json={"snooze_until": None}).get_json()["state"] == "not_firing"
    renamed = client.patch(url, json={"name": "  ", "enabled": False}).get_json()
    assert renamed["name"] == "Untitled alert" and renamed["enabled"] is False
    events = client.get(f"{url}events/").get_json()["results"]
    assert [(e["kind"], e["state_after"]) for e in events] == [
        ("disable", "not_firing"),
        ("unsnooze", "not_firing"),
        ("threshold_change", "snoozed"),
        ("snooze", "snoozed"),
    ]
    assert all(e["threshold_breached"] is False and e["result_count"] is None for e in events)


def test_a_window_only_edit_leaves_the_state_alone(client):
    """Window-only edits don't touch state: no event is written."""
    alert = create(client, filters=WEB_ERRORS)
    changed = client.patch(f"{ALERTS}{alert['id']}/", json={"window_minutes": 30}).get_json()
    assert changed["window_minutes"] == 30
    assert client.get(f"{ALERTS}{alert['id']}/events/").get_json()["count"] == 0


def test_put_is_a_full_update(client):
    """A PUT is DRF's full update: fields it leaves out take the serializer's defaults again."""
    alert = create(client, name="web", filters=WEB_ERRORS, threshold_count=7, cooldown_minutes=15)
    replaced = client.put(f"{ALERTS}{alert['id']}/", json={"name": "again", "filters": WEB_ERRORS}).get_json()
    assert (replaced["name"], replaced["threshold_count"], replaced["cooldown_minutes"]) == ("again", 100, 0)


def test_quiet_hours_are_merged(client):
    """schedule_restriction (the model's JSON field; the CLI's description of it): overlapping
    windows are merged when saved, a window may wrap midnight, an empty list clears them."""
    alert = create(client, filters=WEB_ERRORS)
    url = f"{ALERTS}{alert['id']}/"
    windows = [
        {"start": "22:00", "end": "06:00"},
        {"start": "05:00", "end": "07:00"},
        {"start": "12:00", "end": "13:00"},
    ]
    saved = client.patch(url, json={"schedule_restriction": {"blocked_windows": windows}}).get_json()
    assert saved["schedule_restriction"] == {
        "blocked_windows": [{"start": "12:00", "end": "13:00"}, {"start": "22:00", "end": "07:00"}]
    }
    short = client.patch(
        url, json={"schedule_restriction": {"blocked_windows": [{"start": "10:00", "end": "10:10"}]}}
    )
    assert short.status_code == 400 and short.get_json()["attr"] == "schedule_restriction"
    cleared = client.patch(url, json={"schedule_restriction": {"blocked_windows": []}}).get_json()
    assert cleared["schedule_restriction"] is None
    # other keys are dropped, not refused (the published windows allow them)
    extra = {"blocked_windows": [{"start": "01:00", "end": "02:00", "note": 1}], "tz": "UTC"}
    kept = client.patch(url, json={"schedule_restriction": extra}).get_json()
    assert kept["schedule_restriction"] == {"blocked_windows": [{"start": "01:00", "end": "02:00"}]}


def test_destroy_removes_the_alert_and_its_destinations(client, backend):
    """perform_destroy: soft_delete_all_alert_destinations, then the row (204); afterwards 404."""
    alert = create(client, filters=WEB_ERRORS)
    url = f"{ALERTS}{alert['id']}/"
    ids = client.post(f"{url}destinations/", json={"type": "webhook", "webhook_url": "https://example.com/h"})
    assert ids.status_code == 201
    gone = client.delete(url)
    assert gone.status_code == 204 and gone.data == b""
    assert client.get(url).status_code == 404
    destinations = backend.store.table(1, "logs_alert_destinations").values()
    assert {row["deleted"] for row in destinations if row["alert_id"] == alert["id"]} == {True}


def test_an_unknown_alert_is_404(client):
    """get_object: an id that is no alert of the project is DRF's 404."""
    missing = client.get(f"{ALERTS}0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/")
    assert missing.status_code == 404 and missing.get_json()["detail"] == "Not found."


# -- events -----------------------------------------------------------------------------------------
def test_events_leave_quiet_checks_out_and_filter_by_kind(client, backend):
    """LogsAlertViewSet.events: newest first; check rows with no error whose state did not change
    are left out; ?kind= one of LogsAlertEvent.Kind (else 400 on kind); DRF's limit/offset page."""
    alert = next(row for row in seeded(client) if row["enabled"])
    stored = [
        row for row in backend.store.table(1, "logs_alert_events").values() if row["alert_id"] == alert["id"]
    ]
    quiet = [
        r
        for r in stored
        if r["kind"] == "check" and r["state_before"] == r["state_after"] and not r["error_message"]
    ]
    assert quiet, "the seed has a quiet check to leave out"
    page = client.get(f"{ALERTS}{alert['id']}/events/").get_json()
    assert page["count"] == len(stored) - len(quiet)
    moments = [event["created_at"] for event in page["results"]]
    assert moments == sorted(moments, reverse=True)
    assert {event["id"] for event in page["results"]}.isdisjoint({row["id"] for row in quiet})
    checks = client.get(f"{ALERTS}{alert['id']}/events/?kind=check&limit=1").get_json()
    assert (
        checks["count"] == 2 and len(checks["results"]) == 1 and checks["next"].endswith("limit=1&offset=1")
    )
    bad = client.get(f"{ALERTS}{alert['id']}/events/?kind=fired").get_json()
    assert bad["attr"] == "kind" and bad["detail"] == (
        "Must be one of ['broken_config', 'check', 'disable', 'enable', 'reset', 'snooze', "
        "'threshold_change', 'unsnooze']."
    )


# -- simulate ---------------------------------------------------------------------------------------
def simulate(client: Any, status: int = 200, **body: Any) -> dict[str, Any]:
    defaults = {
        "filters": WEB_ERRORS,
        "threshold_count": 2,
        "threshold_operator": "above",
        "window_minutes": 5,
    }
    response = client.post(f"{ALERTS}simulate/", json={**defaults, **body})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_simulate_counts_the_stored_rows_through_the_state_machine(client, backend):
    """LogsAlertViewSet.simulate: counts per check interval (aligned buckets, empty ones 0), each
    check reading the window before it ([T - window, T)), fire on a breach, resolve on the first
    clear check; reasons as _build_reason words them; nothing is written."""
    moment = datetime.now(UTC) - timedelta(minutes=22)
    # three matching rows, and one of another severity the filters leave out
    put_logs(
        backend, [(moment, "web", "error", f"boom {n}") for n in range(3)] + [(moment, "web", "info", "fine")]
    )
    before = backend.store.dump()
    result = simulate(client, date_from="-1h")
    assert backend.store.dump() == before
    buckets = result["buckets"]
    assert result["total_buckets"] == len(buckets) and len(buckets) in (12, 13)
    assert (result["fire_count"], result["resolve_count"]) == (1, 1)
    assert (result["threshold_count"], result["threshold_operator"]) == (2, "above")
    fired = [b for b in buckets if b["notification"] == "fire"]
    resolved = [b for b in buckets if b["notification"] == "resolve"]
    assert fired[0]["count"] == 3 and fired[0]["reason"] == "3 > 2 — fired" and fired[0]["state"] == "firing"
    assert resolved[0]["reason"] == "0 ≤ 2 — resolved" and resolved[0]["state"] == "not_firing"
    start = datetime.fromisoformat(fired[0]["timestamp"])
    assert start.minute % 5 == 0 and start - timedelta(minutes=5) <= moment < start
    assert datetime.fromisoformat(resolved[0]["timestamp"]) - start == timedelta(minutes=5)
    assert sum(1 for b in buckets if b["threshold_breached"]) == 1


def test_simulate_waits_for_n_of_m(client, backend):
    """N-of-M: one breach of the last 2 checks while 2 are needed is 'waiting', never fired."""
    put_logs(backend, [(datetime.now(UTC) - timedelta(minutes=22), "web", "error", "boom")])
    result = simulate(client, date_from="-1h", threshold_count=0, evaluation_periods=2, datapoints_to_alarm=2)
    assert result["fire_count"] == 0
    waiting = [b for b in result["buckets"] if b["threshold_breached"]]
    assert waiting[0]["reason"] == "1 > 0, 1 of last 2 checks breached (need 2 of 2) — waiting"


@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"date_from": "-60d"}, "date_from", "date_from cannot be more than 30 days in the past."),
        ({"date_from": "last week"}, "date_from", "Invalid date_from value."),
        ({"date_from": "-1d", "window_minutes": 7}, "window_minutes", WINDOWS),
        (
            {"date_from": "-1d", "check_interval_minutes": 10},
            "check_interval_minutes",
            "Cannot exceed window_minutes.",
        ),
        (
            {"date_from": "-1d", "evaluation_periods": 1, "datapoints_to_alarm": 2},
            "datapoints_to_alarm",
            "Cannot exceed evaluation_periods.",
        ),
        ({"date_from": "-30d", "check_interval_minutes": 1}, None, TOO_MANY),
        ({"date_from": "-1d", "filters": {}}, "filters", NEED_FILTER),
    ],
)
def test_simulate_refuses_what_the_request_serializer_does(client, body, attr, detail):
    """LogsAlertSimulateRequestSerializer (validate_date_from, validate_window_minutes, validate)
    and _fill_empty_buckets' MAX_SIMULATE_BUCKETS."""
    refused = simulate(client, 400, **body)
    assert (refused["attr"], refused["detail"]) == (attr, detail)


def test_simulate_requires_its_fields(client):
    """filters, threshold_count, threshold_operator, window_minutes and date_from are required."""
    refused = client.post(f"{ALERTS}simulate/", json={"filters": WEB_ERRORS}).get_json()
    assert (refused["code"], refused["attr"]) == ("required", "threshold_count")


# -- destinations -----------------------------------------------------------------------------------
def test_a_destination_is_four_hog_functions(client):
    """create_destination: one HogFunction per event kind (firing, resolved, broken, errored),
    201 {hog_function_ids}; destination_types then lists the type; delete_destination removes the
    group (204)."""
    alert = create(client, filters=WEB_ERRORS)
    url = f"{ALERTS}{alert['id']}/"
    made = client.post(
        f"{url}destinations/", json={"type": "webhook", "webhook_url": "https://example.com/hook"}
    )
    assert made.status_code == 201
    ids = made.get_json()["hog_function_ids"]
    assert len(ids) == len(set(ids)) == 4 and all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)
    assert client.get(url).get_json()["destination_types"] == ["webhook"]
    gone = client.post(f"{url}destinations/delete/", json={"hog_function_ids": ids})
    assert gone.status_code == 204 and gone.data == b""
    assert client.get(url).get_json()["destination_types"] == []


def test_deleting_anothers_destination_changes_nothing(client, refused):
    """soft_delete_alert_destinations: an id that is not a live destination of this alert is a
    400 on hog_function_ids naming it, and nothing is deleted."""
    first, second = create(client, filters=WEB_ERRORS), create(client, filters=WEB_ERRORS)
    body = {"type": "teams", "webhook_url": "https://example.com/teams"}
    ids = client.post(f"{ALERTS}{first['id']}/destinations/", json=body).get_json()["hog_function_ids"]
    refused(
        "post",
        f"{ALERTS}{second['id']}/destinations/delete/",
        {"hog_function_ids": ids[:1]},
        "invalid_input",
        "hog_function_ids",
        f"These HogFunctions do not belong to this alert: {ids[0]}. Refresh the alert and try again.",
    )
    assert client.get(f"{ALERTS}{first['id']}/").get_json()["destination_types"] == ["teams"]


@pytest.mark.parametrize(
    ("body", "code", "attr", "detail"),
    [
        ({"type": "email"}, "invalid_choice", "type", '"email" is not a valid choice.'),
        ({"type": "webhook"}, INVALID, "webhook_url", "webhook_url is required for Webhook destinations."),
        ({"type": "webhook", "webhook_url": "not a url"}, INVALID, "webhook_url", "Enter a valid URL."),
        (
            {"type": "slack"},
            INVALID,
            None,
            "Slack destinations require slack_workspace_id and slack_channel_id.",
        ),
        (
            {"type": "slack", "slack_workspace_id": 3},
            INVALID,
            "slack_channel_id",
            "slack_channel_id is required for Slack destinations.",
        ),
    ],
)
def test_a_destination_the_serializer_refuses(client, refused, body, code, attr, detail):
    """LogsAlertCreateDestinationSerializer: its fields, then validate_destination_data (one missing
    field names it, several are one message with no attr)."""
    alert = seeded(client)[0]
    refused("post", f"{ALERTS}{alert['id']}/destinations/", body, code, attr, detail)


def test_the_delete_body_is_a_short_list_of_uuids(client):
    """LogsAlertDeleteDestinationSerializer: a list of UUIDs, at least 1, at most 4."""
    url = f"{ALERTS}{seeded(client)[0]['id']}/destinations/delete/"
    empty = client.post(url, json={"hog_function_ids": []}).get_json()
    assert empty["detail"] == "Ensure this field has at least 1 elements."
    loose = client.post(url, json={"hog_function_ids": ["x"]}).get_json()
    assert (loose["attr"], loose["detail"]) == ("hog_function_ids__0", "Must be a valid UUID.")
    many = client.post(
        url, json={"hog_function_ids": [f"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5{n}" for n in range(5)]}
    )
    assert many.get_json()["detail"] == "Ensure this field has no more than 4 elements."


# -- patterns ---------------------------------------------------------------------------------------
WINDOW = {"date_from": "2026-01-01T00:00:00Z", "date_to": "2026-01-01T01:00:00Z"}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_patterns_mask_and_group_the_bodies(client, backend):
    """LogsViewSet.patterns / mine_patterns: numbers and addresses masked, bodies that differ in a
    word merged as <*>, most frequent first; exact counts (no sampling below 10,000 rows); a
    regex that matches the raw lines and the longest literal run."""
    lines = [
        (T0 + timedelta(minutes=n), "checkout", "info", f"User {100 + n} logged in from 10.0.0.{n}")
        for n in range(6)
    ] + [
        (T0 + timedelta(minutes=30), "checkout", "error", "Payment failed for alice: card declined"),
        (T0 + timedelta(minutes=31), "cart", "error", "Payment failed for bob: card declined"),
    ]
    put_logs(backend, lines)
    answer = client.post(
        f"{LOGS}patterns/", json={"query": {"dateRange": WINDOW, "serviceNames": ["checkout", "cart"]}}
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["total_count"], body["scanned_count"], body["sampled"]) == (8, 8, False)
    logins, payments = body["patterns"]
    assert logins["pattern"] == "User <num> logged in from <ip>"
    assert (logins["count"], logins["estimated_count"], logins["error_count"]) == (6, 6, 0)
    assert logins["volume_share_pct"] == 75.0 and logins["severity_counts"] == {"info": 6}
    assert logins["match_literal"] == "logged in from"
    assert all(re.search(logins["match_regex"], line[3]) for line in lines[:6])
    assert not re.search(logins["match_regex"], lines[6][3])
    assert payments["pattern"] == "Payment failed for <*> card declined"
    assert payments["services"] == ["checkout", "cart"] and payments["estimated_error_count"] == 2
    assert payments["first_seen"] == (T0 + timedelta(minutes=30)).isoformat()
    assert len(body["sparkline_buckets"]) == len(logins["sparkline"]) and sum(logins["sparkline"]) == 6
    assert body["sparkline_buckets"][0]["start"] == T0.isoformat()


def test_patterns_diff_classifies_against_the_baseline(client, backend):
    """run_patterns_diff / diff_patterns: a template only now with an error line is new; one whose
    per-second rate moved 4x with 5+ samples on both sides is a rate_shift; one only in the
    baseline above the 1% floor is gone; ordered new, rate_shift, gone."""
    base = T0 - timedelta(days=7)
    now = [(T0 + timedelta(seconds=n), "svc", "info", f"Synced batch {n}") for n in range(20)]
    now += [(T0 + timedelta(minutes=5), "svc", "error", "Disk quota exceeded on volume data")]
    then = [(base + timedelta(seconds=n), "svc", "info", f"Synced batch {n}") for n in range(5)]
    then += [
        (base + timedelta(minutes=9, seconds=n), "svc", "warn", "Legacy endpoint called") for n in range(5)
    ]
    put_logs(backend, now + then)
    answer = client.post(
        f"{LOGS}patterns_diff/", json={"query": {"dateRange": WINDOW, "serviceNames": ["svc"]}}
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    found = [(e["classification"], e["pattern"]["pattern"], e["rate_ratio"]) for e in body["entries"]]
    assert found == [
        ("new", "Disk quota exceeded on volume data", None),
        ("rate_shift", "Synced batch <num>", 4.0),
        ("gone", "Legacy endpoint called", None),
    ]
    assert body["entries"][1]["baseline_estimated_count"] == 5
    assert body["baseline"]["date_from"] == base.isoformat() and body["current"]["total_count"] == 21
    assert (body["baseline"]["total_count"], body["baseline"]["sampled"]) == (10, False)


def test_patterns_refuse_what_the_view_does(client):
    """_require_dict_query's ParseError; a baselineDateRange that is no object is DateRange's
    pydantic parse error."""
    listed = client.post(f"{LOGS}patterns/", json={"query": [1]}).get_json()
    assert (listed["code"], listed["detail"]) == ("parse_error", "query must be an object")
    baseline = client.post(f"{LOGS}patterns_diff/", json={"query": {}, "baselineDateRange": 3}).get_json()
    assert baseline["code"] == "parse_error" and "validation error for DateRange" in baseline["detail"]
