"""Feature flags REST: validation, soft delete, list filters, local evaluation.

Each test names the PostHog source it restates."""

import pytest

BASE = "/api/projects/1/feature_flags/"
SIMPLE = {"groups": [{"properties": [], "rollout_percentage": 30}]}


def _create(client, key="my-flag", filters=None, **extra):
    return client.post(BASE, json={"key": key, "filters": SIMPLE if filters is None else filters, **extra})


def test_create_answers_the_serializer_fields(client):
    """FeatureFlagSerializer.create (posthog/api/feature_flag.py): version 1, created_by the user,
    payloads normalised to {}, status ACTIVE."""
    response = _create(client, name="A test flag")
    assert response.status_code == 201
    flag = response.get_json()
    assert flag["key"] == "my-flag" and flag["name"] == "A test flag"
    assert flag["version"] == 1 and flag["active"] is True and flag["deleted"] is False
    assert flag["created_by"]["email"] == "max@hedgebox.dev"
    assert flag["filters"] == {**SIMPLE, "payloads": {}}
    assert flag["status"] == "ACTIVE" and flag["experiment_set"] == []
    assert client.get(f"{BASE}{flag['id']}/").get_json() == flag


def test_key_is_required(refused):
    """DRF's required field: key is a model field without a default (posthog/api/feature_flag.py)."""
    refused("post", BASE, {"filters": SIMPLE}, "required", "key", "This field is required.")


@pytest.mark.parametrize("key", ["has space", "dots.not.ok", "emoji-🚀"])
def test_key_format(refused, key):
    """FeatureFlagSerializer.validate_key: ^[a-zA-Z0-9_-]+$ (posthog/api/feature_flag.py)."""
    detail = "Only letters, numbers, hyphens (-) & underscores (_) are allowed."
    refused("post", BASE, {"key": key, "filters": SIMPLE}, "invalid_key", "key", detail)


def test_duplicate_key_in_project(refused):
    """validate_key: another undeleted flag of the project holds the key (posthog/api/feature_flag.py)."""
    body = {"key": "new-onboarding", "filters": SIMPLE}
    refused("post", BASE, body, "unique", "key", "There is already a feature flag with this key.")


def test_a_soft_deleted_key_can_be_taken_again(client):
    """create() hard-deletes soft-deleted flags with the key first (posthog/api/feature_flag.py)."""
    assert client.patch(f"{BASE}1/", json={"deleted": True}).status_code == 200
    response = _create(client, key="new-onboarding")
    assert response.status_code == 201
    assert client.get(f"{BASE}1/").status_code == 404


def test_delete_is_refused_before_any_lookup_and_patch_deletes(client, backend):
    """posthog/api/feature_flag.py: FeatureFlagViewSet mixes in ForbidDestroyModel and defines no
    destroy, so DELETE is posthog/api/forbid_destroy_model.py's Response(status=405) for a known and
    an unknown id alike: no body, no Content-Type (DRF's Response.rendered_content drops it for an
    empty render), the view's Allow (APIView.finalize_response); a read-only key is refused first
    (APIScopePermission in APIView.initial, before the handler). Soft delete is PATCH
    {"deleted": true}, after which the list leaves the flag out (safely_get_queryset)."""
    before = backend.store.dump()
    for key in (1, 999999):
        response = client.delete(f"{BASE}{key}/")
        assert response.status_code == 405 and response.data == b""
        assert "Content-Type" not in response.headers
        assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    assert backend.store.dump() == before
    minted = client.post("/_mockhog/personal_api_keys", json={"label": "ro", "scopes": ["feature_flag:read"]})
    read_only = {"Authorization": f"Bearer {minted.get_json()['value']}"}
    refused = client.delete(f"{BASE}999999/", headers=read_only)
    assert refused.status_code == 403 and refused.get_json()["code"] == "permission_denied"
    assert client.get(f"{BASE}1/").get_json()["deleted"] is False
    patched = client.patch(f"{BASE}1/", json={"deleted": True}).get_json()
    assert patched["deleted"] is True and patched["status"] == "DELETED" and patched["version"] == 2
    keys = [flag["key"] for flag in client.get(BASE).get_json()["results"]]
    assert "new-onboarding" not in keys


