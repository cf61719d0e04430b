"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Flask, Response

from . import api, control, cors, errors, sdk_api
from .backend import Backend


def create_app(
    seed: int = 0,
    api_key: str | None = None,
    fixtures: Sequence[str | Path] = (),
    backend: Backend | None = None,
    strict: bool = False,
    admin: bool = True,
    admin_token: str | None = None,
) -> Flask:
    """A mockhog app serving a backend seeded with ``seed`` plus the given fixture files.

    ``strict`` rejects body fields PostHog would silently ignore; ``admin`` serves the control plane
    under /_mockhog/ (loopback only, unless ``admin_token`` is set and sent).
    """
    app = Flask("mockhog")
    app.config["MOCKHOG_ADMIN"] = admin
    app.config["MOCKHOG_ADMIN_TOKEN"] = admin_token
    app.extensions["mockhog"] = backend or Backend(
        seed=seed, api_key=api_key, fixtures=fixtures, strict=strict
    )
    app.register_blueprint(sdk_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_error_handler(errors.ApiError, api._api_error)
    cors.install(app)
    api.install(app)  # last: it reads the URL map

    @app.errorhandler(404)
    def _not_found(_error: Exception) -> Response:
        return api.render(errors.endpoint_not_found().body, 404)

    @app.errorhandler(405)
    def _not_allowed(_error: Exception) -> Response:
        return api.method_not_allowed()

    @app.errorhandler(500)
    def _server_error(_error: Exception) -> Response:
        return api.render(errors.server_error().body, 500)

    return app
