"""Groups: cursor-paged list with its filters, create, find, property edits, activity and property stats."""

import base64
import json
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest

BASE = "/api/projects/1/groups/"
ENV_BASE = "/api/environments/1/groups/"
LIST_REQUIRED = {
    "type": "validation_error",
    "code": "invalid_input",
    "detail": "You must pass ?group_type_index= in this URL. To get a list of valid group types, "
    "call /api/:project_id/groups_types/.",
    "attr": "group_type_index",
}
FIELDS = ["group_type_index", "group_key", "group_properties", "created_at"]
ME = {"first_name": "Max", "email": "max@hedgebox.dev"}
ACME = "group_type_index=0&group_key=acme"
UNSET_REQUIRED = "This field is required and must be a string (the property name to delete)."


def _error(attr, detail, code="invalid_input"):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def _groups(client, query):
    return client.get(f"{BASE}?{query}").get_json()["results"]


def _create(client, key, properties=None, index=0):
    body = {"group_type_index": index, "group_key": key}
    if properties is not None:
        body["group_properties"] = properties
    return client.post(BASE, json=body)


@pytest.mark.parametrize("query", ["", "?group_type_index=", "?search=acme"])
def test_list_needs_a_group_type(client, query):
    response = client.get(f"{BASE}{query}")
    assert response.status_code == 400 and response.get_json() == LIST_REQUIRED


def test_a_group_type_that_is_no_integer_is_refused(client):
    """GroupsViewSet.list: int() of the parameter, else "A valid integer is required."."""
    response = client.get(f"{BASE}?group_type_index=org")
    assert response.status_code == 400
    assert response.get_json() == _error("group_type_index", "A valid integer is required.")


def test_list_is_one_type_newest_first(client):
    page = client.get(f"{BASE}?group_type_index=0").get_json()
    assert list(page) == ["next", "previous", "results"] and page["next"] is None and page["previous"] is None
    organizations = page["results"]
    assert len(organizations) == 40 and all(list(g) == FIELDS for g in organizations)
    assert {g["group_type_index"] for g in organizations} == {0}
    times = [g["created_at"] for g in organizations]
    assert times == sorted(times, reverse=True)
    assert {"name", "industry", "employee_count", "plan"} <= set(organizations[0]["group_properties"])
    instances = _groups(client, "group_type_index=1")
    assert len(instances) == 25 and all(g["group_key"].startswith("https://") for g in instances)
    assert _groups(client, "group_type_index=4") == []


def test_cursor_pages_are_disjoint_and_forward_only(client):
    for number in range(75):
        assert _create(client, f"bulk-{number:03d}", {"n": number}).status_code == 201
    keys, url, pages = [], f"{BASE}?group_type_index=0", 0
    while url:
        page = client.get(url).get_json()
        assert page["previous"] is None
        keys += [g["group_key"] for g in page["results"]]
        url, pages = page["next"], pages + 1
    assert pages == 2 and len(keys) == len(set(keys)) == 115
    assert keys[:75] == [f"bulk-{n:03d}" for n in reversed(range(75))]


def _cursor(payload: object) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode()


def _microseconds(moment: str) -> int:
    return round(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() * 1_000_000)


def test_next_cursor_is_the_last_rows_keyset(client):
    """GroupsViewSet.list pages list_groups by keyset (ee/clickhouse/views/groups.py,
    posthog/models/group/util.py): the next link carries group_type_index, the cursor (URL-safe
    base64 of {"c": the last row's created_at in microseconds, "k": its group_key}) and the filters."""
    for number in range(75):
        _create(client, f"bulk-{number:03d}", {"n": number})
    page = client.get(f"{BASE}?group_type_index=0&search=&group_key=bulk").get_json()
    assert len(page["results"]) == 75 and page["next"] is None
    page = client.get(f"{BASE}?group_type_index=0").get_json()
    query = parse_qs(urlparse(page["next"]).query)
    assert set(query) == {"group_type_index", "cursor"} and query["group_type_index"] == ["0"]
    last = page["results"][-1]
    decoded = json.loads(base64.urlsafe_b64decode(query["cursor"][0]))
    assert decoded == {"c": _microseconds(last["created_at"]), "k": last["group_key"]}
    searched = client.get(f"{BASE}?group_type_index=0&search=bulk-0&group_key=bulk").get_json()
    assert searched["next"] is None  # fewer than a page match
    rest = client.get(page["next"]).get_json()
    assert len(rest["results"]) == 15 and rest["next"] is None


