"""Identity routes: consistent with the key and the seeded project."""


def test_me_matches_the_seeded_user_and_project(client):
    me = client.get("/api/users/@me/").get_json()
    assert me["email"] == "max@hedgebox.dev" and me["id"] == 1
    assert me["team"]["id"] == 1 and me["team"]["api_token"].startswith("phc_")
    project = client.get("/api/projects/1/").get_json()
    assert project["api_token"] == me["team"]["api_token"] and project["name"] == me["team"]["name"]
    assert me["organization"]["id"] == project["organization"]
    assert client.get(f"/api/users/{me['uuid']}/").get_json() == me
    assert client.get("/api/users/someone-else/").status_code == 404


def test_projects_list_and_current(client):
    listed = client.get("/api/projects/").get_json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == 1
    assert client.get("/api/projects/@current").get_json() == listed["results"][0]
    assert client.get("/api/projects/7/").get_json()["detail"] == "Project not found."


def test_organization_current(client):
    organization = client.get("/api/organizations/@current/").get_json()
    assert organization["name"] == "Hedgebox Inc."
    assert [team["id"] for team in organization["teams"]] == [1]
    assert client.get(f"/api/organizations/{organization['id']}/").get_json() == organization


def test_current_key_describes_itself_without_its_value(client):
    made = client.post("/_mockhog/personal_api_keys", json={"label": "ci", "scopes": ["person:read"]})
    value = made.get_json()["value"]
    assert value.startswith("phx_")
    me = client.get("/api/personal_api_keys/@current/", headers={"Authorization": f"Bearer {value}"})
    body = me.get_json()
    assert me.status_code == 200
    assert body["label"] == "ci" and body["scopes"] == ["person:read"] and body["value"] is None
    assert body["mask_value"] == f"{value[:4]}...{value[-4:]}"


def test_organizations_list(client):
    listed = client.get("/api/organizations/").get_json()
    assert listed["count"] == 1
    assert listed["results"][0] == client.get("/api/organizations/@current/").get_json()


# The serializers' fields in their order, as PostHog's published OpenAPI has them today
# (posthog.com/docs/open-api-spec/users_retrieve: User, Organization, OrganizationBasic; newer than
# the October 2025 document, which lacks default_anonymize_ips, is_active, allow_impersonation,
# is_impersonated_read_only, allow_sidebar_suggestions, shortcut_position, passkeys_enabled_for_2fa).
ORGANIZATION_FIELDS = [
    "id", "name", "slug", "logo_media_id", "created_at", "updated_at", "membership_level",
    "plugins_access_level", "teams", "projects", "available_product_features", "is_member_join_email_enabled",
    "metadata", "customer_id", "enforce_2fa", "members_can_invite", "members_can_use_personal_api_keys",
    "allow_publicly_shared_resources", "member_count", "is_ai_data_processing_approved",
    "default_experiment_stats_method", "default_anonymize_ips", "default_role_id", "is_active",
    "is_not_active_reason",
]  # fmt: skip
USER_FIELDS = [
    "date_joined", "uuid", "distinct_id", "first_name", "last_name", "email", "pending_email",
    "is_email_verified", "notification_settings", "anonymize_data", "allow_impersonation", "toolbar_mode",
    "has_password", "id", "is_staff", "is_impersonated", "is_impersonated_until", "is_impersonated_read_only",
    "sensitive_session_expires_at", "team", "organization", "organizations", "events_column_config",
    "is_2fa_enabled", "has_social_auth", "has_sso_enforcement", "has_seen_product_intro_for",
    "scene_personalisation", "theme_mode", "hedgehog_config", "allow_sidebar_suggestions",
    "shortcut_position", "role_at_organization", "passkeys_enabled_for_2fa",
]  # fmt: skip


def test_organization_has_todays_fields(client):
    """OrganizationSerializer today: 25 fields (mockhog had 11); the settings a new organization
    starts with, the mock user's membership an admin's (posthog/api/organization.py)."""
    organization = client.get("/api/organizations/@current/").get_json()
    assert list(organization) == ORGANIZATION_FIELDS
    assert organization["metadata"] == {"instance_tag": "none"}
    assert organization["members_can_use_personal_api_keys"] is True and organization["is_active"] is True
    assert organization["default_experiment_stats_method"] == "bayesian"
    listed = client.get("/api/organizations/").get_json()["results"]
    assert listed == [organization]


def test_organization_settings_are_the_models_defaults(client):
    """Organization's field defaults (posthog/models/organization.py): plugins_access_level is
    PluginsAccessLevel.CONFIG, 3 (organization_about_to_be_created raises a new organization to
    ROOT, 9, only off PostHog Cloud, which mockhog stands in for); members may invite and use
    personal API keys, resources may be shared publicly, members' join emails are on; 2FA is not
    enforced (null); new experiments default to the Bayesian method; AI data processing is not
    approved (is_ai_data_processing_approved is BooleanField(null=True, blank=True), no default:
    null, which @posthog/cli 0.18.3 reads as no consent for its AI tools)."""
    organization = client.get("/api/organizations/@current/").get_json()
    assert {k: organization[k] for k in (
        "plugins_access_level", "members_can_invite", "members_can_use_personal_api_keys",
        "allow_publicly_shared_resources", "is_member_join_email_enabled", "enforce_2fa",
        "default_experiment_stats_method", "is_ai_data_processing_approved",
    )} == {
        "plugins_access_level": 3, "members_can_invite": True, "members_can_use_personal_api_keys": True,
        "allow_publicly_shared_resources": True, "is_member_join_email_enabled": True, "enforce_2fa": None,
        "default_experiment_stats_method": "bayesian", "is_ai_data_processing_approved": None,
    }  # fmt: skip
    assert client.get("/api/users/@me/").get_json()["organization"]["is_ai_data_processing_approved"] is None


def test_a_profile_may_approve_ai_data_processing():
    """The organization's settings come from the profile: one that approves AI data processing is
    shown approved."""
    from mockhog import DEFAULT_API_KEY, Backend, create_app
    from mockhog.seed import load_profile

    organization = {**load_profile()["organization"], "is_ai_data_processing_approved": True}
    backend = Backend(seed=0, profile={"organization": organization})
    client = create_app(backend=backend).test_client()
    auth = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    answer = client.get("/api/organizations/@current/", headers=auth).get_json()
    assert answer["is_ai_data_processing_approved"] is True


def test_user_has_todays_fields(client):
    """UserSerializer today: 34 readable fields (mockhog had 15) in its order; the write-only ones
    (password, current_password, set_current_organization, set_current_team) never appear
    (posthog/api/user.py, posthog/models/user.py NOTIFICATION_DEFAULTS)."""
    me = client.get("/api/users/@me/").get_json()
    assert list(me) == USER_FIELDS
    assert me["notification_settings"] == {
        "plugin_disabled": True,
        "error_tracking_issue_assigned": True,
        "discussions_mentioned": True,
        "project_weekly_digest_disabled": {},
        "all_weekly_digest_disabled": False,
    }
    assert me["has_password"] is True and me["is_impersonated"] is False and me["scene_personalisation"] == []
    assert list(me["organizations"][0]) == [
        "id", "name", "slug", "logo_media_id", "membership_level", "members_can_use_personal_api_keys",
        "is_active", "is_not_active_reason",
    ]  # fmt: skip
    assert me["organization"] == client.get("/api/organizations/@current/").get_json()
