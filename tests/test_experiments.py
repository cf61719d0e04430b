"""Experiments as PostHog's EnterpriseExperimentsViewSet serves them, with holdouts and saved metrics.

Sources (PostHog/posthog): products/experiments/backend/presentation/views.py and serializers.py,
products/experiments/backend/experiment_service.py (ExperimentService), models/experiment.py,
metric_validation.py, ee/clickhouse/views/experiment_holdouts.py,
presentation/saved_metric_serializers.py and experiment_saved_metric_service.py.
"""

import pytest
from seeded import USER

from mockhog.resources.identity import api_token

BASE = "/api/projects/1/experiments/"
FLAGS = "/api/projects/1/feature_flags/"
HOLDOUTS = "/api/projects/1/experiment_holdouts/"
METRICS = "/api/projects/1/experiment_saved_metrics/"
FUNNEL = {
    "kind": "ExperimentMetric",
    "metric_type": "funnel",
    "series": [{"kind": "EventsNode", "event": "$pageview"}],
}


def split(**percentages):
    """A create body's parameters: variants (key=split_percent) in the order given."""
    variants = [{"key": key, "split_percent": share} for key, share in percentages.items()]
    return {"parameters": {"feature_flag_variants": variants}}


def make(client, **body):
    response = client.post(BASE, json={"name": "Checkout test", "feature_flag_key": "checkout-test", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, experiment, action, **body):
    return client.post(f"{BASE}{experiment['id']}/{action}/", json=body)


def flag_of(client, experiment):
    return client.get(f"{FLAGS}{experiment['feature_flag']['id']}/").get_json()


def test_create_makes_the_linked_multivariate_flag(client):
    """experiment_service.py _ensure_feature_flag: a new flag of that key, control/test 50/50
    (DEFAULT_VARIANTS), one release condition for everyone, named after the experiment, inactive
    while the experiment is a draft; ExperimentSerializer's fields in Meta.fields order."""
    body = make(client, description="Does a one-page checkout convert better?")
    assert list(body) == [
        "id", "name", "description", "start_date", "end_date", "feature_flag_key", "feature_flag",
        "holdout", "holdout_id", "exposure_cohort", "parameters", "running_time_calculation",
        "excluded_variants", "secondary_metrics", "saved_metrics", "filters", "archived", "deleted",
        "created_by", "created_at", "updated_at", "type", "exposure_criteria", "metrics",
        "metrics_secondary", "stats_config", "scheduling_config", "conclusion", "conclusion_comment",
        "primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids", "only_count_matured_users",
        "status", "is_legacy", "user_access_level",
    ]  # fmt: skip
    assert body["status"] == "draft" and body["start_date"] is None and body["created_by"] == USER
    assert (body["type"], body["stats_config"], body["exposure_criteria"]) == (
        "product",
        {"method": "bayesian"},
        {"filterTestAccounts": True},
    )
    flag = flag_of(client, body)
    assert flag["key"] == "checkout-test" and flag["name"] == "Feature Flag for Experiment Checkout test"
    assert flag["active"] is False and flag["experiment_set"] == [body["id"]]
    assert flag["filters"]["groups"] == [{"properties": [], "rollout_percentage": 100}]
    assert flag["filters"]["multivariate"] == {
        "variants": [
            {"key": "control", "name": "Control Group", "rollout_percentage": 50},
            {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
        ]
    }
    assert body["feature_flag"]["key"] == "checkout-test" and body["feature_flag_key"] == "checkout-test"
    assert client.get(f"{BASE}{body['id']}/").get_json() == body


def test_variants_and_rollout_come_from_parameters(client):
    """ExperimentParametersField: split_percent is read as rollout_percentage ('Control' becomes
    'control') and shown back as split_percent; parameters.rollout_percentage is the condition's."""
    variants = [
        {"key": "Control", "split_percent": 34},
        {"key": "one-page", "split_percent": 33},
        {"key": "two-page", "rollout_percentage": 33},
    ]
    body = make(client, parameters={"feature_flag_variants": variants, "rollout_percentage": 40})
    shown = body["parameters"]["feature_flag_variants"]
    assert [(v["key"], v["rollout_percentage"], v["split_percent"]) for v in shown] == [
        ("control", 34, 34),
        ("one-page", 33, 33),
        ("two-page", 33, 33),
    ]
    flag = flag_of(client, body)
    assert [v["key"] for v in flag["filters"]["multivariate"]["variants"]] == [
        "control",
        "one-page",
        "two-page",
    ]
    assert flag["filters"]["groups"][0]["rollout_percentage"] == 40


@pytest.mark.parametrize(
    "body, attr, code, detail",
    [
        ({"feature_flag_key": None}, "feature_flag_key", "null", "This field may not be null."),
        ({"name": ""}, "name", "blank", "This field may not be blank."),
        (
            split(control=100),
            None,
            "invalid_input",
            "Feature flag must have at least 2 variants (control and at least one test variant)",
        ),
        (
            split(a=50, b=50),
            None,
            "invalid_input",
            "Feature flag variants must contain a variant with key 'control' (lowercase, exactly). Got keys: "
            "['a', 'b']. Rename the baseline variant's 'key' to 'control'.",
        ),
        (
            {"parameters": {"feature_flag_variants": [{"key": "control"}, {"key": "test"}]}},
            None,
            "invalid_input",
            "Each variant must include split_percent (recommended) or rollout_percentage (deprecated).",
        ),
        (
            split(control=50, t=40),
            "filters",
            "invalid_input",
            "Invalid variant definitions: Variant rollout percentages must sum to 100.",
        ),
        (
            {"start_date": "2025-06-02T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
            None,
            "invalid_input",
            "End date must be after start date",
        ),
        (
            {"feature_flag_key": "has space"},
            "key",
            "invalid_key",
            "Only letters, numbers, hyphens (-) & underscores (_) are allowed.",
        ),
        (
            {"metrics": [{"kind": "TrendsQuery"}]},
            None,
            "invalid_input",
            "Invalid metric at index 0: metric kind must be 'ExperimentMetric'",
        ),
        (
            {"metrics": [{"kind": "ExperimentTrendsQuery"}]},
            None,
            "invalid_input",
            "Invalid metric at index 0: legacy metric kind 'ExperimentTrendsQuery' is no longer supported. "
            "Use 'ExperimentMetric' instead.",
        ),
        (
            {"metrics": [{**FUNNEL, "series": []}]},
            None,
            "invalid_input",
            "Invalid metric at index 0: funnel metrics require at least one step. "
            "The experiment exposure event is added as the initial step automatically.",
        ),
        (
            {"metrics": [{"kind": "ExperimentMetric", "metric_type": "median"}]},
            None,
            "invalid_input",
            "Invalid metric at index 0: ExperimentMetric metric_type must be 'mean', 'funnel', 'ratio', or "
            "'retention'",
        ),
        (
            {"saved_metrics_ids": [{"id": 999}]},
            "saved_metrics_ids",
            "invalid_input",
            "Saved metric does not exist or does not belong to this project",
        ),
        ({"holdout_id": 999}, "holdout_id", "does_not_exist", 'Invalid pk "999" - object does not exist.'),
        (
            {"stats_config": {"method": "magic"}},
            None,
            "invalid_input",
            "Invalid stats method: 'magic'. Must be one of: bayesian, frequentist",
        ),
    ],
)
def test_create_refuses_bad_input(refused, body, attr, code, detail):
    """ExperimentSerializer's validators and ExperimentService.create_experiment's checks, with
    FeatureFlagSerializer's own for the new flag; nothing is stored (transaction.atomic)."""
    full = {"name": "Checkout test", "feature_flag_key": "checkout-test", **body}
    refused("post", BASE, full, code, attr, detail)


def test_metrics_must_name_ingested_events(client, refused):
    """validate_metric_event_names: an EventsNode event the project never saw is refused unless
    allow_unknown_events is true; the metric gets a uuid, a fingerprint and its place in the ordering."""
    unknown = {**FUNNEL, "series": [{"kind": "EventsNode", "event": "bought a hat"}]}
    body = {"name": "Hats", "feature_flag_key": "hats", "metrics": [unknown]}
    detail = (
        "Event(s) 'bought a hat' not found. No events with these names have been ingested by this "
        "project. If you meant a different event, please correct it. Only if the user has explicitly "
        "confirmed they want to proceed with the unknown event (e.g. they will instrument it shortly), "
        "call again with allow_unknown_events=True. Do not flip the flag silently to bypass this check."
    )
    refused("post", BASE, body, "invalid_input", None, detail)
    made = make(client, metrics=[unknown], allow_unknown_events=True)
    metric = made["metrics"][0]
    assert metric["uuid"] and len(metric["fingerprint"]) == 64
    assert made["primary_metrics_ordered_uuids"] == [metric["uuid"]]
    assert "allow_unknown_events" not in made


def test_an_existing_flag_is_reused_when_fit(client, refused):
    """_ensure_feature_flag / _validate_existing_flag: a flag of that key is linked, not copied, when
    it has 2+ variants and a 'control'; otherwise the create is refused."""
    body = make(client, feature_flag_key="pricing-page-test")
    assert body["feature_flag"]["id"] == 2
    assert flag_of(client, body)["experiment_set"] == [1, body["id"]]
    boolean = {"name": "x", "feature_flag_key": "new-onboarding"}
    refused(
        "post",
        BASE,
        boolean,
        "invalid_input",
        None,
        "Feature flag must have at least 2 variants (control and at least one test variant)",
    )
    variants = {"variants": [{"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 50}]}
    client.post(
        FLAGS,
        json={"key": "no-control", "filters": {"groups": [{"properties": []}], "multivariate": variants}},
    )
    refused(
        "post",
        BASE,
        {"name": "x", "feature_flag_key": "no-control"},
        "invalid_input",
        None,
        "Feature flag must have a variant with key 'control'",
    )


def test_launched_flag_is_evaluated_by_flags(client, anonymous, backend):
    """launch_experiment activates the flag, so the flags service serves its variants; a draft's
    flag is inactive and left out."""
    token = api_token(backend.seed, backend.projects[1])
    made = make(client)
    ask = {"token": token, "distinct_id": "visitor-1"}
    assert "checkout-test" not in anonymous.post("/flags/?v=4", json=ask).get_json()["flags"]
    launched = act(client, made, "launch").get_json()
    assert launched["status"] == "running" and launched["start_date"]
    served = anonymous.post("/flags/?v=4", json=ask).get_json()["flags"]["checkout-test"]
    assert served["enabled"] is True and served["variant"] in ("control", "test")


def test_lifecycle_actions_are_state_changes(client):
    """experiment_service.py: launch (draft only), pause/resume (the flag's active; 'paused' is derived),
    end (end_date, conclusion), archive (ended only), unarchive, reset (back to draft)."""
    made = make(client)

    def refused_with(action, detail):
        response = act(client, made, action)
        assert response.status_code == 400 and response.get_json()["detail"] == detail

    refused_with("pause", "Experiment has not been launched yet.")
    refused_with("end", "Experiment has not been launched yet.")
    refused_with("reset", "Experiment is already in draft state.")
    refused_with("archive", "Experiment must be ended before it can be archived.")
    act(client, made, "launch")
    refused_with("launch", "Experiment has already been launched.")
    refused_with("resume", "Experiment is not paused.")
    paused = act(client, made, "pause").get_json()
    assert paused["status"] == "paused" and flag_of(client, made)["active"] is False
    refused_with("pause", "Experiment is already paused.")
    assert act(client, made, "resume").get_json()["status"] == "running"
    ended = act(client, made, "end", conclusion="won", conclusion_comment="clear win").get_json()
    assert ended["status"] == "stopped" and ended["end_date"] and ended["conclusion"] == "won"
    assert flag_of(client, made)["active"] is True  # end leaves the flag alone
    refused_with("end", "Experiment has already ended.")
    refused_with("unarchive", "Experiment is not archived.")
    assert act(client, made, "archive").get_json()["archived"] is True
    refused_with("archive", "Experiment is already archived.")
    assert made["id"] not in [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert made["id"] in [row["id"] for row in client.get(f"{BASE}?archived=true").get_json()["results"]]
    assert act(client, made, "unarchive").get_json()["archived"] is False
    reset = act(client, made, "reset").get_json()
    assert (reset["status"], reset["start_date"], reset["end_date"], reset["conclusion"]) == (
        "draft",
        None,
        None,
        None,
    )


def test_ship_variant_rolls_one_variant_out_and_ends(client):
    """ship_variant: the chosen variant gets 100 % of the split, conditions kept; a running
    experiment is ended; an unknown variant is refused; a draft cannot ship."""
    made = make(client)
    assert act(client, made, "ship_variant", variant_key="test").get_json()["detail"] == (
        "Experiment has not been launched yet."
    )
    act(client, made, "launch")
    missing = act(client, made, "ship_variant", variant_key="nope")
    assert (
        missing.status_code == 400
        and missing.get_json()["detail"] == "Variant 'nope' not found on feature flag."
    )
    shipped = act(client, made, "ship_variant", variant_key="test", conclusion="won").get_json()
    assert shipped["status"] == "stopped" and shipped["conclusion"] == "won"
    variants = flag_of(client, made)["filters"]["multivariate"]["variants"]
    assert [(v["key"], v["rollout_percentage"]) for v in variants] == [("control", 0), ("test", 100)]
    assert flag_of(client, made)["filters"]["groups"] == [{"properties": [], "rollout_percentage": 100}]


def test_list_filters_and_order(client):
    """filter_experiments_queryset: status (complete = stopped), archived defaults to false, search on
    the name, feature_flag_id, order from an allowlist."""
    draft = make(client, name="Alpha draft", feature_flag_key="alpha")
    running = make(client, name="Beta running", feature_flag_key="beta")
    act(client, running, "launch")

    def ids(query):
        return [row["id"] for row in client.get(f"{BASE}{query}").get_json()["results"]]

    assert ids("") == [running["id"], draft["id"], 1]  # -created_at
    assert ids("?status=draft") == [draft["id"]]
    assert ids("?status=running") == [running["id"], 1]
    assert ids("?status=complete") == []
    assert ids("?search=ALPHA") == [draft["id"]]
    assert ids(f"?feature_flag_id={running['feature_flag']['id']}") == [running["id"]]
    assert ids("?order=name") == [draft["id"], running["id"], 1]
    for query, detail in (
        ("?order=key", "Invalid order field: 'key'"),
        ("?feature_flag_id=x", "feature_flag_id must be an integer"),
    ):
        response = client.get(f"{BASE}{query}")
        assert response.status_code == 400 and response.get_json()["detail"] == detail


def test_delete_is_refused_and_soft_delete_unlinks_the_flag(client, backend):
    """ForbidDestroyModel: DELETE is an empty 405; PATCH {"deleted": true} hides the experiment, and
    its flag (no running experiment: products/feature_flags/backend/api/feature_flag.py) may then be
    deleted, its key tombstoned; restoring the experiment needs the flag, whose key comes back."""
    made = make(client)
    before = backend.store.dump()
    response = client.delete(f"{BASE}{made['id']}/")
    assert response.status_code == 405 and response.data == b""
    assert backend.store.dump() == before
    flag_url = f"{FLAGS}{made['feature_flag']['id']}/"
    assert client.patch(f"{BASE}{made['id']}/", json={"deleted": True}).get_json()["deleted"] is True
    assert client.get(f"{BASE}{made['id']}/").status_code == 404
    assert client.post(f"{BASE}{made['id']}/launch/").status_code == 404
    assert client.patch(flag_url, json={"deleted": True}).status_code == 200
    restore = client.patch(f"{BASE}{made['id']}/", json={"deleted": False})
    assert restore.status_code == 400 and restore.get_json()["detail"] == (
        "Cannot restore experiment: the linked feature flag has been deleted. "
        "Restore the feature flag first, then restore the experiment."
    )
    assert client.patch(flag_url, json={"deleted": False}).get_json()["key"] == made["feature_flag"]["key"]
    assert client.patch(f"{BASE}{made['id']}/", json={"deleted": False}).get_json()["deleted"] is False
    assert flag_of(client, made)["experiment_set"] == [made["id"]]


def test_update_rules(client, refused):
    """update_experiment / _validate_update_payload: a draft's parameters are synced to its flag; a
    start_date launches it (flag on); fields outside the allowed keys are refused; a running
    experiment keeps its variants; no global filter properties."""
    made = make(client)
    url = f"{BASE}{made['id']}/"
    variants = [{"key": "control", "split_percent": 20}, {"key": "test", "split_percent": 80}]
    client.patch(url, json={"parameters": {"feature_flag_variants": variants}})
    shipped = flag_of(client, made)["filters"]["multivariate"]["variants"]
    assert [(v["key"], v["rollout_percentage"]) for v in shipped] == [("control", 20), ("test", 80)]
    refused("patch", url, {"type": "web"}, "invalid_input", None, "Can't update keys: type on Experiment")
    refused(
        "patch", url, {"feature_flag_key": "other"}, "invalid_input", None,
        "Can't update keys: get_feature_flag_key on Experiment",
    )  # fmt: skip
    refused(
        "patch", url, {"filters": {"properties": [{"key": "plan"}]}}, "invalid_input", None,
        "Experiments do not support global filter properties",
    )  # fmt: skip
    started = client.patch(url, json={"start_date": "2025-06-01T00:00:00Z"}).get_json()
    assert started["status"] == "running" and flag_of(client, made)["active"] is True
    three = [*variants[:1], {"key": "test", "split_percent": 40}, {"key": "extra", "split_percent": 40}]
    refused(
        "patch", url, {"parameters": {"feature_flag_variants": three}}, "invalid_input", None,
        "Can't update feature_flag_variants on Experiment",
    )  # fmt: skip


def test_holdouts_and_their_link_to_experiment_flags(client, refused):
    """experiment_holdouts.py: filters required, each with a 0-100 rollout_percentage, tagged with
    variant holdout-<id>; an experiment in a holdout has it on its flag (holdout_filters_for_flag);
    DELETE really deletes and the experiments lose the holdout (SET_NULL)."""
    refused(
        "post",
        HOLDOUTS,
        {"name": "h"},
        "invalid_input",
        None,
        "Filters are required to create an holdout group",
    )
    refused(
        "post", HOLDOUTS, {"name": "h", "filters": [{"properties": []}]}, "invalid_input", "filters",
        "Rollout percentage must be present.",
    )  # fmt: skip
    refused(
        "post", HOLDOUTS, {"name": "h", "filters": [{"rollout_percentage": 120}]}, "invalid_input", "filters",
        "Rollout percentage must be between 0 and 100.",
    )  # fmt: skip
    created = client.post(
        HOLDOUTS, json={"name": "Holdout 10%", "filters": [{"properties": [], "rollout_percentage": 10}]}
    )
    holdout = created.get_json()
    assert created.status_code == 201 and list(holdout) == [
        "id", "name", "description", "filters", "created_by", "created_at", "updated_at", "user_access_level",
    ]  # fmt: skip
    assert holdout["filters"] == [
        {"properties": [], "rollout_percentage": 10, "variant": f"holdout-{holdout['id']}"}
    ]
    made = make(client, holdout_id=holdout["id"])
    assert made["holdout"] == holdout and made["holdout_id"] == holdout["id"]
    assert flag_of(client, made)["filters"]["holdout"] == {"id": holdout["id"], "exclusion_percentage": 10}
    edited = client.patch(
        f"{HOLDOUTS}{holdout['id']}/", json={"filters": [{"properties": [], "rollout_percentage": 5}]}
    )
    assert edited.get_json()["filters"][0]["variant"] == f"holdout-{holdout['id']}"
    assert flag_of(client, made)["filters"]["holdout"] == {"id": holdout["id"], "exclusion_percentage": 5}
    assert client.delete(f"{HOLDOUTS}{holdout['id']}/").status_code == 204
    assert flag_of(client, made)["filters"]["holdout"] is None
    assert client.get(f"{HOLDOUTS}{holdout['id']}/").status_code == 404
    assert client.get(f"{BASE}{made['id']}/").get_json()["holdout"] is None


def test_saved_metrics_crud_and_attachment(client, refused):
    """saved_metric_serializers.py / experiment_saved_metric_service.py: unique names (any case), an
    ExperimentMetric query with a uuid it keeps, listed by name; attached with saved_metrics_ids its
    uuid joins the ordering; DELETE removes it and its links."""
    seeded = [row["name"] for row in client.get(METRICS).get_json()["results"]]
    created = client.post(METRICS, json={"name": "Signup funnel", "query": FUNNEL, "tags": ["Growth"]})
    metric = created.get_json()
    assert created.status_code == 201 and metric["query"]["uuid"] and metric["tags"] == ["growth"]
    refused(
        "post", METRICS, {"name": "SIGNUP FUNNEL", "query": FUNNEL}, "invalid_input", "name",
        "A shared metric with this name already exists.",
    )  # fmt: skip
    refused(
        "post", METRICS, {"name": "Old", "query": {"kind": "ExperimentFunnelsQuery"}}, "invalid_input", None,
        "Invalid metric: legacy metric kind 'ExperimentFunnelsQuery' is no longer supported. "
        "Use 'ExperimentMetric' instead.",
    )  # fmt: skip
    refused(
        "patch", f"{METRICS}{metric['id']}/", {"query": {**FUNNEL, "uuid": "other"}}, "invalid_input", None,
        "Saved metric UUID cannot be changed",
    )  # fmt: skip
    client.post(METRICS, json={"name": "another", "query": FUNNEL})
    listed = [row["name"] for row in client.get(METRICS).get_json()["results"]]
    assert listed == sorted([*seeded, "another", "Signup funnel"], key=str.lower)
    made = make(client, saved_metrics_ids=[{"id": metric["id"], "metadata": {"type": "primary"}}])
    link = made["saved_metrics"][0]
    assert (link["saved_metric"], link["name"], link["query"]) == (
        metric["id"],
        "Signup funnel",
        metric["query"],
    )
    assert made["primary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]
    assert client.delete(f"{METRICS}{metric['id']}/").status_code == 204
    assert client.get(f"{BASE}{made['id']}/").get_json()["saved_metrics"] == []


def test_duplicate_makes_a_draft_copy(client):
    """duplicate_experiment: a draft named '<name> (Copy)' on the same flag unless another key is
    given, metrics with fresh uuids; 201."""
    made = make(client, metrics=[FUNNEL])
    act(client, made, "launch")
    copy = act(client, made, "duplicate")
    assert copy.status_code == 201
    body = copy.get_json()
    assert (body["name"], body["status"], body["feature_flag"]["id"]) == (
        "Checkout test (Copy)",
        "draft",
        made["feature_flag"]["id"],
    )
    assert body["metrics"][0]["uuid"] != made["metrics"][0]["uuid"]
    assert act(client, made, "duplicate").get_json()["name"] == "Checkout test (Copy) 1"
    other = act(client, made, "duplicate", feature_flag_key="checkout-copy").get_json()
    assert other["feature_flag"]["key"] == "checkout-copy"


def test_eligible_feature_flags(client):
    """eligible_feature_flags: multivariate flags with 2+ variants whose first is 'control'."""
    make(client)
    body = client.get(f"{BASE}eligible_feature_flags/").get_json()
    assert sorted(row["key"] for row in body["results"]) == ["checkout-test", "pricing-page-test"]
    assert body["count"] == 2
    assert client.get(f"{BASE}eligible_feature_flags/?limit=x").get_json() == {
        "error": "Invalid limit or offset"
    }


def test_seeded_experiment_runs_on_the_seeded_multivariate_flag(client):
    """The seed world: experiment 1 runs on pricing-page-test, whose experiment_set names it."""
    seeded = client.get(f"{BASE}1/").get_json()
    assert seeded["status"] == "running" and seeded["feature_flag_key"] == "pricing-page-test"
    assert client.get(f"{FLAGS}2/").get_json()["experiment_set"] == [1]


def test_an_experiment_metric_on_an_action_is_a_reference(client):
    """posthog/api/action.py find_action_references: live experiments whose metrics (or other JSON
    settings) use the action (an ActionsNode) are listed after insights; a deleted one is not."""
    metric = {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "ActionsNode", "id": 5}}
    made = make(client, metrics=[metric])
    refs = client.get("/api/projects/1/actions/5/references/").get_json()
    assert {
        "type": "experiment",
        "id": str(made["id"]),
        "name": "Checkout test",
        "url": f"/experiments/{made['id']}",
        "created_at": made["created_at"],
        "created_by": USER,
    } in refs
    client.patch(f"{BASE}{made['id']}/", json={"deleted": True})
    assert all(
        ref["type"] != "experiment" for ref in client.get("/api/projects/1/actions/5/references/").get_json()
    )


# -- today's serializer fields (products/experiments/backend/presentation/serializers.py) -------------


def test_running_time_calculation_is_its_own_field(client):
    """ExperimentBaseSerializer.running_time_calculation over the model's JSONField (default {};
    products/experiments/backend/models/experiment.py): the calculator's state, no longer kept in
    parameters; a create or update stores what it is sent."""
    assert make(client)["running_time_calculation"] == {}
    seeded = client.get(f"{BASE}1/").get_json()
    assert seeded["running_time_calculation"] == {"minimum_detectable_effect": 20}
    assert "minimum_detectable_effect" not in seeded["parameters"]
    plan = {
        "minimum_detectable_effect": 30,
        "recommended_sample_size": 1200,
        "recommended_running_time": 14.5,
        "exposure_estimate_config": {"eventFilter": {"event": "$pageview"}},
    }
    made = make(client, feature_flag_key="planned", running_time_calculation=plan)
    assert made["running_time_calculation"] == plan
    changed = client.patch(f"{BASE}{made['id']}/", json={"running_time_calculation": None}).get_json()
    assert changed["running_time_calculation"] is None


@pytest.mark.parametrize(
    "value, detail",
    [
        ([1], "running_time_calculation must be an object"),
        (
            {"minimum_detectable_effect": 5, "foo": 1, "bar": 2},
            "running_time_calculation got unknown keys: ['bar', 'foo']",
        ),
        ({"recommended_sample_size": "100"}, "recommended_sample_size must be a number"),
        ({"minimum_detectable_effect": True}, "minimum_detectable_effect must be a number"),
        ({"exposure_estimate_config": []}, "exposure_estimate_config must be an object"),
    ],
)  # fmt: skip
def test_running_time_calculation_is_checked(refused, value, detail):
    """ExperimentService.validate_running_time_calculation, run by the serializer's field validator
    (so the error names the field): an object of the calculator's four keys, three of them numbers
    (a boolean is none), exposure_estimate_config an object (products/experiments/backend/
    experiment_service.py)."""
    body = {"name": "Checkout test", "feature_flag_key": "checkout-test", "running_time_calculation": value}
    refused("post", BASE, body, "invalid_input", "running_time_calculation", detail)
    refused(
        "patch",
        f"{BASE}1/",
        {"running_time_calculation": value},
        "invalid_input",
        "running_time_calculation",
        detail,
    )


def test_excluded_variants_are_checked_against_the_flags_variants(client, refused):
    """ExperimentBaseSerializer.excluded_variants (a nullable ListField of strings) and
    ExperimentService._validate_excluded_variant_keys against the variants the linked flag ends up
    with (products/experiments/backend/experiment_service.py): no holdout pseudo-variant, not the
    baseline (stats_config.baseline_variant_key, else control), only known keys, one test variant left."""
    three = split(control=34, a=33, b=33)
    made = make(client, excluded_variants=["b"], **three)
    assert (
        made["excluded_variants"] == ["b"]
        and make(client, feature_flag_key="plain")["excluded_variants"] is None
    )
    body = {"name": "Checkout test", "feature_flag_key": "other-test", **three}
    for excluded, detail in (
        (["holdout-1"], "cannot exclude holdout pseudo-variants: ['holdout-1']"),
        (["control"], "baseline variant cannot be excluded ('control')"),
        (["zzz", "b"], "unknown variants for this experiment: ['zzz']"),
        (["a", "b"], "at least one test variant must remain in analysis"),
    ):
        refused("post", BASE, {**body, "excluded_variants": excluded}, "invalid_input", None, detail)
    refused(
        "post", BASE, {**body, "excluded_variants": ["a"], "stats_config": {"baseline_variant_key": "a"}},
        "invalid_input", None, "baseline variant cannot be excluded ('a')",
    )  # fmt: skip
    refused(
        "post", BASE, {**body, "excluded_variants": "b"}, "not_a_list", "excluded_variants",
        'Expected a list of items but got type "str".',
    )  # fmt: skip
    # the seeded experiment's flag has control, test-a and test-b: its variants need not be re-sent
    updated = client.patch(f"{BASE}1/", json={"excluded_variants": ["test-b"]})
    assert updated.status_code == 200 and updated.get_json()["excluded_variants"] == ["test-b"]
    refused(
        "patch", f"{BASE}1/", {"excluded_variants": ["test-a", "test-b"]}, "invalid_input", None,
        "at least one test variant must remain in analysis",
    )  # fmt: skip


def test_parameters_no_longer_check_excluded_variants(client):
    """ExperimentService.validate_experiment_parameters checks only the variants today; excluded
    variants live on the top-level field (products/experiments/backend/experiment_service.py)."""
    body = {
        "feature_flag_variants": [
            {"key": "control", "split_percent": 50},
            {"key": "test", "split_percent": 50},
        ]
    }
    made = make(client, parameters={**body, "excluded_variants": ["control"]})
    assert made["parameters"]["excluded_variants"] == ["control"] and made["excluded_variants"] is None


def test_is_legacy_marks_legacy_engine_metrics(client, backend):
    """get_is_legacy / experiment_has_legacy_metrics (products/experiments/backend/models/experiment.py):
    an inline (primary or secondary) or saved metric of kind ExperimentTrendsQuery or
    ExperimentFunnelsQuery; the API refuses new ones, so an old row is planted in the store."""
    made = make(client)
    assert made["is_legacy"] is False and client.get(f"{BASE}1/").get_json()["is_legacy"] is False
    table = backend.store.table(1, "experiments")
    row = table.get(made["id"])
    table.put(made["id"], {**row, "metrics_secondary": [{"kind": "ExperimentFunnelsQuery", "uuid": "old"}]})
    assert client.get(f"{BASE}{made['id']}/").get_json()["is_legacy"] is True


def test_conclusion_comment_is_at_most_4000_characters(client, refused):
    """ExperimentBaseSerializer.conclusion_comment: CharField(max_length=4000)
    (products/experiments/backend/presentation/serializers.py)."""
    refused(
        "patch", f"{BASE}1/", {"conclusion_comment": "x" * 4001}, "max_length", "conclusion_comment",
        "Ensure this field has no more than 4000 characters.",
    )  # fmt: skip
    assert client.patch(f"{BASE}1/", json={"conclusion_comment": "x" * 4000}).status_code == 200


def test_the_seed_has_a_holdout_and_shared_metrics(client):
    """The default world (fixtures/default.json): a holdout in no experiment, its filters carrying
    its holdout-<id> variant (ExperimentHoldoutSerializer), and shared metrics whose queries a
    create would take, each with its own uuid (saved_metric_serializers.py)."""
    holdouts = client.get("/api/projects/1/experiment_holdouts/").get_json()["results"]
    assert [h["filters"][0]["variant"] for h in holdouts] == [f"holdout-{h['id']}" for h in holdouts]
    metrics = client.get(METRICS).get_json()["results"]
    assert len(metrics) == 2 and len({m["query"]["uuid"] for m in metrics}) == 2
    for metric in metrics:
        query = {k: v for k, v in metric["query"].items() if k != "uuid"}
        assert (
            client.post(METRICS, json={"name": f"{metric['name']} (copy)", "query": query}).status_code == 201
        )


def test_eligible_flags_filter_on_evaluation_contexts(client):
    """get_eligible_feature_flags' has_evaluation_contexts (true, 1 or yes: only flags with one; else
    only flags without); the flags here carry none."""
    every = client.get(f"{BASE}eligible_feature_flags/").get_json()
    assert every["count"] >= 1
    without = client.get(f"{BASE}eligible_feature_flags/?has_evaluation_contexts=false").get_json()
    assert without == every
    for value in ("true", "1", "YES"):
        only = client.get(f"{BASE}eligible_feature_flags/?has_evaluation_contexts={value}").get_json()
        assert only == {"results": [], "count": 0}


def test_an_empty_order_or_flag_id_is_no_filter(client):
    """filter_experiments_queryset and _get_eligible_feature_flags_queryset read an empty order as
    the default (-created_at), and an empty feature_flag_id as none; int() must read a given one."""
    make(client)
    default = client.get(BASE).get_json()
    assert client.get(f"{BASE}?order=&feature_flag_id=").get_json() == default
    assert client.get(f"{BASE}?feature_flag_id=%202%20").status_code == 200
    refused = client.get(f"{BASE}?feature_flag_id=two")
    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "feature_flag_id must be an integer"
    flags = client.get(f"{BASE}eligible_feature_flags/").get_json()
    assert client.get(f"{BASE}eligible_feature_flags/?order=").get_json() == flags


@pytest.mark.parametrize(
    ("parameters", "detail"),
    [
        (
            {
                "feature_flag_variants": [
                    {"key": {"a": 1}, "split_percent": 50},
                    {"key": "test", "split_percent": 50},
                ]
            },
            "Feature flag variant at index 0 must have a string 'key'",
        ),
        (
            {
                "feature_flag_variants": [
                    {"key": "control", "split_percent": "50"},
                    {"key": "test", "split_percent": 50},
                ]
            },
            "Filters are not valid (multivariate.variants must be a list of {key, rollout_percentage})",
        ),
        (
            {"rollout_percentage": "all"},
            "Filters are not valid (rollout_percentage must be a number or null)",
        ),
        ({"feature_flag_payloads": ["x"]}, "Payloads must be passed as a dictionary"),
    ],
)
def test_parameters_the_flag_cannot_take_are_refused_even_when_running(client, refused, parameters, detail):
    """validate_variant_shapes, then what FeatureFlagSerializer refuses of the filters the parameters
    make (a draft's reach the flag; a running experiment's are refused the same, not stored)."""
    attr = None if "string 'key'" in detail else "filters"
    body = {"name": "X", "feature_flag_key": "x-test", "parameters": parameters}
    refused("post", BASE, body, "invalid_input", attr, detail)
    refused("patch", f"{BASE}1/", {"parameters": parameters}, "invalid_input", attr, detail)


@pytest.mark.parametrize("value", [False, 0, "", []])
def test_a_running_time_calculation_read_as_false_is_the_default(client, value):
    """validate_running_time_calculation lets any value read as false through; it is stored as the
    model's default ({}), so the answer keeps running_time_calculation an object."""
    created = make(client, running_time_calculation=value)
    assert created["running_time_calculation"] == {}
    updated = client.patch(f"{BASE}{created['id']}/", json={"running_time_calculation": value})
    assert updated.status_code == 200
    assert updated.get_json()["running_time_calculation"] == {}


def test_a_copy_name_longer_than_an_experiment_name_is_refused(client, refused):
    """clone_experiment creates the copy under the name given (or '<name> (Copy)'); Experiment.name
    holds 400 characters (PostHog's insert fails past them; mockhog refuses as the serializer words it)."""
    source = make(client, name="n" * 395)
    for body in ({"name": "x" * 401}, {}):
        refused(
            "post",
            f"{BASE}{source['id']}/duplicate/",
            body,
            "max_length",
            "name",
            "Ensure this field has no more than 400 characters.",
        )
    assert act(client, source, "duplicate", name="x" * 400).status_code == 201
