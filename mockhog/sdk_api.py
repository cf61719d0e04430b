"""The HTTP layer of the SDK endpoints, outside ``/api/``: capture (``/batch/``, ``/i/v0/e/``, ...),
``/flags/``, ``/decide/`` and the flag definitions the SDKs poll for local evaluation.

Thin on purpose: :mod:`mockhog.capture` decodes, :mod:`mockhog.ingestion` stores,
:mod:`mockhog.flags` evaluates. Answers are the services' own: capture and flags errors are plain
text with the status the Rust services use, successes are their JSON.
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

from flask import Blueprint, Response, current_app, request

from . import flags, ingestion
from .api import _dropped as dropped
from .api import encode_json, render
from .backend import Backend
from .capture import CaptureError, Request, decode, load_json
from .journal import Entry, redact
from .resources.feature_flags import evaluate_project, local_evaluation_body, subject_for
from .resources.project_secret_api_keys import hash_secret

bp = Blueprint("sdk", __name__)
UNKNOWN_TOKEN = "token matches no project: PostHog accepts the request and drops its events"
MISSING_DISTINCT_ID = "The distinct_id field is missing from the request. Please include a valid identifier."
NO_TOKEN = "No API token provided. Please include a valid API token in your request."
BAD_TOKEN = "The provided API key is invalid or has expired. Please check your API key and try again."
FLAGS_ALLOW = "GET, POST, OPTIONS, HEAD"
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


def faulted(operation: str, started: float) -> Response | None:
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


# -- capture -------------------------------------------------------------------------------------


def _capture_rule(error: CaptureError) -> str:
    return "auth" if error.status == 401 else "parse"


@bp.route(
    "/<any(batch, e, capture, track, engage):kind>", methods=["GET", "POST", "OPTIONS"], strict_slashes=False
)
@bp.route("/i/v0/e", methods=["GET", "POST", "OPTIONS"], strict_slashes=False)
def capture(kind: str = "i/v0/e") -> Response:
    """A v0 capture endpoint: decode, check the token, store; ``{"status": "Ok"}`` (204 for beacons)."""
    started = time.perf_counter()
    operation = f"capture_{kind.replace('/', '_')}"
    if request.method == "OPTIONS":
        return as_json({"status": "Ok"})
    fault = faulted(operation, started)
    if fault is not None:
        return fault
    wire = Request(
        body=request.get_data(cache=True),
        query={k: request.args.getlist(k)[-1] for k in request.args},
        content_type=request.headers.get("Content-Type", ""),
        content_encoding=request.headers.get("Content-Encoding", ""),
    )
    try:
        payload = decode(wire)
    except CaptureError as error:
        journal(operation, error.status, started, None, _capture_rule(error), error.message)
        return text(error.status, error.message)
    app = backend()
    project_id = ingestion.project_for_token(app, payload.token)
    warnings = []
    if project_id is None:
        warnings.append(UNKNOWN_TOKEN)
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


def _subject(app: Backend, project_id: int, body: dict[str, Any]) -> flags.Subject:
    distinct_id = body.get("distinct_id")
    if distinct_id is None:
        raise Refused(400, MISSING_DISTINCT_ID, "schema")
    distinct_id = distinct_id if isinstance(distinct_id, str) else json.dumps(distinct_id)
    if not distinct_id:
        raise Refused(400, MISSING_DISTINCT_ID, "schema")
    return subject_for(
        app,
        project_id,
        distinct_id,
        body.get("person_properties"),
        body.get("groups"),
        body.get("group_properties"),
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
    started = time.perf_counter()
    operation = "decide" if from_decide else "flags"
    app = backend()
    fault = faulted(operation, started)
    if fault is not None:
        return fault
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
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": FLAGS_ALLOW})
    config_raw = request.args.get("config")
    wants_config = config_raw in ("true", "1") if config_raw is not None else from_decide
    if version is None and config_raw is None and not from_decide:
        version, wants_config = 2, True  # the service's default: the latest format, with config
    body: dict[str, Any] = {}
    try:
        body = _flags_body()
        project_id = _project_for(app, body.get("token", body.get("api_key")))
        subject = _subject(app, project_id, body)
    except Refused as refused:
        journal(operation, refused.status, started, body, refused.rule, refused.message)
        return refused.response()
    only = body.get("flag_keys_to_evaluate") if isinstance(body.get("flag_keys_to_evaluate"), list) else None
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
    started = time.perf_counter()
    app = backend()
    fault = faulted("flag_definitions", started)
    if fault is not None:
        return fault
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
