"""External data sources: CRUD, PostHog's bare {"message"} errors, jobs, sync actions and the wizard."""

import json
from pathlib import Path

import pytest

from mockhog.resources.external_data_sources import default_schemas

BASE = "/api/projects/1/external_data_sources/"
ENV_BASE = "/api/environments/1/external_data_sources/"
# ExternalDataSourceSerializers.Meta.fields today, in its order, less the write-only ones
# (products/warehouse_sources/backend/presentation/views/external_data_source/source_serializers.py).
FIELDS = [
    "id", "created_at", "created_by", "created_via", "status", "source_type", "latest_error", "prefix",
    "description", "access_method", "direct_query_enabled", "auto_sync_new_schemas",
    "auto_sync_schema_patterns", "engine", "last_run_at", "schemas", "job_inputs", "revenue_analytics_config",
    "user_access_level", "supports_webhooks", "supports_column_selection", "api_version",
    "api_version_deprecation",
]  # fmt: skip
POSTGRES = {
    "source_type": "Postgres",
    "host": "h",
    "database": "d",
    "user": "u",
    "password": "p",
    "schema": "public",
}
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "external_data_sources.json"
TYPES_FILE = SCHEMA_FILE.with_name("source_types.json")


def stripe_body(**changes):
    body = {
        "source_type": "Stripe",
        "prefix": "billing_",
        "description": "Second Stripe account",
        "payload": {
            "stripe_secret_key": "rk_live_secret",
            "stripe_account_id": "acct_123",
            "schemas": [
                {
                    "name": "Charge",
                    "should_sync": True,
                    "sync_type": "incremental",
                    "incremental_field": "created",
                    "incremental_field_type": "integer",
                },
                {"name": "Customer", "should_sync": True, "sync_type": "full_refresh"},
                {"name": "Refund", "should_sync": False, "sync_type": "full_refresh"},
            ],
        },
    }
    body.update(changes)
    return body


POSTGRES_CREATE = {
    "source_type": "Postgres",
    "prefix": "replica_",
    "payload": {k: v for k, v in POSTGRES.items() if k != "source_type"} | {"port": 5432},
}


def seeded(client, source_type):
    return next(s for s in client.get(BASE).get_json()["results"] if s["source_type"] == source_type)


def test_list_shows_seeded_sources_newest_first_without_secrets(client):
    page = client.get(BASE).get_json()
    assert page["count"] == 3 and page["next"] is None and page["previous"] is None
    rows = page["results"]
    assert {row["source_type"] for row in rows} == {"Stripe", "Hubspot", "Postgres"}
    assert [row["created_at"] for row in rows] == sorted((row["created_at"] for row in rows), reverse=True)
    for row in rows:
        assert list(row) == FIELDS
        assert row["created_by"] == "max@hedgebox.dev"
    stripe, postgres = seeded(client, "Stripe"), seeded(client, "Postgres")
    assert set(stripe["job_inputs"]) == {"stripe_account_id"}  # stripe_secret_key is never shown
    assert set(postgres["job_inputs"]) == {"host", "port", "database", "user", "schema"}
    assert [s["name"] for s in postgres["schemas"]] == ["accounts", "files", "shares"]
    assert stripe["revenue_analytics_config"] == {"enabled": True, "include_invoiceless_charges": True}


def test_status_and_last_run_come_from_schemas_and_jobs(client):
    for source in client.get(BASE).get_json()["results"]:
        jobs = client.get(f"{BASE}{source['id']}/jobs/").get_json()
        completed = [job["created_at"] for job in jobs if job["status"] == "Completed"]
        assert source["last_run_at"] == max(completed, default=None)
        statuses = {s["status"] for s in source["schemas"] if s["should_sync"]}
        expected = next(
            label
            for status, label in [("Failed", "Failed"), ("Running", "Running"), ("Completed", "Completed")]
            if status in statuses
        )
        assert source["status"] == expected


def test_pagination(client):
    first = client.get(f"{BASE}?limit=2").get_json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["next"] == "http://localhost/api/projects/1/external_data_sources/?limit=2&offset=2"
    second = client.get(first["next"]).get_json()
    assert second["previous"] == "http://localhost/api/projects/1/external_data_sources/?limit=2"
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 3


def test_search_matches_source_id(client, backend):
    rows = backend.store.table(1, "external_data_sources").values()
    target = rows[1]
    fragment = target["_source_id"][4:12].upper()
    found = client.get(f"{BASE}?search={fragment}").get_json()
    assert [r["id"] for r in found["results"]] == [target["id"]]
    assert client.get(f"{BASE}?search=not-a-source-id").get_json()["count"] == 0


def test_create_round_trip(client, backend):
    backend.lifecycle.configure("external_data_jobs", "manual")  # keep syncs running
    created = client.post(BASE, json=stripe_body())
    assert created.status_code == 201
    body = created.get_json()
    assert list(body) == ["id"]
    source = client.get(f"{BASE}{body['id']}/").get_json()
    assert source["source_type"] == "Stripe" and source["prefix"] == "billing_"
    assert source["status"] == "Running" and source["last_run_at"] is None and source["latest_error"] is None
    assert source["job_inputs"] == {"stripe_account_id": "acct_123"}
    assert [(s["name"], s["should_sync"], s["status"], s["incremental"]) for s in source["schemas"]] == [
        ("Charge", True, "Running", True),
        ("Customer", True, "Running", False),
        ("Refund", False, None, False),
    ]
    assert "rk_live_secret" not in json.dumps(client.get(BASE).get_json())
    stored = backend.store.table(1, "external_data_sources").get(body["id"])
    assert stored["job_inputs"]["stripe_secret_key"] == "rk_live_secret"  # kept, only hidden
    jobs = client.get(f"{BASE}{body['id']}/jobs/").get_json()
    assert sorted(job["schema"]["name"] for job in jobs) == ["Charge", "Customer"]
    assert {job["status"] for job in jobs} == {"Running"}
    listed = client.get(BASE).get_json()
    assert listed["count"] == 4 and listed["results"][0] == source


def test_patch_merges_job_inputs_and_ignores_prefix(client):
    source = seeded(client, "Postgres")
    response = client.patch(
        f"{BASE}{source['id']}/",
        json={
            "prefix": "other_",
            "description": "Replica",
            "job_inputs": {"host": "replica.internal", "password": "new"},
        },
    )
    assert response.status_code == 200
    updated = response.get_json()
    assert updated["prefix"] == source["prefix"] and updated["description"] == "Replica"
    assert updated["job_inputs"] == {**source["job_inputs"], "host": "replica.internal"}
    assert client.get(f"{BASE}{source['id']}/").get_json() == updated


def test_put_requires_write_only_fields(client, refused):
    source = seeded(client, "Hubspot")
    url = f"{BASE}{source['id']}/"
    refused("put", url, {"description": "x"}, "required", "client_secret", "This field is required.")
    done = client.put(
        f"{BASE}{source['id']}/", json={"client_secret": "s", "account_id": "a", "description": "CRM"}
    ).get_json()
    assert done["description"] == "CRM" and "client_secret" not in done and "account_id" not in done


def test_delete_is_soft_and_final(client, backend):
    source = seeded(client, "Hubspot")
    assert client.delete(f"{ENV_BASE}{source['id']}/").status_code == 204
    assert client.get(f"{BASE}{source['id']}/").status_code == 404
    assert client.delete(f"{BASE}{source['id']}/").status_code == 404
    assert source["id"] not in [r["id"] for r in client.get(BASE).get_json()["results"]]
    assert backend.store.table(1, "external_data_sources").get(source["id"])["_deleted"] is True
    # The type is free again: a new Hubspot source needs no prefix.
    body = {
        "source_type": "Hubspot",
        "payload": {"hubspot_integration_id": 7, "schemas": [{"name": "deals"}]},
    }
    assert client.post(BASE, json=body).status_code == 201


