"""File system: the project tree, its filters and search, and its actions as PostHog serves them."""

import pytest
from seeded import USER as USER_BASIC

from mockhog.resources.file_system import short_id

BASE = "/api/projects/1/file_system/"
WAU = short_id(1)  # the seeded insight 1, "Weekly active users"
ENV_BASE = "/api/environments/1/file_system/"
SEEDED = 22  # 9 folders (8 from the profile + Unfiled/Insights), 10 insights, 3 dashboards


def rows(client, query=""):
    body = client.get(f"{BASE}?limit=1000{query}").get_json()
    return body["results"]


def paths(client, query=""):
    return [row["path"] for row in rows(client, query)]


def row_at(client, path):
    found = client.get(BASE, query_string={"path": path}).get_json()["results"]
    assert len(found) == 1, found
    return found[0]


def bare(detail):
    return {"detail": detail}


def invalid(detail, attr="detail", code="invalid_input"):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


# -- CRUD -------------------------------------------------------------------------------------
def test_round_trip(client):
    created = client.post(BASE, json={"path": "Tests/Deep/Plans", "type": "folder"})
    assert created.status_code == 201
    body = created.get_json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at")} == {
        "path": "Tests/Deep/Plans",
        "depth": 3,
        "type": "folder",
        "ref": None,
        "href": None,
        "meta": {},
        "shortcut": False,
        "created_by": USER_BASIC,
        "last_viewed_at": None,
        "user_access_level": None,
    }
    assert client.get(f"{BASE}{body['id']}/").get_json() == body
    assert body in rows(client)

    patched = client.patch(f"{BASE}{body['id']}/", json={"path": "Elsewhere/Plans", "href": "/x"}).get_json()
    assert patched == {**body, "path": "Elsewhere/Plans", "depth": 2, "href": "/x"}
    assert "Elsewhere" not in paths(client)  # PATCH creates no parent folders

    put = client.put(f"{BASE}{body['id']}/", json={"path": "Plans", "type": "folder"})
    assert put.status_code == 200
    assert put.get_json() == {**patched, "path": "Plans", "depth": 1}

    assert client.delete(f"{BASE}{body['id']}/").status_code == 204
    missing = client.get(f"{BASE}{body['id']}/")
    assert missing.status_code == 404
    assert missing.get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }


def test_create_makes_missing_parent_folders(client):
    client.post(BASE, json={"path": "Tests/Deep/Doc", "type": "doc"})
    for path, depth in (("Tests", 1), ("Tests/Deep", 2)):
        folder = row_at(client, path)
        assert (folder["type"], folder["depth"], folder["shortcut"]) == ("folder", depth, False)
    before = len(rows(client))
    client.post(BASE, json={"path": "Tests/Deep/Other", "type": "doc"})
    assert len(rows(client)) == before + 1  # parents now exist


def test_escaped_slash_stays_in_one_segment(client):
    body = client.post(BASE, json={"path": "Reports/Q1 \\/ Q2 review", "type": "doc"}).get_json()
    assert body["depth"] == 2
    assert "Reports/Q1 \\/ Q2 review" in paths(client)
    assert "Reports/Q1 " not in paths(client)


def test_create_stores_false_for_null_shortcut_and_keeps_true(client):
    assert client.post(BASE, json={"path": "A", "shortcut": None}).get_json()["shortcut"] is False
    assert client.post(BASE, json={"path": "B", "shortcut": True}).get_json()["shortcut"] is True


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"type": "doc"}, invalid("This field is required.", "path", "required")),
        ({"path": "   "}, invalid("This field may not be blank.", "path", "blank")),
        (
            {"path": "a", "type": "x" * 101},
            invalid("Ensure this field has no more than 100 characters.", "type", "max_length"),
        ),
        ({"path": "a", "type": None}, invalid("This field may not be null.", "type", "null")),
        ({"path": "a", "shortcut": "maybe"}, invalid("Must be a valid boolean.", "shortcut")),
    ],
)
def test_create_errors_change_nothing(client, backend, body, expected):
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert backend.store.dump() == before


