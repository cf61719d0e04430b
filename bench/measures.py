"""Measures that need no load generator: cold start, reset, the per-test fixture path, scale.

``python bench/measures.py scale N REPS`` is the fresh process of one scale point: it builds a backend
with N persons and prints its build time, its RSS and the median list-page latency as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from servers import AUTH, CREATE_BODY, ENDPOINTS, HOST, Server, free_port, wait_ready

RETRIEVE = ENDPOINTS[0].path


def _ms(seconds: float) -> float:
    return seconds * 1000


def cold_start(runs: int) -> dict[str, Any]:
    """``python -m mockhog serve --port P`` to the first 200 on a GET (default seed), median.

    mockhog's bytecode is compiled first, as a regular install has it (this machine sets
    PYTHONDONTWRITEBYTECODE, which would otherwise recompile every module at each start)."""
    import compileall

    import mockhog

    compileall.compile_dir(str(Path(mockhog.__file__).parent), quiet=1)
    times = []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockhog", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(port, RETRIEVE, poll=0.002)
            times.append(time.perf_counter() - start)
        finally:
            proc.terminate()
            proc.wait()
    return {"median_s": statistics.median(times), "runs_s": times}


def _writes(client: Any, n: int) -> None:
    for _ in range(n):
        client.post("/api/projects/1/exports/", json=CREATE_BODY, headers=AUTH)


def reset_in_process(runs: int, writes: int = 5) -> dict[str, Any]:
    """``backend.reset()`` after a few writes, median over ``runs``."""
    import mockhog

    backend = mockhog.Backend(seed=0)
    client = mockhog.create_app(backend=backend).test_client()
    times = []
    for _ in range(runs):
        _writes(client, writes)
        start = time.perf_counter()
        backend.reset()
        times.append(time.perf_counter() - start)
    return {"median_ms": _ms(statistics.median(times)), "writes_before": writes}


def reset_http(server: Server, runs: int, writes: int = 5) -> dict[str, Any]:
    """``POST /_mockhog/reset`` on a served mockhog after a few writes, round trip, median."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    body = json.dumps(CREATE_BODY)
    headers = {**AUTH, "Content-Type": "application/json"}
    times = []
    for _ in range(runs):
        for _ in range(writes):
            conn.request("POST", "/api/projects/1/exports/", body=body, headers=headers)
            conn.getresponse().read()
        start = time.perf_counter()
        conn.request("POST", "/_mockhog/reset", headers=AUTH)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status == 200, response.status
    conn.close()
    return {"median_ms": _ms(statistics.median(times)), "writes_before": writes}


FIXTURE_SUITE = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_uses_mockhog(n, {fixture}):
    pass
"""


TIMING_CONFTEST = """
import json, pathlib, time
import pytest

TIMES = []

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    yield
    TIMES.append(time.perf_counter() - start)

def pytest_sessionfinish(session):
    pathlib.Path("times.json").write_text(json.dumps(TIMES))
"""


def fixture_overhead(count: int) -> dict[str, Any]:
    """The pytest plugin's ``mockhog`` fixture per test (setup, reset and teardown included):
    ``count`` empty tests that take the fixture against ``count`` that do not, each test timed
    from its own protocol hook; the median difference, leaving out the first test, which starts
    the session's server."""
    import json
    import tempfile

    def per_test(fixture: str) -> float:
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "test_overhead.py").write_text(FIXTURE_SUITE.format(count=count, fixture=fixture))
            Path(folder, "conftest.py").write_text(TIMING_CONFTEST)
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                check=True, capture_output=True, cwd=folder,
            )  # fmt: skip
            return statistics.median(json.loads(Path(folder, "times.json").read_text())[1:])

    return {"tests": count, "per_test_ms": _ms(max(0.0, per_test("mockhog") - per_test("tmp_path_factory")))}


def scale_point(count: int, reps: int) -> dict[str, Any]:
    """Run in a fresh process: build time, RSS after building, median list-page latency."""
    import mockhog

    start = time.perf_counter()
    backend = mockhog.Backend(seed=0, profile={"persons": {"count": count}})
    build_s = time.perf_counter() - start
    status = Path("/proc/self/status").read_text().splitlines()
    rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    client = mockhog.create_app(backend=backend).test_client()
    path = f"/api/projects/1/persons/?limit=100&offset={count // 2}"
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        reply = client.get(path, headers=AUTH)
        times.append(time.perf_counter() - t)
        assert reply.status_code == 200 and len(reply.get_json()["results"]) == 100
    return {
        "persons": count,
        "build_s": build_s,
        "rss_mb": rss_kb / 1024,
        "list_page_ms": _ms(statistics.median(times[reps // 10 :])),
    }


def scale(counts: list[int], reps: int) -> list[dict[str, Any]]:
    points = []
    for count in counts:
        out = subprocess.run(
            [sys.executable, __file__, "scale", str(count), str(reps)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        points.append(json.loads(out))
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["scale"])
    parser.add_argument("count", type=int)
    parser.add_argument("reps", type=int)
    args = parser.parse_args()
    print(json.dumps(scale_point(args.count, args.reps)))


if __name__ == "__main__":
    main()
