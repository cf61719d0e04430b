"""The HTTP layer of the SDK endpoints: capture (``/batch/``, ``/i/v0/e/``, ...), session
recordings (``/s/``), ``/flags/``, ``/decide/``, the flag definitions the SDKs poll for local
evaluation, posthog-js's remote config (``/array/<token>/config``, ``config.js``), and the public,
token-authenticated ``/api/surveys/`` and ``/api/early_access_features/``.

Thin on purpose: :mod:`mockhog.capture` decodes, :mod:`mockhog.ingestion` stores,
:mod:`mockhog.flags` evaluates, :mod:`mockhog.remote_config` builds the config,
:func:`mockhog.resources.surveys.sdk_surveys` and
:func:`mockhog.resources.early_access_features.sdk_features` read what the SDKs load. Answers are
the services' own: capture and flags errors are plain text with the status the Rust services use,
successes are their JSON.

``/api/surveys/`` is served today by the Rust hypercache-server (rust/hypercache-server: its router
and api/surveys.rs), not by Django, which no longer routes it: any method, the token from the
query (``token``, else ``api_key``) or a POST's form body, 401 ``Token not provided`` and 400 for a
token of the wrong shape as plain text, and for a token of no project the empty answer
``{"surveys": [], "survey_config": null}`` (a cache miss), with the flags service's CORS layer.
``/api/early_access_features/`` is still Django's view (products/early_access_features/backend/
api.py): ``get_token``, DRF-shaped 401s, and ``cors_response`` (posthog/utils_cors.py).

CORS is the Rust services' (tower-http's ``CorsLayer`` in rust/capture and rust/feature-flags
router.rs): every ``OPTIONS`` is answered 200 with an empty body before routing; every response
echoes the request's ``Origin`` with ``Access-Control-Allow-Credentials: true`` and says
``Vary: origin, access-control-request-method, access-control-request-headers``; a preflight also
lists the methods (``GET,POST,OPTIONS``, plus ``HEAD`` on the flags service) and echoes the
``Access-Control-Request-Headers`` asked for, so a browser SDK on any origin can send any header.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, abort, current_app, request

from . import cors, errors, flags, ingestion, remote_config
from .api import _dropped as dropped
from .api import encode_json, render
from .backend import Backend
from .capture import MAX_DISTINCT_ID, CaptureError, Request, check_recording, decode, load_json
from .journal import Entry, redact
from .resources.early_access_features import sdk_features
from .resources.feature_flags import evaluate_project, local_evaluation_body, subject_for
from .resources.project_secret_api_keys import hash_secret
from .resources.surveys import sdk_surveys

bp = Blueprint("sdk", __name__)
UNKNOWN_TOKEN = "token matches no project: PostHog accepts the request and drops its events"
MISSING_DISTINCT_ID = "The distinct_id field is missing from the request. Please include a valid identifier."
NO_TOKEN = "No API token provided. Please include a valid API token in your request."
BAD_TOKEN = "The provided API key is invalid or has expired. Please check your API key and try again."
FLAGS_ALLOW = "GET, POST, OPTIONS, HEAD"
CAPTURE_CORS_METHODS = "GET,POST,OPTIONS"
FLAGS_CORS_METHODS = "GET,POST,OPTIONS,HEAD"
# The services whose CORS layer allows HEAD: the flags service and the hypercache-server.
FLAGS_ENDPOINTS = ("sdk.flags_endpoint", "sdk.decide_endpoint", "sdk.definitions", "sdk.surveys_endpoint")
NO_SURVEYS = {"surveys": [], "survey_config": None}  # empty_surveys_response
NO_PROJECT_TOKEN = "Project token not provided. You can find your project token in PostHog project settings."
BAD_PROJECT_TOKEN = "Project token invalid. You can find your project token in PostHog project settings."
# CORS_ALLOWED_TRACING_HEADERS (posthog/utils_cors.py): what cors_response lets a request ask for.
TRACING_HEADERS = frozenset(cors.ALLOW_HEADERS[6:])
CORS_VARY = ("origin", "access-control-request-method", "access-control-request-headers")
# What the flags service adds for config=true when it has no cached project config (ConfigResponse
# ::fallback), and the smaller set a GET answers with (get_minimal_flags_response).
MINIMAL_CONFIG = {
    "supportedCompression": ["gzip", "gzip-js"],
    "config": {"enable_collect_everything": True},
    "toolbarParams": {},
    "isAuthenticated": False,
    "sessionRecording": False,
}
FALLBACK_CONFIG = {
    **MINIMAL_CONFIG,
    "surveys": False,
    "heatmaps": False,
    "capturePerformance": False,
    "autocaptureExceptions": False,
}


def backend() -> Backend:
    return current_app.extensions["mockhog"]


class Refused(Exception):
    """A refusal of the Rust services: plain text, or (``code`` set) the DRF-shaped JSON the flags
    service sends for authentication errors (``AuthenticationErrorResponse``)."""

    def __init__(self, status: int, message: str, rule: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.rule, self.code = status, message, rule, code

    def response(self) -> Response:
        if self.code is None:
            return text(self.status, self.message)
        kind = "authentication_error"
        return as_json({"type": kind, "code": self.code, "detail": self.message, "attr": None}, self.status)


def auth_refused(status: int, message: str, code: str, rule: str = "auth") -> Refused:
    return Refused(status, message, rule, code)


def text(status: int, message: str) -> Response:
    return Response(message, status=status, content_type="text/plain; charset=utf-8")


def as_json(body: Any, status: int = 200) -> Response:
    return Response(encode_json(body), status=status, content_type="application/json")


def journal(
    operation: str, status: int, started: float, body: Any, rule: str | None = None, error: Any = None,
    project_id: int | None = None, warnings: list[str] | None = None, fault: str | None = None,
) -> None:  # fmt: skip
    app = backend()
    app.journal.record(
        Entry(
            id=app.journal.next_id(),
            time=time.time(),
            method=request.method,
            path=request.path,
            query={k: v for k, v in request.args.to_dict(flat=False).items() if k != "personal_api_key"},
            body=redact(body),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            operation_id=operation,
            project_id=project_id,
            error=error,
            rule=rule,
            warnings=warnings or [],
            fault=fault,
        )
    )


def _faulted(operation: str, started: float) -> Response | None:
    """The control plane's fault rules apply here too (match them by ``path`` or by operation,
    e.g. ``capture_batch``, ``flags``): latency, a status answer, or a dropped connection."""
    app = backend()
    fired = app.faults.fire(request.method, request.path, operation, None, request.headers)
    if fired is None:
        return None
    rule, delay = fired
    if delay:
        app.faults.sleep(rule, delay)
    error = rule.error()
    if error is None and not rule.drop:
        return None
    response = render(error.body, error.status, error.headers) if error else as_json({"status": "Ok"})
    journal(
        operation,
        response.status_code,
        started,
        None,
        "fault",
        error.body if error else None,
        fault=f"rule {rule.id}",
    )
    return dropped(response) if rule.drop else response


def begin(operation: str) -> float:
    """The start of an SDK request journalled as ``operation``; a fault rule that fires answers
    instead (werkzeug's abort with its response: no error handler rewrites it)."""
    started = time.perf_counter()
    fault = _faulted(operation, started)
    if fault is not None:
        abort(fault)
    return started


# -- CORS ----------------------------------------------------------------------------------------


def _cors_applies() -> bool:
    # /api/feature_flag/local_evaluation is under /api/: Django's CORS (mockhog.cors) answers it;
    # /api/surveys is the hypercache-server's, behind the same CORS layer as the flags service
    return not request.path.startswith("/api/") or request.endpoint == "sdk.surveys_endpoint"


@bp.before_request
def _preflight() -> Response | None:
    """The CORS layer answers every OPTIONS itself, before the route (and its faults) see it."""
    if request.method == "OPTIONS" and _cors_applies():
        response = Response(b"", status=200)
        del response.headers["Content-Type"]
        return response
    return None


@bp.after_request
def _cors_headers(response: Response) -> Response:
    if not _cors_applies():
        return response
    origin = request.headers.get("Origin")
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers.add("Vary", ", ".join(CORS_VARY))
    if request.method == "OPTIONS":
        flags_service = request.endpoint in FLAGS_ENDPOINTS
        response.headers["Access-Control-Allow-Methods"] = (
            FLAGS_CORS_METHODS if flags_service else CAPTURE_CORS_METHODS
        )
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked is not None:
            response.headers["Access-Control-Allow-Headers"] = asked
    return response


# -- capture -------------------------------------------------------------------------------------


def _capture_rule(error: CaptureError) -> str:
    return "auth" if error.status == 401 else "parse"


@bp.route(
    "/<any(batch, e, capture, track, engage):kind>", methods=["GET", "POST", "OPTIONS"], strict_slashes=False
)
@bp.route("/i/v0/e", methods=["GET", "POST", "OPTIONS"], strict_slashes=False)
def capture(kind: str = "i/v0/e") -> Response:
    """A v0 capture endpoint: decode, check the token, store; ``{"status": "Ok"}`` (204 for beacons)."""
    return _capture(f"capture_{kind.replace('/', '_')}", recording=False)


@bp.route("/s", methods=["GET", "POST", "OPTIONS"], strict_slashes=False)
def recording() -> Response:
    """The recordings endpoint posthog-js sends session replay snapshots to (``$snapshot`` events)."""
    return _capture("capture_recording", recording=True)


def _capture(operation: str, recording: bool) -> Response:
    started = begin(operation)
    wire = Request(
        body=request.get_data(cache=True),
        query={k: request.args.getlist(k)[-1] for k in request.args},
        content_type=request.headers.get("Content-Type", ""),
        content_encoding=request.headers.get("Content-Encoding", ""),
    )
    try:
        payload = decode(wire)
        if recording:
            check_recording(payload)
    except CaptureError as error:
        journal(operation, error.status, started, None, _capture_rule(error), error.message)
        return text(error.status, error.message)
    app = backend()
    project_id = ingestion.project_for_token(app, payload.token)
    warnings = []
    if project_id is None:
        warnings.append(UNKNOWN_TOKEN)
    elif recording:
        ingestion.ingest_recording(app, project_id, payload, request.headers.get("User-Agent"))
    else:
        ingestion.ingest(app, project_id, payload)
    summary = {
        "compression": payload.compression,
        "events": [{"event": e["event"], "distinct_id": e["distinct_id"]} for e in payload.events],
    }
    journal(operation, 200, started, summary, project_id=project_id, warnings=warnings)
    if request.args.get("beacon") in ("1", "true"):
        return Response(status=204)
    response = as_json({"status": "Ok"})
    if warnings:
        response.headers["X-Mockhog-Warning"] = "; ".join(warnings)
    return response


# -- flags -----------------------------------------------------------------------------------------


def _flags_body() -> dict[str, Any]:
    """The flags request body: JSON, gzip (body or ``compression=gzip``), base64, or form ``data=``."""
    raw = request.get_data(cache=True)
    hint = (request.args.get("compression") or "").lower()
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = (request.form.get("data") or "").encode()
    try:
        if raw.startswith(b"\x1f\x8b") or hint in ("gzip", "gzip-js"):
            raw = gzip.decompress(raw)
        elif hint == "base64":
            raw = base64.b64decode(raw)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise Refused(
            400, f"Failed to decode request: {exc}. Please check your request format and try again.", "parse"
        ) from None
    try:
        body = load_json(raw.decode("utf-8") if raw else "{}")
    except (ValueError, UnicodeDecodeError) as exc:
        message = (
            f"Failed to parse request: {exc}. Please ensure your request is properly formatted and all "
            "required fields are present."
        )
        raise Refused(400, message, "parse") from None
    if not isinstance(body, dict):
        raise Refused(400, "Failed to parse request: expected a JSON object.", "parse")
    return body


def field(body: dict[str, Any], name: str, *aliases: str) -> Any:
    """A ``FlagRequest`` field under its name or one of its serde aliases."""
    for key in (name, *aliases):
        if key in body:
            return body[key]
    return None


def _subject(app: Backend, project_id: int, body: dict[str, Any]) -> flags.Subject:
    distinct_id = field(body, "distinct_id", "$distinct_id")
    if distinct_id is None:
        raise Refused(400, MISSING_DISTINCT_ID, "schema")
    if isinstance(distinct_id, int | float) and not isinstance(distinct_id, bool):
        distinct_id = str(distinct_id)  # deserialize_distinct_id: a number is its text
    elif not isinstance(distinct_id, str):
        distinct_id = json.dumps(distinct_id)
    if not distinct_id:
        raise Refused(400, MISSING_DISTINCT_ID, "schema")
    return subject_for(
        app,
        project_id,
        distinct_id[:MAX_DISTINCT_ID],
        field(body, "person_properties", "$properties"),
        field(body, "groups", "$groups"),
        field(body, "group_properties", "$group_properties"),
    )


def _details(result: flags.FlagResult) -> dict[str, Any]:
    failed = {"failed": True} if result.failed else {}  # serialized only when true
    return {
        "key": result.key,
        "enabled": result.enabled,
        "variant": result.variant,
        **failed,
        "reason": {
            "code": result.reason,
            "condition_index": result.condition_index,
            "description": result.description,
        },
        "metadata": {
            "id": result.flag_id,
            "version": result.version,
            "description": None,
            "payload": result.payload,
            "has_experiment": False,
        },
    }


def _shape(
    results: dict[str, flags.FlagResult], version: int, from_decide: bool, config: dict[str, Any] | None
) -> dict[str, Any]:
    """``get_versioned_response``: the response format the client asked for. Through decide, v=1
    (and unknown versions) lists the enabled keys, v=2 maps them to values, v=3 is the legacy flags
    response and v>=4 the current one; otherwise v>=2 is the current one and v=1 the legacy one."""
    common: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "evaluatedAt": int(datetime.now(UTC).timestamp() * 1000),
        **(config or {}),
    }
    errors = any(result.failed for result in results.values())
    current = version >= 4 if from_decide else version >= 2
    if current:
        details = {key: _details(result) for key, result in results.items()}
        return {"errorsWhileComputingFlags": errors, "flags": details, **common}
    if not from_decide or version == 3:
        return {
            "errorsWhileComputingFlags": errors,
            "featureFlags": {key: result.value for key, result in results.items()},
            "featureFlagPayloads": {k: r.payload for k, r in results.items() if r.payload is not None},
            **common,
        }
    enabled = {key: result.value for key, result in results.items() if result.enabled}
    return {"featureFlags": enabled if version == 2 else sorted(enabled), **common}


