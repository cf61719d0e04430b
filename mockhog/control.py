"""The control plane under ``/_mockhog/``: state operations for tests and tools, not PostHog's API."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request

from . import errors
from .api import render
from .keys import check_scopes
from .resources.base import iso

bp = Blueprint("control", __name__, url_prefix="/_mockhog")


@bp.get("/health")
def health() -> Response:
    backend = current_app.extensions["mockhog"]
    return render(
        {
            "status": "ok",
            "seed": backend.seed,
            "projects": sorted(backend.projects),
            "operations": len(backend.catalog.operations),
        },
        200,
    )


@bp.post("/reset")
def reset() -> Response:
    backend = current_app.extensions["mockhog"]
    backend.reset()
    return render({"status": "reset", "seed": backend.seed}, 200)


@bp.post("/personal_api_keys")
def mint_key() -> Response:
    """Mint a personal API key from ``{"label", "scopes", "scoped_teams"?}``: 201 with its value."""
    backend = current_app.extensions["mockhog"]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.parse_error("JSON parse error - expected an object")
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
        unknown = [t for t in teams if t not in backend.projects]
        if unknown:
            raise errors.validation_error(f"Project {unknown[0]} does not exist.", "scoped_teams")
    key = backend.keys.mint(label, scopes, teams or None, iso(datetime.now(UTC)))
    return render({**key.public(), "value": key.value}, 201)
