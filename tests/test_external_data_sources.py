"""External data sources: CRUD, PostHog's bare {"message"} errors, jobs, sync actions and the wizard."""

import json
from pathlib import Path

import pytest

BASE = "/api/projects/1/external_data_sources/"
ENV_BASE = "/api/environments/1/external_data_sources/"
FIELDS = [
    "id", "created_at", "created_by", "status", "source_type", "latest_error", "prefix", "description",
    "last_run_at", "schemas", "job_inputs", "revenue_analytics_config", "user_access_level",
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
                },
                {"name": "Customer", "should_sync": True, "sync_type": "full_refresh"},
                {"name": "Refund", "should_sync": False, "sync_type": "full_refresh"},
            ],
        },
    }
    body.update(changes)
    return body


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


@pytest.mark.parametrize(
    "body, message",
    [
        (stripe_body(prefix=None), "Source type already exists. Prefix is required"),
        (stripe_body(prefix=""), "Source type already exists. Prefix is required"),
        (stripe_body(prefix="stripe_"), "Prefix already exists"),
        (
            stripe_body(payload={"schemas": [{"name": "Charge"}]}),
            "Invalid source config: stripe_secret_key is required",
        ),
        (stripe_body(payload={"stripe_secret_key": "k"}), "Schemas not given"),
        (stripe_body(payload={"stripe_secret_key": "k", "schemas": []}), "Schemas not given"),
        (
            stripe_body(payload={"stripe_secret_key": "k", "schemas": [{"name": "Nope"}]}),
            "Schemas given do not exist in source",
        ),
        (
            stripe_body(
                payload={
                    "stripe_secret_key": "k",
                    "schemas": [{"name": "Charge", "sync_type": "incremental"}],
                }
            ),
            "Incremental schemas given do not have an incremental field set",
        ),
    ],
)
def test_create_failures_are_bare_messages_and_change_nothing(client, backend, body, message):
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "body, code, detail",
    [
        ({"payload": {}}, "required", "This field is required."),
        ({"source_type": "Excel"}, "invalid_choice", '"Excel" is not a valid choice.'),
    ],
)
def test_create_serializer_errors(client, backend, body, code, detail):
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": code,
        "detail": detail,
        "attr": "source_type",
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


@pytest.mark.parametrize(
    "body, message",
    [
        ({"source_type": "Stripe"}, "Source type already exists. Prefix is required"),
        ({"source_type": "Postgres", "prefix": "app_db_"}, "Prefix already exists"),
        ({"source_type": "Stripe", "prefix": "billing_"}, None),
        ({"source_type": "Zendesk"}, None),
    ],
)
def test_source_prefix(client, backend, body, message):
    before = backend.store.dump()
    response = client.post(f"{BASE}source_prefix/", json=body)
    if message is None:
        assert response.status_code == 200 and response.data == b""
    else:
        assert response.status_code == 400 and response.get_json() == {"message": message}
    assert backend.store.dump() == before


def test_wizard_covers_every_source_type(client):
    enum = json.loads(SCHEMA_FILE.read_text())["$defs"]["SourceType"]["enum"]
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
