"""The pytest plugin: a ``mockhog`` fixture per test, contract violations that fail the test that
caused them, and a report of which operations the suite exercised, verified and generic alike.

Active after ``pip install mockhog`` (entry point ``pytest11``). One server per session (per
pytest-xdist worker: each worker has its own), reset before every test.
"""

from __future__ import annotations

import difflib
import json
import textwrap
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest

from .backend import Backend
from .catalog import Catalog
from .spec import Spec
from .spec.document import generic_operations
from .spec.importer import ImportError_
from .testing import MockHog, Server, describe

MARKER = (
    "mockhog(seed=None, fixtures=None, strict=None, expect_violations=False): configure mockhog for this test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockhog", "mockhog: an offline PostHog API")
    group.addoption("--mockhog-seed", type=int, default=None, help="seed of the generated data")
    group.addoption("--mockhog-strict", action="store_true", default=None, help="reject unknown body fields")
    group.addoption("--mockhog-report", metavar="FILE", default=None, help="write a JSON coverage report")
    group.addoption(
        "--mockhog-min-coverage", metavar="PCT", type=float, default=None,
        help="fail the run when fewer operations than this were exercised",
    )  # fmt: skip
    parser.addini("mockhog_seed", "default seed (0)", default="0")
    parser.addini("mockhog_strict", "reject unknown body fields", type="bool", default=False)
    parser.addini("mockhog_fixtures", "fixture files loaded for every test", type="paths", default=[])
    group.addoption(
        "--mockhog-posthog-schema", metavar="FILE", default=None,
        help="serve and validate against your PostHog's OpenAPI document (as mockhog serve --posthog-schema)",
    )  # fmt: skip
    parser.addini("mockhog_posthog_schema", "your PostHog's OpenAPI document (relative to the ini file)",
                  type="paths", default=[])  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.stash[_STATS] = Stats()
    config.stash[_SPEC] = _posthog_schema(config)  # a bad document stops the run before any test


class Stats:
    """Per operation: calls, statuses, violations; summed over the session (and xdist workers)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.statuses: dict[str, Counter[str]] = {}
        self.violations: Counter[str] = Counter()
        self.expected: Counter[str] = Counter()  # violations a test said it meant to send

    def add(self, entries: list[Any], expected: Collection[int] | None = ()) -> None:
        """One test's journal; ``expected`` holds the ids it meant to violate (None: all of them)."""
        for entry in entries:
            name = _shape(entry.operation_id) if entry.operation_id else UNDOCUMENTED
            if entry.operation_id:
                self.calls[name] += 1
                self.statuses.setdefault(name, Counter())[str(entry.status)] += 1
            if entry.violation:
                meant = expected is None or entry.id in expected
                (self.expected if meant else self.violations)[name] += 1

    def merge(self, data: dict[str, Any]) -> None:
        for name, item in data.items():
            self.calls[name] += item["calls"]
            self.statuses.setdefault(name, Counter()).update(item["statuses"])
            self.violations[name] += item["violations"]
            self.expected[name] += item["expected_violations"]

    def to_json(self) -> dict[str, Any]:
        names = set(self.calls) | set(self.violations) | set(self.expected)
        return {
            name: {
                "calls": self.calls[name],
                "statuses": dict(self.statuses.get(name, {})),
                "violations": self.violations[name],
                "expected_violations": self.expected[name],
            }
            for name in sorted(names)
        }


UNDOCUMENTED = "(undocumented)"


_STATS = pytest.StashKey[Stats]()
_SPEC = pytest.StashKey["Spec | None"]()


def _shape(operation_id: str) -> str:
    """The environments alias of an operation counts as the operation itself."""
    return operation_id.removeprefix("environments_")


VERIFIED, GENERIC = "verified", "generic"


