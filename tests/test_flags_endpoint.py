"""/flags/, /decide/ and the definitions SDKs poll, evaluated from the stored flags.

Sources: rust/feature-flags in PostHog/posthog (api/endpoint.rs get_versioned_response and
get_minimal_flags_response, api/types.rs FlagsResponse / LegacyFlagsResponse / FlagDetails,
api/errors.rs messages); posthog/models/feature_flag/local_evaluation.py for the definitions.
"""

import gzip
import json

import pytest

from mockhog.flags import bucket
from mockhog.resources.identity import api_token


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


def _flags(client, token, query="?v=4", **body):
    return client.post(f"/flags/{query}", json={"token": token, "distinct_id": "someone", **body})


def test_v4_answers_flag_details(anonymous, token):
    """v>=2 is FlagsResponse: flags keyed by key with enabled, variant, reason, metadata (types.rs)."""
    body = _flags(anonymous, token).get_json()
    assert set(body) >= {"errorsWhileComputingFlags", "flags", "requestId", "evaluatedAt"}
    assert body["errorsWhileComputingFlags"] is False
    assert set(body["flags"]) == {"new-onboarding", "pricing-page-test", "paid-features", "homepage-banner"}
    variant = body["flags"]["pricing-page-test"]
    assert variant["enabled"] is True and variant["variant"] in ("control", "test-a", "test-b")
    assert variant["reason"] == {
        "code": "condition_match",
        "condition_index": 0,
        "description": "Matched condition set 1",
    }
    assert variant["metadata"] == {
        "id": 2,
        "version": 1,
        "description": None,
        "payload": None,
        "has_experiment": False,
    }


def test_v2_and_v4_are_the_same_format(anonymous, token):
    """Outside decide, every v>=2 is FlagsV2 (endpoint.rs get_versioned_response)."""
    two, four = _flags(anonymous, token, "?v=2").get_json(), _flags(anonymous, token).get_json()
    assert two["flags"] == four["flags"]


def test_no_version_is_v2_with_config(anonymous, token):
    """Without v and config the service answers v=2 with config=true (endpoint.rs)."""
    body = _flags(anonymous, token, "").get_json()
    assert "flags" in body and body["supportedCompression"] == ["gzip", "gzip-js"]


def test_v1_is_the_legacy_response(anonymous, token):
    """v=1: LegacyFlagsResponse, featureFlags values and featureFlagPayloads for flags with one (types.rs)."""
    body = _flags(anonymous, token, "?v=1", person_properties={"$geoip_country_code": "US"}).get_json()
    assert set(body["featureFlags"]) == {
        "new-onboarding",
        "pricing-page-test",
        "paid-features",
        "homepage-banner",
    }
    assert body["featureFlags"]["homepage-banner"] is True
    assert json.loads(body["featureFlagPayloads"]["homepage-banner"]) == {
        "headline": "Share files in one click",
        "color": "blue",
    }


def test_decide_versions(anonymous, token):
    """Through decide: v=1 active keys, v=2 active values, v=3 legacy, v=4 flag details (endpoint.rs)."""
    body = {"token": token, "distinct_id": "someone", "person_properties": {"plan": "free"}}
    one = anonymous.post("/decide/?v=1", json=body).get_json()
    assert isinstance(one["featureFlags"], list) and "paid-features" not in one["featureFlags"]
    two = anonymous.post("/decide/?v=2", json=body).get_json()
    assert "paid-features" not in two["featureFlags"] and "pricing-page-test" in two["featureFlags"]
    three = anonymous.post("/decide/?v=3", json=body).get_json()
    assert three["featureFlags"]["paid-features"] is False and "featureFlagPayloads" in three
    four = anonymous.post("/decide/?v=4", json=body).get_json()
    assert four["flags"]["paid-features"]["enabled"] is False
    assert "supportedCompression" in one  # decide always carries the config


def test_rollout_follows_the_hash(anonymous, token):
    """A 50 % condition holds exactly the ids whose hash is at most 0.5 (flag_matching)."""
    for number in range(40):
        distinct_id = f"user-{number}"
        body = _flags(anonymous, token, distinct_id=distinct_id).get_json()
        assert body["flags"]["new-onboarding"]["enabled"] is (bucket("new-onboarding", distinct_id) <= 0.5)


