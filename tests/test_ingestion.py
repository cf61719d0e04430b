"""Ingestion effects seen through the REST routes, and the events list and retrieve.

Sources: PostHog's person and group processing in the ingestion pipeline (plugin-server
person-state, $identify / $create_alias merging, $set / $set_once / $unset, $groupidentify),
posthog/api/event.py (EventViewSet list filters, next-only pagination, retrieve).
"""

import pytest

from mockhog.resources.feature_flags import group_type_mapping
from mockhog.resources.identity import api_token

EVENTS = "/api/projects/1/events/"
PERSONS = "/api/projects/1/persons/"


@pytest.fixture
def send(client, backend):
    token = api_token(backend.seed, backend.projects[1])

    def post(*events, sent_at=None):
        body = {"api_key": token, "batch": list(events)}
        if sent_at:
            body["sent_at"] = sent_at
        response = client.post("/batch/", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)

    return post


def _person(client, distinct_id):
    results = client.get(f"{PERSONS}?distinct_id={distinct_id}").get_json()["results"]
    return results[0] if results else None


def test_first_sight_creates_the_person(client, send):
    """A distinct id's first event creates its person (person-state: createPerson on first sight)."""
    assert _person(client, "newcomer") is None
    send({"event": "signed_up", "distinct_id": "newcomer", "properties": {"$set": {"email": "n@x.io"}}})
    person = _person(client, "newcomer")
    assert person["distinct_ids"] == ["newcomer"] and person["properties"] == {"email": "n@x.io"}
    assert person["name"] == "n@x.io"


def test_set_set_once_and_unset(client, send):
    """$set overwrites, $set_once only fills, $unset removes (person-state property updates)."""
    send({"event": "e", "distinct_id": "p", "properties": {"$set": {"plan": "free", "a": 1}}})
    send(
        {
            "event": "e",
            "distinct_id": "p",
            "properties": {
                "$set": {"plan": "pro"},
                "$set_once": {"plan": "x", "first": "y"},
                "$unset": ["a"],
            },
        }
    )
    assert _person(client, "p")["properties"] == {"plan": "pro", "first": "y"}


def test_engage_sends_set_at_the_top_level(client, backend):
    """The legacy /engage/ body carries $set beside the event, not in its properties."""
    token = api_token(backend.seed, backend.projects[1])
    body = {"event": "$identify", "distinct_id": "legacy", "$set": {"plan": "team"}, "token": token}
    assert client.post("/engage/", json=body).status_code == 200
    assert _person(client, "legacy")["properties"] == {"plan": "team"}


def test_identify_merges_the_anonymous_person(client, send):
    """$identify with $anon_distinct_id joins the anonymous person into the identified one."""
    send({"event": "$pageview", "distinct_id": "anon-1", "properties": {"$set": {"ref": "ad"}}})
    send({"event": "$pageview", "distinct_id": "user-1", "properties": {"$set": {"email": "u@x.io"}}})
    send({"event": "$identify", "distinct_id": "user-1", "properties": {"$anon_distinct_id": "anon-1"}})
    person = _person(client, "anon-1")
    assert person == _person(client, "user-1")
    assert set(person["distinct_ids"]) == {"anon-1", "user-1"}
    assert person["properties"] == {"ref": "ad", "email": "u@x.io"}
    events = client.get(f"{EVENTS}?person_id={person['id']}").get_json()["results"]
    assert {e["distinct_id"] for e in events} == {"anon-1", "user-1"}


def test_identify_does_not_merge_an_identified_person(client, send):
    """$identify never merges away a person that is already identified (isMergeAllowed)."""
    send({"event": "$identify", "distinct_id": "alice", "properties": {"$anon_distinct_id": "device-a"}})
    send({"event": "$identify", "distinct_id": "bob", "properties": {"$anon_distinct_id": "alice"}})
    assert _person(client, "alice")["id"] != _person(client, "bob")["id"]


def test_create_alias(client, send):
    """$create_alias adds properties.alias to the distinct id's person."""
    send({"event": "$create_alias", "distinct_id": "main", "properties": {"alias": "other-id"}})
    assert set(_person(client, "other-id")["distinct_ids"]) == {"main", "other-id"}


def test_groupidentify_creates_then_updates_the_group(client, send):
    """$groupidentify: $group_type, $group_key, $group_set create or update the group."""
    event = {"event": "$groupidentify", "distinct_id": "u", "properties": {"$group_type": "organization"}}
    send(
        {**event, "properties": {**event["properties"], "$group_key": "acme", "$group_set": {"name": "Acme"}}}
    )
    send({**event, "properties": {**event["properties"], "$group_key": "acme", "$group_set": {"seats": 5}}})
    found = client.get("/api/projects/1/groups/find/?group_type_index=0&group_key=acme")
    assert found.status_code == 200
    assert found.get_json()["group_properties"] == {"name": "Acme", "seats": 5}


def _group_identify(group_type, key, **group_set):
    properties = {"$group_type": group_type, "$group_key": key, "$group_set": group_set}
    return {"event": "$groupidentify", "distinct_id": "u", "properties": properties}