def test_a_cursor_in_milliseconds_is_read_as_one(client):
    """_decode_groups_cursor: a timestamp below 10^15 is milliseconds (older cursors' unit)."""
    rows = client.get(f"{BASE}?group_type_index=0").get_json()["results"]
    pivot = rows[9]
    cursor = _cursor({"c": _microseconds(pivot["created_at"]) // 1000, "k": pivot["group_key"]})
    after = client.get(f"{BASE}?group_type_index=0&cursor={cursor}").get_json()["results"]
    assert after and all(row["created_at"] <= pivot["created_at"] for row in after)
    assert pivot["group_key"] not in [row["group_key"] for row in after]


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", "abc", _cursor("not json"), _cursor({"c": 1, "i": 5}), _cursor({"c": "x", "k": "a"}),
     _cursor("o=1&p=2025-05-01+12%3A00%3A00%2B00%3A00"), "%%%"],
)  # fmt: skip
def test_a_cursor_never_issued_is_the_first_page(client, backend, cursor):
    """_decode_groups_cursor answers (0, "") for anything it cannot read, and for a cursor keyed
    on the row id ("i", before the keyset moved to group_key): the first page, changing nothing."""
    before = backend.store.dump()
    first = client.get(f"{BASE}?group_type_index=0").get_json()
    response = client.get(f"{BASE}?group_type_index=0&cursor={cursor}")
    assert response.status_code == 200 and response.get_json() == first
    assert backend.store.dump() == before


def test_group_key_and_search_filters(client):
    organization = _groups(client, "group_type_index=0")[5]
    key = organization["group_key"]
    matched = _groups(client, f"group_type_index=0&group_key={key[4:12].upper()}")
    assert [g["group_key"] for g in matched] == [key]
    by_key = _groups(client, f"group_type_index=0&search={key.upper()}")
    assert [g["group_key"] for g in by_key] == [key]  # iexact on the key
    assert _groups(client, f"group_type_index=0&search={key[:8]}") == []  # a partial key is not a match
    name = organization["group_properties"]["name"]
    found = _groups(client, f"group_type_index=0&search={name.lower()}")
    assert key in [g["group_key"] for g in found]
    assert all(name.lower() in str(g["group_properties"]).lower() for g in found)
    enterprise = _groups(client, "group_type_index=0&search=enterprise")
    assert enterprise and all(g["group_properties"]["plan"] == "enterprise" for g in enterprise)


def test_create_then_find_list_and_activity(client):
    created = _create(client, "hedgebox-inc", {"name": "Hedgebox Inc.", "seats": 12})
    assert created.status_code == 201
    body = created.get_json()
    assert list(body) == FIELDS
    assert body["group_key"] == "hedgebox-inc"
    assert body["group_properties"] == {"name": "Hedgebox Inc.", "seats": 12}
    found = client.get(f"{BASE}find/?group_type_index=0&group_key=hedgebox-inc").get_json()
    assert found == {**body, "notebook": None}
    assert _groups(client, "group_type_index=0")[0] == body
    activity = client.get(f"{BASE}activity/?group_type_index=0&group_key=hedgebox-inc").get_json()
    assert activity["total_count"] == 2 and activity["next"] is None and activity["previous"] is None
    entry = activity["results"][0]
    assert list(entry) == ["id", "user", "activity", "scope", "item_id", "detail", "created_at"]
    assert entry["user"] == ME and entry["activity"] == "create_group" and entry["scope"] == "Group"
    assert {e["detail"]["name"] for e in activity["results"]} == {"name", "seats"}
    seats = next(e for e in activity["results"] if e["detail"]["name"] == "seats")
    assert seats["detail"] == {
        "changes": [{"type": "Group", "action": "created", "field": None, "before": None, "after": 12}],
        "merge": None, "trigger": None, "name": "seats", "short_id": None, "type": None,
    }  # fmt: skip


