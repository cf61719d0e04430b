"""The control plane: state, journal, faults, rate limits, async work and its own safety."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from mockhog import Backend, create_app
from mockhog.cli import build_parser
from mockhog.journal import Journal, bounded
from mockhog.serving import create_server

EXPORTS = "/api/projects/1/exports/"
NEW_EXPORT = {"insight": 1, "export_format": "text/csv"}


# -- state ---------------------------------------------------------------------------------------
def test_health(client):
    body = client.get("/_mockhog/health").get_json()
    assert body["status"] == "ok" and body["seed"] == 0 and body["projects"] == [1]
    assert body["operations"] >= 130


def test_reset_restores_the_seed_state(client, backend):
    seeded = backend.store.dump()
    client.post(EXPORTS, json=NEW_EXPORT)
    assert backend.store.dump() != seeded
    assert client.post("/_mockhog/reset").get_json() == {"status": "reset", "seed": 0}
    assert backend.store.dump() == seeded
    assert client.post(EXPORTS, json=NEW_EXPORT).get_json()["id"] == 13  # ids restart too


def test_reset_one_project(client, backend):
    client.post(EXPORTS, json=NEW_EXPORT)
    assert client.post("/_mockhog/reset", json={"project": 1}).get_json()["project"] == 1
    assert client.get(EXPORTS).get_json()["count"] == 12
    assert client.post("/_mockhog/reset", json={"project": 7}).status_code == 400


def test_reseed(client, backend):
    before = client.get("/api/projects/1/persons/?limit=1").get_json()["results"]
    assert client.post("/_mockhog/reseed", json={"seed": 5}).get_json() == {"status": "reseeded", "seed": 5}
    after = client.get("/api/projects/1/persons/?limit=1").get_json()["results"]
    assert after != before and backend.seed == 5
    assert client.post("/_mockhog/reseed", json={"seed": "x"}).status_code == 400
    client.post("/_mockhog/reseed", json={"seed": 0})
    assert client.get("/api/projects/1/persons/?limit=1").get_json()["results"] == before


def test_load_fixture_records_live_and_dump_them(client, backend):
    loaded = client.post(
        "/_mockhog/fixtures", json={"records": {"1": {"insights": [{"id": 40, "name": "Loaded live"}]}}}
    )
    assert loaded.get_json() == {"status": "loaded", "records": 1}
    made = client.post(EXPORTS, json={"insight": 40, "export_format": "text/csv"})
    assert made.status_code == 201 and "loaded-live" in made.get_json()["filename"]
    dumped = client.get("/_mockhog/records/1/insights").get_json()
    assert {"id": 40, "name": "Loaded live"} in dumped
    client.post("/_mockhog/reset")
    assert all(row["id"] != 40 for row in client.get("/_mockhog/records/1/insights").get_json())


def test_a_bad_live_fixture_changes_nothing(client, backend):
    before = backend.store.dump()
    response = client.post(
        "/_mockhog/fixtures",
        json={
            "records": {
                "1": {"insights": [{"id": 41, "name": "ok"}], "exports": [{"id": 1, "export_format": 3}]}
            }
        },
    )
    assert response.status_code == 400 and "exports[0]" in response.get_json()["detail"]
    assert backend.store.dump() == before


# -- journal -------------------------------------------------------------------------------------
def test_journal_records_requests_and_redacts_secrets(client):
    client.post(EXPORTS, json=NEW_EXPORT)
    client.patch("/api/projects/1/insights/1/sharing/", json={"password_required": True})
    client.post("/api/projects/1/insights/1/sharing/passwords/", json={"raw_password": "hunter2hunter2"})
    client.get(f"{EXPORTS}?personal_api_key=phx_secret_in_query")
    entries = client.get("/_mockhog/journal").get_json()
    created = entries[0]
    assert created["method"] == "POST" and created["path"] == EXPORTS and created["status"] == 201
    assert created["operation_id"] == "exports_create" and created["body"] == NEW_EXPORT
    assert created["duration_ms"] >= 0 and created["violation"] is False
    text = str(entries)
    assert "hunter2hunter2" not in text and "phx_secret_in_query" not in text
    assert "phx_mockhog_default_key" not in text
    assert entries[2]["body"] == {"raw_password": "[redacted]"}


def test_journal_filters_count_and_clear(client):
    client.get(EXPORTS)
    client.post(EXPORTS, json={"insight": 1})  # schema violation: export_format is required
    client.get("/api/projects/1/nowhere/")
    assert client.get("/_mockhog/journal/count").get_json() == {"count": 3}
    assert client.get("/_mockhog/journal/count?method=post").get_json() == {"count": 1}
    violations = client.get("/_mockhog/journal?violation=true").get_json()
    assert [(e["rule"], e["status"]) for e in violations] == [("schema", 400), ("route", 404)]
    assert violations[0]["error"]["attr"] == "export_format"
    assert client.get("/_mockhog/journal?operation=exports_list").get_json()[0]["status"] == 200
    first = client.get("/_mockhog/journal").get_json()[0]["id"]
    assert len(client.get(f"/_mockhog/journal?since={first}").get_json()) == 2
    assert client.delete("/_mockhog/journal").status_code == 204
    assert client.get("/_mockhog/journal/count").get_json() == {"count": 0}


def test_journal_is_bounded():
    backend = Backend(seed=0, journal_limit=3)
    client = create_app(backend=backend).test_client()
    for _ in range(5):
        client.get(EXPORTS, headers={"Authorization": f"Bearer {backend.api_key}"})
    assert len(backend.journal.entries()) == 3


# -- faults --------------------------------------------------------------------------------------
def test_fault_rule_answers_503_a_given_number_of_times(client):
    rule = client.post("/_mockhog/faults", json={"operation_id": "exports_list", "status": 503, "count": 2})
    assert rule.status_code == 201
    answers = [client.get(EXPORTS) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].get_json() == {
        "type": "server_error",
        "code": "service_unavailable",
        "detail": "Service temporarily unavailable, try again later.",
        "attr": None,
    }
    assert client.get("/_mockhog/faults").get_json()[0]["fired"] == 2
    assert (
        client.get("/_mockhog/journal?status=503").get_json()[0]["fault"] == f"rule {rule.get_json()['id']}"
    )


def test_fault_rule_matches_method_path_project_and_header(client):
    client.post("/_mockhog/faults", json={"method": "POST", "path": "/exports/$", "project": 1,
                                          "header": {"X-Test": "boom"}, "status": 500})  # fmt: skip
    assert client.post(EXPORTS, json=NEW_EXPORT).status_code == 201
    assert client.post(EXPORTS, json=NEW_EXPORT, headers={"X-Test": "boom"}).status_code == 500
    assert client.get(EXPORTS, headers={"X-Test": "boom"}).status_code == 200


def test_fault_rule_probability_is_seeded(client):
    client.post("/_mockhog/faults", json={"path": "exports", "status": 500, "probability": 0.5})
    first = [client.get(EXPORTS).status_code for _ in range(20)]
    client.delete("/_mockhog/faults")
    client.post("/_mockhog/faults", json={"path": "exports", "status": 500, "probability": 0.5})
    assert [client.get(EXPORTS).status_code for _ in range(20)] == first
    assert 0 < first.count(500) < 20


@pytest.mark.parametrize(
    "rule, attr",
    [
        ({"status": "x"}, "status"),
        ({"status": 99}, "status"),
        ({"path": "(", "status": 500}, "path"),
        ({"probability": 2, "status": 500}, "probability"),
        ({"probability": None, "status": 500}, "probability"),
        ({"colour": 1, "status": 500}, "colour"),
        ({"method": "GET"}, None),
        ({"method": "GET /x", "status": 500}, "method"),
        ({"latency_ms": float("1e300")}, "latency_ms"),
        ({"latency_ms": 3_600_001}, "latency_ms"),
        ({"status": True}, "status"),
        ({"count": 0, "status": 500}, "count"),
        ({"retry_after": -1, "status": 429}, "retry_after"),
        ({"header": {"X-Test": 1}, "status": 500}, "header__X-Test"),
        ({"header": {"Bad Name": "x"}, "status": 500}, "header__Bad Name"),
        ({"path": "(?<=a)b", "status": 500}, "path"),
    ],
)
def test_bad_fault_rules_are_refused(client, rule, attr):
    response = client.post("/_mockhog/faults", json=rule)
    assert response.status_code == 400 and response.get_json()["attr"] == attr
    assert client.get("/_mockhog/faults").get_json() == []


def test_removing_one_rule(client):
    made = client.post("/_mockhog/faults", json={"status": 500}).get_json()
    assert client.delete(f"/_mockhog/faults/{made['id']}").status_code == 204
    assert client.delete(f"/_mockhog/faults/{made['id']}").status_code == 404


def _serve(backend: Backend, threads: int = 4) -> Iterator[str]:
    backend.reset_all()
    httpd = create_server(create_app(backend=backend), host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.effective_port}"
    backend.reset_all()  # wakes any request still sleeping out a latency rule
    httpd.close()
    httpd.task_dispatcher.shutdown(timeout=5)


@pytest.fixture
def server(backend):
    """The app on mockhog's real threaded server, for what only a socket shows."""
    yield from _serve(backend)


