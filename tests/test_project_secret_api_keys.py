"""Project secret API keys: the secret is shown once, stored as hash and mask; scopes are checked.

As posthog/api/project_secret_api_key.py (ProjectSecretAPIKeySerializer) serves them today."""

import re

import pytest
from seeded import USER

BASE = "/api/projects/1/project_secret_api_keys/"
FIELDS = [
    "id",
    "label",
    "value",
    "mask_value",
    "created_at",
    "created_by",
    "last_used_at",
    "last_rolled_at",
    "scopes",
]
SECRET = re.compile(r"^phs_[0-9A-Za-z]{40,}$")


def _create(client, label="CI runner", scopes=("endpoint:read",)):
    response = client.post(BASE, json={"label": label, "scopes": list(scopes)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_seeded_keys_never_show_their_value(client):
    page = client.get(BASE).get_json()
    assert page["count"] == 2 and page["next"] is None and page["previous"] is None
    for key in page["results"]:
        assert list(key) == FIELDS
        assert key["value"] is None and re.fullmatch(r"phs_\.\.\.[0-9A-Za-z]{4}", key["mask_value"])
        assert key["created_by"] == USER and key["scopes"] == ["endpoint:read"] and not key["id"].isdigit()
    times = [key["created_at"] for key in page["results"]]
    assert times == sorted(times, reverse=True)


def test_round_trip(client):
    made = _create(client)
    assert SECRET.match(made["value"]) and made["mask_value"] == f"phs_...{made['value'][-4:]}"
    assert (made["label"], made["created_by"], made["last_used_at"], made["last_rolled_at"]) == (
        "CI runner",
        USER,
        None,
        None,
    )
    url = f"{BASE}{made['id']}/"
    shown = client.get(url).get_json()
    assert shown == {**made, "value": None}
    assert client.get(BASE).get_json()["results"][0] == shown
    patched = client.patch(url, json={"label": "CI"})
    assert patched.status_code == 200 and patched.get_json() == {**shown, "label": "CI"}
    put = client.put(
        f"/api/environments/1/project_secret_api_keys/{made['id']}",
        json={"label": "CI 2", "scopes": ["endpoint:read"]},
    )
    assert put.status_code == 200 and put.get_json()["label"] == "CI 2" and put.get_json()["value"] is None
    assert client.delete(url).status_code == 204
    gone = client.get(url)
    assert gone.status_code == 404 and gone.get_json()["detail"] == "Not found."
    assert client.get(BASE).get_json()["count"] == 2


def test_secret_is_stored_only_as_hash_and_mask(client, backend):
    made = _create(client)
    assert made["value"] not in repr(backend.store.dump())


def test_roll_gives_a_new_secret_once(client, backend):
    seeded = client.get(BASE).get_json()["results"][0]
    response = client.post(f"{BASE}{seeded['id']}/roll/")
    assert response.status_code == 200
    rolled = response.get_json()
    assert SECRET.match(rolled["value"]) and rolled["mask_value"] == f"phs_...{rolled['value'][-4:]}"
    assert rolled["mask_value"] != seeded["mask_value"] and rolled["last_rolled_at"] is not None
    assert {k: v for k, v in rolled.items() if k not in ("value", "mask_value", "last_rolled_at")} == {
        k: v for k, v in seeded.items() if k not in ("value", "mask_value", "last_rolled_at")
    }
    assert client.get(f"{BASE}{seeded['id']}/").get_json() == {**rolled, "value": None}
    again = client.post(f"/api/environments/1/project_secret_api_keys/{seeded['id']}/roll").get_json()
    assert again["value"] != rolled["value"]
    assert rolled["value"] not in repr(backend.store.dump())


SCOPES_ALLOWED = "Allowed scopes: account:read, endpoint:read, experiment:read, feature_flag:read, loop:write"


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"scopes": ["endpoint:read"]}, "required", "label", "This field is required."),
        ({"label": "  ", "scopes": ["endpoint:read"]}, "blank", "label", "This field may not be blank."),
        (
            {"label": "x" * 41, "scopes": ["endpoint:read"]},
            "max_length",
            "label",
            "Ensure this field has no more than 40 characters.",
        ),
        ({"label": "a"}, "required", "scopes", "This field is required."),
        ({"label": "a", "scopes": []}, "empty", "scopes", "This list may not be empty."),
        (
            {"label": "a", "scopes": "endpoint:read"},
            "not_a_list",
            "scopes",
            'Expected a list of items but got type "str".',
        ),
        (
            {"label": "a", "scopes": ["*"]},
            "invalid_input",
            "scopes",
            "Wildcard scope '*' is not allowed for project API keys. Please specify explicit scopes.",
        ),
        ({"label": "a", "scopes": ["endpoint"]}, "invalid_input", "scopes", "Invalid scope: endpoint"),
        (
            {"label": "a", "scopes": ["unicorn:read"]},
            "invalid_input",
            "scopes",
            "Invalid scope: unicorn:read",
        ),
        (
            {"label": "a", "scopes": ["endpoint:delete"]},
            "invalid_input",
            "scopes",
            "Invalid scope: endpoint:delete",
        ),
        (
            {"label": "a", "scopes": ["endpoint:read", "feature_flag:write"]},
            "invalid_input",
            "scopes",
            f"Scope 'feature_flag:write' can not be assigned to a project secret API key. {SCOPES_ALLOWED}",
        ),
        (
            {"label": "a", "scopes": ["llm_gateway:read"]},
            "invalid_input",
            "scopes",
            "LLM gateway scope is not available for this project. Contact support to enable this feature.",
        ),
        (
            {"label": "a", "scopes": ["endpoint:write"]},
            "invalid_input",
            "scopes",
            f"Scope 'endpoint:write' can not be assigned to a project secret API key. {SCOPES_ALLOWED}",
        ),
        ({"label": "a", "scopes": [" "]}, "blank", "scopes__0", "This field may not be blank."),
        (
            {"label": "Production backend", "scopes": ["endpoint:read"]},
            "invalid_input",
            None,
            "Project secret API key with label 'Production backend' already exists.",
        ),
    ],
)
def test_create_errors_change_nothing(refused, body, code, attr, detail):
    refused("post", BASE, body, code, attr, detail)


