"""Issue 11's safety targets, measured against a real `mockhog serve` on loopback.

    python bench/safety.py [--json FILE]

1. 30 refused 1 MiB bodies leave the server's RSS within 100 MB of where it started.
2. With 150 idle keep-alive connections open, a new request answers within 1 s.
3. With a 10-minute latency rule holding all four worker threads, health, clear-faults and reset
   each answer within 1 s (and the sleeping requests then answer too).

Every loop is bounded in count and time; only 127.0.0.1 is contacted; the server is stopped at the
end. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

HOST = "127.0.0.1"
KEY = "phx_mockhog_default_key"
AUTH = {"Authorization": f"Bearer {KEY}"}
EXPORTS = "/api/projects/1/exports/"
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Served:
    """`python -m mockhog serve` in a child process."""

    def __init__(self, threads: int = 4) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockhog", "serve", "--port", str(self.port), "--threads", str(threads)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/_mockhog/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mockhog did not start within 30 s")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


# Three ways to be refused with a 1 MiB body: a wrong type, an invalid choice whose error echoes the
# value back, and an unknown field beside a wrong type.
REFUSED = [
    json.dumps(body).encode()
    for body in (
        {"export_format": "text/csv", "insight": "x" * MIB},
        {"export_format": "x" * MIB, "insight": 1},
        {"insight": "x", "y" * MIB: 1},
    )
]


def refused_bodies(count: int = 30) -> dict[str, Any]:
    """RSS before and after ``count`` 1 MiB bodies that the schema refuses (400)."""
    served = Served()
    try:
        session = requests.Session()
        for _ in range(5):  # warm up: first requests build validators and caches
            session.post(f"{served.url}{EXPORTS}", json={"insight": "warm-up"}, headers=AUTH, timeout=10)
        start = served.rss_mb()
        statuses = set()
        peak = start
        for index in range(count):
            answer = session.post(
                f"{served.url}{EXPORTS}",
                data=REFUSED[index % len(REFUSED)],
                headers={**AUTH, "Content-Type": "application/json"},
                timeout=30,
            )
            statuses.add(answer.status_code)
            peak = max(peak, served.rss_mb())
        time.sleep(0.5)
        end = served.rss_mb()
        journal = session.get(f"{served.url}/_mockhog/journal?limit=1", timeout=10).json()
        kept = len(json.dumps(journal[0]["body"])) if journal else 0
    finally:
        served.stop()
    return {
        "bodies": count,
        "statuses": sorted(statuses),
        "rss_start_mb": round(start, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_end_mb": round(end, 1),
        "growth_mb": round(end - start, 1),
        "journal_body_kept_bytes": kept,
        "pass": statuses == {400} and end - start <= 100,
    }


def idle_connections(count: int = 150) -> dict[str, Any]:
    """A new client's first answer while ``count`` keep-alive connections sit idle."""
    served = Served()
    idle: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, served.port), timeout=5)
            sock.sendall(b"GET /_mockhog/health HTTP/1.1\r\nHost: bench\r\n\r\n")
            if not sock.recv(65536).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("an idle connection's first request failed")
            idle.append(sock)
        seconds, answer = timed(lambda: requests.get(f"{served.url}{EXPORTS}", headers=AUTH, timeout=10))
        status = answer.status_code
    except requests.Timeout:
        seconds, status = 10.0, None
    finally:
        for sock in idle:
            sock.close()
        served.stop()
    return {"idle_connections": count, "status": status, "seconds": round(seconds, 4), "pass": seconds < 1}


def latency_lockout(workers: int = 4) -> dict[str, Any]:
    """Control calls while a 10-minute latency rule holds every worker thread."""
    served = Served(threads=workers)
    results: dict[str, Any] = {"workers": workers}
    try:
        for name, method, path, body in (
            ("health", "GET", "/_mockhog/health", None),
            ("clear_faults", "DELETE", "/_mockhog/faults", None),
            ("reset", "POST", "/_mockhog/reset", {}),
        ):
            sleepers, answers = _occupy_workers(served, workers)
            seconds, answer = timed(
                lambda m=method, p=path, b=body: requests.request(m, f"{served.url}{p}", json=b, timeout=10)
            )
            results[name] = {"status": answer.status_code, "seconds": round(seconds, 4)}
            # End the sleepers (health leaves them asleep) and check each answered.
            requests.delete(f"{served.url}/_mockhog/faults", timeout=10)
            for thread in sleepers:
                thread.join(timeout=10)
            results[name]["sleepers_answered"] = sorted(answers)
    finally:
        served.stop()
    calls = [results[name] for name in ("health", "clear_faults", "reset")]
    results["pass"] = all(
        call["seconds"] < 1 and call["status"] < 300 and call["sleepers_answered"] == [200] * workers
        for call in calls
    )
    return results


def _occupy_workers(served: Served, workers: int) -> tuple[list[threading.Thread], list[int]]:
    rule = {"path": "exports", "latency_ms": 600_000}
    made = requests.post(f"{served.url}/_mockhog/faults", json=rule, timeout=10)
    if made.status_code != 201:
        raise RuntimeError(f"could not add the latency rule: {made.text}")
    answers: list[int] = []

    def call() -> None:
        answers.append(requests.get(f"{served.url}{EXPORTS}", headers=AUTH, timeout=60).status_code)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # every worker is asleep once the rule fired for each
        rules = requests.get(f"{served.url}/_mockhog/faults", timeout=5).json()
        if rules and rules[0]["fired"] == workers:
            break
        time.sleep(0.02)
    else:
        raise RuntimeError("the sleeping requests did not all start")
    return threads, answers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args()
    results = {
        "refused_1mib_bodies": refused_bodies(),
        "idle_keep_alive": idle_connections(),
        "latency_lockout": latency_lockout(),
    }
    print(json.dumps(results, indent=2))
    rows = [
        ("30 refused 1 MiB bodies: RSS growth (MB)", results["refused_1mib_bodies"]["growth_mb"], "<= 100"),
        ("150 idle keep-alive: new request (s)", results["idle_keep_alive"]["seconds"], "< 1"),
        ("4 sleeping workers: health (s)", results["latency_lockout"]["health"]["seconds"], "< 1"),
        (
            "4 sleeping workers: clear faults (s)",
            results["latency_lockout"]["clear_faults"]["seconds"],
            "< 1",
        ),
        ("4 sleeping workers: reset (s)", results["latency_lockout"]["reset"]["seconds"], "< 1"),
    ]
    print(f"\n{'target (issue 11)':<44}{'measured':>10}  limit")
    for name, value, limit in rows:
        print(f"{name:<44}{value:>10}  {limit}")
    passed = all(result["pass"] for result in results.values())
    print("\nall targets met" if passed else "\nTARGET MISSED")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", HOST)
    sys.exit(main())
