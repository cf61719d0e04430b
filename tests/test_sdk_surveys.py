"""What the SDKs load of surveys and early access features, over HTTP.

Sources (PostHog/posthog): ``/api/surveys/`` is served today by the Rust hypercache-server
(rust/hypercache-server/src/api/surveys.rs, src/router.rs, src/token.rs), which answers the cached
get_surveys_response of products/surveys/backend/api/survey.py (SurveyAPISerializer over every
survey not archived, and the team's survey_config); Django no longer routes the path
(posthog/urls.py). ``/api/early_access_features/`` is Django's view in
products/early_access_features/backend/api.py (get_token in posthog/api/utils.py, cors_response in
posthog/utils_cors.py). Remote config's ``surveys``: build_config in posthog/models/remote_config.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from node_packages import cache_dir, npm_install
from test_sdk_js import JSDOM, PAGE_ORIGIN, POSTHOG_JS, RUN_SECONDS

from mockhog.resources.identity import api_token

SURVEYS_SCRIPT = Path(__file__).with_name("node") / "posthog_js_surveys.mjs"

SDK_FIELDS = [
    "id",
    "name",
    "type",
    "linked_flag_key",
    "targeting_flag_key",
    "internal_targeting_flag_key",
    "questions",
    "conditions",
    "appearance",
    "start_date",
    "end_date",
    "current_iteration",
    "current_iteration_start_date",
    "schedule",
    "enable_partial_responses",
    "base_language",
]


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


@pytest.fixture
def opted_in(client):
    """The team with surveys turned on (Team.surveys_opt_in), as its settings PATCH turns them on
    (the client's reset undoes it)."""
    answer = client.patch("/api/projects/1/", json={"surveys_opt_in": True})
    assert answer.status_code == 200
    return answer.get_json()


def _launched(client, **extra):
    body = {
        "name": "Onboarding check-in",
        "description": "internal: ask the PM before changing",
        "type": "popover",
        "questions": [{"type": "open", "question": "How is it going?"}],
        **extra,
    }
    created = client.post("/api/projects/1/surveys/", json=body)
    assert created.status_code == 201, created.get_json()
    survey_id = created.get_json()["id"]
    assert client.post(f"/api/projects/1/surveys/{survey_id}/launch/").status_code == 200
    return client.get(f"/api/projects/1/surveys/{survey_id}/").get_json()


def test_seeded_surveys_are_all_sent_but_the_archived_one(anonymous, token):
    """get_surveys_response leaves out archived surveys only: the draft and the ended survey are
    sent, and the SDK, not the server, skips them (no start_date, or an end_date)."""
    response = anonymous.get(f"/api/surveys/?token={token}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["survey_config"] is None
    by_name = {survey["name"]: survey for survey in body["surveys"]}
    assert set(by_name) == {"Net promoter score", "File sharing feedback"}
    assert by_name["Net promoter score"]["start_date"] is None
    assert by_name["File sharing feedback"]["end_date"] is not None
    assert all(list(survey) == SDK_FIELDS for survey in body["surveys"])


def test_a_launched_survey_in_the_serializer_shape(client, anonymous, token):
    """SurveyAPISerializer: Meta.fields in order, no description, the three flag keys (null when
    there is no such flag), conditions with the actions as id, name and steps, translations cut to
    the survey-level strings the SDK renders."""
    linked = client.post(
        "/api/projects/1/feature_flags/", json={"key": "checkin-beta", "name": "c"}
    ).get_json()
    action = client.post(
        "/api/projects/1/actions/", json={"name": "Opened settings", "steps": [{"event": "settings_opened"}]}
    ).get_json()
    survey = _launched(
        client,
        linked_flag_id=linked["id"],
        targeting_flag_filters={
            "groups": [{"properties": [{"key": "plan", "value": ["team"], "type": "person"}]}]
        },
        conditions={"url": "/settings", "actions": {"values": [{"id": action["id"]}]}},
        appearance={"backgroundColor": "#eeeded"},
        translations={"es": {"name": "Registro", "description": "interna"}},
    )
    body = client.get(f"/api/surveys/?token={token}").get_json()
    sent = next(s for s in body["surveys"] if s["id"] == survey["id"])
    assert list(sent) == [*SDK_FIELDS, "translations"]
    assert sent == {
        "id": survey["id"],
        "name": "Onboarding check-in",
        "type": "popover",
        "linked_flag_key": "checkin-beta",
        "targeting_flag_key": survey["targeting_flag"]["key"],
        "internal_targeting_flag_key": survey["internal_targeting_flag"]["key"],
        "questions": survey["questions"],
        "conditions": {
            "url": "/settings",
            "actions": {
                "values": [
                    {
                        "id": action["id"],
                        "name": "Opened settings",
                        "steps": action["steps"],
                    }
                ]
            },
        },
        "appearance": {"backgroundColor": "#eeeded"},
        "start_date": survey["start_date"],
        "end_date": None,
        "current_iteration": None,
        "current_iteration_start_date": None,
        "schedule": "once",
        "enable_partial_responses": False,
        "base_language": "en",
        "translations": {"es": {"name": "Registro"}},
    }
    assert survey["start_date"] is not None
    assert survey["internal_targeting_flag"]["key"].endswith("-custom")
    # the same answer with no credentials at all: only the project token
    assert anonymous.get(f"/api/surveys?token={token}").get_json() == body


def test_archiving_takes_a_survey_out(client, token):
    survey = _launched(client)
    assert (
        client.patch(f"/api/projects/1/surveys/{survey['id']}/", json={"archived": True}).status_code == 200
    )
    sent = client.get(f"/api/surveys/?token={token}").get_json()["surveys"]
    assert survey["id"] not in {s["id"] for s in sent}


def test_the_token_from_the_query_or_a_posted_form(anonymous, token):
    """extract_token: ``token``, else ``api_key``, in the query; a POST's form body after that."""
    expected = anonymous.get(f"/api/surveys/?token={token}").get_json()
    assert anonymous.get(f"/api/surveys/?api_key={token}").get_json() == expected
    assert anonymous.post("/api/surveys/", data={"token": token}).get_json() == expected
    assert anonymous.post("/api/surveys/", data={"api_key": token}).get_json() == expected
    assert anonymous.get(f"/surveys?token={token}").get_json() == expected  # the service's own path


@pytest.mark.parametrize(
    ("method", "url", "data", "status", "text"),
    [
        ("GET", "/api/surveys/", None, 401, "Token not provided"),
        ("GET", "/api/surveys/?token=", None, 401, "Token not provided"),
        ("POST", "/api/surveys/", {"other_field": "value"}, 401, "Token not provided"),
        ("GET", "/api/surveys/?token=token.with.dots", None, 400, "Invalid token format"),
        ("GET", "/api/surveys/?token=" + "a" * 201, None, 400, "Token too long"),
    ],
)
def test_refusals_are_plain_text(anonymous, method, url, data, status, text):
    response = anonymous.open(url, method=method, data=data)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and response.get_data(as_text=True) == text


def test_a_token_of_no_project_is_a_cache_miss(anonymous):
    """No 401: the service finds nothing cached for the token and sends no surveys."""
    response = anonymous.get("/api/surveys/?token=phc_unknown")
    assert response.status_code == 200
    assert response.get_json() == {"surveys": [], "survey_config": None}
    assert "no project" in response.headers["X-Mockhog-Warning"]


def test_cors_head_and_options(anonymous, token):
    """The hypercache-server's CorsLayer (as the flags service's): the origin mirrored with
    credentials; every OPTIONS answered 200, empty, with the methods and the asked headers."""
    origin = "https://app.hedgebox.dev"
    response = anonymous.get(f"/api/surveys/?token={token}", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Vary"] == "origin, access-control-request-method, access-control-request-headers"
    preflight = anonymous.options(
        "/api/surveys/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-custom",
        },
    )
    assert preflight.status_code == 200 and preflight.data == b""
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS,HEAD"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert anonymous.options("/api/surveys/").status_code == 200  # no token needed
    head = anonymous.head("/api/surveys/")
    assert head.status_code == 200 and head.mimetype == "application/json" and head.data == b""


def test_fault_rules_and_the_journal(anonymous, backend, token):
    """Fault rules match these endpoints by operation (``surveys``, ``early_access_features``), and
    each request is journaled with the token's project."""
    backend.faults.add({"operation_id": "surveys", "status": 503, "count": 1})
    assert anonymous.get(f"/api/surveys/?token={token}").status_code == 503
    assert anonymous.get(f"/api/surveys/?token={token}").status_code == 200
    assert anonymous.get(f"/api/early_access_features/?token={token}").status_code == 200
    entries = [e for e in backend.journal.entries() if e.operation_id in ("surveys", "early_access_features")]
    assert [(e.operation_id, e.status, e.project_id) for e in entries][-2:] == [
        ("surveys", 200, 1),
        ("early_access_features", 200, 1),
    ]


# -- remote config -------------------------------------------------------------------------------


def test_remote_config_surveys_once_the_team_opts_in(client, opted_in, token):
    """build_config: with surveys_opt_in the surveys get_surveys_response finds (the same list as
    /api/surveys/), then survey_config when set; an unset opt-in is False."""
    config = client.get(f"/array/{token}/config").get_json()
    assert config["surveys"] == client.get(f"/api/surveys/?token={token}").get_json()["surveys"]
    assert "survey_config" not in config
    appearance = {"appearance": {"backgroundColor": "#000000"}}
    assert client.patch("/api/projects/1/", json={"survey_config": appearance}).status_code == 200
    config = client.get(f"/array/{token}/config").get_json()
    assert config["survey_config"] == appearance
    assert list(config)[-4:] == ["surveys", "survey_config", "defaultIdentifiedOnly", "siteApps"]
    assert client.get(f"/api/surveys/?token={token}").get_json()["survey_config"] == appearance
    assert client.patch("/api/projects/1/", json={"surveys_opt_in": None}).status_code == 200
    assert client.get(f"/array/{token}/config").get_json()["surveys"] is False


def test_remote_config_surveys_false_when_every_survey_is_archived(client, opted_in, token):
    for survey in client.get("/api/projects/1/surveys/").get_json()["results"]:
        client.patch(f"/api/projects/1/surveys/{survey['id']}/", json={"archived": True})
    assert client.get(f"/array/{token}/config").get_json()["surveys"] is False


# -- early access features ------------------------------------------------------------------------


def test_early_access_features_by_stage(client, anonymous, token):
    """stage__in the ``stage`` parameters, beta when there is none; MinimalEarlyAccessFeatureSerializer.
    (The query has no ORDER BY: mockhog answers in creation order.)"""
    alpha = client.post(
        "/api/projects/1/early_access_feature/",
        json={"name": "Dark mode", "stage": "alpha", "description": "", "documentation_url": ""},
    ).get_json()
    listed = client.get("/api/projects/1/early_access_feature/?limit=100").get_json()["results"]
    beta = sorted((row for row in listed if row["stage"] == "beta"), key=lambda row: row["created_at"])

    response = anonymous.get(f"/api/early_access_features/?token={token}")
    assert response.status_code == 200
    features = response.get_json()["earlyAccessFeatures"]
    assert [f["id"] for f in features] == [row["id"] for row in beta] and beta
    assert list(features[0]) == [
        "id",
        "name",
        "description",
        "stage",
        "documentationUrl",
        "flagKey",
        "payload",
        "assignee",
    ]
    assert features[0]["flagKey"] == beta[0]["feature_flag"]["key"]
    assert features[0]["payload"] == {} and features[0]["assignee"] is None

    only_alpha = anonymous.get(f"/api/early_access_features/?token={token}&stage=alpha").get_json()
    assert only_alpha == {
        "earlyAccessFeatures": [
            {
                "id": alpha["id"],
                "name": "Dark mode",
                "description": "",
                "stage": "alpha",
                "documentationUrl": "",
                "flagKey": alpha["feature_flag"]["key"],
                "payload": {},
                "assignee": None,
            }
        ]
    }
    both = anonymous.get(f"/api/early_access_features/?token={token}&stage=alpha&stage=beta").get_json()
    assert len(both["earlyAccessFeatures"]) == len(beta) + 1
    form = anonymous.post("/api/early_access_features/", data={"api_key": token})
    assert form.get_json() == response.get_json()


@pytest.mark.parametrize(
    ("url", "code", "detail"),
    [
        (
            "/api/early_access_features/",
            "missing_api_key",
            "Project token not provided. You can find your project token in PostHog project settings.",
        ),
        (
            "/api/early_access_features/?token=phc_nobody",
            "invalid_api_key",
            "Project token invalid. You can find your project token in PostHog project settings.",
        ),
    ],
)
def test_early_access_features_refusals(anonymous, url, code, detail):
    response = anonymous.get(url, headers={"Origin": "https://app.hedgebox.dev"})
    assert response.status_code == 401
    assert response.get_json() == {
        "type": "authentication_error",
        "code": code,
        "detail": detail,
        "attr": None,
    }
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.hedgebox.dev"


def test_early_access_features_cors_response(anonymous, token):
    """cors_response: the origin's scheme and host with credentials, GET, POST and OPTIONS, and the
    tracing headers asked for; no Vary (django-cors-headers leaves this path to the view). The
    view answers OPTIONS itself, and with no query token (only a GET reads it) that is a 401."""
    response = anonymous.get(
        f"/api/early_access_features/?token={token}",
        headers={
            "Origin": "https://app.hedgebox.dev/page",
            "Access-Control-Request-Headers": "traceparent,x-other",
        },
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.hedgebox.dev"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "X-Requested-With,Content-Type,traceparent"
    assert "Vary" not in response.headers
    assert (
        "Access-Control-Allow-Origin"
        not in anonymous.get(f"/api/early_access_features/?token={token}").headers
    )
    preflight = anonymous.options(
        f"/api/early_access_features/?token={token}",
        headers={"Origin": "https://app.hedgebox.dev", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 401 and preflight.get_json()["code"] == "missing_api_key"


# -- posthog-js -----------------------------------------------------------------------------------


def test_posthog_js_get_surveys_receives_the_launched_survey(mockhog):
    """The real posthog-js (tests/test_sdk_js.py's bundle and jsdom, from another origin) calls
    getSurveys(callback, true): it fetches /api/surveys/?token= and hands the callback the surveys,
    the launched one among them exactly as the endpoint sends it. Skipped, saying why, without
    Node, npm or a reachable registry."""
    node_modules = npm_install(
        [POSTHOG_JS, JSDOM], cache_dir("MOCKHOG_POSTHOG_JS_CACHE", "posthog-js"), "posthog-js"
    )
    api = requests.Session()
    api.headers.update(mockhog.headers)
    # remote config says surveys are on, as for a team using them (the fixture's reset undoes it)
    assert api.patch(f"{mockhog.url}/api/projects/1/", json={"surveys_opt_in": True}, timeout=10).ok
    created = api.post(
        f"{mockhog.url}/api/projects/1/surveys/",
        json={"name": "JS survey", "type": "api", "questions": [{"type": "open", "question": "Hi?"}]},
        timeout=10,
    ).json()
    assert api.post(f"{mockhog.url}/api/projects/1/surveys/{created['id']}/launch/", timeout=10).ok
    sent = requests.get(f"{mockhog.url}/api/surveys/?token={mockhog.project_token}", timeout=10).json()
    command = [
        "node",
        str(SURVEYS_SCRIPT),
        str(node_modules),
        mockhog.url,
        mockhog.project_token,
        PAGE_ORIGIN,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["context"] == {"isLoaded": True}, seen
    assert seen["surveys"] == sent["surveys"]
    launched = next(s for s in seen["surveys"] if s["id"] == created["id"])
    assert launched["start_date"] is not None and launched["end_date"] is None
    mockhog.assert_called(method="GET", path="/api/surveys/")