def test_put_needs_path(client, backend):
    target = row_at(client, "Marketing")
    before = backend.store.dump()
    response = client.put(f"{BASE}{target['id']}/", json={"type": "folder"})
    assert response.get_json() == invalid("This field is required.", "path", "required")
    assert backend.store.dump() == before


def test_unknown_ids_are_404(client):
    assert client.get(f"{BASE}00000000-0000-4000-8000-000000000000/").status_code == 404
    assert client.get(f"{BASE}not-a-uuid/").status_code == 404


# -- list -------------------------------------------------------------------------------------
def test_list_is_ordered_by_lower_path_with_creators(client):
    client.post(BASE, json={"path": "aardvark", "type": "doc"})
    page = client.get(BASE).get_json()
    assert page["count"] == SEEDED + 1
    listed = [row["path"] for row in page["results"]]
    assert listed == sorted(listed, key=str.lower)
    assert listed[0] == "aardvark"
    assert page["users"] == [USER_BASIC]
    folders_only = client.get(f"{BASE}?type=folder").get_json()
    assert folders_only["users"] == []  # folders carry no meta.created_by


def test_pagination(client):
    page = client.get(f"{BASE}?limit=10&offset=10", base_url="http://127.0.0.1:8010").get_json()
    assert len(page["results"]) == 10
    assert page["next"] == "http://127.0.0.1:8010/api/projects/1/file_system/?limit=10&offset=20"
    assert page["previous"] == "http://127.0.0.1:8010/api/projects/1/file_system/?limit=10"
    seen, url = [], f"{BASE}?limit=7"
    while url:
        body = client.get(url).get_json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == SEEDED


def test_environments_prefix_is_the_same_tree(client):
    response = client.get(f"{ENV_BASE}?type=dashboard")
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "true"
    via_projects = [r["ref"] for r in rows(client, "&type=dashboard")]
    assert [r["ref"] for r in response.get_json()["results"]] == via_projects
    created = client.post(ENV_BASE, json={"path": "Via env", "type": "doc"}).get_json()
    assert client.get(f"{BASE}{created['id']}/").get_json() == created


def test_seed_files_every_insight_and_dashboard(client):
    items = rows(client, "&not_type=folder")
    assert sorted((r["type"], r["ref"]) for r in items) == sorted(
        [("insight", short_id(i)) for i in range(1, 11)] + [("dashboard", str(i)) for i in range(1, 4)]
    )
    names = {r["path"].rsplit("/", 1)[1] for r in items}
    assert {"Weekly active users", "Product KPIs", "Engineering health"} <= names
    for row in items:
        assert row["depth"] == row["path"].count("/") + 1
        assert row["meta"]["created_by"] == 1 and row["shortcut"] is False
        # get_file_system_representation: an insight's entry names it by its short_id, href too
        prefix = "/insights/" if row["type"] == "insight" else "/dashboard/"
        assert row["href"] == prefix + row["ref"]
    for folder in ("Marketing/Campaigns/Q2 launch", "Product/Onboarding", "Engineering/Reliability"):
        assert row_at(client, folder)["type"] == "folder"


def test_depth_filter_puts_folders_first(client):
    client.post(BASE, json={"path": "Alpha doc", "type": "doc"})
    top = rows(client, "&depth=1")
    assert [r["path"] for r in top] == ["Engineering", "Marketing", "Product", "Unfiled", "Alpha doc"]
    assert len(rows(client, "&depth=abc")) == SEEDED + 1  # a bad depth is ignored


@pytest.mark.parametrize(
    "query, check",
    [
        ("&parent=Marketing", lambda r: r["path"].startswith("Marketing/")),
        ("&type=dashboard", lambda r: r["type"] == "dashboard"),
        ("&not_type=folder", lambda r: r["type"] != "folder"),
        ("&type__startswith=dash", lambda r: r["type"] == "dashboard"),
        ("&path=Product/Onboarding", lambda r: r["path"] == "Product/Onboarding"),
    ],
)
def test_simple_filters(client, query, check):
    found = rows(client, query)
    assert found and all(check(r) for r in found)
    everything = rows(client)
    assert len([r for r in everything if check(r)]) == len(found)


