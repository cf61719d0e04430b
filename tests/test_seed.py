"""Seed data: deterministic per seed, and fixture files that add, override or are refused."""

import json

import pytest

from mockhog import Backend, create_app
from mockhog.seed import FixtureError

LISTS = [
    "exports/",
    "file_system/",
    "persisted_folder/",
    "groups/?group_type_index=0",
    "groups/?group_type_index=1",
    "project_secret_api_keys/",
    "event_definitions/",
    "external_data_sources/",
    "persons/",
    "insights/1/sharing/",
]


def _bodies(backend):
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"
    return {path: client.get(f"/api/projects/1/{path}").data for path in LISTS}


def test_same_seed_same_bytes_other_seed_differs():
    first, second, other = Backend(seed=7), Backend(seed=7), Backend(seed=8)
    assert _bodies(first) == _bodies(second)
    assert first.store.dump() == second.store.dump()
    assert _bodies(first)["persons/"] != _bodies(other)["persons/"]


def test_default_world_is_rich(client):
    assert client.get("/api/projects/1/persons/?limit=1&include_total=1").get_json()["count"] >= 250
    names = {
        d["name"] for d in client.get("/api/projects/1/event_definitions/?limit=500").get_json()["results"]
    }
    assert {"$pageview", "$pageleave", "$autocapture", "$identify"} <= names
    assert any(not name.startswith("$") for name in names)


def _write(tmp_path, data, name="fixture.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_fixture_adds_a_project_and_overrides_a_record(tmp_path):
    path = _write(
        tmp_path,
        {
            "projects": [{"id": 2, "name": "Staging"}],
            "records": {
                "1": {
                    "insights": [{"id": 11, "name": "From a fixture"}],
                    "exports": [{"id": 1, "export_context": {"path": "/fixture"}}],
                }
            },
        },
    )
    backend = Backend(seed=0, fixtures=[path])
    assert sorted(backend.projects) == [1, 2]
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"
    assert client.get("/api/projects/2/exports/").status_code == 200
    assert client.get("/api/projects/1/exports/1/").get_json()["export_context"] == {"path": "/fixture"}
    made = client.post("/api/projects/1/exports/", json={"insight": 11, "export_format": "text/csv"})
    assert made.status_code == 201 and "from-a-fixture" in made.get_json()["filename"]


@pytest.mark.parametrize(
    "data, words",
    [
        (
            {"records": {"1": {"exports": [{"id": 1, "export_format": "image/bmp"}]}}},
            ["records.1.exports[0]", "export_format"],
        ),
        (
            {"records": {"1": {"exports": [{"id": 99, "export_format": "text/csv"}]}}},
            ["records.1.exports[0]", "id 99"],
        ),
        ({"records": {"1": {"unicorns": []}}}, ["records.1.unicorns", "unknown resource"]),
        ({"records": {"5": {"exports": []}}}, ["records.5", "no such project"]),
        ({"projects": [{"name": "no id"}]}, ["projects[0]", "'id'"]),
        (
            {"records": {"1": {"exports": [{"export_format": "text/csv"}]}}},
            ["exports[0]", "'id' is required"],
        ),
    ],
)
def test_bad_fixture_names_file_record_and_field(tmp_path, data, words):
    path = _write(tmp_path, data)
    with pytest.raises(FixtureError) as caught:
        Backend(seed=0, fixtures=[path])
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_unreadable_fixture(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{nope")
    with pytest.raises(FixtureError, match="broken.json: not valid JSON"):
        Backend(seed=0, fixtures=[path])