@pytest.fixture
def two_thread_server(backend):
    yield from _serve(backend, threads=2)


AUTH = {"Authorization": "Bearer phx_mockhog_default_key"}


def _wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _sleeping_requests(server: str, backend: Backend, count: int) -> list[threading.Thread]:
    """``count`` requests that each sleep out a ten-minute latency rule (all workers, when enough)."""
    made = requests.post(f"{server}/_mockhog/faults", json={"path": "exports", "latency_ms": 600_000})
    assert made.status_code == 201, made.text
    answers: list[int] = []

    def call() -> None:
        answers.append(requests.get(f"{server}{EXPORTS}", headers=AUTH, timeout=60).status_code)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    _wait_until(lambda: backend.faults.rules and backend.faults.rules[0].fired == count)
    threads.append(answers)  # type: ignore[arg-type]
    return threads


def test_client_backs_off_on_429_with_retry_after(server):
    auth = {"Authorization": "Bearer phx_mockhog_default_key"}
    requests.post(
        f"{server}/_mockhog/faults", json={"path": "persons", "status": 429, "retry_after": 2, "count": 1}
    )
    waits = []
    for _ in range(3):  # a client's retry loop
        response = requests.get(f"{server}/api/projects/1/persons/?limit=1", headers=auth, timeout=5)
        if response.status_code != 429:
            break
        waits.append(int(response.headers["Retry-After"]))
        assert response.json()["detail"] == "Request was throttled. Expected available in 2 seconds."
    assert waits == [2] and response.status_code == 200


