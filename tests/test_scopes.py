"""Keys and scopes: every served operation against six kinds of key, as PostHog answers them."""

from __future__ import annotations

import json

import pytest
from walk import concrete_url, prepare

from mockhog import Backend, create_app
from mockhog.catalog import ROOT, Catalog, Operation
from mockhog.scopes import SCOPE_ACTIONS, SCOPE_OBJECTS
from mockhog.spec import Spec

OPERATIONS = Catalog.load().operations
KINDS = ["no key", "unknown key", "exact scopes", "other object's scope", "read-only key", "other project"]


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixtures") / "two.json"
    path.write_text(json.dumps({"projects": [{"id": 2, "name": "Staging"}]}))
    backend = Backend(seed=0, fixtures=[path])
    return backend, create_app(backend=backend)


@pytest.fixture
def api(two_projects):
    backend, app = two_projects
    backend.reset()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"
    return client


def mint(client, scopes, teams=None) -> str:
    body = {"label": "matrix", "scopes": scopes}
    if teams:
        body["scoped_teams"] = teams
    response = client.post("/_mockhog/personal_api_keys", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["value"]


def other_object_scope(op: Operation) -> list[str]:
    objects = {scope.split(":")[0] for scope in op.scopes}
    return ["person:read"] if "insight" in objects else ["insight:read"]


def needed_scopes(client, op: Operation, body) -> tuple[str, ...]:
    """The operation's scopes, or those its resource asks of this body (an export of an insight
    needs insight:read too: Resource.required_scopes)."""
    resource = client.application.extensions["mockhog"].resources[op.resource.name]
    return (op.is_write and resource.required_scopes(op, body)) or op.scopes


def denied(detail: str) -> dict:
    return {"type": "authentication_error", "code": "permission_denied", "detail": detail, "attr": None}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_matrix(api, op, kind):
    url, query, body = concrete_url(op), "", None
    if kind == "exact scopes" and op.prefix != ROOT:
        path, query, body = prepare(api, op.method, op.path) if _walkable(op) else (None, "", None)
        if path:
            url = f"/api/{op.prefix}/1/{path}"
    headers = {}
    if kind == "no key":
        api.environ_base.pop("HTTP_AUTHORIZATION")
    elif kind == "unknown key":
        headers["Authorization"] = "Bearer phx_not_a_real_key"
    elif kind == "exact scopes":
        headers["Authorization"] = f"Bearer {mint(api, list(needed_scopes(api, op, body)) or ['user:read'])}"
    elif kind == "other object's scope":
        headers["Authorization"] = f"Bearer {mint(api, other_object_scope(op))}"
    elif kind == "read-only key":
        read_only = sorted({scope.replace(":write", ":read") for scope in op.scopes}) or ["user:read"]
        headers["Authorization"] = f"Bearer {mint(api, read_only)}"
    else:
        headers["Authorization"] = f"Bearer {mint(api, ['*'], teams=[2])}"

    response = api.open(url + (f"?{query}" if query else ""), method=op.method, json=body, headers=headers)
    answer = response.get_json(silent=True)

    if kind == "no key":
        assert response.status_code == 401
        assert answer["code"] == "not_authenticated"
    elif kind == "unknown key":
        assert response.status_code == 401
        assert answer["detail"] == "Personal API key found in request Authorization header is invalid."
    elif kind == "other object's scope" and op.scopes:
        assert response.status_code == 403
        assert answer == denied(f"API key missing required scope '{op.scopes[0]}'")
    elif kind == "read-only key" and any(scope.endswith(":write") for scope in op.scopes):
        write = next(scope for scope in op.scopes if scope.endswith(":write"))
        assert response.status_code == 403
        assert answer == denied(f"API key missing required scope '{write}'")
    elif kind == "other project" and (
        op.prefix != ROOT or op.operation_id.startswith("projects_") and op.operation_id != "projects_list"
    ):
        assert response.status_code == 403
        assert answer == denied("API key does not have access to the requested project: ID 1.")
    else:
        assert response.status_code not in (401, 403), (url, answer)
        if kind == "exact scopes" and _walkable(op):
            assert response.status_code < 300, (url, answer)


def _walkable(op: Operation) -> bool:
    """Operations the docs walk knows how to make succeed."""
    from test_docs_surface import SHAPES

    return (op.method, op.path) in SHAPES


def test_write_scope_satisfies_read(api):
    key = mint(api, ["export:write"])
    assert api.get("/api/projects/1/exports/", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_scoped_key_sees_only_its_projects(api):
    key = mint(api, ["project:read"], teams=[2])
    auth = {"Authorization": f"Bearer {key}"}
    listed = api.get("/api/projects/", headers=auth).get_json()
    assert [p["id"] for p in listed["results"]] == [2]
    assert api.get("/api/projects/@current/", headers=auth).get_json()["id"] == 2
    assert api.get("/api/projects/1/", headers=auth).status_code == 403


@pytest.mark.parametrize(
    "body, attr, detail",
    [
        ({"label": "x"}, "scopes", "This field is required."),
        ({"label": "x", "scopes": ["exports:read"]}, "scopes", "Invalid scope: exports:read"),
        ({"label": "x", "scopes": ["export:admin"]}, "scopes", "Invalid scope: export:admin"),
        ({"label": "x", "scopes": ["*"], "scoped_teams": [9]}, "scoped_teams", "Project 9 does not exist."),
    ],
)
def test_minting_refuses_bad_keys(api, body, attr, detail):
    response = api.post("/_mockhog/personal_api_keys", json=body)
    assert response.status_code == 400
    assert response.get_json()["attr"] == attr and response.get_json()["detail"] == detail


def test_minted_keys_are_gone_after_reset(api, two_projects):
    key = mint(api, ["*"])
    assert api.get("/api/projects/1/exports/", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    api.post("/_mockhog/reset")
    assert api.get("/api/projects/1/exports/", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_fixture_keys(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"personal_api_keys": [{"value": "phx_fixture", "scopes": ["person:read"]}]}))
    client = create_app(backend=Backend(seed=0, fixtures=[path])).test_client()
    auth = {"Authorization": "Bearer phx_fixture"}
    assert client.get("/api/projects/1/persons/", headers=auth).status_code == 200
    assert client.get("/api/projects/1/exports/", headers=auth).status_code == 403


def test_one_scope_table_holds_every_scope_an_operation_requires(api):
    required = {scope for op in OPERATIONS for scope in op.scopes if scope != "*"}
    required |= {scope for op in Spec.load().operations for scope in op.scopes or ()}
    for scope in sorted(required):
        obj, _, action = scope.partition(":")
        assert obj in SCOPE_OBJECTS and action in SCOPE_ACTIONS, scope
    # so a personal API key can be minted with exactly what any operation needs
    assert mint(api, ["alert:read", "experiment_holdout:write", "user_interview_DO_NOT_USE:read"])
