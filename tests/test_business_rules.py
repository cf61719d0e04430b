"""The requests the published schema allows and PostHog still refuses, by a rule of its own.

A contract tool (Schemathesis' "schema-valid request rejected") flags exactly these; each is a rule
no JSON Schema can state (it depends on what is stored: a label already taken, an object of the
wrong kind, something that is not there), or one whose statement would break generated clients.
Each case checks that its request really is valid against the served document (so the rule is not
one the document could have published) and that the server answers PostHog's refusal, changing
nothing. The source is PostHog's, named per rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockhog.resources.external_data_sources import OFFLINE

FS = "/api/projects/1/file_system/"
GROUPS = "/api/projects/1/groups/"
EVENTS = "/api/projects/1/event_definitions/"
ACTIONS = "/api/projects/1/actions/"


def _first(client, url: str, **match: Any) -> dict[str, Any]:
    rows = client.get(url).get_json()["results"]
    return next(row for row in rows if all(row.get(k) == v for k, v in match.items()))


def _body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
    operation = document["paths"][path][method]
    body = operation.get("requestBody")
    return body["content"]["application/json"]["schema"] if body else None


def _existing_label(client) -> tuple[str, dict[str, Any]]:
    label = client.get("/api/projects/1/project_secret_api_keys/").get_json()["results"][0]["label"]
    return label, {"label": label, "scopes": ["endpoint:read"]}


def _seeded_group(client) -> str:
    return _first(client, f"{GROUPS}?group_type_index=0")["group_key"]


def _live_folder_entry(client) -> str:
    return _first(client, FS, type="insight")["id"]


CASES = [
    pytest.param(
        "post",
        "/api/projects/{project_id}/project_secret_api_keys/",
        lambda client: ("/api/projects/1/project_secret_api_keys/", _existing_label(client)[1]),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": f"Project secret API key with label '{_existing_label(client)[0]}' already exists.",
            "attr": None,
        },
        id="a project secret key label is unique per project "
        "(posthog/api/project_secret_api_key.py: the unique_team_label constraint)",
    ),
    pytest.param(
        "post",
        "/api/projects/{project_id}/groups/",
        lambda client: (GROUPS, {"group_type_index": 0, "group_key": _seeded_group(client)}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "A group with this key already exists",
            "attr": "detail",
        },
        id="a group key is unique per group type (ee/clickhouse/views/groups.py: GroupsViewSet.create)",
    ),
    pytest.param(
        "post",
        "/api/projects/{project_id}/groups/delete_property/",
        lambda client: (
            f"{GROUPS}delete_property/?group_type_index=0&group_key={quote(_seeded_group(client))}",
            {"$unset": "no_such_property"},
        ),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Property 'no_such_property' does not exist on this group.",
            "attr": "$unset",
        },
        id="only a property the group has can be deleted (ee/clickhouse/views/groups.py: delete_property)",
    ),
    pytest.param(
        "post",
        "/api/projects/{project_id}/file_system/{id}/count/",
        lambda client: (f"{FS}{_live_folder_entry(client)}/count/", None),
        400,
        lambda client: {"detail": "Count can only be called on folders"},
        id="count is an action on folders only (posthog/api/file_system/file_system.py: count)",
    ),
    pytest.param(
        "post",
        "/api/projects/{project_id}/file_system/undo_delete/",
        lambda client: (f"{FS}undo_delete/", {"items": [{"type": "insight", "ref": "1"}]}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Couldn't restore this. It may already be restored, or you may not have access to it.",
            "attr": "detail",
        },
        id="only a deleted object can be restored "
        "(posthog/api/file_system/file_system.py: undo_delete, UNDO_DELETE_REFUSED)",
    ),
    pytest.param(
        "post",
        "/api/projects/{project_id}/exports/",
        lambda client: ("/api/projects/1/exports/", {"export_format": "text/csv"}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Either dashboard, insight or export_context is required for an export.",
            "attr": None,
        },
        # statable as a top-level anyOf, which openapi-python-client turns into three body types
        id="an export needs a dashboard, an insight or a context (posthog/api/exports.py: validate)",
    ),
    pytest.param(
        "patch",
        "/api/projects/{project_id}/event_definitions/{id}/",
        lambda client: (f"{EVENTS}{_first(client, EVENTS)['id']}/", {"owner": 987654}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "does_not_exist",
            "detail": 'Invalid pk "987654" - object does not exist.',
            "attr": "owner",
        },
        id="an owner is an existing user "
        "(ee/api/ee_event_definition.py: owner, DRF's PrimaryKeyRelatedField)",
    ),
]


def _home_folder(client) -> str:
    return client.post("/api/projects/1/persisted_folder/", json={"type": "home"}).get_json()["id"]


CASES.append(
    pytest.param(
        "patch",
        "/api/projects/{project_id}/persisted_folder/{id}/",
        lambda client: (f"/api/projects/1/persisted_folder/{_home_folder(client)}/", {"type": "pinned"}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "unique",
            "detail": "You already have a pinned folder.",
            "attr": "type",
        },
        # the rule is the model's; the wording is mockhog's (PostHog's update would hit the
        # constraint in the database)
        id="one persisted folder of each type per user and project "
        "(posthog/models/file_system/persisted_folder.py: posthog_pf_team_user_type_surface_uniq)",
    )
)


CASES.extend(
    pytest.param(
        "delete",
        f"/api/projects/{{project_id}}/{collection}/{{{key}}}/",
        lambda client, collection=collection, key=key: (
            f"/api/projects/1/{collection}/{_first(client, f'/api/projects/1/{collection}/')[key]}/",
            None,
        ),
        405,
        lambda client: None,
        # Allow lists DELETE (DRF's destroy exists), so the operation is published; it always refuses
        # (PostHog's own document gives these DELETEs no answer but 405)
        id=f"these objects are never deleted, only marked deleted: {collection} (PATCH deleted: true) "
        "(posthog/api/forbid_destroy_model.py: ForbidDestroyModel)",
    )
    for collection, key in (
        ("actions", "id"),
        ("cohorts", "id"),
        ("insights", "id"),
        ("dashboards", "id"),
        ("feature_flags", "id"),
        ("notebooks", "short_id"),
        ("session_recording_playlists", "short_id"),
        ("subscriptions", "id"),
        ("datasets", "id"),
        ("dataset_items", "id"),
    )
)


CASES.extend(
    pytest.param(
        "post",
        "/api/projects/{project_id}/query/",
        lambda client, text=text: (
            "/api/projects/1/query/",
            {"query": {"kind": "HogQLQuery", "query": text}},
        ),
        400,
        lambda client, detail=detail: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": detail,
            "attr": None,
        },
        id=f"a HogQL query parses and names what exists ({why}; posthog/api/query.py: ExposedHogQLError)",
    )
    for text, detail, why in (
        ("select", "Syntax error at line 1, column 6: no viable alternative at input '<EOF>'", "grammar"),
        ("select 1 from sessions_of_mars", 'Unknown table "sessions_of_mars".', "tables"),
        ("select colour from events", "Unable to resolve field: colour", "fields"),
    )
)


def _midnight_utc() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _role_name(client) -> str:
    return client.get("/api/organizations/@current/roles/").get_json()["results"][0]["name"]


CASES.append(
    pytest.param(
        "post",
        "/api/organizations/{organization_id}/roles/",
        lambda client: ("/api/organizations/@current/roles/", {"name": _role_name(client).upper()}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "unique",
            "detail": "There is already a role with this name.",
            "attr": "name",
        },
        id="a role name is unique in its organization, whatever its case "
        "(ee/api/rbac/role.py: RoleSerializer.validate_name)",
    )
)


CASES.append(
    pytest.param(
        "get",
        "/api/projects/{project_id}/annotations/",
        lambda client: (
            "/api/projects/1/annotations/?date_from=2025-06-02T00:00:00Z&date_to=2025-06-01T00:00:00Z",
            None,
        ),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Invalid date range: date_from must be before date_to",
            "attr": None,
        },
        id="a date range starts before it ends "
        "(products/annotations/backend/api/annotation.py: AnnotationsViewSet's date_from/date_to filter)",
    )
)


def _survey_name(client) -> str:
    return client.get("/api/projects/1/surveys/").get_json()["results"][0]["name"]


def _resolved(client, fields: dict[str, Any]) -> dict[str, Any]:
    """A case's fields, those that depend on the seed looked up."""
    return {name: value(client) if callable(value) else value for name, value in fields.items()}


