"""The events list's query parameters as EventViewSet's list reads them.

Source (PostHog/posthog): posthog/models/event/query_event_list.py (query_events_list: a falsy
``before`` means now plus five seconds, a falsy ``after`` no lower bound).
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("name", ["before", "after"])
def test_an_empty_bound_is_no_bound(client, name):
    everything = client.get("/api/projects/1/events/?limit=5").get_json()["results"]
    response = client.get(f"/api/projects/1/events/?limit=5&{name}=")
    assert response.status_code == 200
    assert response.get_json()["results"] == everything


def test_the_published_bounds_take_the_empty_text(client):
    operation = client.get("/api/schema/?format=json").get_json()["paths"][
        "/api/projects/{project_id}/events/"
    ]
    for parameter in operation["get"]["parameters"]:
        if parameter["name"] in ("before", "after"):
            assert {"const": ""} in parameter["schema"]["anyOf"]


@pytest.mark.parametrize("value", ["false", "null", "0", '""'])
def test_a_falsy_properties_value_is_no_filter(client, value):
    """Filter's property_groups (posthog/models/filters/mixins/property.py): the loaded JSON goes to
    _parse_properties, which answers [] for a falsy value; the published x-json states them."""
    everything = client.get("/api/projects/1/events/?limit=5").get_json()["results"]
    response = client.get("/api/projects/1/events/", query_string={"limit": 5, "properties": value})
    assert response.status_code == 200
    assert response.get_json()["results"] == everything
    operation = client.get("/api/schema/?format=json").get_json()["paths"][
        "/api/projects/{project_id}/events/"
    ]
    parameter = next(p for p in operation["get"]["parameters"] if p["name"] == "properties")
    schema = parameter["content"]["application/json"]["schema"]
    assert {"const": False} in schema["anyOf"] and {"type": "null"} in schema["anyOf"]