def test_created_at_filters(client):
    everything = rows(client)
    moments = sorted(r["created_at"] for r in everything)
    middle = moments[len(moments) // 2]
    after = rows(client, f"&created_at__gt={middle}")
    before = rows(client, f"&created_at__lt={middle}")
    assert all(r["created_at"] > middle for r in after) and all(r["created_at"] < middle for r in before)
    assert len(after) + len(before) == SEEDED - 1


def test_ref_filter_orders_real_rows_before_shortcuts(client):
    original = next(r for r in rows(client, "&type=dashboard") if r["ref"] == "2")
    client.post(f"{BASE}{original['id']}/link/", json={"new_path": "Aaa/Growth link"})
    found = rows(client, "&ref=2&type=dashboard")
    assert [r["shortcut"] for r in found] == [False, True]


@pytest.mark.parametrize(
    "order_by, key, reverse",
    [
        ("path", "path", False),
        ("-path", "path", True),
        ("created_at", "created_at", False),
        ("-created_at", "created_at", True),
        ("bogus", "created_at", True),
    ],
)
def test_order_by(client, order_by, key, reverse):
    found = [r[key] for r in rows(client, f"&order_by={order_by}")]
    assert found == sorted(found, reverse=reverse)


@pytest.mark.parametrize(
    "search, expected",
    [
        ("name:funnel", ["Marketing/Campaigns/Q2 launch/Signup funnel"]),
        (
            "path:launch",
            [
                "Marketing/Campaigns/Q2 launch/Retention after first upload",
                "Marketing/Campaigns/Q2 launch/Signup funnel",
            ],
        ),
        (
            '"q2 launch" -type:folder',
            [
                "Marketing/Campaigns/Q2 launch/Retention after first upload",
                "Marketing/Campaigns/Q2 launch/Signup funnel",
            ],
        ),
        (
            "type:dashboard",
            [
                "Engineering/Reliability/Engineering health",
                "Engineering/Reliability/Growth",
                "Marketing/Campaigns/Product KPIs",
            ],
        ),
        ("ref:3 type:dashboard", ["Engineering/Reliability/Engineering health"]),
        (
            "engineering !type:folder",
            [
                "Engineering/Churned accounts",
                "Engineering/Reliability/Engineering health",
                "Engineering/Reliability/Growth",
            ],
        ),
        (
            "campaigns/q2",
            [
                "Marketing/Campaigns/Q2 launch",
                "Marketing/Campaigns/Q2 launch/Retention after first upload",
                "Marketing/Campaigns/Q2 launch/Signup funnel",
            ],
        ),
        ("user:nobody", []),
        ("name:", None),
    ],
)
def test_search_tokens(client, search, expected):
    found = paths(client, f"&search={search}")
    if expected is None:
        assert len(found) == SEEDED  # an empty value matches every basename
    else:
        assert found == expected


def test_search_by_creator(client):
    items = {r["path"] for r in rows(client)}
    mine = set(paths(client, "&search=user:me"))
    assert mine == items  # the seeded tree and its folders were all made by the default user
    assert set(paths(client, "&search=user:hedgehog")) == items
    assert set(paths(client, "&search=author:max@hedgebox")) == items
    assert paths(client, "&search=-user:me") == []


def test_search_name_only_and_escaped_slashes(client):
    client.post(BASE, json={"path": "Reports/Go\\/revenue", "type": "doc"})
    assert paths(client, "&search=go/revenue") == ["Reports/Go\\/revenue"]
    assert paths(client, "&search=reports&search_name_only=true") == ["Reports"]
    assert "Reports/Go\\/revenue" in paths(client, "&search=reports")


# -- actions: move / link ---------------------------------------------------------------------
def test_move_an_item_creates_parents(client):
    item = row_at(client, "Product/Time to first share")
    moved = client.post(f"{BASE}{item['id']}/move/", json={"new_path": "Archive/2025/Time to first share"})
    assert moved.status_code == 200
    assert moved.get_json() == {**item, "path": "Archive/2025/Time to first share", "depth": 3}
    archive = row_at(client, "Archive/2025")
    assert (archive["type"], archive["shortcut"]) == ("folder", None)


def test_move_a_folder_moves_its_contents(client):
    folder = row_at(client, "Marketing/Campaigns")
    moved = client.post(f"{BASE}{folder['id']}/move/", json={"new_path": "Growth/Campaigns"}).get_json()
    assert moved == {**folder, "path": "Growth/Campaigns", "depth": 2}
    assert paths(client, "&parent=Marketing/Campaigns") == []
    moved_paths = paths(client, "&parent=Growth/Campaigns")
    assert "Growth/Campaigns/Q2 launch/Signup funnel" in moved_paths
    assert row_at(client, "Growth/Campaigns/Q2 launch/Signup funnel")["depth"] == 4


def test_move_onto_an_existing_folder_merges(client):
    folder = row_at(client, "Product/Onboarding")
    merged = client.post(f"{BASE}{folder['id']}/move/", json={"new_path": "Engineering/Reliability"})
    assert merged.status_code == 200
    assert merged.get_json() == {**folder, "id": None}
    assert client.get(f"{BASE}{folder['id']}/").status_code == 404
    assert "Engineering/Reliability/Revenue by plan" in paths(client)


@pytest.mark.parametrize(
    "action, path, body, expected",
    [
        ("move", "Marketing", {}, "new_path is required"),
        ("move", "Marketing", {"new_path": ""}, "new_path is required"),
        ("move", "Marketing", {"new_path": "Marketing"}, "Cannot move folder into itself"),
        ("link", "Marketing", {"new_path": None}, "new_path is required"),
        ("link", "Marketing", {"new_path": "Marketing"}, "Cannot link folder into itself"),
    ],
)
def test_move_and_link_errors_are_bare(client, backend, action, path, body, expected):
    target = row_at(client, path)
    before = backend.store.dump()
    response = client.post(f"{BASE}{target['id']}/{action}/", json=body)
    assert response.status_code == 400
    assert response.get_json() == bare(expected)
    assert backend.store.dump() == before


def test_link_an_item_makes_a_shortcut(client):
    item = row_at(client, "Marketing/Weekly active users")
    linked = client.post(f"{BASE}{item['id']}/link/", json={"new_path": "Pinned/WAU"}).get_json()
    assert linked["id"] != item["id"]
    assert linked == {**item, "id": linked["id"], "path": "Pinned/WAU", "depth": 2, "shortcut": True}
    assert client.get(f"{BASE}{item['id']}/").get_json() == item


def test_link_a_folder_copies_its_contents_as_shortcuts(client):
    folder = row_at(client, "Engineering")
    linked = client.post(f"{BASE}{folder['id']}/link/", json={"new_path": "Team/Eng"}).get_json()
    assert (linked["path"], linked["shortcut"], linked["type"]) == ("Team/Eng", True, "folder")
    copies = rows(client, "&parent=Team/Eng")
    originals = rows(client, "&parent=Engineering")
    relative = sorted(r["path"][len("Team/Eng") :] for r in copies)
    assert relative == sorted(r["path"][len("Engineering") :] for r in originals)
    assert all(r["shortcut"] is True for r in copies)


# -- actions: count ---------------------------------------------------------------------------
def test_count_on_a_folder(client):
    folder = row_at(client, "Marketing")
    response = client.post(f"{BASE}{folder['id']}/count/")
    assert response.status_code == 200
    body = response.get_json()
    expected = rows(client, "&parent=Marketing")
    assert body["count"] == len(expected) == len(body["entries"]) and body["has_more"] is False
    keys = [(r["depth"], r["path"]) for r in body["entries"]]
    assert keys == sorted(keys)
    assert client.post(f"{BASE}count_by_path/?path=Marketing").get_json() == body


def test_count_has_more_past_200(client):
    for index in range(201):
        client.post(BASE, json={"path": f"Bulk/Doc {index:03d}", "type": "doc"})
    body = client.post(f"{BASE}count_by_path/?path=Bulk").get_json()
    assert (body["count"], len(body["entries"]), body["has_more"]) == (201, 200, True)


def test_count_errors_are_bare(client, backend):
    item = row_at(client, "Marketing/Weekly active users")
    before = backend.store.dump()
    response = client.post(f"{BASE}{item['id']}/count/")
    assert (response.status_code, response.get_json()) == (400, bare("Count can only be called on folders"))
    response = client.post(f"{BASE}count_by_path/")
    assert (response.status_code, response.get_json()) == (400, bare("path parameter is required"))
    assert backend.store.dump() == before


# -- actions: delete and undo -----------------------------------------------------------------
def test_deleting_the_last_row_soft_deletes_the_insight_and_undo_restores_it(client, backend):
    item = row_at(client, "Marketing/Weekly active users")
    response = client.delete(f"{BASE}{item['id']}/")
    assert response.status_code == 200
    assert response.get_json() == {
        "deleted": [
            {
                "type": "insight",
                "ref": WAU,
                "mode": "soft",
                "undo": "Send PATCH /api/projects/@current/insights/{id} with deleted=false.",
                "path": "Marketing/Weekly active users",
                "can_undo": True,
            }
        ]
    }
    assert backend.store.table(1, "insights").get(1)["_deleted"] is True
    assert "Marketing/Weekly active users" not in paths(client)

    undone = client.post(
        f"{BASE}undo_delete/",
        json={"items": [{"type": "insight", "ref": WAU, "path": "Restored/Weekly active users"}]},
    )
    assert undone.status_code == 200
    assert undone.get_json() == {"undone": [{"type": "insight", "ref": WAU}]}
    assert "_deleted" not in backend.store.table(1, "insights").get(1)
    restored = row_at(client, "Restored/Weekly active users")
    assert (restored["ref"], restored["href"], restored["shortcut"]) == (WAU, item["href"], False)
    assert row_at(client, "Restored")["type"] == "folder"


def test_undo_without_a_path_files_it_as_unfiled(client):
    item = row_at(client, "Marketing/Campaigns/Product KPIs")
    client.delete(f"{BASE}{item['id']}/")
    client.post(f"{BASE}undo_delete/", json={"items": [{"type": "dashboard", "ref": "1"}]})
    restored = row_at(client, "Unfiled/Dashboards/Product KPIs")
    assert (restored["type"], restored["ref"], restored["href"]) == ("dashboard", "1", "/dashboard/1")


def test_deleting_one_of_two_rows_keeps_the_object(client, backend):
    item = row_at(client, "Marketing/Weekly active users")
    client.post(BASE, json={"path": "Copies/WAU", "type": "insight", "ref": WAU})
    response = client.delete(f"{BASE}{item['id']}/")
    assert response.status_code == 204 and response.data == b""
    assert "_deleted" not in backend.store.table(1, "insights").get(1)


def test_deleting_a_shortcut_keeps_the_object(client, backend):
    item = row_at(client, "Marketing/Weekly active users")
    link = client.post(f"{BASE}{item['id']}/link/", json={"new_path": "WAU link"}).get_json()
    assert client.delete(f"{BASE}{link['id']}/").status_code == 204
    assert client.get(f"{BASE}{item['id']}/").status_code == 200
    assert "_deleted" not in backend.store.table(1, "insights").get(1)


def test_deleting_a_folder_deletes_everything_under_it(client, backend):
    folder = row_at(client, "Marketing/Campaigns")
    inside = rows(client, "&parent=Marketing/Campaigns&not_type=folder")
    response = client.delete(f"{BASE}{folder['id']}/")
    assert response.status_code == 200
    deleted = response.get_json()["deleted"]
    assert sorted((d["type"], d["ref"]) for d in deleted) == sorted((r["type"], r["ref"]) for r in inside)
    assert all(d["mode"] == "soft" and d["can_undo"] for d in deleted)
    assert rows(client, "&parent=Marketing/Campaigns") == []
    assert "Marketing/Campaigns" not in paths(client)
    insights = {row["short_id"]: row for row in backend.store.table(1, "insights").values()}
    for entry in deleted:
        obj = insights[entry["ref"]] if entry["type"] == "insight" else None
        obj = obj or backend.store.table(1, "dashboards").get(int(entry["ref"]))
        assert obj["_deleted"] is True


def test_deleting_an_empty_folder_is_204(client):
    folder = client.post(BASE, json={"path": "Empty", "type": "folder"}).get_json()
    assert client.delete(f"{BASE}{folder['id']}/").status_code == 204


def test_registered_type_without_its_object_is_a_hard_delete(client):
    flag = client.post(BASE, json={"path": "Flags/beta", "type": "feature_flag", "ref": "42"}).get_json()
    response = client.delete(f"{BASE}{flag['id']}/")
    assert response.status_code == 200
    assert response.get_json() == {
        "deleted": [
            {
                "type": "feature_flag",
                "ref": "42",
                "mode": "hard",
                "undo": "Send PATCH /api/projects/@current/feature_flags/{id} with deleted=false.",
                "path": "Flags/beta",
                "can_undo": False,
            }
        ]
    }


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"path": "Docs/readme", "type": "doc"}, "Cannot delete resources with type 'doc'."),
        ({"path": "Docs/untyped"}, "Cannot delete resources with type ''."),
        ({"path": "Docs/orphan", "type": "insight"}, "Cannot delete type 'insight' without a reference."),
    ],
)
def test_delete_refusals_change_nothing(client, backend, body, detail):
    entry = client.post(BASE, json=body).get_json()
    folder = row_at(client, "Docs")
    before = backend.store.dump()
    for target in (entry, folder):  # refused alone and as part of its folder
        response = client.delete(f"{BASE}{target['id']}/")
        assert response.status_code == 400
        assert response.get_json() == invalid(detail)
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"items": [{"type": "insight", "ref": WAU}]},
            invalid("Couldn't restore this. It may already be restored, or you may not have access to it."),
        ),
        (
            {"items": [{"type": "notebook", "ref": "1"}]},
            invalid("Couldn't restore this. It may already be restored, or you may not have access to it."),
        ),
        (
            {"items": [{"type": "insight", "ref": "999"}]},
            invalid("Couldn't restore this. It may already be restored, or you may not have access to it."),
        ),
        ({}, invalid("This field is required.", "items", "required")),
        ({"items": [{"type": "insight"}]}, invalid("This field is required.", "items__0__ref", "required")),
    ],
)
def test_undo_refusals_change_nothing(client, backend, body, expected):
    before = backend.store.dump()
    response = client.post(f"{BASE}undo_delete/", json=body)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert backend.store.dump() == before