def test_create_on_environments_path_with_null_properties(client):
    response = client.post(ENV_BASE, json={"group_type_index": 1, "group_key": "  https://new.example  ",
                                           "group_properties": None})  # fmt: skip
    assert response.status_code == 201 and response.headers["Deprecation"] == "true"
    assert response.get_json()["group_key"] == "https://new.example"
    assert response.get_json()["group_properties"] == {}
    assert _create(client, "no-props").get_json()["group_properties"] == {}
    history = client.get(f"{ENV_BASE}activity/?group_type_index=1&group_key=https://new.example").get_json()
    assert history["total_count"] == 0 and history["results"] == []


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"group_type_index": 0}, 400, _error("group_key", "This field is required.", "required")),
        ({"group_key": "x"}, 400, _error("group_type_index", "This field is required.", "required")),
        ({"group_type_index": 0, "group_key": ""}, 400,
         _error("group_key", "This field may not be blank.", "blank")),
        ({"group_type_index": "zero", "group_key": "x"}, 400,
         _error("group_type_index", "A valid integer is required.")),
        ({"group_type_index": 0, "group_key": "x" * 401}, 400,
         _error("group_key", "Ensure this field has no more than 400 characters.", "max_length")),
        ({"group_type_index": 0, "group_key": "x", "group_properties": [1]}, 400,
         _error("group_properties", "Invalid data. Expected a dictionary, but got list.")),
        ({"group_type_index": 3, "group_key": "x"}, 404,
         {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}),
    ],
)  # fmt: skip
def test_create_errors_change_nothing(client, backend, body, status, error):
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == status and response.get_json() == error
    assert backend.store.dump() == before


def test_duplicate_key_is_refused(client, backend):
    existing = _groups(client, "group_type_index=1")[0]
    before = backend.store.dump()
    response = _create(client, existing["group_key"], {"name": "again"}, index=1)
    assert response.status_code == 400
    assert response.get_json() == _error("detail", "A group with this key already exists")
    assert backend.store.dump() == before
    # the same key under another group type is another group
    assert _create(client, existing["group_key"], index=0).status_code == 201


@pytest.mark.parametrize(
    "query, status, body",
    [
        ("", 400, _error("group_type_index", "This query parameter is required.")),
        ("?group_key=abc", 400, _error("group_type_index", "This query parameter is required.")),
        ("?group_type_index=0", 400, _error("group_key", "This query parameter is required.")),
        ("?group_type_index=0&group_key=", 400, _error("group_key", "This query parameter is required.")),
        ("?group_type_index=0&group_key=nope", 404,
         {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}),
    ],
)  # fmt: skip
def test_find_errors(client, query, status, body):
    response = client.get(f"{BASE}find/{query}")
    assert response.status_code == status and response.get_json() == body


def test_find_is_exact_on_the_key(client):
    key = _groups(client, "group_type_index=1")[0]["group_key"]
    assert client.get(f"{BASE}find/?group_type_index=1&group_key={key}").status_code == 200
    assert client.get(f"{BASE}find/?group_type_index=1&group_key={key[:-2]}").status_code == 404
    assert client.get(f"{BASE}find/?group_type_index=0&group_key={key}").status_code == 404


def test_update_property_creates_then_changes(client):
    _create(client, "acme", {"plan": "free"})
    url = f"{BASE}update_property/?group_type_index=0&group_key=acme"
    changed = client.post(url, json={"key": "plan", "value": "scale"})
    assert changed.status_code == 200 and changed.get_json()["group_properties"] == {"plan": "scale"}
    added = client.post(url, json={"key": "seats", "value": 40}).get_json()
    assert added["group_properties"] == {"plan": "scale", "seats": 40} and list(added) == FIELDS
    assert client.get(f"{BASE}find/?group_type_index=0&group_key=acme").get_json()["group_properties"] == {
        "plan": "scale", "seats": 40,
    }  # fmt: skip
    history = client.get(f"{BASE}activity/?group_type_index=0&group_key=acme").get_json()["results"]
    assert [e["activity"] for e in history] == ["create_property", "update_property", "create_group"]
    assert history[1]["detail"]["changes"] == [
        {"type": "Group", "action": "changed", "field": None, "before": "free", "after": "scale"}
    ]
    assert history[0]["detail"]["changes"][0]["action"] == "created"


