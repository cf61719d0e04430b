"""Sharing configurations of insights, dashboards and recordings, as PostHog's sharing viewset serves them."""

import re

import pytest

INSIGHT = "/api/projects/1/insights/{}/sharing/"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{30}$")
PASSWORD_REQUIRED = {"error": "Password protection must be enabled before creating passwords"}


def _unchanged(backend, before):
    assert backend.store.dump() == before


def test_seeded_insight_config_is_one_object_with_its_active_passwords(client):
    response = client.get(INSIGHT.format(1))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "created_at",
        "enabled",
        "access_token",
        "settings",
        "password_required",
        "share_passwords",
    }
    assert body["enabled"] is True and body["password_required"] is True
    assert TOKEN.match(body["access_token"])
    assert [(p["id"], p["note"], p["is_active"]) for p in body["share_passwords"]] == [
        (1, "Board members", True)
    ]
    assert body["share_passwords"][0]["created_by_email"] == "max@hedgebox.dev"
    # same object under the environments prefix, and it stays the same between reads
    assert client.get("/api/environments/1/insights/1/sharing").get_json() == body


def test_unshared_insight_answers_an_unsaved_config_and_stores_nothing(client, backend):
    before = backend.store.dump()
    first = client.get(INSIGHT.format(4)).get_json()
    second = client.get(INSIGHT.format(4)).get_json()
    assert {k: v for k, v in first.items() if k != "access_token"} == {
        "created_at": None,
        "enabled": False,
        "settings": None,
        "password_required": False,
        "share_passwords": [],
    }
    assert TOKEN.match(first["access_token"]) and first["access_token"] != second["access_token"]
    _unchanged(backend, before)


@pytest.mark.parametrize(
    "path, detail",
    [
        ("insights/99/sharing/", "Insight not found."),
        ("insights/99/sharing/refresh/", "Insight not found."),
        ("dashboards/42/sharing/", "Dashboard not found."),
    ],
)
def test_unknown_parent_is_404_and_changes_nothing(client, backend, path, detail):
    before = backend.store.dump()
    method = client.post if path.endswith("refresh/") else client.get
    response = method(f"/api/projects/1/{path}")
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": detail,
        "attr": None,
    }
    _unchanged(backend, before)


def test_any_recording_id_can_be_shared(client):
    base = "/api/environments/1/session_recordings/0197a3d0-any-id/sharing/"
    assert client.get(base).get_json()["created_at"] is None
    saved = client.patch(base, json={"enabled": True}).get_json()
    assert saved["enabled"] is True and saved["created_at"] is not None
    assert client.get(base).get_json() == saved


def test_patch_saves_once_and_keeps_the_token(client):
    saved = client.patch(INSIGHT.format(4), json={"enabled": True}).get_json()
    assert saved["enabled"] is True and saved["created_at"] and TOKEN.match(saved["access_token"])
    assert client.get(INSIGHT.format(4)).get_json() == saved
    again = client.patch(INSIGHT.format(4), json={"enabled": False}).get_json()
    assert again == {**saved, "enabled": False}


def test_settings_keep_known_flags_as_booleans(client):
    body = {"settings": {"whitelabel": "yes", "legend": 0, "noHeader": None, "theme": "dark"}}
    saved = client.patch(INSIGHT.format(3), json=body).get_json()
    assert saved["settings"] == {"legend": False, "whitelabel": True}
    assert client.patch(INSIGHT.format(3), json={"settings": None}).get_json()["settings"] is None


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"settings": "dark"}, "invalid_input", "settings", "Invalid settings format"),
        ({"settings": {"legend": "sometimes"}}, "invalid_input", "settings", "Invalid settings format"),
        ({"enabled": "maybe"}, "invalid_input", "enabled", "Must be a valid boolean."),
        ({"password_required": None}, "null", "password_required", "This field may not be null."),
    ],
)
def test_patch_errors_change_nothing(client, backend, body, code, attr, detail):
    before = backend.store.dump()
    response = client.patch(INSIGHT.format(2), json=body)
    assert response.status_code == 400
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    _unchanged(backend, before)


def test_passwords_need_password_protection_first(client, backend):
    before = backend.store.dump()
    response = client.post(INSIGHT.format(2) + "passwords/", json={"raw_password": "long-enough"})
    assert response.status_code == 400 and response.get_json() == PASSWORD_REQUIRED
    # the check comes before the body's own validation, as in PostHog
    short = client.post(INSIGHT.format(2) + "passwords/", json={"raw_password": "short"})
    assert short.status_code == 400 and short.get_json() == PASSWORD_REQUIRED
    _unchanged(backend, before)


def test_create_password_shows_the_raw_password_once(client, backend):
    client.patch(INSIGHT.format(5), json={"password_required": True})
    response = client.post(
        INSIGHT.format(5) + "passwords/", json={"raw_password": "hunter2-hunter2", "note": "Press"}
    )
    assert response.status_code == 201
    made = response.get_json()
    assert set(made) == {"id", "password", "note", "created_at", "created_by_email"}
    assert made["password"] == "hunter2-hunter2" and made["note"] == "Press"
    assert made["created_by_email"] == "max@hedgebox.dev"
    listed = client.get(INSIGHT.format(5)).get_json()["share_passwords"]
    assert listed == [
        {**{k: made[k] for k in ("id", "created_at", "note", "created_by_email")}, "is_active": True}
    ]
    assert "hunter2-hunter2" not in repr(backend.store.dump())  # only a hash is kept


