"""Measures that need no load generator: cold start and idle RSS, reset, the per-test fixture path,
and how request cost grows with a table's size.

``python bench/measures.py scale TABLE N REPS`` is the fresh process of one scale point: it builds a
backend whose TABLE (persons or file_system) has N rows and prints, as JSON, its build time, its RSS
and the median latency of each measured request (through the Flask test client, in process).
``python bench/measures.py cold [RUNS]`` measures only the cold starts and prints them as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from servers import AUTH, CREATE_BODY, HOST, Server, endpoints, free_port, wait_ready

CREATE_PATH = "/api/projects/1/file_system/"


def _ms(seconds: float) -> float:
    return seconds * 1000


def rss_mb(pid: int | str = "self") -> float:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The first request of each cold start: a verified retrieve (issue 17's endpoint), the feature
# flags list (verified; the first call of many clients) and a generic list (imported schema only).
COLD_PATHS = {
    "retrieve": None,  # the retrieve endpoint of the throughput runs (an event definition)
    "flags": "/api/projects/1/feature_flags/",
    "generic": "/api/environments/1/hog_functions/",
}


def _wait_listening(port: int, timeout: float = 30.0, poll: float = 0.002) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(poll)
    raise TimeoutError(f"nothing listened on {HOST}:{port} within {timeout}s")


def cold_start(runs: int, idle_s: float = 1.0) -> dict[str, Any]:
    """``python -m mockhog serve --port P`` (PostHog's whole published API: every imported
    operation is routed and checked), for each first request of COLD_PATHS, in turn, ``runs``
    times (default seed): seconds from the process start until the port accepts a connection
    (listening) and until the first 200 (cold start), medians; the CPU seconds the server used
    until that 200, which a loaded machine inflates far less than the wall time; and its
    resident memory after it answered and sat idle for ``idle_s``. The load average is recorded,
    since on a shared machine the wall times follow it.

    mockhog's bytecode is compiled first, as a regular install has it (this machine sets
    PYTHONDONTWRITEBYTECODE, which would otherwise recompile every module at each start)."""
    import compileall

    import mockhog

    compileall.compile_dir(str(Path(mockhog.__file__).parent), quiet=1)
    paths = {label: path or endpoints()[0].path for label, path in COLD_PATHS.items()}
    seen: dict[str, dict[str, list[float]]] = {
        label: {"listening": [], "first": [], "cpu": [], "rss": []} for label in paths
    }
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        for label, path in paths.items():
            port = free_port()
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "mockhog", "serve", "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_listening(port)
                seen[label]["listening"].append(time.perf_counter() - start)
                wait_ready(port, path, poll=0.002)
                seen[label]["first"].append(time.perf_counter() - start)
                seen[label]["cpu"].append(cpu_s(proc.pid))
                time.sleep(idle_s)
                seen[label]["rss"].append(rss_mb(proc.pid))
            finally:
                proc.terminate()
                proc.wait()
    out: dict[str, Any] = {"loadavg_before": load_before, "loadavg_after": os.getloadavg()[0]}
    for label, path in paths.items():
        figures = seen[label]
        out[label] = {
            "path": path,
            "median_s": statistics.median(figures["first"]),
            "runs_s": figures["first"],
            "listening_median_s": statistics.median(figures["listening"]),
            "cpu_median_s": statistics.median(figures["cpu"]),
            "idle_rss_mb": statistics.median(figures["rss"]),
            "rss_runs_mb": figures["rss"],
        }
    return out


def _writes(client: Any, n: int) -> None:
    for _ in range(n):
        client.post(CREATE_PATH, json=CREATE_BODY, headers=AUTH)


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
            conn.request("POST", CREATE_PATH, body=body, headers=headers)
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


def _ok(count: int | None = None) -> Any:
    def check(reply: Any) -> None:
        assert reply.status_code < 300, (reply.status_code, reply.data[:200])
        if count is not None:
            assert len(reply.get_json()["results"]) == count, reply.get_json()

    return check


def bench_folders(count: int) -> list[str]:
    """``count`` folders, a thousand per parent folder (so a folder's listing is the same size at
    every scale)."""
    return [f"Bench/{number // 1000:03d}/{number:06d}" for number in range(count)]


def _profile(table: str, count: int) -> dict[str, Any]:
    if table == "persons":
        return {"persons": {"count": count}}
    return {"file_system": {"folders": bench_folders(count)}}


def scale_point(table: str, count: int) -> dict[str, Any]:
    """Run in a fresh process: seeding time and RSS after seeding."""
    import mockhog

    start = time.perf_counter()
    backend = mockhog.Backend(seed=0, profile=_profile(table, count))
    rows = len(backend.store.table(1, table))  # seeded on first use: part of the build
    build_s = time.perf_counter() - start
    return {"table": table, "rows": count, "table_rows": rows, "build_s": build_s, "rss_mb": rss_mb()}


Request = tuple[str, str, Any]


def _requests(table: str, backend: Any, count: int, reps: int) -> dict[str, tuple[list[Request], Any]]:
    """Each measured request kind: ``reps`` requests (over sampled rows) and the check of a reply."""
    import random

    rows = random.Random(0).choices(backend.store.table(1, table).values(), k=reps)
    base = f"/api/projects/1/{table}/"
    kinds: dict[str, tuple[list[Request], Any]] = {
        "retrieve_id_ms": ([("GET", f"{base}{r['id']}/", None) for r in rows], _ok()),
    }
    if table == "persons":
        kinds["retrieve_uuid_ms"] = ([("GET", f"{base}{r['uuid']}/", None) for r in rows], _ok())
        by_distinct_id = [("GET", f"{base}?distinct_id={r['distinct_ids'][-1]}", None) for r in rows]
        kinds["filtered_list_ms"] = (by_distinct_id, _ok(1))
        kinds["list_page_ms"] = ([("GET", f"{base}?limit=100&offset={count // 2}", None)] * reps, _ok(100))
    else:
        kinds["filtered_list_ms"] = ([("GET", f"{base}?parent=Bench/000&limit=100", None)] * reps, _ok(100))
        creates = [("POST", base, {"path": f"Bench/new/{n:06d}/leaf", "type": "folder"}) for n in range(reps)]
        kinds["create_ms"] = (creates, _ok())
    return kinds


def growth(table: str, counts: list[int], reps: int) -> dict[int, dict[str, float]]:
    """Run in a fresh process: one backend per size, and every request kind timed in rounds that
    visit the sizes in turn (rotating), so a load swing on a shared machine hits all sizes alike.
    Medians over the rounds, the first tenth left out; the first write is timed on its own."""
    import mockhog

    clients, kinds, out = {}, {}, {}
    for count in counts:
        backend = mockhog.Backend(seed=0, profile=_profile(table, count))
        clients[count] = mockhog.create_app(backend=backend).test_client()
        kinds[count] = _requests(table, backend, count, reps)
        out[count] = {}
        if table == "file_system":
            # The first write after a reset copies the seeded table (copy on write): O(rows), once.
            # One write and a reset first, so that validators and indexes are warm.
            create = {"path": "Bench/first", "type": "folder"}
            clients[count].post(f"/api/projects/1/{table}/", json=create, headers=AUTH)
            backend.reset()
            start = time.perf_counter()
            reply = clients[count].post(f"/api/projects/1/{table}/", json=create, headers=AUTH)
            out[count]["first_write_ms"] = _ms(time.perf_counter() - start)
            assert reply.status_code == 201, reply.get_json()
    for kind in kinds[counts[0]]:
        times: dict[int, list[float]] = {count: [] for count in counts}
        for number in range(reps):
            for count in counts[number % len(counts) :] + counts[: number % len(counts)]:
                (method, path, body), check = kinds[count][kind][0][number], kinds[count][kind][1]
                start = time.perf_counter()
                reply = clients[count].open(path, method=method, json=body, headers=AUTH)
                times[count].append(time.perf_counter() - start)
                check(reply)
        for count in counts:
            out[count][kind] = _ms(statistics.median(times[count][reps // 10 :]))
    return out


def _run_json(*args: str) -> Any:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def scale(counts: list[int], reps: int) -> list[dict[str, Any]]:
    """Seeding time and RSS per (table, size), each in its own process; latencies per table from one
    interleaved process."""
    points = []
    for table in ("persons", "file_system"):
        latencies = _run_json("growth", table, ",".join(map(str, counts)), str(reps))
        for count in counts:
            points.append(_run_json("scale", table, str(count)) | latencies[str(count)])
    return points


def main() -> None:
    if sys.argv[1:2] == ["cold"]:
        print(json.dumps(cold_start(int(sys.argv[2]) if len(sys.argv) > 2 else 5), indent=2))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["scale", "growth"])
    parser.add_argument("table", choices=["persons", "file_system"])
    parser.add_argument("counts", help="one size (scale) or comma-separated sizes (growth)")
    parser.add_argument("reps", type=int, nargs="?", default=200)
    args = parser.parse_args()
    if args.what == "scale":
        print(json.dumps(scale_point(args.table, int(args.counts))))
    else:
        print(json.dumps(growth(args.table, [int(n) for n in args.counts.split(",")], args.reps)))


if __name__ == "__main__":
    main()
