"""The real ``posthog-node``, unchanged, against a live mockhog: capture, identify, alias, group identify
and flush seen through REST, and its remote flags (``POST /flags/?v=2``) equal to its own local
evaluation of ``/flags/definitions`` for 200 distinct ids.

Runs where Node and npm are installed: the SDK is installed once (``npm install``, see
tests/node_packages.py) into a cache directory (``$MOCKHOG_NODE_CACHE``, default
``~/.cache/mockhog/node-sdk``), in bounded time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from node_packages import cache_dir, npm_install

POSTHOG_NODE = "posthog-node@5.70.0"
INSTALL_SECONDS = 240
RUN_SECONDS = 240
SEEDED_FLAGS = ("new-onboarding", "pricing-page-test", "paid-features", "homepage-banner")
SCRIPT = Path(__file__).with_name("node") / "sdk_check.mjs"


@pytest.fixture(scope="module")
def posthog_node() -> Path:
    target = cache_dir("MOCKHOG_NODE_CACHE", "node-sdk")
    return npm_install([POSTHOG_NODE], target, "the posthog-node test", INSTALL_SECONDS) / "posthog-node"


def _rest(mockhog, path):
    response = requests.get(f"{mockhog.url}/api/projects/1/{path}", headers=mockhog.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_posthog_node_against_mockhog(mockhog, posthog_node, tmp_path):
    people_file = tmp_path / "people.json"
    people = [
        [p["distinct_ids"][0], p["properties"]] for p in _rest(mockhog, "persons/?limit=200")["results"]
    ]
    assert len(people) == 200
    people_file.write_text(json.dumps(people))
    command = [
        "node",
        str(SCRIPT),
        str(posthog_node),
        mockhog.url,
        mockhog.project_token,
        mockhog.api_key,
        str(people_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    # capture, identify, alias, group identify, flush: seen through the REST routes
    signup = mockhog.assert_captured(
        "node_signed_up", distinct_id="node-anon", properties={"plan": "team"}, times=1
    )
    assert signup[0]["properties"]["$lib"] == "posthog-node"
    person = _rest(mockhog, "persons/?distinct_id=node-anon")["results"][0]
    assert set(person["distinct_ids"]) == {"node-anon", "node-user", "node-user-2"}
    assert person["properties"]["email"] == "node@hedgebox.dev"
    events = {e["event"] for e in _rest(mockhog, f"events/?person_id={person['id']}")["results"]}
    assert {"node_signed_up", "$identify", "$create_alias", "node_file_shared"} <= events
    group = _rest(mockhog, "groups/find/?group_type_index=0&group_key=node-org")
    assert group["group_properties"] == {"name": "Node Org"}
    assert _rest(mockhog, "event_definitions/by_name/?name=node_file_shared")["name"] == "node_file_shared"
    mockhog.assert_called(path="/flags/definitions")
    mockhog.assert_called(method="POST", path="/flags/")

    # remote equals local, id for id
    assert result["ready"] is True
    seen: dict[str, set] = {key: set() for key in SEEDED_FLAGS}
    for row in result["evaluations"]:
        for key in SEEDED_FLAGS:
            remote, local = row["remote"]["featureFlags"].get(key), row["local"]["featureFlags"].get(key)
            assert remote == local, (key, row["distinctId"])
            assert row["remote"]["featureFlagPayloads"].get(key) == row["local"]["featureFlagPayloads"].get(
                key
            )
            seen[key].add(remote)
    assert seen["new-onboarding"] == {True, False}
    assert seen["pricing-page-test"] == {"control", "test-a", "test-b"}
    assert seen["paid-features"] == {True, False} and seen["homepage-banner"] == {True, False}
