"""Logs attribute suggestions and the sparkline over the seeded rows.

Behaviour as products/logs/backend/presentation/views/api.py (LogsViewSet.attributes, values and
sparkline) and its runners (log_attributes_query_runner.py, log_values_query_runner.py,
sparkline_query_runner.py, the bucket picker in logs_query_runner.py) serve it today."""

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

BASE = "/api/projects/1/logs/"
SINCE = {"date_from": "2025-05-01T00:00:00Z"}
WEB = {"key": "service.name", "type": "log_resource_attribute", "operator": "exact", "value": "web"}


def get(client, action, status=200, **params):
    encoded = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    response = client.get(f"{BASE}{action}/?{urlencode(encoded)}")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def sparkline(client, status=200, **query):
    response = client.post(f"{BASE}sparkline/", json={"query": query})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def rows(client, **query):
    response = client.post(f"{BASE}query/", json={"query": {"dateRange": SINCE, "limit": 2000, **query}})
    return response.get_json()["results"]


def test_attributes_are_the_keys_of_the_selected_rows_most_common_first(client):
    """LogAttributesQueryRunner: log attribute keys (resource ones with attribute_type=resource),
    ordered by how many rows carry each, then by name; count is every key, not the page."""
    everything = rows(client)
    carried: dict[str, int] = {}
    for row in everything:
        for key in row["attributes"]:
            carried[key] = carried.get(key, 0) + 1
    answer = get(client, "attributes", dateRange=SINCE)
    assert [item["name"] for item in answer["results"]] == sorted(carried, key=lambda k: (-carried[k], k))
    assert answer["count"] == len(carried)
    assert {item["propertyFilterType"] for item in answer["results"]} == {"log_attribute"}
    assert {item["matchedOn"] for item in answer["results"]} == {"key"}
    resource = get(client, "attributes", dateRange=SINCE, attribute_type="resource")
    assert {item["name"] for item in resource["results"]} == set(everything[0]["resource_attributes"])
    assert {item["propertyFilterType"] for item in resource["results"]} == {"log_resource_attribute"}
    assert get(client, "attributes", dateRange=SINCE, attribute_type="span") == answer  # anything else: log


def test_attribute_search_puts_an_exact_key_and_a_whole_word_first_and_pages(client):
    """The key ILIKE %search%, ordered exact match, then a word of the key (splitByNonAlpha),
    then frequency; limit/offset page it and count stays the total."""
    found = get(client, "attributes", dateRange=SINCE, search="HTTP")
    assert [item["name"] for item in found["results"]][:1] == ["http.method"]
    assert {item["name"] for item in found["results"]} == {"http.method", "http.route", "http.status_code"}
    route = get(client, "attributes", dateRange=SINCE, search="route")
    assert [item["name"] for item in route["results"]] == ["http.route"]
    page = get(client, "attributes", dateRange=SINCE, search="http", limit=2, offset=1)
    assert len(page["results"]) == 2 and page["count"] == 3
    assert get(client, "attributes", dateRange=SINCE, search="http", limit="many")["count"] == 3
    beyond = get(client, "attributes", dateRange=SINCE, search="http", offset=10)
    assert beyond == {"results": [], "count": 10}  # the runner adds the offset to what is left


def test_a_value_search_adds_keys_whose_values_match(client):
    """search_values=true with a term of 4 characters or more: keys whose values match follow,
    matchedOn "value" with the matching value; a shorter term searches keys only."""
    answer = get(client, "attributes", dateRange=SINCE, search="cardERROR", search_values="True")
    assert answer == {
        "results": [
            {
                "name": "error.type",
                "propertyFilterType": "log_attribute",
                "matchedOn": "value",
                "matchedValue": "CardError",
            }
        ],
        "count": 1,
    }
    assert get(client, "attributes", dateRange=SINCE, search="GET", search_values="true")["results"] == []


def test_attributes_follow_service_and_resource_filters_and_ignore_a_flat_list(client):
    """serviceNames and a PropertyGroupFilter's log_resource_attribute filters narrow the rows; a
    flat list of filters is no PropertyGroupFilter (get_model fails and the view drops it)."""
    uploads = rows(client, serviceNames=["uploader"])
    carried = {key for row in uploads for key in row["attributes"]}
    by_service = get(client, "attributes", dateRange=SINCE, serviceNames=["uploader"])
    assert {item["name"] for item in by_service["results"]} == carried
    group = {"type": "AND", "values": [{"type": "AND", "values": [WEB]}]}
    web = {key for row in rows(client, serviceNames=["web"]) for key in row["attributes"]}
    filtered = get(client, "attributes", dateRange=SINCE, filterGroup=group)
    assert {item["name"] for item in filtered["results"]} == web
    unfiltered = get(client, "attributes", dateRange=SINCE)
    assert get(client, "attributes", dateRange=SINCE, filterGroup=[WEB]) == unfiltered
    odd = {"type": "OR", "values": [{"type": "NOT", "values": [{"key": 1}]}]}  # no PropertyGroupFilter
    assert get(client, "attributes", dateRange=SINCE, filterGroup=odd) == unfiltered
    published = client.get("/api/schema/?format=json").get_json()["paths"]
    (param,) = [p for p in published["/api/projects/{project_id}/logs/attributes/"]["get"]["parameters"]
                if p["name"] == "filterGroup"]  # fmt: skip
    assert param["content"]["application/json"]["schema"]["anyOf"][1] == {}  # anything is taken


