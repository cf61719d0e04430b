"""PostHog's own CLI (@posthog/cli 0.18.3, its ``api`` tools) against a live mockhog on a real socket.

The npm package's JavaScript bundle (lib/posthog-api-cli.mjs) holds the tool catalog and its
handlers; it reads its host, key and project from POSTHOG_HOST, POSTHOG_API_KEY and
POSTHOG_PROJECT_ID, and sends analytics only when POSTHOG_ANALYTICS_API_KEY and
POSTHOG_ANALYTICS_HOST are set (they are removed here). The package is installed with
``--ignore-scripts`` (its postinstall downloads a native binary) into a user cache, once; the test
is skipped, saying why, where node or the npm registry cannot be reached.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from node_packages import cache_dir, npm_install

from mockhog import DEFAULT_API_KEY, Backend
from mockhog.testing import Server

CLI = "@posthog/cli@0.18.3"
BUNDLE = Path("node_modules/@posthog/cli/lib/posthog-api-cli.mjs")
INSTALL_SECONDS = 300
CALL_SECONDS = 180


@pytest.fixture(scope="module")
def bundle() -> Path:
    target = cache_dir("MOCKHOG_POSTHOG_CLI_CACHE", "posthog-cli-0.18.3")
    script = npm_install([CLI], target, "PostHog's CLI", INSTALL_SECONDS).parent / BUNDLE
    if not script.is_file():
        pytest.skip(f"npm installed {CLI} without its bundle {BUNDLE}")
    return script


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server(Backend(seed=0))
    yield running
    running.close()


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A server of the test's own: what the test changes, the others never see."""
    running = Server(Backend(seed=0))
    yield running
    running.close()


