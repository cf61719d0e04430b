"""Persons: PostHog's own list envelope and links, filters, CSV, and id-or-UUID retrieval."""

import csv
import io
import json
import uuid
from urllib.parse import quote

import jsonschema
import pytest

from mockhog import Backend, create_app

HOST = "http://mock.test"
BASE = "/api/projects/1/persons/"
FIELDS = ["id", "name", "distinct_ids", "properties", "created_at", "uuid", "last_seen_at"]
NOT_A_PERSON_ID = (
    "The ID provided does not look like a personID. If you are using a distinctId, "
    "please use /persons?distinct_id={} instead."
)


def _get(client, query="", path=BASE):
    response = client.get(f"{path}?{query}" if query else path, base_url=HOST)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _everyone(client):
    return _get(client, "limit=1000")["results"]


def _props(filters):
    return "properties=" + quote(json.dumps(filters))


def test_list_has_no_count_and_is_newest_first(client):
    page = _get(client)
    assert list(page) == ["results", "next", "previous"]
    assert len(page["results"]) == 100 and page["previous"] is None
    assert page["next"] == f"{HOST}{BASE}?offset=100"
    assert list(page["results"][0]) == FIELDS
    everyone = _everyone(client)
    keys = [(p["created_at"], p["id"]) for p in everyone]
    assert len(everyone) == 250 and keys == sorted(keys, reverse=True)


def test_include_total_adds_count(client):
    page = _get(client, "include_total&limit=5")
    assert list(page) == ["results", "next", "previous", "count"] and page["count"] == 250
    assert _get(client, "include_total=false&email=nobody@example.com")["count"] == 0


def test_links_keep_the_query_as_written(client):
    page = _get(client, "limit=10&offset=20&search=&zeta=1")
    assert page["next"] == f"{HOST}{BASE}?limit=10&offset=30&search=&zeta=1"
    assert page["previous"] == f"{HOST}{BASE}?limit=10&offset=10&search=&zeta=1"
    # offset 0 is falsy for PostHog's URL helper: the first page's "previous" is this very URL
    second = _get(client, "zeta=1&offset=10&limit=10")
    assert second["previous"] == f"{HOST}{BASE}?zeta=1&offset=10&limit=10"
    assert second["next"] == f"{HOST}{BASE}?zeta=1&offset=20&limit=10"
    assert _get(client, "limit=10")["next"] == f"{HOST}{BASE}?limit=10&offset=10"


def test_a_full_last_page_still_links_on(client):
    last = _get(client, "limit=10&offset=240")
    assert len(last["results"]) == 10 and last["next"] == f"{HOST}{BASE}?limit=10&offset=250"
    after = _get(client, "limit=10&offset=250")
    assert after["results"] == [] and after["next"] is None
    assert after["previous"] == f"{HOST}{BASE}?limit=10&offset=240"
    assert len(_get(client, "limit=1000&offset=249")["results"]) == 1


def test_pages_are_disjoint_and_cover_everyone(client):
    seen, url = [], f"{BASE}?limit=60"
    while url:
        page = client.get(url, base_url=HOST).get_json()
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 250


def test_names_and_distinct_id_order(client):
    for person in _everyone(client):
        ids, email = person["distinct_ids"], person["properties"].get("email")
        anonymous = [len(i) == 36 and i.count("-") == 4 for i in ids]
        assert anonymous == sorted(anonymous)  # identified ids first
        assert person["name"] == (email or ids[0])
    assert any(not p["properties"].get("email") for p in _everyone(client))


def test_distinct_id_email_and_search_filters(client):
    everyone = _everyone(client)
    anonymous_only = next(p for p in everyone if "email" not in p["properties"])
    wanted = anonymous_only["distinct_ids"][-1]
    assert [p["id"] for p in _get(client, f"distinct_id={wanted}")["results"]] == [anonymous_only["id"]]
    assert _get(client, f"distinct_id={wanted[:-1]}")["results"] == []
    with_email = next(p for p in everyone if "email" in p["properties"])
    email = with_email["properties"]["email"]
    assert [p["id"] for p in _get(client, "email=" + quote(email))["results"]] == [with_email["id"]]
    assert _get(client, "email=" + quote(email.upper()))["results"] == []
    domain = email.split("@")[1]
    found = _get(client, "search=" + quote(domain.upper()))["results"]
    assert with_email["id"] in [p["id"] for p in found]
    assert all(domain in p["properties"]["email"] for p in found)
    assert [p["id"] for p in _get(client, f"search={wanted}")["results"]] == [anonymous_only["id"]]


