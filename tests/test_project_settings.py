"""Project settings written over HTTP (PATCH and PUT /api/projects/{id}/) reach the one project
record every SDK-facing endpoint reads.

Sources (PostHog/posthog): posthog/api/project.py (ProjectViewSet, ProjectBackwardCompatSerializer:
its fields, read_only_fields, validate_name's 409, update's survey_config and session_replay_config
merges), posthog/api/team.py (TeamSerializer's validate_session_recording_linked_flag,
validate_session_recording_masking_config, validate_session_replay_config, validate_access_control),
posthog/api/team_validation.py (validate_test_account_filters, validate_team_attrs),
posthog/models/team/team.py (the settings' defaults, the sample rate's DecimalField).
"""

from __future__ import annotations

import pytest

from mockhog.resources.identity import api_token


@pytest.fixture
def token(backend):
    return api_token(backend.seed, backend.projects[1])


def test_patch_answers_the_project_and_retrieve_agrees(client):
    """partial_update stores only what the body sends and answers the serializer's view of the
    project; a read-only field in the body (api_token, id) is ignored."""
    before = client.get("/api/projects/1/").get_json()
    assert before["session_recording_opt_in"] is False and before["capture_console_log_opt_in"] is True
    response = client.patch(
        "/api/projects/1/",
        json={
            "name": "  Hedgebox web ",
            "session_recording_opt_in": True,
            "timezone": "Europe/Berlin",
            "person_display_name_properties": ["email", "name"],
            "recording_domains": ["https://hedgebox.net", None, ""],
            "api_token": "phc_not_mine",
            "id": 99,
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Hedgebox web"  # validate_name strips
    assert body["session_recording_opt_in"] is True and body["timezone"] == "Europe/Berlin"
    assert body["recording_domains"] == ["https://hedgebox.net"]  # validate_recording_domains
    assert body["api_token"] == before["api_token"] and body["id"] == 1
    assert body["capture_console_log_opt_in"] is True  # untouched
    assert client.get("/api/projects/1/").get_json() == body
    assert client.get("/api/projects/@current/").get_json() == body
    organization = client.get("/api/organizations/@current/").get_json()
    assert organization["teams"][0]["name"] == "Hedgebox web"
    assert client.get("/api/users/@me/").get_json()["team"]["timezone"] == "Europe/Berlin"


def test_put_changes_only_what_it_sends(client):
    """No field of ProjectBackwardCompatSerializer is required, so a PUT is a partial write too."""
    response = client.put("/api/projects/1/", json={"heatmaps_opt_in": True})
    assert response.status_code == 200
    assert response.get_json()["heatmaps_opt_in"] is True and response.get_json()["name"] == "Hedgebox"


@pytest.mark.parametrize(
    ("body", "attr", "code", "detail"),
    [
        ({"name": "   "}, "name", "blank", "This field may not be blank."),
        ({"name": "x" * 201}, "name", "max_length", "Ensure this field has no more than 200 characters."),
        ({"timezone": "Mars/Olympus"}, "timezone", "invalid_choice", '"Mars/Olympus" is not a valid choice.'),
        (
            {"session_recording_opt_in": "maybe"},
            "session_recording_opt_in",
            "invalid_input",
            "Must be a valid boolean.",
        ),
        (
            {"session_recording_linked_flag": {"id": 1}},
            "session_recording_linked_flag",
            "invalid_input",
            "Must provide a dictionary with only 'id' and 'key' keys. "
            "_or_ only 'id', 'key', and 'variant' keys.",
        ),
        (
            {"session_recording_linked_flag": {"id": "one", "key": "k"}},
            "session_recording_linked_flag",
            "invalid_input",
            "Must provide an integer 'id'.",
        ),
        (
            {"session_recording_linked_flag": "beta"},
            "session_recording_linked_flag",
            "invalid_input",
            "Must provide a dictionary or None.",
        ),
        (
            {"session_recording_sample_rate": "1.5"},
            "session_recording_sample_rate",
            "max_value",
            "Ensure this value is less than or equal to 1.",
        ),
        (
            {"session_recording_masking_config": {"maskEverything": True}},
            "session_recording_masking_config",
            "invalid_input",
            None,
        ),
        (
            {"session_replay_config": {"record_video": True}},
            "session_replay_config",
            "invalid_input",
            "Must provide a dictionary with only known keys. One or more of record_canvas, ai_config.",
        ),
        (
            {"test_account_filters": [{"value": "x"}]},
            "test_account_filters",
            "invalid_input",
            "Must provide an array of valid property filters.",
        ),
        ({"access_control": True}, "access_control", "invalid_input", None),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(client, body, attr, code, detail):
    before = client.get("/api/projects/1/").get_json()
    # a valid field beside the bad one is not stored either
    response = client.patch("/api/projects/1/", json={"heatmaps_opt_in": True, **body})
    assert response.status_code == 400, response.get_json()
    answer = response.get_json()
    assert answer["type"] == "validation_error" and answer["attr"] == attr and answer["code"] == code
    if detail is not None:
        assert answer["detail"] == detail
    assert client.get("/api/projects/1/").get_json() == before


def test_linked_flag_is_normalised_and_marks_the_flag(client, anonymous, token):
    """validate_session_recording_linked_flag turns a numeric string id into an integer, which is
    what the flag's is_used_in_replay_settings and remote config's linkedFlag read."""
    flag = client.post(
        "/api/projects/1/feature_flags/",
        json={"key": "replay-beta", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}},
    ).get_json()
    linked = {"id": str(flag["id"]), "key": "replay-beta", "variant": "test"}
    response = client.patch(
        "/api/projects/1/",
        json={
            "session_recording_opt_in": True,
            "session_recording_linked_flag": linked,
            "session_recording_sample_rate": 0.5,
        },
    )
    assert response.get_json()["session_recording_linked_flag"] == {**linked, "id": flag["id"]}
    assert response.get_json()["session_recording_sample_rate"] == "0.50"
    assert (
        client.get(f"/api/projects/1/feature_flags/{flag['id']}/").get_json()["is_used_in_replay_settings"]
        is True
    )
    recording = anonymous.get(f"/array/{token}/config").get_json()["sessionRecording"]
    assert recording["linkedFlag"] == {"flag": "replay-beta", "variant": "test"}
    assert recording["sampleRate"] == "0.50"
    script = anonymous.get(f"/array/{token}/config.js").get_data(as_text=True)
    assert '"linkedFlag": {"flag": "replay-beta", "variant": "test"}' in script


def test_remote_config_reads_the_written_opt_ins(client, anonymous, token):
    before = anonymous.get(f"/array/{token}/config").get_json()
    assert before["sessionRecording"] is False and before["heatmaps"] is False
    client.patch(
        "/api/projects/1/",
        json={
            "session_recording_opt_in": True,
            "capture_console_log_opt_in": False,
            "heatmaps_opt_in": True,
            "autocapture_opt_out": True,
            "capture_performance_opt_in": False,
        },
    )
    config = anonymous.get(f"/array/{token}/config").get_json()
    assert config["sessionRecording"]["consoleLogRecordingEnabled"] is False
    assert config["heatmaps"] is True and config["autocapture_opt_out"] is True
    assert config["capturePerformance"] is False


def test_surveys_opt_in_and_survey_config_reach_the_sdk(client, anonymous, token):
    """update merges survey_config into the stored one; the SDK surveys endpoint and remote config
    read surveys_opt_in and survey_config from the same record."""
    client.patch(
        "/api/projects/1/",
        json={"surveys_opt_in": True, "survey_config": {"appearance": {"backgroundColor": "#fff"}}},
    )
    merged = client.patch(
        "/api/projects/1/", json={"survey_config": {"thankYouMessage": "Thanks"}}
    ).get_json()
    expected = {"appearance": {"backgroundColor": "#fff"}, "thankYouMessage": "Thanks"}
    assert merged["survey_config"] == expected and merged["surveys_opt_in"] is True
    sdk = anonymous.get(f"/api/surveys/?token={token}").get_json()
    assert sdk["survey_config"] == expected
    config = anonymous.get(f"/array/{token}/config").get_json()
    assert config["surveys"] and config["survey_config"] == expected


def test_reset_restores_the_seeded_settings(client, backend, anonymous, token):
    seeded = client.get("/api/projects/1/").get_json()
    client.patch("/api/projects/1/", json={"name": "Renamed", "session_recording_opt_in": True})
    assert client.get("/api/projects/1/").get_json()["name"] == "Renamed"
    assert client.post("/_mockhog/reset").status_code in (200, 204)
    assert client.get("/api/projects/1/").get_json() == seeded
    assert anonymous.get(f"/array/{token}/config").get_json()["sessionRecording"] is False
    client.patch("/api/projects/1/", json={"name": "Again"})
    backend.reset(project=1)
    assert client.get("/api/projects/1/").get_json()["name"] == "Hedgebox"


def test_writes_need_project_write(client):
    made = client.post("/_mockhog/personal_api_keys", json={"label": "ro", "scopes": ["project:read"]})
    headers = {"Authorization": f"Bearer {made.get_json()['value']}"}
    response = client.patch("/api/projects/1/", json={"name": "Nope"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["detail"] == "API key missing required scope 'project:write'"
    assert client.get("/api/projects/1/").get_json()["name"] == "Hedgebox"