def test_groupidentify_maps_a_new_group_type_to_the_next_free_index(client, backend, send):
    """A type the project does not map yet gets the lowest free index (GroupTypeManager
    .fetchGroupTypeIndex), and the group is created under it; the flags service sees the type."""
    send(_group_identify("workspace", "ws-1", name="One"))
    found = client.get("/api/projects/1/groups/find/?group_type_index=2&group_key=ws-1")
    assert found.status_code == 200 and found.get_json()["group_properties"] == {"name": "One"}
    listed = client.get("/api/projects/1/groups/?group_type_index=2").get_json()["results"]
    assert [g["group_key"] for g in listed] == ["ws-1"]
    assert group_type_mapping(backend, 1) == {"0": "organization", "1": "instance", "2": "workspace"}
    # the same type again: no new mapping, the group is updated
    send(_group_identify("workspace", "ws-1", seats=3))
    found = client.get("/api/projects/1/groups/find/?group_type_index=2&group_key=ws-1").get_json()
    assert found["group_properties"] == {"name": "One", "seats": 3}
    assert len(group_type_mapping(backend, 1)) == 3


def test_at_most_five_group_types(client, backend, send):
    """Past five types per project the type is not mapped and its group is dropped; the event is
    still stored."""
    send(*[_group_identify(name, "k") for name in ("team", "region", "store", "extra")])
    mapping = group_type_mapping(backend, 1)
    assert mapping == {"0": "organization", "1": "instance", "2": "team", "3": "region", "4": "store"}
    for index in range(5):
        assert client.get(f"/api/projects/1/groups/?group_type_index={index}").status_code == 200
    stored = [g for g in backend.store.table(1, "groups").values() if g["group_key"] == "k"]
    assert sorted(g["group_type_index"] for g in stored) == [2, 3, 4]
    events = client.get("/api/projects/1/events/?event=$groupidentify&distinct_id=u").get_json()["results"]
    assert len(events) == 4


def test_groups_property_maps_types_and_tags_the_event(client, backend, send):
    """``$groups`` on any event maps its types and adds ``$group_<index>`` (addGroupProperties)."""
    send(
        {
            "event": "seat_added",
            "distinct_id": "u",
            "properties": {"$groups": {"organization": "acme", "pod": 7}},
        }
    )
    event = client.get("/api/projects/1/events/?event=seat_added").get_json()["results"][0]
    assert event["properties"]["$group_0"] == "acme" and event["properties"]["$group_2"] == 7
    assert group_type_mapping(backend, 1)["2"] == "pod"


def test_group_identify_skips_falsy_keys_and_profileless_events(client, backend, send):
    """A falsy ``$group_key`` is skipped; without person processing no group type or group is made;
    a numeric key is stored as its string."""
    before = len(backend.store.table(1, "groups"))
    send(_group_identify("organization", ""), _group_identify("organization", 0))
    profileless = _group_identify("newtype", "x")
    profileless["properties"]["$process_person_profile"] = False
    send(profileless)
    assert len(backend.store.table(1, "groups")) == before
    assert "newtype" not in group_type_mapping(backend, 1).values()
    send(_group_identify("organization", 42))
    assert client.get("/api/projects/1/groups/find/?group_type_index=0&group_key=42").status_code == 200


def test_reset_forgets_the_group_types_ingestion_mapped(client, backend, send):
    send(_group_identify("workspace", "ws-1"))
    backend.reset()
    assert group_type_mapping(backend, 1) == {"0": "organization", "1": "instance"}


def test_event_definitions_created_and_last_seen_moved(client, send):
    """Ingestion upserts the event definition and moves last_seen_at."""
    before = client.get("/api/projects/1/event_definitions/by_name/?name=file_uploaded").get_json()
    send({"event": "file_uploaded", "distinct_id": "u"}, {"event": "brand_new_event", "distinct_id": "u"})
    after = client.get("/api/projects/1/event_definitions/by_name/?name=file_uploaded").get_json()
    assert after["id"] == before["id"] and after["last_seen_at"] > before["last_seen_at"]
    created = client.get("/api/projects/1/event_definitions/by_name/?name=brand_new_event")
    assert created.status_code == 200 and created.get_json()["last_seen_at"] is not None


def test_clock_skew_is_corrected(client, send):
    """timestamp - sent_at is applied to the server's now (parseEventTimestamp)."""
    send(
        {"event": "skewed", "distinct_id": "u", "timestamp": "2020-01-01T00:00:00Z"},
        sent_at="2020-01-01T00:00:10Z",
    )
    event = client.get(f"{EVENTS}?event=skewed").get_json()["results"][0]
    assert event["timestamp"] > "2025-01-01"


def test_events_are_listed_newest_first_with_their_person(client, send):
    """EventViewSet.list: -timestamp; each event's person summary (posthog/api/event.py)."""
    send({"event": "listed", "distinct_id": "lister", "uuid": "0190a000-0000-7000-8000-000000000001",
          "properties": {"$set": {"email": "l@x.io", "plan": "pro"}, "$lib": "posthog-python"}})  # fmt: skip
    results = client.get(f"{EVENTS}?event=listed").get_json()["results"]
    assert len(results) == 1
    event = results[0]
    assert event["id"] == "0190a000-0000-7000-8000-000000000001"
    assert event["properties"]["$lib"] == "posthog-python"
    assert event["person"] == {
        "is_identified": False,
        "distinct_ids": ["lister"],
        "properties": {"email": "l@x.io"},
    }
    assert client.get(f"{EVENTS}{event['id']}/").get_json() == event