@pytest.mark.parametrize(
    "filters, check",
    [
        ([{"key": "plan", "value": "pro", "type": "person"}], lambda p: p.get("plan") == "pro"),
        (
            [{"key": "plan", "value": ["team", "enterprise"], "operator": "exact", "type": "person"}],
            lambda p: p.get("plan") in ("team", "enterprise"),
        ),
        (
            [{"key": "plan", "value": "free", "operator": "is_not", "type": "person"}],
            lambda p: p.get("plan") != "free",
        ),
        (
            [{"key": "$browser", "value": "CHROME", "operator": "icontains", "type": "person"}],
            lambda p: "chrome" in p["$browser"].lower(),
        ),
        (
            [{"key": "$browser", "value": "chrome", "operator": "not_icontains", "type": "person"}],
            lambda p: "chrome" not in p["$browser"].lower(),
        ),
        (
            [{"key": "$os", "value": "^(iOS|Android)$", "operator": "regex", "type": "person"}],
            lambda p: p["$os"] in ("iOS", "Android"),
        ),
        (
            [{"key": "$os", "value": "OS", "operator": "not_regex", "type": "person"}],
            lambda p: "OS" not in p["$os"],
        ),
        ([{"key": "email", "operator": "is_set", "type": "person"}], lambda p: "email" in p),
        ([{"key": "email", "operator": "is_not_set", "type": "person"}], lambda p: "email" not in p),
        (
            [
                {"key": "plan", "value": "pro", "type": "person"},
                {"key": "$os", "value": "iOS", "type": "person"},
            ],
            lambda p: p.get("plan") == "pro" and p["$os"] == "iOS",
        ),
        (
            {"type": "AND", "values": [{"key": "plan", "value": "team", "type": "person"}]},
            lambda p: p.get("plan") == "team",
        ),
    ],
)
def test_property_filters(client, filters, check):
    found = _get(client, "limit=1000&" + _props(filters))["results"]
    expected = [p["id"] for p in _everyone(client) if check(p["properties"])]
    assert expected and [p["id"] for p in found] == expected


def test_only_person_property_filters_apply(client):
    event_filter = [{"key": "plan", "value": "pro"}]  # no type means an event property
    assert len(_get(client, "limit=1000&" + _props(event_filter))["results"]) == 250


@pytest.mark.parametrize("raw", ["[not-json", "5", '"plan"', "[5]", '[{"type": "person", "key": ["plan"]}]'])
def test_unparsable_properties_are_a_400(client, backend, raw):
    """properties is JSON text holding a list of filters (PersonViewSet.list iterates it; anything
    else fails there); a person filter's key is a string."""
    before = backend.store.dump()
    response = client.get(BASE, query_string={"properties": raw})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Properties are unparsable!",
        "attr": None,
    }
    assert backend.store.dump() == before


def test_properties_are_published_as_json(client):
    """The served document says properties is JSON (OpenAPI's content), with the list's schema."""
    operation = client.get("/api/schema/").get_json()["paths"]["/api/projects/{project_id}/persons/"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "properties"]
    assert "schema" not in parameter
    assert parameter["content"]["application/json"]["schema"]["type"] == "array"


