"""The HTTP layer for ``/api/``: one dispatch function turns a request into a catalog call.

request -> route (catalog) -> fault rules -> key -> project -> scopes -> rate limit
        -> query and body checks -> resource rule, then the response check, in one store
           transaction -> PostHog-shaped JSON -> journal

``/api/`` requests reach :func:`handle` straight from WSGI (:class:`ApiFastPath`), not through
Flask's request context, URL map and hooks: mockhog routes them itself (the catalog's and the
imported operations' tries), so Flask's routing would only find the catch-all rule first. Flask
still serves the other ``/api/`` views (the schema, local evaluation) and anything the fast path
leaves to it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from weakref import WeakKeyDictionary

import orjson
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request

from . import cors, errors
from .backend import Backend
from .catalog import PREFIXES, ROOT, Operation, Route
from .contract import FormBody, FormFile
from .faults import DropConnection
from .journal import ENTRY_OVERHEAD, Entry, bounded
from .keys import ApiKey
from .openapi import yaml_dump
from .pagination import PageUrl
from .resources.base import Call, Reply
from .spec import SpecRoute

log = logging.getLogger("mockhog")
bp = Blueprint("api", __name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
JSON_TYPE = "application/json"
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_IRI_SAFE = "/#%[]=:;$&()+,!?*@'~"  # what Django's iri_to_uri leaves as it is
MAX_BODY = 10 * 1024 * 1024  # bytes: a larger body is 413, before it is read


def backend() -> Backend:
    return current_app.extensions["mockhog"]


def render(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    """JSON as DRF renders it: compact, UTF-8, no ASCII escaping."""
    if body is None and status in (204, 205, 304):
        return Response(status=status, headers=headers)
    return Response(encode_json(body), status=status, headers=headers, content_type=JSON_TYPE)


def encode_json(body: Any) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # what orjson refuses (integer keys, huge integers), json still writes
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@bp.errorhandler(errors.ApiError)
def _api_error(error: errors.ApiError) -> Response:
    return render(error.body, error.status, error.headers)


@bp.get("/api/schema/", strict_slashes=False)
def schema() -> Response:
    """The OpenAPI document, like PostHog's own ``/api/schema/``; ``?format=yaml`` for YAML."""
    document = backend().openapi()
    if request.args.get("format") in ("yaml", "openapi"):
        return Response(yaml_dump(document) + "\n", content_type="application/vnd.oai.openapi; charset=utf-8")
    return render(document, 200)


@bp.route("/api/", methods=METHODS, strict_slashes=False)
@bp.route("/api/<path:rest>", methods=METHODS)
def dispatch(rest: str = "") -> Response:
    """The Flask view of ``/api/``, for what :class:`ApiFastPath` leaves to Flask."""
    return handle(backend(), _request(), rest)


def handle(app: Backend, req: Request, rest: str) -> Response:
    """Serve one ``/api/`` request.

    Everything that can fail (the resource, the response check, the headers, the journal entry)
    happens inside the store transaction of a write, so a request either commits and gets its answer
    or changes nothing; what runs after the commit (``app.journal.record``) cannot fail."""
    started = time.perf_counter()
    seen = Seen(req)
    try:
        response, entry = _serve(app, rest, seen, started)
    except errors.ApiError as error:
        seen.rule, seen.error = _rule(error, seen.stage), error.body
        response, entry = _finish(app, seen, render(error.body, error.status, error.headers), started)
    except Exception:  # a bug in mockhog: PostHog's 500, logged, and the transaction undone
        log.exception("mockhog failed on %s %s", req.method, req.path)
        seen.rule, seen.error = "server", errors.server_error().body
        response, entry = _finish(app, seen, render(seen.error, 500), started)
    app.journal.record(entry)
    if seen.drop:
        return _dropped(response)
    return response