def test_undo_is_all_or_nothing(client, backend):
    item = row_at(client, "Marketing/Weekly active users")
    client.delete(f"{BASE}{item['id']}/")
    before = backend.store.dump()
    body = {"items": [{"type": "insight", "ref": WAU}, {"type": "insight", "ref": short_id(2)}]}
    assert client.post(f"{BASE}undo_delete/", json=body).status_code == 400
    assert backend.store.dump() == before


# -- actions: views and recents ---------------------------------------------------------------
def view(client, kind, ref, viewed_at=None):
    body = {"type": kind, "ref": ref, **({"viewed_at": viewed_at} if viewed_at else {})}
    return client.post(f"{BASE}log_view/", json=body)


def test_log_view_records_views_newest_first(client):
    first = view(client, "insight", "1", "2025-05-01T10:00:00Z")
    assert first.status_code == 204 and first.data == b""
    view(client, "dashboard", "2", "2025-05-02T10:00:00Z")
    view(client, "insight", "3")
    views = client.get(f"{BASE}log_view/").get_json()
    assert [(v["type"], v["ref"]) for v in views] == [("insight", "3"), ("dashboard", "2"), ("insight", "1")]
    assert views[2] == {"type": "insight", "ref": "1", "viewed_at": "2025-05-01T10:00:00.000000Z"}
    assert [v["ref"] for v in client.get(f"{BASE}log_view/?type=insight").get_json()] == ["3", "1"]
    assert len(client.get(f"{BASE}log_view/?limit=1").get_json()) == 1
    # viewing again moves the one entry, it does not add another
    view(client, "insight", "1")
    assert [v["ref"] for v in client.get(f"{BASE}log_view/").get_json()] == ["1", "3", "2"]


