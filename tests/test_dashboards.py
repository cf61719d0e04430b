"""Dashboards as PostHog's DashboardsViewSet serves them (products/dashboards/backend/api/dashboard.py)."""

import pytest
from seeded import USER

BASE = "/api/projects/1/dashboards/"


def error(detail, attr=None, code="invalid_input"):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def dashboards_of(client, insight):
    return client.get(f"/api/projects/1/insights/{insight}/").get_json()["dashboards"]


def test_list_answers_the_basic_serializer(client):
    """products/dashboards/backend/api/dashboard.py: the list uses DashboardBasicSerializer (no
    tiles, no filters), pinned dashboards first, then by name; deleted ones are left out."""
    page = client.get(BASE).get_json()
    assert [row["name"] for row in page["results"]] == ["Product KPIs", "Engineering health", "Growth"]
    assert list(page["results"][0]) == [
        "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at",
        "last_viewed_at", "folder", "is_shared", "deleted", "creation_mode", "tags", "restriction_level",
        "effective_restriction_level", "effective_privilege_level", "user_access_level",
        "access_control_version", "last_refresh", "team_id", "search_match_type",
    ]  # fmt: skip
    first = page["results"][0]
    assert (first["is_shared"], first["creation_mode"], first["team_id"]) == (True, "default", 1)
    assert first["folder"] is not None  # where the project tree files it


def test_retrieve_has_tiles_in_layout_order(client):
    """products/dashboards/backend/api/dashboard.py: tiles are sorted by their sm layout (row, then
    column) and numbered by that order; an insight tile carries the full insight, a text tile its
    Text; the insight lists the dashboard back."""
    body = client.get(f"{BASE}1/").get_json()
    assert body["tiles"][0]["text"]["body"].startswith("## Weekly review")
    assert body["tiles"][0]["insight"] is None and body["tiles"][0]["text"]["created_by"] == USER
    names = [tile["insight"]["name"] for tile in body["tiles"][1:]]
    assert names == ["Weekly active users", "Signup funnel", "File shares per day", "Revenue by plan"]
    assert [tile["order"] for tile in body["tiles"]] == [0, 1, 2, 3, 4]
    assert {"last_refresh": None, "is_cached": False}.items() <= body["tiles"][1].items()
    assert 1 in dashboards_of(client, 1)
    assert (body["persisted_filters"], body["filters"], body["quick_filter_ids"]) == (None, {}, [])


def test_patch_tiles_adds_text_and_removes_insights(client):
    """products/dashboards/backend/api/dashboard.py: a PATCH's tiles create text tiles, change a
    tile's display fields by id, and soft-delete a tile with deleted: true; the insight's dashboards
    follow."""
    patched = client.patch(
        f"{BASE}2/",
        json={"tiles": [{"text": {"body": "Notes"}, "layouts": {"sm": {"x": 0, "y": 99, "w": 12, "h": 1}}}]},
    ).get_json()
    assert patched["tiles"][-1]["text"]["body"] == "Notes"
    first = patched["tiles"][0]
    changed = client.patch(f"{BASE}2/", json={"tiles": [{"id": first["id"], "color": "blue"}]}).get_json()
    assert changed["tiles"][0]["color"] == "blue"
    insight = first["insight"]["id"]
    client.patch(f"{BASE}2/", json={"tiles": [{"id": first["id"], "deleted": True}]})
    assert 2 not in dashboards_of(client, insight)
    assert client.patch(f"{BASE}2/", json={"tiles": [{"id": 9999, "color": "red"}]}).status_code == 200


def test_soft_delete_and_restore(client):
    """products/dashboards/backend/api/dashboard.py and forbid_destroy_model.py: DELETE is a bodiless
    405; PATCH {"deleted": true} deletes the tiles (with delete_insights, the insights found on no
    other dashboard); {"deleted": false} undeletes the tiles and their insights."""
    response = client.delete(f"{BASE}1/")
    assert response.status_code == 405 and response.data == b""
    hidden = client.patch(f"{BASE}1/", json={"deleted": True, "delete_insights": True})
    assert hidden.status_code == 200 and hidden.get_json()["deleted"] is True
    assert client.get(f"{BASE}1/").status_code == 404
    assert 1 not in [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert client.get("/api/projects/1/insights/1/").status_code == 404  # only on this dashboard
    assert dashboards_of(client, 2) == [2]  # also on Growth: kept
    restored = client.patch(f"{BASE}1/", json={"deleted": False}).get_json()
    assert restored["deleted"] is False and len(restored["tiles"]) == 5
    assert dashboards_of(client, 1) == [1]


def test_duplicating_links_or_copies(client):
    """products/dashboards/backend/api/dashboard.py: use_dashboard copies the tiles onto the new
    dashboard (creation_mode duplicate), linking the same insights; with duplicate_tiles the
    insights are copied, named "<name> (Copy)"."""
    linked = client.post(BASE, json={"name": "KPIs again", "use_dashboard": 1}).get_json()
    assert linked["creation_mode"] == "duplicate" and len(linked["tiles"]) == 5
    assert sorted(dashboards_of(client, 1)) == [1, linked["id"]]
    copied = client.post(
        BASE, json={"name": "KPIs copy", "use_dashboard": 1, "duplicate_tiles": True}
    ).get_json()
    copies = [tile["insight"] for tile in copied["tiles"] if tile["insight"]]
    assert copies[0]["name"] == "Weekly active users (Copy)" and copies[0]["id"] > 10
    assert copies[0]["dashboards"] == [copied["id"]]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"use_dashboard": 99}, error("Invalid value provided", "use_dashboard")),
        (
            {"use_dashboard": 1, "use_template": "x"},
            error("`use_dashboard` and `use_template` cannot be used together"),
        ),
        (
            {"restriction_level": 30},
            error('"30" is not a valid choice.', "restriction_level", "invalid_choice"),
        ),
        ({"filters": "x"}, error("Filters must be a dictionary")),
        ({"quick_filter_ids": ["nope"]}, error("Invalid UUID: nope", "quick_filter_ids")),
    ],
)
def test_create_refusals(refused, body, expected):
    """products/dashboards/backend/api/dashboard.py: validate() and create()'s own checks."""
    refused("post", BASE, {"name": "bad", **body}, expected["code"], expected["attr"], expected["detail"])


