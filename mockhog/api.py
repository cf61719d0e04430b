"""The HTTP layer for ``/api/``: one dispatch function turns a request into a catalog call.

request -> route (catalog) -> project -> key and scopes -> query and body checks
        -> resource rule in a store transaction -> response check -> PostHog-shaped JSON
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, request

from . import errors
from .backend import Backend
from .catalog import PREFIXES, ROOT, Operation, Route
from .keys import ApiKey
from .openapi import yaml_dump
from .pagination import PageUrl
from .resources.base import Call, Reply

log = logging.getLogger("mockhog")
bp = Blueprint("api", __name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
JSON_TYPE = "application/json"


def backend() -> Backend:
    return current_app.extensions["mockhog"]


def render(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    """JSON as DRF renders it: compact, UTF-8, no ASCII escaping."""
    if body is None and status == 204:
        return Response(status=204, headers=headers)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, headers=headers, content_type=JSON_TYPE)


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
    app = backend()
    route, raw_params, prefix, project_raw = _route(app, rest)
    method = "GET" if request.method == "HEAD" else request.method
    op = route.by_method.get((prefix, method))
    key = _authenticate(app, op)
    if op is None:
        allowed = _allowed(route.methods(prefix))
        if request.method == "OPTIONS":
            return _options(allowed)
        raise errors.method_not_allowed(request.method, allowed)
    project_id = None if prefix == ROOT else _project(app, project_raw, key)
    missing = key.missing_scope(op.scopes)
    if missing:
        raise errors.permission_denied(f"API key missing required scope '{missing}'")
    contract = app.contract[op]
    body, unknown = contract.check_body(_parse_body(op), app.strict) if op.is_write else ({}, [])
    call = Call(
        backend=app,
        op=op,
        project_id=project_id,
        params=_typed_params(op, raw_params),
        query=contract.check_query({k: request.args.getlist(k)[-1] for k in request.args}),
        query_lists={k: request.args.getlist(k) for k in request.args},
        body=body,
        url=PageUrl(request.base_url, request.query_string.decode("latin-1")),
        key=key,
    )
    resource = app.resource(op)
    with app.store.transaction():
        result = getattr(resource, op.action)(call)
    reply = result if isinstance(result, Reply) else Reply(body=result)
    response = _respond(app, op, reply)
    if unknown:
        fields = ", ".join(unknown)
        response.headers["X-Mockhog-Warning"] = f"unknown fields ignored (PostHog ignores them too): {fields}"
    if prefix == "environments":
        successor = request.full_path.rstrip("?").replace("/api/environments/", "/api/projects/", 1)
        response.headers["Deprecation"] = "true"
        response.headers["Link"] = f'<{successor}>; rel="successor-version"'
    return response


def method_not_allowed() -> Response:
    """405 for a method Flask itself does not route (QUERY, ...), with the route's ``Allow``."""
    allowed = []
    if request.path.startswith("/api/"):
        try:
            route, _, prefix, _ = _route(backend(), request.path[len("/api/") :])
            allowed = _allowed(route.methods(prefix))
        except errors.ApiError:
            pass
    error = errors.method_not_allowed(request.method, allowed)
    return render(error.body, 405, error.headers)


def _route(app: Backend, rest: str) -> tuple[Route, dict[str, str], str, str | None]:
    """The route for ``/api/<rest>``: a project route first, else one outside projects."""
    prefix, _, tail = rest.partition("/")
    project_raw, _, tail = tail.partition("/")
    if prefix in PREFIXES and project_raw:
        found = app.catalog.match(tail)
        if found:
            return *found, prefix, project_raw
    found = app.catalog.match(rest, root=True)
    if found:
        return *found, ROOT, None
    raise errors.endpoint_not_found()


def _respond(app: Backend, op: Operation, reply: Reply) -> Response:
    status = reply.status or op.status
    if op.response == "binary" or reply.content_type:
        return Response(reply.body, status=status, headers=reply.headers, content_type=reply.content_type)
    if reply.body is None and status in (200, 204) and op.response is None:
        return Response(status=status, headers=reply.headers)
    if 200 <= status < 300 and app.validate_responses:
        problem = app.contract[op].check_response(reply.body)
        if problem:
            detail = f"Response of {op.operation_id} breaks its schema at {problem}"
            log.error(detail)
            raise errors.server_error(detail)
    return render(reply.body, status, reply.headers)


def _allowed(methods: list[str]) -> list[str]:
    """What DRF puts in ``Allow``: the route's methods, HEAD with GET, and OPTIONS."""
    extra = {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return sorted(set(methods) | extra)


def _options(allowed: list[str]) -> Response:
    return render({"renders": [JSON_TYPE], "parses": [JSON_TYPE]}, 200, {"Allow": ", ".join(allowed)})


def _parse_body(op: Operation) -> Any:
    """The request body as DRF's parsers read it: JSON, form or multipart; others are 415."""
    if not op.is_write:
        return {}
    raw = request.get_data(cache=True)
    media_type = (request.mimetype or "").lower()
    if not raw and media_type in ("", JSON_TYPE):
        return {}
    if media_type == JSON_TYPE or media_type.endswith("+json"):
        try:
            return json.loads(
                raw.decode(request.mimetype_params.get("charset", "utf-8")), parse_constant=_reject_constant
            )
        except (ValueError, UnicodeDecodeError, LookupError) as exc:
            raise errors.parse_error(f"JSON parse error - {exc}") from exc
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {key: request.form.getlist(key)[-1] for key in request.form}
    raise errors.unsupported_media_type(request.content_type or "")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _authenticate(app: Backend, op: Operation | None) -> ApiKey:
    """PostHog's personal API key lookup: header, then body field, then query parameter.

    Only the first key found is tried.
    """
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.startswith("Bearer ") else ""
    if bearer.startswith("pha_"):
        bearer = ""  # an OAuth access token: not a personal API key
    body = _parse_body(op) if op is not None and not bearer else {}
    if bearer:
        value, source = bearer, "Authorization header"
    elif isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
        value, source = body["personal_api_key"], "body"
    elif request.args.get("personal_api_key"):
        value, source = request.args["personal_api_key"], "query string"
    else:
        raise errors.not_authenticated()
    key = app.keys.find(value)
    if key is None:
        raise errors.authentication_failed(source)
    return key


def _project(app: Backend, raw: str | None, key: ApiKey) -> int:
    if raw == "@current":
        project_id = app.current_project(key)
    else:
        try:
            project_id = int(raw or "")
        except ValueError:
            raise errors.project_not_found() from None
    if project_id not in app.projects:
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
            if not value.isdigit() or len(value) > 18:
                raise errors.not_found()
            typed[name] = int(value)
        elif kind == "uuid":
            typed[name] = value.lower()
        else:
            typed[name] = value
    return typed