def test_a_view_long_ago_keeps_a_four_digit_year(client):
    """A time before the year 1000 is written as DRF's isoformat writes it ("0709-..."); it was
    "709-...", which broke the answer's date-time schema (a 500 on the next list)."""
    assert view(client, "insight", "old", "0709-08-01T08:22:09.522Z").status_code == 204
    views = client.get(f"{BASE}log_view/")
    assert views.status_code == 200
    assert views.get_json()[0]["viewed_at"] == "0709-08-01T08:22:09.522000Z"


def test_views_show_as_last_viewed_at_and_recents(client):
    view(client, "insight", WAU, "2025-05-01T10:00:00Z")
    view(client, "dashboard", "2", "2025-05-03T10:00:00Z")
    wau = row_at(client, "Marketing/Weekly active users")
    assert wau["last_viewed_at"] == "2025-05-01T10:00:00.000000Z"
    recents = client.get(f"{BASE}?order_by=-last_viewed_at").get_json()
    assert [(r["type"], r["ref"]) for r in recents["results"]] == [("dashboard", "2"), ("insight", WAU)]
    assert (recents["count"], recents["next"], recents["previous"]) == (2, None, None)
    assert recents["users"] == [USER_BASIC]
    oldest = client.get(f"{BASE}?order_by=last_viewed_at&limit=1").get_json()["results"]
    assert [r["ref"] for r in oldest] == [WAU]
    assert client.get(f"{BASE}?order_by=-last_viewed_at&not_type=dashboard").get_json()["count"] == 1


