"""The real ``posthog`` package, unchanged, against a live mockhog (a real socket, the ``mockhog`` fixture).

What it sends is its own: ``POST /batch/`` (gzip off by default), ``POST /flags/?v=4`` and
``GET /flags/definitions?token=...&send_cohorts`` with the personal API key. Its local evaluator is
PostHog's algorithm, so it is the reference the remote answers are held to, id for id.
"""

from __future__ import annotations

import warnings

import pytest
import requests

posthog = pytest.importorskip(
    "posthog", reason="the posthog package is a test dependency: pip install -e '.[test]'"
)
from posthog import Posthog  # noqa: E402

SEEDED_FLAGS = ("new-onboarding", "pricing-page-test", "paid-features", "homepage-banner")


@pytest.fixture(autouse=True)
def _quiet_deprecations():
    # the SDK marks get_feature_flag & co. deprecated in favour of evaluate_flags(); both are served
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _rest(mockhog, path):
    response = requests.get(f"{mockhog.url}/api/projects/1/{path}", headers=mockhog.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_capture_identify_alias_group_and_flush(mockhog):
    """Events, persons, groups and event definitions the SDK's calls produce, read back through REST."""
    client = Posthog(mockhog.project_token, host=mockhog.url, gzip=True)
    client.capture(
        "user_signed_up", distinct_id="anon-42", properties={"plan": "pro", "$set_once": {"ref": "docs"}}
    )
    client.capture(
        "$identify",
        distinct_id="user-42",
        properties={"$anon_distinct_id": "anon-42", "$set": {"email": "user42@hedgebox.dev"}},
    )
    client.alias(previous_id="user-42", distinct_id="user-42-mobile")
    client.group_identify("organization", "hedgebox-labs", {"name": "Hedgebox Labs", "seats": 12})
    client.capture("file_uploaded", distinct_id="user-42", groups={"organization": "hedgebox-labs"})
    client.flush()
    client.shutdown()

    signup = mockhog.assert_captured(
        "user_signed_up", distinct_id="anon-42", properties={"plan": "pro"}, times=1
    )[0]
    assert signup["properties"]["$lib"] == "posthog-python"
    mockhog.assert_captured(
        "file_uploaded", properties={"$groups": {"organization": "hedgebox-labs"}}, times=1
    )

    person = _rest(mockhog, "persons/?distinct_id=anon-42")["results"][0]
    assert set(person["distinct_ids"]) == {"anon-42", "user-42", "user-42-mobile"}
    assert person["properties"] == {"ref": "docs", "email": "user42@hedgebox.dev"}
    assert person == _rest(mockhog, "persons/?distinct_id=user-42-mobile")["results"][0]

    events = _rest(mockhog, f"events/?person_id={person['id']}")["results"]
    assert {e["event"] for e in events} >= {"user_signed_up", "$identify", "$create_alias", "file_uploaded"}
    assert {e["id"] for e in events} == {
        e["uuid"] for e in mockhog.captured() if e["event"] != "$groupidentify"
    }

    group = _rest(mockhog, "groups/find/?group_type_index=0&group_key=hedgebox-labs")
    assert group["group_properties"] == {"name": "Hedgebox Labs", "seats": 12}

    definition = _rest(mockhog, "event_definitions/by_name/?name=user_signed_up")
    assert definition["last_seen_at"] >= signup["received_at"][:19]


def _people(mockhog, count):
    persons = _rest(mockhog, f"persons/?limit={count}")["results"]
    assert len(persons) == count
    return [(person["distinct_ids"][0], person["properties"]) for person in persons]


def test_remote_evaluation_equals_the_sdks_local_evaluation(mockhog):
    """For 200 distinct ids: a 50 % boolean flag, a 3-variant flag, a person-property flag and a payload
    flag evaluated by /flags/ equal the SDK's own local evaluation of /flags/definitions, id for id."""
    remote = Posthog(mockhog.project_token, host=mockhog.url, sync_mode=True)
    local = Posthog(mockhog.project_token, host=mockhog.url, personal_api_key=mockhog.api_key, sync_mode=True)
    local.load_feature_flags()
    assert {flag["key"] for flag in local.feature_flags} == set(SEEDED_FLAGS)

    seen: dict[str, set] = {key: set() for key in SEEDED_FLAGS}
    for distinct_id, properties in _people(mockhog, 200):
        answer = remote.get_all_flags_and_payloads(distinct_id)
        reference = local.get_all_flags_and_payloads(
            distinct_id, person_properties=properties, only_evaluate_locally=True
        )
        for key in SEEDED_FLAGS:
            assert answer["featureFlags"].get(key) == reference["featureFlags"].get(key), (key, distinct_id)
            assert answer["featureFlagPayloads"].get(key) == reference["featureFlagPayloads"].get(key), key
            seen[key].add(answer["featureFlags"].get(key))
    # the ids exercise every outcome, so the comparison cannot pass by all being off
    assert seen["new-onboarding"] == {True, False}
    assert seen["pricing-page-test"] == {"control", "test-a", "test-b"}
    assert seen["paid-features"] == {True, False}
    assert seen["homepage-banner"] == {True, False}
    remote.shutdown()
    local.shutdown()


def test_single_flag_calls_and_feature_flag_called_events(mockhog):
    """get_feature_flag / payload over /flags/ and the $feature_flag_called event the SDK sends back."""
    mockhog.set_flag("checkout-v2", "fast", payload={"steps": 2})
    client = Posthog(mockhog.project_token, host=mockhog.url, sync_mode=True)
    assert client.get_feature_flag("checkout-v2", "buyer-1") == "fast"
    assert client.get_feature_flag_payload("checkout-v2", "buyer-1") == {"steps": 2}
    assert client.feature_enabled("paid-features", "buyer-1", person_properties={"plan": "team"}) is True
    mockhog.assert_captured(
        "$feature_flag_called",
        distinct_id="buyer-1",
        properties={"$feature_flag": "checkout-v2", "$feature_flag_response": "fast"},
    )
    client.shutdown()


def test_set_flag_is_seen_by_local_evaluation(mockhog):
    """mockhog.set_flag declares a flag the SDK loads for local evaluation at once."""
    mockhog.set_flag("beta-users", person_properties={"plan": "enterprise"})
    mockhog.set_flag("kill-switch", False)
    local = Posthog(mockhog.project_token, host=mockhog.url, personal_api_key=mockhog.api_key, sync_mode=True)
    local.load_feature_flags()
    enterprise = {"plan": "enterprise"}
    assert local.get_feature_flag("beta-users", "x", person_properties=enterprise, only_evaluate_locally=True)
    assert not local.get_feature_flag(
        "beta-users", "x", person_properties={"plan": "free"}, only_evaluate_locally=True
    )
    assert local.get_feature_flag("kill-switch", "x", only_evaluate_locally=True) is False
    local.shutdown()


def test_remote_config_payload(mockhog):
    """get_remote_config_payload: GET .../feature_flags/<key>/remote_config?token=... with the key."""
    body = {
        "key": "site-config",
        "is_remote_configuration": True,
        "filters": {"groups": [{}], "payloads": {"true": {"theme": "dark"}}},
    }
    created = requests.post(
        f"{mockhog.url}/api/projects/1/feature_flags/", json=body, headers=mockhog.headers
    )
    assert created.status_code == 201
    client = Posthog(
        mockhog.project_token, host=mockhog.url, personal_api_key=mockhog.api_key, sync_mode=True
    )
    assert client.get_remote_config_payload("site-config") == '{"theme": "dark"}'
    mockhog.assert_called("feature_flags_remote_config_retrieve", times=1)
    client.shutdown()


def test_the_sdk_retries_a_failed_batch(mockhog):
    """A fault rule (503 once) on capture: the SDK's own retry delivers the event."""
    mockhog.fault(operation_id="capture_batch", status=503, count=1)
    client = Posthog(mockhog.project_token, host=mockhog.url)
    client.capture("retried_event", distinct_id="patient-user")
    client.flush()
    client.shutdown()
    mockhog.assert_captured("retried_event", distinct_id="patient-user", times=1)
    statuses = [entry.status for entry in mockhog.calls(path="/batch/")]
    assert statuses[:2] == [503, 200]
