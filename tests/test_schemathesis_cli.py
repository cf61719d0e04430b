"""Schemathesis' CLI against ``mockhog serve`` and ``mockhog serve --strict`` (real processes, real
sockets), bounded: the fuzzing phase, three examples per operation, on the resources whose published
schema once disagreed with the server. ``python tests/schemathesis_cli.py`` runs the whole check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemathesis_cli import BUSINESS_RULES, parse_report
from test_business_rules import CASES

SCRIPT = Path(__file__).with_name("schemathesis_cli.py")
RESOURCES = (
    r"/(groups|file_system|persisted_folder|project_secret_api_keys|logs)/|^/api/(projects|organizations)/$"
)

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="schemathesis">
  <testcase name="POST /api/projects/{project_id}/groups/">
    <failure type="failure" message="1 failure">- ST202 Schema-valid request rejected

    Valid data should have been accepted

[400] Bad Request:

    `{"type":"validation_error","code":"invalid_input","detail":"A group with this key already exists"}`
</failure>
  </testcase>
  <testcase name="GET /api/projects/{project_id}/exports/">
    <failure type="failure" message="2 failures">- ST101 Server error

[500] Internal Server Error:

    `{"type":"server_error"}`

- ST202 Schema-valid request rejected

[400] Bad Request:

    `{"detail":"Something else"}`
</failure>
  </testcase>
  <testcase name="Stateful tests">
    <failure type="failure" message="1 failure">- ST202 Schema-valid request rejected

    Valid data should have been accepted

[405] Method Not Allowed:

    &lt;EMPTY&gt;

Reproduce with:

    curl -X GET -H 'Authorization: [Filtered]' http://127.0.0.1:47783/api/organizations/
    curl -X DELETE -H 'Authorization: [Filtered]' http://127.0.0.1:47783/api/projects/1/cohorts/10753228/
</failure>
  </testcase>
  <testcase name="GET /api/projects/" />
</testsuite></testsuites>
"""


def test_the_report_reader_tells_business_rules_from_real_failures(tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(REPORT)
    failures = parse_report(path)
    assert [(f.operation.split()[0], f.code) for f in failures] == [
        ("POST", "ST202"),
        ("GET", "ST101"),
        ("GET", "ST202"),
        ("Stateful", "ST202"),
    ]
    assert [f.rule for f in failures] == [
        "a group key is unique per group type",
        None,
        None,
        "these objects are never deleted, only marked deleted",
    ]
    assert failures[-1].request == "[405] DELETE /api/projects/1/cohorts/10753228/"
    assert failures[-1].answer == ""


def test_every_business_rule_has_its_case():
    """A rule may explain a failure only if tests/test_business_rules.py shows PostHog refusing a
    schema-valid request by it (its case's id starts with the rule's name and names the source)."""
    cases = [case.id for case in CASES]
    assert [name for name in BUSINESS_RULES if not any(case.startswith(name) for case in cases)] == []


def test_schemathesis_finds_nothing_but_business_rules():
    command = [sys.executable, str(SCRIPT), "--phases", "fuzzing", "--max-examples", "3"]
    command += ["--exclude-deprecated", "--include-path-regex", RESOURCES, "--timeout", "240"]
    command += ["--seed", "1", "--generation-deterministic"]  # passed on to schemathesis: reproducible
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "mockhog serve default:" in run.stdout and "mockhog serve --strict:" in run.stdout


def test_a_pinned_parameter_schemathesis_calls_invalid_is_no_failure(tmp_path):
    """Schemathesis' coverage phase makes a negative organization_id and then sends the pinned
    seeded id in its place (its config's [parameters]): the request it calls invalid was valid."""
    block = """- ST201 Schema-violating request accepted

    Invalid data should have been rejected
    Invalid component: parameter `{name}` in path - incorrect type

[200] OK:

    `{{}}`

Reproduce with:

    curl -X GET -H 'Authorization: [Filtered]' http://127.0.0.1:1/api/organizations/0197/projects/2/
"""
    cases = "".join(
        f'<testcase name="GET /api/organizations/{{organization_id}}/projects/{{id}}/">'
        f'<failure type="failure">{block.format(name=name)}</failure></testcase>'
        for name in ("organization_id", "id")
    )
    path = tmp_path / "report.xml"
    path.write_text(f"<testsuites><testsuite>{cases}</testsuite></testsuites>")
    failures = parse_report(path)
    assert [f.invalid for f in failures] == [
        "parameter `organization_id` in path - incorrect type",
        "parameter `id` in path - incorrect type",
    ]
    assert [f.pinned for f in failures] == [True, False]
