"""Capture endpoints: every body format and compression, and PostHog's exact answers.

Sources: rust/capture in PostHog/posthog (payload/common.rs extract_payload_bytes, v0_request.rs
RawRequest::from_bytes, api.rs CaptureError and CaptureResponse, token.rs validate_token).
"""

import base64
import gzip
import json
import time
from urllib.parse import quote

import lzstring
import pytest
import requests

from mockhog.ingestion import captured, recordings
from mockhog.resources.base import parse_time
from mockhog.resources.identity import api_token

OK = {"status": "Ok"}


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


def _event(token, name="file_uploaded", distinct_id="user-7", **properties):
    return {"event": name, "distinct_id": distinct_id, "properties": {"token": token, **properties}}


def _names(backend):
    return [(row["event"], row["distinct_id"]) for row in captured(backend)]


def _text(response):
    return response.status_code, response.get_data(as_text=True), response.mimetype


@pytest.mark.parametrize(
    "path", ["/batch/", "/i/v0/e/", "/e/", "/capture/", "/track/", "/engage/", "/e", "/batch"]
)
def test_every_v0_path_takes_a_batch(anonymous, backend, token, path):
    """handle_event_payload serves /i/v0/e/, /batch/, /e/, /capture/, /track/ and /engage/
    (payload/analytics.rs)."""
    body = {
        "api_key": token,
        "batch": [{"event": "signed_up", "distinct_id": "a"}, {"event": "file_shared", "distinct_id": "a"}],
    }
    response = anonymous.post(path, json=body)
    assert response.status_code == 200 and response.get_json() == OK
    assert _names(backend) == [("signed_up", "a"), ("file_shared", "a")]


def test_one_event_and_an_array(anonymous, backend, token):
    """RawRequest is an array (posthog-js), a batch, or one event (v0_request.rs)."""
    assert anonymous.post("/i/v0/e/", json=_event(token, "one")).get_json() == OK
    assert anonymous.post("/e/", json=[_event(token, "two"), _event(token, "three")]).get_json() == OK
    assert [name for name, _ in _names(backend)] == ["one", "two", "three"]


def test_gzip_body_with_the_header_or_the_query_hint(anonymous, backend, token):
    """Gzip is detected by its magic bytes, whatever the hint says (RawRequest::from_bytes)."""
    packed = gzip.compress(
        json.dumps({"api_key": token, "batch": [{"event": "zipped", "distinct_id": "user-7"}]}).encode()
    )
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert anonymous.post("/batch/", data=packed, headers=headers).get_json() == OK
    assert anonymous.post("/e/?compression=gzip-js", data=packed, content_type="text/plain").get_json() == OK
    assert anonymous.post("/e/", data=packed).get_json() == OK
    assert [name for name, _ in _names(backend)] == ["zipped"] * 3


