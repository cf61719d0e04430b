"""The control plane: state, journal, faults, rate limits, async work and its own safety."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import waitress

from mockhog import Backend, create_app

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
        ({"colour": 1, "status": 500}, "colour"),
        ({"method": "GET"}, None),
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


@pytest.fixture
def server(backend):
    """The app on a real threaded server, for what only a socket shows."""
    backend.reset_all()
    httpd = waitress.create_server(create_app(backend=backend), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.effective_port}"
    httpd.close()
    backend.reset_all()


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
        f"{server}/api/projects/1/logs/query/", json={"query": {"limit": 1}}, headers=auth
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