def test_unknown_ids_are_404(client):
    for path in (
        "00000000-0000-4000-8000-000000000000/",
        "not-a-uuid/",
        "00000000-0000-4000-8000-000000000000/jobs/",
    ):
        response = client.get(BASE + path)
        assert response.status_code == 404
        assert response.get_json() == {
            "type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None,
        }  # fmt: skip


NO_PREFIX = (
    "You already have a source of this type. Add a table prefix so this connection's tables don't clash "
    "with your existing source."
)
TAKEN_PREFIX = (
    "Another source of this type already uses the prefix 'stripe_'. Choose a different prefix so this "
    "connection's tables don't clash."
)


@pytest.mark.parametrize(
    "body, message",
    [
        (stripe_body(prefix=None), NO_PREFIX),
        (stripe_body(prefix=""), NO_PREFIX),
        (stripe_body(prefix="stripe_"), TAKEN_PREFIX),
        (
            stripe_body(payload={"schemas": [{"name": "Charge"}]}),
            "Invalid source config: stripe_secret_key is required",
        ),
        (
            stripe_body(payload={"stripe_secret_key": "k", "schemas": "Charge"}),
            "The 'schemas' field must be a list of the tables to sync.",
        ),
        (
            stripe_body(payload={"stripe_secret_key": "k", "schemas": [{"name": "Nope"}]}),
            "Schemas given do not exist in source",
        ),
        (
            stripe_body(
                payload={
                    "stripe_secret_key": "k",
                    "schemas": [{"name": "Charge", "should_sync": True, "sync_type": "incremental"}],
                }
            ),
            "Incremental schemas given do not have an incremental field set",
        ),
        (
            stripe_body(
                payload={
                    "stripe_secret_key": "k",
                    "schemas": [
                        {
                            "name": "Charge",
                            "should_sync": True,
                            "sync_type": "append",
                            "incremental_field": "created",
                        }
                    ],
                }
            ),
            "Incremental schemas given do not have an incremental field type set",
        ),
        (
            {**POSTGRES_CREATE, "access_method": "direct", "source_type": "Stripe"},
            "Direct query mode is currently supported only for Postgres, MySQL, Snowflake, Redshift, "
            "ClickHouse, MotherDuck, and Trino sources.",
        ),
        (
            {**POSTGRES_CREATE, "access_method": "direct", "prefix": "  "},
            "Name is required for direct query sources",
        ),
    ],
)
def test_create_failures_are_bare_messages_and_change_nothing(client, backend, body, message):
    """ExternalDataSourceViewSet._create_external_data_source today: each refusal is a bare
    {"message"} 400 and nothing is stored; the prefix messages are the current ones
    (products/warehouse_sources/backend/presentation/views/external_data_source/source_setup.py)."""
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "body, code, detail, attr",
    [
        ({"payload": {}}, "required", "This field is required.", "source_type"),
        (
            {"source_type": "Excel", "payload": {}},
            "invalid_choice",
            '"Excel" is not a valid choice.',
            "source_type",
        ),
        ({"source_type": "Stripe"}, "required", "This field is required.", "payload"),
        (
            {**POSTGRES_CREATE, "access_method": "both"},
            "invalid_choice",
            '"both" is not a valid choice.',
            "access_method",
        ),
        (
            {**POSTGRES_CREATE, "created_via": "wizard"},
            "invalid_choice",
            '"wizard" is not a valid choice.',
            "created_via",
        ),
        (
            {**POSTGRES_CREATE, "prefix": "___"},
            "invalid_input",
            "Prefix cannot consist of only underscores",
            None,
        ),
        (
            {**POSTGRES_CREATE, "prefix": "9lives"},
            "invalid_input",
            "Prefix must contain only letters, numbers, and underscores, and start with a letter or "
            "underscore",
            None,
        ),
    ],
)
def test_create_serializer_errors(client, backend, body, code, detail, attr):
    """ExternalDataSourceCreateSerializer today: payload is a required DictField, access_method and
    created_via (web, api, mcp: wizard and self_driving are derived server-side) are choices; the
    prefix is checked by validate_source_prefix as a ValidationError (an envelope, not a bare message)
    (products/warehouse_sources/backend/presentation/views/external_data_source/source_setup.py)."""
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": code,
        "detail": detail,
        "attr": attr,
    }
    assert backend.store.dump() == before


def test_jobs_newest_first_with_filters(client):
    source = seeded(client, "Stripe")
    jobs = client.get(f"{BASE}{source['id']}/jobs/").get_json()
    assert len(jobs) == 6
    times = [job["created_at"] for job in jobs]
    assert times == sorted(times, reverse=True)
    assert set(jobs[0]) == {
        "id", "created_at", "created_by", "finished_at", "status", "schema", "rows_synced", "latest_error",
        "workflow_run_id",
    }  # fmt: skip
    assert all((job["finished_at"] is None) == (job["status"] == "Running") for job in jobs)
    middle = times[2]
    after = client.get(f"{BASE}{source['id']}/jobs/?after={middle}").get_json()
    assert [j["created_at"] for j in after] == times[:2]
    before = client.get(f"{BASE}{source['id']}/jobs/?before={middle}").get_json()
    assert [j["created_at"] for j in before] == times[3:]
    only = client.get(f"{BASE}{source['id']}/jobs/?schemas=Charge&schemas=Invoice").get_json()
    assert only and {j["schema"]["name"] for j in only} <= {"Charge", "Invoice"}
    assert len(only) == sum(j["schema"]["name"] in ("Charge", "Invoice") for j in jobs)


def test_jobs_are_capped_at_fifty(client):
    source = seeded(client, "Postgres")
    for _ in range(20):
        assert client.post(f"{BASE}{source['id']}/reload/").status_code == 200
    jobs = client.get(f"{BASE}{source['id']}/jobs/").get_json()
    assert len(jobs) == 50  # 6 seeded + 20 reloads x 3 schemas, newest 50


def test_reload_starts_a_sync(client, backend):
    backend.lifecycle.configure("external_data_jobs", "manual")  # keep syncs running
    source = seeded(client, "Stripe")
    before = client.get(f"{BASE}{source['id']}/jobs/").get_json()
    response = client.post(f"{ENV_BASE}{source['id']}/reload/")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Deprecation"] == "true"
    assert client.get(f"{BASE}{source['id']}/").get_json()["status"] == "Running"
    after = client.get(f"{BASE}{source['id']}/jobs/").get_json()
    syncing = [s["name"] for s in source["schemas"] if s["should_sync"]]
    assert len(after) == len(before) + len(syncing)
    assert sorted(j["schema"]["name"] for j in after[: len(syncing)]) == sorted(syncing)
    assert {j["status"] for j in after[: len(syncing)]} == {"Running"}


def test_refresh_schemas_adds_the_tables_the_source_gained(client):
    source = seeded(client, "Postgres")
    tables = client.post(
        f"{BASE}database_schema/",
        json={**POSTGRES, "port": 5432},
    ).get_json()
    response = client.post(f"{BASE}{source['id']}/refresh_schemas/")
    assert response.status_code == 200
    assert response.get_json() == {
        "added": len(tables) - 3, "deleted": 0, "auto_enabled": 0, "total_tables_seen": len(tables),
    }  # fmt: skip
    schemas = client.get(f"{BASE}{source['id']}/").get_json()["schemas"]
    assert [s["name"] for s in schemas] == ["accounts", "files", "shares"] + [
        t["table"] for t in tables if t["table"] not in ("accounts", "files", "shares")
    ]
    assert all(not s["should_sync"] for s in schemas[3:])
    again = client.post(f"{BASE}{source['id']}/refresh_schemas/").get_json()
    assert again == {"added": 0, "deleted": 0, "auto_enabled": 0, "total_tables_seen": len(tables)}


