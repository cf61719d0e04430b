"""mockhog's benchmark (issues 7, 14 and 17): one command, bounded in time, on loopback only.

    python bench/run.py [--quick] [--json FILE] [--threads N] [--no-prism] [--baseline REF]

Measures side by side in one interleaved run: throughput and p50/p99 of mockhog against a bare Flask
app returning the same bodies under the same WSGI server (waitress, same thread count) and against
Stoplight Prism in static mode serving mockhog's own /api/schema/ document (installed from npm into a
temporary folder when npm is there; the run says so when it is not) and against mockhog as it was
before PostHog's whole API was imported (issue 14: ``--baseline``, main at 6a78c07, unpacked from
git); the cost of response validation; cold start (wall and CPU time) and idle RSS of the whole-API
server, on a verified and on a generic route; reset; the pytest fixture's per-test overhead; and how create,
retrieve by each unique key and a filtered list grow from 1k to 10k to 100k rows. Prints a table
with each target as PASS/FAIL and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import http.client
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

import generic  # noqa: E402
import load  # noqa: E402
import measures  # noqa: E402
import servers  # noqa: E402
from servers import API_KEY, HOST, Endpoint, Server, capture_bodies, endpoints  # noqa: E402


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
COLD_LABELS = {"retrieve": "verified retrieve", "flags": "feature flags list", "generic": "generic list"}
PRE_IMPORT = "6a78c07"  # main before issue 14 imported PostHog's whole API


def throughput(settings: Settings, threads: int, with_prism: bool, baseline: str | None) -> dict[str, Any]:
    """Interleaved load runs: every round measures each (endpoint, server) once, in rotating order."""
    folder = Path(tempfile.mkdtemp())
    bodies_file = folder / "bodies.json"
    bodies_file.write_text(json.dumps(capture_bodies()))
    common = ["--threads", str(threads)]
    running: dict[str, Server] = {}
    prism_note = "not measured (--no-prism)"
    baseline_note = "not measured (--baseline none)"
    try:
        running["mockhog"] = Server("mockhog", ["mockhog", *common])
        running["mockhog_novalidate"] = Server("mockhog_novalidate", ["mockhog", "--no-validate", *common])
        running["bare"] = Server("bare", ["bare", "--bodies", str(bodies_file), *common])
        if with_prism:
            command, prism_note = servers.prism_command()
            if command is not None:
                try:
                    running["prism"] = servers.prism(command, servers.schema_document(folder))
                except TimeoutError:
                    prism_note += f": it did not answer within {servers.PRISM_START_S} s, not measured"
        print(f"Prism: {prism_note}", flush=True)
        if baseline:
            tree, baseline_note = servers.checkout(baseline, folder)
            if tree is not None:
                running["pre_import"] = Server("pre_import", ["mockhog", *common], pythonpath=tree)
        print(f"baseline: {baseline_note}", flush=True)
        plan: dict[str, list[str]] = {
            "retrieve": ["mockhog", "bare", "mockhog_novalidate", "prism", "pre_import"],
            "list100": ["mockhog", "bare", "mockhog_novalidate", "prism", "pre_import"],
            "create": ["mockhog", "bare", "prism"],
        }
        plan = {ep: [name for name in names if name in running] for ep, names in plan.items()}
        runs: dict[str, dict[str, list[load.LoadResult]]] = {ep: {s: [] for s in plan[ep]} for ep in plan}
        prism_items = _prism_list_items(running.get("prism"))
        for ep in endpoints():
            for name in plan[ep.name]:
                _load(running[name], ep, settings.connections, settings.warmup)
        for round_no in range(settings.rounds):
            for ep in endpoints():
                names = plan[ep.name]
                order = names[round_no % len(names) :] + names[: round_no % len(names)]
                for name in order:
                    result = _load(running[name], ep, settings.connections, settings.seconds)
                    runs[ep.name][name].append(result)
        reset_http = measures.reset_http(running["mockhog"], settings.reset_runs)
    finally:
        for server in running.values():
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
    return {
        "by_endpoint": medians,
        "reset_http": reset_http,
        "prism": prism_note,
        "prism_list_items": prism_items,
        "baseline": baseline_note,
    }


def _prism_list_items(prism: Server | None) -> int | None:
    """How many persons Prism's static list answers (it makes one from the schema, not 100)."""
    if prism is None:
        return None
    ep = next(ep for ep in endpoints() if ep.name == "list100")
    conn = http.client.HTTPConnection(HOST, prism.port, timeout=10)
    conn.request("GET", ep.path, headers=servers.AUTH)
    body = json.loads(conn.getresponse().read() or b"{}")
    conn.close()
    return len(body.get("results") or []) if isinstance(body, dict) else None


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
    """Every target of issues 7, 14 and 17: (name, measured, limit, pass)."""
    tp = res["throughput"]["by_endpoint"]
    rows: list[tuple[str, float, str, bool | None]] = []
    for ep, floor in (("retrieve", 0.75), ("list100", 0.6), ("create", 0.5)):
        ratio = tp[ep]["mockhog"]["rps"] / tp[ep]["bare"]["rps"]
        rows.append((f"{ep}: mockhog/bare throughput", ratio, f">= {floor}x", ratio >= floor))
    for ep, floor in (("retrieve", 2.0), ("create", 2.0), ("list100", 1.0)):
        if "prism" in tp[ep]:
            ratio = tp[ep]["mockhog"]["rps"] / tp[ep]["prism"]["rps"]
            rows.append((f"{ep}: mockhog/Prism static throughput", ratio, f">= {floor}x", ratio >= floor))
    for name, value in growth(res["scale"]).items():
        rows.append((f"{name} 100k/1k", value, "<= 1.2x", None))
    for ep in ("retrieve", "list100"):
        if "pre_import" in tp[ep]:
            ratio = tp[ep]["mockhog"]["rps"] / tp[ep]["pre_import"]["rps"]
            rows.append((f"{ep}: mockhog / pre-import main", ratio, ">= 0.95x", ratio >= 0.95))
    cold = res["cold_start"]
    for label, what in COLD_LABELS.items():
        rows.append((f"cold start to first 200, {what} (s)", cold[label]["median_s"], "<= 0.5", None))
    rows.append(
        (
            "idle RSS, whole API loaded (MB)",
            max(cold[label]["idle_rss_mb"] for label in COLD_LABELS),
            "<= 150",
            None,
        )
    )
    rows.append(
        (
            "RSS after every generic list (MB)",
            res["whole_api_memory"]["after_every_generic_list_mb"],
            "<= 150",
            None,
        )
    )
    reset_ms = res["throughput"]["reset_http"]["median_ms"]
    rows.append(("POST /_mockhog/reset over HTTP (ms)", reset_ms, "<= 2", None))
    rows.append(("pytest fixture overhead per test (ms)", res["fixture"]["per_test_ms"], "<= 3", None))
    big = next(p for p in res["scale"] if p["table"] == "persons" and p["rows"] == 100_000)
    small = next(p for p in res["scale"] if p["table"] == "persons" and p["rows"] == 1_000)
    rows.append(("100k persons: seeding (s)", big["build_s"], "<= 5", None))
    rows.append(("100k persons: RSS (MB)", big["rss_mb"], "<= 300", None))
    rows.append(("list page latency 100k/1k", big["list_page_ms"] / small["list_page_ms"], "<= 1.5x", None))
    out = []
    for name, value, limit, ok in rows:
        if ok is None:
            ok = value <= float(limit.split()[1].rstrip("x"))
        out.append({"target": name, "value": value, "limit": limit, "pass": ok})
    return out


