"""The viewset table (mockhog/spec/viewsets.toml): its keys in DRF's terms, the order both tiers
share, and rows that name real tables."""

from __future__ import annotations

import tomllib

import pytest

from mockhog.catalog import Catalog
from mockhog.spec import Spec
from mockhog.spec.viewsets import VIEWSETS, VIEWSETS_FILE, Unique, Upsert, Viewset, load_viewsets, order_rows


def test_an_unknown_key_is_refused(tmp_path):
    path = tmp_path / "viewsets.toml"
    path.write_text('[viewsets.actions]\nsoft_deleted = "forbid_destroy"\n')
    with pytest.raises(ValueError, match=r"viewsets\.actions: unknown key 'soft_deleted'"):
        load_viewsets(path)


def test_a_soft_delete_kind_is_one_of_two(tmp_path):
    path = tmp_path / "viewsets.toml"
    path.write_text("[viewsets.actions]\nsoft_delete = true\n")
    with pytest.raises(ValueError, match="soft_delete"):
        load_viewsets(path)


def test_every_row_names_a_table_mockhog_serves():
    catalog_tables = set(Catalog.load().resources)
    generic_tables = {op.table for op in Spec.load().operations}
    assert set(VIEWSETS) <= catalog_tables | generic_tables, set(VIEWSETS) - catalog_tables - generic_tables


def test_every_row_says_why():
    rows = tomllib.loads(VIEWSETS_FILE.read_text())["viewsets"]
    assert all(row.get("why") for row in rows.values())


def test_the_rows_read_as_drf_terms():
    folder = VIEWSETS["persisted_folder"]
    assert folder.owner == "_user" and folder.ordering == ("Lower(type)",)
    assert folder.upsert == Upsert(lookup=("type",), defaults=("protocol", "path"))
    assert VIEWSETS["annotations"].page_size == 1000
    assert VIEWSETS["actions"].soft_delete == "forbid_destroy" and VIEWSETS["actions"].retrieve_deleted


def test_order_rows_is_a_querysets_order():
    rows = [
        {"id": 1, "name": "beta", "at": "2024-01-02"},
        {"id": 2, "name": "Alpha", "at": None},
        {"id": 3, "name": "alpha", "at": "2024-01-03"},
    ]
    assert [r["id"] for r in order_rows(rows, ("Lower(name)", "id"))] == [2, 3, 1]
    assert [r["id"] for r in order_rows(rows, ("-at", "id"))] == [3, 1, 2]  # None sorts first
    assert [r["id"] for r in order_rows(rows, ("name",))] == [2, 3, 1]  # case-sensitive: "A" < "a"


# -- the same keys in the generic tier -------------------------------------------------------------
FEATURES = "/api/projects/1/early_access_feature/"


@pytest.fixture
def feature_row(backend, monkeypatch):
    """A row for a generic table (early access features), as viewsets.toml would give it."""

    def use(**keys):
        monkeypatch.setattr(
            backend.generic, "viewsets", {**VIEWSETS, "early_access_feature": Viewset(**keys)}
        )

    return use


def test_a_generic_unique_constraint_refuses_a_clash_and_changes_nothing(client, backend, feature_row):
    feature_row(unique=(Unique(("name",), "A feature named {name} exists (ID {id})."),))
    first = client.post(FEATURES, json={"name": "Beta", "stage": "beta"}).get_json()
    before = backend.store.dump()
    clash = client.post(FEATURES, json={"name": "Beta", "stage": "alpha"})
    assert clash.status_code == 400
    assert clash.get_json() == {
        "type": "validation_error",
        "code": "unique",
        "detail": f"A feature named Beta exists (ID {first['id']}).",
        "attr": "name",
    }
    assert backend.store.dump() == before
    other = client.post(FEATURES, json={"name": "Gamma", "stage": "beta"}).get_json()
    renamed = client.patch(f"{FEATURES}{other['id']}/", json={"name": "Beta"})
    assert renamed.status_code == 400 and renamed.get_json()["code"] == "unique"
    assert client.patch(f"{FEATURES}{first['id']}/", json={"name": "Beta"}).status_code == 200  # itself


def test_a_generic_create_as_upsert_updates_the_match(client, feature_row):
    feature_row(upsert=Upsert(lookup=("name",), defaults=("description",)))
    first = client.post(FEATURES, json={"name": "Beta", "stage": "beta", "description": "one"})
    count = client.get(f"{FEATURES}?limit=1").get_json()["count"]
    again = client.post(FEATURES, json={"name": "Beta", "stage": "beta", "description": "two"})
    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["description"] == "two"
    assert client.get(f"{FEATURES}?limit=1").get_json()["count"] == count


def test_a_generic_owner_scopes_the_queryset_to_the_requesting_user(client, feature_row):
    seeded = client.get(FEATURES).get_json()["results"]
    assert seeded  # the seed's features have no owner field: nobody's
    feature_row(owner="_owner")
    assert client.get(FEATURES).get_json()["results"] == []
    assert client.get(f"{FEATURES}{seeded[0]['id']}/").status_code == 404
    mine = client.post(FEATURES, json={"name": "Mine", "stage": "beta"}).get_json()
    assert [row["id"] for row in client.get(FEATURES).get_json()["results"]] == [mine["id"]]
    assert "_owner" not in mine


FORBID_DESTROY_TABLES = sorted(name for name, row in VIEWSETS.items() if row.soft_delete == "forbid_destroy")


@pytest.mark.parametrize("table", [*FORBID_DESTROY_TABLES, "notebooks"])
def test_forbid_destroy_answers_one_way_before_any_lookup(client, backend, table):
    """posthog/api/forbid_destroy_model.py: ForbidDestroyModel.destroy is Response(status=405), run
    by DRF's APIView.dispatch after initial()'s permission checks and before any get_object, so a
    known and an unknown id get the same answer: no body, no Content-Type (Response.rendered_content
    deletes it when the render is empty), and the Allow header APIView.finalize_response copies from
    default_response_headers (the detail route's methods). The rows' families and a generic
    ForbidDestroyModel (notebooks, whose document answers DELETE only with 405) share it."""
    url = f"/api/projects/1/{table}/"
    known = client.get(url).get_json()["results"][0]
    lookup = known.get("short_id") if table == "notebooks" else known["id"]
    before = backend.store.dump()
    for key in (lookup, 999999):
        response = client.delete(f"{url}{key}/")
        assert response.status_code == 405 and response.data == b""
        assert "Content-Type" not in response.headers
        assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    assert backend.store.dump() == before
    assert client.get(f"{url}{lookup}/").status_code == 200
