"""Index-backed reads answer what a scan of the whole table would: over HTTP (persons by UUID and
distinct id, groups by key, file-system filters, after writes, rollbacks and resets), and in the
store for every index ``mockhog.indexes`` declares, after random writes, rollbacks and resets."""

from __future__ import annotations

import json
import random

import pytest

from mockhog import Backend
from mockhog.indexes import INDEXES, LIST_FILTERS, folders_above
from mockhog.resources.file_system import join_path, split_path
from mockhog.seed import FixtureError
from mockhog.store import Index, Store, UniqueViolation

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
        verb = rng.choice(["create", "create", "move", "delete", "fail", "reset"])
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
        elif verb == "reset":  # back to the seeded rows, and to the snapshot's indexes
            assert client.post("/_mockhog/reset").status_code == 200
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


# -- every declared index, on the seeded tables (no HTTP) ------------------------------------------------
class Refused(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture(scope="module")
def seeded_snapshot():
    return Backend(seed=0).world.snapshot


KEY_FIELDS = {"groups": "_pk"}  # a table's primary key, where it is not "id"


def scan_finds(index: Index, row: dict, value) -> bool:
    """Whether a scan filtering on ``value`` keeps ``row``, written from what each index stands
    for (PostHog's query), not from the store's code: equality, membership in a list of keys, a
    composite key, or (``under``) a path below a folder. Unique indexes never file NULL."""
    if row.get("_deleted"):
        return False
    if index.derive is not None:
        assert index.derive is folders_above, f"no scan written for the derived index {index.name}"
        path = row.get(index.fields)
        return isinstance(path, str) and path.startswith(f"{value}/")
    if isinstance(index.fields, tuple):
        key = tuple(row.get(name) for name in index.fields)
        return key == value and not (index.unique and None in key)
    found = row.get(index.fields)
    if index.each:
        return isinstance(found, list) and value in found
    if isinstance(found, list | dict):
        return False
    return found == value and not (index.unique and found is None)


def candidate_values(index: Index, rows: list[dict]) -> list:
    """Values worth querying: every key some row has (folders for ``under``), NULL and a miss."""
    values: list = [None, "no-such-value"]
    for row in rows:
        if isinstance(index.fields, tuple):
            values.append(tuple(row.get(name) for name in index.fields))
        elif index.derive is not None:
            path = row.get(index.fields)
            values += [path[:n] for n in range(len(path)) if path[n] == "/"] if isinstance(path, str) else []
        elif index.each:
            values += row.get(index.fields) or []
        elif not isinstance(row.get(index.fields), list | dict):
            values.append(row.get(index.fields))
    return list(dict.fromkeys(value for value in values if _hashable(value)))


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:  # a list or dict: no query value equals it
        return False
    return True


def assert_every_index_agrees_with_a_scan(store: Store, rng: random.Random) -> None:
    for name, declared in INDEXES.items():
        table = store.table(1, name)
        rows = table.values()
        for index in declared:
            values = candidate_values(index, rows)
            for value in rng.sample(values, min(len(values), 12)):
                scanned = [row for row in rows if scan_finds(index, row, value)]
                assert table.lookup(index.name, value) == scanned, (name, index.name, value)
                assert table.count(index.name, value) == len(scanned)
                assert table.find(index.name, value) == (scanned[0] if scanned else None)


def unique_clash(table, key, record: dict) -> bool:
    """Whether another visible row already has one of ``record``'s unique keys (by a scan)."""
    if record.get("_deleted"):
        return False
    for index in INDEXES[table.name]:
        if not index.unique:
            continue
        for value in candidate_values(index, [record]):
            if (
                value is None
                or (type(value) is tuple and None in value)
                or not scan_finds(index, record, value)
            ):
                continue
            primary = KEY_FIELDS.get(table.name, "id")
            if any(other[primary] != key and scan_finds(index, other, value) for other in table.values()):
                return True
    return False


def random_write(store: Store, rng: random.Random) -> None:
    """A create, an update (indexed fields taken from other rows, so keys collide), a soft or a hard
    delete on a random indexed table; a write a unique index refuses must change nothing."""
    name = rng.choice(list(INDEXES))
    table = store.table(1, name)
    rows = table.values()
    verb = rng.choice(["create", "update", "update", "soft_delete", "delete"]) if rows else "create"
    if verb == "delete":
        table.delete(rng.choice(rows)[KEY_FIELDS.get(name, "id")])
        return
    primary = KEY_FIELDS.get(name, "id")
    base = dict(rng.choice(rows)) if rows else {}
    key = base[primary] if verb != "create" else f"new-{rng.randrange(10**9)}"
    record = {**base, primary: key}
    if verb == "soft_delete":
        record["_deleted"] = True
    for index in INDEXES[name]:
        for field_name in (index.fields,) if isinstance(index.fields, str) else index.fields:
            if rows and rng.random() < 0.5:
                record[field_name] = rng.choice(rows).get(field_name)
            elif rng.random() < 0.3:
                record[field_name] = rng.choice([None, f"fresh-{rng.randrange(5)}", ["x", "y"]])
    before = table.values()
    if unique_clash(table, key, record):
        with pytest.raises(UniqueViolation):
            table.put(key, record)
        assert table.values() == before
    else:
        table.put(key, record)


@pytest.mark.parametrize("seed", range(30))
def test_every_declared_index_agrees_with_a_scan_after_random_writes(seeded_snapshot, seed):
    """Each index of ``INDEXES`` on the seeded tables (of project 1): after random creates,
    updates, soft and hard deletes, transactions that commit or roll back (whole or at a savepoint)
    and resets of one project or all, its lookups return what a scan returns, in table order."""
    rng = random.Random(seed)
    store = Store(seeded_snapshot, INDEXES)
    assert_every_index_agrees_with_a_scan(store, rng)
    for _ in range(8):
        step = rng.choice(["commit", "commit", "rollback", "savepoint", "reset", "reset_project"])
        if step == "reset":
            store.reset()
        elif step == "reset_project":
            store.reset_project(1)
        else:
            before = store.dump()
            try:
                with store.transaction():
                    for _ in range(rng.randrange(1, 5)):
                        random_write(store, rng)
                    if step == "savepoint":
                        try:
                            with store.transaction():
                                random_write(store, rng)
                                raise Refused
                        except Refused:
                            pass
                    if step == "rollback":
                        raise Refused
            except Refused:
                assert store.dump() == before
        assert_every_index_agrees_with_a_scan(store, rng)


def test_every_list_filter_names_a_declared_index():
    for table, filters in LIST_FILTERS.items():
        names = {index.name for index in INDEXES[table]}
        assert set(filters.values()) <= names, table
