"""The servers under test, each in its own process on loopback.

``python bench/servers.py mockhog --port P --threads T [--no-validate]`` serves mockhog (seed 0);
``python bench/servers.py bare --port P --threads T --bodies FILE`` serves a trivial Flask app that
returns the bodies mockhog gave once (captured by :func:`capture_bodies`), so the two differ only in
what mockhog does per request; both run under waitress. :func:`prism` starts Stoplight Prism in
static mode on mockhog's own ``/api/schema/`` document, when npm can provide it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
API_KEY = "phx_mockhog_default_key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CREATE_BODY = {"path": "Bench/Created", "type": "folder"}
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PRISM_START_S = 600  # Prism reads the whole-API document (876 operations) for minutes on a loaded machine
PRISM_DIR = Path(
    os.environ.get("MOCKHOG_BENCH_PRISM_DIR", Path(tempfile.gettempdir()) / "mockhog-bench-prism")
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None


@lru_cache(maxsize=1)
def endpoints() -> tuple[Endpoint, ...]:
    """Issue 17's three: retrieve an event definition, list 100 persons, create a file-system row
    (the seeded event definition's id is read from seed 0, not typed in)."""
    import mockhog

    client = mockhog.create_app(seed=0).test_client()
    first = client.get("/api/projects/1/event_definitions/?limit=1", headers=AUTH).get_json()["results"][0]
    return (
        Endpoint("retrieve", "GET", f"/api/projects/1/event_definitions/{first['id']}/"),
        Endpoint("list100", "GET", "/api/projects/1/persons/?limit=100"),
        Endpoint("create", "POST", "/api/projects/1/file_system/", CREATE_BODY),
    )


def capture_bodies() -> dict[str, dict[str, Any]]:
    """What mockhog (seed 0) answers to each endpoint, once, through its test client."""
    import mockhog

    client = mockhog.create_app(seed=0).test_client()
    captured = {}
    for ep in endpoints():
        reply = client.open(ep.path, method=ep.method, json=ep.body, headers=AUTH)
        assert reply.status_code < 300, (ep, reply.status_code, reply.data[:200])
        if ep.name == "list100":
            assert len(reply.get_json()["results"]) == 100, "the list must really return 100 items"
        captured[ep.name] = {
            "method": ep.method,
            "path": ep.path,
            "status": reply.status_code,
            "body": reply.get_data(as_text=True),
        }
    return captured


def bare_app(bodies: dict[str, dict[str, Any]]) -> Any:
    """A Flask app with one view per endpoint returning mockhog's captured body, nothing else."""
    from flask import Flask, Response

    app = Flask("bare")
    for name, captured in bodies.items():

        def view(captured: dict[str, Any] = captured, **_: Any) -> Response:
            return Response(captured["body"], status=captured["status"], content_type="application/json")

        app.add_url_rule(captured["path"].split("?")[0], name, view, methods=[captured["method"]])
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

    def __init__(
        self,
        label: str,
        args: list[str],
        command: list[str] | None = None,
        timeout: float = 30,
        pythonpath: Path | None = None,
    ) -> None:
        self.label = label
        self.port = free_port()
        argv = command or [sys.executable, __file__, *args]
        env = None
        if pythonpath is not None:  # another checkout's mockhog, imported before the installed one
            env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        self.proc = subprocess.Popen(
            [*argv, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        try:
            self.startup_s = wait_ready(self.port, endpoints()[0].path, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise

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


def checkout(ref: str, folder: Path) -> tuple[Path | None, str]:
    """``ref`` of this repository (package, schemas, fixtures) unpacked into ``folder``, to serve
    an older mockhog beside this one; else None and the reason, which the results print."""
    repo = Path(__file__).resolve().parent.parent
    target = folder / f"mockhog-{ref}"
    target.mkdir(parents=True, exist_ok=True)
    try:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", ref, "mockhog", "schemas", "fixtures"],
            check=True, capture_output=True, timeout=120,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True, timeout=120)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return None, f"{ref} could not be unpacked from git ({type(exc).__name__}): not measured"
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", ref], capture_output=True, text=True
    ).stdout.strip()
    return target, f"mockhog at {ref} ({commit})"


def prism_command() -> tuple[list[str] | None, str]:
    """How to run Prism here: on PATH, already installed for the bench, or installed now from npm
    into a temporary folder; else None and the reason, which the results print."""
    found = shutil.which("prism")
    installed = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not found and not installed.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm is not installed: Prism was not measured"
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PRISM_DIR), PRISM_PACKAGE],
                check=True, capture_output=True, timeout=600,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            return (
                None,
                f"npm could not install {PRISM_PACKAGE} ({type(exc).__name__}): Prism was not measured",
            )
    prism = found or str(installed)
    version = subprocess.run([prism, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    return [prism], f"Stoplight Prism {version}, static mode"


def prism(command: list[str], document: Path) -> Server:
    """Prism serving ``document`` statically (its examples, else values made from the schemas)."""
    return Server("prism", [], [*command, "mock", str(document), "--host", HOST], timeout=PRISM_START_S)


def schema_document(folder: Path) -> Path:
    """mockhog's own ``/api/schema/`` document, as a file for Prism."""
    import mockhog

    client = mockhog.create_app(seed=0).test_client()
    path = folder / "mockhog-openapi.json"
    path.write_bytes(client.get("/api/schema/").get_data())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["mockhog", "bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-validate", action="store_true", help="mockhog without response validation")
    parser.add_argument("--bodies", help="JSON file of captured bodies (bare)")
    args = parser.parse_args()

    import waitress

    try:
        from mockhog.serving import freeze_seeded_heap
    except ImportError:  # an older mockhog (--baseline) had none: served as its `mockhog serve` was
        freeze_seeded_heap = None
    if args.kind == "mockhog":
        import mockhog

        backend = mockhog.Backend(seed=0, validate_responses=not args.no_validate)
        app = mockhog.create_app(backend=backend)
    else:
        app = bare_app(json.loads(Path(args.bodies).read_text()))
    if freeze_seeded_heap is not None:  # as `mockhog serve` does; bare and mockhog alike
        freeze_seeded_heap()
    waitress.serve(app, host=HOST, port=args.port, threads=args.threads, ident="bench", _quiet=True)


if __name__ == "__main__":
    main()
