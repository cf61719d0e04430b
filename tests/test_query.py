"""The query API's HogQL (POST /query/ with a HogQLQuery): answers computed from the store's events
and persons in CachedHogQLQueryResponse's shape, and HogQL's errors as PostHog's 400s."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

URL = "/api/projects/1/query/"


def run(client, text, url=URL):
    return client.post(url, json={"query": {"kind": "HogQLQuery", "query": text}})


def answer(client, text):
    response = run(client, text)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_counts_by_event_are_the_stored_events(client, backend):
    """GROUP BY with count(), ORDER BY the aggregate, LIMIT: the rows are the store's counts."""
    body = answer(
        client, "SELECT event, count() AS total FROM events GROUP BY event ORDER BY total DESC, event"
    )
    events = Counter(row["event"] for row in backend.store.table(1, "events").values())
    expected = sorted(events.items(), key=lambda item: (-item[1], item[0]))
    assert body["results"] == [list(item) for item in expected]
    assert body["columns"] == ["event", "total"]
    assert body["types"] == [["event", "String"], ["total", "UInt64"]]
    assert body["hasMore"] is False and body["is_cached"] is False and body["hogql"].startswith("SELECT")


def test_a_captured_event_is_queried_at_once(client):
    """Events captured through the SDK endpoint are rows of the events table."""
    before = answer(client, "select count() from events where event = 'query_probe'")["results"]
    token = client.get("/api/projects/1/").get_json()["api_token"]
    captured = client.post("/i/v0/e/", json={"api_key": token, "event": "query_probe", "distinct_id": "q-1"})
    assert captured.status_code == 200
    after = answer(client, "select count() from events where event = 'query_probe'")["results"]
    assert (before, after) == ([[0]], [[1]])


def test_properties_persons_and_filters(client, backend):
    """properties.$key and person.properties.key, uniq(), DISTINCT, ILIKE, IN and IS NULL."""
    events = list(backend.store.table(1, "events").values())
    browsers = {row["properties"].get("$browser") for row in events} - {None}
    body = answer(
        client, "select distinct properties.$browser from events where properties.$browser is not null"
    )
    assert {row[0] for row in body["results"]} == browsers
    plans = answer(
        client, "select person.properties.plan, uniq(distinct_id) from events group by 1 order by 1"
    )
    assert [row[0] for row in plans["results"]] == sorted(
        {row[0] for row in plans["results"]}, key=lambda value: (value is None, value)
    )
    signed = answer(
        client, "select count() from events where event ilike '%SIGNED%' and event in ('signed_up')"
    )
    assert signed["results"] == [[sum(row["event"] == "signed_up" for row in events)]]
    pro = answer(client, "select id from persons where properties.plan = 'pro' order by id limit 3")
    stored = sorted(
        p["uuid"] for p in backend.store.table(1, "persons").values() if p["properties"].get("plan") == "pro"
    )
    assert [row[0] for row in pro["results"]] == stored[:3]


def test_limit_offset_and_has_more(client):
    """Without LIMIT, 100 rows (HogQL's default); hasMore says whether more rows follow."""
    first = answer(client, "select uuid from events order by timestamp, uuid")
    assert first["limit"] == 100 and len(first["results"]) == 100 and first["hasMore"] is True
    page = answer(client, "select uuid from events order by timestamp, uuid limit 10 offset 5")
    assert page["results"] == first["results"][5:15] and page["offset"] == 5


def test_select_without_a_table_and_the_environments_route(client):
    body = run(client, "select 1 + 2 as three, concat('a', 'b')", "/api/environments/1/query/").get_json()
    assert body["results"] == [[3, "ab"]] and body["columns"] == ["three", "concat('a', 'b')"]


