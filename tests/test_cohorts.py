"""Cohorts as PostHog's CohortViewSet serves them (posthog/api/cohort.py)."""

import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "/api/projects/1/cohorts/"
PLAN_IS_PRO = {"type": "person", "key": "plan", "operator": "exact", "value": "pro"}
SELECT_ONE = {"kind": "HogQLQuery", "query": "select 1"}


def criteria(*filters, kind="AND"):
    return {"properties": {"type": "OR", "values": [{"type": kind, "values": list(filters)}]}}


def persons(client, path="/api/projects/1/persons/?limit=1000"):
    return client.get(path).get_json()["results"]


def error(detail, attr=None, code="invalid_input"):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def test_dynamic_cohort_counts_matching_persons(client):
    """posthog/api/cohort.py: create queues the calculation (is_calculating true, count still
    null, pending_version 1 in the answer); once it ran, count is the number of persons matching
    the criteria, version 1, and filters come back with each filter's negation filled in."""
    made = client.post(BASE, json={"name": "Pro plan", "filters": criteria(PLAN_IS_PRO)})
    assert made.status_code == 201
    body = made.get_json()
    assert (body["is_calculating"], body["count"], body["version"], body["pending_version"]) == (
        True,
        None,
        None,
        1,
    )
    assert body["filters"] == criteria({**PLAN_IS_PRO, "negation": False})
    later = client.get(f"{BASE}{body['id']}/").get_json()
    expected = sum(1 for person in persons(client) if person["properties"].get("plan") == "pro")
    assert (later["is_calculating"], later["count"], later["version"]) == (False, expected, 1)
    assert later["last_calculation"] is not None and later["cohort_type"] == "realtime"