class ApiFastPath:
    """WSGI middleware: ``/api/`` requests that Flask would route to :func:`dispatch` go to
    :func:`handle` directly, with the CORS layer Flask's hooks would have added (``cors``).

    Left to Flask: paths Flask routes to another view (the ``/api/`` rules of other endpoints,
    read from the URL map at start), paths with an empty segment (Werkzeug merges or redirects
    them) and methods outside ``METHODS`` (Flask's 405)."""

    def __init__(self, flask_app: Flask) -> None:
        self.backend: Backend = flask_app.extensions["mockhog"]
        self.flask = flask_app.wsgi_app
        self.flask_paths = _other_api_paths(flask_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith("/api/")
            or "//" in path
            or environ.get("REQUEST_METHOD") not in _METHODS
            or path.rstrip("/") in self.flask_paths
        ):
            return self.flask(environ, start_response)
        # Werkzeug's request: Flask's reads its limits from the app's config through the context
        # (mockhog keeps Flask's defaults, which are Werkzeug's, and checks MAX_BODY itself).
        req = Request(environ)
        response = cors.preflight(req) or handle(self.backend, req, req.path[len("/api/") :])
        cors.add_headers(req, response)
        return _send(response, environ, start_response)


_METHODS = frozenset(METHODS)


def _send(response: Response, environ: dict[str, Any], start_response: Any) -> Any:
    """``response(environ, start_response)``, without Werkzeug's pass over the headers where it
    would change nothing: a body in memory (its Content-Length set with it), no relative
    Location to correct, and neither HEAD nor a status that must not carry a body."""
    status = response.status_code
    if (
        not response.is_sequence
        or environ["REQUEST_METHOD"] == "HEAD"
        or status < 200
        or status in (204, 304)
        or response.autocorrect_location_header
        or "Content-Length" not in response.headers  # an empty body: Werkzeug sets 0
    ):
        return response(environ, start_response)
    start_response(response.status, response.headers.to_wsgi_list())
    return response.response


def _other_api_paths(flask_app: Flask) -> frozenset[str]:
    """The ``/api/`` paths (without a trailing slash) of Flask views other than :func:`dispatch`.
    They must be fixed paths: the fast path compares a request's path with them, not a pattern."""
    paths = set()
    for rule in flask_app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.dispatch":
            if rule.arguments:
                raise RuntimeError(f"{rule.rule}: ApiFastPath needs the other /api/ views' paths fixed")
            paths.add(rule.rule.rstrip("/"))
    return frozenset(paths)


def install(flask_app: Flask) -> None:
    """Put :class:`ApiFastPath` in front of Flask (after every blueprint is registered)."""
    flask_app.wsgi_app = ApiFastPath(flask_app)  # type: ignore[method-assign]


def _finish(app: Backend, seen: Seen, response: Response, started: float) -> tuple[Response, Entry]:
    """The response's last headers and its journal entry: the steps of a request that come after
    the resource, made so that they cannot fail (they run before the transaction commits)."""
    if seen.prefix == "environments":
        req = seen.req
        successor = quote(req.path.replace("/api/environments/", "/api/projects/", 1), safe=_PATH_SAFE)
        if req.query_string:
            successor += "?" + quote(req.query_string.decode("latin-1"), safe=_PATH_SAFE + "?")
        response.headers["Deprecation"] = "true"
        response.headers["Link"] = f'<{successor}>; rel="successor-version"'
    if seen.warnings:
        response.headers["X-Mockhog-Warning"] = header_safe("; ".join(seen.warnings))
    if not all(map(_HEADER_SAFE.fullmatch, response.headers.values())):
        response.headers = Headers([(name, header_safe(value)) for name, value in response.headers.items()])
    return response, _entry(app, seen, response.status_code, started)


_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")


def header_safe(text: str) -> str:
    """Text that can travel in an HTTP header: printable ASCII as it is, anything else written as
    a Python escape (``\\xfc``, ``\\u20ac``, ``\\n``), so nothing is dropped and no header breaks."""
    if _HEADER_SAFE.fullmatch(text):
        return text
    return text.encode("unicode_escape").decode("ascii")


@dataclass
class Seen:
    """A request, and what the journal keeps about it, filled in as it goes through the stages."""

    req: Request
    prefix: str | None = None
    operation_id: str | None = None
    project_id: int | None = None
    stage: str = "route"  # the layer at work: an error it raises names it (the journal's ``rule``)
    rule: str | None = None
    error: Any = None
    fault: str | None = None
    drop: bool = False
    warnings: list[str] = field(default_factory=list)
    body: Any = None  # the parsed request body (_NO_BODY until it is read)
    query_lists: dict[str, list[str]] | None = None  # the query string, once it is read

    def __post_init__(self) -> None:
        self.body = _NO_BODY


