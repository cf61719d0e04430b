"""Checks the committed contract against PostHog's pinned OpenAPI document, where it is beside the
repo (../shared/posthog-openapi/, on the developers' machines and in CI, never in a user's clone,
so the test suite does not read it):

- the committed mockhog/spec/operations.json and components.json are a fresh import of it (and it
  is the pinned file: its sha256);
- ``mockhog drift`` on it reports only the overlay's reasoned corrections, each one needed.

    python tools/check_pinned.py [FILE]   # exit 1 on the first check that fails
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mockhog.spec import HERE, load_overlay  # noqa: E402 - the repository's own package
from mockhog.spec.importer import dumps, import_document, read_source  # noqa: E402
from mockhog.spec.overlay import load_served  # noqa: E402

PINNED = REPO.parent / "shared" / "posthog-openapi" / "posthog-openapi-2025-10.json.gz"
PINNED_SHA256 = "81e8d68838fb4ce8b8a53225c24bfe9e7c98d0c3204941d0699b099e9a6a45a6"


def stale_files(path: Path) -> list[str]:
    """The committed contract files that differ from a fresh import of ``path``."""
    raw, document = read_source(path)
    if hashlib.sha256(raw).hexdigest() != PINNED_SHA256:
        return [f"{path} is not the pinned document (sha256 {PINNED_SHA256[:12]}...)"]
    texts = dumps(import_document(copy.deepcopy(document), raw))
    return [f"{name} is stale: run mockhog import-schema" for name, text in texts.items()
            if (HERE / name).read_text() != text]  # fmt: skip


def drift_problems(path: Path) -> list[str]:
    """What ``mockhog drift --json`` on ``path`` says beyond the overlay's reasons."""
    done = subprocess.run(
        [sys.executable, "-m", "mockhog", "drift", str(path), "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    if done.returncode != 0:
        return [f"mockhog drift exited {done.returncode}:\n{done.stdout}{done.stderr}"]
    report = json.loads(done.stdout)
    reasons = {fix["why"] for fix in load_overlay()} | {entry.why for entry in load_served()}
    problems = []
    if report["drift"] != 0:
        problems.append(f"{report['drift']} differences without an overlay reason")
    if {change["overlay"] for change in report["changes"]} != reasons:
        problems.append("an overlay reason explains nothing in the document, or a change has none")
    if report["overlay_not_needed"] or report["served_entries_not_needed"]:
        problems.append("overlay entries the document no longer needs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", type=Path, default=PINNED)
    args = parser.parse_args(argv)
    problems = stale_files(args.file) + drift_problems(args.file)
    for problem in problems:
        print(f"check_pinned: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.file.name}: the committed contract is its import; drift beyond the overlay: none")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
