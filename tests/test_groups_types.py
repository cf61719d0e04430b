"""Group types and their usage metrics (generic tier): what their views refuse.

Source (PostHog/posthog): ee/clickhouse/views/groups.py (GroupUsageMetricViewSet: the metrics of
the group type index in the path, parents_query_dict's group_type_index; perform_create saves it),
posthog/api/routing.py (TeamAndOrgViewSetMixin: the parent lookups filter the queryset).
"""

from __future__ import annotations

import pytest

METRICS = "/api/projects/1/groups_types/{index}/metrics/"


@pytest.mark.parametrize("index", [2147483648, 99999999999])
def test_a_group_type_index_past_its_integer_field_names_nothing(client, index):
    """The index is an IntegerField (the path parameter publishes its 32-bit bounds): no metric can
    be under one past them. PostHog's filter lists none and its create is Postgres' 'integer out of
    range' (a 500); mockhog answers the 404 its lookups give for every method."""
    url = METRICS.format(index=index)
    assert client.get(url).status_code == 404
    assert client.post(url, json={"name": "Events", "filters": {}}).status_code == 404
    assert client.delete(f"/api/projects/1/groups_types/{index}/").status_code == 404


def test_a_group_type_index_in_bounds_lists_its_metrics(client):
    created = client.post(METRICS.format(index=2147483647), json={"name": "Events", "filters": {}})
    assert created.status_code == 201, created.get_json()
    listed = client.get(METRICS.format(index=2147483647)).get_json()
    assert [row["id"] for row in listed["results"]] == [created.get_json()["id"]]


@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"name": "", "filters": {}}, "name", "This field may not be blank."),
        ({"name": "   ", "filters": {}}, "name", "This field may not be blank."),
        ({"name": "Events", "filters": None}, "filters", "This field may not be null."),
    ],
)
def test_a_metric_has_a_name_and_filters(client, body, attr, detail):
    """GroupUsageMetric (posthog/models/group_usage_metric.py): name is a CharField without
    blank=True and filters a JSONField without null=True, so the ModelSerializer refuses a blank
    name and null filters."""
    response = client.post(METRICS.format(index=0), json=body)
    assert response.status_code == 400
    assert (response.get_json()["attr"], response.get_json()["detail"]) == (attr, detail)
    schema = client.get("/api/schema/?format=json").get_json()["components"]["schemas"]
    published = schema["GroupUsageMetricRequest"]["properties"]
    assert "[^\\x00\\s]" in published["name"]["pattern"] and "null" not in published["filters"]["type"]
