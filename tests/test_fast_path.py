"""mockhog.api.ApiFastPath: an /api/ request served straight from WSGI gets exactly the answer
Flask's own routing and hooks give it (the same status, headers, body and journal entry)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.test import Client

import mockhog
from mockhog.api import ApiFastPath

AUTH = {"Authorization": "Bearer phx_mockhog_default_key"}
JSON = "application/json"
ORIGIN = {**AUTH, "Origin": "https://app.example"}
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/projects/1/persons/?limit=3", {"headers": AUTH}),
    ("GET", "/api/environments/1/persons/?limit=2&offset=1", {"headers": ORIGIN}),
    ("HEAD", "/api/projects/1/persons/?limit=2", {"headers": AUTH}),
    ("GET", "/api/projects/1/persons", {"headers": AUTH}),
    ("GET", "/api/projects/1/persons/?limit=abc", {"headers": AUTH}),
    ("GET", "/api/projects/1/persons/", {}),
    ("GET", "/api/projects/1/persons/", {"headers": {"Authorization": "Bearer phx_wrong"}}),
    ("GET", "/api/projects/999/persons/", {"headers": AUTH}),
    ("GET", "/api/projects/1/no_such_thing/", {"headers": AUTH}),
    ("GET", "/api/users/@me/", {"headers": ORIGIN}),
    ("GET", "/api/projects/@current/", {"headers": AUTH}),
    ("POST", "/api/projects/1/file_system/", {"headers": AUTH, "json": {"path": "A/B", "type": "folder"}}),
    ("POST", "/api/projects/1/file_system/", {"headers": AUTH, "json": {"type": 3}}),
    ("POST", "/api/projects/1/file_system/", {"headers": AUTH, "data": "{", "content_type": JSON}),
    ("POST", "/api/projects/1/file_system/", {"headers": AUTH, "data": "x", "content_type": "text/plain"}),
    ("POST", "/api/projects/1/annotations/", {"json": {"personal_api_key": "phx_mockhog_default_key"}}),
    ("PATCH", "/api/projects/1/persons/", {"headers": AUTH, "json": {}}),
    ("DELETE", "/api/projects/1/persons/1/", {"headers": AUTH}),
    ("OPTIONS", "/api/projects/1/persons/", {"headers": AUTH}),
    ("OPTIONS", "/api/projects/1/persons/", {"headers": {**ORIGIN, "Access-Control-Request-Method": "GET"}}),
    ("TRACE", "/api/projects/1/persons/", {"headers": AUTH}),
    ("GET", "/api/projects/1/persons/%E2%82%AC/", {"headers": AUTH}),
    ("GET", "/api/projects/1/event_definitions/?search=%00", {"headers": AUTH}),
    ("GET", "/api/surveys/?token=phc_x", {"headers": ORIGIN}),
]


_NOW = re.compile(rb'"(created_at|updated_at)":"[^"]*"')


def _answer(client: Client, method: str, path: str, options: dict[str, Any]) -> tuple[Any, ...]:
    """Status, headers and body; the times a create writes from the wall clock left out."""
    reply = client.open(path, method=method, **options)
    headers = sorted((k, v) for k, v in reply.headers.items())
    return reply.status_code, headers, _NOW.sub(rb'"\1":"-"', reply.get_data())


def test_the_fast_path_answers_as_flask_does() -> None:
    fast_app = mockhog.create_app(seed=0)
    flask_app = mockhog.create_app(seed=0)
    assert isinstance(fast_app.wsgi_app, ApiFastPath)
    flask_app.wsgi_app = flask_app.wsgi_app.flask  # type: ignore[method-assign]
    fast, slow = Client(fast_app), Client(flask_app)
    for method, path, options in REQUESTS:
        assert _answer(fast, method, path, options) == _answer(slow, method, path, options), (method, path)
    journals = []
    for app in (fast_app, flask_app):
        entries = [e.to_json() for e in app.extensions["mockhog"].journal.entries()]
        journals.append([{k: v for k, v in e.items() if k not in ("time", "duration_ms")} for e in entries])
    assert journals[0] == journals[1]
    assert len(journals[0]) >= len(REQUESTS) - 2  # preflights are answered before the journal


@pytest.mark.parametrize(
    "path",
    ["/api/schema/", "/api/schema", "/api/feature_flag/local_evaluation", "/api//projects/1/persons/"],
)
def test_flask_keeps_what_it_routes_elsewhere(path: str) -> None:
    app = mockhog.create_app(seed=0)
    plain = mockhog.create_app(seed=0)
    plain.wsgi_app = plain.wsgi_app.flask  # type: ignore[method-assign]
    assert _answer(Client(app), "GET", path, {"headers": AUTH}) == _answer(
        Client(plain), "GET", path, {"headers": AUTH}
    )
