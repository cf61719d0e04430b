"""Test helpers that need no pytest: a running server, a socket-free ``requests`` adapter, and the
handle tests use to drive mockhog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import requests
import waitress
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

from .app import create_app
from .backend import Backend
from .journal import Entry
from .keys import check_scopes
from .sdk_testing import SdkHelpers
from .seed import load_records
from .times import iso


class Server:
    """A mockhog app on a real threaded server on a free loopback port, in a daemon thread."""

    def __init__(self, backend: Backend, threads: int = 4) -> None:
        self.backend = backend
        self.app = create_app(backend=backend)
        self._server = waitress.create_server(self.app, host="127.0.0.1", port=0, threads=threads)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name="mockhog-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the workers, then the loop from inside itself, so that it ends cleanly."""

        def stop() -> None:
            for channel in list(self._server._map.values()):
                channel.close()

        # A worker that finishes a response pulls the loop's trigger: stop the workers while the
        # trigger is still open, so that none of them writes to a closed one (EBADF).
        self._server.task_dispatcher.shutdown()
        try:
            self._server.trigger.pull_trigger(stop)
        except OSError:  # the loop has already ended and closed its trigger
            stop()
        self._thread.join(timeout=5)


class AppAdapter(BaseAdapter):
    """Sends ``requests`` calls straight into a WSGI app: no socket, same answers."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.client = app.test_client()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        url = requests.utils.urlparse(request.url)
        answer = self.client.open(
            path=url.path or "/",
            query_string=url.query,
            method=request.method,
            headers=dict(request.headers),
            data=body or b"",
            base_url=f"{url.scheme}://{url.netloc}",
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response.raw = HTTPResponse(
            body=BytesIO(answer.data), preload_content=False, status=answer.status_code
        )
        response._content = answer.data
        response.url = request.url
        response.request = request
        response.reason = answer.status.split(" ", 1)[-1]
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


class MockHog(SdkHelpers):
    """What a test gets: the server's address and key, and ways to shape and inspect its state."""

    def __init__(self, server: Server, seed: int) -> None:
        self.server = server
        self.backend = server.backend
        self.url = server.url
        self.seed = seed
        self.api_key = self.backend.api_key
        self.headers = {"Authorization": f"Bearer {self.api_key}"}
        self._start = 0
        self._expecting = 0
        self.expected: set[int] = set()

    # -- state -----------------------------------------------------------------------------------
    def begin(self) -> None:
        """A clean slate for one test; everything before it is not this test's journal."""
        self.backend.reset_all()
        self._start = 0
        self.expected = set()

    def load(self, records: dict[str, Any] | str | Path) -> int:
        """Load fixture records (a fixture-file dict, or a path to one) into this test's state."""
        if not isinstance(records, dict):
            import json

            records = json.loads(Path(records).read_text())
        return load_records(self.backend, records, "mockhog.load()")

    def mint_key(
        self, scopes: list[str], label: str = "test key", scoped_teams: list[int] | None = None
    ) -> str:
        """A new personal API key with exactly these scopes; returns its value."""
        from datetime import UTC, datetime

        key = self.backend.keys.mint(label, check_scopes(scopes), scoped_teams, iso(datetime.now(UTC)))
        return key.value

    def fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (see ``/_mockhog/faults``), e.g. ``fault(path="persons", status=429)``."""
        return self.backend.faults.add(rule).to_json()

    def session(self) -> requests.Session:
        """A ``requests.Session`` that talks to the app in-process (no socket) at ``self.url``."""
        session = requests.Session()
        session.headers.update(self.headers)
        session.mount(self.url, AppAdapter(self.server.app))
        return session

    # -- journal ---------------------------------------------------------------------------------
    def calls(
        self, operation: str | None = None, method: str | None = None, path: str | None = None
    ) -> list[Entry]:
        """This test's requests, optionally filtered by operation id, method or path substring."""
        return self.backend.journal.find(method=method, path=path, operation=operation, since=self._start)

    def assert_called(
        self, operation: str | None = None, method: str | None = None, path: str | None = None,
        times: int | None = None,
    ) -> list[Entry]:  # fmt: skip
        found = self.calls(operation, method, path)
        wanted = ", ".join(
            f"{k}={v!r}" for k, v in (("operation", operation), ("method", method), ("path", path)) if v
        )
        if times is None and not found:
            raise AssertionError(f"mockhog: no request matched {wanted or 'anything'}")
        if times is not None and len(found) != times:
            raise AssertionError(
                f"mockhog: {len(found)} requests matched {wanted or 'anything'}, expected {times}"
            )
        return found

    @contextmanager
    def expect_violation(self) -> Iterator[None]:
        """Requests inside this block may break the contract without failing the test."""
        before = self.backend.journal.next_id()
        try:
            yield
        finally:
            after = self.backend.journal.next_id()
            self.expected.update(range(before, after + 1))

    def violations(self) -> list[Entry]:
        return [entry for entry in self.calls() if entry.violation and entry.id not in self.expected]


def describe(entry: Entry) -> str:
    """A violation as a test failure should name it: operation, what was sent, rule, PostHog's body."""
    import json

    sent = f"{entry.method} {entry.path}"
    if entry.query:
        sent += "?" + "&".join(f"{k}={v}" for k, values in entry.query.items() for v in values)
    lines = [
        f"mockhog: {entry.operation_id or 'no documented operation'} — {sent}",
        f"  rule broken: {RULES.get(entry.rule or '', entry.rule)}",
        f"  answer ({entry.status}): {json.dumps(entry.error, ensure_ascii=False)}",
    ]
    if entry.body not in (None, {}, "(not JSON)"):
        lines.insert(1, f"  body sent: {json.dumps(entry.body, ensure_ascii=False)}")
    return "\n".join(lines)


RULES = {
    "route": "undocumented route or method (PostHog answers 404/405)",
    "auth": "missing or unknown personal API key",
    "scope": "the key lacks a required scope",
    "project": "unknown project, or one the key may not access",
    "parse": "the body is not valid JSON / a supported media type",
    "schema": "the request breaks the operation's schema",
    "strict": "an unknown body field (strict mode)",
    "response_schema": "mockhog's response broke its own schema (a mockhog or fixture bug)",
}
