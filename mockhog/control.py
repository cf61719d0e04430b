"""The control plane under ``/_mockhog/``: state operations for tests and tools, not PostHog's API."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from .api import render

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
