"""The request log of `mockhog serve`: one line per request, text or JSON, and never a secret."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from serving import serving
from werkzeug.test import Client

from mockhog import DEFAULT_API_KEY, Backend, create_app
from mockhog.journal import Entry
from mockhog.keys import ApiKey
from mockhog.requestlog import RequestLog, describe

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
DURATION = r"\d+\.\dms"


class Logged:
    """An app behind the request log, and the lines it wrote."""

    def __init__(self, backend: Backend, log_format: str) -> None:
        self.stream = io.StringIO()
        self.log = RequestLog(create_app(backend=backend), backend.journal, self.stream, log_format)
        self.client = Client(self.log)

    def send(self, method: str, path: str, **kwargs: Any) -> None:
        """One request, read to the end and closed as a server does (that writes the line)."""
        loopback = {"REMOTE_ADDR": "127.0.0.1"}  # as from a local client: the control plane answers
        self.client.open(path, method=method, buffered=True, environ_base=loopback, **kwargs)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def last(self) -> str:
        return self.lines()[-1]


@pytest.fixture
def logged(backend: Backend) -> Iterator[Any]:
    made: list[Logged] = []

    def make(log_format: str = "text") -> Logged:
        made.append(Logged(backend, log_format))
        return made[-1]

    backend.reset_all()
    yield make
    for each in made:
        backend.journal.listeners.remove(each.log.recorded)
    backend.reset_all()


def test_a_served_request_is_one_line_with_time_method_path_status_duration_and_operation(logged):
    log = logged()
    log.send("GET", "/api/projects/1/persons/?limit=2", headers=AUTH)
    assert len(log.lines()) == 1
    assert re.fullmatch(
        rf"{TIME} GET /api/projects/1/persons/\?limit=2 200 {DURATION} persons_list", log.last()
    )


def test_a_refused_request_names_the_rule_it_broke(logged, backend):
    backend.keys.add(
        ApiKey(id="k-read", label="exports only", value="phx_exports_only_key", scopes=["export:read"])
    )
    log = logged()
    log.send("GET", "/api/projects/1/persons/", headers={"Authorization": "Bearer phx_exports_only_key"})
    assert re.fullmatch(
        rf"{TIME} GET /api/projects/1/persons/ 403 {DURATION} persons_list refused by scope: "
        "API key missing required scope 'person:read'",
        log.last(),
    )
    log.send("GET", "/api/projects/1/persons/")
    assert log.last().endswith(" persons_list refused by auth: Authentication credentials were not provided.")
    log.send("POST", "/api/projects/1/exports/", json={"export_format": "image/tiff"}, headers=AUTH)
    assert re.fullmatch(
        rf"{TIME} POST /api/projects/1/exports/ 400 {DURATION} exports_create "
        'refused by schema: "image/tiff" is not a valid choice.',
        log.last(),
    )
    log.send("GET", "/api/projects/1/nothing_here/", headers=AUTH)
    assert re.fullmatch(
        rf"{TIME} GET /api/projects/1/nothing_here/ 404 {DURATION} - refused by route: Endpoint not found.",
        log.last(),
    )


def test_an_answer_that_is_not_a_violation_says_answered(logged):
    log = logged()
    log.send("GET", "/api/projects/1/exports/999999/", headers=AUTH)
    assert log.last().endswith(" exports_retrieve answered by not_found: Not found.")


def test_requests_outside_the_api_are_logged_too(logged):
    log = logged()
    log.send("GET", "/_mockhog/health")
    assert re.fullmatch(rf"{TIME} GET /_mockhog/health 200 {DURATION} -", log.last())


def test_no_key_reaches_the_line(logged):
    log = logged()
    log.send(
        "GET",
        "/api/projects/1/persons/?limit=1&personal_api_key=phx_in_the_query_1&api_key=phx_other",
        headers={"Authorization": "Bearer phx_in_the_header_2"},
    )
    log.send("POST", "/api/projects/1/exports/", json={"personal_api_key": "phx_in_the_body_3"})
    log.send("GET", "/_mockhog/health", headers={"X-Mockhog-Admin-Token": "admin-token-4"})
    text = "\n".join(log.lines())
    for secret in (
        "phx_in_the_query_1",
        "phx_other",
        "phx_in_the_header_2",
        "phx_in_the_body_3",
        "admin-token-4",
    ):
        assert secret not in text
    assert "?limit=1&personal_api_key=[redacted]&api_key=[redacted] 401" in text


def test_errors_about_secret_fields_stay_readable_but_mask_quoted_values(logged, client):
    assert (
        client.patch("/api/projects/1/insights/1/sharing/", json={"password_required": True}).status_code
        == 200
    )
    log = logged()
    log.send(
        "POST", "/api/projects/1/insights/1/sharing/passwords/", json={"raw_password": "short"}, headers=AUTH
    )
    assert log.last().endswith(" answered by rule: Password must be at least 8 characters long.")
    assert "short" not in log.last()
    echoed = Entry(1, 0.0, "POST", "/x", {}, None, 400, 1.0, rule="schema")
    echoed.error = {"attr": "password", "detail": '"hunter2" is not a valid choice.'}
    assert (
        describe({"REQUEST_METHOD": "POST"}, 400, 1.0, echoed)["detail"]
        == "[redacted] is not a valid choice."
    )
    echoed.error = {"attr": "export_format", "detail": '"image/tiff" is not a valid choice.'}
    assert describe({}, 400, 1.0, echoed)["detail"] == '"image/tiff" is not a valid choice.'


def test_json_lines_carry_the_same_facts(logged):
    log = logged("json")
    log.send("GET", "/api/environments/1/persons/?limit=1", headers=AUTH)
    log.send("GET", "/api/projects/1/persons/")
    ok, refused = (json.loads(line) for line in log.lines())
    assert re.fullmatch(TIME, ok.pop("time")) and isinstance(ok.pop("duration_ms"), float)
    assert ok == {
        "method": "GET",
        "path": "/api/environments/1/persons/?limit=1",
        "status": 200,
        "operation_id": "environments_persons_list",
        "rule": None,
        "violation": False,
        "detail": None,
    }
    assert (refused["status"], refused["rule"], refused["violation"]) == (401, "auth", True)
    assert refused["detail"] == "Authentication credentials were not provided."


def test_serve_logs_each_request_on_a_real_socket():
    with serving() as served:
        requests.get(f"{served.url}/api/projects/1/persons/?limit=2", headers=AUTH, timeout=5)
        requests.get(
            f"{served.url}/api/projects/1/persons/", headers={"Authorization": "Bearer phx_wrong"}, timeout=5
        )
        lines = served.request_lines()
        assert re.fullmatch(
            rf"{TIME} GET /api/projects/1/persons/\?limit=2 200 {DURATION} persons_list", next(lines)
        )
        assert next(lines).endswith(
            " persons_list refused by auth: "
            "Personal API key found in request Authorization header is invalid."
        )


def test_serve_log_format_json_prints_json_lines_only():
    with serving("--log-format", "json") as served:
        assert json.loads(served.banner) == {
            "event": "listening",
            "url": served.url,
            "seed": 0,
            "projects": [1],
        }
        requests.get(f"{served.url}/api/projects/1/exports/", headers=AUTH, timeout=5)
        line = next(served.json_lines())
        assert (line["method"], line["path"], line["status"], line["operation_id"]) == (
            "GET",
            "/api/projects/1/exports/",
            200,
            "exports_list",
        )


def test_serve_quiet_logs_nothing():
    with serving("--quiet") as served:
        assert requests.get(f"{served.url}/api/projects/1/exports/", headers=AUTH, timeout=5).ok
        assert served.line().startswith("  personal API key: ")
        assert served.line().startswith("  seed: 0")
        served.stop()
        assert served.remaining() == []