def test_refresh_schemas_syncs_new_tables_the_source_auto_syncs(client):
    """refresh_schemas' auto_enable_new_schemas (products/warehouse_sources/backend/models/
    external_data_schema.py): with auto_sync_new_schemas on, new tables whose name (or the tail
    after a schema prefix) matches a pattern (a glob, case-insensitive, stripped) sync at
    once, incrementally where the table has a field to sync on."""
    source = seeded(client, "Postgres")
    url = f"{BASE}{source['id']}/"
    tables = client.post(f"{BASE}database_schema/", json={**POSTGRES, "port": 5432}).get_json()
    new = [t for t in tables if t["table"] not in ("accounts", "files", "shares")]
    wanted = new[0]["table"]
    patched = client.patch(
        url, json={"auto_sync_new_schemas": True, "auto_sync_schema_patterns": [f" {wanted.upper()} "]}
    )
    assert patched.status_code == 200, patched.get_json()
    answer = client.post(f"{url}refresh_schemas/").get_json()
    assert answer == {"added": len(new), "deleted": 0, "auto_enabled": 1, "total_tables_seen": len(tables)}
    schemas = {s["name"]: s for s in client.get(url).get_json()["schemas"]}
    enabled = schemas[wanted]
    assert enabled["should_sync"] is True
    if new[0]["incremental_available"]:
        assert (
            enabled["sync_type"] == "incremental"
            and enabled["incremental_field"] == new[0]["incremental_field"]
        )
    else:
        assert enabled["sync_type"] == "full_refresh"
    assert not any(schemas[t["table"]]["should_sync"] for t in new[1:])


def test_revenue_analytics_config_is_partial(client):
    source = seeded(client, "Stripe")
    response = client.patch(f"{BASE}{source['id']}/revenue_analytics_config/", json={"enabled": False})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == FIELDS
    assert body["revenue_analytics_config"] == {"enabled": False, "include_invoiceless_charges": True}
    again = client.patch(
        f"{BASE}{source['id']}/revenue_analytics_config/", json={"include_invoiceless_charges": False}
    ).get_json()
    assert again["revenue_analytics_config"] == {"enabled": False, "include_invoiceless_charges": False}


def test_database_schema_describes_the_source_tables(client):
    response = client.post(
        f"{BASE}database_schema/", json={"source_type": "Stripe", "stripe_secret_key": "k"}
    )
    assert response.status_code == 200
    tables = response.get_json()
    names = [t["table"] for t in tables]
    assert {"Charge", "Customer", "Invoice", "Subscription"} <= set(names)
    charge = tables[names.index("Charge")]
    assert charge["should_sync"] is False and charge["sync_type"] is None and charge["rows"] is None
    assert charge["incremental_available"] is True and charge["incremental_field"] == "created"
    postgres = client.post(
        f"{BASE}database_schema/",
        json={**POSTGRES, "port": "5432"},
    ).get_json()
    assert all(isinstance(t["rows"], int) for t in postgres)


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "Missing required parameter: source_type"),
        ({"source_type": ""}, "Missing required parameter: source_type"),
        ({"source_type": "Excel"}, "Invalid parameter: source_type"),
        (
            {"source_type": "Postgres", "host": "h"},
            "Invalid source config: port is required, database is required, "
            "user is required, password is required, schema is required",
        ),
    ],
)
def test_database_schema_errors(client, backend, body, message):
    before = backend.store.dump()
    response = client.post(f"{BASE}database_schema/", json=body)
    assert response.status_code == 400 and response.get_json() == {"message": message}
    assert backend.store.dump() == before


SECOND_OF_A_TYPE = (
    "You already have a source of this type. Add a table prefix so this connection's tables don't clash "
    "with your existing source."
)
DIRECT_UNSUPPORTED = (
    "Direct query mode is currently supported only for Postgres, MySQL, Snowflake, Redshift, ClickHouse, "
    "MotherDuck, and Trino sources."
)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"source_type": "Stripe"}, SECOND_OF_A_TYPE),
        (
            {"source_type": "Postgres", "prefix": "app_db_"},
            "Another source of this type already uses the prefix 'app_db_'. Choose a different prefix so "
            "this connection's tables don't clash.",
        ),
        ({"source_type": "Stripe", "prefix": "billing_"}, None),
        ({"source_type": "Zendesk"}, None),
        # the create's format check is not the action's
        ({"source_type": "Zendesk", "prefix": "9 lives"}, None),
        (
            {"source_type": "Zendesk", "prefix": "managed_warehouse"},
            "This source name is reserved by PostHog.",
        ),
        # direct mode: the type and a non-blank name only, no uniqueness rule
        ({"source_type": "Postgres", "access_method": "direct", "prefix": "app_db_"}, None),
        ({"source_type": "Postgres", "access_method": "direct"}, "Name is required for direct query sources"),
        (
            {"source_type": "Postgres", "access_method": "direct", "prefix": "  "},
            "Name is required for direct query sources",
        ),
        ({"source_type": "Stripe", "access_method": "direct", "prefix": "live"}, DIRECT_UNSUPPORTED),
        (
            {"source_type": "Postgres", "access_method": "direct", "prefix": "managed_warehouse"},
            "This source name is reserved by PostHog.",
        ),
        ({"source_type": "Stripe", "access_method": "warehouse"}, SECOND_OF_A_TYPE),
    ],
)
def test_source_prefix(client, backend, body, message):
    """ExternalDataSourceViewSet.source_prefix today (products/data_warehouse/backend/api/
    external_data_source.py): the reserved name first (ExternalDataSource.is_system_managed_prefix,
    helpers.RESERVED_SOURCE_NAME_MESSAGE); with access_method "direct" only a direct-capable type
    (direct_capable_source_types) and a non-blank name, 200; otherwise the create's messages for a
    second source of a type without a prefix or with a taken one. Each refusal a bare 400
    ``{"message"}``, a pass 200 with no body, nothing stored."""
    before = backend.store.dump()
    response = client.post(f"{BASE}source_prefix/", json=body)
    if message is None:
        assert response.status_code == 200 and response.data == b""
    else:
        assert response.status_code == 400 and response.get_json() == {"message": message}
    assert backend.store.dump() == before


def test_wizard_covers_every_source_type(client):
    """The wizard answers every type of today's ExternalDataSourceTypeEnum (1,340 in @posthog/cli
    0.18.3's ExternalDataSourcesCreateBody; schemas/source_types.json, tools/derive_source_types.py)."""
    enum = json.loads(TYPES_FILE.read_text())["$defs"]["SourceType"]["enum"]
    assert len(enum) == 1340 and {"GoogleSearchConsole", "Amplemarket", "Stripe"} <= set(enum)
    wizard = client.get(f"{ENV_BASE}wizard/").get_json()
    assert list(wizard) == enum
    for name, config in wizard.items():
        assert config["name"] == name and config["fields"] and config["caption"]
    stripe_fields = {f["name"]: f for f in wizard["Stripe"]["fields"]}
    assert (
        stripe_fields["stripe_secret_key"]["type"] == "password"
        and stripe_fields["stripe_secret_key"]["required"]
    )
    assert [f["name"] for f in wizard["Postgres"]["fields"]] == [
        "host",
        "port",
        "database",
        "user",
        "password",
        "schema",
    ]
    assert (
        wizard["GoogleAds"]["label"] == "Google Ads" and wizard["GoogleAds"]["fields"][0]["type"] == "oauth"
    )


def _any_source(backend):
    return next(iter(backend.store.table(1, "external_data_sources").values()))


@pytest.mark.parametrize("after", ["2025-06-01", "2025-06-01T00:00:00", "2025-06-01T00:00:00Z"])
def test_jobs_after_a_date_or_naive_time_is_utc(client, backend, after):
    """ExternalDataSourceViewSet.jobs parses ?after=/?before= with dateutil and Django takes a naive
    result as UTC (products/data_warehouse/backend/api/external_data_source.py): no 500."""
    source = _any_source(backend)["id"]
    everything = client.get(f"/api/projects/1/external_data_sources/{source}/jobs/").get_json()
    response = client.get(f"/api/projects/1/external_data_sources/{source}/jobs/?after={after}")
    assert response.status_code == 200
    assert response.get_json() == [job for job in everything if job["created_at"] > "2025-06-01T00:00:00"]
    before = client.get(f"/api/projects/1/external_data_sources/{source}/jobs/?before=2025-06-01").get_json()
    assert before == [job for job in everything if job["created_at"] < "2025-06-01T00:00:00"]


