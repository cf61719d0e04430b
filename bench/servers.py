"""The servers under test, each in its own process on loopback, all under waitress.

``python bench/servers.py mockhog --port P --threads T [--no-validate]`` serves mockhog (seed 0);
``python bench/servers.py bare --port P --threads T --bodies FILE`` serves a trivial Flask app that
returns the bodies mockhog gave once (captured by :func:`capture_bodies`), so the two differ only in
what mockhog does per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
API_KEY = "phx_mockhog_default_key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CREATE_BODY = {"insight": 1, "export_format": "text/csv"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None


ENDPOINTS = [
    Endpoint("retrieve", "GET", "/api/projects/1/exports/1/"),
    Endpoint("list100", "GET", "/api/projects/1/persons/?limit=100"),
    Endpoint("create", "POST", "/api/projects/1/exports/", CREATE_BODY),
]


def capture_bodies() -> dict[str, dict[str, Any]]:
    """What mockhog (seed 0) answers to each endpoint, once, through its test client."""
    import mockhog

    client = mockhog.create_app(seed=0).test_client()
    captured = {}
    for ep in ENDPOINTS:
        reply = client.open(ep.path, method=ep.method, json=ep.body, headers=AUTH)
        assert reply.status_code < 300, (ep, reply.status_code, reply.data[:200])
        if ep.name == "list100":
            assert len(reply.get_json()["results"]) == 100, "the list must really return 100 items"
        captured[ep.name] = {"status": reply.status_code, "body": reply.get_data(as_text=True)}
    return captured


def bare_app(bodies: dict[str, dict[str, Any]]) -> Any:
    """A Flask app with one view per endpoint returning mockhog's captured body, nothing else."""
    from flask import Flask, Response

    app = Flask("bare")
    for ep in ENDPOINTS:
        captured = bodies[ep.name]

        def view(captured: dict[str, Any] = captured) -> Response:
            return Response(captured["body"], status=captured["status"], content_type="application/json")

        app.add_url_rule(ep.path.split("?")[0], ep.name, view, methods=[ep.method])
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_ready(port: int, path: str, timeout: float = 30.0, poll: float = 0.005) -> float:
    """Seconds until ``GET path`` answers 200 on ``port``; raises after ``timeout``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path, headers=AUTH)
            if conn.getresponse().status == 200:
                conn.close()
                return time.perf_counter() - start
            conn.close()
        except OSError:
            pass
        time.sleep(poll)
    raise TimeoutError(f"nothing answered 200 on {HOST}:{port}{path} within {timeout}s")


class Server:
    """One server process: started on a free port, stopped by its pid."""

    def __init__(self, label: str, args: list[str]) -> None:
        self.label = label
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(self.port, ENDPOINTS[0].path)

    def post(self, path: str) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        conn.request("POST", path, headers=AUTH)
        conn.getresponse().read()
        conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["mockhog", "bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-validate", action="store_true", help="mockhog without response validation")
    parser.add_argument("--bodies", help="JSON file of captured bodies (bare)")
    args = parser.parse_args()

    import waitress

    if args.kind == "mockhog":
        import mockhog

        backend = mockhog.Backend(seed=0, validate_responses=not args.no_validate)
        app = mockhog.create_app(backend=backend)
    else:
        app = bare_app(json.loads(Path(args.bodies).read_text()))
    waitress.serve(app, host=HOST, port=args.port, threads=args.threads, ident="bench", _quiet=True)


if __name__ == "__main__":
    main()
