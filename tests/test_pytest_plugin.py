"""The pytest plugin, driven through pytest's own ``pytester``: what a client's test suite sees."""

from __future__ import annotations

import json

import pytest

CLIENT_TESTS = """
import requests

def test_lists_persons(mockhog):
    response = requests.get(f"{mockhog.url}/api/projects/1/persons/?limit=2", headers=mockhog.headers)
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    mockhog.assert_called("persons_list", times=1)

def test_creates_an_export(mockhog):
    session = mockhog.session()  # in-process, no socket
    body = {"insight": 1, "export_format": "text/csv"}
    made = session.post(f"{mockhog.url}/api/projects/1/exports/", json=body)
    assert made.status_code == 201
    assert [c.status for c in mockhog.calls(method="POST")] == [201]
"""


def test_a_passing_client_suite_and_its_summary(pytester):
    pytester.makepyfile(test_inner_client=CLIENT_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*mockhog: 2 of * operations exercised (*%), 0 contract violations*", "never called: *"]
    )


def test_a_bad_body_fails_the_test_with_a_readable_message(pytester):
    pytester.makepyfile(
        test_inner_bad="""
        import requests

        def test_forgets_the_format(mockhog):
            url = f"{mockhog.url}/api/projects/1/exports/"
            requests.post(url, json={"insight": 1}, headers=mockhog.headers)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 PostHog contract violation(s) (seed 0):*",
            "*mockhog: exports_create — POST /api/projects/1/exports/*",
            '*body sent: {"insight": 1}*',
            "*rule broken: the request breaks the operation's schema*",
            '*answer (400): {"type": "validation_error", "code": "required", '
            '"detail": "This field is required.", "attr": "export_format"}*',
        ]
    )


@pytest.mark.parametrize(
    "call, rule",
    [
        (
            'requests.get(f"{mockhog.url}/api/projects/1/nowhere/", headers=mockhog.headers)',
            "undocumented route",
        ),
        ('requests.get(f"{mockhog.url}/api/projects/1/exports/")', "missing or unknown personal API key"),
        (
            'requests.get(f"{mockhog.url}/api/projects/1/exports/", '
            'headers={"Authorization": "Bearer " + mockhog.mint_key(["person:read"])})',
            "lacks a required scope",
        ),
    ],
)
def test_other_contract_violations_fail_too(pytester, call, rule):
    pytester.makepyfile(test_inner_it=f"import requests\n\ndef test_it(mockhog):\n    {call}\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{rule}*"])


def test_strict_marker_rejects_unknown_fields(pytester):
    pytester.makepyfile(
        test_inner_strict="""
        import pytest, requests

        BODY = {"insight": 1, "export_format": "text/csv", "colour": "red"}

        @pytest.mark.mockhog(strict=True)
        def test_strict(mockhog):
            requests.post(f"{mockhog.url}/api/projects/1/exports/", json=BODY, headers=mockhog.headers)

        def test_lenient(mockhog):
            made = requests.post(f"{mockhog.url}/api/projects/1/exports/", json=BODY, headers=mockhog.headers)
            assert made.status_code == 201
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*an unknown body field (strict mode)*"])


def test_expected_errors_pass(pytester):
    pytester.makepyfile(
        test_inner_expected="""
        import pytest, requests

        def test_block(mockhog):
            with mockhog.expect_violation():
                url = f"{mockhog.url}/api/projects/1/exports/"
                bad = requests.post(url, json={}, headers=mockhog.headers)
            assert bad.status_code == 400

        @pytest.mark.mockhog(expect_violations=True)
        def test_marker(mockhog):
            assert requests.get(f"{mockhog.url}/api/projects/1/exports/").status_code == 401
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_state_does_not_leak_between_tests(pytester):
    pytester.makepyfile(
        test_inner_isolation="""
        import requests

        def test_first_creates(mockhog):
            made = requests.post(f"{mockhog.url}/api/projects/1/exports/",
                                 json={"insight": 1, "export_format": "text/csv"}, headers=mockhog.headers)
            assert made.json()["id"] == 13

        def test_second_sees_the_seed_only(mockhog):
            listed = requests.get(f"{mockhog.url}/api/projects/1/exports/", headers=mockhog.headers).json()
            assert listed["count"] == 12
            assert mockhog.calls() and len(mockhog.calls()) == 1
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_same_seed_same_results_and_per_test_seed(pytester):
    pytester.makepyfile(
        test_inner_seed="""
        import json, pathlib, pytest, requests

        def first_person(mockhog):
            url = f"{mockhog.url}/api/projects/1/persons/?limit=1"
            return requests.get(url, headers=mockhog.headers).json()["results"]

        def test_default(mockhog):
            pathlib.Path("default.json").write_text(json.dumps(first_person(mockhog)))

        @pytest.mark.mockhog(seed=42)
        def test_seeded(mockhog):
            assert mockhog.seed == 42
            pathlib.Path("seeded.json").write_text(json.dumps(first_person(mockhog)))
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
    first = (pytester.path / "default.json").read_text(), (pytester.path / "seeded.json").read_text()
    pytester.runpytest().assert_outcomes(passed=2)
    second = (pytester.path / "default.json").read_text(), (pytester.path / "seeded.json").read_text()
    assert first == second and first[0] != first[1]


def test_fixture_records_from_marker_and_ini(pytester):
    (pytester.path / "records.json").write_text(
        json.dumps({"records": {"1": {"insights": [{"id": 50, "name": "From the marker"}]}}})
    )
    pytester.makeini("[pytest]\nmockhog_seed = 3\n")
    pytester.makepyfile(
        test_inner_fixtures="""
        import pytest, requests

        @pytest.mark.mockhog(fixtures=["records.json"])
        def test_it(mockhog):
            assert mockhog.seed == 3
            made = requests.post(f"{mockhog.url}/api/projects/1/exports/",
                                 json={"insight": 50, "export_format": "text/csv"}, headers=mockhog.headers)
            assert "from-the-marker" in made.json()["filename"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_json_report_and_coverage_gate(pytester):
    pytester.makepyfile(test_inner_client=CLIENT_TESTS)
    result = pytester.runpytest("--mockhog-report=report.json", "--mockhog-min-coverage=90")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*coverage * is below --mockhog-min-coverage=90*"])
    report = json.loads((pytester.path / "report.json").read_text())
    assert report["exercised"] == 2 and report["violations"] == 0
    assert report["operations"]["persons_list"] == {"calls": 1, "statuses": {"200": 1}, "violations": 0}
    assert "groups_list" in report["never_called"]
    assert pytester.runpytest("--mockhog-min-coverage=1").ret == 0


def test_xdist_workers_are_isolated_and_reported_together(pytester):
    pytester.makepyfile(
        test_inner_xdist="""
        import pytest, requests

        @pytest.mark.parametrize("n", range(6))
        def test_each_worker_has_its_own_state(n, mockhog):
            made = requests.post(f"{mockhog.url}/api/projects/1/exports/",
                                 json={"insight": 1, "export_format": "text/csv"}, headers=mockhog.headers)
            assert made.json()["id"] == 13  # a fresh store every time, whichever worker runs it
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--mockhog-report=r.json")
    result.assert_outcomes(passed=6)
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["operations"]["exports_create"]["calls"] == 6
