"""Persisted folders: per-user rows, one per type, where create is an upsert."""

import pytest

BASE = "/api/environments/1/persisted_folder/"
PROJECT_BASE = "/api/projects/1/persisted_folder/"


def listed(client):
    return client.get(BASE).get_json()["results"]


def invalid(detail, attr, code):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def test_seeded_pinned_folder(client):
    page = client.get(BASE).get_json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    pinned = page["results"][0]
    assert {k: pinned[k] for k in ("type", "protocol", "path")} == {
        "type": "pinned",
        "protocol": "products://",
        "path": "",
    }
    assert pinned["created_at"] == pinned["updated_at"]


def test_round_trip(client):
    created = client.post(BASE, json={"type": "home", "protocol": "project://", "path": "Marketing"})
    assert created.status_code == 201
    body = created.get_json()
    assert list(body) == ["id", "type", "protocol", "path", "created_at", "updated_at"]
    assert (body["type"], body["protocol"], body["path"]) == ("home", "project://", "Marketing")
    assert client.get(f"{BASE}{body['id']}/").get_json() == body
    assert body in listed(client)

    patched = client.patch(f"{BASE}{body['id']}/", json={"path": "Product"}).get_json()
    assert patched["path"] == "Product" and patched["protocol"] == "project://"
    assert patched["updated_at"] > body["updated_at"] and patched["created_at"] == body["created_at"]

    put = client.put(f"{BASE}{body['id']}/", json={"type": "home", "protocol": "shortcuts://"})
    assert put.status_code == 200
    kept = {k: put.get_json()[k] for k in ("protocol", "path")}
    assert kept == {"protocol": "shortcuts://", "path": "Product"}

    assert client.delete(f"{BASE}{body['id']}/").status_code == 204
    assert client.get(f"{BASE}{body['id']}/").status_code == 404


def test_create_defaults(client):
    body = client.post(BASE, json={"type": "custom_products"}).get_json()
    assert (body["protocol"], body["path"]) == ("products://", "")


def test_create_is_an_upsert_per_type(client):
    first = client.post(BASE, json={"type": "home", "protocol": "project://", "path": "Marketing"}).get_json()
    again = client.post(BASE, json={"type": "home"})
    assert again.status_code == 201
    body = again.get_json()
    assert body["id"] == first["id"] and body["created_at"] == first["created_at"]
    assert (body["protocol"], body["path"]) == ("products://", "")  # omitted fields go back to defaults
    assert body["updated_at"] > first["updated_at"]
    assert [row["type"] for row in listed(client)].count("home") == 1


def test_list_is_ordered_by_type(client):
    client.post(BASE, json={"type": "home"})
    client.post(BASE, json={"type": "custom_products"})
    assert [row["type"] for row in listed(client)] == ["custom_products", "home", "pinned"]


def test_projects_prefix_serves_the_same_rows(client):
    response = client.get(PROJECT_BASE)
    assert response.status_code == 200 and "Deprecation" not in response.headers
    assert response.get_json()["results"] == listed(client)


def test_pagination(client):
    client.post(BASE, json={"type": "home"})
    client.post(BASE, json={"type": "custom_products"})
    page = client.get(f"{BASE}?limit=2", base_url="http://127.0.0.1:8010").get_json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert page["next"] == "http://127.0.0.1:8010/api/environments/1/persisted_folder/?limit=2&offset=2"
    last = client.get(f"{BASE}?limit=2&offset=2").get_json()
    assert [row["type"] for row in last["results"]] == ["pinned"]


@pytest.mark.parametrize(
    "method, body, expected",
    [
        ("post", {}, invalid("This field is required.", "type", "required")),
        ("post", {"type": "desktop"}, invalid('"desktop" is not a valid choice.', "type", "invalid_choice")),
        (
            "post",
            {"type": "home", "protocol": "p" * 65},
            invalid("Ensure this field has no more than 64 characters.", "protocol", "max_length"),
        ),
        (
            "post",
            {"type": "home", "protocol": ""},
            invalid("This field may not be blank.", "protocol", "blank"),
        ),
        ("post", {"type": "home", "path": None}, invalid("This field may not be null.", "path", "null")),
        ("put", {"path": "x"}, invalid("This field is required.", "type", "required")),
        ("patch", {"type": "nope"}, invalid('"nope" is not a valid choice.', "type", "invalid_choice")),
    ],
)
def test_errors_change_nothing(client, backend, method, body, expected):
    pinned = listed(client)[0]
    url = BASE if method == "post" else f"{BASE}{pinned['id']}/"
    before = backend.store.dump()
    response = getattr(client, method)(url, json=body)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert backend.store.dump() == before


def test_changing_type_onto_a_taken_type_is_refused(client, refused):
    home = client.post(BASE, json={"type": "home"}).get_json()
    refused(
        "patch",
        f"{BASE}{home['id']}/",
        {"type": "pinned"},
        "unique",
        "type",
        "You already have a pinned folder.",
    )
