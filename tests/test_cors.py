"""CORS as PostHog's API answers it: a browser app's preflight gets 200 without a key, and the
responses carry the origin back.

Verified in PostHog's source: posthog/settings/access.py (CORS_ORIGIN_ALLOW_ALL = True,
CORS_ALLOW_CREDENTIALS = True), posthog/settings/web.py (CORS_URLS_REGEX: every /api/ path but
early_access_features, surveys and web_experiments; CORS_ALLOW_HEADERS = django-cors-headers'
default_headers + CORS_ALLOWED_TRACING_HEADERS), posthog/utils_cors.py (the tracing headers), and
django-cors-headers' corsheaders/middleware.py and defaults.py (preflight short-circuit, echoed
origin when credentials are allowed, default methods, max age 86400, Vary: origin).
"""

from __future__ import annotations

import pytest

ORIGIN = "http://localhost:3000"
ALLOW_HEADERS = (
    "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, traceparent, "
    "request-id, request-context, x-amzn-trace-id, x-cloud-trace-context, Sentry-Trace, Baggage, "
    "x-highlight-request, x-datadome-clientid, x-posthog-token, x-b3-sampled, x-b3-spanid, "
    "x-b3-traceid, x-b3-parentspanid, b3"
)
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/1/persons/",
        "/api/environments/1/exports/7",
        "/api/users/@me/",
        "/api/projects/1/not_a_route/",  # answered before routing, as django-cors-headers does
    ],
)
def test_a_preflight_without_credentials_is_200_with_the_allowed_headers(anonymous, backend, path):
    before = len(backend.journal.entries())
    response = anonymous.options(path, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "0"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, OPTIONS, PATCH, POST, PUT"
    assert response.headers["Access-Control-Allow-Headers"] == ALLOW_HEADERS
    assert response.headers["Access-Control-Max-Age"] == "86400"
    assert "Origin" in response.headers["Vary"]
    assert len(backend.journal.entries()) == before  # not a call to the API


def test_an_actual_request_gets_the_origin_back_without_the_preflight_headers(client):
    response = client.get("/api/projects/1/persons/?limit=1", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    for preflight_only in (
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
    ):
        assert preflight_only not in response.headers
    assert "Access-Control-Expose-Headers" not in response.headers


def test_errors_carry_the_origin_too_so_the_browser_can_read_them(anonymous):
    response = anonymous.get("/api/projects/1/persons/", headers={"Origin": "https://app.example.com"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    missing = anonymous.get("/api/projects/1/not_a_route/", headers={"Origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_an_options_request_that_is_not_a_preflight_still_needs_a_key(anonymous):
    """Without Access-Control-Request-Method it is DRF's OPTIONS: authenticated like any call."""
    response = anonymous.options("/api/projects/1/persons/", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, OPTIONS, PATCH, POST, PUT"


def test_without_an_origin_only_vary_is_added(client):
    response = client.get("/api/projects/1/persons/?limit=1")
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_null_origin_of_a_file_page_is_echoed(client):
    response = client.get("/api/projects/1/persons/?limit=1", headers={"Origin": "null"})
    assert response.headers["Access-Control-Allow-Origin"] == "null"


def test_the_control_plane_is_not_posthogs_api_and_has_no_cors(anonymous):
    response = anonymous.options("/_mockhog/health", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in response.headers
