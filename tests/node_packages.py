"""npm packages for the tests that run real Node clients (PostHog's CLI, posthog-node, posthog-js).

Each set of packages is installed once, with ``--ignore-scripts`` (no postinstall downloads), into a
user cache directory, in bounded time, under a lock (parallel pytest workers install it once); a test
that needs them is skipped, saying why, where node or npm is missing or the npm registry cannot be
reached.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_SECONDS = 300


def cache_dir(variable: str, name: str) -> Path:
    """``$<variable>`` when set, else ``$XDG_CACHE_HOME/mockhog/<name>`` (``~/.cache`` by default)."""
    configured = os.environ.get(variable)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mockhog" / name


def npm_install(packages: list[str], target: Path, purpose: str, seconds: int = INSTALL_SECONDS) -> Path:
    """``target/node_modules`` with ``packages`` (exact ``name@version`` specs) installed, or skip."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(f"{purpose} needs Node.js and npm on PATH (not installed here)")
    marker = target / (".installed-" + "+".join(spec.replace("/", "_") for spec in packages))
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".install-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _install(packages, target, seconds)
            marker.touch()
    return target / "node_modules"


def _install(packages: list[str], target: Path, seconds: int) -> None:
    command = [
        shutil.which("npm") or "npm",
        "install",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(target),
        *packages,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {' '.join(packages)} took over {seconds}s (no registry reachable?)")
    if done.returncode != 0:
        pytest.skip(f"npm install {' '.join(packages)} failed (no registry?): {done.stderr.strip()[-300:]}")