def test_stored_person_properties_overridden_by_the_request(anonymous, backend, token):
    """Person properties come from the person, and person_properties in the request win."""
    person = next(p for p in backend.store.table(1, "persons").values() if p["properties"]["plan"] == "pro")
    distinct_id = person["distinct_ids"][0]
    stored = _flags(anonymous, token, distinct_id=distinct_id).get_json()["flags"]["paid-features"]
    assert stored["enabled"] is True
    overridden = _flags(
        anonymous, token, distinct_id=distinct_id, person_properties={"plan": "free"}
    ).get_json()
    flag = overridden["flags"]["paid-features"]
    assert flag["enabled"] is False and flag["reason"]["code"] == "no_condition_match"


def test_flag_keys_to_evaluate_and_inactive_flags(client, token):
    """flag_keys_to_evaluate narrows the answer; inactive flags are left out."""
    client.patch("/api/projects/1/feature_flags/1/", json={"active": False})
    body = _flags(client, token, flag_keys_to_evaluate=["new-onboarding", "paid-features"]).get_json()
    assert set(body["flags"]) == {"paid-features"}


def test_posthog_js_request_fields(anonymous, token):
    """FlagRequest's serde aliases: posthog-js's ``flag_keys``; ``$token``, ``$distinct_id``,
    ``$properties``; a numeric distinct id is its text (deserialize_distinct_id)."""
    narrowed = anonymous.post(
        "/flags/?v=2",
        json={"token": token, "distinct_id": "someone", "flag_keys": ["paid-features"], "timezone": "UTC"},
    ).get_json()
    assert set(narrowed["flags"]) == {"paid-features"}
    aliased = anonymous.post("/flags/?v=2", json={"$token": token, "$distinct_id": 8675309}).get_json()
    assert aliased["flags"]
    by_number = anonymous.post("/flags/?v=2", json={"token": token, "distinct_id": "8675309"}).get_json()
    assert {k: f["enabled"] for k, f in aliased["flags"].items()} == {
        k: f["enabled"] for k, f in by_number["flags"].items()
    }


def test_group_flags(client, token):
    """A flag aggregated by group buckets by the group key; without the group it is no_group_type."""
    filters = {
        "aggregation_group_type_index": 0,
        "groups": [
            {
                "properties": [{"key": "tier", "type": "group", "value": "gold", "group_type_index": 0}],
                "rollout_percentage": 100,
            }
        ],
    }
    assert (
        client.post(
            "/api/projects/1/feature_flags/", json={"key": "org-beta", "filters": filters}
        ).status_code
        == 201
    )
    none = _flags(client, token).get_json()["flags"]["org-beta"]
    assert none["enabled"] is False and none["reason"]["code"] == "no_group_type"
    gold = _flags(
        client, token, groups={"organization": "acme"}, group_properties={"organization": {"tier": "gold"}}
    ).get_json()
    assert gold["flags"]["org-beta"]["enabled"] is True


def test_gzip_request_body(anonymous, token):
    """The flags service reads gzip bodies (compression=gzip or the magic bytes)."""
    packed = gzip.compress(json.dumps({"token": token, "distinct_id": "z"}).encode())
    response = anonymous.post("/flags/?v=4&compression=gzip", data=packed, content_type="application/json")
    assert response.status_code == 200 and "flags" in response.get_json()


def _auth_error(code, detail):
    return {"type": "authentication_error", "code": code, "detail": detail, "attr": None}


def test_token_errors_are_drf_shaped_json(anonymous):
    """NoTokenError and TokenValidationError answer AuthenticationErrorResponse JSON (api/errors.rs)."""
    missing = anonymous.post("/flags/?v=4", json={"distinct_id": "d"})
    assert missing.status_code == 401
    assert missing.get_json() == _auth_error(
        "not_authenticated", "No API token provided. Please include a valid API token in your request."
    )
    wrong = anonymous.post("/flags/?v=4", json={"token": "phc_nobody", "distinct_id": "d"})
    assert wrong.status_code == 401
    assert wrong.get_json() == _auth_error(
        "authentication_failed",
        "The provided API key is invalid or has expired. Please check your API key and try again.",
    )


@pytest.mark.parametrize("distinct_id", [None, ""])
def test_missing_distinct_id_is_plain_text(anonymous, token, distinct_id):
    """MissingDistinctId: 400 with the plain-text message (api/errors.rs)."""
    body = {"token": token} if distinct_id is None else {"token": token, "distinct_id": distinct_id}
    response = anonymous.post("/flags/?v=4", json=body)
    message = "The distinct_id field is missing from the request. Please include a valid identifier."
    assert (response.status_code, response.get_data(as_text=True), response.mimetype) == (
        400,
        message,
        "text/plain",
    )