def test_create_password_without_one_makes_a_random_one(client):
    client.patch(INSIGHT.format(5), json={"password_required": True})
    made = client.post(INSIGHT.format(5) + "passwords/").get_json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", made["password"]) and made["note"] == ""
    ids = [
        client.post(INSIGHT.format(5) + "passwords/", json={"raw_password": ""}).get_json()["id"]
        for _ in "ab"
    ]
    assert ids == [made["id"] + 1, made["id"] + 2]


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        (
            {"raw_password": "short"},
            "invalid_input",
            "raw_password",
            "Password must be at least 8 characters long.",
        ),
        ({"note": "x" * 101}, "max_length", "note", "Ensure this field has no more than 100 characters."),
        ({"raw_password": ["a"]}, "invalid_input", "raw_password", "Not a valid string."),
    ],
)
def test_create_password_errors_change_nothing(client, backend, body, code, attr, detail):
    before = backend.store.dump()
    response = client.post(INSIGHT.format(1) + "passwords/", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    _unchanged(backend, before)


def test_delete_password_is_soft_and_only_once(client, backend):
    response = client.delete(INSIGHT.format(1) + "passwords/1/")
    assert response.status_code == 204 and response.data == b""
    assert client.get(INSIGHT.format(1)).get_json()["share_passwords"] == []
    stored = backend.store.table(1, "sharing_configurations").get("insight:1")
    assert [p["is_active"] for p in stored["_passwords"]] == [False, False]
    before = backend.store.dump()
    for path in ("passwords/1/", "passwords/2/", "passwords/77/"):  # deleted, revoked in the seed, unknown
        gone = client.delete(INSIGHT.format(1) + path)
        assert gone.status_code == 404
        assert gone.get_json() == {
            "type": "invalid_request",
            "code": "not_found",
            "detail": "Password not found",
            "attr": None,
        }
    _unchanged(backend, before)


def test_password_of_another_config_is_not_found(client):
    client.patch("/api/projects/1/dashboards/1/sharing/", json={"password_required": True})
    assert client.delete("/api/projects/1/dashboards/1/sharing/passwords/1/").status_code == 404
    assert client.get(INSIGHT.format(1)).get_json()["share_passwords"][0]["id"] == 1


def test_refresh_rotates_the_token_and_copies_active_passwords(client):
    old = client.get(INSIGHT.format(1)).get_json()
    response = client.post(INSIGHT.format(1) + "refresh/")
    assert response.status_code == 200
    new = response.get_json()
    assert TOKEN.match(new["access_token"]) and new["access_token"] != old["access_token"]
    assert new["created_at"] > old["created_at"]
    assert (new["enabled"], new["settings"], new["password_required"]) == (True, None, True)
    assert [p["note"] for p in new["share_passwords"]] == ["Board members"]
    assert new["share_passwords"][0]["id"] > 2  # a copy, with its own id
    assert client.get(INSIGHT.format(1)).get_json() == new
    # the old password rows stay with the expired configuration
    assert client.delete(INSIGHT.format(1) + "passwords/1/").status_code == 404


def test_refresh_of_an_unsaved_config_saves_it(client):
    made = client.post("/api/environments/1/dashboards/2/sharing/refresh").get_json()
    assert made["created_at"] is not None and made["enabled"] is False and made["share_passwords"] == []
    assert client.get("/api/projects/1/dashboards/2/sharing/").get_json() == made


def test_seeded_dashboard_config_and_methods(client):
    body = client.get("/api/projects/1/dashboards/1/sharing/").get_json()
    assert body["enabled"] is True and body["password_required"] is False and body["share_passwords"] == []
    response = client.put("/api/projects/1/dashboards/1/sharing/", json={})
    assert response.status_code == 405
    assert response.get_json()["detail"] == 'Method "PUT" not allowed.'


def test_settings_are_published_as_the_flags_they_take(client):
    """validate_settings' lenient booleans, published (SettingsRequest): what a contract tool builds
    from the document is taken, a value that is none of them is the view's 400."""
    schemas = client.get("/api/schema/").get_json()["components"]["schemas"]
    assert set(schemas["SettingsRequest"]["properties"]) >= {"whitelabel", "legend", "noHeader"}
    pattern = schemas["LaxBoolean"]["anyOf"][2]["pattern"]
    assert re.match(pattern, "YeS") and not re.match(pattern, "maybe")


@pytest.mark.parametrize(
    "body, created",
    [
        ({"raw_password": "correct-horse"}, True),
        ({"raw_password": "   "}, True),  # blank once trimmed: a random one
        ({"raw_password": " abcdefgh "}, True),
        ({"raw_password": "abcdefg "}, False),  # 7 characters once trimmed
        ({"raw_password": "abcdefg\x1f"}, False),  # str.strip trims more than ECMA's \s
        ({"raw_password": "\x1f\x85"}, True),
        ({"raw_password": "short"}, False),
        ({"raw_password": 123456789}, True),  # read as its text
        ({"raw_password": 1234}, False),
        ({"note": "x" * 100 + "  "}, True),
        ({"note": "x" * 101}, False),
    ],
)
def test_password_bodies_are_published_as_the_view_checks_them(client, body, created):
    """SharePasswordCreateSerializer (posthog/api/sharing.py): raw_password and note are CharFields
    (trimmed, a number read as its text); a raw password that is not blank has at least 8
    characters, a note at most 100. The served SharePasswordRequest accepts what the view creates."""
    from jsonschema import Draft202012Validator

    schemas = client.get("/api/schema/").get_json()["components"]["schemas"]
    assert Draft202012Validator(schemas["SharePasswordRequest"]).is_valid(body) is created
    response = client.post(INSIGHT.format(1) + "passwords/", json=body)
    assert response.status_code == (201 if created else 400)
