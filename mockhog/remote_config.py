"""The remote config posthog-js loads at init (``/array/<token>/config`` and ``config.js``). No HTTP.

Restated from PostHog's RemoteConfig model (``build_config``, ``sanitize_config_for_public_cdn``,
``get_config_js_via_token``) and its views (posthog/api/remote_config.py): the config is built from
the team's settings, with the Team model's defaults for any setting the project record does not
carry (a fixture may set them on the project: ``session_recording_opt_in``, ``heatmaps_opt_in``,
``capture_performance_opt_in``, ...). The CDN copy drops ``siteAppsJS`` and the recording domains.

``surveys`` is what build_config computes today: for a team that opted in (``surveys_opt_in``, a
team setting PostHog leaves unset, so off, until someone turns surveys on), the surveys
get_surveys_response finds (every one not archived, in the SDK's shape), else ``False``; then
``survey_config`` when the team has one.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .resources.surveys import sdk_surveys

if TYPE_CHECKING:
    from .backend import Backend

TOKEN_SHAPE = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_TOKEN = 200
ANALYTICS_ENDPOINT = "/i/v0/e/"  # settings.NEW_ANALYTICS_CAPTURE_ENDPOINT's default
# The Team model's defaults for the settings build_config reads.
TEAM_DEFAULTS: dict[str, Any] = {
    "capture_dead_clicks": False,
    "capture_performance_opt_in": True,
    "autocapture_web_vitals_opt_in": None,
    "autocapture_web_vitals_allowed_metrics": None,
    "autocapture_opt_out": None,
    "autocapture_exceptions_opt_in": None,
    "session_recording_opt_in": False,
    "capture_console_log_opt_in": True,
    "session_recording_sample_rate": None,
    "session_recording_minimum_duration_milliseconds": None,
    "session_recording_linked_flag": None,
    "session_recording_network_payload_capture_config": None,
    "session_recording_masking_config": None,
    "session_recording_url_trigger_config": [],
    "session_recording_url_blocklist_config": [],
    "session_recording_event_trigger_config": [],
    "session_recording_trigger_match_type_config": None,
    "session_replay_config": None,
    "heatmaps_opt_in": None,
}


def valid_token(token: str) -> bool:
    """``check_token``: most tokens are ``phc_...``; older ones are letters, digits, ``_`` and ``-``."""
    return len(token) <= MAX_TOKEN and TOKEN_SHAPE.match(token) is not None


def build(backend: Backend, project_id: int, token: str) -> dict[str, Any]:
    """The config as the public CDN serves it (``get_config_via_token``)."""
    project = backend.projects[project_id]
    team = {name: project.get(name, default) for name, default in TEAM_DEFAULTS.items()}
    flags = backend.store.table(project_id, "feature_flags").values()
    performance_on = team["capture_performance_opt_in"] or team["autocapture_web_vitals_opt_in"]
    config: dict[str, Any] = {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": any(row.get("active") and not row.get("deleted") for row in flags),
        "captureDeadClicks": bool(team["capture_dead_clicks"]),
        "capturePerformance": (
            {
                "network_timing": bool(team["capture_performance_opt_in"]),
                "web_vitals": bool(team["autocapture_web_vitals_opt_in"]),
                "web_vitals_allowed_metrics": team["autocapture_web_vitals_allowed_metrics"],
            }
            if performance_on
            else False
        ),
        "autocapture_opt_out": bool(team["autocapture_opt_out"]),
        "autocaptureExceptions": bool(team["autocapture_exceptions_opt_in"]),
        "analytics": {"endpoint": ANALYTICS_ENDPOINT},
        "elementsChainAsString": True,
        "errorTracking": {
            "autocaptureExceptions": bool(team["autocapture_exceptions_opt_in"]),
            "suppressionRules": [],
        },
        "sessionRecording": _session_recording(team),
        "heatmaps": bool(team["heatmaps_opt_in"]),
        "surveys": False,
    }
    # get_surveys_opt_in: an unset surveys_opt_in is off
    if project.get("surveys_opt_in"):
        found = sdk_surveys(backend, project_id)
        if found["surveys"]:
            config["surveys"] = found["surveys"]
            if found["survey_config"]:
                config["survey_config"] = found["survey_config"]
    config.update(defaultIdentifiedOnly=True, siteApps=[])
    return config


def _session_recording(team: dict[str, Any]) -> dict[str, Any] | bool:
    if not team["session_recording_opt_in"]:
        return False
    rate = team["session_recording_sample_rate"]
    sample_rate = None if rate is None or f"{float(rate):.2f}" == "1.00" else f"{float(rate):.2f}"
    linked = team["session_recording_linked_flag"]
    linked_flag = None
    if isinstance(linked, dict):
        variant = linked.get("variant")
        linked_flag = (
            {"flag": linked.get("key"), "variant": variant} if variant is not None else linked.get("key")
        )
    recording: dict[str, Any] = {
        "endpoint": "/s/",
        "consoleLogRecordingEnabled": bool(team["capture_console_log_opt_in"]),
        "recorderVersion": "v2",
        "sampleRate": sample_rate,
        "minimumDurationMilliseconds": team["session_recording_minimum_duration_milliseconds"] or None,
        "linkedFlag": linked_flag,
        "networkPayloadCapture": team["session_recording_network_payload_capture_config"] or None,
        "masking": team["session_recording_masking_config"] or None,
        "urlTriggers": team["session_recording_url_trigger_config"],
        "urlBlocklist": team["session_recording_url_blocklist_config"],
        "eventTriggers": team["session_recording_event_trigger_config"],
        "triggerMatchType": team["session_recording_trigger_match_type_config"],
        "scriptConfig": None,
    }
    replay = team["session_replay_config"]
    if isinstance(replay, dict):
        canvas = bool(replay.get("record_canvas", False))
        recording.update(
            recordCanvas=canvas, canvasFps=3 if canvas else None, canvasQuality="0.4" if canvas else None
        )
    return recording


def script(config: dict[str, Any], token: str) -> str:
    """``get_config_js_via_token``: the config assigned to ``window._POSTHOG_REMOTE_CONFIG[token]``
    (the token passed the view's shape check, so it needs no escaping), with no site apps."""
    body = {key: value for key, value in config.items() if key != "siteApps"}
    return (
        "(function() {\n"
        "  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"
        f"  window._POSTHOG_REMOTE_CONFIG['{token}'] = {{\n"
        f"    config: {json.dumps(body)},\n"
        "    siteApps: []\n"
        "  }\n"
        "})();"
    )
