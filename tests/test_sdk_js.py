"""The real ``posthog-js`` (its npm bundle, unchanged) in a jsdom page against a live mockhog.

The page is served from another origin than mockhog, and jsdom's XMLHttpRequest applies CORS as a
browser does, so the SDK's requests reach mockhog only if its CORS answers let them: the remote
config script (``/array/<token>/config.js``), ``/flags/?v=2``, capture on the config's analytics
endpoint (``/i/v0/e/``, gzip), and a second instance sending uncompressed JSON, whose every POST is
preflighted. What the SDK did is then read back through the REST API and ``captured()``.

Runs where Node and npm are installed: posthog-js and jsdom are installed once (see
tests/node_packages.py) into ``$MOCKHOG_POSTHOG_JS_CACHE`` (default ``~/.cache/mockhog/posthog-js``),
in bounded time; skipped, saying why, elsewhere.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from node_packages import cache_dir, npm_install

POSTHOG_JS = "posthog-js@1.449.2"
JSDOM = "jsdom@29.1.1"  # the newest jsdom that runs on Node 20
RUN_SECONDS = 120
SCRIPT = Path(__file__).with_name("node") / "posthog_js_check.mjs"
PAGE_ORIGIN = "http://localhost:5173"
FLAGS = ("new-onboarding", "pricing-page-test", "js-banner")


@pytest.fixture(scope="module")
def node_modules() -> Path:
    target = cache_dir("MOCKHOG_POSTHOG_JS_CACHE", "posthog-js")
    return npm_install([POSTHOG_JS, JSDOM], target, "the posthog-js test")


def _rest(mockhog, path):
    response = requests.get(f"{mockhog.url}/api/projects/1/{path}", headers=mockhog.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _remote(mockhog, distinct_id, **person_properties):
    body = {
        "token": mockhog.project_token,
        "distinct_id": distinct_id,
        "person_properties": person_properties,
    }
    response = requests.post(f"{mockhog.url}/flags/?v=2", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return {key: flag["variant"] or flag["enabled"] for key, flag in response.json()["flags"].items()}


def test_posthog_js_in_a_page(mockhog, node_modules):
    mockhog.set_flag("js-banner", payload={"color": "teal"}, person_properties={"email": "js@hedgebox.dev"})
    command = [
        "node",
        str(SCRIPT),
        str(node_modules),
        mockhog.url,
        mockhog.project_token,
        PAGE_ORIGIN,
        json.dumps(FLAGS),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    anon = seen["anonId"]

    # init: the remote config script, then the flags; gzip chosen from supportedCompression
    mockhog.assert_called(method="GET", path=f"/array/{mockhog.project_token}/config.js")
    mockhog.assert_called(method="POST", path="/flags/")
    assert seen["compression"] == "gzip-js"
    gzipped = [
        c for c in mockhog.calls(path="/i/v0/e/") if c.status == 200 and c.body["compression"] == "gzip"
    ]
    assert gzipped, "posthog-js should capture on the config's analytics endpoint, gzip-compressed"

    # capture and identify: the anonymous events merged into the identified person
    signup = mockhog.assert_captured("js_signed_up", distinct_id=anon, properties={"plan": "team"}, times=1)
    assert signup[0]["properties"]["$lib"] == "web"
    assert signup[0]["properties"]["$lib_version"] == POSTHOG_JS.split("@")[1]
    assert seen["distinctId"] == "js-user"
    mockhog.assert_captured("$identify", distinct_id="js-user", properties={"$anon_distinct_id": anon})
    person = _rest(mockhog, "persons/?distinct_id=js-user")["results"][0]
    assert {anon, "js-user", "js-user-2"} <= set(person["distinct_ids"])
    assert person["properties"]["email"] == "js@hedgebox.dev"
    assert person["properties"]["first_seen_page"] == "/signup"
    events = {e["event"] for e in _rest(mockhog, f"events/?person_id={person['id']}&limit=100")["results"]}
    assert {"js_signed_up", "$identify", "$create_alias", "js_file_shared"} <= events

    # group: the group, and the event tagged with it
    group = _rest(mockhog, "groups/find/?group_type_index=0&group_key=js-org")
    assert group["group_properties"] == {"name": "JS Org"}
    shared = mockhog.assert_captured("js_file_shared", distinct_id="js-user", times=1)[0]
    assert shared["properties"]["$groups"] == {"organization": "js-org"}
    assert shared["properties"]["$group_0"] == "js-org"

    # flags: what the SDK holds is mockhog's evaluation, before identify (the anonymous id had no
    # email yet: now it shares the identified person's, so the request passes none) and after
    before = _remote(mockhog, anon, email=None)
    assert seen["before"]["values"] == {k: v for k, v in before.items() if k in FLAGS}
    after = _remote(mockhog, "js-user", email="js@hedgebox.dev")
    assert seen["after"]["values"] == {k: v for k, v in after.items() if k in FLAGS}
    assert seen["before"]["values"]["js-banner"] is False
    assert seen["after"]["values"]["js-banner"] is True
    assert seen["after"]["payloads"]["js-banner"] == {"color": "teal"}
    called = mockhog.assert_captured("$feature_flag_called", properties={"$feature_flag": "js-banner"})
    assert called[-1]["properties"]["$feature_flag_response"] is True

    # the uncompressed instance: application/json POSTs pass only after a preflight
    mockhog.assert_captured("js_plain_event", properties={"through": "preflight"}, times=1)
    plain = [c for c in mockhog.calls(path="/i/v0/e/") if c.status == 200 and c.body["compression"] == "none"]
    assert plain

    # the page saw no error but the extension bundles mockhog does not serve (/static/*.js)
    assert [e for e in seen["errors"] if "/static/" not in e] == []
