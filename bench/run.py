"""mockhog's benchmark (issue 7): one command, bounded in time, on loopback only.

    python bench/run.py [--quick] [--json FILE] [--threads N]

Measures side by side in one run: throughput and p50/p99 of mockhog against a bare Flask app returning
the same bodies under the same WSGI server (waitress, same thread count), the cost of response
validation, cold start, reset, the pytest fixture's per-test overhead and scale (1k/10k/100k
persons); prints a table with each target of issue 7 as PASS/FAIL and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
import measures  # noqa: E402
from servers import API_KEY, ENDPOINTS, HOST, Endpoint, Server, capture_bodies  # noqa: E402


@dataclass(frozen=True)
class Settings:
    seconds: float  # per load measurement
    rounds: int  # interleaved rounds; figures are medians over rounds
    warmup: float  # seconds of load per (server, endpoint) before the first round
    cold_runs: int
    reset_runs: int
    fixture_runs: int
    scale_reps: int
    connections: int = 8


FULL = Settings(seconds=5, rounds=3, warmup=1, cold_runs=5, reset_runs=300, fixture_runs=600, scale_reps=200)
QUICK = Settings(seconds=2, rounds=1, warmup=1, cold_runs=3, reset_runs=100, fixture_runs=300, scale_reps=50)
SCALE_COUNTS = [1_000, 10_000, 100_000]

# Reference figures from issue 7 (same kind of 2-core machine): Stoplight Prism serving static examples.
PRISM_STATIC_RPS = {"retrieve": 1750, "list100": 1200}


def throughput(settings: Settings, threads: int) -> dict[str, Any]:
    """Interleaved load runs: every round measures each (endpoint, server) once, in rotating order."""
    bodies_file = Path(tempfile.mkdtemp()) / "bodies.json"
    bodies_file.write_text(json.dumps(capture_bodies()))
    common = ["--threads", str(threads)]
    servers = {
        "mockhog": Server("mockhog", ["mockhog", *common]),
        "mockhog_novalidate": Server("mockhog_novalidate", ["mockhog", "--no-validate", *common]),
        "bare": Server("bare", ["bare", "--bodies", str(bodies_file), *common]),
    }
    plan: dict[str, list[str]] = {
        "retrieve": ["mockhog", "bare", "mockhog_novalidate"],
        "list100": ["mockhog", "bare", "mockhog_novalidate"],
        "create": ["mockhog", "bare"],
    }
    runs: dict[str, dict[str, list[load.LoadResult]]] = {ep: {s: [] for s in plan[ep]} for ep in plan}
    try:
        for ep in ENDPOINTS:
            for name in plan[ep.name]:
                _load(servers[name], ep, settings.connections, settings.warmup)
        for round_no in range(settings.rounds):
            for ep in ENDPOINTS:
                order = plan[ep.name][round_no % 3 :] + plan[ep.name][: round_no % 3]
                for name in order:
                    result = _load(servers[name], ep, settings.connections, settings.seconds)
                    runs[ep.name][name].append(result)
        reset_http = measures.reset_http(servers["mockhog"], settings.reset_runs)
    finally:
        for server in servers.values():
            server.stop()
    medians = {
        ep: {
            name: {
                field: statistics.median(getattr(r, field) for r in results)
                for field in ("rps", "p50_ms", "p99_ms")
            }
            | {"errors": sum(r.errors for r in results), "rounds_rps": [r.rps for r in results]}
            for name, results in by_server.items()
        }
        for ep, by_server in runs.items()
    }
    return {"by_endpoint": medians, "reset_http": reset_http}


def _load(server: Server, ep: Endpoint, connections: int, seconds: float) -> load.LoadResult:
    if ep.method == "POST" and server.label.startswith("mockhog"):
        server.post("/_mockhog/reset")  # creates do not pile up across rounds
    body = json.dumps(ep.body) if ep.body is not None else None
    url = f"http://{HOST}:{server.port}{ep.path}"
    return load.run_load(url, ep.method, f"Bearer {API_KEY}", body, connections, seconds)


def machine() -> dict[str, Any]:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of issue 7: (name, measured, limit, pass)."""
    tp = res["throughput"]["by_endpoint"]
    scale = {p["persons"]: p for p in res["scale"]}
    rows: list[tuple[str, float, str, bool]] = []
    for ep, floor in (("retrieve", 0.6), ("list100", 0.5)):
        ratio = tp[ep]["mockhog"]["rps"] / tp[ep]["bare"]["rps"]
        rps = tp[ep]["mockhog"]["rps"]
        rows.append((f"{ep}: mockhog/bare throughput", ratio, f">= {floor}x", ratio >= floor))
        prism = PRISM_STATIC_RPS[ep]
        rows.append((f"{ep}: mockhog req/s vs Prism static", rps, f">= {prism}", rps >= prism))
    rows.append(("cold start to first 200 (s)", res["cold_start"]["median_s"], "<= 0.5", None))
    reset_ms = res["throughput"]["reset_http"]["median_ms"]
    rows.append(("POST /_mockhog/reset over HTTP (ms)", reset_ms, "<= 2", None))
    rows.append(("pytest fixture overhead per test (ms)", res["fixture"]["per_test_ms"], "<= 3", None))
    big, small = scale[100_000], scale[1_000]
    rows.append(("100k persons: seeding (s)", big["build_s"], "<= 5", None))
    rows.append(("100k persons: RSS (MB)", big["rss_mb"], "<= 300", None))
    page_ratio = big["list_page_ms"] / small["list_page_ms"]
    rows.append(("list page latency 100k/1k", page_ratio, "<= 1.5x", None))
    out = []
    for name, value, limit, ok in rows:
        if ok is None:
            ok = value <= float(limit.split()[1].rstrip("x"))
        out.append({"target": name, "value": value, "limit": limit, "pass": ok})
    return out


def print_table(res: dict[str, Any]) -> None:
    m, s = res["machine"], res["settings"]
    print(f"\nmockhog benchmark ({res['mode']}) on {m['cpu']}, {m['cores']} cores, Python {m['python']}")
    print(f"load average (1 min) before/after: {res['loadavg_before']:.2f} / {res['loadavg_after']:.2f}")
    print(
        f"load: {res['generator']}, {s['connections']} connections, {s['seconds']:g} s x {s['rounds']} "
        f"interleaved round(s), medians; servers: waitress, {res['threads']} threads, one process each\n"
    )
    tp = res["throughput"]["by_endpoint"]
    head = f"{'endpoint':<10} {'server':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"{head} {'vs bare':>8} {'errors':>7}")
    for ep, by_server in tp.items():
        for name, r in by_server.items():
            ratio = r["rps"] / by_server["bare"]["rps"]
            row = f"{ep:<10} {name:<20} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
            print(f"{row} {ratio:>7.2f}x {r['errors']:>7}")
    print("\nresponse validation cost (throughput validate-on / validate-off):")
    for ep, ratio in res["validation_ratio"].items():
        print(f"  {ep:<10} {ratio:.2f}x")
    cold = res["cold_start"]
    runs = ", ".join(f"{t:.2f}" for t in cold["runs_s"])
    print(f"\ncold start `python -m mockhog serve` to first 200: {cold['median_s']:.3f} s (runs: {runs})")
    print(
        f"reset after {res['reset_in_process']['writes_before']} writes: in-process backend.reset() "
        f"{res['reset_in_process']['median_ms']:.3f} ms; POST /_mockhog/reset over HTTP "
        f"{res['throughput']['reset_http']['median_ms']:.3f} ms"
    )
    print(
        f"pytest plugin: the mockhog fixture adds {res['fixture']['per_test_ms']:.3f} ms per test "
        f"(reset included; measured over {res['fixture']['tests']} tests)"
    )
    print(f"\n{'persons':>8} {'seeding s':>10} {'RSS MB':>8} {'list page ms':>13}")
    for p in res["scale"]:
        print(f"{p['persons']:>8} {p['build_s']:>10.2f} {p['rss_mb']:>8.0f} {p['list_page_ms']:>13.2f}")
    print(f"\n{'target (issue 7)':<42} {'measured':>10} {'limit':>8}  result")
    for t in res["targets"]:
        print(f"{t['target']:<42} {t['value']:>10.3f} {t['limit']:>8}  {'PASS' if t['pass'] else 'FAIL'}")
    print(
        f"\n{sum(t['pass'] for t in res['targets'])}/{len(res['targets'])} targets met; "
        f"took {res['elapsed_s']:.0f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="about a minute: 1 round of 2 s, fewer samples")
    parser.add_argument("--json", default=str(Path(__file__).parent / "results.json"), help="where to write")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads of every server (default 4)")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    begin = time.perf_counter()
    res: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "generator": load.generator(),
        "threads": args.threads,
        "settings": asdict(settings),
        "loadavg_before": os.getloadavg()[0],
    }
    if res["loadavg_before"] > 0.5:
        print(
            f"warning: load average {res['loadavg_before']:.2f} before the run: other processes share "
            "the CPU, absolute figures will be low (interleaved ratios suffer less)",
            flush=True,
        )
    print(f"load generator: {res['generator']}; measuring throughput...", flush=True)
    res["throughput"] = throughput(settings, args.threads)
    tp = res["throughput"]["by_endpoint"]
    res["ratios_vs_bare"] = {ep: tp[ep]["mockhog"]["rps"] / tp[ep]["bare"]["rps"] for ep in tp}
    res["validation_ratio"] = {
        ep: tp[ep]["mockhog"]["rps"] / tp[ep]["mockhog_novalidate"]["rps"] for ep in ("retrieve", "list100")
    }
    print("cold start...", flush=True)
    res["cold_start"] = measures.cold_start(settings.cold_runs)
    print("reset and fixture path...", flush=True)
    res["reset_in_process"] = measures.reset_in_process(settings.reset_runs)
    res["fixture"] = measures.fixture_overhead(settings.fixture_runs)
    print("scale...", flush=True)
    res["scale"] = measures.scale(SCALE_COUNTS, settings.scale_reps)
    res["targets"] = targets(res)
    res["elapsed_s"] = time.perf_counter() - begin
    res["loadavg_after"] = os.getloadavg()[0]
    print_table(res)
    Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
