"""Schemathesis' own CLI against a served mockhog, from outside the suite: does the published schema
match what the server does?

    python tests/schemathesis_cli.py                      # --checks all --max-examples 10, all of it
    python tests/schemathesis_cli.py --max-examples 2 --phases coverage --include-path-regex groups

Starts ``mockhog serve`` and ``mockhog serve --strict`` on free loopback ports, runs
``schemathesis run http://127.0.0.1:PORT/api/schema/ --checks all`` against each (in parallel, one
JUnit report each), and prints every failure. The run passes when the only failures are "schema-
valid request rejected" answered by one of PostHog's business rules (tests/test_business_rules.py
names each with its source); anything else exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

API_KEY = "phx_mockhog_default_key"
# What PostHog answers when a rule no schema can state refuses a schema-valid request; each pattern
# is searched in "[status] METHOD path" and the answer's first line, one under the other.
BUSINESS_RULES = {
    "a project secret key label is unique": r"Project secret API key with label .* already exists",
    "a group key is unique per group type": r"A group with this key already exists",
    "only a property the group has can be deleted": r"Property .* does not exist on this group",
    "count is an action on folders only": r"Count can only be called on folders",
    "only a deleted object can be restored": r"Couldn't restore this",
    "an export needs a dashboard, an insight or a context": r"Either dashboard, insight or export_context",
    "a referenced object exists": r"Invalid pk .* object does not exist"
    r"|(Insight|Feature Flag) with this ID does not exist|Dashboard not found\.|Quick filters not found: "
    r"|Text tile not found|\"Invalid value provided\",\"attr\":\"use_dashboard\""
    r"|Cohort with id .* does not exist",
    "a survey's response sampling starts today or later": r"Response sampling start date must be today",
    "a survey's sampling limit needs its start date": r"Response sampling start date should be set",
    "a survey name is unique in its project": r"There is already a survey with this name",
    "a dashboard copies another or a template, not both": r"`use_dashboard` and `use_template` cannot be",
    "a resource preview is of a Custom source": r"Preview is not supported for source type",
    "the errors to ignore fit in 300 characters of JSON": r"errors_to_ignore must be less than 300 char",
    "one persisted folder of each type": r"You already have a \w+ folder",
    "a role name is unique in its organization": r"There is already a role with this name",
    "a date range starts before it ends": r"date_from must be before date_to",
    "an action name is unique in its project": r"This project already has an action with this name",
    "an event definition name is unique in its project": r"Event definition with name .* already exists",
    # which fields a source's config needs is its source type's (about 1,340 of them): no schema a
    # generated client can take states it per type
    "a source config has the fields its source type requires": r"Invalid source config: \w+ is required",
    "the schemas named are the source's own": r"One or more schemas could not be found for this source",
    "a CDC check connects to the source's database": r"Could not connect to Postgres to check prereq",
    # a query's text is HogQL: its grammar, tables and fields are no JSON Schema's (mockhog.hogql)
    "a HogQL query parses and names what exists": r"^\[400\] POST /api/(projects|environments)/[^/]+/"
    r"query/?\n.*(Syntax error at line|Unknown table|Unable to resolve field|Query is empty|Unsupported "
    r"(function|expression|dateDiff)|Cannot (parse|select)|Illegal types|Aggregation '|HAVING requires)",
    # the viewsets list DELETE in Allow (DRF's destroy exists) and refuse it: soft delete is a PATCH
    "these objects are never deleted, only marked deleted": r"^\[405\] DELETE /api/(projects|environments)/"
    r"[^/]+/(actions|annotations|cohorts|insights|dashboards|feature_flags|hog_functions|notebooks"
    r"|session_recording_playlists|subscriptions|datasets|dataset_items|evaluations|experiments"
    r"|dashboard_templates|error_tracking/fingerprints)/[^/]+/?\n",
    "a feature flag key is unique in its project": r"There is already a feature flag with this key\.",
    "a dashboard template exists": r"Invalid template provided: ",
    "a flag linked to a running experiment is not deleted": r"Cannot delete a feature flag that is linked "
    r"to running experiment",
    "share passwords need password protection first": r"Password protection must be enabled before "
    r"creating passwords",
    # a body that archives and enables at once is refused by the schema; this is the flag's own state
    "an archived flag is disabled": r"Cannot archive an enabled feature flag|Cannot enable an archived "
    r"feature flag",
    # cohorts: whether a stored cohort is static decides what its actions and updates take
    "only a static cohort has persons added or removed": r"Can only (add|remove) users (to|from) static "
    r"cohorts",
    "the persons added to a static cohort exist": r"No valid users to add to cohort",
    # which distinct ids a person has is stored state
    "the distinct ids split off are the person's own": r"not on this person: \[",
    "a stored dynamic cohort's filters hold its criteria": r"^\[400\] (PUT|PATCH) /api/"
    r"(projects|environments)/[^/]+/cohorts/[^/]+/?\n.*(Must contain a 'properties' key with type and "
    r"values|Input should be a valid dictionary|Missing required keys for group: values)",
    "cohorts do not reference each other in a loop": r"Cohorts cannot reference other cohorts in a loop",
    # logs alerts: the destinations named are the alert's own; a snooze ends after the server's now
    "the destinations removed are the alert's own": r"These HogFunctions do not belong to this alert",
    "a logs alert's snooze ends in the future": r"\"Must be a future datetime\.\",\"attr\":\"snooze_until\"",
    # what an update of a logs alert may leave out is the stored alert's: its enabled, filters and periods
    "an enabled logs alert has a filter": r"^\[400\] (PUT|PATCH) /api/(projects|environments)/[^/]+/logs/"
    r"alerts/[^/]+/?\n.*At least one filter is required",
    "a logs alert alarms within its evaluation periods": r"^\[400\] (PUT|PATCH) /api/(projects|environments)/"
    r"[^/]+/logs/alerts/[^/]+/?\n.*Cannot exceed evaluation_periods",
    "a logs alert simulation looks back at most 30 days": r"date_from cannot be more than 30 days in the "
    r"past",
    # no schema compares two arrays' lengths (and an update's translations merge with the stored ones)
    "a question's translations have as many choices as it": r"Translation '.*' has \d+ choices but "
    r"question has \d+ choices",
    # how many days back year 1 is depends on today: a relative offset past it is no date
    # (the blanks around the offset, which the view strips, are JSON escapes in the answer)
    "a relative date reaches no further back than year 1": r"\"Invalid date(?: value for \w+)?: "
    r"(?:\\[tnrfb]|\\u00[0-9a-f]{2}| )*-?[0-9]+[sMhdwmqy](?:\\[tnrfb]|\\u00[0-9a-f]{2}| )*\"",
    # a cursor is an opaque token: which texts name a position is the server's own encoding
    "a logs cursor is a nextCursor the server gave": r"\"Invalid cursor\",\"attr\":\"query__after\"",
    # -- annotations, file_system, sharing, error_tracking, tasks, llm_gateway --
    # an update without a scope is judged on the stored scope (and without tags, the stored tags)
    "an annotation's tags follow its stored scope": r"^\[400\] (PUT|PATCH) /api/(projects|environments)/"
    r"[^/]+/annotations/[^/]+/?\n.*(At least one tag is required when scope is 'tag'|Tags can only be set "
    r"when scope is 'tag')",
    # what a delete does depends on the stored entry's type and ref (any type text can be filed)
    "only an entry of a registered type, with its reference, is deleted": r"Cannot delete resources with "
    r"type '|Cannot delete type '.*' without a reference\.",
    # (a blank hash_id is no hash id: PostHog makes one, as mockhog does; ".+" keeps it unexplained)
    "a release's hash id is unique in its project": r"Hash id .+ already in use",
    # -- experiments, holdouts and saved metrics --
    "an experiment's lifecycle action fits its state": r"Experiment (has already been launched|has not "
    r"been launched yet|has already ended|is already paused|is not paused|is already archived|must be "
    r"ended before it can be archived|is not archived|is already in draft state)\.",
    "a shipped variant is one of the experiment flag's": r"Variant '.*' not found on feature flag\.",
    "an experiment's flag is multivariate with a control": r"Feature flag must have at least 2 variants "
    r"|Feature flag must have a variant with key 'control'|its feature flag has been deleted",
    "a metric's events were ingested, unless allowed": r"Event\(s\) .* not found\. No events with these",
    "a metric's actions exist": r"Action\(s\) with ID .* not found or deleted",
    "an experiment's saved metrics exist": r"Saved metric does not exist or does not belong to this project",
    # no schema states a sum; which variants exist is the linked flag's
    "an experiment's variants split 100 percent": r"Variant rollout percentages must sum to 100",
    "an experiment's baseline and excluded variants are its flag's": r"Invalid baseline_variant_key: "
    r"|baseline variant cannot be excluded|unknown variants for this experiment|at least one test "
    r"variant must remain in analysis",
    "payload keys name the experiment flag's variants": r"Payload keys must match a variant key",
    # the start and end compared (no schema compares two fields); the rest is the stored experiment's
    "an experiment ends after it starts": r"End date must be after start date",
    "an update changes only what an update may": r"Can't update keys: .* on Experiment",
    "a running experiment keeps its variants and holdout": r"Can't update feature_flag_variants on "
    r"Experiment|Can't update holdout on running Experiment",
    "a shared metric name is unique in its project": r"A shared metric with this name already exists\.",
    "a saved metric keeps its uuid": r"Saved metric UUID cannot be changed",
    # a metric's uuid may be the server's, made as the metric is stored
    "an experiment's metric orderings list its metrics": r"(primary|secondary)_metrics_ordered_uuids is "
    r"(missing UUIDs|null but)",
    "a copy's name fits an experiment's 400 characters": r"^\[400\] POST /api/(projects|environments)/"
    r"[^/]+/experiments/[^/]+/duplicate/?\n.*Ensure this field has no more than 400 characters",
    # -- external data sources: what the stored source's type and state allow --
    "a webhook is set up on a source of a webhook type": r"This source type does not support webhooks"
    r"|\"Source has no configuration\"",
    # which webhook fields a source takes, and which it requires, is its source type's
    "webhook inputs name the source type's webhook fields": r"^\[400\] POST /api/(projects|environments)/"
    r"[^/]+/external_data_sources/[^/]+/(create_webhook|update_webhook_inputs)/?\n.*(Invalid webhook inputs"
    r"|Invalid input keys: |Missing required fields: )",
    "webhook inputs update the source's existing webhook": r"No webhook function found for this source\. "
    r"Create a webhook first\.",
    "CDC is repaired on a CDC source with CDC on": r"CDC is not supported for source type: |CDC is not "
    r"enabled on this source\.|There are no active CDC schemas on this source to repair|Could not connect "
    r"to source to repair CDC",
    "a second source of a type needs a prefix of its own": r"You already have a source of this type\. Add a "
    r"table prefix|Another source of this type already uses the prefix",
    # -- hog functions --
    # hog functions: an input's key names an item of the inputs_schema beside it (or the stored
    # one), whose type and required flag decide what its value may be; no schema ties the two
    "a hog function's inputs fit their inputs_schema": r"Value must be (a string|a number|a boolean|a "
    r"dictionary|an Integration ID|an email object)\.|Missing value for '(from|to|subject)'\.|Either "
    r"'text' or 'html' is required\.|Circular dependency detected in input_deps\."
    r"|\"detail\":\"This field is required\.\",\"attr\":\"(mappings__\d+__)?inputs__",
    # -- environments and projects, groups types, dashboards, user interviews, surveys, events --
    "an updated survey's name is no other survey's": r"There is already another survey with this name",
    "a survey that has ended is not launched": r"Cannot launch a survey with end_date in the past",
}
SCHEMA_VALID_REJECTED = "ST202"
SCHEMA_VIOLATING_ACCEPTED = "ST201"
# The path parameters the run pins to the seeded ids (seeded_scope). Schemathesis' coverage phase
# still makes its negative cases of them (a non-UUID organization_id) and then sends the pinned,
# valid value in their place: its ST201 then names a value that never reached the server.
PINNED = ("project_id", "organization_id")


@dataclass
class Failure:
    operation: str
    code: str
    title: str
    answer: str
    request: str = ""  # "[status] METHOD path" of the request that failed
    invalid: str = ""  # the "Invalid component:" Schemathesis names, if any

    @property
    def pinned(self) -> bool:
        """An ST201 whose only invalid part is a pinned path parameter: the request carried the
        seeded id, which its schema takes, so nothing invalid was accepted."""
        names = "|".join(PINNED)
        return (
            self.code == SCHEMA_VIOLATING_ACCEPTED
            and re.fullmatch(rf"parameter `({names})` in path - .*", self.invalid) is not None
        )

    @property
    def rule(self) -> str | None:
        """The business rule that explains it, if any."""
        if self.code != SCHEMA_VALID_REJECTED:
            return None
        text = f"{self.request}\n{self.answer}"
        return next((name for name, pattern in BUSINESS_RULES.items() if re.search(pattern, text)), None)


def parse_report(path: Path) -> list[Failure]:
    """Every failure in a Schemathesis JUnit report: one per check that failed, with the answer."""
    failures = []
    for case in ElementTree.parse(path).iter("testcase"):
        for element in [*case.iter("failure"), *case.iter("error")]:
            text = element.text or element.get("message") or ""
            for block in re.split(r"\n(?=- ST\d+ )", "\n" + text):
                found = re.match(r"- (ST\d+) ([^\n]+)", block.strip())
                if found:
                    answer = re.search(r"\[(\d{3})\][^\n]*\n\s*\n?\s*`?([^\n]*)", block)
                    body = "" if not answer or answer[2] == "<EMPTY>" else answer[2]
                    invalid = re.search(r"Invalid component: ([^\n]*)", block)
                    failures.append(
                        Failure(
                            case.get("name", "?"),
                            found[1],
                            found[2],
                            body,
                            _request(block, answer),
                            invalid[1].strip() if invalid else "",
                        )
                    )
    return failures


def _request(block: str, answer: re.Match[str] | None) -> str:
    """The failing request of a block: the last ``curl -X METHOD ... URL`` of its reproduction."""
    calls = re.findall(r"curl -X (\w+) .*?'?(https?://[^\s']+)'?\s*$", block, re.MULTILINE)
    if not calls or not answer:
        return ""
    method, url = calls[-1]
    return f"[{answer[1]}] {method} {urlsplit(url).path}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "mockhog", "serve", "--port", str(port), "--api-key", API_KEY, *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_mockhog/health", timeout=2).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"mockhog serve {' '.join(flags)} did not start on port {port}")


def seeded_scope(url: str) -> str:
    """A schemathesis.toml that sends the seeded project's and organization's ids as the path's:
    a generated ``project_id`` names no project, and PostHog (like mockhog) answers its 404 before
    reading anything else, so without them nearly every request tests only that 404."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    project = requests.get(f"{url}/api/projects/@current/", headers=headers, timeout=10).json()
    organization = requests.get(f"{url}/api/organizations/@current/", headers=headers, timeout=10).json()
    # as text, as the path publishes them: in the stateful phase Schemathesis checks a link's values
    # against the parameter's schema again, and an integer for a string parameter makes the whole
    # request "negative", so a valid request it answers is reported as schema-violating (ST201)
    ids = {"path.project_id": str(project["id"]), "path.organization_id": str(organization["id"])}
    assert [key.removeprefix("path.") for key in ids] == list(PINNED)
    return "[parameters]\n" + "".join(
        f"{json.dumps(key)} = {json.dumps(value)}\n" for key, value in ids.items()
    )