def test_events_next_only_pagination(client):
    """next carries before=<last timestamp>; no count, no previous (posthog/api/event.py _build_next_url)."""
    first = client.get(f"{EVENTS}?limit=3&event=$pageview").get_json()
    assert set(first) == {"next", "results"} and len(first["results"]) == 3
    assert (
        "before=" + first["results"][-1]["timestamp"] in first["next"]
        and "event=%24pageview" in first["next"]
    )
    second = client.get(first["next"].replace("http://localhost", "")).get_json()
    assert second["results"][0]["timestamp"] < first["results"][-1]["timestamp"]
    ascending = client.get(f'{EVENTS}?limit=2&orderBy=["timestamp"]').get_json()
    assert "after=" + ascending["results"][-1]["timestamp"] in ascending["next"]


def test_events_filters(client, send):
    """event, distinct_id, after/before and properties filters (posthog/api/event.py _filter_request)."""
    send(
        {"event": "f", "distinct_id": "one", "timestamp": "2024-01-01T00:00:00Z", "properties": {"size": 5}},
        {"event": "f", "distinct_id": "two", "timestamp": "2024-01-02T00:00:00Z", "properties": {"size": 50}},
    )

    def ids(query):
        return [e["distinct_id"] for e in client.get(f"{EVENTS}?event=f&{query}").get_json()["results"]]

    assert ids("distinct_id=one") == ["one"]
    assert ids("after=2024-01-01T12:00:00Z") == ["two"]
    assert ids("before=2024-01-01T12:00:00Z") == ["one"]
    assert ids('properties=[{"key":"size","value":10,"operator":"gt","type":"event"}]') == ["two"]


def test_events_order_and_dates_are_read_as_published(client, send):
    """orderBy is a JSON list of fields (PostHog's list(json.loads(...)) fails on anything else);
    after/before take an ISO date or time, or a relative date like -7d (posthog/api/event.py)."""
    send({"event": "g", "distinct_id": "one", "timestamp": "2024-01-01T00:00:00Z"})
    for text in ("{}", "5", "not json", "[1]"):
        answer = client.get(f"{EVENTS}?orderBy={text}")
        assert answer.status_code == 400
        assert answer.get_json()["detail"] == "orderBy must be a JSON list"
    assert client.get(f"{EVENTS}?event=g&after=2023-12-31").get_json()["results"][0]["distinct_id"] == "one"
    assert client.get(f"{EVENTS}?event=g&after=-7d").get_json()["results"] == []
    for when in ("yesterday", "-99999999999d"):  # the second is further back than any date
        bad = client.get(f"{EVENTS}?after={when}")
        assert bad.status_code == 400 and bad.get_json()["detail"] == f"Invalid date value for after: {when}"
    published = client.get("/api/schema/").get_json()["paths"]["/api/projects/{project_id}/events/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in published["parameters"]}
    assert parameters["orderBy"]["content"]["application/json"]["schema"]["type"] == "array"
    assert {"format": "date"} in parameters["after"]["schema"]["anyOf"]
    assert {"type": "object"} in parameters["properties"]["content"]["application/json"]["schema"]["anyOf"]


def test_event_retrieve_errors(client):
    """retrieve: a bad UUID is a hand-built 400, an unknown one a 404 (posthog/api/event.py)."""
    bad = client.get(f"{EVENTS}not-a-uuid/")
    assert bad.status_code == 400
    assert bad.get_json() == {"detail": "Invalid UUID", "code": "invalid", "type": "validation_error"}
    missing = client.get(f"{EVENTS}0190a000-0000-7000-8000-0000000000ff/")
    assert missing.status_code == 404
    assert (
        missing.get_json()["detail"] == "No events exist for event UUID 0190a000-0000-7000-8000-0000000000ff"
    )


def test_a_time_far_ahead_becomes_now(client, send):
    """More than 23 hours in the future is replaced by the time of ingestion (parseEventTimestamp)."""
    send({"event": "from_the_future", "distinct_id": "u", "timestamp": "2999-01-01T00:00:00Z"})
    event = client.get(f"{EVENTS}?event=from_the_future").get_json()["results"][0]
    assert event["timestamp"] < "2100"


def test_feature_flag_called_moves_last_called_at(client, send):
    """$feature_flag_called sets the flag's last_called_at (the "from $feature_flag_called events" field)."""
    assert client.get("/api/projects/1/feature_flags/1/").get_json()["last_called_at"] is None
    send(
        {
            "event": "$feature_flag_called",
            "distinct_id": "u",
            "properties": {"$feature_flag": "new-onboarding"},
        }
    )
    assert client.get("/api/projects/1/feature_flags/1/").get_json()["last_called_at"] is not None
