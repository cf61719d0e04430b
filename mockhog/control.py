"""The control plane under ``/_mockhog/``: state, journal, faults, rate limits and async work.

It is mockhog's own API, not PostHog's. It answers only on loopback unless an admin token is set
(then the ``X-Mockhog-Admin-Token`` header must carry it from anywhere), and it can be switched off.
It refuses what a web page in a browser could send it: a request with a foreign ``Origin`` (or
``Sec-Fetch-Site: cross-site``), and a write whose body is not typed as JSON (forms and
``text/plain`` are the types a page may send without asking first).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from . import errors
from .api import reject_json_constant, render
from .backend import Backend
from .faults import RateLimit
from .keys import check_scopes
from .lifecycle import KINDS
from .seed import FixtureError, load_records
from .times import iso

bp = Blueprint("control", __name__, url_prefix="/_mockhog")
TOKEN_HEADER = "X-Mockhog-Admin-Token"

CONTROL_CALLS = """\
Control plane (JSON, under /_mockhog/; loopback only unless --admin-token):
  GET    /_mockhog/health                      status, seed, projects, operations (and verified)
  POST   /_mockhog/reset        {"project"?}   back to the seed state (all, or one project)
  POST   /_mockhog/reseed       {"seed"}       rebuild the world from another seed
  POST   /_mockhog/fixtures     {"records", "personal_api_keys"}  load records into the live state
  GET    /_mockhog/records/<project>/<table>   a table's stored records
  GET    /_mockhog/journal?method=&path=&operation=&status=&violation=&since=&limit=
  GET    /_mockhog/journal/count?...           how many entries match
  DELETE /_mockhog/journal                     forget every entry
  GET|POST|DELETE /_mockhog/faults, DELETE /_mockhog/faults/<id>
         rule: {"method", "path" (regex), "operation_id", "project", "header": {name: value},
                "status", "body", "retry_after", "latency_ms", "jitter_ms", "drop", "count",
                "probability"}
  GET|PUT|DELETE /_mockhog/rate_limit  {"burst": "480/minute", "sustained": "4800/hour"}
  GET|PUT /_mockhog/async  {"exports"|"external_data_jobs": {"mode": "immediate|timed|manual",
                                                             "seconds"}}
  POST   /_mockhog/advance      {"kind", "project"?}  finish pending async work now
  POST   /_mockhog/personal_api_keys {"label", "scopes", "scoped_teams"?}  mint a key
  GET    /_mockhog/captured?event=&distinct_id=&project=  events captured via the SDK endpoints
  DELETE /_mockhog/captured                    forget captured events