class Cli:
    def __init__(self, bundle: Path, server: Server) -> None:
        self.bundle = bundle
        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTHOG_")}
        env.update(POSTHOG_HOST=server.url, POSTHOG_API_KEY=DEFAULT_API_KEY, POSTHOG_PROJECT_ID="1")
        self.env = env

    def run(self, tool: str, arguments: dict[str, Any], *flags: str) -> subprocess.CompletedProcess[str]:
        command = [shutil.which("node") or "node", str(self.bundle), "call", "--json", *flags, tool]
        return subprocess.run(
            [*command, json.dumps(arguments)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=CALL_SECONDS,
        )

    def call(self, tool: str, arguments: dict[str, Any], *flags: str) -> Any:
        done = self.run(tool, arguments, *flags)
        assert done.returncode == 0, f"{tool} failed: {done.stdout[-800:]} {done.stderr[-800:]}"
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def cli(bundle: Path, server: Server) -> Cli:
    return Cli(bundle, server)


def _refused(server: Server) -> list[dict[str, Any]]:
    """Requests the CLI sent that mockhog refused or broke a contract on, from its journal."""
    entries = requests.get(f"{server.url}/_mockhog/journal?limit=10000", timeout=10).json()
    return [(e["method"], e["path"], e["status"]) for e in entries if e["status"] >= 400 or e["violation"]]


def test_read_tools_of_the_served_families(cli: Cli, server: Server) -> None:
    """persons, logs, event definitions and external data sources: every read tool whose
    operation mockhog serves succeeds, and mockhog refused nothing the CLI sent."""
    source = server.backend.store.table(1, "external_data_sources")
    stripe = next(row["id"] for row in source.values() if row["source_type"] == "Stripe")
    person = next(iter(server.backend.store.table(1, "persons").values()))
    calls = {
        "persons-list": {"limit": 3},
        "persons-retrieve": {"id": str(person["id"])},
        "persons-values-retrieve": {"key": "plan"},
        "persons-cohorts-retrieve": {"person_id": person["uuid"]},
        "query-logs": {
            "query": {
                "dateRange": {"date_from": "2025-05-01T00:00:00Z"},
                "serviceNames": ["web"],
                "limit": 5,
                "filterGroup": [
                    {
                        "key": "service.name",
                        "type": "log_resource_attribute",
                        "operator": "exact",
                        "value": "web",
                    }
                ],
            }
        },
        "external-data-sources-list": {},
        "external-data-sources-retrieve": {"id": stripe},
        "external-data-sources-jobs": {"id": stripe, "after": "2025-05-01T00:00:00Z"},
        "external-data-sources-wizard": {"source_type": "Stripe"},
        "external-data-sources-db-schema": {
            "source_type": "Postgres",
            "payload": {
                "host": "db",
                "port": 5432,
                "database": "app",
                "user": "u",
                "password": "p",
                "schema": "public",
            },
        },
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(zip(calls, pool.map(lambda item: cli.call(*item), calls.items()), strict=True))
    assert len(answers["persons-list"]["results"]) == 3
    assert answers["persons-retrieve"]["id"] == person["id"]
    assert {item["name"] for item in answers["persons-values-retrieve"]["results"]} >= {"free", "pro"}
    assert answers["persons-cohorts-retrieve"] == {"results": []}
    logs = answers["query-logs"]["results"]
    assert len(logs) == 5 and {row["resource_attributes"]["service.name"] for row in logs} == {"web"}
    assert stripe in {row["id"] for row in answers["external-data-sources-list"]["results"]}
    assert answers["external-data-sources-retrieve"]["source_type"] == "Stripe"
    assert isinstance(answers["external-data-sources-jobs"], list)
    assert "Stripe" in answers["external-data-sources-wizard"]
    assert (
        answers["external-data-sources-db-schema"]
        and "table" in answers["external-data-sources-db-schema"][0]
    )
    assert _refused(server) == []


def test_write_tools_of_the_served_families(cli: Cli, server: Server) -> None:
    """Event definitions are created and updated; an external data source is created, changed,
    reloaded, refreshed and deleted; every call succeeds against mockhog."""
    made = cli.call("event-definition-create", {"eventName": "cli_signed_up", "data": {"description": "CLI"}})
    assert made["name"] == "cli_signed_up" and made["created_at"] is None
    updated = cli.call("event-definition-update", {"eventName": "cli_signed_up", "data": {"verified": True}})
    assert updated["id"] == made["id"] and updated["verified"] is True
    payload = {
        "host": "db",
        "port": 5432,
        "database": "app",
        "user": "u",
        "password": "p",
        "schema": "public",
        # no "schemas": today's create syncs every discovered table with default settings
    }
    created = cli.call(
        "external-data-sources-create", {"source_type": "Postgres", "payload": payload, "prefix": "cli"}
    )
    source = created["id"]
    # The CLI's handler marks its creates created_via "mcp"; every discovered table syncs.
    shown = cli.call("external-data-sources-retrieve", {"id": source})
    assert shown["created_via"] == "mcp" and shown["schemas"]
    assert all(schema["should_sync"] for schema in shown["schemas"])
    changed = cli.call("external-data-sources-partial-update", {"id": source, "description": "from the CLI"})
    assert changed["description"] == "from the CLI"
    cli.call("external-data-sources-reload", {"id": source})
    cli.call("external-data-sources-refresh-schemas", {"id": source})
    cli.call("external-data-sources-destroy", {"id": source}, "--confirm")
    assert _refused(server) == []
    gone = requests.get(
        f"{server.url}/api/projects/1/external_data_sources/{source}/",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=10,
    )
    assert gone.status_code == 404


def test_the_source_type_list_is_the_clis(bundle: Path) -> None:
    """schemas/source_types.json is the source_type enum of the CLI's ExternalDataSourcesCreateBody
    (generated from PostHog's current OpenAPI): tools/derive_source_types.py --check finds it fresh."""
    tool = Path(__file__).resolve().parent.parent / "tools" / "derive_source_types.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(bundle), "--check"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_person_property_tools_change_the_person(cli: Cli, server: Server) -> None:
    """persons-property-set posts update_property (202, no body), persons-property-delete posts
    delete_property (201 {"success": true}): both served as PersonViewSet's actions
    (posthog/api/person.py), so the person has the property, then has it no more."""
    requests.delete(f"{server.url}/_mockhog/journal", timeout=10)  # earlier tests' requests
    person = next(iter(server.backend.store.table(1, "persons").values()))
    cli.call("persons-property-set", {"id": str(person["id"]), "key": "cli_plan", "value": "scale"})
    shown = cli.call("persons-retrieve", {"id": str(person["id"])})
    assert shown["properties"]["cli_plan"] == "scale"
    removed = cli.call("persons-property-delete", {"id": str(person["id"]), "unset": "cli_plan"})
    assert removed == {"success": True}
    stored = server.backend.store.table(1, "persons").get(person["id"])
    assert "cli_plan" not in stored["properties"]
    assert _refused(server) == []


def test_persons_bulk_delete_tool_deletes_persons(bundle: Path, own_server: Server) -> None:
    """persons-bulk-delete posts bulk_delete (PersonViewSet.bulk_delete, posthog/api/person.py): the
    persons of the distinct ids given are deleted, and the answer is PostHog's 202 summary."""
    persons = own_server.backend.store.table(1, "persons")
    person = next(iter(persons.values()))
    summary = Cli(bundle, own_server).call(
        "persons-bulk-delete",
        {"distinct_ids": person["distinct_ids"][:1], "delete_events": True},
        "--confirm",
    )
    assert summary == {
        "persons_found": 1,
        "persons_deleted": 1,
        "events_queued_for_deletion": True,
        "recordings_queued_for_deletion": False,
        "deletion_errors": [],
    }
    assert persons.get(person["id"]) is None and _refused(own_server) == []


def test_log_attribute_and_sparkline_tools(cli: Cli, server: Server) -> None:
    """logs-attributes-list, logs-attribute-values-list and logs-sparkline-query against
    LogsViewSet.attributes, values and sparkline as mockhog serves them
    (products/logs/backend/presentation/views/api.py): the CLI sends dateRange and filters as JSON
    text in the query string; the sparkline view answers a bare list, of which the tool's
    pickResponseFields(["results"]) keeps nothing, against PostHog as against mockhog."""
    requests.delete(f"{server.url}/_mockhog/journal", timeout=10)
    attributes = cli.call("logs-attributes-list", {"dateRange": RANGE, "limit": 5})
    assert len(attributes["results"]) == 5 and attributes["count"] > 5
    assert {item["propertyFilterType"] for item in attributes["results"]} == {"log_attribute"}
    values = cli.call(
        "logs-attribute-values-list",
        {"key": "service.name", "attribute_type": "resource", "dateRange": RANGE, "serviceNames": ["web"]},
    )
    assert [item["id"] for item in values["results"]] == ["web"]
    sparkline = cli.call("logs-sparkline-query", {"query": {"dateRange": RANGE}})
    assert sparkline == {}
    answered = requests.post(
        f"{server.url}/api/projects/1/logs/sparkline/",
        json={"query": {"dateRange": RANGE}},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=10,
    ).json()
    assert isinstance(answered, list) and sum(bucket["count"] for bucket in answered) == 600
    assert _refused(server) == []


def test_logs_alert_tools_run_an_alert_through_its_life(cli: Cli, server: Server) -> None:
    """The logs-alerts-* tools against LogsAlertViewSet as mockhog serves it
    (products/logs/backend/presentation/views/alerts_api.py): created with the CLI's defaults,
    listed, retrieved, renamed (a threshold change is an event), given a webhook destination of
    four HogFunctions that the delete tool removes again, and destroyed (then 404)."""
    requests.delete(f"{server.url}/_mockhog/journal", timeout=10)
    made = cli.call("logs-alerts-create", ALERT)
    alert = made["id"]
    assert (made["name"], made["state"], made["threshold_count"]) == ("web errors", "not_firing", 10)
    assert made["evaluation_periods"] == 1 and made["check_interval_minutes"] == 5
    listed = cli.call("logs-alerts-list", {})
    assert alert in {row["id"] for row in listed["results"]}
    assert cli.call("logs-alerts-retrieve", {"id": alert})["filters"] == ALERT["filters"]
    changed = cli.call("logs-alerts-partial-update", {"id": alert, "name": "renamed", "threshold_count": 3})
    assert (changed["name"], changed["threshold_count"]) == ("renamed", 3)
    events = cli.call("logs-alerts-events-list", {"id": alert})
    assert [event["kind"] for event in events["results"]] == ["threshold_change"]
    hook = {"id": alert, "type": "webhook", "webhook_url": "https://example.com/hook"}
    functions = cli.call("logs-alerts-destinations-create", hook)["hog_function_ids"]
    assert len(set(functions)) == 4
    url = f"{server.url}/api/projects/1/logs/alerts/{alert}/"
    auth = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    assert requests.get(url, headers=auth, timeout=10).json()["destination_types"] == ["webhook"]
    cli.call(
        "logs-alerts-destinations-delete-create", {"id": alert, "hog_function_ids": functions}, "--confirm"
    )
    assert requests.get(url, headers=auth, timeout=10).json()["destination_types"] == []
    cli.call("logs-alerts-destroy", {"id": alert}, "--confirm")
    assert _refused(server) == []
    assert requests.get(url, headers=auth, timeout=10).status_code == 404


# -- every tool of the served families -------------------------------------------------------------
# Each tool of the persons, logs, event definitions and external data sources families in the
# bundle, as (method, path under /api/projects/{id}/, required scopes): read from its handler and its
# generated definition. How this file drives it:
#   "driven"   by one of the tests above, with assertions on what it answers;
#   "served"   by test_every_tool_of_the_served_families below (mockhog answers it);
#   "missing"  the same test, marked strict xfail: mockhog does not serve it yet, and the test turns
#              red the day it does (strict) so the mark has to go;
#   "gated"    behind a PostHog feature flag the CLI evaluates: without the flag on the CLI itself
#              does not offer the tool (test_flag_gated_tools_are_not_offered).
UUID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
FILTERS = [{"key": "service.name", "type": "log_resource_attribute", "operator": "exact", "value": "web"}]
RANGE = {"date_from": "2025-05-01T00:00:00Z"}
IN_RANGE = {"query": {"dateRange": RANGE}}
ALERT = {
    "name": "web errors",
    "filters": {"serviceNames": ["web"], "severityLevels": ["error"]},
    "threshold_count": 10,
    "threshold_operator": "above",
    "window_minutes": 5,
}
WEBHOOK = {"client_secret": "secret", "account_id": "acct"}
PG = {"host": "db", "port": 5432, "database": "app", "user": "u", "password": "p", "schema": "public"}
LOGS_READ, LOGS_WRITE = ("logs:read",), ("logs:write",)
PERSON_READ, PERSON_WRITE = ("person:read",), ("person:write",)
SOURCE_READ, SOURCE_WRITE = ("external_data_source:read",), ("external_data_source:write",)
DEFINITION_WRITE = ("event_definition:write",)
TOOLS: dict[str, tuple[str, str, tuple[str, ...], str, dict[str, Any]]] = {
    "persons-list": ("GET", "persons/", PERSON_READ, "driven", {}),
    "persons-retrieve": ("GET", "persons/{id}/", PERSON_READ, "driven", {}),
    "persons-values-retrieve": ("GET", "persons/values/", PERSON_READ, "driven", {}),
    "persons-cohorts-retrieve": ("GET", "persons/cohorts/", ("person:read", "cohort:read"), "driven", {}),
    "persons-property-set": ("POST", "persons/{id}/update_property/", PERSON_WRITE, "driven", {}),
    "persons-property-delete": ("POST", "persons/{id}/delete_property/", PERSON_WRITE, "driven", {}),
    "persons-bulk-delete": ("POST", "persons/bulk_delete/", PERSON_WRITE, "driven", {}),
    "query-logs": ("POST", "logs/query/", LOGS_READ, "driven", {}),
    "logs-attributes-list": ("GET", "logs/attributes/", LOGS_READ, "driven", {}),
    "logs-attribute-values-list": ("GET", "logs/values/", LOGS_READ, "driven", {}),
    "logs-sparkline-query": ("POST", "logs/sparkline/", LOGS_READ, "driven", {}),
    "logs-count": (
        "POST", "logs/count/", LOGS_READ, "served",
        {"query": {"dateRange": RANGE, "filterGroup": FILTERS}},
    ),
    "logs-count-ranges": (
        "POST", "logs/count-ranges/", LOGS_READ, "served",
        {"query": {"dateRange": RANGE, "serviceNames": ["web"], "targetBuckets": 12}},
    ),
    "logs-facet-values-create": (
        "POST", "logs/facet_values/", LOGS_READ, "served",
        {"query": {"dateRange": RANGE, "facetField": "severity_text", "serviceNames": ["web"]}},
    ),
    "logs-services-create": ("POST", "logs/services/", LOGS_READ, "served", IN_RANGE),
    "logs-patterns": ("POST", "logs/patterns/", LOGS_READ, "served", IN_RANGE),
    "logs-patterns-diff": ("POST", "logs/patterns_diff/", LOGS_READ, "served", IN_RANGE),
    "logs-alerts-list": ("GET", "logs/alerts/", LOGS_READ, "driven", {}),
    "logs-alerts-create": ("POST", "logs/alerts/", LOGS_WRITE, "driven", {}),
    "logs-alerts-retrieve": ("GET", "logs/alerts/{id}/", LOGS_READ, "driven", {}),
    "logs-alerts-partial-update": ("PATCH", "logs/alerts/{id}/", LOGS_WRITE, "driven", {}),
    "logs-alerts-destroy": ("DELETE", "logs/alerts/{id}/", LOGS_WRITE, "driven", {}),
    "logs-alerts-events-list": ("GET", "logs/alerts/{id}/events/", LOGS_READ, "driven", {}),
    "logs-alerts-simulate-create": (
        "POST", "logs/alerts/simulate/", LOGS_READ, "served",
        {k: v for k, v in ALERT.items() if k != "name"} | {"date_from": "-7d"},
    ),
    "logs-alerts-destinations-create": ("POST", "logs/alerts/{id}/destinations/", LOGS_WRITE, "driven", {}),
    "logs-alerts-destinations-delete-create": (
        "POST", "logs/alerts/{id}/destinations/delete/", LOGS_WRITE, "driven", {},
    ),
    "logs-anomalies-scan": ("POST", "logs/anomalies/scan/", LOGS_READ, "gated", {}),
    "logs-anomalies-series-bands": ("POST", "logs/anomalies/series_bands/", LOGS_READ, "gated", {}),
    "event-definition-create": ("POST", "event_definitions/", DEFINITION_WRITE, "driven", {}),
    "event-definition-update": ("PATCH", "event_definitions/{id}/", DEFINITION_WRITE, "driven", {}),
    "external-data-sources-list": ("GET", "external_data_sources/", SOURCE_READ, "driven", {}),
    "external-data-sources-create": ("POST", "external_data_sources/", SOURCE_WRITE, "driven", {}),
    "external-data-sources-retrieve": (
        "GET", "external_data_sources/{id}/", SOURCE_READ, "driven", {},
    ),
    "external-data-sources-partial-update": (
        "PATCH", "external_data_sources/{id}/", SOURCE_WRITE, "driven", {},
    ),
    "external-data-sources-destroy": (
        "DELETE", "external_data_sources/{id}/", SOURCE_WRITE, "driven", {},
    ),
    "external-data-sources-reload": (
        "POST", "external_data_sources/{id}/reload/", SOURCE_WRITE, "driven", {},
    ),
    "external-data-sources-refresh-schemas": (
        "POST", "external_data_sources/{id}/refresh_schemas/", SOURCE_WRITE, "driven", {},
    ),
    "external-data-sources-jobs": ("GET", "external_data_sources/{id}/jobs/", SOURCE_READ, "driven", {}),
    "external-data-sources-wizard": ("GET", "external_data_sources/wizard/", SOURCE_READ, "driven", {}),
    "external-data-sources-db-schema": (
        "POST", "external_data_sources/database_schema/", SOURCE_WRITE, "driven", {},
    ),
    "external-data-sources-connections-list": (
        "GET", "external_data_sources/connections/", SOURCE_READ, "served", {},
    ),
    "external-data-sources-bulk-update-schemas": (
        "PATCH", "external_data_sources/{id}/bulk_update_schemas/", SOURCE_WRITE, "served",
        {"id": "{stripe}", "schemas": [{"id": "{stripe_schema}", "should_sync": False}]},
    ),
    "external-data-sources-check-cdc-prerequisites-create": (
        "POST", "external_data_sources/check_cdc_prerequisites/", SOURCE_WRITE, "driven",
        {"source_type": "Postgres", "payload": PG},
    ),
    "external-data-sources-repair-cdc-create": (
        "POST", "external_data_sources/{id}/repair_cdc/", SOURCE_WRITE, "driven",
        {"id": "{stripe}"},
    ),
    "external-data-sources-create-webhook-create": (
        "POST", "external_data_sources/{id}/create_webhook/", SOURCE_WRITE, "served",
        {"id": "{stripe}", **WEBHOOK},
    ),
    "external-data-sources-delete-webhook-create": (
        "POST", "external_data_sources/{id}/delete_webhook/", SOURCE_WRITE, "served",
        {"id": "{stripe}", **WEBHOOK},
    ),
    "external-data-sources-update-webhook-inputs-create": (
        "POST", "external_data_sources/{id}/update_webhook_inputs/", SOURCE_WRITE, "driven",
        {"id": "{stripe}", **WEBHOOK},
    ),
    "external-data-sources-webhook-info-retrieve": (
        "GET", "external_data_sources/{id}/webhook_info/", SOURCE_READ, "served",
        {"id": "{stripe}"},
    ),
    "external-data-sources-preview-resource": (
        "POST", "external_data_sources/preview_resource/", SOURCE_WRITE, "driven",
        {"source_type": "Postgres", "payload": PG, "resource_name": "users", "limit": 5},
    ),
    "external-data-sources-destinations-retrieve": (
        "GET", "external_data_sources/{id}/destinations/", SOURCE_READ, "gated", {},
    ),
}  # fmt: skip
FAMILIES = r"(?:persons-|person-|logs-|query-logs|event-definition|external-data-sources?-)"


def _bundle_tools(text: str) -> dict[str, tuple[str | None, str | None, tuple[str, ...]]]:
    """Each family tool the bundle registers: the method and path its handler requests (None where
    it goes through the API client's own methods) and its definition's required scopes."""
    tools = {}
    for match in re.finditer(
        r"\n  name: \"(" + FAMILIES + r"[a-z0-9-]*)\",\n  schema: [^\n]+\n(.*?)\n\}\);", text, re.S
    ):
        name, body = match.groups()
        request = re.search(r"method: \"([A-Z]+)\",\s*path: `/api/projects/\$\{[^}]+\}/([^`?]*)`", body)
        method, path = (
            (request.group(1), re.sub(r"\$\{[^}]*\}", "{id}", request.group(2))) if request else (None, None)
        )
        definition = re.search(r"\n  \"" + re.escape(name) + r"\": \{.*?\n  \}", text, re.S)
        scopes = re.search(r"required_scopes: \[([^\]]*)\]", definition.group(0)) if definition else None
        found = tuple(re.findall(r"\"([^\"]+)\"", scopes.group(1))) if scopes else ()
        tools[name] = (method, path, found)
    return tools


def test_the_tool_table_is_the_bundles(bundle: Path) -> None:
    """TOOLS lists every tool of the four families the CLI bundle registers, with the method,
    path and scopes the bundle gives it: a tool added to or changed in the CLI fails here."""
    found = _bundle_tools(bundle.read_text())
    assert sorted(found) == sorted(TOOLS)
    for name, (method, path, scopes) in found.items():
        want_method, want_path, want_scopes, _, _ = TOOLS[name]
        if method is not None:
            assert (method, path) == (want_method, want_path), name
        assert scopes == want_scopes, name


def _placeholders(server: Server) -> dict[str, str]:
    """The seeded rows a TOOLS row names: "{stripe}" (the Stripe source) and "{stripe_schema}" (one
    of its schemas: bulk_update_schemas refuses an id that is none of the source's)."""
    stripe = next(
        row
        for row in server.backend.store.table(1, "external_data_sources").values()
        if row["source_type"] == "Stripe"
    )
    return {"{stripe}": stripe["id"], "{stripe_schema}": stripe["schemas"][0]["id"]}


def _resolved(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _resolved(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


# The tools whose call, as the CLI sends it, PostHog refuses with a bare 400: what it answers.
REFUSED = {
    # The tool sends only source_type (its schema is the one field), so the Postgres config fails
    # (change_data_capture.py ExternalDataSourceCDCMixin.check_cdc_prerequisites).
    "external-data-sources-check-cdc-prerequisites-create": "Invalid source config: "
    + ", ".join(
        f"{field} is required" for field in ("host", "port", "database", "user", "password", "schema")
    ),
    # Stripe has no CDC adapter (_get_cdc_adapter_or_400).
    "external-data-sources-repair-cdc-create": "CDC is not supported for source type: Stripe",
    # The tool's body has no inputs field (webhook_setup.py update_webhook_inputs).
    "external-data-sources-update-webhook-inputs-create": "No inputs provided",
    # Only a Custom REST source previews (source_setup.py preview_resource).
    "external-data-sources-preview-resource": "Preview is not supported for source type 'Postgres'.",
}


@pytest.mark.parametrize("tool", sorted(REFUSED))
def test_a_call_posthog_refuses_gets_its_400_through_the_cli(
    tool: str, bundle: Path, own_server: Server
) -> None:
    """The CLI reports PostHog's status and bare {"message"} body for these calls, and the
    refusal changes nothing in the store."""
    before = own_server.backend.store.dump()
    arguments = _resolved(TOOLS[tool][4], _placeholders(own_server))
    done = Cli(bundle, own_server).run(tool, arguments, "--confirm")
    assert done.returncode != 0
    assert "Status Code: 400 (BAD REQUEST)" in done.stderr
    assert f"Error Message: {json.dumps({'message': REFUSED[tool]}, separators=(',', ':'))}" in done.stderr
    assert own_server.backend.store.dump() == before


@pytest.fixture(scope="module")
def every_answer(bundle: Path) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Each served, missing and gated tool called once, in a pool, against a server of its own
    (persons-bulk-delete and the rest must not change what the tests above see)."""
    running = Server(Backend(seed=0))
    placeholders = _placeholders(running)
    cli = Cli(bundle, running)

    def call(name: str) -> subprocess.CompletedProcess[str]:
        return cli.run(name, _resolved(TOOLS[name][4], placeholders), "--confirm")

    names = [name for name, row in TOOLS.items() if row[3] != "driven"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(zip(names, pool.map(call, names), strict=True))
    yield answers
    running.close()


def _cases(state: str) -> list[Any]:
    marks = {
        "missing": lambda name: pytest.mark.xfail(
            strict=True, reason=f"mockhog does not serve {TOOLS[name][0]} {TOOLS[name][1]} yet"
        )
    }
    return [
        pytest.param(name, marks=[marks[state](name)] if state in marks else [])
        for name, row in TOOLS.items()
        if row[3] == state
    ]


@pytest.mark.parametrize("tool", _cases("served") + _cases("missing"))
def test_every_tool_of_the_served_families(tool: str, every_answer: dict[str, Any]) -> None:
    """The CLI's call succeeds against mockhog and prints JSON."""
    done = every_answer[tool]
    assert done.returncode == 0, f"{tool}: {done.stdout[-600:]} {done.stderr[-600:]}"
    json.loads(done.stdout)


@pytest.mark.parametrize("tool", _cases("gated"))
def test_flag_gated_tools_are_not_offered(tool: str, every_answer: dict[str, Any]) -> None:
    """A tool behind a feature flag (its definition's feature_flag, checked by toolPassesFlagGate)
    is unknown to the CLI while the flag is off, as it is here with analytics removed."""
    done = every_answer[tool]
    assert done.returncode != 0 and f'Unknown tool: "{tool}"' in done.stdout + done.stderr
