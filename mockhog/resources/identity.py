"""Who a key is: ``/api/users/@me/``, ``/api/projects/``, ``/api/organizations/@current/`` and
``/api/personal_api_keys/@current/`` — the routes real clients call before anything else."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import errors
from ..pagination import limit_offset_page
from ..remote_config import TEAM_DEFAULTS
from .base import Call, Resource, quirk

ADMIN = 8  # PostHog's OrganizationMembership.Level.ADMIN
CONFIG = 3  # Organization.PluginsAccessLevel.CONFIG, what a cloud organization has
# posthog/models/user.py NOTIFICATION_DEFAULTS: what a user who changed nothing is shown.
NOTIFICATION_DEFAULTS = {
    "plugin_disabled": True,
    "error_tracking_issue_assigned": True,
    "discussions_mentioned": True,
    "project_weekly_digest_disabled": {},
    "all_weekly_digest_disabled": False,
}


def _token(prefix: str, *parts: Any) -> str:
    return prefix + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]


def api_token(seed: int, project: dict[str, Any]) -> str:
    """The project's public token (``phc_``), as capture and ``/flags/`` receive it from SDKs."""
    return project.get("api_token") or _token("phc_", seed, project["id"])


def _uuid(*parts: Any) -> str:
    return str(uuid.UUID(hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()))


# What billing grants the mock organization unless a profile or fixture says otherwise.
DEFAULT_PRODUCT_FEATURES = [{"key": "advanced_permissions", "name": "Advanced permissions"}]


# The Team model's defaults for the settings ProjectBackwardCompatSerializer answers (posthog/models/
# team/team.py), where the project record carries none; remote config reads the same defaults.
PROJECT_DEFAULTS: dict[str, Any] = {
    **TEAM_DEFAULTS,
    "product_description": None,
    "app_urls": [],
    "anonymize_ips": False,
    "test_account_filters": [],
    "test_account_filters_default_checked": None,
    "path_cleaning_filters": [],
    "data_attributes": ["data-attr"],
    "person_display_name_properties": None,
    "correlation_config": {},
    "autocapture_exceptions_errors_to_ignore": None,
    "survey_config": None,
    "week_start_day": None,
    "recording_domains": None,
    "inject_web_apps": False,
    "surveys_opt_in": None,
    "flags_persistence_default": False,
}
# What a write never changes (ProjectBackwardCompatSerializer.Meta.read_only_fields among the
# fields mockhog answers): DRF drops them from the body.
READ_ONLY = frozenset(
    {"id", "uuid", "organization", "project_id", "api_token", "created_at", "updated_at", "ingested_event"}
)
# A property filter as test_account_filters' pydantic adapter (list[AnyPropertyFilter]) needs it at
# least: an object with a key (or a cohort's value) and a known type.
FILTER_TYPES = frozenset(
    {
        "event", "event_metadata", "person", "element", "session", "cohort", "recording", "log_entry",
        "group", "feature", "hogql", "data_warehouse", "data_warehouse_person_property",
        "error_tracking_issue", "log", "revenue_analytics", "flag", "workflow_variable",
    }
)  # fmt: skip
SAMPLE_RATE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")


def product_features(organization: dict[str, Any]) -> list[dict[str, Any]]:
    """The organization's ``available_product_features`` (billing's list of granted features)."""
    return organization.get("available_product_features") or DEFAULT_PRODUCT_FEATURES


