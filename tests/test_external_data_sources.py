"""External data sources: CRUD, PostHog's bare {"message"} errors, jobs, sync actions and the wizard."""

import json
from pathlib import Path

import pytest

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
    assert response.get_json() == {"added": len(tables) - 3, "deleted": 0}
    schemas = client.get(f"{BASE}{source['id']}/").get_json()["schemas"]
    assert [s["name"] for s in schemas] == ["accounts", "files", "shares"] + [
        t["table"] for t in tables if t["table"] not in ("accounts", "files", "shares")
    ]
    assert all(not s["should_sync"] for s in schemas[3:])
    assert client.post(f"{BASE}{source['id']}/refresh_schemas/").get_json() == {"added": 0, "deleted": 0}


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
