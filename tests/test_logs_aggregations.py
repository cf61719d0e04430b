"""Logs aggregations over the seeded rows: count, count-ranges, facet values and services.

Behaviour as products/logs/backend/presentation/views/api.py (LogsViewSet.count, count_ranges,
facet_values, services) and its runners (count_query_runner.py, count_ranges_query_runner.py)
serve it today: each counts the rows the same filters select in ``logs/query/``."""

from datetime import datetime

BASE = "/api/projects/1/logs/"
SINCE = {"date_from": "2025-05-01T00:00:00Z"}


def post(client, action, status=200, **query):
    response = client.post(f"{BASE}{action}/", json={"query": query})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def rows(client, **query):
    return post(client, "query", dateRange=SINCE, limit=2000, **query)["results"]


def test_count_is_the_number_of_rows_the_query_returns(client):
    """CountQueryRunner: SELECT count() FROM logs WHERE <the query's filters>."""
    web_errors = {"serviceNames": ["web"], "severityLevels": ["error", "fatal"]}
    assert post(client, "count", dateRange=SINCE, **web_errors) == {"count": len(rows(client, **web_errors))}
    assert post(client, "count", dateRange=SINCE) == {"count": len(rows(client))}


def test_count_defaults_to_the_last_hour_and_refuses_a_query_that_is_not_an_object(client):
    """An absent dateRange is the last hour (the seeded rows are older, so none); a list for
    query is _require_dict_query's ParseError."""
    assert post(client, "count") == {"count": 0}
    refused = client.post(f"{BASE}count/", json={"query": [1]})
    assert refused.status_code == 400
    assert (
        refused.get_json()["code"] == "parse_error"
        and refused.get_json()["detail"] == "query must be an object"
    )


def test_count_ranges_buckets_add_up_to_the_count(client):
    """CountRangesQueryRunner: ascending buckets with Z-suffixed bounds one interval apart, empty
    ones left out, their counts summing to the scalar count (PostHog's own test asserts this)."""
    window = {"date_from": "2025-05-01T00:00:00Z", "date_to": "2025-06-10T00:00:00Z"}
    answer = post(client, "count-ranges", dateRange=window, targetBuckets=10, serviceNames=["web"])
    total = post(client, "count", dateRange=window, serviceNames=["web"])["count"]
    assert total and sum(bucket["count"] for bucket in answer["ranges"]) == total
    assert answer["interval"] == "1d"  # 40 days in at most 10 buckets: no listed width is wider
    starts = [bucket["date_from"] for bucket in answer["ranges"]]
    assert starts == sorted(starts) and all(bucket["count"] > 0 for bucket in answer["ranges"])
    for bucket in answer["ranges"]:
        width = datetime.fromisoformat(bucket["date_to"]) - datetime.fromisoformat(bucket["date_from"])
        assert bucket["date_from"].endswith("Z") and width.total_seconds() == 86400


def test_count_ranges_picks_a_narrower_interval_for_a_short_window(client):
    """LogsQueryRunnerMixin.query_date_range (products/logs/backend/logs_query_runner.py): the
    listed width nearest window / targetBuckets, the narrower on a tie; seconds while that share
    is under a minute (_interval_short). targetBuckets is clamped to 1..100."""
    short = {"date_from": "2025-06-01T00:00:00Z", "date_to": "2025-06-01T00:10:00Z"}
    assert post(client, "count-ranges", dateRange=short)["interval"] == "1m"  # 60 s a bucket
    assert post(client, "count-ranges", dateRange=short, targetBuckets=1000)["interval"] == "5s"  # 6 s
    eight = {"date_from": "2025-06-01T00:00:00Z", "date_to": "2025-06-01T00:08:00Z"}
    assert post(client, "count-ranges", dateRange=eight)["interval"] == "60s"  # 48 s: nearest 60
    three = {"date_from": "2025-06-01T00:00:00Z", "date_to": "2025-06-01T00:03:30Z"}
    assert post(client, "count-ranges", dateRange=three)["interval"] == "10s"  # 21 s: nearer 10 than 60


def test_facet_values_count_each_value_without_the_facets_own_filter(client):
    """LogFacetValuesQueryRunner: faceting on severity ignores severityLevels, keeps the rest."""
    answer = post(
        client,
        "facet_values",
        dateRange=SINCE,
        serviceNames=["web"],
        severityLevels=["info"],
        facetField="severity_text",
    )
    expected: dict[str, int] = {}
    for row in rows(client, serviceNames=["web"]):
        expected[row["severity_text"]] = expected.get(row["severity_text"], 0) + 1
    assert {item["value"]: item["count"] for item in answer["results"]} == expected
    counts = [item["count"] for item in answer["results"]]
    assert counts == sorted(counts, reverse=True)
    searched = post(client, "facet_values", dateRange=SINCE, facetField="service_name", facetSearch="WE")
    assert {item["value"] for item in searched["results"]} == {"web"}


def test_facet_values_need_exactly_one_known_facet(client):
    none = post(client, "facet_values", status=400, dateRange=SINCE)
    assert none["detail"] == "Provide exactly one of facetField, facetResourceAttribute or facetAttribute"
    unknown = post(client, "facet_values", status=400, dateRange=SINCE, facetField="body")
    assert unknown["detail"] == "facetField must be one of ['service_name', 'severity_text']"


def test_services_aggregate_each_service(client):
    """ServicesQueryRunner in _LogsServicesResponseSerializer's shape: noisiest first, error and
    fatal as errors, the shares of the whole window."""
    answer = post(client, "services", dateRange=SINCE)
    everything = rows(client)
    assert answer["total_services"] == len({row["resource_attributes"]["service.name"] for row in everything})
    assert sum(service["log_count"] for service in answer["services"]) == len(everything)
    web = next(service for service in answer["services"] if service["service_name"] == "web")
    web_rows = [row for row in everything if row["resource_attributes"]["service.name"] == "web"]
    web_errors = sum(1 for row in web_rows if row["severity_text"] in ("error", "fatal"))
    assert web["log_count"] == len(web_rows) and web["error_count"] == web_errors
    assert web["error_rate"] == round(web_errors / len(web_rows), 4)
    counts = [service["log_count"] for service in answer["services"]]
    assert counts == sorted(counts, reverse=True)
    assert answer["summary"]["top_services_count"] == min(5, len(counts))


def test_services_needs_a_date_range(client):
    """services reads dateRange with get_model and no default: none is pydantic's parse error."""
    refused = post(client, "services", status=400)
    assert refused["code"] == "parse_error" and "DateRange" in refused["detail"]