FILTER_RULES = [
    ({}, "invalid_input", "Feature flags must have at least one condition set (group)."),
    (
        {"groups": [{"properties": [{"key": "x", "type": "event", "value": "y"}]}]},
        "invalid_input",
        "Filters are not valid (can only use person, cohort, and flag properties)",
    ),
    (
        {"groups": [{"properties": [{"key": "1", "type": "flag", "value": True, "operator": "exact"}]}]},
        "invalid_input",
        "Flag properties must use the 'flag_evaluates_to' operator",
    ),
    (
        {
            "aggregation_group_type_index": 0,
            "groups": [{"properties": [{"key": "plan", "type": "person", "value": "pro"}]}],
        },
        "invalid_input",
        "Filters are not valid (can only use group properties)",
    ),
    (
        {
            "groups": [{"rollout_percentage": 100}],
            "multivariate": {
                "variants": [{"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 40}]
            },
        },
        "invalid_input",
        "Invalid variant definitions: Variant rollout percentages must sum to 100.",
    ),
    (
        {
            "groups": [{"rollout_percentage": 100, "variant": "c"}],
            "multivariate": {"variants": [{"key": "a", "rollout_percentage": 100}]},
        },
        "invalid_input",
        "Filters are not valid (variant override does not exist)",
    ),
    (
        {"groups": [{"properties": [{"key": "age", "type": "person", "value": 30, "operator": "gt"}]}]},
        "invalid_value",
        "Invalid value for operator gt: 30",
    ),
    (
        {"groups": [{"properties": [{"key": "plan", "type": "person", "value": ["pro"], "operator": "in"}]}]},
        "invalid_operator",
        "The 'in' operator is only valid for cohort properties, not 'person' properties.",
    ),
    (
        {"groups": [{"properties": [{"key": "id", "type": "cohort", "value": 99999}]}]},
        "cohort_does_not_exist",
        "Cohort with id 99999 does not exist",
    ),
    (
        {
            "groups": [
                {"properties": [{"key": "d", "type": "person", "value": "soon", "operator": "is_date_after"}]}
            ]
        },
        "invalid_date",
        "Invalid date value: soon",
    ),
    ({"groups": [{}], "payloads": {"true": "{not json"}}, "invalid_input", "Payload value is not valid JSON"),
    (
        {"groups": [{}], "payloads": {"yes": "1"}},
        "invalid_input",
        "Payload keys must be 'true' for boolean flags",
    ),
    (
        {
            "groups": [{}],
            "multivariate": {"variants": [{"key": "a", "rollout_percentage": 100}]},
            "payloads": {"b": "1"},
        },
        "invalid_input",
        "Payload keys must match a variant key for multivariate flags",
    ),
]


@pytest.mark.parametrize(("filters", "code", "detail"), FILTER_RULES)
def test_filters_validation(refused, filters, code, detail):
    """FeatureFlagSerializer.validate_filters, each rule and message (posthog/api/feature_flag.py)."""
    refused("post", BASE, {"key": "checked", "filters": filters}, code, "filters", detail)


def test_object_payloads_are_stored_as_json_text(client):
    """validate_filters normalises dict payloads with json.dumps (posthog/api/feature_flag.py)."""
    flag = _create(client, filters={"groups": [{}], "payloads": {"true": {"a": 1}}}).get_json()
    assert flag["filters"]["payloads"] == {"true": '{"a": 1}'}


def test_patch_without_groups_keeps_the_filters(client):
    """validate_filters: a PATCH whose filters lack "groups" keeps the stored ones
    (posthog/api/feature_flag.py)."""
    before = client.get(f"{BASE}2/").get_json()["filters"]
    after = client.patch(f"{BASE}2/", json={"filters": {"payloads": {}}}).get_json()
    assert after["filters"] == before and after["version"] == 2


def test_list_filters_and_search(client):
    """FeatureFlagViewSet._apply_filters: active, search (key or name, case-insensitive), type,
    excluded_properties (posthog/api/feature_flag.py)."""
    client.patch(f"{BASE}3/", json={"active": False})

    def keys(query):
        return {flag["key"] for flag in client.get(f"{BASE}?{query}").get_json()["results"]}

    assert keys("active=false") == {"paid-features"}
    assert "paid-features" not in keys("active=true")
    assert keys("search=BANNER") == {"homepage-banner"}
    assert keys("search=half of") == {"new-onboarding"}
    assert keys("type=multivariant") == {"pricing-page-test"}
    assert "pricing-page-test" not in keys("type=boolean")
    assert keys('excluded_properties=["new-onboarding","paid-features"]') == {
        "pricing-page-test",
        "homepage-banner",
    }


def test_list_order(client):
    """safely_get_queryset: -created_at unless ?order= (posthog/api/feature_flag.py)."""
    results = client.get(BASE).get_json()["results"]
    created = [flag["created_at"] for flag in results]
    assert created == sorted(created, reverse=True)
    by_key = [flag["key"] for flag in client.get(f"{BASE}?order=key").get_json()["results"]]
    assert by_key == sorted(by_key)


def test_local_evaluation_shape(client):
    """_get_flags_response_for_local_evaluation: MinimalFeatureFlagSerializer rows, the group type
    mapping, cohorts (posthog/models/feature_flag/local_evaluation.py); soft-deleted flags left out."""
    client.patch(f"{BASE}1/", json={"deleted": True})
    body = client.get(f"{BASE}local_evaluation/?send_cohorts").get_json()
    assert set(body) == {"flags", "group_type_mapping", "cohorts"}
    assert body["group_type_mapping"] == {"0": "organization", "1": "instance"}
    assert [flag["key"] for flag in body["flags"]] == [
        "pricing-page-test",
        "paid-features",
        "homepage-banner",
    ]
    assert set(body["flags"][0]) == {
        "id", "team_id", "name", "key", "filters", "deleted", "active", "ensure_experience_continuity",
        "has_encrypted_payloads", "version", "evaluation_runtime", "bucketing_identifier", "evaluation_tags",
    }  # fmt: skip


def test_local_evaluation_with_a_project_secret_key(client, backend):
    """local_evaluation allows ProjectSecretAPIKeyAuthentication (posthog/api/feature_flag.py); the key
    answers only for its own project, and a personal key still works."""
    created = client.post(
        "/api/projects/1/project_secret_api_keys/", json={"label": "flags", "scopes": ["endpoint:read"]}
    )
    secret = created.get_json()["value"]
    anonymous = client.application.test_client()
    answer = anonymous.get(f"{BASE}local_evaluation/", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and len(answer.get_json()["flags"]) == 4
    wrong = anonymous.get(f"{BASE}local_evaluation/", headers={"Authorization": "Bearer phs_not_a_key"})
    assert wrong.status_code == 401
    other = anonymous.get(f"{BASE}", headers={"Authorization": f"Bearer {secret}"})
    assert other.status_code == 401


@pytest.mark.parametrize(
    ("filters", "detail"),
    [
        (
            {"groups": [{"rollout_percentage": "half"}]},
            "Filters are not valid (rollout_percentage must be a number or null)",
        ),
        (
            {"groups": [{}], "multivariate": "x"},
            "Filters are not valid (multivariate.variants must be a list of {key, rollout_percentage})",
        ),
        ({"groups": [{"properties": 3}]}, "Filters are not valid (properties must be a list)"),
        ({"groups": "all"}, "Filters are not valid (groups must be a list of condition sets)"),
    ],
)
def test_shapes_posthog_would_fail_on_are_refused(refused, filters, detail):
    """validate_filters assumes these shapes (posthog/api/feature_flag.py raises a 500 on them);
    mockhog answers a 400 in the same envelope instead (docs/divergences.md)."""
    refused("post", BASE, {"key": "odd", "filters": filters}, "invalid_input", "filters", detail)


def test_remote_config(client, backend):
    """remote_config: by id or key, the "true" payload as stored, 404 for a flag that is not a
    remote configuration, null for one with no payload; a project secret key may call it
    (posthog/api/feature_flag.py). PostHog's Response(status=404) and Response(None) render no
    bytes and drop the Content-Type; mockhog answers the JSON its document states (the not-found
    error, null), as clients that parse every answer as JSON expect (docs/divergences.md)."""
    body = {
        "key": "site-config",
        "is_remote_configuration": True,
        "filters": {"groups": [{}], "payloads": {"true": {"theme": "dark"}}},
    }
    flag = client.post(BASE, json=body).get_json()
    by_key = client.get(f"{BASE}site-config/remote_config/")
    assert by_key.status_code == 200 and by_key.get_json() == '{"theme": "dark"}'
    assert client.get(f"{BASE}{flag['id']}/remote_config/").get_json() == '{"theme": "dark"}'
    not_found = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
    for path in ("new-onboarding", "99999", "no-such-flag"):
        plain = client.get(f"{BASE}{path}/remote_config/")
        assert (plain.status_code, plain.content_type) == (404, "application/json")
        assert plain.get_json() == not_found
    bare = client.post(BASE, json={**body, "key": "no-payload", "filters": {"groups": [{}]}}).get_json()
    empty = client.get(f"{BASE}{bare['id']}/remote_config/")
    assert (empty.status_code, empty.content_type, empty.data) == (200, "application/json", b"null")
    secret = client.post(
        "/api/projects/1/project_secret_api_keys/", json={"label": "rc", "scopes": ["endpoint:read"]}
    )
    headers = {"Authorization": f"Bearer {secret.get_json()['value']}"}
    answer = client.application.test_client().get(
        "/api/projects/@current/feature_flags/site-config/remote_config/", headers=headers
    )
    assert answer.get_json() == '{"theme": "dark"}'


def test_my_flags_evaluates_for_the_user(client):
    """my_flags: every undeleted flag, newest first, with the value for request.user.distinct_id
    (posthog/api/feature_flag.py; values from the same evaluation as /flags/)."""
    from mockhog.flags import bucket

    client.patch(f"{BASE}3/", json={"active": False})
    answer = client.get(f"{BASE}my_flags/").get_json()
    assert [row["feature_flag"]["key"] for row in answer] == [
        flag["key"] for flag in client.get(BASE).get_json()["results"]
    ]
    values = {row["feature_flag"]["key"]: row["value"] for row in answer}
    assert values["paid-features"] is False  # inactive: not evaluated, so False
    assert values["new-onboarding"] is (bucket("new-onboarding", "mockhog-user-1") <= 0.5)
    assert values["pricing-page-test"] in ("control", "test-a", "test-b")


def test_evaluation_reasons(client):
    """evaluation_reasons: value and {reason, condition_index} per flag, disabled flags added with
    reason "disabled" (posthog/api/feature_flag.py)."""
    client.patch(f"{BASE}3/", json={"active": False})
    answer = client.get(f"{BASE}evaluation_reasons/?distinct_id=someone").get_json()
    assert answer["paid-features"] == {
        "value": False,
        "evaluation": {"reason": "disabled", "condition_index": None},
    }
    assert answer["pricing-page-test"]["evaluation"] == {"reason": "condition_match", "condition_index": 0}
    assert answer["homepage-banner"] == {
        "value": False,
        "evaluation": {"reason": "no_condition_match", "condition_index": 0},
    }
    bad = client.get(f"{BASE}evaluation_reasons/?distinct_id=x&groups=[1]")
    assert bad.status_code == 400 and bad.get_json()["detail"] == "groups must be a JSON object"


def test_status_follows_the_stale_rule(client, backend):
    """_apply_filters' STALE: last_called_at over 30 days ago, else fully rolled out and 30 days old;
    a multivariate flag needs a variant at 100 % too (posthog/api/feature_flag.py)."""
    table = backend.store.table(1, "feature_flags")
    old = "2020-01-01T00:00:00.000000Z"
    full = {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {}}
    table.put(1, {**table.get(1), "created_at": old, "filters": full})
    table.put(2, {**table.get(2), "created_at": old})  # 100 % but split 34/33/33: still active
    table.put(4, {**table.get(4), "last_called_at": old})
    assert client.get(f"{BASE}1/").get_json()["status"] == "STALE"
    assert client.get(f"{BASE}2/").get_json()["status"] == "ACTIVE"
    assert client.get(f"{BASE}4/").get_json()["status"] == "STALE"
    stale = {flag["key"] for flag in client.get(f"{BASE}?active=STALE").get_json()["results"]}
    assert stale == {"new-onboarding", "homepage-banner"}


# -- today's serializer fields (products/feature_flags/backend/api/feature_flag.py) -------------------

ANSWER_FIELDS = [
    "id", "name", "key", "filters", "deleted", "active", "archived", "created_by", "created_at",
    "updated_at", "version", "last_modified_by", "ensure_experience_continuity", "experiment_set",
    "experiment_set_metadata", "surveys", "features", "can_edit", "tags", "evaluation_contexts",
    "usage_dashboard", "analytics_dashboards", "has_enriched_analytics", "user_access_level",
    "is_remote_configuration", "has_encrypted_payloads", "status", "evaluation_runtime",
    "bucketing_identifier", "last_called_at", "is_used_in_replay_settings", "is_eligible_for_experiment",
]  # fmt: skip


def test_answers_carry_todays_fields_in_meta_order(client):
    """products/feature_flags/backend/api/feature_flag.py FeatureFlagSerializer.Meta.fields without its
    write-only creation_context and _create_in_folder: archived, experiment_set_metadata,
    evaluation_contexts (in place of evaluation_tags), is_used_in_replay_settings and
    is_eligible_for_experiment are new; rollback_conditions and performed_rollback are no longer
    declared, so no answer carries them."""
    flag = _create(client, rollback_conditions=[{"threshold": 5}], performed_rollback=True).get_json()
    assert list(flag) == ANSWER_FIELDS
    assert (flag["archived"], flag["experiment_set_metadata"], flag["evaluation_contexts"]) == (False, [], [])
    assert (flag["is_used_in_replay_settings"], flag["is_eligible_for_experiment"]) == (False, False)
    assert list(client.get(f"{BASE}{flag['id']}/").get_json()) == ANSWER_FIELDS
    assert all(list(row) == ANSWER_FIELDS for row in client.get(BASE).get_json()["results"])


def test_experiment_set_metadata_names_the_linked_experiments(client):
    """get_experiment_set_metadata (products/feature_flags/backend/api/feature_flag.py): each undeleted
    linked experiment's id, name and is_running (Experiment.is_running: started, not ended); the
    seeded running experiment runs on pricing-page-test."""
    flag = client.get(f"{BASE}2/").get_json()
    assert flag["experiment_set"] == [1]
    assert flag["experiment_set_metadata"] == [{"id": 1, "name": "Pricing page layout", "is_running": True}]
    client.post("/api/projects/1/experiments/1/end/", json={})
    ended = client.get(f"{BASE}2/").get_json()["experiment_set_metadata"]
    assert ended == [{"id": 1, "name": "Pricing page layout", "is_running": False}]
    client.patch("/api/projects/1/experiments/1/", json={"deleted": True})
    assert client.get(f"{BASE}2/").get_json()["experiment_set_metadata"] == []


def test_is_eligible_for_experiment_and_its_list_filter(client):
    """is_eligible_for_experiment and ?eligible_for_experiment=true (_apply_filters, posthog.utils
    str_to_bool; products/feature_flags/backend/api/feature_flag.py): multivariate with 2 to 20
    variants; another value filters nothing."""
    flags = {row["key"]: row for row in client.get(BASE).get_json()["results"]}
    assert flags["pricing-page-test"]["is_eligible_for_experiment"] is True
    assert flags["new-onboarding"]["is_eligible_for_experiment"] is False
    one = {**SIMPLE, "multivariate": {"variants": [{"key": "only", "rollout_percentage": 100}]}}
    assert _create(client, key="one-variant", filters=one).get_json()["is_eligible_for_experiment"] is False
    eligible = client.get(f"{BASE}?eligible_for_experiment=true").get_json()["results"]
    assert [row["key"] for row in eligible] == ["pricing-page-test"]
    assert client.get(f"{BASE}?eligible_for_experiment=no").get_json()["count"] == 5


ARCHIVING_ENABLED = (
    "Cannot archive an enabled feature flag. Disable it first, or send active: false in the same request."
)


def test_an_archived_flag_must_be_disabled(client, refused):
    """_validate_archived_flags_are_disabled (products/feature_flags/backend/api/feature_flag.py): the
    values sent, else the flag's, else the model's defaults (active true); archiving an enabled flag
    and enabling an archived one are refused, each with its own message."""
    refused(
        "post", BASE, {"key": "gone", "filters": SIMPLE, "archived": True}, "invalid_input", None,
        ARCHIVING_ENABLED,
    )  # fmt: skip
    refused(
        "patch", f"{BASE}1/", {"archived": True}, "invalid_input", None, ARCHIVING_ENABLED,
    )  # fmt: skip
    archived = client.patch(f"{BASE}1/", json={"archived": True, "active": False})
    assert archived.status_code == 200 and archived.get_json()["archived"] is True
    refused(
        "patch", f"{BASE}1/", {"active": True}, "invalid_input", None,
        "Cannot enable an archived feature flag. Unarchive it first.",
    )  # fmt: skip
    back = client.patch(f"{BASE}1/", json={"archived": False, "active": True}).get_json()
    assert (back["archived"], back["active"]) == (False, True)


def test_archived_flags_leave_the_list_unless_asked_for(client):
    """exclude_archived_unless_requested, then _apply_filters' archived (str_to_bool), and
    FeatureFlagStatusChecker.get_status's ARCHIVED (products/feature_flags/backend/flag_status.py)."""
    client.patch(f"{BASE}1/", json={"archived": True, "active": False})
    keys = [row["key"] for row in client.get(BASE).get_json()["results"]]
    assert "new-onboarding" not in keys and len(keys) == 3
    only = client.get(f"{BASE}?archived=true").get_json()["results"]
    assert [row["key"] for row in only] == ["new-onboarding"] and only[0]["status"] == "ARCHIVED"
    assert client.get(f"{BASE}?archived=false").get_json()["count"] == 3
    status = client.get(f"{BASE}1/status/").get_json()
    assert status == {"status": "ARCHIVED", "reason": "Flag has been archived"}


def test_evaluation_contexts_are_checked_but_not_kept_for_the_mock_user(client, refused):
    """EvaluationContextSerializerMixin (products/feature_flags/backend/api/feature_flag.py): at most 50
    names of up to 255 characters, else validate()'s errors; a list otherwise (DRF's ListField).
    Without the flag-evaluation-tags feature (EvaluationTagsChecker) nothing is stored and answers
    say [], so ?has_evaluation_contexts=true finds no flag and false finds every one."""
    made = _create(client, evaluation_contexts=["production", "production", "staging"])
    assert made.status_code == 201 and made.get_json()["evaluation_contexts"] == []
    too_many = [f"ctx-{n}" for n in range(51)]
    refused(
        "post", BASE, {"key": "c1", "filters": SIMPLE, "evaluation_contexts": too_many}, "invalid_input",
        None, "evaluation_contexts must be a list of at most 50 items.",
    )  # fmt: skip
    for bad in ([7], ["x" * 256]):
        refused(
            "patch", f"{BASE}1/", {"evaluation_contexts": bad}, "invalid_input", None,
            "Invalid evaluation context name.",
        )  # fmt: skip
    refused(
        "patch", f"{BASE}1/", {"evaluation_contexts": "production"}, "not_a_list", "evaluation_contexts",
        'Expected a list of items but got type "str".',
    )  # fmt: skip
    assert client.get(f"{BASE}?has_evaluation_contexts=true").get_json()["count"] == 0
    assert client.get(f"{BASE}?has_evaluation_contexts=false").get_json()["count"] == 5


def test_is_used_in_replay_settings_reads_the_projects_linked_flag(client):
    """get_is_used_in_replay_settings and teams_linking_flag (products/feature_flags/backend/
    session_recording_links.py): the project's session_recording_linked_flag contains the flag's id;
    such a flag cannot be deleted (REPLAY_LINKED_FLAG_DELETE_ERROR) until the project unlinks it."""
    linked = {"id": 3, "key": "paid-features", "variant": None}
    assert client.patch("/api/projects/1/", json={"session_recording_linked_flag": linked}).status_code == 200
    flags = {row["id"]: row for row in client.get(BASE).get_json()["results"]}
    assert [i for i, row in flags.items() if row["is_used_in_replay_settings"]] == [3]
    refused = client.patch(f"{BASE}3/", json={"deleted": True})
    assert refused.status_code == 400 and refused.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "This feature flag is used in session replay settings. Please remove it from replay "
        "settings before deleting.",
        "attr": None,
    }
    assert client.patch("/api/projects/1/", json={"session_recording_linked_flag": None}).status_code == 200
    assert client.get(f"{BASE}3/").get_json()["is_used_in_replay_settings"] is False
    assert client.patch(f"{BASE}3/", json={"deleted": True}).status_code == 200


def test_a_flag_others_depend_on_is_neither_deleted_nor_disabled(client):
    """FeatureFlagSerializer.update and raise_if_flag_has_dependents
    (products/feature_flags/backend/api/feature_flag.py): an active flag with a condition on this
    flag's id blocks deleting or disabling it; enabling a flag whose condition names a disabled
    flag is refused too."""
    base = _create(client, "base-flag").get_json()["id"]
    condition = {"key": str(base), "type": "flag", "value": True, "operator": "flag_evaluates_to"}
    filters = {"groups": [{"properties": [condition], "rollout_percentage": 100}]}
    child = _create(client, "child-flag", filters).get_json()
    for action, body in (("delete", {"deleted": True}), ("disable", {"active": False})):
        refused = client.patch(f"{BASE}{base}/", json=body)
        assert refused.status_code == 400
        assert refused.get_json()["detail"] == (
            f"Cannot {action} this feature flag because other flags depend on it: child-flag "
            f"(ID: {child['id']}). Please update or disable the dependent flags first."
        )
    assert client.get(f"{BASE}{base}/").get_json()["active"] is True
    client.patch(f"{BASE}{child['id']}/", json={"active": False})
    assert client.patch(f"{BASE}{base}/", json={"active": False}).status_code == 200
    enabling = client.patch(f"{BASE}{child['id']}/", json={"active": True})
    assert enabling.status_code == 400
    assert enabling.get_json()["detail"] == (
        f"Cannot enable this feature flag because it depends on disabled flags: base-flag (ID: {base}). "
        "Please enable the dependency flags first."
    )


def test_a_flag_of_a_running_experiment_is_kept_and_a_deleted_ones_key_is_freed(client):
    """FeatureFlagSerializer.update: only a running linked experiment blocks the delete; a flag
    linked to any experiment is deleted with its key tombstoned (<key>:deleted:<id>, so the key
    can be used again) and a restore takes the key back, numbered when another flag holds it."""
    base = "/api/projects/1/"
    experiment = client.post(f"{base}experiments/", json={"name": "Old test", "feature_flag_key": "old-test"})
    created = experiment.get_json()
    flag_id = created["feature_flag"]["id"]
    client.post(f"{base}experiments/{created['id']}/launch/")
    refused = client.patch(f"{BASE}{flag_id}/", json={"deleted": True})
    assert refused.status_code == 400
    assert refused.get_json()["detail"] == (
        "Cannot delete a feature flag that is linked to running experiment(s): "
        f'"Old test" (ID: {created["id"]}). Please stop the experiment(s) before deleting the flag.'
    )
    client.post(f"{base}experiments/{created['id']}/end/", json={})
    deleted = client.patch(f"{BASE}{flag_id}/", json={"deleted": True}).get_json()
    assert deleted["deleted"] is True and deleted["key"] == f"old-test:deleted:{flag_id}"
    assert _create(client, "old-test").status_code == 201
    restored = client.patch(f"{BASE}{flag_id}/", json={"deleted": False})
    assert restored.status_code == 200 and restored.get_json()["key"] == "old-test-2"
