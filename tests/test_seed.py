"""Seed data: deterministic per seed, and fixture files that add, override or are refused."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from threading import RLock

import pytest

from mockhog import Backend, create_app
from mockhog.fakers import SharedFaker
from mockhog.seed import FixtureError, Generator, ProjectSeed, SeedDeclarationError, build_world

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


def _client(backend):
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"
    return client


def _bodies(backend):
    client = _client(backend)
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
    client = _client(backend)
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


# -- lazy seeding: each table built on first use, the same bytes in any order ---------------------

LAZY_LISTS = [
    "feature_flags/",
    "cohorts/",
    "persons/?limit=5",
    "events/?limit=5",
    "experiments/",
    "insights/",
    "dashboards/",
    "dashboards/1/",
    "file_system/",
    "exports/",
    "annotations/",
    "insights/1/sharing/",
    "dashboards/1/sharing/",
    "external_data_sources/",
    "logs/query/",
]


def _get(client, path):
    if path == "logs/query/":
        reply = client.post(f"/api/projects/1/{path}", json={"query": {"limit": 5, "dateRange": {}}})
    else:
        reply = client.get(f"/api/projects/1/{path}")
    assert reply.status_code == 200, (path, reply.data[:200])
    return reply.data


def _rows(rows):
    return json.dumps(list(rows.items()), default=str)


def test_a_new_backend_seeds_nothing_until_asked():
    backend = Backend(seed=3)
    assert backend.world.snapshot.tables[1] == {}
    assert _client(backend).get("/api/projects/1/feature_flags/").status_code == 200
    # the flags and the experiment that links one of them (its name and state are the flag's
    # experiment_set_metadata); no flag is on a cohort, so no persons
    assert sorted(backend.world.snapshot.tables[1]) == ["experiments", "feature_flags"]
    assert backend.world.seeds[1].ran == ["feature_flags", "experiments"]


def test_every_table_seeded_first_equals_seeding_all_in_catalog_order():
    backend = Backend(seed=5)
    eager = build_world(backend, 5, []).seeds[1].seed_all()
    assert len(eager) > 20 and all(isinstance(rows, dict) for rows in eager.values())
    for name, rows in eager.items():
        alone = build_world(backend, 5, []).seeds[1].table(name)
        assert _rows(alone) == _rows(rows), name
    backwards = build_world(backend, 5, []).seeds[1]
    for name in reversed(list(eager)):
        assert _rows(backwards.table(name)) == _rows(eager[name]), name


def test_answers_do_not_depend_on_which_tables_are_touched_first():
    forwards, backwards, everything = Backend(seed=9), Backend(seed=9), Backend(seed=9)
    everything.store.dump()  # every seedable table built before any request
    first = {path: _get(_client(forwards), path) for path in LAZY_LISTS}
    second = {path: _get(_client(backwards), path) for path in reversed(LAZY_LISTS)}
    third = {path: _get(_client(everything), path) for path in LAZY_LISTS}
    assert first == second == third
    assert forwards.store.dump() == backwards.store.dump() == everything.store.dump()


def test_reset_restores_lazily_seeded_tables():
    backend = Backend(seed=0)
    client = _client(backend)
    flags = client.get("/api/projects/1/feature_flags/").data
    flag = client.get("/api/projects/1/feature_flags/").get_json()["results"][0]
    assert (
        client.patch(f"/api/projects/1/feature_flags/{flag['id']}/", json={"name": "changed"}).status_code
        == 200
    )
    # a table first seeded after a write, then written to itself
    cohort = client.get("/api/projects/1/cohorts/").get_json()["results"][0]
    assert (
        client.patch(f"/api/projects/1/cohorts/{cohort['id']}/", json={"name": "renamed"}).status_code == 200
    )
    cohorts = _client(Backend(seed=0)).get("/api/projects/1/cohorts/").data
    backend.reset()
    assert client.get("/api/projects/1/feature_flags/").data == flags
    assert client.get("/api/projects/1/cohorts/").data == cohorts
    assert backend.store.dump() == Backend(seed=0).store.dump()


def test_reseed_rebuilds_lazily_seeded_tables():
    backend, other = Backend(seed=0), Backend(seed=4)
    client = _client(backend)
    before = client.get("/api/projects/1/persons/?limit=5").data
    backend.reseed(4)
    assert (
        client.get("/api/projects/1/persons/?limit=5").data
        == _client(other).get("/api/projects/1/persons/?limit=5").data
        != before
    )


def _generator(name, make, reads=(), writes=()):
    return Generator(name, name, make, reads=reads, writes=writes)


def _project(generators):
    return ProjectSeed(
        generators, 0, 1, {"id": 1}, {"user": {}}, datetime(2025, 1, 1, tzinfo=UTC), SharedFaker(), RLock()
    )


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda ctx: list(ctx.tables.get("other", {}).values()), "touched 'other'"),
        (lambda ctx: [{"id": len(ctx.tables["first"])}], "touched 'first'"),
        (lambda ctx: ctx.tables.setdefault("side", {}) and [], "touched 'side'"),
    ],
)
def test_a_generator_touching_an_undeclared_table_is_an_error(make, words):
    first = _generator("first", lambda ctx: [{"id": 1}])
    seeds = _project([first, _generator("second", make)])
    with pytest.raises(SeedDeclarationError, match=words):
        seeds.table("second")


def test_a_generator_sees_each_table_as_the_earlier_generators_left_it():
    def second(ctx):
        ctx.tables["first"][2] = {"id": 2}  # a declared write onto an earlier generator's table
        return [{"id": 1}]

    def reader(ctx):
        return [{"id": 1, "seen": sorted(ctx.tables["first"])}]

    def late_reader(ctx):
        with pytest.raises(TypeError):
            ctx.tables["first"][3] = {"id": 3}  # what a generator only reads, it cannot change
        return [{"id": 1, "seen": sorted(ctx.tables["first"])}]

    generators = [
        _generator("first", lambda ctx: [{"id": 1}]),
        _generator("early", reader, reads=("first",)),
        _generator("second", second, writes=("first",)),
        _generator("late", late_reader, reads=("first",)),
    ]
    for touch in (["late", "early", "first"], ["first", "early", "late"]):
        seeds = _project(generators)
        seen = {name: seeds.table(name) for name in touch}
        assert seen["early"][1]["seen"] == [1] and seen["late"][1]["seen"] == [1, 2]
        assert list(seen["first"]) == [1, 2]


FAKER_PROBE = """
import sys
import mockhog
backend = mockhog.Backend()
client = mockhog.create_app(backend=backend).test_client()
client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + backend.api_key
for path in ("feature_flags/", "event_definitions/"):
    assert client.get("/api/projects/1/" + path).status_code == 200
print("faker" in sys.modules)
assert client.get("/api/projects/1/persons/").status_code == 200
print("faker" in sys.modules)
"""


def test_faker_is_imported_by_the_first_table_that_draws_from_it():
    done = subprocess.run([sys.executable, "-c", FAKER_PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