def test_update_checks_scopes_and_labels_too(client, backend):
    seeded = client.get(BASE).get_json()["results"]
    url = f"{BASE}{seeded[0]['id']}/"
    before = backend.store.dump()
    taken = client.patch(url, json={"label": seeded[1]["label"]})
    assert taken.status_code == 400
    assert (
        taken.get_json()["detail"]
        == f"Project secret API key with label '{seeded[1]['label']}' already exists."
    )
    wildcard = client.patch(url, json={"scopes": ["*"]})
    assert wildcard.status_code == 400 and wildcard.get_json()["attr"] == "scopes"
    partial_put = client.put(url, json={"label": "only a label"})
    assert partial_put.status_code == 400 and partial_put.get_json()["attr"] == "scopes"
    assert backend.store.dump() == before
    assert client.patch(url, json={"label": seeded[0]["label"]}).status_code == 200  # its own label is fine


def test_fifty_keys_per_project(client, backend):
    """MAX_PROJECT_SECRET_API_KEYS_PER_TEAM is 50 (posthog/api/project_secret_api_key.py)."""
    for number in range(48):
        _create(client, label=f"key {number}")
    before = backend.store.dump()
    response = client.post(BASE, json={"label": "fifty-first", "scopes": ["endpoint:read"]})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "You can only have 50 project secret API keys. "
        "Remove an existing key before creating a new one.",
        "attr": None,
    }
    assert backend.store.dump() == before


def test_current_allowed_scopes(client):
    """posthog/scopes.py PROJECT_SECRET_API_KEY_ALLOWED_API_SCOPE_ACTION today (as PostHog's own
    .agents/skills/adding-project-secret-api-key-auth/SKILL.md restates it): endpoint:read,
    feature_flag:read, account:read, loop:write, experiment:read; created_by is a UserBasic."""
    scopes = ["endpoint:read", "feature_flag:read", "account:read", "loop:write", "experiment:read"]
    made = _create(client, label="all of them", scopes=scopes)
    assert made["scopes"] == scopes and made["created_by"] == USER
    assert client.get(f"{BASE}{made['id']}/").get_json()["created_by"] == USER


def test_pages(client):
    for number in range(3):
        _create(client, label=f"key {number}")
    page = client.get(f"{BASE}?limit=2&offset=2").get_json()
    assert page["count"] == 5 and [k["label"] for k in page["results"]] == ["key 0", "Production backend"]
    assert page["next"].endswith("/project_secret_api_keys/?limit=2&offset=4")
    assert page["previous"].endswith("/project_secret_api_keys/?limit=2")


def test_unknown_key_is_404_everywhere(client, backend):
    before = backend.store.dump()
    for method in ("get", "patch", "delete", "post"):
        suffix = "roll/" if method == "post" else ""
        response = getattr(client, method)(f"{BASE}nope/{suffix}", json={})
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert backend.store.dump() == before
