"""Insights as PostHog's InsightViewSet serves them (products/product_analytics/backend/api/insight.py)."""

import re

import pytest
from seeded import USER

BASE = "/api/projects/1/insights/"
TRENDS = {
    "kind": "InsightVizNode",
    "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]},
}
RESULT_FIELDS = (
    "last_refresh", "cache_target_age", "next_allowed_client_refresh", "result", "hasMore", "columns",
    "query_status", "hogql", "types", "resolved_date_range",
)  # fmt: skip


def make(client, **body):
    response = client.post(BASE, json={"name": "Pageviews", "query": TRENDS, **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def boards_of(client, key):
    return client.get(f"{BASE}{key}/").get_json()["dashboards"]


def tile_insights(client, board):
    tiles = client.get(f"/api/projects/1/dashboards/{board}/").get_json()["tiles"]
    return [tile["insight"]["id"] for tile in tiles if tile["insight"]]


def test_create_answers_the_whole_insight(client):
    """products/product_analytics/backend/api/insight.py: InsightSerializer's fields in order (and
    filters_hash); an 8-character short_id; filters are {} when there is a query; created_by and
    last_modified_by are the user."""
    body = make(client)
    assert list(body) == [
        "id", "short_id", "name", "derived_name", "filters", "query", "order", "deleted", "dashboards",
        "dashboard_tiles", "last_refresh", "cache_target_age", "next_allowed_client_refresh", "result",
        "hasMore", "columns", "created_at", "created_by", "description", "updated_at", "tags",
        "favorited", "saved", "last_modified_at", "last_modified_by", "is_sample",
        "effective_restriction_level", "effective_privilege_level", "user_access_level", "timezone",
        "is_cached", "query_status", "hogql", "types", "resolved_date_range", "alerts", "last_viewed_at",
        "search_match_type", "filters_hash",
    ]  # fmt: skip
    assert re.fullmatch(r"[A-Za-z0-9]{8}", body["short_id"])
    assert (body["filters"], body["query"], body["saved"], body["deleted"]) == ({}, TRENDS, True, False)
    assert body["created_by"] == USER and body["last_modified_by"] == USER
    assert (body["effective_restriction_level"], body["effective_privilege_level"]) == (21, 37)


def test_results_are_what_the_server_answers_when_no_query_runs(client):
    """products/product_analytics/backend/api/insight.py: with nothing cached (the default refresh is
    force_cache) every result field is null and is_cached is false; timezone is the project's only
    when the client asked for a refresh."""
    plain = client.get(f"{BASE}1/").get_json()
    assert all(plain[name] is None for name in RESULT_FIELDS)
    assert (plain["is_cached"], plain["timezone"], plain["last_viewed_at"]) == (False, None, None)
    refreshed = client.get(f"{BASE}1/?refresh=blocking").get_json()
    assert refreshed["timezone"] == "UTC" and refreshed["result"] is None


def test_short_id_is_a_lookup(client):
    """products/product_analytics/backend/api/insight.py: the detail route takes the id or the
    short_id (safely_get_object), and the list filters on ?short_id= (filterset_fields)."""
    body = make(client)
    assert client.get(f"{BASE}{body['short_id']}/").get_json()["id"] == body["id"]
    listed = client.get(f"{BASE}?short_id={body['short_id']}").get_json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    patched = client.patch(f"{BASE}{body['short_id']}/", json={"name": "Renamed"})
    assert patched.get_json()["name"] == "Renamed"
    assert client.get(f"{BASE}NOPE1234/").status_code == 404


def test_soft_delete_and_restore(client):
    """products/product_analytics/backend/api/insight.py and forbid_destroy_model.py: DELETE is a
    bodiless 405; PATCH {"deleted": true} hides the insight everywhere and takes it off every
    dashboard; only PATCH {"deleted": false} can reach it again (the tiles stay deleted)."""
    response = client.delete(f"{BASE}1/")
    assert response.status_code == 405 and response.data == b""
    assert 1 in tile_insights(client, 1)
    hidden = client.patch(f"{BASE}1/", json={"deleted": True})
    assert hidden.status_code == 200 and hidden.get_json()["deleted"] is True
    assert client.get(f"{BASE}1/").status_code == 404
    assert client.put(f"{BASE}1/", json={"deleted": False}).status_code == 404
    assert 1 not in [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert 1 not in tile_insights(client, 1)
    restored = client.patch(f"{BASE}1/", json={"deleted": False}).get_json()
    assert (restored["deleted"], restored["dashboards"]) == (False, [])


def test_dashboards_follow_the_tiles(client):
    """products/product_analytics/backend/api/insight.py: dashboards are read from the insight's
    live tiles; writing them adds tiles (or undeletes old ones) and soft-deletes the rest, so the
    dashboards' tiles agree."""
    made = make(client, dashboards=[1])
    assert made["dashboards"] == [1] and made["dashboard_tiles"][0]["dashboard_id"] == 1
    assert made["id"] in tile_insights(client, 1)
    moved = client.patch(f"{BASE}{made['id']}/", json={"dashboards": [2, 3]}).get_json()
    assert moved["dashboards"] == [2, 3]
    assert made["id"] not in tile_insights(client, 1) and made["id"] in tile_insights(client, 3)
    back = client.patch(f"{BASE}{made['id']}/", json={"dashboards": [1]}).get_json()
    assert back["dashboard_tiles"][0]["id"] == made["dashboard_tiles"][0]["id"]  # the old tile, undeleted
    assert back["effective_restriction_level"] == 21
    on_restricted = client.patch(f"{BASE}{made['id']}/", json={"dashboards": [3]}).get_json()
    assert on_restricted["effective_restriction_level"] == 37  # dashboard 3 only lets collaborators edit


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"dashboards": [99]}, "does_not_exist", "dashboards", 'Invalid pk "99" - object does not exist.'),
        ({"name": "x" * 401}, "max_length", "name", "Ensure this field has no more than 400 characters."),
    ],
)
def test_create_refusals(refused, body, code, attr, detail):
    """products/product_analytics/backend/api/insight.py: dashboards are primary keys of the
    project's live dashboards; the model's 400-character name."""
    refused("post", BASE, body, code, attr, detail)