SAMPLED = {
    "response_sampling_interval": 1,
    "response_sampling_interval_type": "week",
    "response_sampling_limit": 10,
}

# SurveySerializerCreateUpdateOnly.validate (products/surveys/backend/api/survey.py): (what the
# rule is, the create's fields beside name and type, the refusal's code, detail and attr)
SURVEY_RULES = (
    ("a survey name is unique in its project", {"name": _survey_name}, "unique",
     lambda: "There is already a survey with this name.", None),
    ("a referenced object exists: a survey's linked insight", {"linked_insight_id": 987654}, "invalid_input",
     lambda: "Insight with this ID does not exist", None),
    ("a referenced object exists: a survey's linked flag", {"linked_flag_id": 987654}, "invalid_input",
     lambda: "Feature Flag with this ID does not exist", None),
    ("a survey's response sampling starts today or later, in UTC",
     {**SAMPLED, "response_sampling_start_date": "2025-01-01T00:00:00Z"}, "invalid_input",
     lambda: "Response sampling start date must be today or a future date in UTC. Got "
     f"2025-01-01 00:00:00+00:00 when current time is {_midnight_utc()}", "response_sampling_start_date"),
    ("a survey's sampling limit needs its start date",
     {"response_sampling_limit": 5, "response_sampling_interval": 2}, "invalid_input",
     lambda: "Response sampling start date should be set if response_sampling_start_date is not zero.",
     "response_sampling_start_date"),
)  # fmt: skip

CASES.extend(
    pytest.param(
        "post",
        "/api/projects/{project_id}/surveys/",
        lambda client, fields=fields: (
            "/api/projects/1/surveys/",
            {"name": "Rule", "type": "popover", **_resolved(client, fields)},
        ),
        400,
        lambda client, code=code, detail=detail, attr=attr: {
            "type": "validation_error", "code": code, "detail": detail(), "attr": attr,
        },
        id=f"{rule} (products/surveys/backend/api/survey.py: SurveySerializerCreateUpdateOnly.validate)",
    )
    for rule, fields, code, detail, attr in SURVEY_RULES
)  # fmt: skip


CASES.append(
    pytest.param(
        "patch",
        "/api/projects/{id}/",
        lambda client: ("/api/projects/1/", {"autocapture_exceptions_errors_to_ignore": ["x" * 300]}),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Field autocapture_exceptions_errors_to_ignore must be less than 300 characters. "
            "Complex config should be provided in posthog-js initialization.",
            "attr": "non_field_errors",
        },
        id="the errors to ignore fit in 300 characters of JSON (posthog/api/team.py: validate_team_attrs)",
    )
)


CASES.append(
    pytest.param(
        "post",
        "/api/projects/{project_id}/dashboards/",
        lambda client: (
            "/api/projects/1/dashboards/",
            {"name": "Both", "use_dashboard": 1, "use_template": "product-analytics"},
        ),
        400,
        lambda client: {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "`use_dashboard` and `use_template` cannot be used together",
            "attr": None,
        },
        id="a dashboard copies another or a template, not both "
        "(products/dashboards/backend/api/dashboard.py: DashboardSerializer.create)",
    )
)


CASES.append(
    pytest.param(
        "post",
        "/api/projects/{project_id}/external_data_sources/preview_resource/",
        lambda client: (
            "/api/projects/1/external_data_sources/preview_resource/",
            {"source_type": "Stripe", "resource_name": "Customer", "payload": {}},
        ),
        400,
        lambda client: {"message": "Preview is not supported for source type 'Stripe'."},
        id="a resource preview is of a Custom source "
        "(products/warehouse_sources/backend/presentation/views/external_data_source/source_setup.py)",
    )
)