def test_seeded_cohorts_and_their_persons(client):
    """posthog/api/cohort.py: the persons action answers {results, next, previous}, newest first,
    each person as get_serialized_people writes it; negation and cohort criteria count."""
    paying = client.get(f"{BASE}1/").get_json()
    everyone = persons(client)
    assert paying["count"] == sum(
        1 for p in everyone if p["properties"]["plan"] in ("pro", "team", "enterprise")
    )
    outside = client.get(f"{BASE}5/").get_json()
    assert outside["count"] == sum(
        1
        for p in everyone
        if p["properties"]["plan"] != "free" and p["properties"]["$geoip_country_code"] != "US"
    )
    page = client.get(f"{BASE}1/persons/?limit=3").get_json()
    assert list(page) == ["results", "next", "previous"] and page["previous"] is None
    assert page["next"].endswith("/api/projects/1/cohorts/1/persons/?limit=3&offset=3")
    first = page["results"][0]
    assert list(first) == [
        "type", "id", "uuid", "created_at", "last_seen_at", "properties", "is_identified", "name",
        "distinct_ids", "matched_recordings", "value_at_data_point",
    ]  # fmt: skip
    assert first["type"] == "person" and first["id"] == first["uuid"]
    stamps = [row["created_at"] for row in page["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_static_cohort_add_and_remove_persons(client):
    """posthog/api/cohort.py: a static cohort starts from _create_static_person_ids (unknown ids
    are dropped); add_persons_to_static_cohort and remove_person_from_static_cohort answer
    {"success": true} and change the count and the persons list."""
    uuids = [person["uuid"] for person in persons(client)[:3]]
    made = client.post(
        BASE,
        json={"name": "Hand picked", "is_static": True, "_create_static_person_ids": uuids[:1] + ["nope"]},
    ).get_json()
    assert (made["is_static"], made["count"], made["is_calculating"]) == (True, 1, False)
    url = f"{BASE}{made['id']}/"
    added = client.patch(f"{url}add_persons_to_static_cohort/", json={"person_ids": uuids[1:]})
    assert added.status_code == 200 and added.get_json() == {"success": True}
    assert client.get(url).get_json()["count"] == 3
    removed = client.patch(f"{url}remove_person_from_static_cohort/", json={"person_id": uuids[0]})
    assert removed.get_json() == {"success": True}
    listed = {row["uuid"] for row in client.get(f"{url}persons/").get_json()["results"]}
    assert listed == set(uuids[1:])
    assert (
        client.patch(f"{url}remove_person_from_static_cohort/", json={"person_id": uuids[0]}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "path, body, detail",
    [
        ("add_persons_to_static_cohort", {"person_ids": "x"}, "person_ids must be a list"),
        ("add_persons_to_static_cohort", {"person_ids": []}, "person_ids cannot be empty"),
        ("add_persons_to_static_cohort", {"person_ids": ["nobody"]}, "No valid users to add to cohort"),
        ("remove_person_from_static_cohort", {}, "person_id is required"),
        ("remove_person_from_static_cohort", {"person_id": 5}, "person_id must be a string"),
        ("remove_person_from_static_cohort", {"person_id": "x"}, "person_id must be a valid UUID"),
    ],
)
def test_static_cohort_person_refusals(refused, path, body, detail):
    """posthog/api/cohort.py: the two static-cohort actions check their bodies in this order."""
    refused("patch", f"{BASE}6/{path}/", body, "invalid_input", None, detail)


def test_dynamic_cohorts_refuse_person_lists(refused, client):
    """posthog/api/cohort.py: adding or removing persons needs a static cohort; an unknown person
    is a 404."""
    refused("patch", f"{BASE}1/add_persons_to_static_cohort/", {"person_ids": ["x"]}, "invalid_input", None,
            "Can only add users to static cohorts")  # fmt: skip
    refused("patch", f"{BASE}1/remove_person_from_static_cohort/", {"person_id": "x"}, "invalid_input", None,
            "Can only remove users from static cohorts")  # fmt: skip
    missing = client.patch(
        f"{BASE}6/remove_person_from_static_cohort/",
        json={"person_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "Person with this UUID does not exist in the cohort's team"


@pytest.mark.parametrize(
    "body, attr, detail",
    [
        (
            {"filters": {"groups": []}},
            "filters__detail",
            "Must contain a 'properties' key with type and values",
        ),
        (
            {"filters": criteria({"type": "person", "key": "plan"})},
            "filters",
            "Missing required keys for person filter: value, operator",
        ),
        (
            {"filters": criteria(PLAN_IS_PRO), "is_static": True, "query": SELECT_ONE},
            None,
            "Cannot set both query and filters at the same time.",
        ),
        ({"query": SELECT_ONE}, None,
         "Cannot create a dynamic cohort with a query. Set is_static to true."),
        ({"is_static": True, "query": {"kind": "TrendsQuery"}}, "query",
         "Query must be an ActorsQuery or HogQLQuery. Got: TrendsQuery"),
    ],
)  # fmt: skip
def test_create_refusals(refused, body, attr, detail):
    """posthog/api/cohort.py: validate_filters, validate_query and create's own checks."""
    refused("post", BASE, {"name": "bad", **body}, "invalid_input", attr, detail)


def test_static_criteria_cannot_be_edited(refused):
    """posthog/api/cohort.py: update refuses to change a static cohort's criteria."""
    refused("patch", f"{BASE}6/", {"filters": criteria(PLAN_IS_PRO)}, "invalid_input", None,
            "Editing the criteria of a static cohort is not supported yet. "
            "Create a new static cohort instead.")  # fmt: skip


def test_soft_delete_guards(client, refused):
    """posthog/api/cohort.py and forbid_destroy_model.py: DELETE is a bodiless 405; a cohort that
    another cohort uses as criteria cannot be deleted; otherwise PATCH {"deleted": true} takes it
    out of the list, and retrieve still answers it."""
    assert client.delete(f"{BASE}1/").status_code == 405
    refused("patch", f"{BASE}1/", {"deleted": True}, "invalid_input", None,
            "This cohort is used as criteria in 1 other cohort(s): Paying users outside the US. "
            "Please remove this cohort from those cohort definitions before deleting it.")  # fmt: skip
    assert client.patch(f"{BASE}5/", json={"deleted": True}).get_json()["deleted"] is True
    assert 5 not in [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert client.get(f"{BASE}5/").get_json()["deleted"] is True
    assert client.patch(f"{BASE}1/", json={"deleted": True}).status_code == 200


def test_loops_are_refused(refused):
    """posthog/api/cohort.py: will_create_loops refuses a cohort that reaches itself."""
    refused("patch", f"{BASE}1/", {"filters": criteria({"type": "cohort", "key": "id", "value": 5})},
            "invalid_input", None, "Cohorts cannot reference other cohorts in a loop.")  # fmt: skip


def test_list_filters(client):
    """posthog/api/cohort.py: ?type=static|dynamic, ?search= on the name (apply_trigram_search: a
    substring is an exact match; a typo finds the trigram-similar names, best first), a
    200-character search limit, ?basic= drops filters/query/groups, newest first otherwise."""
    static = client.get(f"{BASE}?type=static").get_json()["results"]
    assert [row["name"] for row in static] == ["Beta testers"]
    assert all(not row["is_static"] for row in client.get(f"{BASE}?type=dynamic").get_json()["results"])
    found = client.get(f"{BASE}?search=PAYING").get_json()["results"]
    assert {row["name"] for row in found} == {"Paying customers", "Paying users outside the US"}
    assert {row["search_match_type"] for row in found} == {"exact"}
    typo = client.get(f"{BASE}?search=payng").get_json()["results"]
    assert [(row["name"], row["search_match_type"]) for row in typo] == [
        ("Paying customers", "similar"),
        ("Paying users outside the US", "similar"),
    ]
    assert {row["search_match_type"] for row in client.get(BASE).get_json()["results"]} == {None}
    too_long = client.get(f"{BASE}?search={'x' * 201}")
    assert too_long.status_code == 400
    assert too_long.get_json() == error("Search query must be 200 characters or fewer.", "search")
    basic = client.get(f"{BASE}?basic=true").get_json()["results"][0]
    assert not {"filters", "query", "groups"} & set(basic)
    stamps = [row["created_at"] for row in client.get(BASE).get_json()["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_a_cohort_an_active_flag_targets_cannot_be_deleted(client, refused):
    """posthog/api/cohort.py CohortSerializer.update: deleting a cohort that active, undeleted feature
    flags of the project use in their conditions is refused, naming the flags; once the flag is off
    the cohort may go."""
    condition = {"properties": [{"key": "id", "type": "cohort", "value": 5}], "rollout_percentage": 100}
    made = client.post(
        "/api/projects/1/feature_flags/", json={"key": "for-cohort-5", "filters": {"groups": [condition]}}
    )
    assert made.status_code == 201, made.get_json()
    refused("patch", f"{BASE}5/", {"deleted": True}, "invalid_input", None,
            "This cohort is used in 1 active feature flag(s): for-cohort-5. "
            "Please remove the cohort from these feature flags before deleting it.")  # fmt: skip
    client.patch(f"/api/projects/1/feature_flags/{made.get_json()['id']}/", json={"active": False})
    assert client.patch(f"{BASE}5/", json={"deleted": True}).status_code == 200


NO_PROPERTIES = "Must contain a 'properties' key with type and values"


def _published(backend, name: str) -> Any:
    """A validator of one served component (its $refs resolved in the served document)."""
    document = backend.openapi()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("openapi.json", resource)
    schema = {"$ref": f"openapi.json#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(
    "body, attr, detail",
    [
        ({"filters": None}, "filters__detail", NO_PROPERTIES),
        ({"filters": {"groups": []}}, "filters__detail", NO_PROPERTIES),
        ({"filters": criteria({"type": "person", "key": "plan"})}, "filters",
         "Missing required keys for person filter: value, operator"),
        ({"filters": criteria({"type": "person", "key": {}, "operator": "exact", "value": 1})}, "filters",
         "Input should be a valid string"),
        ({"filters": criteria(PLAN_IS_PRO), "is_static": True, "query": SELECT_ONE}, None,
         "Cannot set both query and filters at the same time."),
        ({"query": SELECT_ONE}, None, "Cannot create a dynamic cohort with a query. Set is_static to true."),
        ({"is_static": True, "query": "SELECT 1"}, "query", "Query must be a dictionary."),
    ],
)  # fmt: skip
def test_the_create_body_publishes_what_the_view_refuses(backend, refused, body, attr, detail):
    """CohortCreateRequest states validate_filters' and create's rules, the new cohort's is_static
    deciding them (posthog/api/cohort.py: _cohort_will_be_static), so a generated client's valid
    body is one the view takes; the view still answers its own words."""
    assert not _published(backend, "CohortCreateRequest").is_valid({"name": "bad", **body})
    refused("post", BASE, {"name": "bad", **body}, "invalid_input", attr, detail)


def test_a_static_cohort_takes_filters_without_criteria(client, backend):
    """validate_filters skips a static cohort's filters that hold no criteria; the schema agrees."""
    for filters in (None, {"properties": {"type": "OR"}}, {"properties": "all"}):
        body = {"name": "Listed", "is_static": True, "filters": filters}
        assert _published(backend, "CohortCreateRequest").is_valid(body)
        assert _published(backend, "CohortRequest").is_valid(body)
        assert client.post(BASE, json=body).status_code == 201
        assert not _published(backend, "CohortCreateRequest").is_valid({**body, "is_static": False})


def test_the_person_actions_publish_their_bodies(backend):
    """add_persons_to_static_cohort reads a list of 1 to 1000 person ids, remove_person_from_static_cohort
    one UUID; both bodies are required (posthog/api/cohort.py)."""
    add = _published(backend, "AddPersonsRequest")
    assert not add.is_valid({}) and not add.is_valid({"person_ids": []})
    assert not add.is_valid({"person_ids": [str(uuid.uuid4())] * 1001})
    remove = _published(backend, "RemovePersonRequest")
    assert not remove.is_valid({"person_id": ""}) and remove.is_valid({"person_id": str(uuid.uuid4())})


def test_a_static_cohorts_unchecked_filters_that_are_no_object_show_as_none(client):
    """validate_filters skips a static cohort's filters without criteria (posthog/api/cohort.py), so
    they are kept as sent; one that is no object holds no criteria and shows as empty (it was a 500)."""
    for filters in (True, -3.5):
        created = client.post(BASE, json={"name": "Listed", "is_static": True, "filters": filters})
        assert created.status_code == 201
        assert created.get_json()["filters"] == {"properties": {}}
        assert client.get(f"{BASE}{created.get_json()['id']}/").status_code == 200


def test_the_persons_action_reads_properties_as_json(client):
    """The persons action's properties is JSON text; a person filter without a text key filters
    nothing (it was a 500), text that is no JSON is 400 'Properties are unparsable!'."""
    everyone = client.get(f"{BASE}6/persons/").get_json()["results"]
    keyless = client.get(f"{BASE}6/persons/", query_string={"properties": '[{"type": "person"}]'})
    assert keyless.status_code == 200 and keyless.get_json()["results"] == everyone
    bad = client.get(f"{BASE}6/persons/", query_string={"properties": "not json"})
    assert bad.status_code == 400 and bad.get_json()["detail"] == "Properties are unparsable!"
