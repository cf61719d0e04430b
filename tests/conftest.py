"""Shared fixtures: one seeded backend per session, reset before each test; clients talk HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockhog import DEFAULT_API_KEY, Backend, create_app

pytest_plugins = ["pytester"]

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


@pytest.fixture(scope="session")
def backend() -> Backend:
    return Backend(seed=0)


@pytest.fixture(scope="session")
def app(backend: Backend) -> Any:
    return create_app(backend=backend)


@pytest.fixture
def client(app: Any, backend: Backend) -> Iterator[FlaskClient]:
    """A test client that sends the default personal API key, on a freshly reset backend."""
    backend.reset_all()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
    yield client
    backend.reset_all()


@pytest.fixture
def anonymous(app: Any, backend: Backend) -> FlaskClient:
    backend.reset_all()
    return app.test_client()


@pytest.fixture
def refused(client: FlaskClient, backend: Backend) -> Any:
    """Send a request, expect PostHog's validation error, and check the store did not change."""

    def check(method: str, url: str, body: Any, code: str, attr: str | None, detail: str) -> None:
        before = backend.store.dump()
        response = client.open(url, method=method.upper(), json=body)
        assert response.status_code == 400, response.get_json()
        assert response.get_json() == {
            "type": "validation_error",
            "code": code,
            "detail": detail,
            "attr": attr,
        }
        assert backend.store.dump() == before

    return check