CASES.extend(
    [
        pytest.param(
            "post", "/api/projects/{project_id}/actions/",
            lambda client: (ACTIONS, {"name": _first(client, ACTIONS)["name"]}),
            400,
            lambda client: {
                "type": "validation_error", "code": "unique",
                "detail": "This project already has an action with this name, ID "
                f"{_first(client, ACTIONS)['id']}",
                "attr": "name",
            },
            id="an action name is unique in its project (posthog/api/action.py: ActionSerializer.validate)",
        ),
        pytest.param(
            "post", "/api/projects/{project_id}/event_definitions/",
            lambda client: (EVENTS, {"name": _first(client, EVENTS)["name"]}),
            400,
            lambda client: {
                "type": "validation_error", "code": "invalid_input",
                "detail": f"Event definition with name '{_first(client, EVENTS)['name']}' already exists",
                "attr": "name",
            },
            id="an event definition name is unique in its project "
            "(posthog/api/event_definition.py: EventDefinitionViewSet.create)",
        ),
    ]
)  # fmt: skip


EDS = "/api/projects/{project_id}/external_data_sources/"
EDS_VIEWS = "products/warehouse_sources/backend/presentation/views/external_data_source/"


def _stripe_source(client) -> str:
    sources = "/api/projects/1/external_data_sources/"
    return f"{sources}{_first(client, sources, source_type='Stripe')['id']}/"


STRIPE = {"source_type": "Stripe", "prefix": "rules_", "payload": {"stripe_account_id": "acct_1"}}
CASES.extend(
    [
        pytest.param(
            "post", EDS, lambda client: ("/api/projects/1/external_data_sources/", STRIPE), 400,
            lambda client: {"message": "Invalid source config: stripe_secret_key is required"},
            id="a source config has the fields its source type requires "
            f"({EDS_VIEWS}source_setup.py: the source's validate_config)",
        ),
        pytest.param(
            "patch", EDS + "{id}/bulk_update_schemas/",
            lambda client: (
                f"{_stripe_source(client)}bulk_update_schemas/",
                {"schemas": [{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "should_sync": False}]},
            ),
            400,
            lambda client: {
                "type": "validation_error", "code": "invalid_input",
                "detail": "One or more schemas could not be found for this source", "attr": None,
            },
            id=f"the schemas named are the source's own ({EDS_VIEWS}schema_operations.py)",
        ),
        pytest.param(
            "post", EDS + "check_cdc_prerequisites/",
            lambda client: (
                "/api/projects/1/external_data_sources/check_cdc_prerequisites/",
                {"source_type": "Postgres", "host": "db.internal", "port": 5432, "database": "app",
                 "user": "posthog", "password": "secret", "schema": "public"},
            ),
            400,
            lambda client: {
                "message": "Could not connect to Postgres to check prerequisites: "
                f"{OFFLINE} (db.internal:5432)",
            },
            id=f"a CDC check connects to the source's database ({EDS_VIEWS}change_data_capture.py)",
        ),
    ]
)  # fmt: skip


