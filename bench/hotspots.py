"""Where a mockhog request's time goes: cProfile over many in-process requests (Flask test client).

    python bench/hotspots.py [retrieve|list100|create] [-n 2000] [--no-validate] [--top 25]

Prints the functions with the largest cumulative and own (tottime) share of the profiled time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import AUTH, endpoints  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("endpoint", choices=["retrieve", "list100", "create"])
    parser.add_argument("-n", type=int, default=2000, help="requests to profile")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    import mockhog

    ep = next(ep for ep in endpoints() if ep.name == args.endpoint)
    backend = mockhog.Backend(seed=0, validate_responses=not args.no_validate)
    client = mockhog.create_app(backend=backend).test_client()
    for _ in range(50):  # warm up: lazy validators, caches
        client.open(ep.path, method=ep.method, json=ep.body, headers=AUTH)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.n):
        client.open(ep.path, method=ep.method, json=ep.body, headers=AUTH)
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