@pytest.mark.parametrize(
    "query, body, status, error",
    [
        (ACME, {"value": 1}, 400, _error("key", "This field is required.")),
        (ACME, {"key": "", "value": 1}, 400, _error("key", "This field is required.")),
        (ACME, {"key": "plan"}, 400, _error("value", "This field is required.")),
        (ACME, {"key": "plan", "value": None}, 400, _error("value", "This field is required.")),
        ("group_type_index=0&group_key=nope", {}, 404,
         {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}),
        ("group_key=acme", {"key": "plan", "value": 1}, 400,
         _error("group_type_index", "This query parameter is required.")),
    ],
)  # fmt: skip
def test_update_property_errors_change_nothing(client, backend, query, body, status, error):
    _create(client, "acme", {"plan": "free"})
    before = backend.store.dump()
    response = client.post(f"{BASE}update_property/?{query}", json=body)
    assert response.status_code == status and response.get_json() == error
    assert backend.store.dump() == before


def test_delete_property(client):
    _create(client, "acme", {"plan": "free", "seats": 3})
    response = client.post(f"{BASE}delete_property/?{ACME}", json={"$unset": "seats"})
    assert response.status_code == 200 and response.get_json()["group_properties"] == {"plan": "free"}
    latest = client.get(f"{BASE}activity/?group_type_index=0&group_key=acme").get_json()["results"][0]
    assert latest["activity"] == "update_property" and latest["detail"]["name"] == "seats"
    assert latest["detail"]["changes"] == [
        {"type": "Group", "action": "deleted", "field": None, "before": 3, "after": None}
    ]


@pytest.mark.parametrize(
    "body, error",
    [
        ({}, _error("$unset", UNSET_REQUIRED)),
        ({"$unset": ["plan"]}, _error("$unset", UNSET_REQUIRED)),
        ({"$unset": "color"}, _error("$unset", "Property 'color' does not exist on this group.")),
        ({"$unset": 5}, _error("$unset", "Property '5' does not exist on this group.")),
    ],
)  # fmt: skip
def test_delete_property_errors_change_nothing(client, backend, body, error):
    _create(client, "acme", {"plan": "free"})
    before = backend.store.dump()
    response = client.post(f"{BASE}delete_property/?group_type_index=0&group_key=acme", json=body)
    assert response.status_code == 400 and response.get_json() == error
    assert backend.store.dump() == before


def test_activity_pages_by_number(client):
    _create(client, "busy", {f"p{n:02d}": n for n in range(12)})
    url = f"{BASE}activity/?group_type_index=0&group_key=busy&limit=5"
    first = client.get(url).get_json()
    assert first["total_count"] == 12 and len(first["results"]) == 5 and first["previous"] is None
    assert first["next"] == f"http://localhost{url}&page=2"
    second = client.get(first["next"]).get_json()
    assert second["next"] == f"http://localhost{url}&page=3"
    assert second["previous"] == f"http://localhost{url}&page=1"
    last = client.get(second["next"]).get_json()
    assert len(last["results"]) == 2 and last["next"] is None
    ids = [e["id"] for page in (first, second, last) for e in page["results"]]
    assert len(set(ids)) == 12
    default = client.get(f"{BASE}activity/?group_type_index=0&group_key=busy").get_json()
    assert len(default["results"]) == 10 and default["next"].endswith("&page=2&limit=10")


def test_seeded_groups_have_history(client):
    histories = [
        client.get(f"{BASE}activity/?group_type_index=0&group_key={g['group_key']}").get_json()
        for g in _groups(client, "group_type_index=0")
    ]
    edited = [h for h in histories if h["total_count"]]
    assert edited, "a few seeded groups were edited by hand"
    assert all(e["activity"] == "create_property" and e["user"] == ME for h in edited for e in h["results"])


