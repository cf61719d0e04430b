"""The whole imported API: cold start to the first 200 on a generic route, and idle RSS.

``python bench/generic.py [RUNS]`` starts ``python -m mockhog serve`` RUNS times (bytecode compiled
first, as an install has it) and times the first 200 on a verified route and on a generic one
(whose table is seeded on that first request); then measures the server's RSS idle, after the
first request to every generic list route, and after ``/api/schema/``. Prints JSON.
"""

from __future__ import annotations

import compileall
import http.client
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from servers import AUTH, HOST, free_port, wait_ready

VERIFIED = "/api/projects/1/persons/?limit=1"
GENERIC = "/api/projects/1/feature_flags/"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockhog", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


def cold_starts(runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"verified": [], "generic": []}
    for kind, path in (("verified", VERIFIED), ("generic", GENERIC)):
        for _ in range(runs):
            start = time.perf_counter()
            proc, port = _start()
            try:
                wait_ready(port, path, poll=0.002)
                times[kind].append(time.perf_counter() - start)
            finally:
                proc.terminate()
                proc.wait()
    return times


def memory() -> dict[str, float]:
    import mockhog

    backend = mockhog.Backend(seed=0)
    lists = [
        op.template.replace("{project_id}", "1").replace("{organization_id}", "@current")
        for op in backend.spec.operations
        if op.kind == "list"
        and not op.parents
        and op.scopes
        and "{" not in op.template.replace("{project_id}", "")
    ]
    proc, port = _start()
    try:
        wait_ready(port, VERIFIED)
        time.sleep(0.5)
        out = {"idle_mb": _rss_mb(proc.pid)}
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        for path in lists:
            conn.request("GET", path, headers=AUTH)
            conn.getresponse().read()
        out["after_every_generic_list_mb"] = _rss_mb(proc.pid)
        out["generic_lists_requested"] = len(lists)
        conn.request("GET", "/api/schema/", headers=AUTH)
        conn.getresponse().read()
        out["after_api_schema_mb"] = _rss_mb(proc.pid)
        return out
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    import mockhog

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    compileall.compile_dir(str(Path(mockhog.__file__).parent), quiet=1)
    times = cold_starts(runs)
    result = {
        f"cold_start_{kind}_median_s": round(statistics.median(values), 3) for kind, values in times.items()
    }
    result["runs_s"] = {kind: [round(v, 3) for v in values] for kind, values in times.items()}
    result.update(memory())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