class _Identity(Resource):
    """Shared views of the world's user, organization and projects."""

    def organization(self, call: Call) -> dict[str, Any]:
        return call.backend.world.organization

    def projects(self, call: Call) -> list[dict[str, Any]]:
        visible = [p for pid, p in sorted(call.backend.projects.items()) if call.key.allows_project(pid)]
        return [self.project(call, p) for p in visible]

    def project(self, call: Call, project: dict[str, Any]) -> dict[str, Any]:
        organization = self.organization(call)
        settings = {name: project.get(name, default) for name, default in PROJECT_DEFAULTS.items()}
        rate = settings["session_recording_sample_rate"]
        if rate is not None:  # a DecimalField(max_digits=3, decimal_places=2): a string, two places
            settings["session_recording_sample_rate"] = f"{Decimal(str(rate)):.2f}"
        created = project.get("created_at", "2024-01-15T09:00:00.000000Z")
        return {
            "id": project["id"],
            "uuid": _uuid("project", project["id"]),
            "organization": organization["id"],
            "project_id": project["id"],
            "api_token": api_token(call.backend.seed, project),
            "name": project["name"],
            "created_at": created,
            "updated_at": project.get("updated_at", created),
            "timezone": project.get("timezone", "UTC"),
            "is_demo": project.get("is_demo", False),
            "ingested_event": True,
            "completed_snippet_onboarding": project.get("completed_snippet_onboarding", True),
            "access_control": False,
            **settings,
        }

    def team(self, call: Call, project: dict[str, Any]) -> dict[str, Any]:
        full = self.project(call, project)
        return {
            "id": full["id"],
            "uuid": full["uuid"],
            "organization": full["organization"],
            "project_id": full["id"],
            "api_token": full["api_token"],
            "name": full["name"],
            "completed_snippet_onboarding": True,
            "has_completed_onboarding_for": {"product_analytics": True},
            "ingested_event": True,
            "is_demo": False,
            "timezone": full["timezone"],
            "access_control": False,
        }

    def organization_view(self, call: Call) -> dict[str, Any]:
        organization = self.organization(call)
        projects = [call.backend.projects[p["id"]] for p in self.projects(call)]
        # OrganizationSerializer's fields in its order; the settings are a new organization's defaults.
        return {
            "id": organization["id"],
            "name": organization["name"],
            "slug": organization.get("slug") or organization["name"].lower().replace(" ", "-").strip("."),
            "logo_media_id": None,
            "created_at": organization.get("created_at", "2024-01-15T09:00:00.000000Z"),
            "updated_at": organization.get("updated_at", "2025-06-01T09:00:00.000000Z"),
            "membership_level": ADMIN,
            "plugins_access_level": CONFIG,
            "teams": [self.team(call, p) for p in projects],
            "projects": [
                {"id": p["id"], "organization_id": organization["id"], "name": p["name"]} for p in projects
            ],
            "available_product_features": product_features(organization),
            "is_member_join_email_enabled": True,
            "metadata": {"instance_tag": "none"},
            "customer_id": None,
            "enforce_2fa": None,
            "members_can_invite": True,
            "members_can_use_personal_api_keys": True,
            "allow_publicly_shared_resources": True,
            "member_count": 1,
            # The model's default (null: not approved); a profile's organization may approve it.
            "is_ai_data_processing_approved": organization.get("is_ai_data_processing_approved"),
            "default_experiment_stats_method": "bayesian",
            "default_anonymize_ips": False,
            "default_role_id": None,
            "is_active": True,
            "is_not_active_reason": None,
        }


