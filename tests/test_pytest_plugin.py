"""The pytest plugin, driven through pytest's own ``pytester``: what a client's test suite sees."""

from __future__ import annotations

import json

import pytest

from mockhog.pytest_plugin import all_operations, operation_tiers

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
    assert report["operations"]["persons_list"] == {
        "tier": "verified",
        "calls": 1,
        "statuses": {"200": 1},
        "violations": 0,
        "expected_violations": 0,
    }
    assert "groups_list" in report["never_called"]
    assert pytester.runpytest("--mockhog-min-coverage=0.1").ret == 0


GENERIC_CALLS = """
import requests

def test_lists_batch_exports(mockhog):
    answer = requests.get(f"{mockhog.url}/api/environments/1/batch_exports/", headers=mockhog.headers)
    assert answer.status_code == 200 and answer.headers["X-Mockhog-Tier"] == "generic"

def test_lists_persons(mockhog):
    answer = requests.get(f"{mockhog.url}/api/projects/1/persons/", headers=mockhog.headers)
    assert answer.status_code == 200
"""


def test_generic_operations_are_counted_with_their_tier(pytester):
    """A CI contract check reports every operation the suite exercised: the generically served ones
    (PostHog's imported operations no verified one serves) count as well, each named with its tier,
    and the denominator is every operation mockhog serves (issue 14)."""
    tiers = operation_tiers()
    verified = sum(1 for tier in tiers.values() if tier == "verified")
    generic = len(tiers) - verified
    assert tiers["batch_exports_list"] == "generic" and tiers["persons_list"] == "verified"
    pytester.makepyfile(test_inner_generic=GENERIC_CALLS)
    result = pytester.runpytest("--mockhog-report=report.json")
    result.assert_outcomes(passed=2)
    share = round(100 * 2 / len(tiers), 1)
    result.stdout.fnmatch_lines(
        [
            f"mockhog: 2 of {len(tiers)} operations exercised ({share}%), 0 contract violations",
            f"  by tier: 1 of {verified} verified, 1 of {generic} generic (served by DRF defaults*",
        ]
    )
    report = json.loads((pytester.path / "report.json").read_text())
    assert report["exercised"] == 2 and report["total"] == len(tiers) == len(all_operations())
    assert report["tiers"] == {
        "verified": {"exercised": 1, "total": verified},
        "generic": {"exercised": 1, "total": generic},
    }
    assert report["operations"]["batch_exports_list"] == {
        "tier": "generic",
        "calls": 1,
        "statuses": {"200": 1},
        "violations": 0,
        "expected_violations": 0,
    }
    assert "batch_exports_list" not in report["never_called"]
    assert "batch_exports_create" in report["never_called"]


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


def test_a_misspelt_marker_argument_is_an_error_naming_the_valid_ones(pytester):
    pytester.makepyfile(
        test_inner_typo="""
        import pytest

        @pytest.mark.mockhog(sead=7)
        def test_typo(mockhog):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.mockhog: unknown argument 'sead' (did you mean 'seed'?); "
            "valid arguments: seed, fixtures, strict, expect_violations*"
        ]
    )


def test_marker_fixture_paths_resolve_beside_the_test_then_under_rootdir(pytester):
    records = {"records": {"1": {"insights": [{"id": 60, "name": "Beside the test"}]}}}
    (pytester.path / "suite" / "deep").mkdir(parents=True)
    (pytester.path / "suite" / "deep" / "beside.json").write_text(json.dumps(records))
    records["records"]["1"]["insights"][0].update(id=61, name="At the root")
    (pytester.path / "at_root.json").write_text(json.dumps(records))
    (pytester.path / "suite" / "deep" / "test_inner_paths.py").write_text(
        """
import pytest, requests

@pytest.mark.mockhog(fixtures=["beside.json", "at_root.json"])
def test_both(mockhog):
    names = {row["name"] for row in mockhog.backend.store.table(1, "insights").values()}
    assert {"Beside the test", "At the root"} <= names

@pytest.mark.mockhog(fixtures=["missing.json"])
def test_missing(mockhog):
    pass
"""
    )
    elsewhere = pytester.mkdir("elsewhere")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)  # relative paths must not depend on where pytest runs
        result = pytester.runpytest(pytester.path / "suite", "--rootdir", pytester.path)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*fixture file 'missing.json' not found (looked at */suite/deep/missing.json, *"]
    )
    result.stdout.no_fnmatch_line("*FileNotFoundError*")


def test_a_test_failing_on_its_own_assertion_shows_the_violation_behind_it(pytester):
    pytester.makepyfile(
        test_inner_forgot_key="""
        import requests

        def test_forgets_the_key(mockhog):
            answer = requests.get(f"{mockhog.url}/api/projects/1/persons/")
            assert answer.status_code == 200
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*assert 401 == 200*",
            "*mockhog: 1 PostHog contract violation(s) (seed 0)*",
            "*mockhog: persons_list — GET /api/projects/1/persons/*",
            "*rule broken: missing or unknown personal API key*",
        ]
    )


def test_the_summary_is_short_folds_the_never_called_list_and_counts_expected_apart(pytester):
    pytester.makepyfile(test_inner_client=CLIENT_TESTS)
    pytester.makepyfile(
        test_inner_meant="""
        import requests

        def test_means_it(mockhog):
            with mockhog.expect_violation():
                requests.get(f"{mockhog.url}/api/projects/1/exports/")
        """
    )
    total = len(all_operations())  # grows with the catalog: the summary's arithmetic is what is checked
    share = round(100 * 3 / total, 1)
    result = pytester.runpytest("--mockhog-report=report.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            f"mockhog: 3 of {total} operations exercised ({share}%), 0 contract violations (1 expected)",
            f"never called: {total - 3} operations (-v lists them, as does --mockhog-report=FILE)",
        ]
    )
    result.stdout.no_fnmatch_line("*groups_list*")
    section = result.outlines[next(i for i, line in enumerate(result.outlines) if " mockhog " in line) :]
    assert max(len(line) for line in section) <= 100
    report = json.loads((pytester.path / "report.json").read_text())
    assert report["violations"] == 0 and report["expected_violations"] == 1
    assert report["operations"]["exports_list"]["expected_violations"] == 1
    assert len(report["never_called"]) == total - 3

    verbose = pytester.runpytest("-v")
    verbose.stdout.fnmatch_lines([f"never called ({total - 3}):", "  *groups_list*"])
