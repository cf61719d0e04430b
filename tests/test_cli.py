"""The command line: `mockhog serve` on a real socket, `mockhog routes`, bad fixtures and arguments."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from serving import serving

from mockhog import __version__
from mockhog.backend import DEFAULT_API_KEY
from mockhog.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readme_curl_works_against_the_readme_serve_command():
    """The first screen, copy-pasted in order: serve, (tests,) then curl."""
    serve_command, test_command, curl = re.findall(r"```sh\n(.*?)\n```", README.read_text(), re.S)[:3]
    # the test command ends by running pytest (with or without options such as ``-n auto``)
    assert serve_command.endswith("mockhog serve") and re.search(r"&& pytest( -[^&]*)?$", test_command)
    url = re.search(r'"http://127\.0\.0\.1:(\d+)(/\S*)"', curl)
    assert url and int(url.group(1)) == build_parser().parse_args(["serve"]).port
    headers = dict(re.findall(r'-H "([^:]+): ([^"]+)"', curl))
    with serving() as served:  # the README's command, on a free port instead of 8010
        response = requests.get(served.url + url.group(2), headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["results"]) == 2
        assert body["next"].startswith(f"{served.url}/api/projects/1/persons/")
        assert "offset=2" in body["next"]
        assert response.headers["Server"] == "mockhog"
        assert requests.get(f"{served.url}/api/projects/1/persons/", timeout=5).status_code == 401
        assert (
            served.line()
            == f"  personal API key: {DEFAULT_API_KEY}   (Authorization: Bearer {DEFAULT_API_KEY})"
        )


def test_api_key_sets_the_key_serve_accepts():
    with serving("--api-key", "phx_demo", "--quiet") as served:
        persons = f"{served.url}/api/projects/1/persons/?limit=1"
        assert requests.get(persons, headers={"Authorization": "Bearer phx_demo"}, timeout=5).ok
        refused = requests.get(persons, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}, timeout=5)
        assert refused.status_code == 401


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


def _serve_fails(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MOCKHOG_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "mockhog", "serve", *args], capture_output=True, text=True, timeout=60, env=env
    )


def _one_line(result: subprocess.CompletedProcess, status: int) -> str:
    """The command failed with ``status``, printed nothing on stdout and one line on stderr."""
    assert result.returncode == status, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_port_in_use_is_one_line_and_no_banner():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line(_serve_fails("--port", str(port)), 1)
    assert line == (
        f"mockhog: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(is another server on it? --port 0 picks a free port)"
    )


def test_an_address_that_is_not_this_machines_is_one_line():
    line = _one_line(_serve_fails("--host", "no-such-host.invalid", "--port", "0"), 1)
    assert line.startswith("mockhog: cannot listen on no-such-host.invalid:0: ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "99999"], "argument --port: 99999 is not a port: use 0 to 65535 (0 picks a free port)"),
        (["--port", "-1"], "argument --port: -1 is not a port: use 0 to 65535 (0 picks a free port)"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (["--threads", "0"], "argument --threads: 0 is too small: use 1 or more"),
        (["--threads", "many"], "argument --threads: 'many' is not a whole number"),
        (["--log-format", "xml"], "argument --log-format: invalid choice: 'xml' (choose from "),
    ],
)
def test_bad_serve_arguments_are_one_line_and_exit_2(args, message):
    line = _one_line(_serve_fails(*args), 2)
    assert line.startswith(f"mockhog serve: error: {message}")
    assert line.endswith(" (see mockhog serve --help)")
    if "choose from" not in message:  # argparse words choice lists differently across Pythons
        assert line == f"mockhog serve: error: {message} (see mockhog serve --help)"


def test_port_0_prints_the_port_it_got():
    with serving("--quiet") as served:
        assert served.port != 0
        assert served.banner == f"mockhog {__version__} serving PostHog's API on {served.url}"
        assert requests.get(f"{served.url}/_mockhog/health", timeout=5).status_code == 200