@pytest.mark.parametrize(
    "text, detail",
    [
        (
            "selec event from events",
            "Syntax error at line 1, column 0: mismatched input 'selec' expecting SELECT",
        ),
        ("select * from nowhere", 'Unknown table "nowhere".'),
        ("select colour from events", "Unable to resolve field: colour"),
        (
            "select event from events limit",
            "Syntax error at line 1, column 30: mismatched input '<EOF>' expecting number",
        ),
        ("", "Query is empty"),
    ],
)
def test_hogql_errors_are_400s(client, text, detail):
    """ExposedHogQLError -> ValidationError(str(e)) (posthog/api/query.py)."""
    response = run(client, text)
    assert (response.status_code, response.get_json()) == (
        400,
        {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": None},
    )


def test_other_kinds_and_bad_bodies_are_refused(client):
    """mockhog runs HogQLQuery only: another kind is refused by the served schema's enum."""
    trends = client.post(URL, json={"query": {"kind": "TrendsQuery", "series": []}})
    assert trends.status_code == 400 and trends.get_json()["attr"] == "query__kind"
    assert client.post(URL, json={}).get_json()["attr"] == "query"


def test_the_scope_is_query_read(client):
    """QueryViewSet's scope object is query; running a query is a read (query:read)."""
    answers = {}
    for scopes in (["insight:read"], ["query:read"]):
        key = client.post("/_mockhog/personal_api_keys", json={"label": "q", "scopes": scopes}).get_json()
        headers = {"Authorization": f"Bearer {key['value']}"}
        body = {"query": {"kind": "HogQLQuery", "query": "select 1"}}
        answers[scopes[0]] = client.post(URL, json=body, headers=headers)
    refused = answers["insight:read"]
    assert (refused.status_code, refused.get_json()["detail"]) == (
        403,
        "API key missing required scope 'query:read'",
    )
    assert answers["query:read"].status_code == 200


# -- EventsQuery ----------------------------------------------------------------------------------
# posthog/hogql_queries/events_query_runner.py (EventsQueryRunner), posthog/schema.py (EventsQuery,
# EventsQueryResponse), posthog/api/query.py (the view's 200 and its 400s).

STAR_KEYS = [
    "uuid", "event", "properties", "timestamp", "team_id", "distinct_id", "elements_chain", "created_at",
    "person_mode",
]  # fmt: skip


def events_query(client, **query):
    return client.post(URL, json={"query": {"kind": "EventsQuery", **query}})


def events_answer(client, **query):
    response = events_query(client, **query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def capture(client, event, distinct_id, ago, **properties):
    """An event captured through the SDK endpoint, ``ago`` before now."""
    token = client.get("/api/projects/1/").get_json()["api_token"]
    moment = datetime.now(UTC) - ago
    body = {
        "api_key": token,
        "event": event,
        "distinct_id": distinct_id,
        "timestamp": moment.isoformat(),
        "properties": properties,
    }
    assert client.post("/i/v0/e/", json=body).status_code == 200


def stored_events(backend):
    return list(backend.store.table(1, "events").values())


def test_events_query_columns_star_and_the_response(client, backend):
    """events_query_runner.py: each select string is a column named as written; '*' is the event as
    an object of SELECT_STAR_FROM_EVENTS_FIELDS (properties decoded); with 'timestamp' selected the
    default order is newest first. The answer is CachedEventsQueryResponse's fields (posthog/schema.py)."""
    body = events_answer(
        client, select=["*", "event", "properties.$browser -- Browser", "timestamp"], after="all", limit=5
    )
    assert body["columns"] == ["*", "event", "properties.$browser -- Browser", "timestamp"]
    newest = sorted(stored_events(backend), key=lambda e: (e["timestamp"], e["id"]), reverse=True)[:5]
    assert [row[0]["uuid"] for row in body["results"]] == [e["id"] for e in newest]
    star, event, browser, timestamp = body["results"][0]
    assert list(star) == STAR_KEYS
    assert star["properties"] == newest[0]["properties"] and star["team_id"] == 1
    assert (event, browser, timestamp) == (
        newest[0]["event"],
        newest[0]["properties"].get("$browser"),
        newest[0]["timestamp"],
    )
    assert star["person_mode"] == "full" and star["timestamp"] == timestamp
    assert len(body["types"]) == 4 and body["types"][1] == "String"
    assert body["hasMore"] is True and body["limit"] == 5 and body["offset"] == 0
    assert body["is_cached"] is False and body["timezone"] == "UTC" and body["hogql"].startswith("SELECT")
    assert set(body) >= {
        "cache_key",
        "last_refresh",
        "next_allowed_client_refresh",
        "nextCursor",
        "modifiers",
    }
    assert events_answer(client, select=[], after="all", limit=1)["columns"] == ["*"]


def test_events_query_person_columns(client):
    """events_query_runner.py: 'person' is looked up by distinct id after the query ({uuid,
    created_at, properties, distinct_id}, or {distinct_id} alone when there is no person);
    'person_display_name -- Person' is {display_name, id, distinct_id}, the name being the first
    non-empty display-name property (PERSON_DEFAULT_DISPLAY_NAME_PROPERTIES), else the distinct id."""
    capture(client, "eq_person", "eq-ada", timedelta(minutes=5), **{"$set": {"email": "ada@example.com"}})
    capture(client, "eq_person", "eq-anon", timedelta(minutes=4), **{"$process_person_profile": False})
    body = events_answer(
        client, select=["distinct_id", "person", "person_display_name -- Person", "*"], event="eq_person"
    )
    rows = {row[0]: row for row in body["results"]}
    person = client.get("/api/projects/1/persons/?distinct_id=eq-ada").get_json()["results"][0]
    _, ada, ada_name, ada_star = rows["eq-ada"]
    assert ada == {
        "uuid": person["uuid"],
        "created_at": ada["created_at"],
        "properties": person["properties"],
        "distinct_id": "eq-ada",
    }
    assert ada_name == {"display_name": "ada@example.com", "id": person["uuid"], "distinct_id": "eq-ada"}
    _, anon, anon_name, anon_star = rows["eq-anon"]
    assert anon == {"distinct_id": "eq-anon"} and anon_name["display_name"] == "eq-anon"
    assert (ada_star["person_mode"], anon_star["person_mode"]) == ("full", "propertyless")
    assert body["columns"] == ["distinct_id", "person", "person_display_name -- Person", "*"]


def test_events_query_filters(client, backend):
    """events_query_runner.py: where strings (HogQL), properties and fixedProperties (property_to_expr
    in posthog/hogql/property.py: a list value is any of them, the negative operators count a missing
    property as not matching), event/events and personId (the person's distinct ids) all apply."""
    events = stored_events(backend)

    def uuids(**query):
        body = events_answer(client, select=["uuid"], after="all", limit=1000, **query)
        return {row[0] for row in body["results"]}

    def matching(test):
        return {e["id"] for e in events if test(e)}

    def prop(e, key):
        return e["properties"].get(key)

    def filtered(key, operator, value=None, kind="event"):
        return uuids(properties=[{"type": kind, "key": key, "operator": operator, "value": value}])

    assert uuids(where=["properties.$browser = 'Chrome'", "event != '$pageview'"]) == matching(
        lambda e: prop(e, "$browser") == "Chrome" and e["event"] != "$pageview"
    )
    assert filtered("$browser", "exact", ["Chrome", "Firefox"]) == matching(
        lambda e: prop(e, "$browser") in ("Chrome", "Firefox")
    )
    assert filtered("$browser", "is_not", "Chrome") == matching(lambda e: prop(e, "$browser") != "Chrome")
    assert filtered("$browser", "icontains", "CHROME") == matching(
        lambda e: "chrome" in str(prop(e, "$browser") or "").lower() and prop(e, "$browser") is not None
    )
    assert filtered("$browser", "not_icontains", "chrome") == matching(
        lambda e: "chrome" not in str(prop(e, "$browser") or "").lower()
    )
    assert filtered("$os", "regex", "^Mac|^iOS") == matching(
        lambda e: re.search("^Mac|^iOS", prop(e, "$os") or "") is not None
    )
    assert filtered("$browser", "is_set") == matching(lambda e: prop(e, "$browser") is not None)
    assert filtered("$browser", "is_not_set") == matching(lambda e: prop(e, "$browser") is None)
    persons = {d: p for p in backend.store.table(1, "persons").values() for d in p["distinct_ids"]}

    def plan(e):
        return (persons.get(e["distinct_id"]) or {"properties": {}})["properties"].get("plan")

    assert filtered("plan", "exact", "pro", kind="person") == matching(lambda e: plan(e) == "pro")
    assert uuids(
        properties=[{"type": "person", "key": "plan", "value": "pro"}],
        fixedProperties=[{"type": "event", "key": "$lib", "operator": "exact", "value": "web"}],
        events=["$pageview", "signed_up"],
    ) == matching(
        lambda e: plan(e) == "pro" and prop(e, "$lib") == "web" and e["event"] in ("$pageview", "signed_up")
    )
    assert uuids(event="signed_up") == matching(lambda e: e["event"] == "signed_up")
    person = next(iter(backend.store.table(1, "persons").values()))
    mine = matching(lambda e: e["distinct_id"] in person["distinct_ids"])
    assert uuids(personId=str(person["id"])) == mine == uuids(personId=person["uuid"])
    capture(client, "eq_amount", "eq-n1", timedelta(minutes=3), amount=5)
    capture(client, "eq_amount", "eq-n2", timedelta(minutes=2), amount=50)
    capture(client, "eq_amount", "eq-n3", timedelta(minutes=1))
    amounts = {
        op: [row[0] for row in events_answer(
            client, select=["distinct_id"], event="eq_amount", orderBy=["distinct_id"],
            properties=[{"type": "event", "key": "amount", "operator": op, "value": "10"}],
        )["results"]]
        for op in ("gt", "lt")
    }  # fmt: skip
    assert amounts == {"gt": ["eq-n2"], "lt": ["eq-n1"]}


def test_events_query_time_window(client, backend):
    """events_query_runner.py: after defaults to -24h ('all' drops it) and before to now (+5 s);
    relative dates (-7d, -24h) and ISO dates are relative_date_parse's (posthog/utils.py)."""
    for name, ago in (
        ("eq_hour", timedelta(hours=1)),
        ("eq_day", timedelta(hours=30)),
        ("eq_week", timedelta(days=10)),
    ):
        capture(client, name, "eq-window", ago)

    def names(**query):
        body = events_answer(client, select=["event"], where=["distinct_id = 'eq-window'"], **query)
        return sorted(row[0] for row in body["results"])

    assert names() == ["eq_hour"]
    assert names(after="-7d") == ["eq_day", "eq_hour"]
    assert names(after="-2w") == ["eq_day", "eq_hour", "eq_week"]
    assert names(after="all", before="-1d") == ["eq_day", "eq_week"]
    today = datetime.now(UTC).date()
    assert names(after=(today - timedelta(days=5)).isoformat()) == ["eq_day", "eq_hour"]
    seeded = [e for e in stored_events(backend) if not e.get("_captured")]
    june = [e for e in seeded if e["timestamp"] >= "2025-06-01"]
    body = events_answer(
        client, select=["uuid"], after="2025-06-01", before="2025-07-01T00:00:00Z", limit=500
    )
    assert {row[0] for row in body["results"]} == {e["id"] for e in june}
    # The seed is older than a day: the default window holds only the hour-old capture.
    assert events_answer(client, select=["event"])["results"] == [["eq_hour"]]


def test_events_query_ordering(client, backend):
    """events_query_runner.py: orderBy strings are HogQL order expressions; without one, count() or
    the first aggregation descending, else timestamp descending when selected, else the first column
    ascending; ordered by timestamp, uuid breaks ties in the same direction."""
    events = stored_events(backend)
    by_event = events_answer(client, select=["event", "distinct_id"], after="all", limit=500)["results"]
    assert [row[0] for row in by_event] == sorted(e["event"] for e in events)
    oldest = events_answer(
        client, select=["uuid", "timestamp"], after="all", orderBy=["timestamp ASC"], limit=500
    )
    assert [row[0] for row in oldest["results"]] == [
        e["id"] for e in sorted(events, key=lambda e: (e["timestamp"], e["id"]))
    ]
    newest = events_answer(client, select=["uuid", "timestamp"], after="all", limit=500)
    assert newest["results"] == oldest["results"][::-1]
    mixed = events_answer(
        client, select=["event", "timestamp"], after="all", orderBy=["event DESC", "timestamp"], limit=500
    )["results"]
    assert mixed == sorted(sorted(mixed, key=lambda row: row[1]), key=lambda row: row[0], reverse=True)


def test_events_query_limit_offset_has_more_and_cursor(client, backend):
    """HogQLHasMorePaginator (posthog/hogql_queries/paginators.py): limit defaults to 100 (a value
    below 1 too) and is capped at 50000; offset skips rows; hasMore says more follow; nextCursor,
    for a timestamp order, is '<timestamp>|<uuid>' of the last row, which before continues from."""
    total = len(stored_events(backend))
    first = events_answer(client, select=["uuid", "timestamp"], after="all")
    assert (first["limit"], len(first["results"]), first["hasMore"]) == (100, 100, True)
    assert events_answer(client, select=["uuid"], after="all", limit=0)["limit"] == 100
    page = events_answer(client, select=["uuid", "timestamp"], after="all", limit=10, offset=5)
    assert page["results"] == first["results"][5:15] and page["offset"] == 5
    everything = events_answer(client, select=["uuid"], after="all", limit=100000)
    assert (everything["limit"], len(everything["results"]), everything["hasMore"]) == (50000, total, False)
    last = first["results"][-1]
    assert first["nextCursor"] == f"{last[1]}|{last[0]}"
    following = events_answer(client, select=["uuid", "timestamp"], after="all", before=first["nextCursor"])
    assert (
        following["results"][:10]
        == events_answer(client, select=["uuid", "timestamp"], after="all", offset=100, limit=10)["results"]
    )
    grouped = events_answer(client, select=["event", "count()"], after="all", limit=2)
    assert grouped["hasMore"] is True and grouped["nextCursor"] is None


def test_events_query_aggregation_groups_by_the_other_columns(client, backend):
    """events_query_runner.py: with an aggregation in select, the other columns are the GROUP BY,
    count() orders descending by default, and a where string with an aggregation is a HAVING."""
    counts = Counter(e["event"] for e in stored_events(backend))
    body = events_answer(client, select=["event", "count()"], after="all")
    assert body["columns"] == ["event", "count()"] and body["types"] == ["String", "UInt64"]
    assert sorted(map(tuple, body["results"])) == sorted(counts.items())
    assert [row[1] for row in body["results"]] == sorted(counts.values(), reverse=True)
    aliased = events_answer(
        client, select=["count() as total", "event"], where=["count() > 10"], orderBy=["event"], after="all"
    )
    assert aliased["columns"] == ["total", "event"]
    assert aliased["results"] == [[n, name] for name, n in sorted(counts.items()) if n > 10]
    browsers = events_answer(client, select=["properties.$browser", "uniq(distinct_id)"], after="all")
    assert len(browsers["results"]) == len({e["properties"].get("$browser") for e in stored_events(backend)})


@pytest.mark.parametrize(
    "query, detail",
    [
        ({"select": ["event"], "where": ["colour = 1"]}, "Unable to resolve field: colour"),
        ({"select": ["colour"]}, "Unable to resolve field: colour"),
        ({"select": ["event"], "orderBy": ["nowhere DESC"]}, "Unable to resolve field: nowhere"),
        ({"select": ["event"], "where": ["event = 'a' and"]}, "Syntax error at line 1, column 15: "),
    ],
)  # fmt: skip
def test_events_query_hogql_errors_are_400s(client, query, detail):
    """A HogQL error in select, where or orderBy is ExposedHogQLError -> ValidationError(str(e))
    (posthog/api/query.py), as for a HogQLQuery: PostHog's resolver's words; a syntax error names
    the line and column (the parser's own wording after it is mockhog's)."""
    response = events_query(client, after="all", **query)
    body = response.get_json()
    assert body["detail"].startswith(detail) and (detail.endswith(": ") or body["detail"] == detail)
    assert (response.status_code, body) == (
        400,
        {"type": "validation_error", "code": "invalid_input", "detail": body["detail"], "attr": None},
    )


def test_events_query_bad_fields_and_what_mockhog_does_not_run(client):
    """posthog/schema.py EventsQuery forbids unknown fields and types its own; PostHog's view answers
    a model that does not validate with a 400 (PydanticModelMixin.get_model, posthog/api/mixins.py:
    ParseError "JSON parse error - ..." with pydantic's text; mockhog names the field DRF's way).
    What mockhog cannot evaluate offline (actions, insight sources, cohort filters) is a 400 that
    says so (docs/divergences.md), as are a pattern RE2 (ClickHouse's match) refuses and a date
    beyond datetime's range (PostHog's relativedelta overflows into a 500)."""
    refusals = {
        "limit": ({"select": ["event"], "limit": "ten"}, "query__limit"),
        "unknown": ({"select": ["event"], "colour": "red"}, "query__colour"),
        "select": ({}, "query__select"),
    }
    for query, attr in refusals.values():
        response = events_query(client, **query)
        assert (response.status_code, response.get_json()["attr"]) == (400, attr)
    for query in (
        {"select": ["event"], "actionId": 1},
        {"select": ["event"], "properties": [{"type": "cohort", "key": "id", "value": 1}]},
    ):
        response = events_query(client, **query)
        assert response.status_code == 400 and response.get_json()["detail"].startswith("mockhog does not")
    pattern = [{"type": "event", "key": "$os", "operator": "regex", "value": "("}]
    for query, detail in (
        ({"properties": pattern}, "Invalid regular expression: ("),
        ({"after": "-99999999999999d"}, "Invalid date: -99999999999999d"),
    ):
        response = events_query(client, select=["event"], **query)
        assert (response.status_code, response.get_json()["detail"]) == (400, detail)
    # Unknown kinds keep the served enum's refusal (test_other_kinds_and_bad_bodies_are_refused).
    unknown = client.post(URL, json={"query": {"kind": "NoSuchQuery"}})
    assert (unknown.status_code, unknown.get_json()["attr"]) == (400, "query__kind")