def _rule(error: errors.ApiError, stage: str) -> str:
    """Which layer refused the request: the one at work, unless the error says better."""
    if hasattr(error, "rule"):
        return error.rule
    code = error.body.get("code") if isinstance(error.body, dict) else None
    return {"parse_error": "parse", "unknown_field": "strict"}.get(code, stage)


def _serve(app: Backend, rest: str, seen: Seen, started: float) -> tuple[Response, Entry]:
    req = seen.req
    method = "GET" if req.method == "HEAD" else req.method
    route, raw_params, seen.prefix, project_raw = _route(app, rest, method)
    op = route.by_method.get((seen.prefix, method))
    seen.operation_id = op.operation_id if op else None
    _inject_faults(app, op, project_raw, seen)
    seen.stage = "auth"
    key = _authenticate(app, op, seen)
    if op is None:
        allowed = _allowed(route.methods(seen.prefix))
        if req.method == "OPTIONS":
            return _finish(app, seen, _options(allowed), started)
        seen.stage = "route"
        raise errors.method_not_allowed(req.method, allowed)
    _negotiate_format(app.contract[op], req.args.getlist("format"))
    seen.stage = "project"
    seen.project_id = None if seen.prefix == ROOT else _project(app, project_raw, key)
    seen.stage = "scope"
    if op.scopes is None:  # an imported operation PostHog derives no scopes for
        raise errors.permission_denied("This action does not support personal API key access")
    missing = key.missing_scope(_required_scopes(app, op, seen))
    if missing:
        raise errors.permission_denied(f"API key missing required scope '{missing}'")
    seen.stage = "throttle"
    app.rate_limiter.check(key.value)
    seen.stage = "schema"
    contract = app.contract[op]
    body, unknown = contract.check_body(_parse_body(op, seen), app.strict) if op.is_write else ({}, [])
    args = req.args
    query_lists = seen.query_lists = {k: args.getlist(k) for k in args}
    query = contract.check_query({k: values[-1] for k, values in query_lists.items()})
    if unknown:
        seen.warnings.append(f"unknown fields ignored (PostHog ignores them too): {', '.join(unknown)}")
    seen.stage = "not_found"
    params = _typed_params(op, raw_params)
    call = Call(
        backend=app,
        op=op,
        project_id=seen.project_id,
        params=params,
        query=query,
        query_lists=query_lists,
        body=body,
        url_source=lambda: _page_url(req),
        key=key,
        header_source=req.headers.get,
    )
    handler = app.handler(op)
    # The response is checked, rendered and journalled inside the transaction: if any of that fails,
    # nothing was written.
    with app.store.transaction():
        try:
            result = handler(call)
        except errors.ApiError as error:
            error.rule = "not_found" if error.status == 404 else "rule"
            raise
        reply = result if isinstance(result, Reply) else Reply(body=result)
        seen.stage = "response_schema"
        response = _respond(app, op, reply)
        seen.stage = "server"
        return _finish(app, seen, response, started)


def _page_url(req: Request) -> PageUrl:
    """The request's absolute URL for pagination links (only lists need it, so built on demand),
    made a URI the way Django's ``build_absolute_uri`` does: non-ASCII percent-encoded."""
    return PageUrl(page_base(req), req.query_string.decode("latin-1"))


_PLAIN_HOST = re.compile(r"[a-z0-9.:-]+")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~/:@-]*")


def page_base(req: Request) -> str:
    """``quote(req.base_url, safe=_IRI_SAFE)``; put together directly when no part of the URL has a
    character that werkzeug's IRI round trip or the quoting would change (the usual case, and much
    cheaper than that round trip)."""
    host, root, path = req.host, req.root_path, req.path
    if _PLAIN_HOST.fullmatch(host) and "xn--" not in host and _PLAIN_PATH.fullmatch(root + path):
        return f"{req.scheme}://{host}{root.rstrip('/')}/{path.lstrip('/')}"
    return quote(req.base_url, safe=_IRI_SAFE)


def _inject_faults(app: Backend, op: Operation | None, project_raw: str | None, seen: Seen) -> None:
    """Apply the first fault rule that fires: latency, then a status answer or a dropped connection."""
    if not app.faults.rules:  # the usual case: no rule, nothing to match
        return
    project = ascii_int(project_raw)
    req = seen.req
    fired = app.faults.fire(req.method, req.path, seen.operation_id, project, req.headers)
    if fired is None:
        return
    rule, delay = fired
    seen.fault = f"rule {rule.id}"
    if delay:
        app.faults.sleep(rule, delay)
    seen.drop = rule.drop
    error = rule.error()
    if error is not None:
        error.rule = "fault"
        raise error