@pytest.mark.parametrize("query", [False, [], "", 0])
def test_a_query_that_is_no_object_is_refused(client, refused, query):
    """products/product_analytics/backend/api/insight.py: QuerySchemaParser validates only a truthy
    query, so a false, empty list, empty text or 0 reaches QueryFieldSerializer.to_internal_value,
    which refuses anything but an object or null ("Query must be a valid JSON object", DRF's code
    invalid, reported as invalid_input); nothing is stored, on a create or an update."""
    detail = "Query must be a valid JSON object"
    refused("post", BASE, {"name": "No object", "query": query}, "invalid_input", "query", detail)
    refused("patch", f"{BASE}1/", {"query": query}, "invalid_input", "query", detail)
    assert client.post(BASE, json={"name": "Null query", "query": None}).status_code == 201


def test_saved_favorited_and_modification_times(client):
    """products/product_analytics/backend/api/insight.py: ?favorited and ?saved filter the list; an
    update saves the insight unless it says otherwise; only name, description and filters count as a
    modification (last_modified_at/by)."""
    unsaved = make(client, saved=False)
    assert unsaved["id"] in [row["id"] for row in client.get(f"{BASE}?saved=false").get_json()["results"]]
    assert unsaved["id"] not in [row["id"] for row in client.get(f"{BASE}?saved=true").get_json()["results"]]
    favorites = {row["name"] for row in client.get(f"{BASE}?favorited=1").get_json()["results"]}
    assert favorites == {"Weekly active users", "File shares per day"}
    query_only = client.patch(f"{BASE}{unsaved['id']}/", json={"query": TRENDS}).get_json()
    assert query_only["saved"] is True and query_only["last_modified_at"] == unsaved["last_modified_at"]
    renamed = client.patch(f"{BASE}{unsaved['id']}/", json={"name": "Renamed"}).get_json()
    assert renamed["last_modified_at"] > unsaved["last_modified_at"]