def test_wizard_answers_only_the_asked_source_types(client):
    """ExternalDataSourceViewSet.wizard honours ?source_type=A,B, refuses unknown types with a bare
    400 message, and marks the answer private for ten minutes
    (products/data_warehouse/backend/api/external_data_source.py)."""
    response = client.get("/api/projects/1/external_data_sources/wizard/?source_type=Stripe, Postgres")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, max-age=600"
    body = response.get_json()
    assert set(body) == {"Stripe", "Postgres"} and body["Stripe"]["name"] == "Stripe"
    whole = client.get("/api/projects/1/external_data_sources/wizard/").get_json()
    assert body["Postgres"] == whole["Postgres"] and len(whole) > 2
    unknown = client.get("/api/projects/1/external_data_sources/wizard/?source_type=Stripe,Nope,Acme")
    assert unknown.status_code == 400
    assert unknown.get_json() == {
        "message": "Unknown source_type(s): Acme, Nope. Omit source_type to list every available type."
    }


def test_create_without_schemas_syncs_every_discovered_table(client, backend):
    """Today's create builds the default schemas when payload.schemas is omitted or empty
    (build_default_schemas, products/warehouse_sources/backend/temporal/data_imports/sources/common/
    schema.py): every table syncs, incrementally on its tracking column (updated_at first) where it
    has one, else as a full refresh. The older "Schemas not given" 400 is gone."""
    backend.lifecycle.configure("external_data_jobs", "manual")
    for schemas in ({}, {"schemas": []}):
        body = {**POSTGRES_CREATE, "prefix": f"copy{len(schemas)}_"}
        body["payload"] = {**body["payload"], **schemas}
        created = client.post(BASE, json=body)
        assert created.status_code == 201, created.get_json()
        source = client.get(f"{BASE}{created.get_json()['id']}/").get_json()
        shown = [
            (s["name"], s["should_sync"], s["sync_type"], s["incremental_field"]) for s in source["schemas"]
        ]
        assert shown == [
            ("accounts", True, "incremental", "updated_at"),
            ("users", True, "full_refresh", None),
            ("files", True, "incremental", "updated_at"),
            ("folders", True, "full_refresh", None),
            ("shares", True, "incremental", "updated_at"),
            ("invites", True, "incremental", "updated_at"),
            ("subscriptions", True, "incremental", "updated_at"),
            ("audit_log", True, "incremental", "updated_at"),
        ]
        assert source["status"] == "Running"


def test_a_schema_named_without_should_sync_does_not_sync(client):
    """PostHog reads each payload schema's should_sync with a default of False (source_setup.py)."""
    body = {**POSTGRES_CREATE, "payload": {**POSTGRES_CREATE["payload"], "schemas": [{"name": "accounts"}]}}
    created = client.post(BASE, json=body).get_json()
    source = client.get(f"{BASE}{created['id']}/").get_json()
    assert [(s["name"], s["should_sync"], s["sync_type"]) for s in source["schemas"]] == [
        ("accounts", False, None)
    ]
    assert client.get(f"{BASE}{created['id']}/jobs/").get_json() == []


def test_current_serializer_fields(client, backend):
    """ExternalDataSourceSerializers today adds created_via, access_method, direct_query_enabled,
    auto_sync_new_schemas, auto_sync_schema_patterns, engine, supports_webhooks (the source class is a
    WebhookSource: Stripe is), supports_column_selection (not for the managed-schema sources Stripe,
    Paddle, Zendesk), api_version and api_version_deprecation (source_serializers.py,
    external_data_schema/capabilities.py, sources/stripe/source.py)."""
    stripe, hubspot = seeded(client, "Stripe"), seeded(client, "Hubspot")
    assert {k: stripe[k] for k in FIELDS[FIELDS.index("access_method") : FIELDS.index("last_run_at")]} == {
        "access_method": "warehouse",
        "direct_query_enabled": False,
        "auto_sync_new_schemas": False,
        "auto_sync_schema_patterns": None,
        "engine": None,
    }
    assert stripe["created_via"] == "web"
    assert (stripe["supports_webhooks"], stripe["supports_column_selection"]) == (True, False)
    assert (hubspot["supports_webhooks"], hubspot["supports_column_selection"]) == (False, True)
    assert stripe["api_version"] is None and stripe["api_version_deprecation"] is None
    # A create without created_via is an API one; created_via is write-once, the auto-sync settings change.
    made = client.post(BASE, json=POSTGRES_CREATE).get_json()
    assert client.get(f"{BASE}{made['id']}/").get_json()["created_via"] == "api"
    changed = client.patch(
        f"{BASE}{made['id']}/",
        json={"created_via": "web", "auto_sync_new_schemas": True, "auto_sync_schema_patterns": ["raw_*"]},
    ).get_json()
    assert changed["created_via"] == "api"
    assert changed["auto_sync_new_schemas"] is True and changed["auto_sync_schema_patterns"] == ["raw_*"]
    mcp = client.post(BASE, json={**POSTGRES_CREATE, "prefix": "mcp_", "created_via": "mcp"}).get_json()
    assert client.get(f"{BASE}{mcp['id']}/").get_json()["created_via"] == "mcp"