def operation_tiers(spec: Spec | None = None) -> dict[str, str]:
    """Every operation a client can exercise, by name, with its tier: the catalog's operations are
    verified, the imported ones no catalog operation serves are generic (``spec``: the document the
    run serves, PostHog's pinned one unless ``--mockhog-posthog-schema`` names another)."""
    catalog = Catalog.load()
    tiers = {_shape(op.operation_id): GENERIC for op in generic_operations(catalog, spec or Spec.load())}
    tiers.update({_shape(op.operation_id): VERIFIED for op in catalog.operations})
    return dict(sorted(tiers.items()))


def all_operations(spec: Spec | None = None) -> list[str]:
    return list(operation_tiers(spec))


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mockhog_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """The session's server (one per xdist worker)."""
    seed = _default_seed(pytestconfig)
    server = Server(Backend(seed=seed, spec=pytestconfig.stash.get(_SPEC, None)))
    yield server
    server.close()


@pytest.fixture
def mockhog(request: pytest.FixtureRequest, mockhog_server: Server) -> Iterator[MockHog]:
    """A fresh mockhog for this test: seeded state, no journal, no faults; violations fail the test."""
    config = request.config
    options = _marker_options(request.node)
    seed = options.get("seed", _default_seed(config))
    backend = mockhog_server.backend
    if backend.seed != seed:
        backend.reseed(seed)
    backend.strict = bool(
        _first(options.get("strict"), config.getoption("mockhog_strict"), config.getini("mockhog_strict"))
    )
    handle = MockHog(mockhog_server, seed)
    handle.begin()
    marked = [_fixture_path(request.node, path) for path in options.get("fixtures", [])]
    for path in [*config.getini("mockhog_fixtures"), *marked]:
        handle.load(Path(path))
    expect_all = bool(options.get("expect_violations"))
    request.node.stash[_HANDLE] = (handle, expect_all)
    yield handle
    config.stash[_STATS].add(handle.calls(), expected=None if expect_all else handle.expected)


MARKER_ARGUMENTS = ("seed", "fixtures", "strict", "expect_violations")


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    """The ``mockhog`` marker's arguments; a misspelt one is an error, never silently ignored."""
    marker = node.get_closest_marker("mockhog")
    if marker is None:
        return {}
    valid = ", ".join(MARKER_ARGUMENTS)
    if marker.args:
        pytest.fail(f"@pytest.mark.mockhog takes keyword arguments only ({valid})", pytrace=False)
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGUMENTS))
    if unknown:
        hints = {name: difflib.get_close_matches(name, MARKER_ARGUMENTS, n=1) for name in unknown}
        named = ", ".join(
            f"{name!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for name, h in hints.items()
        )
        pytest.fail(
            f"@pytest.mark.mockhog: unknown argument {named}; valid arguments: {valid}", pytrace=False
        )
    fixtures = marker.kwargs.get("fixtures", [])
    if isinstance(fixtures, str | Path):
        pytest.fail("@pytest.mark.mockhog(fixtures=...) takes a list of files", pytrace=False)
    return dict(marker.kwargs)


def _fixture_path(node: pytest.Item, name: str | Path) -> Path:
    """A marker's fixture file: as given if absolute, else beside the test file, else under rootdir."""
    path = Path(name)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [Path(node.path).parent / path, node.config.rootpath / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in dict.fromkeys(candidates))
    pytest.fail(
        f"@pytest.mark.mockhog: fixture file {str(name)!r} not found (looked at {tried})", pytrace=False
    )


_HANDLE = pytest.StashKey[tuple[MockHog, bool]]()


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _posthog_schema(config: pytest.Config) -> Spec | None:
    """The user's own PostHog document, if the run names one (the flag wins over the ini)."""
    paths = config.getini("mockhog_posthog_schema")
    path = config.getoption("mockhog_posthog_schema") or (paths[0] if paths else None)
    if path is None:
        return None
    try:
        return Spec.from_file(path)
    except ImportError_ as error:
        raise pytest.UsageError(f"mockhog_posthog_schema: {error}") from None


