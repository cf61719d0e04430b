"""CORS as PostHog's API answers it, so a browser app can be pointed at mockhog.

PostHog runs django-cors-headers with (posthog/settings/access.py) every origin allowed and
credentials allowed, and (posthog/settings/web.py) CORS on every ``/api/`` path except
``early_access_features``, ``surveys`` and ``web_experiments`` (which answer CORS themselves), with
django-cors-headers' default headers plus PostHog's tracing headers (posthog/utils_cors.py) and
its default methods and max age. So, on those paths:

- a preflight (OPTIONS with ``Access-Control-Request-Method``) is answered 200 with an empty body
  before routing and authentication: no key is needed;
- every response says ``Vary: Origin``; one to a request with an ``Origin`` echoes that origin
  with ``Access-Control-Allow-Credentials: true``; one to any OPTIONS also lists the allowed
  headers and methods and the max age. No response headers are exposed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request

PATHS = re.compile(r"^/api/(?!early_access_features|surveys|web_experiments)")
ALLOW_HEADERS = (
    # django-cors-headers' defaults
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
    # PostHog's tracing headers
    "traceparent",
    "request-id",
    "request-context",
    "x-amzn-trace-id",
    "x-cloud-trace-context",
    "Sentry-Trace",
    "Baggage",
    "x-highlight-request",
    "x-datadome-clientid",
    "x-posthog-token",
    "x-b3-sampled",
    "x-b3-spanid",
    "x-b3-traceid",
    "x-b3-parentspanid",
    "b3",
)
ALLOW_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
MAX_AGE = 86400  # seconds


def install(app: Flask) -> None:
    """As Flask hooks, for what Flask serves (mockhog.api's fast path calls the same two itself)."""
    app.before_request(lambda: preflight(_current()))
    app.after_request(lambda response: add_headers(_current(), response))


def _current() -> Request:
    return request._get_current_object()  # type: ignore[attr-defined]


def preflight(req: Request) -> Response | None:
    """The answer to a CORS preflight, before routing and authentication; else None."""
    if req.method == "OPTIONS" and "Access-Control-Request-Method" in req.headers and PATHS.match(req.path):
        return Response(b"", 200, content_type="text/html; charset=utf-8")
    return None


def add_headers(req: Request, response: Response) -> Response:
    """The CORS headers of a response. On every /api/ response, so kept cheap: the headers set
    directly (``response.vary.add`` parses and rewrites the header through a HeaderSet)."""
    if not PATHS.match(req.path):
        return response
    headers = response.headers
    _vary_origin(headers)
    origin = req.headers.get("Origin")
    if not origin or not _parses(origin):
        return response
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Allow-Credentials"] = "true"
    if req.method == "OPTIONS":
        headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
        headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
        headers["Access-Control-Max-Age"] = str(MAX_AGE)
    return response


_ALLOW_HEADERS = ", ".join(ALLOW_HEADERS)
_ALLOW_METHODS = ", ".join(ALLOW_METHODS)


def _vary_origin(headers: Headers) -> None:
    """``Origin`` added to ``Vary`` (as ``response.vary.add`` would: once, case-insensitively)."""
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = "Origin"
    elif "origin" not in (token.strip().lower() for token in vary.split(",")):
        headers["Vary"] = f"{vary}, Origin"


def _parses(origin: str) -> bool:
    try:
        urlsplit(origin)
    except ValueError:
        return False
    return True
