"""posthog-js's remote config: ``/array/<token>/config`` and ``/array/<token>/config.js``.

Sources: posthog/api/remote_config.py (token shape check, 404 for an unknown token, Vary) and
posthog/models/remote_config.py (build_config, sanitize_config_for_public_cdn,
get_config_js_via_token) in PostHog/posthog; the Team model's defaults.
"""

import json
import re

import pytest

from mockhog.resources.identity import api_token


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


def test_config_for_a_new_team(anonymous, token):
    """The Team defaults: performance timing on, replay, heatmaps and surveys off; gzip supported;
    the analytics endpoint posthog-js switches its capture to."""
    response = anonymous.get(f"/array/{token}/config")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Vary"].startswith("Origin, Referer")
    assert response.get_json() == {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": True,
        "captureDeadClicks": False,
        "capturePerformance": {
            "network_timing": True,
            "web_vitals": False,
            "web_vitals_allowed_metrics": None,
        },
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "errorTracking": {"autocaptureExceptions": False, "suppressionRules": []},
        "sessionRecording": False,
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
    }


def test_has_feature_flags_follows_the_active_flags(client, backend, token):
    for row in backend.store.table(1, "feature_flags").values():
        client.patch(f"/api/projects/1/feature_flags/{row['id']}/", json={"active": False})
    assert client.get(f"/array/{token}/config").get_json()["hasFeatureFlags"] is False


def test_session_recording_when_the_team_opts_in(client, anonymous, token):
    settings = {
        "session_recording_opt_in": True,
        "session_recording_sample_rate": 0.5,
        "session_replay_config": {"record_canvas": True},
    }
    assert client.patch("/api/projects/1/", json=settings).status_code == 200
    recording = anonymous.get(f"/array/{token}/config").get_json()["sessionRecording"]
    assert recording["endpoint"] == "/s/" and recording["recorderVersion"] == "v2"
    assert recording["sampleRate"] == "0.50" and recording["consoleLogRecordingEnabled"] is True
    assert (recording["recordCanvas"], recording["canvasFps"], recording["canvasQuality"]) == (True, 3, "0.4")
    assert "domains" not in recording


def test_config_js_assigns_the_config(anonymous, token):
    response = anonymous.get(f"/array/{token}/config.js")
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    text = response.get_data(as_text=True)
    assert text.startswith(
        "(function() {\n  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};"
    )
    match = re.search(
        rf"window._POSTHOG_REMOTE_CONFIG\['{token}'\] = {{\n    config: (.*),\n    siteApps: \[\]", text
    )
    config = json.loads(match.group(1))
    assert config["token"] == token and "siteApps" not in config


def test_bad_and_unknown_tokens(anonymous):
    bad = anonymous.get("/array/phc_not%20valid/config")
    assert bad.status_code == 400
    assert bad.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Invalid token",
        "attr": None,
    }
    long = anonymous.get(f"/array/{'a' * 201}/config.js")
    assert long.status_code == 400
    unknown = anonymous.get("/array/phc_nobody/config")
    assert unknown.status_code == 404
    assert unknown.get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }
