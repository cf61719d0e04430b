"""CORS on the SDK endpoints, as a browser running posthog-js meets it.

Sources: rust/capture/src/router.rs and rust/feature-flags/src/router.rs in PostHog/posthog (a
tower-http ``CorsLayer``: methods GET, POST, OPTIONS (+ HEAD for flags), headers and origin mirrored
from the request, credentials allowed), and tower-http's cors/mod.rs (every OPTIONS is answered by
the layer with an empty 200; ``Vary`` on every response).
"""

import pytest

from mockhog.resources.identity import api_token

ORIGIN = "https://app.hedgebox.dev"
VARY = "origin, access-control-request-method, access-control-request-headers"
CAPTURE_PATHS = ["/e/", "/i/v0/e/", "/batch/", "/capture/", "/track/", "/engage/", "/s/", "/e"]
FLAGS_PATHS = ["/flags/?v=2", "/flags/definitions", "/decide/?v=4"]


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


def _preflight(client, path, headers="content-type,traceparent,x-custom-thing"):
    return client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("path", CAPTURE_PATHS)
def test_capture_preflight(anonymous, backend, path):
    """Any OPTIONS: 200, empty body, the origin and the asked headers mirrored, credentials on."""
    response = _preflight(anonymous, path)
    assert response.status_code == 200 and response.data == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type,traceparent,x-custom-thing"
    assert response.headers["Vary"] == VARY
    assert all(entry.method != "OPTIONS" for entry in backend.journal.entries())


@pytest.mark.parametrize("path", FLAGS_PATHS)
def test_flags_preflight_also_allows_head(anonymous, path):
    response = _preflight(anonymous, path, headers="content-type")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS,HEAD"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_options_without_origin_is_still_answered_by_the_layer(anonymous):
    """tower-http treats every OPTIONS as a preflight: no origin is echoed, credentials still are."""
    response = anonymous.options("/e/")
    assert response.status_code == 200 and response.data == b""
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"


def test_a_capture_answer_carries_the_origin(anonymous, backend, token):
    body = {"api_key": token, "batch": [{"event": "e", "distinct_id": "d"}]}
    response = anonymous.post("/e/", json=body, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Vary"] == VARY
    assert "Access-Control-Allow-Methods" not in response.headers


def test_refusals_carry_cors_too(anonymous):
    """A browser must be able to read a 400/401 too: the layer wraps every answer."""
    response = anonymous.post("/e/", data=b"not json", headers={"Origin": ORIGIN})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    flags = anonymous.post(
        "/flags/?v=2", json={"token": "phc_nobody", "distinct_id": "d"}, headers={"Origin": ORIGIN}
    )
    assert flags.status_code == 401 and flags.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_flags_answer_carries_the_origin(anonymous, token):
    response = anonymous.post(
        "/flags/?v=2", json={"token": token, "distinct_id": "d"}, headers={"Origin": "http://localhost:3000"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_remote_config_is_readable_cross_origin(anonymous, token):
    response = anonymous.get(f"/array/{token}/config", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_api_paths_keep_djangos_cors(anonymous):
    """/api/feature_flag/local_evaluation is a Django path: django-cors-headers' answer, not the layer's."""
    response = _preflight(anonymous, "/api/feature_flag/local_evaluation", headers="authorization")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Methods"] != "GET,POST,OPTIONS,HEAD"
    assert response.headers["Vary"] == "Origin"