@pytest.mark.parametrize(
    "created_via, user_agent, stored",
    [
        ("mcp", "posthog/wizard 1.0", "wizard"),
        ("mcp", "posthog/wizard 1.0 posthog/mcp-server", "wizard"),  # the outer caller wins
        ("mcp", "posthog/code 1.2.3 posthog/mcp-server", "self_driving"),
        ("mcp", "posthog/desktop.hog.dev 0.1.0", "self_driving"),
        ("mcp", "posthog/mcp-server 1.0", "mcp"),
        ("mcp", "some-random-agent/1.0", "mcp"),
        ("mcp", None, "mcp"),
        ("api", "posthog/wizard 1.0", "api"),  # explicit web/api values are left alone
        ("web", "posthog/code 1.2.3", "web"),
    ],
)
def test_an_mcp_create_is_upgraded_by_its_caller(client, created_via, user_agent, stored):
    """_create_external_data_source today (products/data_warehouse/backend/api/external_data_source.py)
    upgrades created_via "mcp" by the caller posthog/event_usage.py's get_event_source names from the
    User-Agent (its tests: posthog/wizard is the wizard, posthog/code and posthog/<app>.hog.dev are
    PostHog Code, the outer caller's token wins over posthog/mcp-server): the wizard to "wizard",
    PostHog Code to "self_driving"; any other caller keeps "mcp"."""
    headers = {"User-Agent": user_agent} if user_agent else {}
    body = {**POSTGRES_CREATE, "prefix": "via_", "created_via": created_via}
    made = client.post(BASE, json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert client.get(f"{BASE}{made.get_json()['id']}/").get_json()["created_via"] == stored


@pytest.mark.parametrize("access_method", ["warehouse", "direct"])
def test_the_reserved_name_is_refused_on_create(client, backend, access_method):
    """ExternalDataSource.is_system_managed_prefix comes before every other prefix rule of the create:
    "managed_warehouse" names the warehouse PostHog provisions itself (a bare 400, nothing stored)."""
    before = backend.store.dump()
    body = {**POSTGRES_CREATE, "prefix": "managed_warehouse", "access_method": access_method}
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {"message": "This source name is reserved by PostHog."}
    assert backend.store.dump() == before


def test_supports_webhooks_is_true_for_every_webhook_source(client):
    """get_supports_webhooks is isinstance(source, WebhookSource): today's registry has 28 such
    classes (Stripe, Slack, Github, Paddle, RevenueCat, ... each sources/<type>/source.py), so
    supports_webhooks is true for each of them and false for the rest (Hubspot, Postgres)."""
    from mockhog.resources.external_data_sources import WEBHOOK_SOURCES

    assert len(WEBHOOK_SOURCES) == 28
    assert {"Stripe", "Slack", "Github", "Paddle", "Calendly", "WooCommerce"} <= WEBHOOK_SOURCES
    for source_type, webhooks in (("Slack", True), ("Paddle", True), ("Hubspot", False)):
        fields = client.get(f"{BASE}wizard/?source_type={source_type}").get_json()[source_type]["fields"]
        payload = {f["name"]: "x" for f in fields if f.get("required")}
        made = client.post(BASE, json={"source_type": source_type, "prefix": "hooks_", "payload": payload})
        assert made.status_code == 201, made.get_json()
        source = client.get(f"{BASE}{made.get_json()['id']}/").get_json()
        assert source["supports_webhooks"] is webhooks, source_type


def test_a_current_source_type_is_created(client):
    """GoogleSearchConsole is one of today's source types (not in the 2025 list): a create of it
    passes the serializer's choice and reaches the view's own config checks (the wizard fields of the
    types mockhog has no table for are derived generically: an API key)."""
    response = client.post(BASE, json={"source_type": "GoogleSearchConsole", "payload": {}})
    assert response.status_code == 400
    assert response.get_json() == {
        "message": "Invalid source config: google_search_console_api_key is required"
    }
    made = client.post(
        BASE,
        json={"source_type": "GoogleSearchConsole", "payload": {"google_search_console_api_key": 3}},
    )
    assert made.status_code == 201


def test_a_direct_query_source_is_stored_without_a_sync(client):
    """access_method "direct" (a live-query connection) for a direct-capable type: named by its
    prefix (stripped), created with no sync jobs (source_setup.py)."""
    made = client.post(BASE, json={**POSTGRES_CREATE, "access_method": "direct", "prefix": " live "})
    assert made.status_code == 201
    source = client.get(f"{BASE}{made.get_json()['id']}/").get_json()
    assert source["access_method"] == "direct" and source["prefix"] == "live"
    assert client.get(f"{BASE}{source['id']}/jobs/").get_json() == []


TRINO = {"host": "trino.example.com", "port": 443, "user": "u", "password": "p", "catalog": "hive"}


def test_trino_is_a_direct_connection_only(client, backend):
    """TrinoSource declares supports_scheduled_sync = False
    (products/warehouse_sources/backend/temporal/data_imports/sources/trino/source.py), and
    _create_external_data_source refuses a warehouse (synced) create of such a type after the prefix
    checks: a bare 400 "<label> is available only as a direct connection.", nothing stored; as a
    direct connection it is created (external_data_source.py)."""
    before = backend.store.dump()
    response = client.post(BASE, json={"source_type": "Trino", "prefix": "lake_", "payload": TRINO})
    assert response.status_code == 400
    assert response.get_json() == {"message": "Trino is available only as a direct connection."}
    assert backend.store.dump() == before
    direct = {"source_type": "Trino", "prefix": "lake", "payload": TRINO, "access_method": "direct"}
    made = client.post(BASE, json=direct)
    assert made.status_code == 201, made.get_json()


def test_a_credential_id_mockhog_never_stored_is_refused(client, backend):
    """ExternalDataSourceViewSet._resolve_stored_credential (external_data_source.py): a
    payload.credential_id names connection details the user stored on the connect-link page; one that
    is not found (mockhog serves no such page, so none is ever stored) is a bare 400 before any other
    check, nothing stored. A null credential_id is popped and ignored: it never reaches job_inputs."""
    before = backend.store.dump()
    for credential_id in ("0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 7):
        body = {**POSTGRES_CREATE, "prefix": "managed_warehouse"}
        body["payload"] = {**body["payload"], "credential_id": credential_id}
        response = client.post(BASE, json=body)
        assert response.status_code == 400
        assert response.get_json() == {"message": f"Stored credential '{credential_id}' not found or expired"}
    assert backend.store.dump() == before
    body = {**POSTGRES_CREATE, "payload": {**POSTGRES_CREATE["payload"], "credential_id": None}}
    made = client.post(BASE, json=body)
    assert made.status_code == 201
    assert "credential_id" not in client.get(f"{BASE}{made.get_json()['id']}/").get_json()["job_inputs"]


# -- the actions of today's viewset mixins ---------------------------------------------------------
# products/warehouse_sources/backend/presentation/views/external_data_source/ (connection_options.py,
# schema_operations.py, change_data_capture.py, webhook_setup.py, source_setup.py). mockhog reaches no
# database and no vendor API: where PostHog would, it answers as PostHog does when the connection
# cannot be made, and the error text names mockhog (the driver's own text cannot be reproduced).
VIEWS = "products/warehouse_sources/backend/presentation/views/external_data_source/"
OFFLINE = "mockhog is an offline stand-in for PostHog and opens no network connections"


def test_connections_lists_the_live_queryable_sources(client):
    """ExternalDataSourceConnectionOptionsMixin.connections (connection_options.py): the sources of a
    direct-capable type that are direct connections or synced with direct queries on, newest first,
    as ExternalDataSourceConnectionOptionSerializer; a synced source without the toggle, and any
    type with no direct engine, is left out."""
    assert client.get(f"{BASE}connections/").get_json() == []  # the seeded sources are all synced
    direct = client.post(BASE, json={**POSTGRES_CREATE, "access_method": "direct", "prefix": "live"})
    synced = client.post(BASE, json={**POSTGRES_CREATE, "prefix": "synced_", "direct_query_enabled": True})
    client.post(BASE, json={**POSTGRES_CREATE, "prefix": "plain_"})
    client.post(BASE, json=stripe_body(direct_query_enabled=True))
    response = client.get(f"{BASE}connections/")
    assert response.status_code == 200
    rows = response.get_json()
    assert [row["id"] for row in rows] == [synced.get_json()["id"], direct.get_json()["id"]]
    assert rows[1] == {
        "id": direct.get_json()["id"],
        "prefix": "live",
        "engine": None,
        "source_type": "Postgres",
        "access_method": "direct",
        "supports_hogql": True,
        "is_builtin_managed_warehouse": False,
        "description": None,
    }
    assert rows[0]["access_method"] == "warehouse"
    assert client.get(f"{ENV_BASE}connections/").get_json() == rows


def test_bulk_update_schemas_changes_each_schema_and_answers_them(client):
    """ExternalDataSourceSchemaOperationsMixin.bulk_update_schemas (schema_operations.py): each entry
    is applied as ExternalDataSchemaSerializer.update applies it, and the answer is the updated
    schemas in the request's order; the source shows them."""
    stripe = seeded(client, "Stripe")
    charge, customer = stripe["schemas"][0], stripe["schemas"][1]
    body = {
        "schemas": [
            {"id": customer["id"], "sync_type": "full_refresh", "sync_frequency": "24hour"},
            {"id": charge["id"], "should_sync": False},
        ]
    }
    response = client.patch(f"{BASE}{stripe['id']}/bulk_update_schemas/", json=body)
    assert response.status_code == 200, response.get_json()
    answered = response.get_json()
    assert [schema["id"] for schema in answered] == [customer["id"], charge["id"]]
    assert answered[0] == {
        **customer,
        "sync_type": "full_refresh",
        "incremental": False,
        "sync_frequency": "24hour",
    }
    assert answered[1] == {**charge, "should_sync": False}
    shown = {schema["id"]: schema for schema in client.get(f"{BASE}{stripe['id']}/").get_json()["schemas"]}
    assert shown[customer["id"]] == answered[0] and shown[charge["id"]] == answered[1]


@pytest.mark.parametrize(
    ("schemas", "code", "detail", "attr"),
    [
        ([], "empty", "This list may not be empty.", "schemas"),
        ([{"should_sync": True}], "required", "This field is required.", "schemas__0__id"),
        ([{"id": "nope"}], "invalid_input", "Must be a valid UUID.", "schemas__0__id"),
        ([{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}], "invalid_input",
         "One or more schemas could not be found for this source", None),
        (["{charge}", "{charge}"], "invalid_input", "Schema updates must contain unique ids", None),
        ([{"id": "{charge}", "sync_type": "weekly"}], "invalid_choice", '"weekly" is not a valid choice.',
         "schemas__0__sync_type"),
        ([{"id": "{charge}", "sync_frequency": "2hour"}, {"id": "{customer}", "should_sync": False}],
         "invalid_choice", '"2hour" is not a valid choice.', "sync_frequency"),
    ],
)  # fmt: skip
def test_bulk_update_schemas_refusals_write_nothing(client, refused, schemas, code, detail, attr):
    """bulk_update_schemas (schema_operations.py): the batch serializer's field errors, then ids that
    repeat or are none of the source's (another source's schema is not this one's), then each item's
    ExternalDataSchemaSerializer(partial=True).is_valid, all before anything is written: a
    validation_error, nothing changed."""
    stripe = seeded(client, "Stripe")
    ids = {"{charge}": stripe["schemas"][0]["id"], "{customer}": stripe["schemas"][1]["id"]}

    def resolve(item):
        if isinstance(item, str):
            return {"id": ids[item]}
        return {k: ids.get(v, v) if isinstance(v, str) else v for k, v in item.items()}

    refused("patch", f"{BASE}{stripe['id']}/bulk_update_schemas/", {"schemas": [resolve(s) for s in schemas]},
            code, attr, detail)  # fmt: skip


def test_bulk_update_schemas_ids_are_the_sources_own(client, refused):
    """A schema of another source is not found on this one (the lookup filters on source_id)."""
    stripe, hubspot = seeded(client, "Stripe"), seeded(client, "Hubspot")
    body = {"schemas": [{"id": hubspot["schemas"][0]["id"], "should_sync": False}]}
    refused("patch", f"{BASE}{stripe['id']}/bulk_update_schemas/", body, "invalid_input", None,
            "One or more schemas could not be found for this source")  # fmt: skip
    assert (
        client.patch(
            f"{BASE}0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/bulk_update_schemas/", json=body
        ).status_code
        == 404
    )


def test_a_schema_the_update_refuses_is_reported_and_the_rest_are_saved(client, backend):
    """ExternalDataSchemaSerializer.update's refusals (external_data_schema.py) happen while each
    schema is saved in its own transaction: bulk_update_schemas saves the others and answers
    BulkSchemaSaveError (an APIException: invalid_request, bulk_schema_save_failed, 400) naming each
    failed schema and why. CDC and xmin syncs are behind team flags mockhog's team does not have."""
    stripe = seeded(client, "Stripe")
    charge, customer, refund = stripe["schemas"][:3]
    body = {
        "schemas": [
            {"id": charge["id"], "sync_type": "cdc"},
            {"id": customer["id"], "should_sync": False},
            {"id": refund["id"], "sync_type": "xmin"},
        ]
    }
    response = client.patch(f"{BASE}{stripe['id']}/bulk_update_schemas/", json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "bulk_schema_save_failed",
        "detail": f"These schemas in the batch could not be saved: {charge['name']} (CDC is not enabled for "
        f"this team); {refund['name']} (xmin replication is only available for Postgres sources.). Any other "
        "schemas in the batch were saved successfully — retry the ones listed here.",
        "attr": None,
    }
    shown = {s["id"]: s for s in client.get(f"{BASE}{stripe['id']}/").get_json()["schemas"]}
    assert shown[customer["id"]]["should_sync"] is False
    assert shown[charge["id"]] == charge and shown[refund["id"]] == refund


@pytest.mark.parametrize(
    ("source_type", "change", "reason"),
    [
        ("Postgres", {"sync_type": "xmin"}, "xmin replication is not enabled for this team"),
        ("Stripe", {"enabled_columns": ["id"]}, "Column selection is not supported for this source type."),
        ("Stripe", {"incremental_field": "updated"},
         "incremental_field cannot be applied to a schema with sync type full_refresh on its own. Include "
         "sync_type in the same request to change the sync type."),
        ("Stripe", {"sync_type": "webhook"},
         f"Failed to register webhook on your source: {OFFLINE}. You can set up the webhook manually "
         "from the Webhook tab."),
    ],
)  # fmt: skip
def test_the_schema_updates_posthog_refuses(client, backend, source_type, change, reason):
    """ExternalDataSchemaSerializer.update (external_data_schema.py): xmin on Postgres only and behind
    its flag, no column selection on a managed-schema source (Stripe, Paddle, Zendesk), no bare
    incremental-field edit on a schema whose sync type cannot use it. A webhook sync registers the
    webhook with the vendor while the schema is saved, which mockhog cannot do."""
    source = seeded(client, source_type)
    schema = source["schemas"][0]
    if "incremental_field" in change:  # the seeded schemas sync incrementally: one is made a full refresh
        url = f"{BASE}{source['id']}/bulk_update_schemas/"
        client.patch(url, json={"schemas": [{"id": schema["id"], "sync_type": "full_refresh"}]})
    before = backend.store.dump()
    response = client.patch(
        f"{BASE}{source['id']}/bulk_update_schemas/", json={"schemas": [{"id": schema["id"], **change}]}
    )
    assert response.status_code == 400
    assert response.get_json()["detail"] == (
        f"These schemas in the batch could not be saved: {schema['name']} ({reason}). Any other schemas in "
        "the batch were saved successfully — retry the ones listed here."
    )
    assert backend.store.dump() == before


def test_enabling_a_schema_needs_a_sync_type_or_the_discovered_defaults(client):
    """A schema with no sync type cannot be enabled alone ("Sync type must be set up first before
    enabling schema"); apply_sync_defaults fills in what build_default_sync_settings picks for the
    table (_fill_default_sync_settings), so the same request enables it."""
    stripe = seeded(client, "Stripe")
    added = client.post(f"{BASE}{stripe['id']}/refresh_schemas/").get_json()["added"]
    assert added > 0
    fresh = next(
        s for s in client.get(f"{BASE}{stripe['id']}/").get_json()["schemas"] if s["sync_type"] is None
    )
    url = f"{BASE}{stripe['id']}/bulk_update_schemas/"
    response = client.patch(url, json={"schemas": [{"id": fresh["id"], "should_sync": True}]})
    assert response.status_code == 400
    assert "(Sync type must be set up first before enabling schema)" in response.get_json()["detail"]
    response = client.patch(
        url, json={"schemas": [{"id": fresh["id"], "should_sync": True, "apply_sync_defaults": True}]}
    )
    assert response.status_code == 200
    (schema,) = response.get_json()
    assert schema["should_sync"] is True
    # build_default_schemas' choice for the table (an incremental field where it has one)
    default = next(c for c in default_schemas("Stripe") if c["name"] == fresh["name"])
    assert {k: schema[k] for k in default if k != "name"} == {k: v for k, v in default.items() if k != "name"}


def test_check_cdc_prerequisites_cannot_reach_the_database(client, backend):
    """ExternalDataSourceCDCMixin.check_cdc_prerequisites (change_data_capture.py): a CDC source type
    (Postgres, Supabase), its config, the management mode, each a bare 400; then PostHog checks the
    prerequisites on a live Postgres connection, which mockhog cannot open: PostHog's 400 for a
    connection that fails. Nothing is stored."""
    before = backend.store.dump()
    url = f"{BASE}check_cdc_prerequisites/"
    config = {k: v for k, v in POSTGRES.items() if k != "source_type"} | {"port": 5432}
    unsupported = "CDC prerequisite checks are only supported for CDC enabled sources."
    cases = [
        ({}, unsupported),
        ({"source_type": "MySQL", **config}, unsupported),
        ({"source_type": "Postgres", **config, "host": ""}, "Invalid source config: host is required"),
        ({"source_type": "Postgres", **config, "cdc_management_mode": "manual"},
         "cdc_management_mode must be 'posthog' or 'self_managed'."),
        ({"source_type": "Supabase", **config, "cdc_management_mode": "self_managed"},
         f"Could not connect to Postgres to check prerequisites: {OFFLINE} (h:5432)"),
    ]  # fmt: skip
    for body, message in cases:
        response = client.post(url, json=body)
        assert (response.status_code, response.get_json()) == (400, {"message": message}), body
    assert backend.store.dump() == before


def test_repair_cdc_needs_a_cdc_source_with_cdc_syncing(client, backend):
    """ExternalDataSourceCDCMixin.repair_cdc (change_data_capture.py) and repair_cdc_source: a type with
    no CDC adapter, CDC not enabled on the source, no active CDC schema: each a bare 400."""
    before = backend.store.dump()
    stripe, postgres = seeded(client, "Stripe"), seeded(client, "Postgres")
    assert client.post(f"{BASE}{stripe['id']}/repair_cdc/").get_json() == {
        "message": "CDC is not supported for source type: Stripe"
    }
    response = client.post(f"{BASE}{postgres['id']}/repair_cdc/")
    assert (response.status_code, response.get_json()) == (
        400,
        {"message": "CDC is not enabled on this source."},
    )
    assert backend.store.dump() == before
    client.patch(f"{BASE}{postgres['id']}/", json={"job_inputs": {"cdc_enabled": True}})
    response = client.post(f"{BASE}{postgres['id']}/repair_cdc/")
    assert response.get_json() == {"message": "There are no active CDC schemas on this source to repair."}
    assert client.post(f"{BASE}0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/repair_cdc/").status_code == 404


def test_webhook_info_of_a_source_type_without_webhooks(client):
    """ExternalDataSourceWebhookSetupMixin.webhook_info (webhook_setup.py): not a WebhookSource, so
    no inputs and no missing_events (WebhookInfoResponseSerializer omits them)."""
    postgres = seeded(client, "Postgres")
    assert client.get(f"{BASE}{postgres['id']}/webhook_info/").get_json() == {
        "supports_webhooks": False,
        "exists": False,
        "auto_creation_blocked_reason": None,
        "hog_function": None,
        "webhook_url": None,
        "schema_mapping": {},
        "external_status": None,
    }
    for action in ("create_webhook", "update_webhook_inputs", "delete_webhook"):
        response = client.post(f"{BASE}{postgres['id']}/{action}/", json={"inputs": {"signing_secret": "s"}})
        assert (response.status_code, response.get_json()) == (
            400, {"message": "This source type does not support webhooks"}
        ), action  # fmt: skip


def test_a_stripe_webhook_is_made_kept_for_manual_setup_and_deleted(client, backend):
    """webhook_setup.py: create_webhook makes the warehouse_source_webhook function, then registers its
    URL with Stripe (sources/stripe/stripe.py create_webhook); that call fails offline, so the answer is
    200 success false with Stripe's failure message, and the function stays for a manual setup.
    webhook_info then shows it (the status the CDP service reports nothing for, HogFunction.DEFAULT_STATE)
    and Stripe's status read fails the same way; update_webhook_inputs stores the signing secret, which
    the info shows as a secret; delete_webhook removes the function while Stripe's delete fails."""
    stripe = seeded(client, "Stripe")
    url = f"{BASE}{stripe['id']}/"
    assert client.get(f"{url}webhook_info/").get_json() == {
        "supports_webhooks": True,
        "exists": False,
        "auto_creation_blocked_reason": None,
        "hog_function": None,
        "webhook_url": None,
        "schema_mapping": {},
        "inputs": {},
        "external_status": None,
        "missing_events": [],
    }
    missing = client.post(f"{url}update_webhook_inputs/", json={"inputs": {"signing_secret": "whsec_1"}})
    assert missing.get_json() == {
        "message": "No webhook function found for this source. Create a webhook first."
    }
    made = client.post(f"{url}create_webhook/", json={})
    assert made.status_code == 200
    created = made.get_json()
    assert created["success"] is False and created["pending_inputs"] == []
    assert created["error"] == f"Failed to create webhook automatically: {OFFLINE}"
    assert created["webhook_url"].startswith("http://localhost/public/webhooks/dwh/")
    hook_id = created["webhook_url"].rsplit("/", 1)[1]
    again = client.post(f"{url}create_webhook/", json={}).get_json()
    assert again["webhook_url"] == created["webhook_url"]  # the same function, updated

    info = client.get(f"{url}webhook_info/").get_json()
    assert info["exists"] is True and info["webhook_url"] == created["webhook_url"]
    assert info["hog_function"]["id"] == hook_id
    assert info["hog_function"]["name"] == "Stripe warehouse source webhook"
    assert info["hog_function"]["enabled"] is True
    assert info["hog_function"]["status"] == {"state": 0, "tokens": 0, "rating": 0}
    assert info["schema_mapping"] == {} and info["inputs"] == {} and info["missing_events"] == []
    assert info["external_status"] == {
        "exists": False, "url": None, "enabled_events": None, "status": None, "description": None,
        "created_at": None, "api_version": None, "error": f"Failed to check webhook status: {OFFLINE}",
    }  # fmt: skip

    stored = client.post(f"{url}update_webhook_inputs/", json={"inputs": {"signing_secret": "whsec_1"}})
    assert (stored.status_code, stored.get_json()) == (200, {"success": True})
    assert client.get(f"{url}webhook_info/").get_json()["inputs"] == {"signing_secret": {"secret": True}}

    deleted = client.post(f"{url}delete_webhook/")
    assert deleted.get_json() == {
        "success": True,
        "external_deleted": False,
        "error": f"Failed to delete webhook: {OFFLINE}",
    }
    assert client.get(f"{url}webhook_info/").get_json()["exists"] is False
    assert client.post(f"{url}delete_webhook/").get_json() == {
        "success": True, "external_deleted": False, "error": None
    }  # fmt: skip


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("create_webhook", {"inputs": {"api_key": "x"}}, "Invalid webhook inputs"),
        ("create_webhook", {"inputs": ["signing_secret"]}, "Invalid webhook inputs"),
        ("create_webhook", {"inputs": {"signing_secret": ""}}, "Missing required fields: signing_secret"),
        ("update_webhook_inputs", {}, "No inputs provided"),
        ("update_webhook_inputs", {"inputs": "whsec"}, "No inputs provided"),
        ("update_webhook_inputs", {"inputs": {"b": 1, "a": 2}}, "Invalid input keys: a, b"),
        (
            "update_webhook_inputs",
            {"inputs": {"signing_secret": ""}},
            "Missing required fields: signing_secret",
        ),
    ],
)
def test_webhook_input_refusals_change_nothing(client, backend, action, body, message):
    """create_webhook and update_webhook_inputs (webhook_setup.py) accept only the source's
    webhookFields (Stripe's: a required signing_secret), refused before anything is stored."""
    stripe = seeded(client, "Stripe")
    before = backend.store.dump()
    response = client.post(f"{BASE}{stripe['id']}/{action}/", json=body)
    assert (response.status_code, response.get_json()) == (400, {"message": message})
    assert backend.store.dump() == before