def test_latency_rule_is_measured(server):
    auth = {"Authorization": "Bearer phx_mockhog_default_key"}
    requests.post(f"{server}/_mockhog/faults", json={"operation_id": "logs_query_create", "latency_ms": 300})
    started = time.perf_counter()
    response = requests.post(
        f"{server}/api/projects/1/logs/query/", json={"query": {"limit": 1, "dateRange": {}}}, headers=auth
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed >= 0.3


def test_dropped_connection(server):
    auth = {"Authorization": "Bearer phx_mockhog_default_key"}
    requests.post(f"{server}/_mockhog/faults", json={"path": "exports", "drop": True, "count": 1})
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(f"{server}{EXPORTS}", headers=auth, timeout=5)
    assert requests.get(f"{server}{EXPORTS}", headers=auth, timeout=5).status_code == 200


# -- rate limit ----------------------------------------------------------------------------------
def test_rate_limit_is_per_key_and_off_by_default(client):
    assert client.get("/_mockhog/rate_limit").get_json() == {"enabled": False}
    client.put("/_mockhog/rate_limit", json={"burst": "3/minute", "sustained": "100/hour"})
    statuses = [client.get(EXPORTS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = client.get(EXPORTS)
    assert throttled.get_json()["code"] == "throttled" and int(throttled.headers["Retry-After"]) > 0
    other = client.post("/_mockhog/personal_api_keys", json={"label": "other", "scopes": ["*"]}).get_json()
    assert client.get(EXPORTS, headers={"Authorization": f"Bearer {other['value']}"}).status_code == 200
    assert client.put("/_mockhog/rate_limit", json={"burst": "lots"}).status_code == 400
    client.delete("/_mockhog/rate_limit")
    assert client.get(EXPORTS).status_code == 200


# -- async work ----------------------------------------------------------------------------------
def test_timed_exports_become_ready(client):
    client.put("/_mockhog/async", json={"exports": {"mode": "timed", "seconds": 0.3}})
    made = client.post(EXPORTS, json=NEW_EXPORT).get_json()
    assert made["has_content"] is False
    time.sleep(0.35)
    assert client.get(f"{EXPORTS}{made['id']}/").get_json()["has_content"] is True


def test_sync_jobs_move_through_their_statuses(client):
    client.put("/_mockhog/async", json={"external_data_jobs": {"mode": "manual"}})
    source = client.get("/api/projects/1/external_data_sources/").get_json()["results"][0]
    url = f"/api/projects/1/external_data_sources/{source['id']}/"
    client.post(f"{url}reload/")
    assert client.get(url).get_json()["status"] == "Running"
    assert {job["status"] for job in client.get(f"{url}jobs/").get_json()[:1]} == {"Running"}
    assert client.post("/_mockhog/advance", json={"kind": "external_data_jobs"}).get_json()["advanced"] >= 1
    settled = client.get(url).get_json()
    assert settled["status"] == "Completed"
    newest = client.get(f"{url}jobs/").get_json()[0]
    assert newest["status"] == "Completed" and newest["finished_at"] and newest["rows_synced"] > 0


def test_async_settings_are_checked(client):
    assert client.put("/_mockhog/async", json={"exports": {"mode": "later"}}).status_code == 400
    assert client.put("/_mockhog/async", json={"videos": {"mode": "manual"}}).status_code == 400
    assert client.post("/_mockhog/advance", json={"kind": "videos"}).status_code == 400
    assert client.get("/_mockhog/async").get_json()["exports"] == {"mode": "immediate", "seconds": 0.0}


# -- safety --------------------------------------------------------------------------------------
def test_control_plane_answers_only_on_loopback(app):
    client = app.test_client()
    assert client.get("/_mockhog/health").status_code == 200
    remote = client.get("/_mockhog/health", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403 and "loopback" in remote.get_json()["detail"]


def test_admin_token(backend):
    client = create_app(backend=backend, admin_token="s3cret").test_client()
    assert client.get("/_mockhog/health").status_code == 403
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    ok = client.get("/_mockhog/health", headers={"X-Mockhog-Admin-Token": "s3cret"}, environ_base=remote)
    assert ok.status_code == 200


def test_admin_can_be_switched_off(backend):
    client = create_app(backend=backend, admin=False).test_client()
    assert client.get("/_mockhog/health").status_code == 404


def test_a_fault_with_a_no_body_status_sends_no_body(client):
    client.post("/_mockhog/faults", json={"path": "exports", "status": 204})
    response = client.get(EXPORTS)
    assert response.status_code == 204 and response.data == b""


def test_a_fault_path_is_an_re2_pattern(client):
    """Linear-time matching: the pattern that freezes Python's re answers at once."""
    client.post("/_mockhog/faults", json={"path": "(a+)+$", "status": 503})
    assert client.get(f"/api/projects/1/exports/{'a' * 40}!/").status_code == 404
    assert client.get(f"/api/projects/1/exports/{'a' * 40}").status_code == 503


# -- latency never locks anyone out -----------------------------------------------------------------
def test_clearing_rules_wakes_a_sleeping_request(server, backend):
    sleepers = _sleeping_requests(server, backend, 1)
    thread, answers = sleepers[0], sleepers[-1]
    assert requests.delete(f"{server}/_mockhog/faults", timeout=5).status_code == 204
    thread.join(timeout=10)
    assert not thread.is_alive() and answers == [200]


def test_removing_the_rule_wakes_its_sleepers(server, backend):
    sleepers = _sleeping_requests(server, backend, 1)
    rule = backend.faults.rules[0].id
    assert requests.delete(f"{server}/_mockhog/faults/{rule}", timeout=5).status_code == 204
    sleepers[0].join(timeout=10)
    assert sleepers[-1] == [200]


def test_control_plane_answers_while_every_worker_sleeps(two_thread_server, backend):
    """Both workers sleep out a ten-minute rule: /_mockhog/ has its own thread, and reset wakes them."""
    server = two_thread_server
    sleepers = _sleeping_requests(server, backend, 2)
    health = requests.get(f"{server}/_mockhog/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert requests.get(f"{server}/_mockhog/faults", timeout=5).json()[0]["fired"] == 2
    assert requests.post(f"{server}/_mockhog/reset", json={}, timeout=5).status_code == 200
    for thread in sleepers[:-1]:
        thread.join(timeout=10)
    assert sleepers[-1] == [200, 200]


# -- connections and what waitress answers itself --------------------------------------------------
def test_many_idle_keep_alive_connections_do_not_block_a_new_client(server):
    """waitress' default limit is 100 connections; mockhog serves 1000."""
    host, port = server.removeprefix("http://").split(":")
    idle = []
    try:
        for _ in range(150):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"GET /_mockhog/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            idle.append(sock)
        assert requests.get(f"{server}{EXPORTS}", headers=AUTH, timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()


def test_a_request_line_waitress_refuses_gets_posthogs_envelope(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /api/projects/1/exports/\xff\xfe/ HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head
    assert requests.models.complexjson.loads(body) == {
        "type": "invalid_request",
        "code": "parse_error",
        "detail": "Bad Request: Bad URI",
        "attr": None,
    }


def test_cross_site_requests_are_refused_over_a_socket(server, backend):
    requests.post(f"{server}{EXPORTS}", json=NEW_EXPORT, headers=AUTH)
    changed = backend.store.dump()
    forged = requests.post(
        f"{server}/_mockhog/reset",
        data="",
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        timeout=5,
    )
    assert forged.status_code == 403 and forged.json()["code"] == "permission_denied"
    assert backend.store.dump() == changed
    own_page = requests.post(f"{server}/_mockhog/reset", json={}, headers={"Origin": server}, timeout=5)
    assert own_page.status_code == 200 and backend.store.dump() != changed


# -- the journal's bounds ---------------------------------------------------------------------------
def test_journal_is_bounded_in_bytes():
    backend = Backend(seed=0)
    backend.journal = Journal(max_bytes=256 * 1024, body_limit=16 * 1024)
    client = create_app(backend=backend).test_client()
    big = {"export_format": "text/csv", "insight": "x" * 500_000}  # refused: insight is an integer
    for _ in range(30):
        response = client.post(EXPORTS, json=big, headers=AUTH)
        assert response.status_code == 400
    entries = backend.journal.entries()
    assert backend.journal.bytes <= 256 * 1024 and 5 <= len(entries) < 30
    kept = entries[-1].body
    assert isinstance(kept, str) and kept.startswith('{"export_format":"text/csv","insight":"xxx')
    assert kept.endswith("[mockhog: truncated, 500041 bytes of JSON, 16384 kept]")


def test_bounded_redacts_and_survives_any_depth():
    deep: object = "bottom"
    for _ in range(100_000):
        deep = {"a": [deep]}
    kept, size = bounded({"token": "s3cret", "nested": deep})
    assert kept["token"] == "[redacted]" and size > 0
    assert "nested deeper than 64 levels" in str(kept)


def test_serve_options():
    args = build_parser().parse_args(["serve", "--connection-limit", "5000", "--journal-size", "16M"])
    assert args.connection_limit == 5000 and args.journal_size == 16 * 1024 * 1024
    defaults = build_parser().parse_args(["serve"])
    assert defaults.connection_limit == 1000 and defaults.journal_size == 64 * 1024 * 1024
    for bad in (["--connection-limit", "0"], ["--journal-size", "lots"], ["--journal-size", "10"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", *bad])