GROWTH = {
    ("persons", "retrieve_id_ms"): "persons retrieve by id",
    ("persons", "retrieve_uuid_ms"): "persons retrieve by uuid",
    ("persons", "filtered_list_ms"): "persons ?distinct_id= list",
    ("file_system", "retrieve_id_ms"): "file_system retrieve by id",
    ("file_system", "create_ms"): "file_system create",
    ("file_system", "filtered_list_ms"): "file_system ?parent= list",
}


def growth(points: list[dict[str, Any]]) -> dict[str, float]:
    """Each request's latency at the largest table over the same at the smallest."""
    out = {}
    for (table, field), name in GROWTH.items():
        series = sorted((p["rows"], p[field]) for p in points if p["table"] == table)
        out[name] = series[-1][1] / series[0][1]
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
        if "prism" in by_server:
            print(f"{'':<10} mockhog / Prism: {by_server['mockhog']['rps'] / by_server['prism']['rps']:.2f}x")
    if "pre_import" in tp["retrieve"]:
        for ep in ("retrieve", "list100"):
            ratio = tp[ep]["mockhog"]["rps"] / tp[ep]["pre_import"]["rps"]
            print(f"{ep}: mockhog / pre-import main {ratio:.2f}x")
    print(f"baseline (pre_import): {res['throughput']['baseline']}")
    if res["throughput"]["prism_list_items"] is not None:
        print(f"(Prism's static list answers {res['throughput']['prism_list_items']} item(s), not 100)")
    print(f"Prism: {res['throughput']['prism']}")
    print("\nresponse validation cost (throughput validate-on / validate-off):")
    for ep, ratio in res["validation_ratio"].items():
        print(f"  {ep:<10} {ratio:.2f}x")
    colds = res["cold_start"]
    print(
        "\ncold start `python -m mockhog serve` (the whole imported API) to the first 200 (load average "
        f"{colds['loadavg_before']:.2f} before, {colds['loadavg_after']:.2f} after):"
    )
    for label, what in COLD_LABELS.items():
        cold = colds[label]
        runs = ", ".join(f"{t:.2f}" for t in cold["runs_s"])
        print(
            f"  {what:<20} {cold['median_s']:.3f} s wall, {cold['cpu_median_s']:.3f} s CPU (runs: {runs}); "
            f"listening after {cold['listening_median_s']:.3f} s; idle RSS {cold['idle_rss_mb']:.0f} MB"
        )
    memory = res["whole_api_memory"]
    print(
        f"  RSS after a first request to each of the {memory['generic_lists_requested']} generic lists: "
        f"{memory['after_every_generic_list_mb']:.0f} MB; "
        f"after /api/schema/ too: {memory['after_api_schema_mb']:.0f} MB"
    )
    print(
        f"reset after {res['reset_in_process']['writes_before']} writes: in-process backend.reset() "
        f"{res['reset_in_process']['median_ms']:.3f} ms; POST /_mockhog/reset over HTTP "
        f"{res['throughput']['reset_http']['median_ms']:.3f} ms"
    )
    print(
        f"pytest plugin: the mockhog fixture adds {res['fixture']['per_test_ms']:.3f} ms per test "
        f"(reset included; measured over {res['fixture']['tests']} tests)"
    )
    print("\nscale (in process, Flask test client, median ms per request):")
    fields = ["build_s", "rss_mb", "retrieve_id_ms", "retrieve_uuid_ms", "filtered_list_ms", "create_ms"]
    fields += ["list_page_ms", "first_write_ms"]
    print(f"{'table':<12} {'rows':>7} " + " ".join(f"{f.removesuffix('_ms'):>13}" for f in fields))
    for p in res["scale"]:
        cells = " ".join(f"{p[f]:>13.2f}" if f in p else f"{'-':>13}" for f in fields)
        print(f"{p['table']:<12} {p['rows']:>7} {cells}")
    print(
        "growth 100k/1k: " + ", ".join(f"{name} {value:.2f}x" for name, value in growth(res["scale"]).items())
    )
    print(f"\n{'target (issues 7, 14 and 17)':<42} {'measured':>10} {'limit':>8}  result")
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
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out (no npm install)")
    parser.add_argument(
        "--baseline",
        default=PRE_IMPORT,
        help=f"git ref of an older mockhog served beside this one ('none': none; default {PRE_IMPORT})",
    )
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
    baseline = None if args.baseline == "none" else args.baseline
    res["throughput"] = throughput(settings, args.threads, with_prism=not args.no_prism, baseline=baseline)
    tp = res["throughput"]["by_endpoint"]
    res["ratios_vs_bare"] = {ep: tp[ep]["mockhog"]["rps"] / tp[ep]["bare"]["rps"] for ep in tp}
    res["validation_ratio"] = {
        ep: tp[ep]["mockhog"]["rps"] / tp[ep]["mockhog_novalidate"]["rps"] for ep in ("retrieve", "list100")
    }
    print("cold start...", flush=True)
    res["cold_start"] = measures.cold_start(settings.cold_runs)
    res["whole_api_memory"] = generic.memory()
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