@pytest.mark.parametrize(
    "method, url, body, expected",
    [
        ("post", "log_view/", {"type": "insight"}, invalid("This field is required.", "ref", "required")),
        (
            "post",
            "log_view/",
            {"type": "", "ref": "1"},
            invalid("This field may not be blank.", "type", "blank"),
        ),
        (
            "post",
            "log_view/",
            {"type": "insight", "ref": "1", "viewed_at": "yesterday"},
            invalid(
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                "viewed_at",
            ),
        ),
        (
            "get",
            "log_view/?limit=0",
            None,
            invalid("Ensure this value is greater than or equal to 1.", "limit", "min_value"),
        ),
    ],
)
def test_log_view_errors_change_nothing(client, backend, method, url, body, expected):
    before = backend.store.dump()
    response = getattr(client, method)(f"{BASE}{url}", json=body)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert backend.store.dump() == before


# -- actions: unfiled -------------------------------------------------------------------------
def test_unfiled_files_objects_without_a_row(client, backend):
    # objects made outside the tree (PostHog: before the file system existed)
    insight = {"id": 11, "name": "Net revenue", "created_at": "2025-05-20T08:00:00.000000Z"}
    backend.store.table(1, "insights").put(11, insight)
    dashboard = {"id": 4, "name": "Board/Investors", "created_at": "2025-05-21T08:00:00.000000Z"}
    backend.store.table(1, "dashboards").put(4, dashboard)
    assert client.get(f"{BASE}unfiled/?type=").get_json() == {"count": 0}
    assert client.get(f"{BASE}unfiled/?type=notebook").get_json() == {"count": 0}
    assert client.get(f"{BASE}unfiled/?type=insight").get_json() == {"count": 1}
    filed = row_at(client, "Unfiled/Insights/Net revenue")
    assert (filed["ref"], filed["href"]) == (short_id(11), f"/insights/{short_id(11)}")
    assert (filed["depth"], filed["created_at"]) == (3, "2025-05-20T08:00:00.000000Z")
    assert filed["meta"] == {"created_at": "2025-05-20 08:00:00+00:00", "created_by": 1}
    assert client.get(f"{BASE}unfiled/").get_json() == {"count": 1}
    board = row_at(client, "Unfiled/Dashboards/Board\\/Investors")
    assert (board["depth"], board["href"]) == (3, "/dashboard/4")
    assert row_at(client, "Unfiled/Dashboards")["type"] == "folder"
    assert client.get(f"{BASE}unfiled/").get_json() == {"count": 0}