"""


def backend() -> Backend:
    return current_app.extensions["mockhog"]


@bp.before_request
def _guard() -> None:
    if not current_app.config.get("MOCKHOG_ADMIN", True):
        raise errors.endpoint_not_found()
    token = current_app.config.get("MOCKHOG_ADMIN_TOKEN")
    if token:
        sent = request.headers.get(TOKEN_HEADER, "").encode("utf-8", "surrogateescape")
        if not secrets.compare_digest(sent, token.encode("utf-8", "surrogateescape")):
            raise errors.permission_denied(f"The control plane needs the {TOKEN_HEADER} header.")
    elif not _loopback(request.remote_addr):
        raise errors.permission_denied(
            "The control plane answers only on loopback; start mockhog with --admin-token to use it "
            "from elsewhere."
        )
    _refuse_cross_site()


def _refuse_cross_site() -> None:
    """A browser page on another site must not drive the control plane: refuse a foreign Origin
    (or, with no Origin, a browser's ``Sec-Fetch-Site: cross-site``), and writes with a body not
    typed as JSON (those a page can send without a CORS preflight). A page on any loopback origin
    is this machine's own, even when the browser calls localhost:3000 -> 127.0.0.1 cross-site."""
    origin = request.headers.get("Origin")
    foreign = not _loopback_origin(origin) if origin is not None else None
    if foreign or (foreign is None and request.headers.get("Sec-Fetch-Site") == "cross-site"):
        raise errors.permission_denied(
            f"The control plane refuses cross-site requests (Origin: {origin or 'cross-site'}); "
            "call it from a loopback page or outside a browser."
        )
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    media_type = (request.mimetype or "").lower()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if not is_json and (media_type or request.content_length or request.headers.get("Transfer-Encoding")):
        raise errors.unsupported_media_type(request.content_type or "")


def _loopback_origin(origin: str) -> bool:
    """``http://127.0.0.1:8010``, ``http://localhost``, ``http://[::1]:3000``: a page on this machine."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https"):
        return False
    return host == "localhost" or host.endswith(".localhost") or _loopback(host)


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _body() -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw, parse_constant=reject_json_constant)
    except (ValueError, RecursionError) as exc:
        reason = "too deeply nested" if isinstance(exc, RecursionError) else exc
        raise errors.parse_error(f"JSON parse error - {reason}") from None
    if not isinstance(body, dict):
        got = {list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(type(body), "null")
        raise errors.validation_error(f"Invalid data. Expected a dictionary, but got {got}.")
    return body


def _project(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or value not in backend().projects:
        raise errors.validation_error("Project not found.", "project")
    return value


@bp.get("/health")
def health() -> Response:
    app = backend()
    return render(
        {
            "status": "ok",
            "seed": app.seed,
            "projects": sorted(app.projects),
            "operations": len(app.catalog.operations) + len(app.generic_operations),
            "verified": len(app.catalog.operations),
        },
        200,
    )


@bp.post("/reset")
def reset() -> Response:
    project = _project(_body().get("project"))
    backend().reset(project)
    backend().faults.wake()  # requests sleeping out a latency answer now, on the reset state
    return render(
        {"status": "reset", "seed": backend().seed, **({"project": project} if project else {})}, 200
    )


@bp.post("/reseed")
def reseed() -> Response:
    seed = _body().get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise errors.validation_error("A valid integer is required.", "seed")
    backend().reseed(seed)
    backend().faults.wake()
    return render({"status": "reseeded", "seed": seed}, 200)


@bp.post("/fixtures")
def fixtures() -> Response:
    body = _body()
    _check_fixture_shape(body)
    try:
        loaded = load_records(backend(), body, "request body")
    except FixtureError as error:
        raise errors.validation_error(str(error)) from None
    return render({"status": "loaded", "records": loaded}, 200)


def _check_fixture_shape(body: dict[str, Any]) -> None:
    """``{"records": {project: {table: [record, ...]}}, "personal_api_keys": [key, ...]}``, or a 400
    naming the first part that has another shape."""
    records = body.get("records", {})
    if not isinstance(records, dict):
        raise errors.validation_error(_expected("an object of projects", records), "records")
    for project, tables in records.items():
        if not isinstance(tables, dict):
            raise errors.validation_error(_expected("an object of tables", tables), f"records__{project}")
        for table, rows in tables.items():
            where = f"records__{project}__{table}"
            if not isinstance(rows, list):
                raise errors.validation_error(_expected("a list of records", rows), where)
            for index, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise errors.validation_error(_expected("a record object", row), f"{where}__{index}")
    keys = body.get("personal_api_keys", [])
    if not isinstance(keys, list):
        raise errors.validation_error(_expected("a list of keys", keys), "personal_api_keys")
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            raise errors.validation_error(_expected("a key object", key), f"personal_api_keys__{index}")


def _expected(what: str, value: Any) -> str:
    return f"Expected {what}, but got {type(value).__name__}."


@bp.get("/records/<int:project>/<table>")
def records(project: int, table: str) -> Response:
    if project not in backend().projects:
        raise errors.project_not_found()
    rows = backend().store.dump(project)[project].get(table, [])
    return render([{k: v for k, v in row.items() if not k.startswith("_")} for row in rows], 200)


def _int_arg(name: str) -> int | None:
    """A query parameter that must be a plain (ASCII) integer when given: anything else is a 400,
    never a silently dropped filter (``str.isdigit`` also takes ``²``, which ``int`` refuses)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]+", raw):
        raise errors.validation_error("A valid integer is required.", name, "invalid")
    return int(raw)


def _journal_filters() -> dict[str, Any]:
    args = request.args
    violation = args.get("violation")
    return {
        "method": args.get("method"),
        "path": args.get("path"),
        "operation": args.get("operation"),
        "status": _int_arg("status"),
        "violation": None if violation is None else violation.lower() in ("1", "true", "yes"),
        "since": _int_arg("since"),
    }


