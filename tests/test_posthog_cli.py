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


class Cli:
    def __init__(self, bundle: Path, server: Server) -> None:
        self.bundle = bundle
        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTHOG_")}
        env.update(POSTHOG_HOST=server.url, POSTHOG_API_KEY=DEFAULT_API_KEY, POSTHOG_PROJECT_ID="1")
        self.env = env

    def call(self, tool: str, arguments: dict[str, Any], *flags: str) -> Any:
        command = [shutil.which("node") or "node", str(self.bundle), "call", "--json", *flags, tool]
        done = subprocess.run(
            [*command, json.dumps(arguments)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=CALL_SECONDS,
        )
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


def test_generic_log_tools_are_accepted(cli: Cli, server: Server) -> None:
    """logs-attributes-list, logs-attribute-values-list and logs-sparkline-query reach operations of
    PostHog's document that mockhog serves on its generic tier (DRF defaults over the imported
    schemas, no log semantics): the CLI's requests are accepted and answered in the documented
    shape."""
    requests.delete(f"{server.url}/_mockhog/journal", timeout=10)
    date_range = {"date_from": "-7d"}
    attributes = cli.call("logs-attributes-list", {"dateRange": date_range, "limit": 5})
    values = cli.call("logs-attribute-values-list", {"key": "service.name", "dateRange": date_range})
    sparkline = cli.call("logs-sparkline-query", {"query": {"dateRange": date_range}})
    assert isinstance(attributes, dict) and isinstance(values, dict) and isinstance(sparkline, dict)
    assert _refused(server) == []