def test_text_bodies_are_limited(refused):
    """products/dashboards/backend/api/dashboard.py: TextSerializer's 4000-character body; a text id
    that is no integer is refused (Text.objects.update_or_create would fail on it: a 500 there)."""
    refused("patch", f"{BASE}2/", {"tiles": [{"text": {"body": "x" * 4001}}]}, "max_length", "text__body",
            "Text body cannot exceed 4000 characters")  # fmt: skip
    refused("patch", f"{BASE}2/", {"tiles": [{"text": {"id": [1], "body": "x"}}]}, "invalid_input", "text",
            "A text's id must be an integer.")  # fmt: skip


LAYOUTS = "A tile's layouts must be an object of boxes ({x, y, w, h} numbers) per breakpoint."


@pytest.mark.parametrize(
    "tile, detail",
    [
        ({"id": 1, "color": 5}, "A tile's color must be a string or null."),
        ({"id": 1, "layouts": {"sm": 3}}, LAYOUTS),
        ({"id": 1, "layouts": {"sm": {"x": "0"}}}, LAYOUTS),
        ({"id": 1, "show_description": "yes"}, "A tile's show_description must be a boolean or null."),
        ({"id": 1, "deleted": None}, "A tile's deleted must be a boolean."),
        ({"id": {}, "color": "blue"}, "A tile's id must be an integer."),
        ({"id": True, "color": "blue"}, "A tile's id must be an integer."),
        (
            {"text": {"body": "x"}, "filters_overrides": []},
            "A tile's filters_overrides must be an object or null.",
        ),
    ],
)
def test_tile_display_fields_must_hold_what_a_tile_answers(refused, tile, detail):
    """products/dashboards/backend/api/dashboard.py: _update_tiles writes a tile's display fields
    with a queryset update, unchecked, so a wrong type is stored and breaks the tile's answer or its
    layout sort later, and looks the tile up by whatever id it is given (a 500 there); mockhog
    refuses it on the PATCH (docs/divergences.md), and the dashboard's own changes in the same
    request are not kept."""
    refused("patch", f"{BASE}1/", {"name": "Renamed", "tiles": [tile]}, "invalid_input", "tiles", detail)


def test_restriction_levels(client):
    """products/dashboards/backend/api/dashboard.py: restriction_level is the owner's to change; the
    effective level follows it and access_control_version is v1 above "everyone can edit"."""
    body = client.patch(f"{BASE}2/", json={"restriction_level": 37}).get_json()
    assert (body["effective_restriction_level"], body["access_control_version"]) == (37, "v1")
    assert client.get("/api/projects/1/insights/3/").get_json()["effective_restriction_level"] == 37


def test_search_and_tags(client):
    """products/dashboards/backend/api/dashboard.py: search matches name, description and tags (200
    characters at most; a typo finds the trigram-similar); ?tags= keeps dashboards with any of them."""
    found = client.get(f"{BASE}?search=monday").get_json()["results"]
    assert [row["name"] for row in found] == ["Product KPIs"] and found[0]["search_match_type"] == "exact"
    assert [row["name"] for row in client.get(f"{BASE}?tags=kpi").get_json()["results"]] == ["Product KPIs"]
    typo = client.get(f"{BASE}?search=prodct").get_json()["results"]  # apply_trigram_search's similar tier
    assert [(row["name"], row["search_match_type"]) for row in typo] == [("Product KPIs", "similar")]
    # the tags filter runs before the exact-or-similar choice (drop_similar_when_exact_exists)
    assert client.get(f"{BASE}?search=monday&tags=nope").get_json()["results"] == []
    too_long = client.get(f"{BASE}?search={'x' * 201}")
    assert too_long.get_json() == error("Search query must be 200 characters or fewer.", "search")


def test_exports_and_sharing_refuse_a_deleted_dashboard(client, backend):
    """Dashboard.objects hides soft-deleted dashboards: an export of one is refused
    (posthog/api/exports.py) and its sharing configuration is a 404 (posthog/api/sharing.py)."""
    assert client.patch(f"{BASE}2/", json={"deleted": True}).status_code == 200
    before = backend.store.dump()
    export = client.post("/api/projects/1/exports/", json={"dashboard": 2, "export_format": "image/png"})
    assert export.status_code == 400 and export.get_json()["attr"] == "dashboard"
    assert export.get_json()["detail"] == 'Invalid pk "2" - object does not exist.'
    sharing = client.get(f"{BASE}2/sharing/")
    assert sharing.status_code == 404 and sharing.get_json()["detail"] == "Dashboard not found."
    assert backend.store.dump() == before
