"""Concrete, valid requests for catalog operations, shared by the surface walk and the scope matrix."""

from __future__ import annotations

from typing import Any

from mockhog.catalog import ROOT, Operation

PLACEHOLDERS = {
    "insight_id": "1",
    "dashboard_id": "1",
    "recording_id": "0197a3d0-walk",
    "password_id": "1",
    "key": "new-onboarding",  # a feature flag key (remote_config looks flags up by id or key)
}
ROOT_IDS = {"users": "@me", "projects": "1", "organizations": "@current", "personal_api_keys": "@current"}


def concrete_url(op: Operation, project: int = 1) -> str:
    """The operation's URL with placeholder ids: enough for checks that run before any lookup."""
    values = dict(PLACEHOLDERS)
    if op.prefix == ROOT:
        values["id"] = ROOT_IDS[op.resource.name]
        return "/api/" + op.path.format(**values)
    values["id"] = "1" if op.resource.lookup == "integer" else "0197a3d0-0000-4000-8000-000000000001"
    return f"/api/{op.prefix}/{project}/" + op.path.format(**values)


def _first(client, path: str, query: str = "") -> dict[str, Any]:
    body = client.get(f"/api/projects/1/{path}?{query}").get_json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows, f"seed data has no {path}"
    return rows[0]


def _folder(client) -> dict[str, Any]:
    return client.post(
        "/api/projects/1/file_system/", json={"path": "Walk/Empty", "type": "folder"}
    ).get_json()


def _password_id(client, parent: str) -> int:
    client.patch(f"/api/projects/1/{parent}/sharing/", json={"password_required": True})
    made = client.post(f"/api/projects/1/{parent}/sharing/passwords/", json={"raw_password": "walk-the-docs"})
    return made.get_json()["id"]


def _group(client) -> dict[str, Any]:
    return _first(client, "groups/", "group_type_index=0")


def _group_query(client) -> str:
    group = _group(client)
    return f"group_type_index=0&group_key={group['group_key']}"


def _undo_item(client) -> dict[str, Any]:
    row = _first(client, "file_system/", "type=insight")
    client.delete(f"/api/projects/1/file_system/{row['id']}/")
    return {"items": [{"type": row["type"], "ref": row["ref"], "path": row["path"]}]}


def prepare(client, method: str, path: str) -> tuple[str, str, Any]:
    """A concrete path, query string and body for one documented operation."""
    params: dict[str, Any] = {"insight_id": 1, "recording_id": "0197a3d0-walk"}
    query, body = "", None
    resource = path.split("/")[0]
    if "{id}" in path:
        if resource == "file_system":
            params["id"] = _folder(client)["id"]
        elif resource == "persisted_folder":
            params["id"] = client.post(
                "/api/projects/1/persisted_folder/", json={"type": "pinned"}
            ).get_json()["id"]
        else:
            params["id"] = _first(client, f"{resource}/")["id"]
    if "{password_id}" in path:
        params["password_id"] = _password_id(client, "insights/1")
    if path.startswith("session_recordings") and path.endswith("passwords/"):
        client.patch(
            f"/api/projects/1/session_recordings/{params['recording_id']}/sharing/",
            json={"password_required": True},
        )
    if path.startswith("insights") and path.endswith("passwords/"):
        client.patch("/api/projects/1/insights/1/sharing/", json={"password_required": True})
    if path == "groups/":
        query = "group_type_index=0"
    elif resource == "groups" and path != "groups/property_definitions/":
        query = _group_query(client)
    bodies = {
        ("POST", "exports/"): {"insight": 1, "export_format": "text/csv"},
        ("POST", "file_system/"): {"path": "Walk/Notes", "type": "folder"},
        ("PATCH", "file_system/{id}/"): {"meta": {"walked": True}},
        ("POST", "file_system/{id}/link/"): {"new_path": "Walk/Linked"},
        ("POST", "file_system/{id}/move/"): {"new_path": "Walk/Moved"},
        ("POST", "file_system/log_view/"): {"type": "insight", "ref": "1"},
        ("POST", "groups/"): {"group_type_index": 0, "group_key": "walk-key", "group_properties": {}},
        ("POST", "groups/update_property/"): {"key": "plan", "value": "enterprise"},
        ("POST", "insights/{insight_id}/sharing/passwords/"): {"raw_password": "walk-the-docs"},
        ("POST", "session_recordings/{recording_id}/sharing/passwords/"): {"raw_password": "walk-the-docs"},
        ("POST", "project_secret_api_keys/"): {"label": "walk", "scopes": ["endpoint:read"]},
        ("PATCH", "project_secret_api_keys/{id}/"): {"label": "walked"},
        ("PATCH", "event_definitions/{id}/"): {"description": "walked"},
        ("POST", "external_data_sources/"): {
            "source_type": "Stripe",
            "prefix": "walk_",
            "payload": {
                "stripe_secret_key": "sk_test_walk",
                "schemas": [{"name": "Charge", "should_sync": True, "sync_type": "full_refresh"}],
            },
        },
        ("PATCH", "external_data_sources/{id}/"): {"description": "walked"},
        ("PATCH", "external_data_sources/{id}/revenue_analytics_config/"): {"enabled": True},
        ("POST", "external_data_sources/database_schema/"): {
            "source_type": "Stripe",
            "stripe_secret_key": "sk",
        },
        ("POST", "external_data_sources/source_prefix/"): {"source_type": "Stripe", "prefix": "walk2_"},
        ("POST", "logs/query/"): {"query": {"limit": 5, "dateRange": {}}},
        ("POST", "max_tools/create_and_query_insight/"): {
            "query": "weekly signups",
            "insight_type": "trends",
        },
        ("POST", "persons/{id}/update_property/"): {"key": "plan", "value": "walked"},
        ("POST", "persons/{id}/delete_property/"): {"$unset": "plan"},
        ("POST", "persisted_folder/"): {"type": "home"},
        ("PATCH", "persisted_folder/{id}/"): {"path": "Walk/Home"},
    }
    body = bodies.get((method, path))
    if (method, path) == ("POST", "groups/delete_property/"):
        body = {"$unset": next(iter(_group(client)["group_properties"]))}
    if (method, path) == ("GET", "groups/property_values/"):
        query = f"group_type_index=0&key={next(iter(_group(client)['group_properties']))}"
    if (method, path) == ("POST", "file_system/count_by_path/"):
        query = "path=Marketing"
    if (method, path) == ("POST", "file_system/undo_delete/"):
        body = _undo_item(client)
    if (method, path) == ("GET", "event_definitions/by_name/"):
        query = "name=%24pageview"
    return path.format(**params), query, body
