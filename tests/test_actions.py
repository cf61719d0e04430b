"""Actions as PostHog's ActionViewSet serves them (posthog/api/action.py)."""

import pytest
from seeded import USER

BASE = "/api/projects/1/actions/"


def names(client, query=""):
    return [row["name"] for row in client.get(f"{BASE}{query}").get_json()["results"]]


def test_create_answers_the_whole_action(client):
    """posthog/api/action.py: ActionSerializer's fields in order; is_calculating is always false,
    creation_context always null, is_action always true; every step carries every step field."""
    created = client.post(BASE, json={"name": "Opened settings", "steps": [{"event": "$pageview"}]})
    assert created.status_code == 201
    body = created.get_json()
    assert list(body) == [
        "id", "name", "description", "tags", "post_to_slack", "slack_message_format", "steps",
        "created_at", "created_by", "deleted", "is_calculating", "last_calculated_at", "team_id",
        "is_action", "bytecode_error", "pinned_at", "creation_context", "user_access_level",
    ]  # fmt: skip
    assert body["steps"] == [
        {
            "event": "$pageview", "properties": None, "selector": None, "selector_regex": None,
            "tag_name": None, "text": None, "text_matching": None, "href": None,
            "href_matching": None, "url": None, "url_matching": None,
        }
    ]  # fmt: skip
    assert (body["is_calculating"], body["is_action"], body["creation_context"]) == (False, True, None)
    assert (body["created_by"], body["team_id"], body["deleted"]) == (USER, 1, False)
    assert (body["description"], body["slack_message_format"], body["tags"]) == ("", "", [])
    assert client.get(f"{BASE}{body['id']}/").get_json() == body


def test_the_list_is_not_paginated(client):
    """posthog/api/action.py: list() answers {"results": [...]} with every live action."""
    page = client.get(BASE).get_json()
    assert list(page) == ["results"] and len(page["results"]) == 6


@pytest.mark.parametrize(
    "body, code, detail",
    [
        ({"name": "Signed up"}, "unique", "This project already has an action with this name, ID 1"),
        ({"name": "   "}, "blank", "This field may not be blank."),
        ({"name": "x" * 401}, "max_length", "Ensure this field has no more than 400 characters."),
    ],
)
def test_name_rules(refused, body, code, detail):
    """posthog/api/action.py: validate() refuses a blank name and a name another live action of
    the project has, naming that action's id."""
    refused("post", BASE, body, code, "name", detail)


def test_blank_step_fields_are_refused(refused):
    """posthog/api/action.py: ActionStepJSONSerializer's CharFields allow null, not blank."""
    refused("post", BASE, {"name": "a", "steps": [{"event": ""}]}, "blank", "steps__0__event",
            "This field may not be blank.")  # fmt: skip


def test_a_step_keeps_only_its_own_fields(client):
    """posthog/api/action.py: ActionStepJSONSerializer is a DRF serializer, so keys it does not
    declare are dropped from a step, on create and on update."""
    created = client.post(BASE, json={"name": "Extra", "steps": [{"event": "$pageview", "zz": 1}]})
    assert created.status_code == 201
    assert "zz" not in created.get_json()["steps"][0]
    action = created.get_json()["id"]
    changed = client.patch(f"{BASE}{action}/", json={"steps": [{"url": "/a", "other": [1]}]})
    assert changed.status_code == 200
    assert changed.get_json()["steps"][0]["url"] == "/a" and "other" not in changed.get_json()["steps"][0]
    assert client.get(f"{BASE}{action}/").get_json() == changed.get_json()


def test_a_deleted_name_can_be_reused(client):
    """posthog/api/action.py: the name clash only counts actions that are not deleted."""
    assert client.patch(f"{BASE}1/", json={"deleted": True}).status_code == 200
    assert client.post(BASE, json={"name": "Signed up"}).status_code == 201
    renamed = client.patch(f"{BASE}2/", json={"name": "Signed up"})
    assert renamed.status_code == 400 and renamed.get_json()["detail"].endswith("ID 7")


def test_soft_delete(client):
    """posthog/api/action.py and forbid_destroy_model.py: DELETE is a bodiless 405; PATCH
    {"deleted": true} takes the action out of the list, while retrieve still answers it."""
    response = client.delete(f"{BASE}3/")
    assert response.status_code == 405 and response.data == b""
    patched = client.patch(f"{BASE}3/", json={"deleted": True}).get_json()
    assert patched["deleted"] is True
    assert "Shared a file" not in names(client)
    again = client.get(f"{BASE}3/")
    assert again.status_code == 200 and again.get_json()["deleted"] is True


def test_pinning_uses_the_server_clock(client):
    """posthog/api/action.py: an update with pinned_at pins at the server's time (or keeps an
    existing pin); '' unpins, as does null."""
    pinned = client.patch(f"{BASE}2/", json={"pinned_at": "2001-01-01T00:00:00Z"}).get_json()["pinned_at"]
    assert pinned > "2026"
    assert (
        client.patch(f"{BASE}2/", json={"pinned_at": "2030-01-01T00:00:00Z"}).get_json()["pinned_at"]
        == pinned
    )
    assert client.patch(f"{BASE}2/", json={"pinned_at": ""}).get_json()["pinned_at"] is None
    refused = client.patch(f"{BASE}2/", json={"pinned_at": "soon"})
    assert refused.status_code == 400 and refused.get_json()["attr"] == "pinned_at"
    published = client.get("/api/schema/").get_json()["components"]["schemas"]["ActionRequest"]
    assert published["properties"]["pinned_at"]["anyOf"] == [{"format": "date-time"}, {"maxLength": 0}]


def test_default_order_and_search(client):
    """posthog/api/action.py: the queryset is ordered by -last_calculated_at, then name. The list's
    search, created_by and tags filters and ordering are those PostHog's CLI (@posthog/cli 0.18.3,
    generated from the current OpenAPI) documents: a substring of the name, creator ids, any tag."""
    rows = client.get(BASE).get_json()["results"]
    stamps = [row["last_calculated_at"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert names(client, "?search=FILE") == ["Shared a file", "Uploaded a file"]
    assert names(client, '?tags=["Growth"]') == ["Signed up", "Clicked upgrade"]
    assert names(client, f"?created_by={USER['id']}&ordering=name")[:2] == ["Changed plan", "Clicked upgrade"]
    assert names(client, "?created_by=99") == []
    assert names(client, "?ordering=-name&limit=2&offset=1") == ["Uploaded a file", "Signed up"]


def test_tags_are_normalised(client):
    """posthog/api/tagged_item.py: tags are trimmed, lower-cased and kept once."""
    body = client.post(BASE, json={"name": "tagged", "tags": [" Beta", "beta", "Billing"]}).get_json()
    assert body["tags"] == ["beta", "billing"]