def _refusal(detail: str, attr: str | None, code: str = "invalid_input") -> Any:
    return lambda client: {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


DASHBOARDS = "/api/projects/1/dashboards/"
UNKNOWN_QUICK_FILTER = "0b4f7a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
UNKNOWN_COHORT = {"key": "id", "type": "cohort", "value": 987654}

CASES.extend(
    [
        pytest.param(
            "post",
            "/api/projects/{project_id}/feature_flags/",
            lambda client: (
                "/api/projects/1/feature_flags/",
                {"key": "new-onboarding", "filters": {"groups": [{"rollout_percentage": 100}]}},
            ),
            400,
            _refusal("There is already a feature flag with this key.", "key", "unique"),
            id="a feature flag key is unique in its project "
            "(products/feature_flags/backend/api/feature_flag.py: FeatureFlagSerializer.validate_key)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/feature_flags/{id}/",
            lambda client: ("/api/projects/1/feature_flags/2/", {"deleted": True}),
            400,
            _refusal(
                'Cannot delete a feature flag that is linked to running experiment(s): "Pricing page layout" '
                "(ID: 1). Please stop the experiment(s) before deleting the flag.",
                None,
            ),
            id="a flag linked to a running experiment is not deleted "
            "(products/feature_flags/backend/api/feature_flag.py: FeatureFlagSerializer.update)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/feature_flags/{id}/",
            lambda client: ("/api/projects/1/feature_flags/1/", {"archived": True}),
            400,
            _refusal(
                "Cannot archive an enabled feature flag. Disable it first, or send active: false in the same "
                "request.",
                None,
            ),
            id="an archived flag is disabled, the flag's stored active counting when the body leaves it out "
            "(products/feature_flags/backend/api/feature_flag.py: _validate_archived_flags_are_disabled)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/feature_flags/",
            lambda client: (
                "/api/projects/1/feature_flags/",
                {"key": "by-cohort", "filters": {"groups": [{"properties": [UNKNOWN_COHORT]}]}},
            ),
            400,
            _refusal("Cohort with id 987654 does not exist", "filters", "cohort_does_not_exist"),
            id="a referenced object exists: a flag condition's cohort "
            "(products/feature_flags/backend/api/feature_flag.py: FeatureFlagSerializer.validate_filters)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/dashboards/",
            lambda client: (DASHBOARDS, {"name": "From a template", "use_template": "product-analytics"}),
            400,
            _refusal("Invalid template provided: product-analytics", "use_template"),
            # mockhog stores no dashboard templates, so every template key is unknown
            id="a dashboard template exists "
            "(products/dashboards/backend/api/dashboard.py: DashboardSerializer.create)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/dashboards/",
            lambda client: (DASHBOARDS, {"name": "A copy", "use_dashboard": 987654}),
            400,
            _refusal("Invalid value provided", "use_dashboard"),
            id="a referenced object exists: the dashboard a new one copies "
            "(products/dashboards/backend/api/dashboard.py: DashboardSerializer.create)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/dashboards/",
            lambda client: (DASHBOARDS, {"name": "Filtered", "quick_filter_ids": [UNKNOWN_QUICK_FILTER]}),
            400,
            _refusal(f"Quick filters not found: {UNKNOWN_QUICK_FILTER}", "quick_filter_ids"),
            id="a referenced object exists: a dashboard's quick filters "
            "(products/dashboards/backend/api/dashboard.py: validate_quick_filter_ids)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/dashboards/{id}/",
            lambda client: (f"{DASHBOARDS}1/", {"tiles": [{"text": {"id": 987654, "body": "Notes"}}]}),
            400,
            _refusal("Text tile not found in this team.", "text"),
            id="a referenced object exists: the text a tile edits "
            "(products/dashboards/backend/api/dashboard.py: DashboardSerializer._update_tiles)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/annotations/",
            lambda client: ("/api/projects/1/annotations/", {"content": "Launch", "dashboard_id": 987654}),
            400,
            _refusal("Dashboard not found.", "dashboard_id"),
            id="a referenced object exists: an annotation's dashboard "
            "(products/annotations/backend/api/annotation.py: AnnotationSerializer.validate)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/dashboards/{dashboard_id}/sharing/passwords/",
            lambda client: (f"{DASHBOARDS}1/sharing/passwords/", {"raw_password": "correct-horse"}),
            400,
            lambda client: {"error": "Password protection must be enabled before creating passwords"},
            id="share passwords need password protection first "
            "(posthog/api/sharing.py: SharingConfigurationViewSet.create_password)",
        ),
    ]
)


# cohorts (posthog/api/cohort.py): the seeded cohort 1 is dynamic, 6 static
COHORTS = "/api/projects/1/cohorts/"
UNKNOWN_PERSON = "0b4f7a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5c"


def _a_person_uuid(client) -> str:
    return client.get("/api/projects/1/persons/?limit=1").get_json()["results"][0]["uuid"]


CASES.extend(
    [
        pytest.param(
            "post",
            "/api/projects/{project_id}/persons/{id}/split/",
            lambda client: (
                f"/api/projects/1/persons/{_a_person_uuid(client)}/split/",
                {"distinct_ids_to_split": ["not-one-of-theirs"]},
            ),
            400,
            _refusal("not on this person: ['not-one-of-theirs']", "distinct_ids_to_split"),
            id="the distinct ids split off are the person's own (posthog/api/person.py: PersonViewSet.split)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/add_persons_to_static_cohort/",
            lambda client: (
                f"{COHORTS}1/add_persons_to_static_cohort/",
                {"person_ids": [_a_person_uuid(client)]},
            ),
            400,
            _refusal("Can only add users to static cohorts", None),
            id="only a static cohort has persons added or removed: added "
            "(posthog/api/cohort.py: CohortViewSet.add_persons_to_static_cohort)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/remove_person_from_static_cohort/",
            lambda client: (
                f"{COHORTS}1/remove_person_from_static_cohort/",
                {"person_id": _a_person_uuid(client)},
            ),
            400,
            _refusal("Can only remove users from static cohorts", None),
            id="only a static cohort has persons added or removed: removed "
            "(posthog/api/cohort.py: CohortViewSet.remove_person_from_static_cohort)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/add_persons_to_static_cohort/",
            lambda client: (f"{COHORTS}6/add_persons_to_static_cohort/", {"person_ids": [UNKNOWN_PERSON]}),
            400,
            _refusal("No valid users to add to cohort", None),
            id="the persons added to a static cohort exist "
            "(posthog/api/cohort.py: add_persons_to_static_cohort, validate_person_uuids_exist)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/",
            lambda client: (f"{COHORTS}1/", {"filters": None}),
            400,
            _refusal("Must contain a 'properties' key with type and values", "filters__detail"),
            id="a stored dynamic cohort's filters hold its criteria "
            "(posthog/api/cohort.py: CohortSerializer.validate_filters, _cohort_will_be_static)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/",
            lambda client: (f"{COHORTS}1/", {"filters": {"properties": {"type": "OR"}}}),
            400,
            _refusal("Missing required keys for group: values", "filters"),
            # a static cohort takes these filters unchecked: they hold no filter
            id="a stored dynamic cohort's filters hold its criteria: a group without values "
            "(posthog/api/cohort.py: CohortSerializer.validate_filters, CohortFilters)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/cohorts/{id}/",
            lambda client: (
                f"{COHORTS}1/",
                {
                    "filters": {
                        "properties": {"type": "AND", "values": [{"type": "cohort", "key": "id", "value": 1}]}
                    }
                },
            ),
            400,
            _refusal("Cohorts cannot reference other cohorts in a loop.", None),
            id="cohorts do not reference each other in a loop "
            "(posthog/api/cohort.py: CohortSerializer.update, will_create_loops)",
        ),
    ]
)


# logs alerts (products/logs/backend/presentation/views/alerts_api.py)
LOGS_ALERTS = "/api/projects/1/logs/alerts/"
UNKNOWN_HOG_FUNCTION = "0b4f7a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5d"


def _an_alert(client) -> str:
    return client.get(LOGS_ALERTS).get_json()["results"][0]["id"]


CASES.extend(
    [
        pytest.param(
            "post",
            "/api/projects/{project_id}/surveys/",
            lambda client: (
                "/api/projects/1/surveys/",
                {
                    "name": "Translated",
                    "type": "popover",
                    "questions": [
                        {
                            "type": "single_choice",
                            "question": "Q",
                            "choices": ["a", "b"],
                            "translations": {"fr": {"question": "Q", "choices": ["a"]}},
                        }
                    ],
                },
            ),
            400,
            _refusal(
                "Question 1: Translation 'fr' has 1 choices but question has 2 choices. Array lengths must "
                "match to avoid partial translations.",
                "questions",
            ),
            id="a question's translations have as many choices as it (products/surveys/backend/api/"
            "survey.py: SurveySerializer's question translations)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/logs/query/",
            lambda client: (
                "/api/projects/1/logs/query/",
                {"query": {"dateRange": {"date_from": "-99999999999d"}}},
            ),
            400,
            _refusal("Invalid date: -99999999999d", "query__dateRange__date_from"),
            id="a relative date reaches no further back than year 1: logs (products/logs/backend/api.py: "
            "the date range's relative offset; mockhog answers 400 where the date cannot exist)",
        ),
        pytest.param(
            "get",
            "/api/projects/{project_id}/events/",
            lambda client: ("/api/projects/1/events/?after=-99999999999d", None),
            400,
            _refusal("Invalid date value for after: -99999999999d", "after"),
            id="a relative date reaches no further back than year 1: events (posthog/api/event.py: "
            "query_events_list's relative after)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/logs/query/",
            lambda client: (
                "/api/projects/1/logs/query/",
                {"query": {"dateRange": {}, "after": "bm90IGEgY3Vyc29y"}},
            ),
            400,
            _refusal("Invalid cursor", "query__after"),
            id="a logs cursor is a nextCursor the server gave: base64 of no position (products/logs/backend/"
            "api.py: LogsViewSet.query)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/logs/alerts/{id}/destinations/delete/",
            lambda client: (
                f"{LOGS_ALERTS}{_an_alert(client)}/destinations/delete/",
                {"hog_function_ids": [UNKNOWN_HOG_FUNCTION]},
            ),
            400,
            _refusal(
                f"These HogFunctions do not belong to this alert: {UNKNOWN_HOG_FUNCTION}. "
                "Refresh the alert and try again.",
                "hog_function_ids",
            ),
            id="the destinations removed are the alert's own "
            "(products/logs/backend/presentation/views/alerts_api.py: LogsAlertViewSet.delete_destination)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/logs/alerts/{id}/",
            lambda client: (f"{LOGS_ALERTS}{_an_alert(client)}/", {"snooze_until": "2000-01-01T00:00:00Z"}),
            400,
            _refusal("Must be a future datetime.", "snooze_until"),
            # "the future" is the server's clock: no schema states it
            id="a logs alert's snooze ends in the future "
            "(products/logs/backend/presentation/views/alerts_api.py: LogsAlertConfigurationSerializer)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/logs/alerts/{id}/",
            lambda client: (f"{LOGS_ALERTS}{_an_alert(client)}/", {"filters": {}}),
            400,
            _refusal(
                "At least one filter is required (severityLevels, serviceNames, or filterGroup).", "filters"
            ),
            # the seeded alert is enabled: the body leaves that to the stored alert
            id="an enabled logs alert has a filter (products/logs/backend/presentation/views/alerts_api.py: "
            "LogsAlertConfigurationSerializer.validate)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/logs/alerts/{id}/",
            lambda client: (f"{LOGS_ALERTS}{_an_alert(client)}/", {"datapoints_to_alarm": 10}),
            400,
            _refusal("Cannot exceed evaluation_periods (10 > 3).", "datapoints_to_alarm"),
            id="a logs alert alarms within its evaluation periods, the stored ones where the body leaves "
            "them out (products/logs/backend/presentation/views/alerts_api.py: "
            "LogsAlertConfigurationSerializer)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/logs/alerts/simulate/",
            lambda client: (
                f"{LOGS_ALERTS}simulate/",
                {
                    "filters": {"serviceNames": ["api-gateway"]},
                    "threshold_count": 1,
                    "threshold_operator": "above",
                    "window_minutes": 5,
                    "date_from": "-40d",
                },
            ),
            400,
            _refusal("date_from cannot be more than 30 days in the past.", "date_from"),
            # how far back -40d or a date reaches is the server's clock's
            id="a logs alert simulation looks back at most 30 days "
            "(products/logs/backend/presentation/views/alerts_api.py: LogsAlertSimulateSerializer)",
        ),
    ]
)


# annotations, file_system, sharing, error_tracking, tasks, llm_gateway
ANNOTATIONS = "/api/projects/1/annotations/"
RELEASES = "/api/environments/1/error_tracking/releases/"


def _filed(client, kind: str) -> str:
    """A new file system entry of ``kind`` with no ref: its id."""
    response = client.post(FS, json={"path": f"Unfiled/A {kind}", "type": kind})
    assert response.status_code == 201
    return response.get_json()["id"]


CASES.extend(
    [
        pytest.param(
            "patch",
            "/api/projects/{project_id}/annotations/{id}/",
            lambda client: (
                f"{ANNOTATIONS}{_first(client, ANNOTATIONS, scope='project')['id']}/",
                {"tags": ["web"]},
            ),
            400,
            _refusal("Tags can only be set when scope is 'tag'.", "tags"),
            id="an annotation's tags follow its stored scope: tags on a project annotation "
            "(products/annotations/backend/api/annotation.py: AnnotationSerializer.validate)",
        ),
        pytest.param(
            "delete",
            "/api/projects/{project_id}/file_system/{id}/",
            lambda client: (f"{FS}{_filed(client, 'widget')}/", None),
            400,
            _refusal("Cannot delete resources with type 'widget'.", "detail"),
            id="only an entry of a registered type, with its reference, is deleted: an unregistered type "
            "(posthog/api/file_system/file_system.py: FileSystemViewSet._delete_file_system_entry)",
        ),
        pytest.param(
            "delete",
            "/api/projects/{project_id}/file_system/{id}/",
            lambda client: (f"{FS}{_filed(client, 'insight')}/", None),
            400,
            _refusal("Cannot delete type 'insight' without a reference.", "detail"),
            id="only an entry of a registered type, with its reference, is deleted: no ref "
            "(posthog/api/file_system/file_system.py: FileSystemViewSet._delete_file_system_entry)",
        ),
        pytest.param(
            "post",
            "/api/environments/{project_id}/error_tracking/releases/",
            lambda client: (
                f"{RELEASES}",
                {"hash_id": _first(client, RELEASES)["hash_id"], "version": "1.2.0", "project": "web"},
            ),
            400,
            lambda client: {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": f"Hash id {_first(client, RELEASES)['hash_id']} already in use",
                "attr": None,
            },
            id="a release's hash id is unique in its project "
            "(products/error_tracking/backend/api/releases.py: ErrorTrackingReleaseViewSet.validate_hash_id)",
        ),
        pytest.param(
            "delete",
            "/api/environments/{project_id}/error_tracking/fingerprints/{id}/",
            lambda client: (
                "/api/environments/1/error_tracking/fingerprints/e3e70682-c209-1cac-a29f-6fbed82c07cd/",
                None,
            ),
            405,
            lambda client: None,
            id="these objects are never deleted, only marked deleted: error tracking fingerprints "
            "(products/error_tracking/backend/presentation/views.py: ErrorTrackingFingerprintViewSet is a "
            "ForbidDestroyModel on a read-only viewset)",
        ),
    ]
)


# -- experiments, experiment holdouts and experiment saved metrics --
EXPERIMENTS = "/api/projects/1/experiments/"
SAVED_METRICS = "/api/projects/1/experiment_saved_metrics/"
SERVICE = "products/experiments/backend/experiment_service.py"


def _new_experiment(**fields: Any) -> dict[str, Any]:
    return {"name": "Checkout copy", "feature_flag_key": "checkout-copy-test", **fields}


def _mean_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"kind": "ExperimentMetric", "metric_type": "mean", "source": node}]


