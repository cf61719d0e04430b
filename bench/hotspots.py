"""Where a mockhog request's time goes, in process: the WSGI app called directly with the environ a
server would pass (no test client, no socket), so only mockhog's own work and Flask's are measured.

    python bench/hotspots.py [retrieve|list100|create] [-n 2000] [--no-validate] [--top 25]
    python bench/hotspots.py retrieve --time          # CPU per request, no profiler
    python bench/hotspots.py retrieve --time --flask  # the same through Flask's routing (no fast path)

Without ``--time``, prints the functions with the largest cumulative and own (tottime) share of the
profiled time (cProfile adds its own cost to every call). With ``--time``, prints the best of
several runs of CPU time (thread time) per request, for mockhog and for the bare Flask app of
bench/servers.py, so that a change is measured beside the floor it is compared with.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import AUTH, Endpoint, bare_app, capture_bodies, endpoints  # noqa: E402


def environ_for(ep: Endpoint) -> dict[str, Any]:
    """What waitress hands the app for ``ep`` (its body in ``_body``, read again for each call)."""
    path, _, query = ep.path.partition("?")
    body = json.dumps(ep.body).encode() if ep.body is not None else b""
    return {
        "REQUEST_METHOD": ep.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8010",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8010",
        "HTTP_AUTHORIZATION": AUTH["Authorization"],
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "_body": body,
    }


def caller(app: Any, ep: Endpoint) -> Callable[[], None]:
    """One request to ``app``, its answer read to the end."""
    base = environ_for(ep)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        assert int(status[:3]) < 300, status

    def once() -> None:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(base["_body"])
        answer = app(environ, start_response)
        for _chunk in answer:
            pass
        close = getattr(answer, "close", None)
        if close is not None:
            close()

    return once


def cpu_per_request(once: Callable[[], None], n: int, runs: int = 5) -> float:
    """Best of ``runs`` of the CPU time (this thread's) per request, in microseconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.thread_time()
        for _ in range(n):
            once()
        best = min(best, (time.thread_time() - start) / n * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("endpoint", choices=["retrieve", "list100", "create"])
    parser.add_argument("-n", type=int, default=2000, help="requests to profile (or per timed run)")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--time", action="store_true", help="CPU per request instead of a profile")
    parser.add_argument("--flask", action="store_true", help="through Flask's routing, not the fast path")
    args = parser.parse_args()

    import mockhog

    ep = next(ep for ep in endpoints() if ep.name == args.endpoint)
    backend = mockhog.Backend(seed=0, validate_responses=not args.no_validate)
    app = mockhog.create_app(backend=backend)
    if args.flask:
        app.wsgi_app = app.wsgi_app.flask  # type: ignore[attr-defined,method-assign]
    once = caller(app, ep)
    for _ in range(50):  # warm up: lazy validators, caches
        once()
    if args.time:
        bare = caller(bare_app(capture_bodies()), ep)
        for _ in range(50):
            bare()
        mock_us, bare_us = cpu_per_request(once, args.n), cpu_per_request(bare, args.n)
        label = "mockhog via Flask's routing" if args.flask else "mockhog"
        print(f"{ep.method} {ep.path}: CPU per request, best of 5 runs of {args.n}")
        print(f"  {label:<28} {mock_us:8.1f} us")
        print(f"  {'bare Flask app':<28} {bare_us:8.1f} us")
        print(f"  {'mockhog - bare':<28} {mock_us - bare_us:8.1f} us")
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.n):
        once()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{args.n} x {ep.method} {ep.path}: {total / args.n * 1000:.3f} ms per request under cProfile")
    for key, title in (("cumulative", "cumulative"), ("tottime", "own time")):
        print(f"\ntop {args.top} by {title} (share of profiled time):")
        stats.sort_stats(key)
        for func in stats.fcn_list[: args.top]:  # type: ignore[attr-defined]
            _cc, ncalls, tottime, cumtime, _ = stats.stats[func]  # type: ignore[attr-defined]
            where = f"{Path(func[0]).name}:{func[1]}({func[2]})"
            share = (cumtime if key == "cumulative" else tottime) / total
            print(f"  {share:6.1%}  {ncalls / args.n:9.1f} calls/req  {where}")


if __name__ == "__main__":
    main()