def _dropped(response: Response) -> Response:
    """A response that breaks off after its first byte, so the server closes the connection."""

    def broken() -> Iterator[bytes]:
        yield b"{"
        raise DropConnection("mockhog fault rule: connection dropped")

    response.response = broken()
    response.headers["Content-Length"] = "1048576"
    return response


def _entry(app: Backend, seen: Seen, status: int, started: float) -> Entry:
    req = seen.req
    query_lists = seen.query_lists
    if query_lists is None:  # refused before the query was read
        query_lists = req.args.to_dict(flat=False)
    query = {k: v for k, v in query_lists.items() if k != "personal_api_key"}
    limit = app.journal.body_limit
    parsed = seen.body
    body, body_size = (None, 0) if parsed is _NO_BODY else bounded(parsed, limit)
    error, error_size = bounded(seen.error, limit)
    path = req.path
    query_size = sum(len(k) + sum(len(v) for v in values) for k, values in query.items())
    return Entry(
        id=app.journal.next_id(),
        time=time.time(),
        method=req.method,
        path=path,
        query=query,
        body=body,
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        operation_id=seen.operation_id,
        project_id=seen.project_id,
        error=error,
        rule=seen.rule,
        warnings=seen.warnings,
        fault=seen.fault,
        size=ENTRY_OVERHEAD + body_size + error_size + query_size + len(path),
    )


_NO_BODY = object()


def _request() -> Request:
    """The request behind Flask's proxy, read once by a function that uses it often (each read
    through ``flask.request`` looks the context up again)."""
    return request._get_current_object()  # type: ignore[attr-defined]


def method_not_allowed() -> Response:
    """405 for a method Flask itself does not route (QUERY, ...), with the route's ``Allow``."""
    allowed = []
    if request.path.startswith("/api/"):
        try:
            method = "GET" if request.method == "HEAD" else request.method
            route, _, prefix, _ = _route(backend(), request.path[len("/api/") :], method)
            allowed = _allowed(route.methods(prefix))
        except errors.ApiError:
            pass
    error = errors.method_not_allowed(request.method, allowed)
    return render(error.body, 405, error.headers)


RouteMatch = tuple[Route | SpecRoute, dict[str, str], str, str | None]
ROUTE_MEMO_SIZE = 4096  # paths remembered per backend; the memo starts afresh when full
_route_memos: WeakKeyDictionary[Backend, dict[tuple[str, str], RouteMatch]] = WeakKeyDictionary()


def _route(app: Backend, rest: str, method: str) -> RouteMatch:
    """:func:`_resolve_route`, remembered per (method, path): a backend's routes never change, and
    clients repeat paths. What it returns is shared: callers read it, never change it."""
    memo = _route_memos.get(app)
    if memo is None:
        memo = _route_memos.setdefault(app, {})
    found = memo.get((method, rest))
    if found is None:
        found = _resolve_route(app, rest, method)  # a path nothing serves raises: not remembered
        if len(memo) >= ROUTE_MEMO_SIZE:
            memo.clear()
        memo[(method, rest)] = found
    return found


def _resolve_route(app: Backend, rest: str, method: str) -> RouteMatch:
    """The route for ``/api/<rest>``: the catalog's (hand-verified) first, a project route before
    one outside projects; else PostHog's imported operation for the path and method."""
    prefix, _, tail = rest.partition("/")
    project_raw, _, tail = tail.partition("/")
    verified = None
    if prefix in PREFIXES and project_raw:
        found = app.catalog.match(tail)
        if found:
            verified = (*found, prefix, project_raw)
    if verified is None:
        found = app.catalog.match(rest, root=True)
        if found:
            verified = (*found, ROOT, None)
    imported = app.spec.router.match("/api/" + rest)
    if imported is not None:
        route, params = imported
        project = params.pop("project_id", None)
        spec_prefix = prefix if project is not None else ROOT
        if verified is None or not verified[0].methods(verified[2]):
            return route, params, spec_prefix, project
        if route.methods(spec_prefix) and spec_prefix == verified[2]:
            # DRF's router puts an action's fixed segment before a lookup (persons/values/ is not
            # person "values"): the more specific route serves the path, for every method (a
            # method it lacks is its 405, with its own Allow).
            if len(params) < len(verified[1]):
                return route, params, spec_prefix, project
            if len(params) == len(verified[1]):
                # one path, two sources: the catalog's methods, and PostHog's others (Allow too)
                merged = SpecRoute(route.template, {**route.by_method, **verified[0].by_method})
                return merged, {**params, **verified[1]}, verified[2], verified[3]
        elif (spec_prefix, method) in route.by_method and (
            len(params) < len(verified[1]) or (verified[2], method) not in verified[0].by_method
        ):
            return route, params, spec_prefix, project
    if verified is not None:
        return verified
    raise errors.endpoint_not_found()


