"""The command line: `mockhog serve` on a real socket, `mockhog routes`, bad fixtures."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MOCKHOG_API_KEY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockhog", "serve", "--port", str(port), "--api-key", "phx_demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/_mockhog/health", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield base, process
    process.terminate()
    process.wait(timeout=10)


def test_serve_answers_the_readme_curl(served):
    base, process = served
    response = requests.get(
        f"{base}/api/projects/1/persons/?limit=2", headers={"Authorization": "Bearer phx_demo"}, timeout=5
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2
    assert body["next"].startswith(f"{base}/api/projects/1/persons/")
    assert "offset=2" in body["next"]
    assert requests.get(f"{base}/api/projects/1/persons/", timeout=5).status_code == 401
    assert response.headers["Server"] == "mockhog"
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert f"serving PostHog's API on {base}" in output and "phx_demo" in output


def test_routes_lists_every_operation():
    out = subprocess.run(
        [sys.executable, "-m", "mockhog", "routes"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(out) >= 130
    assert any("GET" in line and "/api/projects/{project_id}/persons/" in line for line in out)
    assert any("environments_exports_list" in line for line in out)


def test_bad_fixture_stops_serve(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"records": {"1": {"exports": [{"id": 1, "export_format": 7}]}}}))
    result = subprocess.run(
        [sys.executable, "-m", "mockhog", "serve", "--port", str(_free_port()), "--fixtures", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "bad.json" in result.stderr and "exports[0]" in result.stderr and "export_format" in result.stderr
