"""The viewset table (mockhog/spec/viewsets.toml): its keys in DRF's terms, the order both tiers
share, and rows that name real tables."""

from __future__ import annotations

import tomllib
from dataclasses import replace

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
    # NULL sorts as Postgres sorts it: first descending, last ascending
    assert [r["id"] for r in order_rows(rows, ("-at", "id"))] == [2, 3, 1]
    assert [r["id"] for r in order_rows(rows, ("at", "id"))] == [1, 3, 2]
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


# -- search, filters and alternate lookups in the verified tier -------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('search_fields = "name"', "search_fields is a list of field names"),
        ('lookup_alternates = "short_id"', "lookup_alternates is a list of field names"),
        ('restore_deleted = "yes"', "restore_deleted is true or false"),
        ("search_max_length = 0", "search_max_length is a positive integer"),
    ],
)
def test_a_key_of_the_wrong_kind_is_refused_at_load(tmp_path, text, message):
    path = tmp_path / "viewsets.toml"
    path.write_text(f"[viewsets.insights]\n{text}\n")
    with pytest.raises(ValueError, match=rf"viewsets\.insights: {message}"):
        load_viewsets(path)


def test_the_insights_row_holds_its_lookups_filters_and_search():
    """products/product_analytics/backend/api/insight.py: filterset_fields = ['short_id'];
    safely_get_object falls back to short_id; a partial_update with deleted False sees deleted
    insights; search over name, derived_name, description and tag names (MAX_SEARCH_LENGTH)."""
    insights = VIEWSETS["insights"]
    assert insights.filters == ("short_id",) and insights.lookup_alternates == ("short_id",)
    assert insights.restore_deleted and insights.search_max_length == 200
    assert insights.search_fields == ("name", "derived_name", "description", "tags")


@pytest.fixture
def verified_row(backend, monkeypatch):
    """Swap a verified resource's row (as a different viewsets.toml would give it)."""

    def use(resource, **keys):
        current = backend.resources[resource].viewset
        monkeypatch.setattr(backend.resources[resource], "viewset", replace(current, **keys))

    return use


ACTIONS = "/api/projects/1/actions/"


def test_the_verified_search_reads_the_rows_search_fields(client, verified_row):
    """posthog/api/action.py: the actions list's ?search= is over the name; the row says so, and a
    row naming another field searches that field instead (nothing in the resource's code does)."""
    made = client.post(ACTIONS, json={"name": "Row search", "description": "onboarding funnel"}).get_json()
    named = [row["id"] for row in client.get(f"{ACTIONS}?search=ROW%20SEARCH").get_json()["results"]]
    assert made["id"] in named
    assert client.get(f"{ACTIONS}?search=onboarding").get_json()["results"] == []
    verified_row("actions", search_fields=("description",))
    found = [row["id"] for row in client.get(f"{ACTIONS}?search=onboarding").get_json()["results"]]
    assert found == [made["id"]]
    verified_row("actions", search_fields=("description",), search_max_length=5)
    too_long = client.get(f"{ACTIONS}?search=onboarding")
    assert too_long.status_code == 400
    assert too_long.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Search query must be 5 characters or fewer.",
        "attr": "search",
    }


def test_the_verified_filters_and_lookups_read_the_row(client, verified_row):
    """products/product_analytics/backend/api/insight.py: the short_id lookup (safely_get_object)
    and the ?short_id= filter (filterset_fields) come from the insights row: without them in the
    row, the detail route finds no insight by short_id and the list filters nothing."""
    url = "/api/projects/1/insights/"
    made = client.post(url, json={"name": "Row driven"}).get_json()
    assert client.get(f"{url}{made['short_id']}/").get_json()["id"] == made["id"]
    listed = client.get(f"{url}?short_id={made['short_id']}").get_json()["results"]
    assert [row["id"] for row in listed] == [made["id"]]
    assert len(client.get(f"{url}?short_id=").get_json()["results"]) > 1  # blank: no filter
    verified_row("insights", lookup_alternates=(), filters=())
    assert client.get(f"{url}{made['short_id']}/").status_code == 404
    assert len(client.get(f"{url}?short_id={made['short_id']}").get_json()["results"]) > 1


def test_restore_deleted_lets_only_the_restoring_patch_find_a_deleted_row(client, backend):
    """insight.py's dangerously_get_queryset: deleted insights are in the queryset only for a
    partial_update whose data has deleted False; a retrieve or another PATCH gets 404, and the
    404 changes nothing."""
    url = "/api/projects/1/insights/"
    made = client.post(url, json={"name": "Gone soon"}).get_json()
    client.patch(f"{url}{made['id']}/", json={"deleted": True})
    before = backend.store.dump()
    assert client.get(f"{url}{made['id']}/").status_code == 404
    assert client.patch(f"{url}{made['id']}/", json={"name": "x"}).status_code == 404
    assert backend.store.dump() == before
    restored = client.patch(f"{url}{made['short_id']}/", json={"deleted": False})
    assert restored.status_code == 200 and restored.get_json()["deleted"] is False


# -- PostHog's own facts on generic rows ------------------------------------------------------------
ROLES = "/api/organizations/@current/roles/"


