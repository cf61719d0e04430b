"""Logs query: filters, ordering, cursor pages and the bare {"error"} for a missing query.

Behaviour as products/logs/backend/api.py (LogsViewSet.query) serves it today."""

import base64
import json

import pytest

URL = "/api/projects/1/logs/query/"
ROW_KEYS = [
    "uuid", "trace_id", "span_id", "body", "attributes", "timestamp", "observed_timestamp", "severity_text",
    "severity_number", "level", "resource_attributes", "instrumentation_scope", "event_name",
]  # fmt: skip


def run(client, url=URL, **query):
    query.setdefault("dateRange", {})
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
        "limit": 1001,
    }
    rows = body["results"]
    assert len(rows) == 600 and body["hasMore"] is False and body["nextCursor"] is None
    assert body["maxExportableLogs"] == 10000
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
    response = client.post("/api/environments/1/logs/query", json={"query": {"limit": 1, "dateRange": {}}})
    assert response.status_code == 200 and len(response.get_json()["results"]) == 1
    assert response.headers["Deprecation"] == "true"


def test_earliest_order_and_limit_cap(client):
    body = run(client, orderBy="earliest", limit=5000)
    assert body["query"]["limit"] == 2001 and len(body["results"]) == 600
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
    response = client.post(URL, json={"query": {"dateRange": {}, **query}})
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


def test_flat_filter_list_is_nested_and_applied(client):
    """The CLI sends filterGroup as a flat list; the server nests it as one AND group inside the
    outer AND (products/logs/backend/api.py, LogsViewSet._normalize_filter_group) and the runner
    applies it."""
    everything = run(client)["results"]
    filters = [
        {"key": "http.status_code", "type": "log_attribute", "operator": "exact", "value": ["200", "201"]},
        {"key": "service.name", "type": "log_resource_attribute", "operator": "exact", "value": "web"},
    ]
    body = run(client, filterGroup=filters)
    assert body["query"]["filterGroup"] == {"type": "AND", "values": [{"type": "AND", "values": filters}]}
    expected = [
        row for row in everything
        if row["attributes"].get("http.status_code") in (200, 201)
        and row["resource_attributes"]["service.name"] == "web"
    ]  # fmt: skip
    assert expected and body["results"] == expected
    empty = run(client, filterGroup=[])
    assert empty["query"]["filterGroup"] == {"type": "AND", "values": []} and len(empty["results"]) == 600


def log_filter(key, kind, operator, value=None):
    return {"key": key, "type": kind, "operator": operator, **({} if value is None else {"value": value})}


@pytest.mark.parametrize(
    "flt, keep",
    [
        (log_filter("message", "log", "icontains", "CARD"), lambda r: "card" in r["body"].lower()),
        (log_filter("message", "log", "not_icontains", "card"), lambda r: "card" not in r["body"].lower()),
        (
            log_filter("message", "log", "regex", "^Slow request"),
            lambda r: r["body"].startswith("Slow request"),
        ),
        (log_filter("severity_level", "log", "is_not", "info"), lambda r: r["severity_text"] != "info"),
        (
            log_filter("duration_ms", "log_attribute", "gt", 1500),
            lambda r: r["attributes"].get("duration_ms", 0) > 1500,
        ),
        (
            log_filter("retry.attempt", "log_attribute", "is_set"),
            lambda r: "retry.attempt" in r["attributes"],
        ),
        (
            log_filter("retry.attempt", "log_attribute", "is_not_set"),
            lambda r: "retry.attempt" not in r["attributes"],
        ),
    ],
)
def test_filter_operators(client, flt, keep):
    """Each operator of the CLI's LogPropertyFilter enum filters the rows (products/logs/backend/
    logs_query_runner.py turns the filters into the query's WHERE)."""
    everything = run(client)["results"]
    rows = run(client, filterGroup=[flt])["results"]
    assert rows == [row for row in everything if keep(row)]
    assert 0 < len(rows) < 600


def test_nested_or_group_is_kept_as_sent(client):
    """A nested group is used as sent (products/logs/backend/api.py, _normalize_filter_group)."""
    group = {
        "type": "OR",
        "values": [
            {"key": "severity_level", "type": "log", "operator": "exact", "value": "fatal"},
            {"key": "service_name", "type": "log", "operator": "exact", "value": "search"},
        ],
    }
    everything = run(client)["results"]
    body = run(client, filterGroup=group)
    assert body["query"]["filterGroup"] == group
    assert body["results"] == [
        r
        for r in everything
        if r["severity_text"] == "fatal" or r["resource_attributes"]["service.name"] == "search"
    ]