def test_cohort_conditions_and_a_missing_cohort(client, token):
    """A cohort condition matches the cohort's property group; a cohort marked deleted is one the
    flags service no longer loads (``c.deleted = false`` in its cohort query), so the flag fails
    (failed: true, reason dependency_not_found_cohort) and sets errorsWhileComputingFlags
    (api/types.rs FlagDetails::create_error, api/errors.rs evaluation_error_code). The flag's own
    validation still takes the deleted cohort: ``Cohort.objects.get`` filters nothing
    (posthog/api/feature_flag.py, CohortManager in posthog/models/cohort/cohort.py), while the
    cohort's own delete is refused while an active flag uses it (posthog/api/cohort.py)."""
    rule = {"key": "plan", "type": "person", "operator": "exact", "value": ["team"]}
    group = {"type": "OR", "values": [{"type": "AND", "values": [rule]}]}
    made = client.post("/api/projects/1/cohorts/", json={"name": "Teams", "filters": {"properties": group}})
    assert made.status_code == 201, made.get_json()
    cohort = made.get_json()["id"]
    filters = {
        "groups": [
            {"properties": [{"key": "id", "type": "cohort", "value": cohort}], "rollout_percentage": 100}
        ]
    }
    assert (
        client.post(
            "/api/projects/1/feature_flags/", json={"key": "for-teams", "filters": filters}
        ).status_code
        == 201
    )
    team = _flags(client, token, person_properties={"plan": "team"}).get_json()
    assert team["flags"]["for-teams"]["enabled"] is True and team["errorsWhileComputingFlags"] is False
    definitions = client.get(f"/flags/definitions?token={token}&send_cohorts").get_json()
    assert definitions["cohorts"][str(cohort)] == made.get_json()["filters"]["properties"]
    # PostHog refuses to delete a cohort an active flag uses; switched off, the flag lets it go, and
    # switching it back on checks nothing (validate_filters runs only when filters are sent).
    flag = client.get("/api/projects/1/feature_flags/?search=for-teams").get_json()["results"][0]["id"]
    assert client.patch(f"/api/projects/1/feature_flags/{flag}/", json={"active": False}).status_code == 200
    assert client.patch(f"/api/projects/1/cohorts/{cohort}/", json={"deleted": True}).status_code == 200
    assert client.patch(f"/api/projects/1/feature_flags/{flag}/", json={"active": True}).status_code == 200
    gone = _flags(client, token).get_json()
    assert gone["errorsWhileComputingFlags"] is True
    assert gone["flags"]["for-teams"]["failed"] is True and gone["flags"]["for-teams"]["enabled"] is False
    assert gone["flags"]["for-teams"]["reason"] == {
        "code": "dependency_not_found_cohort",
        "condition_index": 0,
        "description": "Cohort dependency not found",
    }
    assert "failed" not in gone["flags"]["new-onboarding"]
    definitions = client.get(f"/flags/definitions?token={token}&send_cohorts").get_json()
    assert str(cohort) not in definitions["cohorts"]
    again = client.post(
        "/api/projects/1/feature_flags/", json={"key": "for-deleted-teams", "filters": filters}
    )
    assert again.status_code == 201, again.get_json()


def test_get_is_the_minimal_response(anonymous):
    """GET answers an empty flags response with the minimal config (get_minimal_flags_response)."""
    body = anonymous.get("/flags/?v=2").get_json()
    assert body["flags"] == {} and body["isAuthenticated"] is False
    legacy = anonymous.get("/flags/").get_json()
    assert legacy["featureFlags"] == {} and legacy["featureFlagPayloads"] == {}
    assert anonymous.put("/flags/").status_code == 405


def test_definitions_need_a_key_and_a_token(anonymous, token):
    """/flags/definitions: personal or project secret key, and the project token (flag_definitions)."""
    url = f"/flags/definitions?token={token}&send_cohorts"
    none = anonymous.get(url)
    assert none.status_code == 401
    assert none.get_json() == _auth_error(
        "not_authenticated", "Authentication credentials were not provided."
    )
    bad = anonymous.get(url, headers={"Authorization": "Bearer phx_wrong"})
    assert bad.status_code == 401
    assert bad.get_json() == _auth_error("authentication_failed", "Personal API key is invalid.")
    secret = anonymous.get(url, headers={"Authorization": "Bearer phs_wrong"})
    assert secret.get_json() == _auth_error("authentication_failed", "Secret API token is invalid.")
    good = anonymous.get(url, headers={"Authorization": "Bearer phx_mockhog_default_key"})
    assert good.status_code == 200 and set(good.get_json()) == {"flags", "group_type_mapping", "cohorts"}
    legacy = anonymous.get(
        f"/api/feature_flag/local_evaluation/?token={token}",
        headers={"Authorization": "Bearer phx_mockhog_default_key"},
    )
    assert legacy.get_json() == good.get_json()
