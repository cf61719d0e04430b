"""Who a key is: ``/api/users/@me/``, ``/api/projects/``, ``/api/organizations/@current/`` and
``/api/personal_api_keys/@current/`` — the routes real clients call before anything else."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from .. import errors
from ..pagination import limit_offset_page
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
        return {
            "id": project["id"],
            "uuid": _uuid("project", project["id"]),
            "organization": organization["id"],
            "api_token": api_token(call.backend.seed, project),
            "name": project["name"],
            "created_at": project.get("created_at", "2024-01-15T09:00:00.000000Z"),
            "timezone": project.get("timezone", "UTC"),
            "is_demo": False,
            "ingested_event": True,
            "completed_snippet_onboarding": True,
            "access_control": False,
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
        return self.project(call, call.backend.projects[project_id])


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
