"""Index-backed reads over HTTP answer what a client filtering the whole table itself would get:
persons by UUID and distinct id, groups by key, file-system filters, after writes and rollbacks."""

from __future__ import annotations

import json
import random

import pytest

from mockhog import Backend
from mockhog.resources.file_system import join_path, split_path
from mockhog.seed import FixtureError

PERSONS = "/api/projects/1/persons/"
FILES = "/api/projects/1/file_system/"
GROUPS = "/api/projects/1/groups/"


def everything(client, base, query=""):
    body = client.get(f"{base}?limit=1000{query}").get_json()
    assert body["next"] is None, "the whole table fits one page"
    return body["results"]


def test_every_person_is_found_by_uuid_and_by_each_distinct_id(client):
    people = everything(client, PERSONS)
    assert len(people) > 50
    for person in people:
        assert client.get(f"{PERSONS}{person['uuid']}/").get_json() == person
        for distinct_id in person["distinct_ids"]:
            found = client.get(PERSONS, query_string={"distinct_id": distinct_id}).get_json()["results"]
            assert found == [person]
    assert client.get(PERSONS, query_string={"distinct_id": "nobody"}).get_json()["results"] == []
    # a distinct id filter combines with the others, which still apply
    person = people[0]
    other_email = {"email": "not-" + str(person["properties"].get("email"))}
    query = {"distinct_id": person["distinct_ids"][0], **other_email}
    assert client.get(PERSONS, query_string=query).get_json()["results"] == []


def test_groups_are_found_by_type_and_key_and_listed_by_type(client):
    for index in (0, 1):
        listed = everything(client, GROUPS, f"&group_type_index={index}")
        assert listed and all(group["group_type_index"] == index for group in listed)
        for group in listed[:10]:
            query = {"group_type_index": index, "group_key": group["group_key"]}
            assert (
                client.get(f"{GROUPS}find/", query_string=query).get_json()["group_key"] == group["group_key"]
            )
    created = client.post(GROUPS, json={"group_type_index": 0, "group_key": "acme", "group_properties": {}})
    assert created.status_code == 201, created.get_json()
    again = client.post(GROUPS, json={"group_type_index": 0, "group_key": "acme", "group_properties": {}})
    assert again.status_code == 400
    assert any(g["group_key"] == "acme" for g in everything(client, GROUPS, "&group_type_index=0"))


FILTERS = [
    lambda rows: {"parent": rows[0]["path"].rsplit("/", 1)[0]},
    lambda rows: {"path": rows[-1]["path"]},
    lambda rows: {"depth": 2},
    lambda rows: {"depth": 2, "parent": "Team"},
    lambda rows: {"type": "folder"},
    lambda rows: {"type": "insight", "ref": "3"},
    lambda rows: {"parent": "Team", "type": "folder"},
]


def scan(rows, query):
    """The filters as a client applies them to the full list."""
    kept = rows
    if "parent" in query:
        kept = [r for r in kept if r["path"].startswith(query["parent"] + "/")]
    for name in ("path", "depth", "type", "ref"):
        if name in query:
            kept = [r for r in kept if r[name] == query[name]]
    return kept


@pytest.mark.parametrize("seed", range(4))
def test_file_system_filters_agree_with_a_scan_after_random_writes(client, seed):
    rng = random.Random(seed)
    names = ["Team", "Team/Eng", "Team/Eng/Infra", "Team/Ops", "Other", "Team\\/Eng"]
    for _ in range(25):
        verb = rng.choice(["create", "create", "move", "delete", "fail"])
        rows = everything(client, FILES)
        if verb == "create":
            path = f"{rng.choice(names)}/item {rng.randrange(8)}"
            assert client.post(FILES, json={"path": path, "type": "folder"}).status_code == 201
        elif verb == "move":
            row = rng.choice(rows)
            client.post(
                f"{FILES}{row['id']}/move/", json={"new_path": f"{rng.choice(names)}/moved {row['id'][:4]}"}
            )
        elif verb == "delete":
            row = rng.choice([r for r in rows if r["type"] == "folder"])
            client.delete(f"{FILES}{row['id']}/")
        else:  # a refused write (an undeletable type) is rolled back, indexes included
            folder = rng.choice(names)
            assert client.post(FILES, json={"path": f"{folder}/odd", "type": "odd"}).status_code == 201
            odd = [r for r in everything(client, FILES) if r["path"] == f"{folder}/odd"][0]
            assert client.delete(f"{FILES}{odd['id']}/").status_code == 400
        rows = everything(client, FILES)
        for make in FILTERS:
            query = make(rows)
            listed = everything(client, FILES, "&" + "&".join(f"{k}={v}" for k, v in query.items()))
            expected = scan(rows, query)
            if "depth" in query:  # ?depth= lists folders first
                expected.sort(key=lambda r: r["type"] != "folder")
            assert [r["id"] for r in listed] == [r["id"] for r in expected], query
        # every folder's parents exist, found through the path index at each create
        paths = {r["path"] for r in rows}
        for r in rows:
            segments = split_path(r["path"])
            assert all(join_path(segments[:n]) in paths for n in range(1, len(segments))), r["path"]


def test_a_fixture_that_repeats_a_distinct_id_is_refused(tmp_path):
    fixture = tmp_path / "twice.json"
    persons = [
        {
            "id": 9001,
            "uuid": "01890000-0000-7000-8000-000000000001",
            "distinct_ids": ["same"],
            "properties": {},
        },
        {
            "id": 9002,
            "uuid": "01890000-0000-7000-8000-000000000002",
            "distinct_ids": ["same"],
            "properties": {},
        },
    ]
    common = {"created_at": "2025-01-01T00:00:00Z", "last_seen_at": None}
    fixture.write_text(json.dumps({"records": {"1": {"persons": [{**p, **common} for p in persons]}}}))
    with pytest.raises(FixtureError, match="distinct_ids 'same' already belongs to the row 9001"):
        Backend(seed=0, fixtures=[fixture])
