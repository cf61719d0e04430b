"""Logs query: filters, ordering, cursor pages and the bare {"error"} for a missing query."""

import base64
import json

import pytest

URL = "/api/projects/1/logs/query/"
ROW_KEYS = [
    "uuid", "trace_id", "span_id", "body", "attributes", "timestamp", "observed_timestamp", "severity_text",
    "severity_number", "level", "resource_attributes", "instrumentation_scope", "event_name",
]  # fmt: skip


def run(client, url=URL, **query):
    response = client.post(url, json={"query": query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_default_query_returns_every_seeded_row_newest_first(client):
    body = run(client)
    assert body["query"] == {
        "kind": "LogsQuery",
        "dateRange": {"date_from": None, "date_to": None},
        "severityLevels": [],
        "serviceNames": [],
        "orderBy": "latest",
        "filterGroup": {"type": "AND", "values": []},
        "limit": 1000,
    }
    rows = body["results"]
    assert len(rows) == 600 and body["hasMore"] is False and body["nextCursor"] is None
    assert list(rows[0]) == ROW_KEYS
    stamps = [row["timestamp"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert (
        stamps[0] <= "2025-06-02T12:00:00" and stamps[-1] >= "2025-05-26T12:00:00"
    )  # the 7 days before the clock
    assert {row["resource_attributes"]["service.name"] for row in rows} == {
        "api-gateway", "web", "billing-worker", "uploader", "search",
    }  # fmt: skip
    assert all(row["level"] == row["severity_text"] for row in rows)


def test_environments_path(client):
    response = client.post("/api/environments/1/logs/query", json={"query": {"limit": 1}})
    assert response.status_code == 200 and len(response.get_json()["results"]) == 1
    assert response.headers["Deprecation"] == "true"


def test_earliest_order_and_limit_cap(client):
    body = run(client, orderBy="earliest", limit=5000)
    assert body["query"]["limit"] == 2000
    stamps = [row["timestamp"] for row in body["results"]]
    assert stamps == sorted(stamps)


def test_severity_service_and_search_filters(client):
    everything = run(client)["results"]
    errors = run(client, severityLevels=["error", "fatal"])["results"]
    assert errors and len(errors) == sum(r["severity_text"] in ("error", "fatal") for r in everything)
    assert {r["severity_number"] for r in errors} <= {17, 21}
    billing = run(client, serviceNames=["billing-worker"])["results"]
    assert billing and len(billing) == sum(
        r["resource_attributes"]["service.name"] == "billing-worker" for r in everything
    )
    found = run(client, searchTerm="CARD DECLINED")["results"]
    assert found and len(found) == sum("card declined" in r["body"].lower() for r in everything)
    both = run(client, searchTerm="card declined", severityLevels=["error"], serviceNames=["web"])["results"]
    assert all(r["resource_attributes"]["service.name"] == "web" for r in both)


def test_date_range_iso_bounds(client):
    everything = run(client)["results"]
    start, end = "2025-05-30T00:00:00Z", "2025-05-31T00:00:00Z"
    rows = run(client, dateRange={"date_from": start, "date_to": end})["results"]
    expected = [r for r in everything if "2025-05-30T00:00:00" <= r["timestamp"] <= "2025-05-31T00:00:00"]
    assert rows and rows == expected


def test_relative_dates_resolve_against_now(client):
    # The seed clock is 2025-06-02, so an hour back from the real now finds nothing, ten years back all.
    assert run(client, dateRange={"date_from": "-1h"})["results"] == []
    assert len(run(client, dateRange={"date_from": "-10y"})["results"]) == 600
    assert run(client, dateRange={"date_from": "-520w", "date_to": "-1d"})["results"] != []


def test_cursor_pages_are_disjoint_and_complete(client):
    seen, after = [], None
    while True:
        query = {"limit": 250, **({"after": after} if after else {})}
        body = run(client, **query)
        seen += [row["uuid"] for row in body["results"]]
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            break
        after = body["nextCursor"]
        last = body["results"][-1]
        assert json.loads(base64.b64decode(after)) == {"timestamp": last["timestamp"], "uuid": last["uuid"]}
    assert len(seen) == len(set(seen)) == 600


@pytest.mark.parametrize("body", [{}, {"query": None}, {"other": {}}])
def test_missing_query_is_a_bare_error(client, backend, body):
    before = backend.store.dump()
    response = client.post(URL, json=body)
    assert response.status_code == 400 and response.get_json() == {"error": "No query provided"}
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "query, code, attr, detail",
    [
        (
            {"severityLevels": ["loud"]},
            "invalid_choice",
            "query__severityLevels__0",
            '"loud" is not a valid choice.',
        ),
        ({"orderBy": "random"}, "invalid_choice", "query__orderBy", '"random" is not a valid choice.'),
        ({"limit": "many"}, "invalid_input", "query__limit", "A valid integer is required."),
        (
            {"dateRange": {"date_from": "yesterday-ish"}},
            "invalid_input",
            "query__dateRange__date_from",
            "Invalid date: yesterday-ish",
        ),
        ({"after": "not a cursor"}, "invalid_input", "query__after", "Invalid cursor"),
    ],
)
def test_invalid_queries(client, backend, query, code, attr, detail):
    before = backend.store.dump()
    response = client.post(URL, json={"query": query})
    assert response.status_code == 400
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    assert backend.store.dump() == before


def test_query_must_be_an_object(client):
    response = client.post(URL, json={"query": "level:error"})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error", "code": "invalid_input", "attr": "query",
        "detail": "Invalid data. Expected a dictionary, but got str.",
    }  # fmt: skip