def test_a_generic_role_name_is_unique_case_insensitively_and_a_clash_changes_nothing(client, backend):
    """ee/api/rbac/role.py: RoleSerializer.validate_name looks for another role of the
    organization with name__iexact and raises "There is already a role with this name." with code
    unique (the serializer's 400 on name); the role itself may keep its name."""
    made = client.post(ROLES, json={"name": "Engineering"}).get_json()
    before = backend.store.dump()
    for clash in (
        client.post(ROLES, json={"name": "ENGINEERING"}),
        client.post(ROLES, json={"name": "Engineering"}),
    ):
        assert clash.status_code == 400
        assert clash.get_json() == {
            "type": "validation_error",
            "code": "unique",
            "detail": "There is already a role with this name.",
            "attr": "name",
        }
    assert backend.store.dump() == before
    other = client.post(ROLES, json={"name": "Support"}).get_json()
    renamed = client.patch(f"{ROLES}{other['id']}/", json={"name": "engineering"})
    assert renamed.status_code == 400 and renamed.get_json()["code"] == "unique"
    assert client.get(f"{ROLES}{other['id']}/").get_json()["name"] == "Support"
    assert client.patch(f"{ROLES}{made['id']}/", json={"name": "Engineering"}).status_code == 200


def test_deleting_a_generic_role_deletes_its_memberships(client, backend):
    """ee/models/rbac/role.py: RoleMembership.role is a ForeignKey with on_delete=CASCADE, so a
    role's DELETE takes its memberships with it; another role's stay."""
    from mockhog.spec.viewsets import organization_scope

    kept, gone = (client.post(ROLES, json={"name": name}).get_json() for name in ("Kept", "Gone"))
    for role in (kept, gone):
        made = client.post(f"{ROLES}{role['id']}/role_memberships/", json={"user_uuid": backend.user["uuid"]})
        assert made.status_code == 201
    assert client.get(f"{ROLES}{gone['id']}/role_memberships/").get_json()["count"] == 1
    assert client.delete(f"{ROLES}{gone['id']}/").status_code == 204
    table = backend.store.table(
        organization_scope(backend.world.organization["id"]), "organizations/roles/role_memberships"
    )
    parents = [row["_parent"]["role_id"] for row in table.values() if row.get("_parent")]
    assert gone["id"] not in parents and kept["id"] in parents
    assert client.get(f"{ROLES}{kept['id']}/role_memberships/").get_json()["count"] == 1


def test_generic_role_memberships_list_in_joining_order(client, backend):
    """ee/api/rbac/role.py: RoleMembershipViewSet's queryset is order_by("joined_at", "id")."""
    role = client.post(ROLES, json={"name": "Ordered"}).get_json()
    url = f"{ROLES}{role['id']}/role_memberships/"
    for _ in range(3):
        client.post(url, json={"user_uuid": backend.user["uuid"]})
    listed = client.get(url).get_json()["results"]
    assert [(row["joined_at"], row["id"]) for row in listed] == sorted(
        (row["joined_at"], row["id"]) for row in listed
    )


def test_a_unique_entry_with_an_unknown_key_is_refused_at_load(tmp_path):
    path = tmp_path / "viewsets.toml"
    path.write_text('[viewsets.actions]\nunique = [{ fields = ["name"], message = "m", nonfield = true }]\n')
    with pytest.raises(ValueError, match=r"viewsets\.actions: unique has no key 'nonfield'"):
        load_viewsets(path)


RELEASES = "/api/environments/1/error_tracking/releases/"


def test_a_generic_release_hash_id_in_use_is_refused_without_an_attr(client, backend):
    """products/error_tracking/backend/api/releases.py: validate_hash_id raises
    ValidationError(f"Hash id {hash_id} already in use") (a non-field error: no attr, DRF's code
    invalid) when another release of the team has it, on create and on an update that changes the
    hash_id; the release itself may send its own hash_id again. A refusal changes nothing."""
    first = client.post(RELEASES, json={"hash_id": "abc123", "version": "1.0", "project": "web"}).get_json()
    other = client.post(RELEASES, json={"hash_id": "def456", "version": "1.1", "project": "web"}).get_json()
    before = backend.store.dump()
    refused = {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Hash id abc123 already in use",
        "attr": None,
    }
    again = client.post(RELEASES, json={"hash_id": "abc123", "version": "2.0", "project": "web"})
    assert (again.status_code, again.get_json()) == (400, refused)
    moved = client.patch(f"{RELEASES}{other['id']}/", json={"hash_id": "abc123"})
    assert (moved.status_code, moved.get_json()) == (400, refused)
    assert backend.store.dump() == before
    assert client.get(f"{RELEASES}{other['id']}/").get_json()["hash_id"] == "def456"
    # its own hash_id is no clash (PostHog's update answers 204 {"ok": true}; the generic tier, 200)
    assert client.patch(f"{RELEASES}{first['id']}/", json={"hash_id": "abc123"}).status_code < 300


def test_a_blank_release_hash_id_is_the_servers(client):
    """products/error_tracking/backend/presentation/releases.py: _validated_hash_id reads a falsy
    hash_id as none, so a create without one (or with "") gets a generated one, never a clash
    between blanks, and an update with a blank one keeps the stored hash_id. (Today's create also
    takes null or no hash_id; the generic tier's October 2025 ErrorTrackingRelease requires one.)"""
    made = [
        client.post(RELEASES, json={"hash_id": "", "version": version, "project": "web"})
        for version in ("1.0", "1.0.1", "1.0.2")
    ]
    assert [answer.status_code for answer in made] == [201, 201, 201]
    hashes = [answer.get_json()["hash_id"] for answer in made]
    assert all(hashes) and len(set(hashes)) == 3
    release = made[0].get_json()
    assert client.patch(f"{RELEASES}{release['id']}/", json={"hash_id": ""}).status_code < 300
    assert client.get(f"{RELEASES}{release['id']}/").get_json()["hash_id"] == release["hash_id"]