def test_preview_resource_reads_a_custom_manifest_and_cannot_reach_its_api(client, backend, refused):
    """ExternalDataSourceSetupMixin.preview_resource (source_setup.py): SourcePreviewRequestSerializer
    (limit 1 to 50), then only source_type Custom, its config (CustomSource.get_source_config: a
    required manifest_json), a manifest that is JSON, a resource the manifest has; then a live read of
    the resource's URL, which mockhog cannot make: PostHog's 200 for a failed live read, no rows and
    the error set. Nothing is stored."""
    before = backend.store.dump()
    url = f"{BASE}preview_resource/"
    manifest = {
        "client": {"base_url": "https://api.example.com/v1/"},
        "resources": [{"name": "users", "endpoint": {"path": "/users"}}],
    }
    good = {
        "source_type": "Custom",
        "payload": {"manifest_json": json.dumps(manifest)},
        "resource_name": "users",
    }
    response = client.post(url, json=good)
    assert response.status_code == 200
    assert response.get_json() == {
        "rows": [],
        "row_count": 0,
        "columns": [],
        "error": f"Could not reach https://api.example.com/v1/users: {OFFLINE}",
    }
    cases = [
        ({**good, "source_type": "Postgres"}, "Preview is not supported for source type 'Postgres'."),
        ({**good, "payload": {}}, "Invalid source config: manifest_json is required"),
        ({**good, "payload": {"manifest_json": "{"}},
         "Manifest is not valid JSON: Expecting property name enclosed in double quotes (line 1, col 2)"),
        ({**good, "resource_name": "orders"}, "Resource 'orders' not found in manifest"),
    ]  # fmt: skip
    for body, message in cases:
        answer = client.post(url, json=body)
        assert (answer.status_code, answer.get_json()) == (400, {"message": message}), body
    refused(
        "post",
        url,
        {**good, "limit": 51},
        "max_value",
        "limit",
        "Ensure this value is less than or equal to 50.",
    )
    refused("post", url, {k: v for k, v in good.items() if k != "resource_name"}, "required", "resource_name",
            "This field is required.")  # fmt: skip
    assert backend.store.dump() == before