def _boolean_flag_key(client) -> str:
    rows = client.get("/api/projects/1/feature_flags/?limit=100").get_json()["results"]
    return next(r["key"] for r in rows if not (r["filters"].get("multivariate") or {}).get("variants"))


def _long_named_experiment(client) -> int:
    created = client.post(EXPERIMENTS, json=_new_experiment(name="n" * 400))
    return created.get_json()["id"]


def _saved_metric(client) -> dict[str, Any]:
    return client.get(SAVED_METRICS).get_json()["results"][0]


CASES.extend(
    [
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/{id}/launch/",
            lambda client: (f"{EXPERIMENTS}1/launch/", None),
            400,
            _refusal("Experiment has already been launched.", None),
            id=f"an experiment's lifecycle action fits its state: the running one is launched ({SERVICE}: "
            "launch_experiment; end, pause, resume, archive, unarchive and reset likewise)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/{id}/ship_variant/",
            lambda client: (f"{EXPERIMENTS}1/ship_variant/", {"variant_key": "nope"}),
            400,
            _refusal("Variant 'nope' not found on feature flag.", None),
            id=f"a shipped variant is one of the experiment flag's ({SERVICE}: ship_variant)",
        ),
        pytest.param(
            "delete",
            "/api/projects/{project_id}/experiments/{id}/",
            lambda client: (f"{EXPERIMENTS}1/", None),
            405,
            lambda client: None,
            id="these objects are never deleted, only marked deleted: experiments (PATCH deleted: true) "
            "(products/experiments/backend/presentation/views.py: ForbidDestroyModel)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (EXPERIMENTS, _new_experiment(feature_flag_key=_boolean_flag_key(client))),
            400,
            _refusal(
                "Feature flag must have at least 2 variants (control and at least one test variant)", None
            ),
            id=f"an experiment's flag is multivariate with a control: an existing boolean flag ({SERVICE}: "
            "_validate_existing_flag)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (
                EXPERIMENTS,
                _new_experiment(metrics=_mean_of({"kind": "EventsNode", "event": "never-seen"})),
            ),
            400,
            _refusal(
                "Event(s) 'never-seen' not found. No events with these names have been ingested by this "
                "project. If you meant a different event, please correct it. Only if the user has explicitly "
                "confirmed they want to proceed with the unknown event (e.g. they will instrument it "
                "shortly), call again with allow_unknown_events=True. Do not flip the flag silently to "
                "bypass this check.",
                None,
            ),
            id=f"a metric's events were ingested, unless allowed ({SERVICE}: validate_metric_event_names)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (
                EXPERIMENTS,
                _new_experiment(metrics=_mean_of({"kind": "ActionsNode", "id": 987654})),
            ),
            400,
            _refusal(
                "Action(s) with ID 987654 not found or deleted. Each ActionsNode must reference an existing "
                "action belonging to this project.",
                None,
            ),
            id=f"a metric's actions exist ({SERVICE}: validate_metric_action_ids)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (EXPERIMENTS, _new_experiment(saved_metrics_ids=[{"id": 987654}])),
            400,
            _refusal("Saved metric does not exist or does not belong to this project", "saved_metrics_ids"),
            id=f"an experiment's saved metrics exist ({SERVICE}: validate_saved_metrics_ids)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (
                EXPERIMENTS,
                _new_experiment(
                    parameters={
                        "feature_flag_variants": [
                            {"key": "control", "split_percent": 50},
                            {"key": "test", "split_percent": 40},
                        ]
                    }
                ),
            ),
            400,
            _refusal("Invalid variant definitions: Variant rollout percentages must sum to 100.", "filters"),
            id=f"an experiment's variants split 100 percent ({SERVICE}: _ensure_feature_flag, through "
            "FeatureFlagSerializer)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (EXPERIMENTS, _new_experiment(stats_config={"baseline_variant_key": "nope"})),
            400,
            _refusal("Invalid baseline_variant_key: 'nope'. Must be one of: control, test", None),
            id=f"an experiment's baseline and excluded variants are its flag's ({SERVICE}: "
            "validate_stats_config, _validate_excluded_variant_keys)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (
                EXPERIMENTS,
                _new_experiment(parameters={"feature_flag_payloads": {"nope": "1"}}),
            ),
            400,
            _refusal("Payload keys must match a variant key for multivariate flags", "filters"),
            id=f"payload keys name the experiment flag's variants ({SERVICE}: _ensure_feature_flag, through "
            "FeatureFlagSerializer)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/",
            lambda client: (
                EXPERIMENTS,
                _new_experiment(start_date="2025-01-02T00:00:00Z", end_date="2025-01-01T00:00:00Z"),
            ),
            400,
            _refusal("End date must be after start date", None),
            id=f"an experiment ends after it starts ({SERVICE}: validate_experiment_date_range)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/experiments/{id}/",
            lambda client: (f"{EXPERIMENTS}1/", {"type": "web"}),
            400,
            _refusal("Can't update keys: type on Experiment", None),
            id=f"an update changes only what an update may: not the type, the folder or the flag key "
            f"({SERVICE}: _validate_update_payload)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/experiments/{id}/",
            lambda client: (
                f"{EXPERIMENTS}1/",
                {
                    "holdout_id": client.get("/api/projects/1/experiment_holdouts/").get_json()["results"][0][
                        "id"
                    ]
                },
            ),
            400,
            _refusal("Can't update holdout on running Experiment", None),
            id=f"a running experiment keeps its variants and holdout ({SERVICE}: _validate_update_payload)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiment_saved_metrics/",
            lambda client: (
                SAVED_METRICS,
                {"name": _saved_metric(client)["name"].upper(), "query": _saved_metric(client)["query"]},
            ),
            400,
            _refusal("A shared metric with this name already exists.", "name"),
            id="a shared metric name is unique in its project, whatever its case "
            "(products/experiments/backend/presentation/saved_metric_serializers.py: validate_name)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/experiment_saved_metrics/{id}/",
            lambda client: (
                f"{SAVED_METRICS}{_saved_metric(client)['id']}/",
                {"query": {**_saved_metric(client)["query"], "uuid": "another"}},
            ),
            400,
            _refusal("Saved metric UUID cannot be changed", None),
            id="a saved metric keeps its uuid "
            "(products/experiments/backend/experiment_saved_metric_service.py: normalize_query_for_write)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/experiments/{id}/",
            lambda client: (f"{EXPERIMENTS}1/", {"primary_metrics_ordered_uuids": []}),
            400,
            lambda client: _refusal(
                "primary_metrics_ordered_uuids is missing UUIDs: "
                f"{[client.get(f'{EXPERIMENTS}1/').get_json()['metrics'][0]['uuid']]!r}. "
                "This is likely a frontend bug - please refresh and try again.",
                None,
            )(client),
            id=f"an experiment's metric orderings list its metrics ({SERVICE}: "
            "_validate_metric_ordering_on_update)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/experiments/{id}/duplicate/",
            lambda client: (f"{EXPERIMENTS}{_long_named_experiment(client)}/duplicate/", {}),
            400,
            lambda client: {
                "type": "validation_error",
                "code": "max_length",
                "detail": "Ensure this field has no more than 400 characters.",
                "attr": "name",
            },
            id=f"a copy's name fits an experiment's 400 characters: '<name> (Copy)' of a 400-character "
            f"name ({SERVICE}: clone_experiment; PostHog's insert fails)",
        ),
    ]
)