@bp.get("/journal")
def journal() -> Response:
    entries = backend().journal.find(**_journal_filters())
    limit = _int_arg("limit")
    if limit:
        entries = entries[-limit:]
    return render([entry.to_json() for entry in entries], 200)


@bp.get("/journal/count")
def journal_count() -> Response:
    return render({"count": len(backend().journal.find(**_journal_filters()))}, 200)


@bp.delete("/journal")
def journal_clear() -> Response:
    backend().journal.clear()
    return Response(status=204)


@bp.get("/faults")
def faults() -> Response:
    return render([rule.to_json() for rule in backend().faults.rules], 200)


@bp.post("/faults")
def add_fault() -> Response:
    return render(backend().faults.add(_body()).to_json(), 201)


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every rule; requests sleeping out a rule's latency answer now."""
    backend().faults.clear()
    return Response(status=204)


@bp.delete("/faults/<int:rule_id>")
def remove_fault(rule_id: int) -> Response:
    if not backend().faults.remove(rule_id):
        raise errors.not_found()
    return Response(status=204)


@bp.get("/rate_limit")
def rate_limit() -> Response:
    limits = backend().rate_limiter.limits
    return render({"enabled": limits is not None, **(vars(limits) if limits else {})}, 200)


@bp.put("/rate_limit")
def set_rate_limit() -> Response:
    body = _body()
    unknown = set(body) - {"burst", "sustained"}
    if unknown:
        raise errors.validation_error(f"Unknown field '{sorted(unknown)[0]}'.", sorted(unknown)[0])
    limits = RateLimit(**body)
    backend().rate_limiter.configure(limits)
    return render({"enabled": True, **vars(limits)}, 200)


@bp.delete("/rate_limit")
def clear_rate_limit() -> Response:
    backend().rate_limiter.configure(None)
    return Response(status=204)


@bp.get("/async")
def async_modes() -> Response:
    return render({kind: vars(mode) for kind, mode in backend().lifecycle.modes.items()}, 200)


@bp.put("/async")
def set_async_modes() -> Response:
    for kind, setting in _body().items():
        if not isinstance(setting, dict):
            raise errors.validation_error('Expected an object like {"mode": "timed", "seconds": 2}.', kind)
        backend().lifecycle.configure(kind, setting.get("mode", "immediate"), setting.get("seconds", 0))
    return async_modes()


@bp.post("/advance")
def advance() -> Response:
    body = _body()
    kind = body.get("kind")
    if kind not in KINDS:
        raise errors.validation_error(f'"{kind}" is not a valid choice.', "kind", "invalid_choice")
    count = backend().advance(kind, _project(body.get("project")))
    return render({"kind": kind, "advanced": count}, 200)


@bp.route("/captured", methods=["GET", "DELETE"])
def captured() -> Response:
    """Events captured through the SDK endpoints (``?event=&distinct_id=&project=``), or forget them."""
    from .ingestion import clear_captured, find_captured

    app = backend()
    raw = request.args.get("project")
    project = _project(int(raw) if raw and re.fullmatch(r"[0-9]+", raw) else raw)
    if request.method == "DELETE":
        return render({"deleted": clear_captured(app, project)}, 200)
    found = find_captured(app, request.args.get("event"), request.args.get("distinct_id"), None, project)
    return render({"count": len(found), "results": found}, 200)


@bp.post("/personal_api_keys")
def mint_key() -> Response:
    """Mint a personal API key from ``{"label", "scopes", "scoped_teams"?}``: 201 with its value."""
    app = backend()
    body = _body()
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > 40:
        raise errors.validation_error(
            "Ensure this field has no more than 40 characters.", "label", "max_length"
        )
    if "scopes" not in body:
        raise errors.validation_error("This field is required.", "scopes", "required")
    scopes = check_scopes(body["scopes"])
    teams = body.get("scoped_teams")
    if teams is not None:
        if not isinstance(teams, list) or not all(isinstance(t, int) for t in teams):
            raise errors.validation_error("A valid integer is required.", "scoped_teams")
        unknown = [t for t in teams if t not in app.projects]
        if unknown:
            raise errors.validation_error(f"Project {unknown[0]} does not exist.", "scoped_teams")
    key = app.keys.mint(label, scopes, teams or None, iso(datetime.now(UTC)))
    return render({**key.public(), "value": key.value}, 201)