def _project_for(app: Backend, token: Any) -> int:
    if not isinstance(token, str) or not token:
        raise auth_refused(401, NO_TOKEN, "not_authenticated")
    project_id = ingestion.project_for_token(app, token)
    if project_id is None:
        raise auth_refused(401, BAD_TOKEN, "authentication_failed")
    return project_id


def _version(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        return 1


def _evaluate(from_decide: bool) -> Response:
    operation = "decide" if from_decide else "flags"
    app = backend()
    started = begin(operation)
    version = _version(request.args.get("v"))
    if request.method in ("GET", "HEAD"):
        # get_minimal_flags_response: v>=2 is the current format, else the legacy one
        body = _shape({}, version or 1, False, MINIMAL_CONFIG)
        journal(operation, 200, started, None)
        return (
            Response(status=200, content_type="application/json")
            if request.method == "HEAD"
            else as_json(body)
        )
    config_raw = request.args.get("config")
    wants_config = config_raw in ("true", "1") if config_raw is not None else from_decide
    if version is None and config_raw is None and not from_decide:
        version, wants_config = 2, True  # the service's default: the latest format, with config
    body: dict[str, Any] = {}
    try:
        body = _flags_body()
        project_id = _project_for(app, field(body, "token", "$token", "api_key"))
        subject = _subject(app, project_id, body)
    except Refused as refused:
        journal(operation, refused.status, started, body, refused.rule, refused.message)
        return refused.response()
    # posthog-js sends flag_keys, the server SDKs its alias flag_keys_to_evaluate
    keys = field(body, "flag_keys", "flag_keys_to_evaluate")
    only = keys if isinstance(keys, list) else None
    with app.store.lock:
        results = (
            {} if body.get("disable_flags") is True else evaluate_project(app, project_id, subject, only)
        )
        has_flags = any(
            not row.get("deleted") for row in app.store.table(project_id, "feature_flags").values()
        )
    journal(operation, 200, started, body, project_id=project_id)
    config = {**FALLBACK_CONFIG, "hasFeatureFlags": has_flags} if wants_config else None
    return as_json(_shape(results, version or 1, from_decide, config))


@bp.route(
    "/flags", methods=["GET", "POST", "OPTIONS", "HEAD", "PUT", "PATCH", "DELETE"], strict_slashes=False
)
def flags_endpoint() -> Response:
    if request.method in ("PUT", "PATCH", "DELETE"):
        return Response(status=405, headers={"Allow": FLAGS_ALLOW})
    return _evaluate(from_decide=False)


@bp.route("/decide", methods=["GET", "POST", "OPTIONS", "HEAD"], strict_slashes=False)
def decide_endpoint() -> Response:
    """The legacy decide endpoint, which PostHog now answers through the flags service."""
    return _evaluate(from_decide=True)


# -- definitions for local evaluation -------------------------------------------------------------


def _definitions_project(app: Backend) -> int:
    """The flags service's definitions auth: a personal API key (Bearer) or a project secret key,
    plus the project's public token in ``?token=``."""
    header = request.headers.get("Authorization", "")
    secret = header[7:].strip() if header.startswith("Bearer ") else ""
    if not secret:
        raise auth_refused(401, "Authentication credentials were not provided.", "not_authenticated")
    project_id = _project_for(app, request.args.get("token"))
    key = app.keys.find(secret)
    if key is not None:
        if not key.allows_project(project_id) or key.missing_scope(("feature_flag:read",)):
            raise auth_refused(
                403,
                "Personal API key lacks required scopes (feature_flag:read or feature_flag:write).",
                "permission_denied",
                "scope",
            )
        return project_id
    if secret.startswith("phs_"):
        wanted = hash_secret(secret)
        if any(
            row.get("_secure_value") == wanted
            for row in app.store.table(project_id, "project_secret_api_keys").values()
        ):
            return project_id
        raise auth_refused(401, "Secret API token is invalid.", "authentication_failed")
    raise auth_refused(401, "Personal API key is invalid.", "authentication_failed")


@bp.get("/flags/definitions", strict_slashes=False)
@bp.get("/api/feature_flag/local_evaluation", strict_slashes=False)
def definitions() -> Response:
    """What SDKs poll for local evaluation (``/flags/definitions`` today, the older path before)."""
    app = backend()
    started = begin("flag_definitions")
    try:
        project_id = _definitions_project(app)
    except Refused as refused:
        journal("flag_definitions", refused.status, started, None, refused.rule, refused.message)
        return refused.response()
    raw = request.args.getlist("send_cohorts")
    include = bool(raw) and raw[-1].lower() in ("", "true", "1", "yes")
    with app.store.lock:
        body = local_evaluation_body(app, project_id, include)
    journal("flag_definitions", 200, started, None, project_id=project_id)
    return as_json(body)


# -- remote config (posthog-js) -------------------------------------------------------------------


def _remote_config(token: str, operation: str) -> tuple[int, dict[str, Any]] | Response:
    """``BaseRemoteConfigAPIView``: the token's shape (400), then its project (404), as DRF errors."""
    app = backend()
    started = begin(operation)
    if not remote_config.valid_token(token):
        error = errors.validation_error("Invalid token")
    elif (project_id := ingestion.project_for_token(app, token)) is None:
        error = errors.not_found()
    else:
        with app.store.lock:
            config = remote_config.build(app, project_id, token)
        journal(operation, 200, started, None, project_id=project_id)
        return project_id, config
    journal(
        operation, error.status, started, None, "schema" if error.status == 400 else "not_found", error.body
    )
    return render(error.body, error.status)


def _vary(response: Response) -> Response:
    response.headers["Vary"] = "Origin, Referer"  # add_vary_headers
    return response


@bp.get("/array/<token>/config")
def remote_config_json(token: str) -> Response:
    """What posthog-js fetches at init when no config came with its script (``RemoteConfigAPIView``)."""
    found = _remote_config(token, "remote_config")
    if isinstance(found, Response):
        return found
    return _vary(as_json(found[1]))


@bp.get("/array/<token>/config.js")
def remote_config_script(token: str) -> Response:
    """The script form posthog-js loads first where it can inject scripts (``RemoteConfigJSAPIView``)."""
    found = _remote_config(token, "remote_config_js")
    if isinstance(found, Response):
        return found
    body = remote_config.script(found[1], token)
    return _vary(Response(body, status=200, content_type="application/javascript"))


# -- surveys and early access features (what the SDKs load) --------------------------------------


ANY_METHOD = ["GET", "POST", "OPTIONS", "HEAD", "PUT", "PATCH", "DELETE"]


@bp.route("/api/surveys", methods=ANY_METHOD, strict_slashes=False)
@bp.route("/surveys", methods=ANY_METHOD, strict_slashes=False)
def surveys_endpoint() -> Response:
    """The hypercache-server's surveys_endpoint: the project's surveys as the SDKs load them."""
    started = begin("surveys")
    if request.method == "HEAD":
        journal("surveys", 200, started, None)
        return Response(status=200, content_type="application/json")
    raw = _surveys_token()
    if raw is None:
        journal("surveys", 401, started, None, "auth", "Token not provided")
        return text(401, "Token not provided")
    if len(raw) > remote_config.MAX_TOKEN or not remote_config.valid_token(raw):
        message = "Token too long" if len(raw) > remote_config.MAX_TOKEN else "Invalid token format"
        journal("surveys", 400, started, None, "schema", message)
        return text(400, message)
    app = backend()
    project_id = ingestion.project_for_token(app, raw)
    if project_id is None:
        journal("surveys", 200, started, None, warnings=[UNKNOWN_SURVEYS_TOKEN])
        response = as_json(NO_SURVEYS)
        response.headers["X-Mockhog-Warning"] = UNKNOWN_SURVEYS_TOKEN
        return response
    with app.store.lock:
        body = sdk_surveys(app, project_id)
    journal("surveys", 200, started, None, project_id=project_id)
    return as_json(body)


UNKNOWN_SURVEYS_TOKEN = "token matches no project: PostHog's cache has nothing for it, so no surveys"


def _surveys_token() -> str | None:
    """extract_token: the query's ``token``, else its ``api_key`` (the first given, if not empty);
    else, for a POST, the form body's ``token``, else its ``api_key`` (a body that does not parse
    as a form, e.g. with a field twice, has neither)."""
    given = request.args.get("token")
    if given is None:
        given = request.args.get("api_key")
    if given:
        return given
    if request.method != "POST":
        return None
    try:
        form = parse_qs(request.get_data(as_text=True), keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return None
    if any(len(form.get(name, ())) > 1 for name in ("token", "api_key")):
        return None  # serde: a duplicate field fails the whole body
    body_token = form["token"][0] if "token" in form else form.get("api_key", [None])[0]
    return body_token or None


@bp.route("/api/early_access_features", methods=ANY_METHOD, strict_slashes=False)
def early_access_features_endpoint() -> Response:
    """Django's early_access_features view: the project's features in the stages asked for."""
    started = begin("early_access_features")
    token = _django_token()
    app = backend()
    project_id = ingestion.project_for_token(app, token) if token else None
    if project_id is None:
        refusal = ("invalid_api_key", BAD_PROJECT_TOKEN) if token else ("missing_api_key", NO_PROJECT_TOKEN)
        code, detail = refusal
        body = {"type": "authentication_error", "code": code, "detail": detail, "attr": None}
        journal("early_access_features", 401, started, None, "auth", body)
        return _cors_response(as_json(body, 401))
    with app.store.lock:
        body = sdk_features(app, project_id, request.args.getlist("stage"))
    journal("early_access_features", 200, started, None, project_id=project_id)
    return _cors_response(as_json(body))


def _django_token() -> str | None:
    """get_token(None, request): a GET's query ``token``, else ``api_key``; then a POST form's
    ``api_key``, else ``token`` (Django parses a form body only for POST)."""
    token = None
    if request.method == "GET":
        token = request.args.get("token") or request.args.get("api_key")
    if not token and request.method == "POST":
        token = request.form.get("api_key") or request.form.get("token")
    return token or None


def _cors_response(response: Response) -> Response:
    """cors_response: for a request with an Origin, that origin (``*`` when it names no host) with
    credentials, GET, POST and OPTIONS, and the tracing headers it asks for beside
    X-Requested-With and Content-Type."""
    origin = request.headers.get("Origin")
    if not origin:
        return response
    try:
        parts = urlsplit(origin)
    except ValueError:
        parts = urlsplit("")
    allow = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "*"
    response.headers["Access-Control-Allow-Origin"] = allow
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    asked = request.headers.get("Access-Control-Request-Headers", "").split(",")
    allowed = [name for name in asked if name in TRACING_HEADERS]  # not stripped, as PostHog does
    response.headers["Access-Control-Allow-Headers"] = ",".join(["X-Requested-With,Content-Type", *allowed])
    return response