def _default_seed(config: pytest.Config) -> int:
    return int(_first(config.getoption("mockhog_seed"), config.getini("mockhog_seed"), 0))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    found = item.stash.get(_HANDLE, None)
    if found is None:
        return
    handle, expected = found
    violations = [] if expected else handle.violations()
    if not violations:
        return
    details = "\n\n".join(describe(entry) for entry in violations)
    header = f"{len(violations)} PostHog contract violation(s) (seed {handle.seed})"
    if outcome.excinfo is None:
        outcome.force_exception(pytest.fail.Exception(f"{header}:\n{details}", pytrace=False))
    else:
        # the test failed on its own: the violation (a forgotten key's 401) is likely why
        item.stash[_SHOWN] = (header, details)


_SHOWN = pytest.StashKey[tuple[str, str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    shown = item.stash.get(_SHOWN, None)
    if shown is not None and call.when == "call":
        outcome.get_result().sections.append((f"mockhog: {shown[0]}", shown[1]))


# -- the run's report ----------------------------------------------------------------------------
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    stats = config.stash[_STATS]
    if hasattr(config, "workeroutput"):  # an xdist worker hands its numbers to the controller
        config.workeroutput["mockhog"] = json.dumps(stats.to_json())
        return
    report = config.stash[_REPORT] = _report(stats, config.stash.get(_SPEC, None))
    path = config.getoption("mockhog_report")
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
    minimum = config.getoption("mockhog_min_coverage")
    if minimum is not None and stats.calls and report["coverage"] < minimum:
        config.stash[_BELOW] = minimum
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BELOW = pytest.StashKey[float]()
_REPORT = pytest.StashKey[dict[str, Any]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("mockhog")
    if data:
        node.config.stash[_STATS].merge(json.loads(data))


def _report(stats: Stats, spec: Spec | None = None) -> dict[str, Any]:
    tiers = operation_tiers(spec)
    operations = list(tiers)
    exercised = [name for name in operations if stats.calls[name]]
    seen = stats.to_json()
    empty = {"calls": 0, "statuses": {}, "violations": 0, "expected_violations": 0}
    per_operation = {name: {"tier": tier, **seen.get(name, empty)} for name, tier in tiers.items()}
    if UNDOCUMENTED in seen:
        per_operation[UNDOCUMENTED] = seen[UNDOCUMENTED]
    by_tier = {
        tier: {
            "exercised": sum(1 for name in exercised if tiers[name] == tier),
            "total": sum(1 for name in operations if tiers[name] == tier),
        }
        for tier in (VERIFIED, GENERIC)
    }
    return {
        "exercised": len(exercised),
        "total": len(operations),
        "coverage": round(100 * len(exercised) / len(operations), 1),
        "tiers": by_tier,
        "violations": sum(stats.violations.values()),
        "expected_violations": sum(stats.expected.values()),
        "never_called": [name for name in operations if not stats.calls[name]],
        "operations": per_operation,
    }


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    stats = config.stash[_STATS]
    if not stats.calls and not stats.violations and not stats.expected:
        return
    report = config.stash.get(_REPORT, None) or _report(stats, config.stash.get(_SPEC, None))
    write = terminalreporter.write_line
    terminalreporter.section("mockhog")
    expected = f" ({report['expected_violations']} expected)" if report["expected_violations"] else ""
    write(
        f"mockhog: {report['exercised']} of {report['total']} operations exercised "
        f"({report['coverage']}%), {report['violations']} contract violations{expected}"
    )
    verified, generic = report["tiers"][VERIFIED], report["tiers"][GENERIC]
    write(
        f"  by tier: {verified['exercised']} of {verified['total']} verified, "
        f"{generic['exercised']} of {generic['total']} generic (served by DRF defaults over the schema)"
    )
    never = report["never_called"]
    if never and config.get_verbosity() > 0:
        write(f"never called ({len(never)}):")
        for line in textwrap.wrap(", ".join(never), width=100):
            write(f"  {line}")
    elif never:
        write(f"never called: {len(never)} operations (-v lists them, as does --mockhog-report=FILE)")
    minimum = config.stash.get(_BELOW, None)
    if minimum is not None:
        write(
            f"mockhog: coverage {report['coverage']}% is below --mockhog-min-coverage={minimum:g}", red=True
        )