def test_csv_lists_every_match_with_flattened_sorted_columns(client):
    response = client.get(
        f"{BASE}?format=csv&limit=5&" + _props([{"key": "plan", "value": "team", "type": "person"}])
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    header = list(rows[0])
    assert header == sorted(header)
    assert {"id", "name", "uuid", "created_at", "distinct_ids.0", "properties.plan"} <= set(header)
    everyone = [p for p in _everyone(client) if p["properties"]["plan"] == "team"]
    assert len(rows) == len(everyone) > 5  # PostHog's CSV ignores limit and offset
    assert [int(r["id"]) for r in rows] == [p["id"] for p in everyone]
    first = everyone[0]
    assert rows[0]["distinct_ids.0"] == first["distinct_ids"][0] and rows[0]["name"] == first["name"]
    empty = client.get(f"{BASE}?format=csv&email=nobody@example.com")
    assert empty.status_code == 200 and empty.data == b""


def test_retrieve_by_id_or_uuid(client):
    person = _everyone(client)[7]
    assert client.get(f"{BASE}{person['id']}/").get_json() == person
    assert client.get(f"/api/environments/1/persons/{person['uuid']}").get_json() == person
    assert client.get(f"{BASE}{person['uuid'].upper()}/").get_json() == person
    csv_one = client.get(f"{BASE}{person['id']}/?format=csv")
    assert csv_one.status_code == 200 and csv_one.mimetype == "text/csv" and csv_one.data == b""


@pytest.mark.parametrize(
    "path, status, body",
    [
        (
            "not-a-person/",
            400,
            {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": NOT_A_PERSON_ID.format("not-a-person"),
                "attr": None,
            },
        ),
        (
            "1.5/",
            400,
            {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": NOT_A_PERSON_ID.format("1.5"),
                "attr": None,
            },
        ),
        (
            "9999/",
            404,
            {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None},
        ),
        (
            "01970000-0000-7000-8000-000000000000/",
            404,
            {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None},
        ),
        (
            "1/?format=xml",
            404,
            {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None},
        ),
    ],
)
def test_retrieve_errors(client, backend, path, status, body):
    before = backend.store.dump()
    response = client.get(BASE + path)
    assert response.status_code == status and response.get_json() == body
    assert backend.store.dump() == before


def test_unknown_format_on_the_list_is_404(client):
    assert client.get(f"{BASE}?format=xml").status_code == 404


def test_persons_are_not_created_here(client):
    """PersonViewSet.create raises MethodNotAllowed: persons come from $identify events."""
    assert client.post(BASE, json={"properties": {}}).status_code == 405


def test_fixture_persons_with_numbers_and_names(tmp_path):
    fixture = {
        "records": {
            "1": {
                "persons": [
                    {
                        "id": 9001,
                        "uuid": "01970000-0000-7000-8000-000000009001",
                        "created_at": "2025-06-02T00:00:00Z",
                        "last_seen_at": None,
                        "distinct_ids": ["0197aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee", "acct-42"],
                        "properties": {"age": 42, "username": "hedgie"},
                    },
                    {
                        "id": 9002,
                        "uuid": "01970000-0000-7000-8000-000000009002",
                        "created_at": "2025-06-02T00:00:01Z",
                        "last_seen_at": None,
                        "distinct_ids": ["0197aaaa-bbbb-7ccc-8ddd-ffffffffffff", "acct-7"],
                        "properties": {"age": 7, "signed_up": "2025-05-20T10:00:00Z"},
                    },
                ]
            }
        }
    }
    path = tmp_path / "persons.json"
    path.write_text(json.dumps(fixture))
    backend = Backend(seed=0, fixtures=[path])
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"

    def ids(filters):
        return [p["id"] for p in _get(client, _props(filters))["results"]]

    assert ids([{"key": "age", "value": 10, "operator": "gt", "type": "person"}]) == [9001]
    assert ids([{"key": "age", "value": "7", "operator": "lte", "type": "person"}]) == [9002]
    assert ids([{"key": "age", "value": 42, "type": "person"}]) == [9001]
    assert ids(
        [{"key": "signed_up", "value": "2025-05-01", "operator": "is_date_after", "type": "person"}]
    ) == [9002]
    first, second = _get(client, "limit=2")["results"]
    assert (first["id"], first["name"], first["distinct_ids"]) == (
        9002,
        "acct-7",
        ["acct-7", "0197aaaa-bbbb-7ccc-8ddd-ffffffffffff"],
    )
    assert (second["id"], second["name"]) == (9001, "hedgie")


def test_values_counts_a_property_across_persons(client, backend):
    """GET persons/values/ is PersonViewSet.values, not a person lookup: the key's values with
    how many persons hold each, most common first, at most 20, a case-insensitive substring
    filter, and Cache-Control max-age=10 (posthog/api/person.py, posthog/queries/property_values.py)."""
    persons = list(backend.store.table(1, "persons").values())
    response = client.get("/api/projects/1/persons/values/?key=plan")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "max-age=10"
    plans = {}
    for person in persons:
        if person["properties"].get("plan"):
            plans[person["properties"]["plan"]] = plans.get(person["properties"]["plan"], 0) + 1
    expected = [{"name": n, "count": c} for n, c in sorted(plans.items(), key=lambda i: (-i[1], i[0]))]
    assert response.get_json() == {"results": expected, "refreshing": False}
    found = client.get("/api/projects/1/persons/values/?key=$browser&value=CHROME").get_json()["results"]
    assert found and all("chrome" in item["name"].lower() for item in found)
    ids = client.get("/api/projects/1/persons/values/?key=distinct_id").get_json()["results"]
    assert len(ids) == 20 and all(item["count"] == 1 for item in ids)


@pytest.mark.parametrize("query", ["", "?key=", "?key=$virt_initial_channel_type"])
def test_values_without_a_usable_key_are_empty(client, query):
    """posthog/api/person.py (values): no key, or a $virt one, answers no values."""
    response = client.get(f"/api/projects/1/persons/values/{query}")
    assert response.status_code == 200
    assert response.get_json() == {"results": [], "refreshing": False}


def test_cohorts_of_a_person(client, backend):
    """GET persons/cohorts/?person_id= is PersonViewSet.cohorts (scopes person:read and
    cohort:read), by id or UUID; an unknown person is 404 (posthog/api/person.py). mockhog seeds
    no cohorts, so the list is empty."""
    person = next(iter(backend.store.table(1, "persons").values()))
    for ref in (person["id"], person["uuid"]):
        response = client.get(f"/api/projects/1/persons/cohorts/?person_id={ref}")
        assert response.status_code == 200 and response.get_json() == {"results": []}
    for ref in ("99999999", "not-a-person"):
        missing = client.get(f"/api/projects/1/persons/cohorts/?person_id={ref}")
        assert missing.status_code == 404
        assert missing.get_json() == {
            "type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None,
        }  # fmt: skip
    without = client.get("/api/projects/1/persons/cohorts/")
    assert without.status_code == 400 and without.get_json()["attr"] == "person_id"
    keys = "/_mockhog/personal_api_keys"
    only_persons = client.post(keys, json={"label": "p", "scopes": ["person:read"]}).get_json()["value"]
    refused = client.get(
        f"/api/projects/1/persons/cohorts/?person_id={person['id']}",
        headers={"Authorization": f"Bearer {only_persons}"},
    )
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "API key missing required scope 'cohort:read'"


def test_update_property_sets_one_property(client):
    """PersonViewSet.update_property (posthog/api/person.py): a $set of {key: value} on the person
    (by id or UUID), answered 202 with no body; PostHog's ingestion applies the captured $set
    shortly after, mockhog at once, so the next read shows it."""
    person = client.get(f"{BASE}?limit=1").get_json()["results"][0]
    response = client.post(f"{BASE}{person['id']}/update_property/", json={"key": "plan", "value": "scale"})
    assert response.status_code == 202 and response.data == b""
    shown = client.get(f"{BASE}{person['id']}/").get_json()
    assert shown["properties"] == {**person["properties"], "plan": "scale"}
    by_uuid = client.post(f"{BASE}{person['uuid']}/update_property/", json={"key": "seats", "value": 3})
    assert by_uuid.status_code == 202
    assert client.get(f"{BASE}{person['id']}/").get_json()["properties"]["seats"] == 3


@pytest.mark.parametrize(
    "body, missing",
    [
        ({"key": "plan"}, "value"),
        ({"value": "x"}, "key"),
        ({}, "value"),
        ({"key": "plan", "value": None}, "value"),
    ],
)
def test_update_property_refusals_are_the_viewsets_own(client, backend, body, missing):
    """PersonViewSet.update_property builds its 400 by hand, value checked before key, with code and
    detail swapped ("code": "This field is required.", "detail": "required"); nothing changes."""
    person = client.get(f"{BASE}?limit=1").get_json()["results"][0]
    before = backend.store.dump()
    response = client.post(f"{BASE}{person['id']}/update_property/", json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "attr": missing, "code": "This field is required.", "detail": "required", "type": "validation_error",
    }  # fmt: skip
    assert backend.store.dump() == before
    assert client.post(f"{BASE}999999/update_property/", json={"key": "a", "value": 1}).status_code == 404


def test_the_published_bodies_state_what_the_views_check(client, backend):
    """PersonViewSet.update (posthog/api/person.py) refuses a body without properties, and DRF's
    partial_update calls it, so a PATCH body requires them as a PUT's does; update_property checks
    value and key are there and not null (an empty key is taken)."""
    document = backend.openapi()
    components = document["components"]["schemas"]
    path = "/api/projects/{project_id}/persons/{id}/"
    for method in ("put", "patch"):
        body = document["paths"][path][method]["requestBody"]
        assert body["required"] is True
        assert components[body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]][
            "required"
        ] == ["properties"]
    body = document["paths"][f"{path}update_property/"]["post"]["requestBody"]
    schema = components[body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    assert body["required"] is True and schema["required"] == ["key", "value"]
    assert all(schema["properties"][name]["not"] == {"type": "null"} for name in ("key", "value"))
    person = client.get(f"{BASE}?limit=1").get_json()["results"][0]
    assert (
        client.post(f"{BASE}{person['id']}/update_property/", json={"key": "", "value": 1}).status_code == 202
    )


def test_delete_property_removes_it(client, backend):
    """PersonViewSet.delete_property: $unset of the named key, answered 201 {"success": true}; an
    unknown person is a 404; without $unset PostHog fails with a 500 (KeyError), mockhog answers a
    400 on $unset; nothing changes on a refusal."""
    person = client.get(f"{BASE}?limit=1").get_json()["results"][0]
    key = next(iter(person["properties"]))
    response = client.post(f"{BASE}{person['id']}/delete_property/", json={"$unset": key})
    assert response.status_code == 201 and response.get_json() == {"success": True}
    assert key not in client.get(f"{BASE}{person['id']}/").get_json()["properties"]
    before = backend.store.dump()
    missing = client.post(f"{BASE}{person['id']}/delete_property/", json={})
    assert missing.status_code == 400
    assert missing.get_json() == {
        "type": "validation_error", "code": "required", "detail": "This field is required.", "attr": "$unset",
    }  # fmt: skip
    assert client.post(f"{BASE}999999/delete_property/", json={"$unset": key}).status_code == 404
    assert backend.store.dump() == before


def _required(attr):
    """PersonViewSet's hand-built 400: code and detail swapped."""
    return {"attr": attr, "code": "This field is required.", "detail": "required", "type": "validation_error"}


def _first(client, count=1):
    return client.get(f"{BASE}?limit={count}").get_json()["results"]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_update_sets_the_given_properties(client, backend, method):
    """PersonViewSet.update (posthog/api/person.py; partial_update goes through it): the body's
    properties are $set on the person, the others stay; 202 with no body. Without properties the
    view's own 400 (code and detail swapped); nothing changes, as with properties that are no object."""
    (person,) = _first(client)
    response = client.open(f"{BASE}{person['uuid']}/", method=method, json={"properties": {"plan": "scale"}})
    assert response.status_code == 202 and response.data == b"" and "X-Mockhog-Tier" not in response.headers
    assert client.get(f"{BASE}{person['id']}/").get_json()["properties"] == {
        **person["properties"],
        "plan": "scale",
    }
    ignored = client.open(f"{BASE}{person['id']}/", method=method, json={"properties": "plan=free"})
    assert ignored.status_code == 202  # a $set that is no object: captured, and ingestion ignores it
    before = backend.store.dump()
    for body in ({}, {"properties": None}):
        refused = client.open(f"{BASE}{person['id']}/", method=method, json=body)
        assert refused.status_code == 400
        assert refused.get_json() == _required("properties")
    assert backend.store.dump() == before


def test_destroy_deletes_the_person_and_answers_202(client, backend):
    """PersonViewSet.destroy: the bulk delete of that one person; 202 with no body, then it is gone.
    Its flags are read by presence: ?keep_person (any value) keeps the person, ?delete_events
    queues the deletion of its events, which deletion_status lists as pending."""
    first, second = _first(client, 2)
    kept = client.delete(f"{BASE}{first['id']}/?keep_person=false&delete_events=0")
    assert kept.status_code == 202 and kept.data == b""
    assert client.get(f"{BASE}{first['id']}/").status_code == 200
    queued = client.get(f"{BASE}deletion_status/").get_json()
    assert [row["person_uuid"] for row in queued["results"]] == [first["uuid"]]
    assert queued["results"][0]["status"] == "pending" and queued["results"][0]["delete_verified_at"] is None
    gone = client.delete(f"{BASE}{second['uuid']}/")
    assert gone.status_code == 202
    assert client.get(f"{BASE}{second['id']}/").status_code == 404
    assert client.delete(f"{BASE}{second['id']}/").status_code == 404
    before = backend.store.dump()
    refused = client.delete(f"{BASE}someone@example.com/")
    assert refused.status_code == 400 and refused.get_json()["detail"] == NOT_A_PERSON_ID.format(
        "someone@example.com"
    )
    assert backend.store.dump() == before


def test_bulk_delete_by_ids_or_distinct_ids(client):
    """PersonViewSet.bulk_delete (_bulk_delete_persons): persons by UUID or by distinct id, 202 with
    PostHog's summary; an id that matches nobody only lowers persons_found; keep_person deletes
    nothing but still queues the event deletions."""
    first, second, third = _first(client, 3)
    by_uuid = client.post(
        f"{BASE}bulk_delete/", json={"ids": [first["uuid"], "01970000-0000-7000-8000-000000000000"]}
    )
    assert by_uuid.status_code == 202
    assert by_uuid.get_json() == {
        "persons_found": 1, "persons_deleted": 1, "events_queued_for_deletion": False,
        "recordings_queued_for_deletion": False, "deletion_errors": [],
    }  # fmt: skip
    assert client.get(f"{BASE}{first['id']}/").status_code == 404
    by_distinct_id = client.post(
        f"{BASE}bulk_delete/",
        json={"distinct_ids": second["distinct_ids"], "delete_events": True, "delete_recordings": True},
    )
    assert by_distinct_id.get_json() == {
        "persons_found": 1, "persons_deleted": 1, "events_queued_for_deletion": True,
        "recordings_queued_for_deletion": True, "deletion_errors": [],
    }  # fmt: skip
    kept = client.post(
        f"{BASE}bulk_delete/", json={"ids": [third["uuid"]], "keep_person": True, "delete_events": True}
    )
    assert kept.get_json()["persons_deleted"] == 0 and kept.get_json()["events_queued_for_deletion"] is True
    assert client.get(f"{BASE}{third['id']}/").status_code == 200
    pending = {row["person_uuid"] for row in client.get(f"{BASE}deletion_status/").get_json()["results"]}
    assert pending == {second["uuid"], third["uuid"]}
    nobody = client.post(
        f"{BASE}bulk_delete/", json={"distinct_ids": ["nobody-at-all"], "delete_events": True}
    )
    assert (
        nobody.get_json()["persons_found"] == 0 and nobody.get_json()["events_queued_for_deletion"] is False
    )


@pytest.mark.parametrize(
    "body, detail",
    [
        ({}, "You need to specify either distinct_ids or ids"),
        ({"ids": [], "distinct_ids": []}, "You need to specify either distinct_ids or ids"),
        ({"ids": ["a"], "distinct_ids": ["b"]}, "You must provide either distinct_ids or ids, not both"),
        ({"ids": ["a"] * 1001}, "You can only pass 1000 ids in one call"),
        ({"distinct_ids": ["a"] * 1001}, "You can only pass 1000 distinct_ids in one call"),
    ],
)
def test_bulk_delete_refusals(refused, body, detail):
    """_bulk_delete_persons' own ValidationErrors, in its order; nothing is deleted."""
    refused("post", f"{BASE}bulk_delete/", body, "invalid_input", None, detail)


def test_delete_events_and_recordings_are_queued(client):
    """PersonViewSet.delete_events queues one AsyncDeletion per person (never twice: ignore_conflicts);
    delete_recordings starts a workflow in the recording store; both 202 with no body, the person
    stays. An unknown person is a 404."""
    (person,) = _first(client)
    for _ in range(2):
        assert client.post(f"{BASE}{person['id']}/delete_events/").status_code == 202
    assert client.post(f"{BASE}{person['uuid']}/delete_recordings/").status_code == 202
    assert client.get(f"{BASE}deletion_status/").get_json()["count"] == 1
    assert client.get(f"{BASE}{person['id']}/").status_code == 200
    assert client.post(f"{BASE}999999/delete_events/").status_code == 404


def test_deletion_status_filters(client, refused):
    """PersonViewSet.deletion_status: DeletionStatusQueryParamsSerializer's status (pending,
    completed, all) and person_uuid, a limit/offset page of AsyncDeletionStatusSerializer rows."""
    first, second = _first(client, 2)
    client.post(
        f"{BASE}bulk_delete/",
        json={"ids": [first["uuid"], second["uuid"]], "keep_person": True, "delete_events": True},
    )
    page = client.get(f"{BASE}deletion_status/?limit=1").get_json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"] is not None
    assert list(page["results"][0]) == ["person_uuid", "created_at", "delete_verified_at", "status"]
    assert client.get(f"{BASE}deletion_status/?status=completed").get_json()["count"] == 0
    assert client.get(f"{BASE}deletion_status/?status=pending").get_json()["count"] == 2
    one = client.get(f"{BASE}deletion_status/?person_uuid={second['uuid'].upper()}").get_json()
    assert [row["person_uuid"] for row in one["results"]] == [second["uuid"]]
    refused(
        "get",
        f"{BASE}deletion_status/?status=done",
        None,
        "invalid_choice",
        "status",
        '"done" is not a valid choice.',
    )
    refused(
        "get",
        f"{BASE}deletion_status/?person_uuid=abc",
        None,
        "invalid_input",
        "person_uuid",
        "Must be a valid UUID.",
    )


def test_split_moves_distinct_ids_to_persons_of_their_own(client):
    """PersonViewSet.split and Person.split_person: distinct_ids_to_split moves only those ids, each to
    a new person with no properties whose UUID is the UUIDv5 of "team:distinct_id" in PostHog's
    person namespace (splitTargetUuid); the person keeps its properties; 201 {"success": true}."""
    person = next(p for p in _first(client, 100) if len(p["distinct_ids"]) >= 3)
    moved = person["distinct_ids"][-1]
    response = client.post(f"{BASE}{person['id']}/split/", json={"distinct_ids_to_split": [moved]})
    assert response.status_code == 201 and response.get_json() == {"success": True}
    kept = client.get(f"{BASE}{person['id']}/").get_json()
    assert moved not in kept["distinct_ids"] and kept["properties"] == person["properties"]
    expected = str(uuid.uuid5(uuid.UUID("932979b4-65c3-4424-8467-0b66ec27bc22"), f"1:{moved}"))
    (new,) = client.get(f"{BASE}?distinct_id={moved}").get_json()["results"]
    assert new["uuid"] == expected and new["distinct_ids"] == [moved] and new["properties"] == {}
    # main_distinct_id keeps only that id; every other goes to a person of its own
    main = kept["distinct_ids"][0]
    assert client.post(f"{BASE}{person['id']}/split/", json={"main_distinct_id": main}).status_code == 201
    assert client.get(f"{BASE}{person['id']}/").get_json()["distinct_ids"] == [main]
    for other in kept["distinct_ids"][1:]:
        assert client.get(f"{BASE}?distinct_id={other}").get_json()["results"][0]["id"] != person["id"]


SPLIT = "distinct_ids_to_split"


@pytest.mark.parametrize(
    "body, attr, detail",
    [
        ({SPLIT: "abc"}, SPLIT, "must be a list of strings"),
        ({SPLIT: [1]}, SPLIT, "must be a list of strings"),
        ({SPLIT: []}, SPLIT, "must not be empty"),
        ({SPLIT: ["x"], "main_distinct_id": "y"}, None, f"main_distinct_id cannot be combined with {SPLIT}"),
        ({SPLIT: ["zz", "aa"]}, SPLIT, "not on this person: ['aa', 'zz']"),
    ],
)
def test_split_refusals(client, refused, body, attr, detail):
    """PersonViewSet.split's own checks of distinct_ids_to_split, in its order; nothing moves."""
    (person,) = _first(client)
    refused("post", f"{BASE}{person['id']}/split/", body, "invalid_input", attr, detail)


def test_reset_person_distinct_id(client, refused):
    """PersonViewSet.reset_person_distinct_id: a non-empty string distinct_id, 202 with no body."""
    response = client.post(f"{BASE}reset_person_distinct_id/", json={"distinct_id": "gone-user"})
    assert response.status_code == 202 and response.data == b""
    for body in ({}, {"distinct_id": ""}):
        refused(
            "post", f"{BASE}reset_person_distinct_id/", body, "invalid_input", None, "distinct_id is required"
        )
    refused(
        "post",
        f"{BASE}reset_person_distinct_id/",
        {"distinct_id": "a\x00b"},
        "null_characters_not_allowed",
        "distinct_id",
        "Null characters are not allowed.",
    )


def test_batch_lookups_map_ids_to_minimal_persons(client, refused):
    """PersonViewSet.batch_by_distinct_ids and batch_by_uuids: each id found, mapped to its person
    as MinimalPersonSerializer shows it; unknown ids are left out; an empty or missing list is
    {"results": {}}; batch_by_uuids refuses any id that is not a UUID."""
    first, second = _first(client, 2)
    asked = [first["distinct_ids"][0], "nobody-here", second["distinct_ids"][-1]]
    found = client.post(f"{BASE}batch_by_distinct_ids/", json={"distinct_ids": asked}).get_json()["results"]
    assert found == {asked[0]: first, asked[2]: second}
    assert client.post(f"{BASE}batch_by_distinct_ids/", json={}).get_json() == {"results": {}}
    by_uuid = client.post(f"{BASE}batch_by_uuids/", json={"uuids": [second["uuid"].upper()]}).get_json()
    assert by_uuid == {"results": {second["uuid"]: second}}
    assert client.post(f"{BASE}batch_by_uuids/", json={"uuids": []}).get_json() == {"results": {}}
    refused(
        "post",
        f"{BASE}batch_by_uuids/",
        {"uuids": ["nope"]},
        "invalid_input",
        None,
        "One or more UUIDs are invalid.",
    )


def test_batch_shows_ten_distinct_ids_at_most(tmp_path):
    """MinimalPersonSerializer.get_distinct_ids: the person's first ten distinct ids."""
    ids = [f"device-{n:02d}" for n in range(12)]
    person = {
        "id": 1, "uuid": "01970000-0000-7000-8000-000000000001", "created_at": "2025-06-02T00:00:00Z",
        "last_seen_at": None, "distinct_ids": ids, "properties": {},
    }  # fmt: skip
    fixture = tmp_path / "world.json"
    fixture.write_text(json.dumps({"records": {"1": {"persons": [person]}}}))
    client = create_app(backend=Backend(seed=0, fixtures=[fixture])).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer phx_mockhog_default_key"
    found = client.post(f"{BASE}batch_by_distinct_ids/", json={"distinct_ids": ["device-11"]}).get_json()
    assert found["results"]["device-11"]["distinct_ids"] == ids[:10]


def test_person_ids_and_bodies_are_published_as_the_view_reads_them(backend):
    """PersonViewSet finds a person by numeric id or UUID (anything else is its 400 pointing at
    ?distinct_id=), and bulk_delete's view needs ids or distinct_ids, so its body must be sent."""
    document = backend.openapi()
    operation = document["paths"]["/api/projects/{project_id}/persons/{id}/"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "id"]
    assert parameter["schema"] == {"anyOf": [{"type": "integer"}, {"type": "string", "format": "uuid"}]}
    bulk = document["paths"]["/api/projects/{project_id}/persons/bulk_delete/"]["post"]
    assert bulk["requestBody"]["required"] is True


def test_split_publishes_its_exclusive_modes_whatever_main_distinct_id_is(client, refused):
    """PersonViewSet.split refuses a main_distinct_id that is not None beside distinct_ids_to_split
    (posthog/api/person.py), a number too; the published body says so, so no request the schema
    takes is refused for it."""
    (person,) = _first(client)
    body = {"main_distinct_id": 5, "distinct_ids_to_split": [person["distinct_ids"][0]]}
    refused(
        "post",
        f"{BASE}{person['id']}/split/",
        body,
        "invalid_input",
        None,
        f"main_distinct_id cannot be combined with {SPLIT}",
    )
    schemas = client.get("/api/schema/?format=json").get_json()["components"]["schemas"]
    exclusive = schemas["SplitRequest"]["not"]
    assert jsonschema.Draft202012Validator(exclusive).is_valid(body)  # the `not` matches: refused
    assert not jsonschema.Draft202012Validator(exclusive).is_valid({**body, "main_distinct_id": None})