def test_values_count_each_value_of_one_key(client):
    """LogValuesQueryRunner: {results: [{id, name, count}], refreshing: false}, most frequent
    first, the value an ILIKE pattern whose % and _ stay wildcards."""
    answer = get(client, "values", dateRange=SINCE, key="service.name", attribute_type="resource")
    expected: dict[str, int] = {}
    for row in rows(client):
        name = row["resource_attributes"]["service.name"]
        expected[name] = expected.get(name, 0) + 1
    assert answer["refreshing"] is False
    assert [(item["id"], item["count"]) for item in answer["results"]] == sorted(
        expected.items(), key=lambda item: (-item[1], item[0])
    )
    assert all(item["id"] == item["name"] for item in answer["results"])
    methods = get(client, "values", dateRange=SINCE, key="http.method", value="_E_")
    assert {item["id"] for item in methods["results"]} == {"GET", "DELETE"}
    narrowed = get(
        client, "values", dateRange=SINCE, key="service.name", attribute_type="resource", serviceNames=["web"]
    )
    assert [item["id"] for item in narrowed["results"]] == ["web"]
    assert len(get(client, "values", dateRange=SINCE, key="http.method", limit=1)["results"]) == 1


def test_values_need_a_key_and_a_date_range_get_model_accepts(client):
    """No key: 400 with the bare JSON string "key is required"; a dateRange that is JSON but no
    DateRange is get_model's parse_error; one that is no JSON at all is the last hour."""
    assert get(client, "values", status=400) == "key is required"
    refused = get(client, "values", status=400, key="http.method", dateRange=[1])
    assert refused["code"] == "parse_error" and "DateRange" in refused["detail"]
    extra = get(client, "attributes", status=400, dateRange={"date_form": "-1d"})
    assert "Extra inputs are not permitted" in extra["detail"]
    assert get(client, "values", key="http.method", dateRange="{oops")["results"] == []


def test_sparkline_counts_every_bucket_of_the_window_by_severity(client):
    """SparklineQueryRunner answers a bare list: every bucket of the window (an empty one as one
    "(no value)" row of 0), the width the listed one nearest window / 50 (1 day / 50 is 30 min),
    ordered by time then severity, summing to the rows the same filters select."""
    window = {"date_from": "2025-05-30T00:00:00Z", "date_to": "2025-05-31T00:00:00Z"}
    answer = sparkline(client, dateRange=window, serviceNames=["web"])
    times = sorted({item["time"] for item in answer})
    assert len(times) == 48 and times[0] == "2025-05-30T00:00:00Z" and times[-1] == "2025-05-30T23:30:00Z"
    moments = [datetime.fromisoformat(time) for time in times]
    assert {b - a for a, b in zip(moments, moments[1:], strict=False)} == {timedelta(minutes=30)}
    assert [(item["time"], item["severity"]) for item in answer] == sorted(
        (item["time"], item["severity"]) for item in answer
    )
    selected = [
        row for row in rows(client, serviceNames=["web"]) if "2025-05-30" <= row["timestamp"] < "2025-05-31"
    ]
    assert sum(item["count"] for item in answer) == len(selected)
    levels: dict[str, int] = {}
    for row in selected:
        levels[row["severity_text"]] = levels.get(row["severity_text"], 0) + 1
    for level, n in levels.items():
        assert sum(item["count"] for item in answer if item["severity"] == level) == n
    empty = [item for item in answer if item["count"] == 0]
    assert empty and all(item["severity"] == "(no value)" for item in empty)
    assert all(item["bytes_uncompressed"] == 0 for item in empty)


def test_sparkline_by_service_and_its_defaults(client):
    """sparklineBreakdownBy service names each bucket's service under "service"; no dateRange is
    the last hour (the seeded rows are older: only empty buckets); a query that is not an object
    is _require_dict_query's parse error."""
    window = {"date_from": "2025-05-26T00:00:00Z", "date_to": "2025-06-03T00:00:00Z"}
    by_service = sparkline(client, dateRange=window, sparklineBreakdownBy="service")
    assert {item["service"] for item in by_service if item["count"]} == {
        "api-gateway", "web", "billing-worker", "uploader", "search",
    }  # fmt: skip
    assert all("severity" not in item for item in by_service)
    assert sum(item["count"] for item in by_service) == 600
    recent = sparkline(client)
    assert recent and all(item["count"] == 0 for item in recent)
    assert len(recent) in (60, 61)  # 1 h / 50 is nearest 1 min
    refused = client.post(f"{BASE}sparkline/", json={"query": [1]})
    assert refused.status_code == 400 and refused.get_json()["detail"] == "query must be an object"


def test_a_date_range_end_is_relative_iso_or_blank_as_published(client):
    """The runners resolve dateRange's ends as relative_date_parse does: a relative offset, an ISO
    date or time, or nothing (blank or null: the default); other text is 400 "Invalid date". The
    published LogsDateRangeParam states exactly that, so a schema-valid request is never refused."""
    ends = client.get("/api/schema/?format=json").get_json()["components"]["schemas"]["LogsDateRangeParam"]
    for name in ("date_from", "date_to"):
        assert ends["properties"][name]["anyOf"][1] == {"pattern": "^\\s*-?[0-9]+[sMhdwmqy]\\s*$"}
    for end in ("", None, "-1h", "2025-06-01", "2025-06-01T10:00:00Z"):
        get(client, "values", key="http.method", dateRange={"date_from": "2025-05-01", "date_to": end})
    refused = get(client, "attributes", status=400, dateRange={"date_to": "soon"})
    assert refused == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Invalid date: soon",
        "attr": "dateRange__date_to",
    }
