"""mockhog on waitress: the options a mock server under load and fuzzing needs.

- A thread kept for the control plane: every ``/_mockhog/`` request runs on it, so health, reset and
  clearing fault rules answer while all the workers sleep out a latency rule.
- A connection limit far above waitress' 100, so idle keep-alive connections (an SDK's pool, a test
  suite's sessions) do not make a new client wait for a free slot; ``poll()`` instead of ``select()``
  so that more than 1024 descriptors work.
- The answers waitress writes itself (a request line that is not a valid URI, headers too large)
  in PostHog's error envelope, as JSON, instead of waitress' plain text.

And, for a process that only serves (``mockhog serve``, the bench), :func:`freeze_seeded_heap`.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from typing import Any

import orjson
import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

CONTROL_PREFIX = "/_mockhog"
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_THREADS = 8
YOUNG_GC_THRESHOLD = 10_000  # allocations between two collections of the youngest generation


def freeze_seeded_heap() -> None:
    """Keep what exists before the first request (the seeded world: tens of thousands of dicts and
    lists that live as long as the process) out of the cyclic garbage collector's passes, and let
    the youngest generation grow to 10,000 objects instead of 700 before it is collected: every
    request allocates a few hundred short-lived objects, and each collection traversed the young
    ones of several requests (about 5-8 % of a list's or a create's CPU time, bench/hotspots.py).
    Only for a process that serves: objects alive now are never collected after this (the
    seeded world never is), so a test process keeps the default."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


class ControlPlaneDispatcher(ThreadedTaskDispatcher):
    """waitress' pool of worker threads, plus one more that serves only ``/_mockhog/``.

    waitress hands the dispatcher a connection whose next request is parsed; the request's path
    decides which queue it joins."""

    def __init__(self) -> None:
        super().__init__()
        self.control_queue: deque[Any] = deque()
        self.control_cv = threading.Condition(self.lock)
        self._stopping = False
        self._control_thread = threading.Thread(
            target=self._serve_control, name="mockhog-control", daemon=True
        )
        self._control_thread.start()

    def add_task(self, task: Any) -> None:
        if not _is_control(task):
            super().add_task(task)
            return
        with self.lock:
            self.control_queue.append(task)
            self.control_cv.notify()

    def _serve_control(self) -> None:
        while True:
            with self.lock:
                while not self.control_queue and not self._stopping:
                    self.control_cv.wait()
                if self._stopping:
                    return
                task = self.control_queue.popleft()
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        with self.lock:
            self._stopping = True
            pending = list(self.control_queue)
            self.control_queue.clear()
            self.control_cv.notify_all()
        for task in pending:
            task.cancel()
        self._control_thread.join(timeout)
        return super().shutdown(cancel_pending, timeout)


def _is_control(task: Any) -> bool:
    requests = getattr(task, "requests", None)
    if not requests:
        return False
    path = getattr(requests[0], "path", "") or ""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


_ERROR_CODES = {
    400: ("invalid_request", "parse_error"),
    413: ("invalid_request", "request_too_large"),
    431: ("invalid_request", "request_header_fields_too_large"),
}


class EnvelopeErrorTask(ErrorTask):
    """An error waitress answers before the app sees the request, in PostHog's envelope."""

    def execute(self) -> None:
        error = self.request.error
        kind, code = _ERROR_CODES.get(error.code, ("server_error", "error"))
        detail = f"{error.reason}: {error.body}" if error.code < 500 else "A server error occurred."
        body = orjson.dumps({"type": kind, "code": code, "detail": detail, "attr": None})
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class MockhogChannel(HTTPChannel):
    error_task_class = EnvelopeErrorTask


def create_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = DEFAULT_THREADS,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    **options: Any,
) -> Any:
    """A waitress server for ``app`` with mockhog's options (see the module's docstring)."""
    dispatcher = ControlPlaneDispatcher()
    dispatcher.set_thread_count(threads)
    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=connection_limit,
        asyncore_use_poll=True,
        _dispatcher=dispatcher,
        **options,
    )
    listeners = [server] if isinstance(server, BaseWSGIServer) else list(server.map.values())
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = MockhogChannel
    return server