def test_list_filters_and_basic(client):
    """products/product_analytics/backend/api/insight.py: search over name, description and tags
    (apply_trigram_search: exact substrings, else the trigram-similar; an ?order= wins over its
    ranking);
    ?insight= by query kind; ?dashboards= (all of them); ?basic= answers InsightBasicSerializer;
    searches over 200 characters are refused."""
    found = client.get(f"{BASE}?search=KPI").get_json()["results"]
    assert {row["name"] for row in found} == {"Weekly active users", "Revenue by plan"}
    assert {row["search_match_type"] for row in found} == {"exact"}
    typo = client.get(f"{BASE}?search=revnue").get_json()["results"]
    assert [(row["name"], row["search_match_type"]) for row in typo] == [("Revenue by plan", "similar")]
    ordered = client.get(f"{BASE}?search=e&order=-id").get_json()["results"]
    assert [row["id"] for row in ordered] == sorted((row["id"] for row in ordered), reverse=True)
    funnels = {row["name"] for row in client.get(f"{BASE}?insight=FUNNELS").get_json()["results"]}
    assert funnels == {"Signup funnel", "Onboarding completion", "Time to first share"}
    both = client.get(f"{BASE}?dashboards=[1,2]").get_json()["results"]
    assert [row["name"] for row in both] == ["Signup funnel"]
    basic = client.get(f"{BASE}?basic=true&limit=1").get_json()["results"][0]
    assert "refreshing" in basic and "result" not in basic
    too_long = client.get(f"{BASE}?search={'x' * 201}")
    assert too_long.status_code == 400 and too_long.get_json()["attr"] == "search"