def test_lz64_form_body(anonymous, backend, token):
    """posthog-js's lz64: a urlencoded form whose data is lz-string base64 (extract_payload_bytes)."""
    packed = lzstring.LZString().compressToBase64(json.dumps([_event(token, "lz")]))
    body = f"data={quote(packed)}&compression=lz64"
    response = anonymous.post("/e/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.get_json() == OK and _names(backend) == [("lz", "user-7")]


def test_lz64_query_hint(anonymous, backend, token):
    """The hint may be in the query string while the form carries only data (extract_compression)."""
    packed = lzstring.LZString().compressToBase64(json.dumps(_event(token, "lz-query")))
    response = anonymous.post(
        "/e/?compression=lz64", data=f"data={quote(packed)}", content_type="application/x-www-form-urlencoded"
    )
    assert response.get_json() == OK and _names(backend) == [("lz-query", "user-7")]


def test_base64_form_data(anonymous, backend, token):
    """A form's data= may be plain base64 JSON; '+' turned into ' ' by form decoding is restored."""
    encoded = base64.b64encode(json.dumps(_event(token, "b64", note="a>b?")).encode()).decode()
    body = f"data={encoded}"  # deliberately not URL-quoted: '+' arrives as a space
    response = anonymous.post("/capture/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.get_json() == OK
    assert captured(backend)[0]["properties"]["note"] == "a>b?"


def test_whole_body_base64(anonymous, backend, token):
    """A body that is entirely base64 is decoded before anything else (extract_payload_bytes)."""
    encoded = base64.b64encode(json.dumps(_event(token, "whole")).encode())
    assert anonymous.post("/i/v0/e/", data=encoded, content_type="text/plain").get_json() == OK
    assert _names(backend) == [("whole", "user-7")]


def test_get_with_data_in_the_query(anonymous, backend, token):
    """The data query parameter wins over the body (extract_payload_bytes)."""
    encoded = base64.b64encode(json.dumps(_event(token, "pixel")).encode()).decode()
    assert anonymous.get(f"/e/?data={quote(encoded)}").get_json() == OK
    assert _names(backend) == [("pixel", "user-7")]


def test_beacon_answers_204(anonymous, token):
    """beacon=1 answers CaptureResponseCode::NoContent (v0_endpoint.rs)."""
    response = anonymous.post("/e/?beacon=1", json=_event(token))
    assert response.status_code == 204 and response.data == b""


REFUSALS = [
    ({"batch": [{"event": "e", "distinct_id": "d"}]}, 401, "event submitted without an api_key"),
    ({"event": "e", "distinct_id": "d"}, 401, "event submitted without an api_key"),
    ({"api_key": "", "batch": [{"event": "e", "distinct_id": "d"}]}, 401, "API key is not valid: empty"),
    (
        [{"event": "e", "distinct_id": "d", "token": "phx_personal"}],
        401,
        "API key is not valid: personal_api_key",
    ),
    (
        [{"event": "e", "distinct_id": "d", "token": "a"}, {"event": "e", "distinct_id": "d", "token": "b"}],
        401,
        "batch submitted with inconsistent api_key values",
    ),
    ({"api_key": "t", "batch": []}, 400, "request holds no event"),
    ({"api_key": "t", "batch": [{"distinct_id": "d"}]}, 400, "event submitted with an empty event name"),
    ({"api_key": "t", "batch": [{"event": "e"}]}, 400, "event submitted without a distinct_id"),
    (
        {"api_key": "t", "batch": [{"event": "e", "distinct_id": ""}]},
        400,
        "event submitted without a distinct_id",
    ),
]


@pytest.mark.parametrize(("body", "status", "message"), REFUSALS)
def test_refusals_are_plain_text(anonymous, backend, body, status, message):
    """CaptureError's IntoResponse: the status and its Display text, nothing stored (api.rs)."""
    response = anonymous.post("/batch/", json=body)
    assert _text(response) == (status, message, "text/plain")
    assert captured(backend) == []


def test_undecodable_bodies(anonymous):
    """Empty payload, broken gzip, broken JSON (api.rs messages)."""
    assert _text(anonymous.post("/batch/", data=b""))[:2] == (400, "request missing data payload")
    broken = anonymous.post("/batch/", data=b"\x1f\x8b\x08broken")
    assert _text(broken)[:2] == (400, "failed to decode request: invalid gzip data")
    status, message, _ = _text(anonymous.post("/batch/", data=b"{not json", content_type="application/json"))
    assert status == 400 and message.startswith("failed to parse request: ")
    form = anonymous.post("/e/", data=b'{"a": 1}', content_type="application/x-www-form-urlencoded")
    assert _text(form)[:2] == (400, "failed to decode request: expected form data in POST request payload")


def test_an_unknown_token_is_accepted_and_dropped(anonymous, backend):
    """The service checks the token's shape only; events of no team are dropped later (token.rs)."""
    response = anonymous.post(
        "/batch/", json={"api_key": "phc_nobody", "batch": [{"event": "e", "distinct_id": "d"}]}
    )
    assert response.status_code == 200 and response.get_json() == OK
    assert "drops its events" in response.headers["X-Mockhog-Warning"]
    assert captured(backend) == []


def test_distinct_id_forms(anonymous, backend, token):
    """extract_distinct_id: root, $distinct_id or the property; numbers stringified; 200 characters."""
    events = [
        {"event": "a", "$distinct_id": "root-dollar"},
        {"event": "b", "properties": {"distinct_id": "from-props"}},
        {"event": "c", "distinct_id": 42},
        {"event": "d", "distinct_id": "x" * 250},
    ]
    assert anonymous.post("/batch/", json={"api_key": token, "batch": events}).get_json() == OK
    assert [d for _, d in _names(backend)] == ["root-dollar", "from-props", "42", "x" * 200]


def test_capture_is_journaled(anonymous, backend, token):
    """Capture requests are in the journal like API calls, refused ones with their rule."""
    anonymous.post("/batch/", json={"api_key": token, "batch": [{"event": "e", "distinct_id": "d"}]})
    anonymous.post("/batch/", json={"batch": [{"event": "e", "distinct_id": "d"}]})
    entries = backend.journal.find(path="/batch/")
    assert [(e.operation_id, e.status, e.rule) for e in entries] == [
        ("capture_batch", 200, None),
        ("capture_batch", 401, "auth"),
    ]
    assert entries[0].body == {"compression": "none", "events": [{"event": "e", "distinct_id": "d"}]}
    assert entries[1].error == "event submitted without an api_key"


def test_query_sent_at_corrects_the_clock(anonymous, backend, token):
    """posthog-js's _=<ms> is sent_at when the body has none (EventQuery::sent_at); ingestion then
    shifts the event by now - sent_at."""
    event = {**_event(token, "js"), "timestamp": "2021-03-01T00:00:00Z"}
    assert anonymous.post("/e/?_=1614556810000", json=event).get_json() == OK  # sent 10 s after
    assert captured(backend)[0]["timestamp"] > "2025-01-01"


def test_hostile_json(anonymous, backend, token):
    """Deep nesting is a parse error, not a crash; lone surrogates are replaced
    (passes/invalid_surrogates.rs), so the stored event reads back through REST."""
    deep = "[" * 100_000 + "]" * 100_000
    status, message, _ = _text(anonymous.post("/batch/", data=deep, content_type="application/json"))
    assert status == 400 and message.startswith("failed to parse request: ")
    event = json.dumps({"event": "odd", "distinct_id": "s", "properties": {"x": "a-SURROGATE-b"}})
    body = json.dumps({"api_key": token, "batch": []})[:-2] + event + "]}"
    body = body.replace("-SURROGATE-", "\\ud800")
    assert anonymous.post("/batch/", data=body, content_type="application/json").get_json() == OK
    assert captured(backend)[0]["properties"]["x"] == "a\ufffdb"
    auth = {"Authorization": "Bearer phx_mockhog_default_key"}
    assert anonymous.get("/api/projects/1/events/?event=odd", headers=auth).status_code == 200


def test_fault_rules_apply_to_the_sdk_endpoints(anonymous, backend, token):
    """The control plane's fault rules reach every SDK endpoint: by operation or path, counted."""
    backend.faults.add({"operation_id": "capture_batch", "status": 503, "count": 1})
    body = {"api_key": token, "batch": [{"event": "retried", "distinct_id": "d"}]}
    first = anonymous.post("/batch/", json=body)
    assert first.status_code == 503 and captured(backend) == []
    assert anonymous.post("/batch/", json=body).get_json() == OK
    assert _names(backend) == [("retried", "d")]
    backend.faults.add({"path": "^/flags", "status": 429, "retry_after": 2, "count": 1})
    throttled = anonymous.post("/flags/?v=4", json={"token": token, "distinct_id": "d"})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    entry = backend.journal.find(path="/flags/")[-1]
    assert entry.fault and entry.status == 429
    for operation, url in [
        ("remote_config", f"/array/{token}/config"),
        ("remote_config_js", f"/array/{token}/config.js"),
        ("surveys", f"/api/surveys/?token={token}"),
        ("early_access_features", f"/api/early_access_features/?token={token}"),
        ("flag_definitions", "/flags/definitions"),
    ]:
        backend.faults.add({"operation_id": operation, "status": 502, "count": 1})
        assert anonymous.get(url).status_code == 502, operation
        assert anonymous.get(url).status_code != 502, operation


def _snapshot(token, session_id="0192f3a1-aaaa-7bbb-8ccc-0123456789ab", data=None, **properties):
    data = [{"type": 2, "data": {}}] if data is None else data
    props = {"$session_id": session_id, "$window_id": "w-1", "$snapshot_data": data, **properties}
    return {"event": "$snapshot", "distinct_id": "viewer", "properties": {"token": token, **props}}


def test_recordings_are_kept_per_request(anonymous, backend, token):
    """/s/ (v0_endpoint::recording): the batch becomes one $snapshot_items record of the first event's
    session and window, every event's snapshot data in order; nothing is stored as an event."""
    body = [_snapshot(token, data=[{"type": 4}, {"type": 2}]), _snapshot(token, data={"type": 3})]
    compressed = gzip.compress(json.dumps(body).encode())
    response = anonymous.post("/s/?compression=gzip-js", data=compressed, content_type="text/plain")
    assert (response.status_code, response.get_json()) == (200, OK)
    [record] = recordings(backend, "0192f3a1-aaaa-7bbb-8ccc-0123456789ab")
    assert record["event"] == "$snapshot_items" and record["distinct_id"] == "viewer"
    assert record["window_id"] == "w-1" and record["snapshot_source"] == "web"
    assert record["snapshot_items"] == [{"type": 4}, {"type": 2}, {"type": 3}]
    assert _names(backend) == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"event": "$snapshot", "distinct_id": "v", "properties": {"$snapshot_data": []}},
            "replay event submitted without session id",
        ),
        (
            {
                "event": "$snapshot",
                "distinct_id": "v",
                "properties": {"$session_id": "no spaces", "$snapshot_data": []},
            },
            "replay event has invalid session id",
        ),
        (
            {
                "event": "$snapshot",
                "distinct_id": "v",
                "properties": {"$session_id": 7, "$snapshot_data": []},
            },
            "replay event has invalid session id",
        ),
        (
            {
                "event": "$snapshot",
                "distinct_id": "v",
                "properties": {"$session_id": "s" * 71, "$snapshot_data": []},
            },
            "replay event has invalid session id",
        ),
        (
            {"event": "$snapshot", "distinct_id": "v", "properties": {"$session_id": "s1"}},
            "replay event submitted without snapshot data",
        ),
        (
            {
                "event": "$snapshot",
                "distinct_id": "v",
                "properties": {"$session_id": "s1", "$snapshot_data": "x"},
            },
            "replay event submitted without snapshot data",
        ),
    ],
)
def test_recording_refusals(anonymous, backend, token, event, message):
    """process_replay_events' errors: 400 with CaptureError's text; nothing is kept."""
    event["properties"]["token"] = token
    response = anonymous.post("/s/", json=[event])
    assert _text(response) == (400, message, "text/plain")
    assert recordings(backend) == []


def test_posthog_js_query_sent_at(anonymous, backend, token):
    """posthog-js POSTs ``sent_at=<ms>`` in the query (EventQuery's sent_at, alias ``_``)."""
    now_ms = int(time.time() * 1000)
    event = {"event": "late", "distinct_id": "d", "timestamp": "2024-05-01T10:00:00Z", "token": token}
    shifted = anonymous.post(f"/e/?sent_at={1714557600000 + 60_000}", json=[event])
    assert shifted.status_code == 200
    [row] = captured(backend)
    assert abs(parse_time(row["timestamp"]).timestamp() * 1000 - (now_ms - 60_000)) < 5_000


def test_the_fixture_lists_recordings(mockhog):
    """``mockhog.recordings()`` shows what a browser SDK sent to /s/, per session."""
    body = [_snapshot(mockhog.project_token, session_id="sess-1", data={"type": 2})]
    response = requests.post(
        f"{mockhog.url}/s/", json=body, headers={"User-Agent": "posthog-js/1.0"}, timeout=10
    )
    assert response.status_code == 200
    [record] = mockhog.recordings("sess-1")
    assert record["snapshot_items"] == [{"type": 2}] and record["lib"] == "posthog-js"
    assert mockhog.recordings("other") == []