def test_activity_errors(client):
    missing = client.get(f"{BASE}activity/?group_type_index=0")
    assert missing.status_code == 400
    assert missing.get_json() == _error("group_key", "This query parameter is required.")
    assert client.get(f"{BASE}activity/?group_type_index=0&group_key=nope").status_code == 404
    bad_limit = client.get(f"{BASE}activity/?group_type_index=0&group_key=x&limit=0")
    assert bad_limit.status_code == 400
    detail = "Ensure this value is greater than or equal to 1."
    assert bad_limit.get_json() == _error("limit", detail, "min_value")


def test_property_definitions_count_keys_per_type(client):
    definitions = client.get(f"{BASE}property_definitions/").get_json()
    assert list(definitions) == ["0", "1"]
    organization = definitions["0"]
    assert {"name": "plan", "count": 40} in organization
    ranked = [(-d["count"], d["name"]) for d in organization]
    assert ranked == sorted(ranked)
    _create(client, "new", {"plan": "free", "zz_rare": True})
    after = client.get(f"{BASE}property_definitions/").get_json()["0"]
    assert {"name": "plan", "count": 41} in after and after[-1] == {"name": "zz_rare", "count": 1}


def test_property_values_rank_and_filter(client):
    values = client.get(f"{BASE}property_values/?group_type_index=0&key=plan").get_json()
    assert values["refreshing"] is False
    assert {v["name"] for v in values["results"]} <= {"free", "startup", "scale", "enterprise"}
    assert sum(v["count"] for v in values["results"]) == 40
    ranked = [(-v["count"], v["name"]) for v in values["results"]]
    assert ranked == sorted(ranked)
    filtered = client.get(f"{BASE}property_values/?group_type_index=0&key=plan&value=ERP").get_json()
    assert [v["name"] for v in filtered["results"]] == ["enterprise"]
    numbers = client.get(f"{BASE}property_values/?group_type_index=1&key=user_count").get_json()["results"]
    assert all(v["name"].isdigit() for v in numbers) and len(numbers) <= 20
    paying = client.get(f"{BASE}property_values/?group_type_index=0&key=is_paying").get_json()["results"]
    assert {v["name"] for v in paying} == {"true", "false"}


@pytest.mark.parametrize(
    "query, attr",
    [("key=plan", "group_type_index"), ("group_type_index=0", "key"), ("group_type_index=0&key=", "key")],
)
def test_property_values_need_type_and_key(client, query, attr):
    response = client.get(f"{BASE}property_values/?{query}")
    assert response.status_code == 400
    assert response.get_json() == _error(attr, "This query parameter is required.")


def _a_group_key(client) -> str:
    return client.get("/api/projects/1/groups/?group_type_index=0").get_json()["results"][0]["group_key"]


def test_update_property_takes_the_key_as_sent(client):
    """GroupsViewSet.update_property (ee/clickhouse/views/groups.py) reads request.data's key with
    no serializer: ' ' is a truthy key, stored untrimmed."""
    url = f"/api/projects/1/groups/update_property/?group_type_index=0&group_key={_a_group_key(client)}"
    response = client.post(url, json={"key": " ", "value": 1})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["group_properties"][" "] == 1


def test_update_property_refuses_a_null_character_in_the_key(client):
    """The key names a property of the group's JSON properties, which Postgres' jsonb cannot hold
    with a NUL; the published key states the null-character rule, which mockhog answers as DRF does."""
    url = f"/api/projects/1/groups/update_property/?group_type_index=0&group_key={_a_group_key(client)}"
    response = client.post(url, json={"key": "a\x00b", "value": 1})
    assert response.status_code == 400
    assert response.get_json()["code"] == "null_characters_not_allowed"


def test_update_property_refuses_a_key_that_is_no_scalar(client):
    """The published key is text, a number or a flag; a list names no property (PostHog's lookup
    of it in the group's properties fails: a 500)."""
    url = f"/api/projects/1/groups/update_property/?group_type_index=0&group_key={_a_group_key(client)}"
    response = client.post(url, json={"key": ["a"], "value": 1})
    assert response.status_code == 400
    assert response.get_json()["attr"] == "key"