def _respond(app: Backend, op: Operation, reply: Reply) -> Response:
    status = reply.status or op.status
    if op.response == "binary" or reply.content_type:
        return Response(reply.body, status=status, headers=reply.headers, content_type=reply.content_type)
    if reply.body is None:
        # DRF's JSONRenderer renders no data as no bytes, and Response then drops the Content-Type
        # (a 204, ForbidDestroyModel's 405, ``Response(None)``): there is no JSON null to send.
        response = Response(status=status, headers=reply.headers)
        del response.headers["Content-Type"]
        return response
    if 200 <= status < 300 and app.validate_responses:
        problem = app.contract[op].check_response(reply.body)
        if problem:
            detail = f"Response of {op.operation_id} breaks its schema at {problem}"
            log.error(detail)
            raise errors.server_error(detail)
    return render(reply.body, status, reply.headers)


# Django's View.http_method_names, the order DRF's allowed_methods lists them in.
HTTP_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _allowed(methods: list[str]) -> list[str]:
    """What DRF puts in ``Allow``: the route's methods, HEAD with GET, and OPTIONS, in Django's
    ``http_method_names`` order (``APIView.allowed_methods``)."""
    present = set(methods) | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return [method for method in HTTP_METHOD_ORDER if method in present]


def _options(allowed: list[str]) -> Response:
    return render({"renders": [JSON_TYPE], "parses": [JSON_TYPE]}, 200, {"Allow": ", ".join(allowed)})


def _required_scopes(app: Backend, op: Operation, seen: Seen) -> tuple[str, ...]:
    """The operation's scopes, or what its resource asks of this write's body."""
    verified = isinstance(op, Operation)  # the generic tier's scopes are its document's
    if not op.is_write or not verified or op.resource.name not in app.request_scoped:
        return op.scopes
    return app.resources[op.resource.name].required_scopes(op, _parse_body(op, seen)) or op.scopes


def _parse_body(op: Operation, seen: Seen) -> Any:
    """The request body as DRF's parsers read it: JSON, form or multipart; others are 415.

    Parsed once per request (the journal reuses it)."""
    if not op.is_write:
        return {}
    if seen.body is _NO_BODY:
        seen.body = _read_body(seen.req)
    return seen.body


def _read_body(req: Request) -> Any:
    length = req.content_length
    if (length or 0) > MAX_BODY:
        raise errors.request_too_large(MAX_BODY)
    media_type = (req.mimetype or "").lower()
    if length is not None and media_type != "multipart/form-data" and media_type != _FORM:
        # A body of known length that no form parser reads: read it from the input as it is (what
        # get_data reads through Werkzeug's LimitedStream, chunk by chunk, costing a tenth of a
        # small create); forms keep Werkzeug's stream, which their parser reads.
        raw = req.environ["wsgi.input"].read(length)
    else:
        raw = req.get_data(cache=True)
    if not raw and media_type in ("", JSON_TYPE):
        return {}
    if media_type == JSON_TYPE or media_type.endswith("+json"):
        if "charset" not in req.mimetype_params and not _LONG_NUMBER.search(raw):
            # orjson reads what json reads alike, but for integers past 64 bits (it makes them
            # floats): those go to json, and so does anything orjson refuses, for json's verdict.
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
        try:
            text = raw.decode(req.mimetype_params.get("charset", "utf-8"))
            data = json.loads(text, parse_constant=reject_json_constant)
            if b"\\u" in raw:
                _no_lone_surrogates(data)
            return data
        except (ValueError, UnicodeError, LookupError, RecursionError) as exc:
            reason = "too deeply nested" if isinstance(exc, RecursionError) else exc
            raise errors.parse_error(f"JSON parse error - {reason}") from None
    if media_type in (_FORM, "multipart/form-data"):
        # Django's multipart parser skips a part whose Content-Disposition has no name, and a file
        # part whose filename is blank; DRF's request.data is the fields, then the files.
        data = FormBody((key, req.form.getlist(key)[-1]) for key in req.form if key is not None)
        data.lists = {key: values for key in data if len(values := req.form.getlist(key)) > 1}
        for key in req.files:
            parts = [part for part in req.files.getlist(key) if part.filename]
            if key is not None and parts:
                data[key] = FormFile(parts[-1].filename, parts[-1].read(), parts[-1].mimetype)
        return data
    raise errors.unsupported_media_type(req.content_type or "")