def schemathesis_command(url: str, report: Path, options: argparse.Namespace, extra: list[str]) -> list[str]:
    binary = Path(sys.executable).with_name("schemathesis")
    config = report.with_suffix(".toml")
    config.write_text(seeded_scope(url))
    command = [str(binary) if binary.exists() else "schemathesis", "--config-file", str(config)]
    command += ["run", f"{url}/api/schema/"]
    command += ["--checks", "all", "--max-examples", str(options.max_examples), "--no-color"]
    command += [
        "-H",
        f"Authorization: Bearer {API_KEY}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if options.phases:
        command += ["--phases", options.phases]
    if options.include_path_regex:
        command += ["--include-path-regex", options.include_path_regex]
    if options.exclude_deprecated:
        command.append("--exclude-deprecated")
    return command + extra


def run(options: argparse.Namespace, extra: list[str]) -> dict[str, list[Failure]]:
    """Both servers, both runs; the failures found against each."""
    results: dict[str, list[Failure]] = {}
    servers = {"default": serve(), "--strict": serve("--strict")}
    try:
        with tempfile.TemporaryDirectory() as folder:
            runs = {}
            for name, (_, url) in servers.items():
                report = Path(folder) / f"{name.strip('-')}.xml"
                command = schemathesis_command(url, report, options, extra)
                # in the temporary folder: schemathesis keeps its example database in the cwd
                process = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=folder
                )
                runs[name] = (process, report)
            for name, (process, report) in runs.items():
                try:
                    output, _ = process.communicate(timeout=options.timeout)
                except subprocess.TimeoutExpired:
                    # stop both runs before the folder goes: they still write into it
                    for other, _ in runs.values():
                        other.kill()
                        other.wait()
                    raise RuntimeError(
                        f"schemathesis ({name}) did not finish within --timeout {options.timeout:g} s; "
                        "narrow it (--include-path-regex) or raise --timeout"
                    ) from None
                if not report.exists():
                    raise RuntimeError(
                        f"schemathesis wrote no report ({name}):\n{output.decode(errors='replace')}"
                    )
                results[name] = parse_report(report)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--phases", help="Schemathesis phases (default: all)")
    parser.add_argument("--include-path-regex", help="only the operations whose path matches")
    parser.add_argument(
        "--exclude-deprecated", action="store_true", help="skip the /api/environments/ aliases"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds each run may take")
    options, extra = parser.parse_known_args(argv)
    unexplained = 0
    for name, failures in run(options, extra).items():
        rules = Counter(f.rule for f in failures if f.rule)
        pinned = Counter(f.invalid.split("`")[1] for f in failures if f.pinned)
        others = [f for f in failures if not f.rule and not f.pinned]
        unexplained += len(others)
        print(
            f"mockhog serve {name}: {len(failures)} failures, {len(others)} not explained by a business rule"
        )
        for rule, count in sorted(rules.items()):
            print(f"  business rule ({count}): {rule}")
        for parameter, count in sorted(pinned.items()):
            print(f"  not sent ({count}): an invalid {parameter}, replaced by the pinned seeded id")
        for failure in others:
            print(f"  {failure.code} {failure.title}: {failure.operation}: {failure.answer[:200]}")
            if failure.request:
                print(f"    request: {failure.request}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