@pytest.mark.parametrize(
    "query, attr, detail",
    [
        ("dashboards=nope", "dashboards", "dashboards must be a JSON array."),
        ("dashboards=5", "dashboards", "dashboards must be a JSON array."),
        ('created_by={"id": 1}', "created_by", "created_by must be a JSON array."),
        ("tags=[[1]]", "tags", "tags must be a JSON array of tag names."),
        (
            "created_date_from=nope",
            "created_date_from",
            "created_date_from: not a date or a relative date like -7d.",
        ),
    ],
)
def test_list_parameters_that_cannot_be_read_are_refused(client, query, attr, detail):
    """products/product_analytics/backend/api/insight.py iterates json.loads of created_by,
    dashboards and tags (a 500 for text that is no JSON list there; a 400 here) and reads the date
    filters with relative_date_parse (a date, or -7d, -2w, -1m, -3h, -1y back from now)."""
    response = client.get(f"{BASE}?{query}")
    assert response.status_code == 400
    expected = {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": attr}
    assert response.get_json() == expected


def test_relative_dates_reach_back_as_far_as_asked(client):
    """A relative date further back than a datetime reaches keeps every insight (after it) and none
    (before it), instead of overflowing."""
    everything = client.get(f"{BASE}?created_date_from=-99999999999999d").get_json()
    assert everything["count"] == client.get(BASE).get_json()["count"] > 0
    assert client.get(f"{BASE}?created_date_to=-99999999999999d").get_json()["count"] == 0
    recent = client.get(f"{BASE}?created_date_from=2000-01-01&date_to=-0d").get_json()
    assert recent["count"] > 0


def test_last_viewed_is_annotated_in_lists_only(client):
    """products/product_analytics/backend/api/insight.py: create records a view; the list annotates
    last_viewed_at from views, other actions answer it as null."""
    made = make(client)
    listed = client.get(f"{BASE}?short_id={made['short_id']}").get_json()["results"][0]
    assert listed["last_viewed_at"] == made["created_at"]
    assert client.get(f"{BASE}{made['id']}/").get_json()["last_viewed_at"] is None


def test_from_dashboard_adds_the_tile_layout(client):
    """products/product_analytics/backend/api/insight.py: retrieve with ?from_dashboard= adds the
    tile's color and layouts."""
    body = client.get(f"{BASE}2/?from_dashboard=1").get_json()
    assert body["layouts"] == {"sm": {"x": 6, "y": 1, "w": 6, "h": 5}} and body["color"] is None


def test_action_references_come_from_insight_queries(client):
    """posthog/api/action.py: an action's references are the live insights whose query uses it (an
    ActionsNode), newest last; a deleted insight no longer counts."""
    query = {
        "kind": "InsightVizNode",
        "source": {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": 5}]},
    }
    insight = make(client, name="Upgrades", query=query)
    refs = client.get("/api/projects/1/actions/5/references/").get_json()
    assert refs == [
        {
            "type": "insight",
            "id": insight["short_id"],
            "name": "Upgrades",
            "url": f"/insights/{insight['short_id']}",
            "created_at": insight["created_at"],
            "created_by": USER,
        }
    ]
    counted = client.get("/api/projects/1/actions/?include_reference_count=1").get_json()["results"]
    assert {row["id"]: row["reference_count"] for row in counted}[6] == 1  # the seeded "Revenue by plan"
    client.patch(f"{BASE}{insight['id']}/", json={"deleted": True})
    assert client.get("/api/projects/1/actions/5/references/").get_json() == []


def test_viewed_and_my_last_viewed(client, refused):
    """insight.py viewed / my_last_viewed: POST viewed stamps the user's view of each live insight
    (201, no body; deleted or unknown ids are dropped); my_last_viewed answers InsightBasicSerializer
    for the last 5 viewed, most recent first, each with its view time (the shape retrieve answers
    with ?basic=true, get_serializer_class)."""
    made = make(client)
    response = client.post(f"{BASE}viewed/", json={"insight_ids": [3, 999]})
    assert response.status_code == 201 and response.data == b""
    client.post(f"{BASE}viewed/", json={"insight_ids": [made["id"]]})
    last = client.get(f"{BASE}my_last_viewed/").get_json()
    assert [row["id"] for row in last][:2] == [made["id"], 3] and len(last) <= 5
    assert set(last[0]) == set(client.get(f"{BASE}{made['id']}/?basic=true").get_json())
    assert last[0]["last_viewed_at"] >= last[1]["last_viewed_at"]
    client.patch(f"{BASE}{made['id']}/", json={"deleted": True})
    assert made["id"] not in [row["id"] for row in client.get(f"{BASE}my_last_viewed/").get_json()]
    refused("post", f"{BASE}viewed/", {}, "required", "insight_ids", "This field is required.")


def test_trending_ranks_by_recent_views(client):
    """insight.py trending: insights viewed in the last `days` (7), by view count then last
    modified, at most `limit`; InsightBasic plus view_count, viewers and last_modified_by, in the
    paginated envelope; bad numbers are a 400."""
    made = make(client)
    client.post(f"{BASE}viewed/", json={"insight_ids": [made["id"], 2]})
    body = client.get(f"{BASE}trending/?limit=2").get_json()
    assert (body["count"], body["next"], body["previous"]) == (len(body["results"]), None, None)
    assert {row["id"] for row in body["results"]} == {made["id"], 2}
    first = body["results"][0]
    assert first["view_count"] == 1 and first["viewers"] == [USER]
    assert client.get(f"{BASE}trending/?days=0").get_json()["count"] == 0
    bad = client.get(f"{BASE}trending/?days=week")
    assert bad.status_code == 400 and bad.get_json()["detail"] == "days and limit must be valid integers"


def test_exports_and_sharing_refuse_a_deleted_insight(client, backend):
    """Insight.objects hides soft-deleted insights: ExportedAssetSerializer's insight field refuses
    one (posthog/api/exports.py) and SharingConfigurationViewSet answers 404 (posthog/api/sharing.py);
    nothing is stored."""
    made = make(client)
    client.patch(f"{BASE}{made['id']}/", json={"deleted": True})
    before = backend.store.dump()
    export = client.post(
        "/api/projects/1/exports/", json={"insight": made["id"], "export_format": "text/csv"}
    )
    assert export.status_code == 400 and export.get_json() == {
        "type": "validation_error",
        "code": "does_not_exist",
        "detail": f'Invalid pk "{made["id"]}" - object does not exist.',
        "attr": "insight",
    }
    sharing = client.get(f"{BASE}{made['id']}/sharing/")
    assert sharing.status_code == 404 and sharing.get_json()["detail"] == "Insight not found."
    assert client.patch(f"{BASE}{made['id']}/sharing/", json={"enabled": True}).status_code == 404
    assert backend.store.dump() == before