@pytest.mark.parametrize("odd", ["random", "", 5, None])
def test_unknown_order_falls_back_to_latest(client, odd):
    """products/logs/backend/api.py (LogsViewSet.query): an orderBy other than latest/earliest is
    taken as latest instead of an error."""
    body = run(client, orderBy=odd, limit=3)
    assert body["query"]["orderBy"] == "latest"
    stamps = [row["timestamp"] for row in body["results"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 3


def test_limit_zero_answers_no_rows_but_has_more(client):
    """products/logs/backend/api.py (LogsViewSet.query): the runner is asked for limit + 1 rows,
    so limit 0 is accepted, answers no rows, says whether any match, and has no cursor."""
    body = run(client, limit=0)
    assert body["query"]["limit"] == 1
    assert body["results"] == [] and body["hasMore"] is True and body["nextCursor"] is None
    none = run(client, limit=0, searchTerm="no log says this")
    assert none["hasMore"] is False and none["nextCursor"] is None
    assert none["maxExportableLogs"] == 10000


@pytest.mark.parametrize("date_range, shown, kind", [(None, "None", "NoneType"), ("-1h", "'-1h'", "str")])
def test_date_range_is_required(client, backend, date_range, shown, kind):
    """products/logs/backend/api.py validates dateRange with PydanticModelMixin.get_model, whose
    pydantic error becomes a DRF ParseError (posthog/api/mixins.py)."""
    before = backend.store.dump()
    query = {"limit": 1} if date_range is None else {"limit": 1, "dateRange": date_range}
    response = client.post(URL, json={"query": query})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "parse_error",
        "detail": "JSON parse error - 1 validation error for DateRange\n  Input should be a valid dictionary "
        f"or instance of DateRange [type=model_type, input_value={shown}, input_type={kind}]",
        "attr": None,
    }
    assert backend.store.dump() == before


def test_scope_is_logs_read(client, backend):
    """products/logs/backend/api.py: the query action's required_scopes is logs:read (the CLI's
    query-logs tool lists the same)."""
    mint = client.post("/_mockhog/personal_api_keys", json={"label": "logs", "scopes": ["logs:read"]})
    other = client.post(
        "/_mockhog/personal_api_keys", json={"label": "et", "scopes": ["error_tracking:read"]}
    )
    body = {"query": {"dateRange": {}, "limit": 1}}
    ok = client.post(URL, json=body, headers={"Authorization": f"Bearer {mint.get_json()['value']}"})
    assert ok.status_code == 200
    refused = client.post(URL, json=body, headers={"Authorization": f"Bearer {other.get_json()['value']}"})
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "API key missing required scope 'logs:read'"


def _published(backend, name):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resource = Resource.from_contents(backend.openapi(), default_specification=DRAFT202012)
    registry = Registry().with_resource("openapi.json", resource)
    return Draft202012Validator({"$ref": f"openapi.json#/components/schemas/{name}"}, registry=registry)


def test_the_bodies_publish_the_date_ranges_and_facets_the_views_read(client, backend):
    """products/logs/backend/presentation/views/api.py: the query view and services read dateRange
    with get_model (an object, no default); the other aggregations default a range read as false to
    the last hour and refuse any other non-object; facet_values needs exactly one facet."""
    query = _published(backend, "LogsQueryRequest")
    assert not query.is_valid({"query": {"kind": "LogsQuery"}})
    assert not query.is_valid({"query": {"kind": "LogsQuery", "dateRange": [None, None]}})
    filters = _published(backend, "LogsFiltersRequest")
    assert filters.is_valid({"query": {"dateRange": None}}) and filters.is_valid({"query": {}})
    assert not filters.is_valid({"query": {"dateRange": [None, None]}})
    services = _published(backend, "LogsServicesRequest")
    assert not services.is_valid({"query": {}}) and services.is_valid({"query": {"dateRange": {}}})
    facets = _published(backend, "LogsFacetValuesRequest")
    assert facets.is_valid({"query": {"facetField": "service_name"}})
    assert not facets.is_valid({"query": {"facetField": "service_name", "facetAttribute": "a"}})
    assert not facets.is_valid({"query": {"facetField": ""}})
    base = "/api/projects/1/logs/"
    assert client.post(f"{base}count/", json={"query": {"dateRange": None}}).status_code == 200
    refused = client.post(f"{base}count/", json={"query": {"dateRange": [None, None]}})
    assert refused.status_code == 400 and refused.get_json()["code"] == "parse_error"
    assert client.post(f"{base}services/", json={"query": {}}).status_code == 400
    assert not services.is_valid({}) and not facets.is_valid({"query": {"facetField": "bogus"}})
    # a filterGroup that is no group means no filters, and the answer echoes an empty one
    body = {"query": {"kind": "LogsQuery", "dateRange": {"date_from": "-1h"}, "filterGroup": {"values": []}}}
    answer = client.post(URL, json=body)
    assert answer.status_code == 200 and answer.get_json()["query"]["filterGroup"] == {
        "type": "AND",
        "values": [],
    }
