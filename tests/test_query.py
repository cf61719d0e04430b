"""The query API's HogQL (POST /query/ with a HogQLQuery): answers computed from the store's events
and persons in CachedHogQLQueryResponse's shape, and HogQL's errors as PostHog's 400s."""

from collections import Counter

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