def test_unfiled_skips_deleted_objects(client):
    item = row_at(client, "Marketing/Weekly active users")
    client.delete(f"{BASE}{item['id']}/")
    assert client.get(f"{BASE}unfiled/").get_json() == {"count": 0}


# -- today's bounds on what a client stores (posthog/api/file_system/file_system.py) ----------
DEEP = "/".join(f"level{n}" for n in range(51))


@pytest.mark.parametrize(
    "method, body, expected",
    [
        ("post", {"path": "Notes", "meta": []}, invalid("Meta must be an object.", "meta")),
        ("post", {"path": "Notes", "meta": "x"}, invalid("Meta must be an object.", "meta")),
        ("post", {"path": "Notes", "meta": None}, invalid("Meta must be an object.", "meta")),
        (
            "post",
            {"path": "Notes", "meta": {"blob": "x" * 1_000_000}},
            invalid("Meta must be smaller than 1 MB.", "meta"),
        ),
        ("post", {"path": "a" * 4001}, invalid("Path must be 4000 characters or fewer.", "path")),
        ("post", {"path": DEEP}, invalid("Path can be at most 50 levels deep.", "path")),
        ("patch", {"meta": [1]}, invalid("Meta must be an object.", "meta")),
        ("patch", {"path": DEEP}, invalid("Path can be at most 50 levels deep.", "path")),
    ],
)
def test_meta_and_path_bounds(client, backend, method, body, expected):
    """FileSystemSerializer.validate_meta (an object, under MAX_META_BYTES = 1,000,000) and
    validate_path (validate_file_system_path: MAX_PATH_LENGTH = 4000, MAX_PATH_SEGMENTS = 50), as
    posthog/api/file_system/file_system.py has them today: a 400 naming the field, nothing stored."""
    url = BASE if method == "post" else f"{BASE}{row_at(client, 'Marketing')['id']}/"
    before = backend.store.dump()
    response = getattr(client, method)(url, json=body)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert backend.store.dump() == before