def _published_errors(backend, template: str, method: str, body) -> list[str]:
    """What the served document's request schema for the operation says of a body."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = backend.openapi()
    schema = document["paths"][template][method]["requestBody"]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        "openapi.json", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": "openapi.json" + schema["$ref"]}, registry=registry)
    return [error.message for error in validator.iter_errors(body)]


def test_jobs_take_a_blank_bound_and_refuse_unreadable_text(client, backend):
    """ExternalDataSourceJobRunsMixin.jobs (products/warehouse_sources/backend/presentation/views/
    external_data_source/job_runs.py) parses after/before only when given (blank: no bound), and
    answers text dateutil cannot read with one ValidationError naming both."""
    source = _any_source(backend)["id"]
    everything = client.get(f"{BASE}{source}/jobs/").get_json()
    assert client.get(f"{BASE}{source}/jobs/?after=&before=").get_json() == everything
    response = client.get(f"{BASE}{source}/jobs/?before=soon")
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "after and before must be ISO 8601 timestamps.",
        "attr": None,
    }
    query = backend.openapi()["paths"]["/api/projects/{project_id}/external_data_sources/{id}/jobs/"]["get"]
    after = next(p for p in query["parameters"] if p["name"] == "after")["schema"]
    assert {"maxLength": 0} in after["anyOf"]


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"source_type": "Stripe", "access_method": "direct", "prefix": "live", "payload": {}},
            "Direct query mode is currently supported only for Postgres, MySQL, Snowflake, Redshift, "
            "ClickHouse, MotherDuck, and Trino sources.",
        ),
        (
            {"source_type": "Postgres", "access_method": "direct", "prefix": "  ", "payload": {}},
            "Name is required for direct query sources",
        ),
        (
            {"source_type": "Trino", "prefix": "lake_", "payload": {}},
            "Trino is available only as a direct connection.",
        ),
        (
            {"source_type": "Klaviyo", "prefix": "managed_warehouse", "payload": {}},
            "This source name is reserved by PostHog.",
        ),
    ],
)
def test_create_publishes_the_direct_connection_rules(client, backend, body, message):
    """_create_external_data_source (products/warehouse_sources/backend/presentation/views/
    external_data_source/source_setup.py) refuses, before anything is stored, a reserved prefix, a
    direct connection of a type with no direct engine (direct_capable_source_types) or with a blank
    name, and a warehouse sync of a direct-only source: rules of the body alone, so the served
    document states them (a direct connection's name is not held to the table-prefix format)."""
    response = client.post(BASE, json=body)
    assert response.status_code == 400 and response.get_json() == {"message": message}
    assert _published_errors(backend, "/api/projects/{project_id}/external_data_sources/", "post", body)
    direct = {"source_type": "Postgres", "access_method": "direct", "prefix": "My live db", "payload": {}}
    assert not _published_errors(backend, "/api/projects/{project_id}/external_data_sources/", "post", direct)


def test_update_webhook_inputs_publishes_that_it_needs_inputs(client, backend):
    """update_webhook_inputs (products/warehouse_sources/backend/presentation/views/
    external_data_source/webhook_setup.py) answers 'No inputs provided' unless inputs is an object
    with a key; create_webhook takes an object or a value read as false, refusing anything else."""
    stripe = next(
        row["id"] for row in client.get(BASE).get_json()["results"] if row["source_type"] == "Stripe"
    )
    template = "/api/projects/{project_id}/external_data_sources/{id}/"
    for body in ({}, {"inputs": {}}, {"inputs": ["signing_secret"]}):
        response = client.post(f"{BASE}{stripe}/update_webhook_inputs/", json=body)
        assert response.status_code == 400 and response.get_json() == {"message": "No inputs provided"}
        assert _published_errors(backend, template + "update_webhook_inputs/", "post", body)
    response = client.post(f"{BASE}{stripe}/create_webhook/", json={"inputs": "signing_secret"})
    assert response.status_code == 400 and response.get_json() == {"message": "Invalid webhook inputs"}
    assert _published_errors(backend, template + "create_webhook/", "post", {"inputs": "signing_secret"})
    assert not _published_errors(backend, template + "create_webhook/", "post", {"inputs": None})
    assert client.post(f"{BASE}{stripe}/create_webhook/", json={"inputs": None}).status_code == 200


def test_source_prefix_publishes_the_direct_connection_rules_on_the_body_as_sent(client, backend):
    """ExternalDataSourceViewSet.source_prefix (products/warehouse_sources/backend/presentation/
    views/external_data_source/source_setup.py) reads request.data itself: a direct connection
    needs a direct-capable source_type and a prefix that is text with something besides blanks, and
    nothing is trimmed or made text first, so the served document publishes those fields as sent."""
    template = "/api/projects/{project_id}/external_data_sources/source_prefix/"
    for body in (
        {"access_method": "direct", "prefix": "live"},
        {"access_method": "direct", "source_type": "Stripe", "prefix": "x"},
    ):
        response = client.post(f"{BASE}source_prefix/", json=body)
        assert response.status_code == 400
        assert response.get_json()["message"].startswith("Direct query mode is currently supported only")
        assert _published_errors(backend, template, "post", body)
    named = {"access_method": "direct", "source_type": "Postgres", "prefix": " live db "}
    assert client.post(f"{BASE}source_prefix/", json=named).status_code == 200
    assert not _published_errors(backend, template, "post", named)
    numbered = {"access_method": "direct", "source_type": "Postgres", "prefix": 0}
    assert client.post(f"{BASE}source_prefix/", json=numbered).status_code == 400
    assert _published_errors(backend, template, "post", numbered)


def test_create_trims_the_prefix_before_its_rules(client, backend):
    """ExternalDataSourceCreateSerializer's prefix is a CharField (source_serializers.py): it is
    trimmed (and a number made text) before _create_external_data_source checks it, so a table
    prefix in blanks is a prefix and a number names a direct connection; a warehouse prefix that is
    a number starts with a digit, which validate_source_prefix refuses."""
    template = "/api/projects/{project_id}/external_data_sources/"
    padded = {"source_type": "Klaviyo", "prefix": "  mail_ ", "payload": {"klaviyo_api_key": "pk_1"}}
    assert not _published_errors(backend, template, "post", padded)
    created = client.post(BASE, json=padded)
    assert created.status_code == 201
    assert client.get(f"{BASE}{created.get_json()['id']}/").get_json()["prefix"] == "mail_"
    numbered = {"source_type": "Klaviyo", "prefix": 5, "payload": {"klaviyo_api_key": "pk_1"}}
    assert client.post(BASE, json=numbered).status_code == 400
    assert _published_errors(backend, template, "post", numbered)