_LONG_NUMBER = re.compile(rb"\d{19}")
_FORM = "application/x-www-form-urlencoded"


def _no_lone_surrogates(value: Any) -> None:
    """Strings must be encodable as UTF-8: a lone ``\\ud800`` escape is not text."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_lone_surrogates(key)
            _no_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_lone_surrogates(item)


def reject_json_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _authenticate(app: Backend, op: Operation | None, seen: Seen) -> ApiKey:
    """PostHog's personal API key lookup: header, then body field, then query parameter.

    Only the first key found is tried.
    """
    req = seen.req
    header = req.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.startswith("Bearer ") else ""
    if bearer.startswith("pha_"):
        bearer = ""  # an OAuth access token: not a personal API key
    body = _parse_body(op, seen) if op is not None and not bearer else {}
    if bearer:
        value, source = bearer, "Authorization header"
    elif isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
        value, source = body["personal_api_key"], "body"
    elif req.args.get("personal_api_key"):
        value, source = req.args["personal_api_key"], "query string"
    else:
        raise errors.not_authenticated()
    key = app.keys.find(value)
    if key is None and value.startswith("phs_") and op is not None:
        key = _project_secret_key(app, op, value)
    if key is None:
        raise errors.authentication_failed(source)
    return key


def _project_secret_key(app: Backend, op: Operation, value: str) -> ApiKey | None:
    """ProjectSecretAPIKeyAuthentication, on the actions whose resource allows it: the key stands
    for its own project, with the scopes it was given."""
    if op.action not in getattr(app.resource(op), "secret_key_actions", ()):
        return None
    from .resources.project_secret_api_keys import hash_secret

    wanted = hash_secret(value)
    for project_id in app.projects:
        for row in app.store.table(project_id, "project_secret_api_keys").values():
            if row.get("_secure_value") == wanted:
                return ApiKey(row["id"], row["label"], value, ["feature_flag:read"], [project_id])
    return None


def _negotiate_format(contract: Any, sent: list[str]) -> None:
    """DRF's content negotiation, before any other check of the view: ``?format=`` (its
    URL_FORMAT_OVERRIDE) names a renderer, and one that no renderer of the view has is a 404
    (DefaultContentNegotiation.filter_renderers raises Http404). The published ``format``
    parameter lists the view's renderers' formats."""
    schema = contract.query_schema or {}
    formats = schema.get("properties", {}).get("format", {}).get("enum") if sent else None
    if formats and sent[-1] and sent[-1] not in formats:
        raise errors.not_found()


def _project(app: Backend, raw: str | None, key: ApiKey) -> int:
    project_id = app.current_project(key) if raw == "@current" else ascii_int(raw)
    if project_id is None or project_id not in app.projects:
        raise errors.project_not_found()
    if not key.allows_project(project_id):
        raise errors.permission_denied(
            f"API key does not have access to the requested project: ID {project_id}."
        )
    return project_id


def _typed_params(op: Operation, raw: dict[str, str]) -> dict[str, Any]:
    """Path parameters in their lookup type; one that cannot be that type finds nothing (404)."""
    typed: dict[str, Any] = {}
    for name, kind in op.path_params.items():
        value = raw[name]
        if kind == "integer":
            number = ascii_int(value)
            if number is None:
                raise errors.not_found()
            typed[name] = number
        elif kind == "uuid":
            typed[name] = value.lower()
        else:
            typed[name] = value
    return typed


def ascii_int(value: str | None) -> int | None:
    """An id as DRF's integer lookups read it: ASCII digits only (``str.isdigit`` and ``int`` also
    take Unicode digits like "¹" or "١"), at most 18 of them so it fits a bigint; else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