# -- hog functions --
HOG_FUNCTIONS = "/api/projects/1/hog_functions/"
HOG_SCHEMA = [{"key": "url", "type": "string", "required": True}, {"key": "retries", "type": "number"}]
CDP_VALIDATION = "posthog/cdp/validation.py: InputsItemSerializer.validate"


def _hog_create(client, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A create with these inputs, the table seeded first (the generic tier seeds it on first use)."""
    client.get(HOG_FUNCTIONS)
    return HOG_FUNCTIONS, {
        "type": "destination",
        "name": "Webhook",
        "inputs_schema": HOG_SCHEMA,
        "inputs": inputs,
    }


CASES.extend(
    [
        pytest.param(
            "post",
            "/api/projects/{project_id}/hog_functions/",
            lambda client: _hog_create(client, {}),
            400,
            _refusal("This field is required.", "inputs__url"),
            id=f"a hog function's inputs fit their inputs_schema: a required one has a value "
            f"({CDP_VALIDATION})",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/hog_functions/",
            lambda client: _hog_create(
                client, {"url": {"value": "https://example.com"}, "retries": {"value": "three"}}
            ),
            400,
            _refusal("Value must be a number.", "inputs__retries"),
            id=f"a hog function's inputs fit their inputs_schema: a value has its item's type "
            f"({CDP_VALIDATION})",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/hog_functions/{id}/",
            lambda client: (
                f"{HOG_FUNCTIONS}{client.get(HOG_FUNCTIONS).get_json()['results'][0]['id']}/",
                {"inputs_schema": HOG_SCHEMA},
            ),
            400,
            _refusal("This field is required.", "inputs__url"),
            id="a hog function's inputs fit their inputs_schema: an update's schema is read against the "
            f"stored inputs (posthog/api/hog_function.py: to_internal_value; {CDP_VALIDATION})",
        ),
    ]
)


def _source_of(client, source_type: str) -> str:
    sources = "/api/projects/1/external_data_sources/"
    return f"{sources}{_first(client, sources, source_type=source_type)['id']}/"


# -- external data sources: what the stored source's type and state allow --
CASES.extend(
    [
        pytest.param(
            "post", EDS + "{id}/delete_webhook/",
            lambda client: (f"{_source_of(client, 'Postgres')}delete_webhook/", None), 400,
            lambda client: {"message": "This source type does not support webhooks"},
            id="a webhook is set up on a source of a webhook type: delete_webhook "
            f"({EDS_VIEWS}webhook_setup.py: the source class is no WebhookSource)",
        ),
        pytest.param(
            "post", EDS + "{id}/create_webhook/",
            lambda client: (f"{_source_of(client, 'Postgres')}create_webhook/", {}), 400,
            lambda client: {"message": "This source type does not support webhooks"},
            id="a webhook is set up on a source of a webhook type: create_webhook "
            f"({EDS_VIEWS}webhook_setup.py)",
        ),
        pytest.param(
            "post", EDS + "{id}/update_webhook_inputs/",
            lambda client: (
                f"{_source_of(client, 'Stripe')}update_webhook_inputs/", {"inputs": {"bogus": "x"}}
            ),
            400,
            lambda client: {"message": "Invalid input keys: bogus"},
            id="webhook inputs name the source type's webhook fields: an unknown name "
            f"({EDS_VIEWS}webhook_setup.py: the source config's webhookFields)",
        ),
        pytest.param(
            "post", EDS + "{id}/update_webhook_inputs/",
            lambda client: (
                f"{_source_of(client, 'Stripe')}update_webhook_inputs/", {"inputs": {"signing_secret": ""}}
            ),
            400,
            lambda client: {"message": "Missing required fields: signing_secret"},
            id="webhook inputs name the source type's webhook fields: a required one blank "
            f"({EDS_VIEWS}webhook_setup.py)",
        ),
        pytest.param(
            "post", EDS + "{id}/create_webhook/",
            lambda client: (f"{_source_of(client, 'Stripe')}create_webhook/", {"inputs": {"bogus": "x"}}),
            400,
            lambda client: {"message": "Invalid webhook inputs"},
            id="webhook inputs name the source type's webhook fields: create_webhook "
            f"({EDS_VIEWS}webhook_setup.py)",
        ),
        pytest.param(
            "post", EDS + "{id}/update_webhook_inputs/",
            lambda client: (
                f"{_source_of(client, 'Stripe')}update_webhook_inputs/",
                {"inputs": {"signing_secret": "whsec_1"}},
            ),
            400,
            lambda client: {"message": "No webhook function found for this source. Create a webhook first."},
            id="webhook inputs update the source's existing webhook "
            f"({EDS_VIEWS}webhook_setup.py: no warehouse_source_webhook HogFunction for the source)",
        ),
        pytest.param(
            "post", EDS + "{id}/repair_cdc/",
            lambda client: (f"{_source_of(client, 'Hubspot')}repair_cdc/", None), 400,
            lambda client: {"message": "CDC is not supported for source type: Hubspot"},
            id="CDC is repaired on a CDC source with CDC on: a type with no CDC adapter "
            f"({EDS_VIEWS}change_data_capture.py: _get_cdc_adapter_or_400)",
        ),
        pytest.param(
            "post", EDS + "{id}/repair_cdc/",
            lambda client: (f"{_source_of(client, 'Postgres')}repair_cdc/", None), 400,
            lambda client: {"message": "CDC is not enabled on this source."},
            id="CDC is repaired on a CDC source with CDC on: CDC off "
            f"({EDS_VIEWS}change_data_capture.py: repair_cdc)",
        ),
        pytest.param(
            "post", EDS + "source_prefix/",
            lambda client: (f"{EDS.replace('{project_id}', '1')}source_prefix/", {"source_type": "Stripe"}),
            400,
            lambda client: {
                "message": "You already have a source of this type. Add a table prefix so this connection's "
                "tables don't clash with your existing source."
            },
            id="a second source of a type needs a prefix of its own: none given "
            f"({EDS_VIEWS}source_setup.py: prefix_required)",
        ),
        pytest.param(
            "post", EDS,
            lambda client: (
                "/api/projects/1/external_data_sources/",
                {"source_type": "Stripe", "prefix": "stripe_", "payload": {"stripe_secret_key": "rk_1"}},
            ),
            400,
            lambda client: {
                "message": "Another source of this type already uses the prefix 'stripe_'. Choose a "
                "different prefix so this connection's tables don't clash."
            },
            id="a second source of a type needs a prefix of its own: one taken "
            f"({EDS_VIEWS}source_setup.py: prefix_exists)",
        ),
        pytest.param(
            "delete", "/api/environments/{project_id}/evaluations/{id}/",
            lambda client: ("/api/environments/1/evaluations/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/", None),
            405,
            lambda client: None,
            id="these objects are never deleted, only marked deleted: LLM evaluations (PATCH deleted: true) "
            "(products/llm_analytics/backend/api/evaluations.py: ForbidDestroyModel)",
        ),
    ]
)  # fmt: skip


# -- environments and projects, groups types, dashboards, user interviews, surveys, events --
TEMPLATES = "/api/projects/1/dashboard_templates/"
SURVEYS = "/api/projects/1/surveys/"


def _surveys(client) -> list[dict[str, Any]]:
    return client.get(SURVEYS).get_json()["results"]


def _ended_survey(client) -> str:
    body = {"name": "Ended", "type": "popover", "end_date": "2024-01-01T00:00:00Z"}
    created = client.post(SURVEYS, json=body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


CASES.extend(
    [
        pytest.param(
            "delete",
            "/api/projects/{project_id}/dashboard_templates/{id}/",
            lambda client: (f"{TEMPLATES}{_first(client, TEMPLATES)['id']}/", None),
            405,
            lambda client: None,
            id="these objects are never deleted, only marked deleted: dashboard templates "
            "(PATCH deleted: true) (products/dashboards/backend/api/dashboard_templates.py: "
            "DashboardTemplateViewSet is a ForbidDestroyModel)",
        ),
        pytest.param(
            "patch",
            "/api/projects/{project_id}/surveys/{id}/",
            lambda client: (
                f"{SURVEYS}{_surveys(client)[1]['id']}/",
                {"name": _surveys(client)[0]["name"]},
            ),
            400,
            lambda client: {
                "type": "validation_error",
                "code": "unique",
                "detail": "There is already another survey with this name.",
                "attr": None,
            },
            id="an updated survey's name is no other survey's (products/surveys/backend/api/survey.py: "
            "SurveySerializerCreateUpdateOnly.validate, the existing survey's rename)",
        ),
        pytest.param(
            "post",
            "/api/projects/{project_id}/surveys/{id}/launch/",
            lambda client: (f"{SURVEYS}{_ended_survey(client)}/launch/", None),
            400,
            lambda client: {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": "Cannot launch a survey with end_date in the past. Extend the end_date first.",
                "attr": None,
            },
            id="a survey that has ended is not launched (products/surveys/backend/api/survey.py: "
            "SurveyViewSet.launch, the stored end_date before now)",
        ),
    ]
)


@pytest.mark.parametrize("method, template, request_of, status, answer", CASES)
def test_a_schema_valid_request_refused_by_a_rule_of_posthogs(
    client, backend, method, template, request_of, status, answer
):
    document = backend.openapi()
    url, body = request_of(client)
    schema = _body_schema(document, template, method)
    if body is not None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        registry = Registry().with_resource("openapi.json", resource)
        resolved = {"$ref": "openapi.json" + schema["$ref"]}
        errors = list(Draft202012Validator(resolved, registry=registry).iter_errors(body))
        assert not errors, f"the published schema already refuses it: {errors[0].message}"
    else:
        assert schema is None or not document["paths"][template][method]["requestBody"]["required"]
    expected = answer(client)
    before = backend.store.dump()
    response = client.open(url, method=method.upper(), json=body)
    assert response.status_code == status
    assert (response.get_json() if expected is not None else response.data) == (
        expected if expected is not None else b""
    )
    assert backend.store.dump() == before
