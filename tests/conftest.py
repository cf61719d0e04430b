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