class Users(_Identity):
    @quirk("users_retrieve")
    def retrieve(self, call: Call) -> Any:
        user = call.user
        if call.params["id"] not in ("@me", user["uuid"]):
            raise errors.not_found()
        current = call.backend.projects[call.backend.current_project(call.key)]
        organization = self.organization_view(call)
        basic = {
            k: organization[k]
            for k in (
                "id", "name", "slug", "logo_media_id", "membership_level",
                "members_can_use_personal_api_keys", "is_active", "is_not_active_reason",
            )
        }  # fmt: skip
        # UserSerializer's fields in its order (write-only ones left out). The mock user signed up with
        # a password, has changed no setting, and calls with an API key (no session, no impersonation).
        return {
            "date_joined": user.get("date_joined", "2024-01-15T09:00:00.000000Z"),
            "uuid": user["uuid"],
            "distinct_id": user["distinct_id"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "email": user["email"],
            "pending_email": None,
            "is_email_verified": user["is_email_verified"],
            "notification_settings": NOTIFICATION_DEFAULTS,
            "anonymize_data": False,
            "allow_impersonation": True,
            "toolbar_mode": "toolbar",
            "has_password": True,
            "id": user["id"],
            "is_staff": False,
            "is_impersonated": False,
            "is_impersonated_until": None,
            "is_impersonated_read_only": False,
            "sensitive_session_expires_at": None,
            "team": self.team(call, current),
            "organization": organization,
            "organizations": [basic],
            "events_column_config": {"active": "DEFAULT"},
            "is_2fa_enabled": False,
            "has_social_auth": False,
            "has_sso_enforcement": False,
            "has_seen_product_intro_for": None,
            "scene_personalisation": [],
            "theme_mode": None,
            "hedgehog_config": user["hedgehog_config"],
            "allow_sidebar_suggestions": None,
            "shortcut_position": None,
            "role_at_organization": user["role_at_organization"],
            "passkeys_enabled_for_2fa": None,
        }


class Projects(_Identity):
    @quirk("projects_list")
    def list(self, call: Call) -> Any:
        return limit_offset_page(self.projects(call), call.query, call.url)

    @quirk("projects_retrieve")
    def retrieve(self, call: Call) -> Any:
        return self.project(call, call.backend.projects[self._project_id(call)])

    @quirk("projects_update")
    def update(self, call: Call) -> Any:
        return self.partial_update(call)

    @quirk("projects_partial_update")
    def partial_update(self, call: Call) -> Any:
        """ProjectBackwardCompatSerializer.update: the validated fields are stored on the project's
        record (its passthrough team's settings), survey_config and session_replay_config merged
        into what is there; the answer is the project as retrieve shows it."""
        project_id = self._project_id(call)
        current = call.backend.projects[project_id]
        changes = validate_settings(call, project_id, current, dict(call.body or {}))
        if "survey_config" in changes and changes["survey_config"] is not None:
            changes["survey_config"] = {**(current.get("survey_config") or {}), **changes["survey_config"]}
        replay, old = changes.get("session_replay_config"), current.get("session_replay_config")
        if isinstance(replay, dict) and isinstance(old, dict):
            merged = {key: _merged(old.get(key), value) for key, value in replay.items()}
            changes["session_replay_config"] = {**old, **merged}
        if changes:
            changes["updated_at"] = call.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            call.backend.projects.write(project_id, changes)
        return self.project(call, call.backend.projects[project_id])

    def _project_id(self, call: Call) -> int:
        raw = call.params["id"]
        if raw == "@current":
            project_id = call.backend.current_project(call.key)
        elif raw.isascii() and raw.isdigit():
            project_id = int(raw)
        else:
            raise errors.project_not_found()
        if project_id not in call.backend.projects:
            raise errors.project_not_found()
        if not call.key.allows_project(project_id):
            raise errors.permission_denied(
                f"API key does not have access to the requested project: ID {project_id}."
            )
        return project_id


def _invalid(attr: str, detail: str) -> errors.ApiError:
    return errors.validation_error(detail, attr, "invalid")


def validate_settings(
    call: Call, project_id: int, current: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """The serializer's field validators (ProjectBackwardCompatSerializer, delegating to
    TeamSerializer's, posthog/api/team.py and posthog/api/team_validation.py's helpers), in field
    order; the first failure is the 400 and nothing is stored. The body's types were checked
    against ProjectRequest already."""
    changes = {key: value for key, value in body.items() if key in PROJECT_DEFAULTS or key in _OWN}
    if "name" in changes:
        name = changes["name"].strip()
        if not name:
            raise errors.validation_error("This field may not be blank.", "name", "blank")
        if name != current["name"]:  # a no-op save stays valid even if another project shares it
            for other_id, other in call.backend.projects.items():
                if other_id != project_id and str(other.get("name", "")).strip().lower() == name.lower():
                    raise errors.ApiError(
                        409,
                        "invalid_request",
                        "conflict",
                        f'There is already a project called "{name}" in this organization. '
                        "Choose a different name.",
                    )
        changes["name"] = name
    if changes.get("access_control") is not None:
        raise _invalid(
            "access_control",
            "The 'access_control' field has been deprecated and is no longer supported. Please use the new "
            "access control system instead. For more information, visit: "
            "https://posthog.com/docs/settings/access-control",
        )
    changes.pop("access_control", None)
    for field in ("app_urls", "recording_domains"):
        if changes.get(field) is not None:
            changes[field] = [item for item in changes[field] if item]
    if "test_account_filters" in changes:
        _check_filters(changes["test_account_filters"])
    if "session_recording_sample_rate" in changes:
        changes["session_recording_sample_rate"] = _sample_rate(changes["session_recording_sample_rate"])
    if "session_recording_linked_flag" in changes:
        changes["session_recording_linked_flag"] = _linked_flag(changes["session_recording_linked_flag"])
    payload = changes.get("session_recording_network_payload_capture_config")
    if payload is not None:
        if not isinstance(payload, dict):
            raise _invalid(
                "session_recording_network_payload_capture_config", "Must provide a dictionary or None."
            )
        if any(key not in ("recordHeaders", "recordBody") for key in payload):
            raise _invalid(
                "session_recording_network_payload_capture_config",
                "Must provide a dictionary with only 'recordHeaders' and/or 'recordBody' keys.",
            )
    masking = changes.get("session_recording_masking_config")
    if masking is not None:
        _check_masking(masking)
    match_type = changes.get("session_recording_trigger_match_type_config", "all")
    if match_type not in ("all", "any", None):
        raise _invalid(
            "session_recording_trigger_match_type_config",
            "Must provide a valid trigger match type. Only 'all' or 'any' or None are allowed.",
        )
    replay = changes.get("session_replay_config")
    if replay is not None:
        if not isinstance(replay, dict):
            raise _invalid("session_replay_config", "Must provide a dictionary or None.")
        if any(key not in ("record_canvas", "ai_config") for key in replay):
            raise _invalid(
                "session_replay_config",
                "Must provide a dictionary with only known keys. One or more of record_canvas, ai_config.",
            )
    survey_config = changes.get("survey_config")
    if survey_config is not None and not isinstance(survey_config, dict):
        raise _invalid("survey_config", "Value must be valid JSON.")
    if "autocapture_exceptions_errors_to_ignore" in changes:
        ignored = changes["autocapture_exceptions_errors_to_ignore"]
        # validate_team_attrs raises without a field: DRF's non_field_errors
        if not isinstance(ignored, list):
            raise _invalid(
                "non_field_errors", "Must provide a list for field: autocapture_exceptions_errors_to_ignore."
            )
        if any(not isinstance(error, str) for error in ignored):
            raise _invalid(
                "non_field_errors",
                "Must provide a list of strings to field: autocapture_exceptions_errors_to_ignore.",
            )
        if len(json.dumps(ignored)) > 300:
            raise _invalid(
                "non_field_errors",
                "Field autocapture_exceptions_errors_to_ignore must be less than 300 characters. "
                "Complex config should be provided in posthog-js initialization.",
            )
    return changes


_OWN = frozenset({"name", "timezone", "is_demo", "completed_snippet_onboarding", "access_control"})


def _merged(old: Any, new: Any) -> Any:
    """A session_replay_config key: two dicts merge, anything else is replaced."""
    return {**old, **new} if isinstance(old, dict) and isinstance(new, dict) else new


def _check_filters(value: Any) -> None:
    """validate_test_account_filters: a list of valid property filters (pydantic's message is long;
    mockhog keeps PostHog's lead sentence)."""
    ok = isinstance(value, list) and all(
        isinstance(item, dict)
        and item.get("type") in FILTER_TYPES
        and (isinstance(item.get("key"), str) or item.get("type") == "cohort")
        for item in value
    )
    if not ok:
        raise _invalid("test_account_filters", "Must provide an array of valid property filters.")


def _sample_rate(value: Any) -> str | None:
    """The model's DecimalField(max_digits=3, decimal_places=2) between 0 and 1 (its validators)."""
    if value is None:
        return None
    if isinstance(value, bool) or not SAMPLE_RATE.match(str(value)):
        raise _invalid("session_recording_sample_rate", "A valid number is required.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise _invalid("session_recording_sample_rate", "A valid number is required.") from None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > 2:
        raise _invalid(
            "session_recording_sample_rate", "Ensure that there are no more than 2 decimal places."
        )
    if number < 0:
        raise errors.validation_error(
            "Ensure this value is greater than or equal to 0.", "session_recording_sample_rate", "min_value"
        )
    if number > 1:
        raise errors.validation_error(
            "Ensure this value is less than or equal to 1.", "session_recording_sample_rate", "max_value"
        )
    return f"{number:.2f}"


def _linked_flag(value: Any) -> dict[str, Any] | None:
    """validate_session_recording_linked_flag: {id, key} or {id, key, variant}, the id an integer
    (a numeric string becomes one)."""
    if value is None:
        return None
    attr = "session_recording_linked_flag"
    if not isinstance(value, dict):
        raise _invalid(attr, "Must provide a dictionary or None.")
    if set(value) not in ({"id", "key"}, {"id", "key", "variant"}):
        raise _invalid(
            attr,
            "Must provide a dictionary with only 'id' and 'key' keys. "
            "_or_ only 'id', 'key', and 'variant' keys.",
        )
    flag_id = value["id"]
    if isinstance(flag_id, bool) or not isinstance(flag_id, int | str):
        raise _invalid(attr, "Must provide an integer 'id'.")
    try:
        return {**value, "id": int(flag_id)}
    except ValueError:
        raise _invalid(attr, "Must provide an integer 'id'.") from None


def _check_masking(value: Any) -> None:
    attr = "session_recording_masking_config"
    if not isinstance(value, dict):
        raise _invalid(attr, "Must provide a dictionary or None.")
    allowed = ("maskAllInputs", "maskTextSelector", "blockSelector")
    if any(key not in allowed for key in value):
        raise _invalid(attr, f"Must provide a dictionary with only known keys: {', '.join(allowed)}.")
    if "maskAllInputs" in value and not isinstance(value["maskAllInputs"], bool):
        raise _invalid(attr, "maskAllInputs must be a boolean.")
    for key in ("maskTextSelector", "blockSelector"):
        if key in value and not isinstance(value[key], str):
            raise _invalid(attr, f"{key} must be a string.")


class Organizations(_Identity):
    @quirk("organizations_list")
    def list(self, call: Call) -> Any:
        return limit_offset_page([self.organization_view(call)], call.query, call.url)

    @quirk("organizations_retrieve")
    def retrieve(self, call: Call) -> Any:
        if call.params["id"] not in ("@current", self.organization(call)["id"]):
            raise errors.not_found()
        return self.organization_view(call)


class PersonalApiKeys(_Identity):
    @quirk("personal_api_keys_retrieve")
    def retrieve(self, call: Call) -> Any:
        if call.params["id"] not in ("@current", call.key.id):
            raise errors.not_found()
        return {**call.key.public(), "value": None, "last_rolled_at": None, "user_id": call.user["id"]}