def test_the_bounds_themselves_are_accepted(client):
    """Exactly 50 segments and exactly 4000 characters are allowed (the checks are `>`)."""
    fifty = "/".join(f"l{n}" for n in range(50))
    assert client.post(BASE, json={"path": fifty, "type": "folder"}).status_code == 201
    assert client.post(BASE, json={"path": "b" * 4000}).status_code == 201


@pytest.mark.parametrize("action", ["move", "link"])
def test_move_and_link_bound_the_new_path(client, backend, action):
    """move and link run validate_file_system_path on new_path in the view: an envelope 400 with
    no attr (a bare ValidationError), nothing moved or linked, no parent folders made."""
    target = row_at(client, "Marketing")
    before = backend.store.dump()
    response = client.post(f"{BASE}{target['id']}/{action}/", json={"new_path": DEEP})
    assert response.status_code == 400
    assert response.get_json() == invalid("Path can be at most 50 levels deep.", None)
    assert backend.store.dump() == before


def test_undo_delete_bounds_every_path_before_restoring(client, backend):
    """UndoDeleteItemSerializer.validate_path: the whole request is refused before any item is
    restored (attr names the item)."""
    before = backend.store.dump()
    items = [{"type": "insight", "ref": WAU}, {"type": "insight", "ref": short_id(2), "path": "x" * 4001}]
    response = client.post(f"{BASE}undo_delete/", json={"items": items})
    assert response.status_code == 400
    assert response.get_json() == invalid("Path must be 4000 characters or fewer.", "items__1__path")
    assert backend.store.dump() == before


def test_entries_carry_their_creator_and_access_level(client):
    """FileSystemSerializer today adds created_by (UserBasic, null when unknown) and user_access_level
    (FileSystemAccessLevelSerializerMixin, posthog/api/file_system/access_levels.py): the level of the
    object behind an access-controlled type with a ref (an organization admin has "manager"), null for
    folders and other types."""
    insight = rows(client, "&type=insight")[0]
    folder = row_at(client, "Marketing")
    assert insight["created_by"] == USER_BASIC and insight["user_access_level"] == "manager"
    assert folder["user_access_level"] is None
    made = client.post(BASE, json={"path": "Notes/Link", "type": "link", "ref": "x"}).get_json()
    assert made["created_by"] == USER_BASIC and made["user_access_level"] is None
