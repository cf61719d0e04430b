"""The load generator, always a separate process: ``wrk`` if installed, else a Python client.

Both report the same :class:`LoadResult`. The Python fallback (``python bench/load.py URL ...``) runs
one thread per connection, each on a persistent ``http.client`` connection; it is GIL-bound and
saturates earlier than wrk, so its figures are lower bounds (the run says which generator it used).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "{auth}"
wrk.headers["Content-Type"] = "application/json"
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {{\\"requests\\":%d,\\"seconds\\":%f,\\"p50_ms\\":%f,\\"p99_ms\\":%f,\\"errors\\":%d}}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run_load(
    url: str, method: str, auth: str, body: str | None, connections: int, seconds: float
) -> LoadResult:
    """Drive ``url`` for ``seconds`` with ``connections`` keep-alive connections."""
    if generator() == "wrk":
        return _run_wrk(url, method, auth, body, connections, seconds)
    cmd = [sys.executable, __file__, url, "--method", method, "--auth", auth]
    cmd += ["--connections", str(connections), "--seconds", str(seconds)]
    if body is not None:
        cmd += ["--body", body]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return LoadResult(**json.loads(out))


def _run_wrk(
    url: str, method: str, auth: str, body: str | None, connections: int, seconds: float
) -> LoadResult:
    lua_body = f"wrk.body = {json.dumps(body)}" if body is not None else ""
    script = WRK_SCRIPT.format(method=method, auth=auth, body=lua_body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        # One wrk thread: it drives far more than these servers reach and leaves a core to them.
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", handle.name, url]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        Path(handle.name).unlink()
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return LoadResult(
        rps=data["requests"] / data["seconds"],
        p50_ms=data["p50_ms"],
        p99_ms=data["p99_ms"],
        requests=data["requests"],
        errors=data["errors"],
    )


def python_load(
    url: str, method: str, auth: str, body: str | None, connections: int, seconds: float
) -> LoadResult:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while (start := time.perf_counter()) < deadline:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[i].append(time.perf_counter() - start)
            if response.status >= 400:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    all_ms = sorted(x * 1000 for lat in latencies for x in lat)
    cuts = statistics.quantiles(all_ms, n=100)
    return LoadResult(len(all_ms) / elapsed, cuts[49], cuts[98], len(all_ms), sum(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description="Python load generator (wrk fallback)")
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--auth", default="")
    parser.add_argument("--body")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = python_load(args.url, args.method, args.auth, args.body, args.connections, args.seconds)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
