"""Property tests on the in-memory store (no HTTP): random writes in transactions that sometimes fail
behave exactly like a plain dict model; rollback, reset and copy-on-write never leak or lose a row."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockhog.indexes import folders_above
from mockhog.store import Index, Snapshot, Store, UniqueViolation

PROJECTS = (1, 2)
TABLES = ("alpha", "beta", "gamma")  # gamma is not in the snapshot: it appears on first use
KEYS = st.one_of(st.integers(min_value=1, max_value=8), st.sampled_from(["k1", "k2", "k3"]))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (project, table) -> rows in insertion order, and the next id of each table
Model = dict[tuple[int, str], dict[Any, dict[str, Any]]]
NextIds = dict[tuple[int, str], int]


def make_snapshot() -> Snapshot:
    tables = {
        1: {"alpha": {1: {"id": 1, "v": "seed-1"}, 2: {"id": 2, "v": "seed-2"}}, "beta": {}},
        2: {"alpha": {"k1": {"id": "k1", "v": "seed-k1", "nested": {"tags": ["a"]}}}},
    }
    return Snapshot(tables, {1: {"alpha": 3}, 2: {"alpha": 1}})


def model_of(snapshot: Snapshot) -> tuple[Model, NextIds]:
    rows: Model = {}
    next_ids: NextIds = {}
    for project in PROJECTS:
        for table in TABLES:
            rows[(project, table)] = dict(snapshot.tables.get(project, {}).get(table, {}))
            next_ids[(project, table)] = snapshot.next_ids.get(project, {}).get(table, 1)
    return rows, next_ids


def state_of(store: Store) -> tuple[Model, NextIds]:
    rows: Model = {}
    next_ids: NextIds = {}
    for project in PROJECTS:
        for table_name in TABLES:
            table = store.table(project, table_name)
            rows[(project, table_name)] = {record["id"]: record for record in table.values()}
            next_ids[(project, table_name)] = table.next_id
    return rows, next_ids


def ordered(rows: Model) -> dict[tuple[int, str], list[tuple[Any, dict[str, Any]]]]:
    """Rows with their order: the store keeps insertion order and dump() returns lists."""
    return {where: list(table.items()) for where, table in rows.items()}


# -- operations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Put:
    project: int
    table: str
    key: Any
    value: int


@dataclass(frozen=True)
class Delete:
    project: int
    table: str
    key: Any


@dataclass(frozen=True)
class Allocate:
    project: int
    table: str


Op = Put | Delete | Allocate
where = {"project": st.sampled_from(PROJECTS), "table": st.sampled_from(TABLES)}
ops = st.one_of(
    st.builds(Put, key=KEYS, value=st.integers(0, 99), **where),
    st.builds(Delete, key=KEYS, **where),
    st.builds(Allocate, **where),
)


@dataclass(frozen=True)
class Transaction:
    ops: list[Op]
    fail_after: int | None  # raise after this many ops, or commit


transactions = st.builds(
    Transaction,
    ops=st.lists(ops, max_size=8),
    fail_after=st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
)


class Boom(Exception):
    pass


def apply_to_store(store: Store, op: Op) -> None:
    table = store.table(op.project, op.table)
    if isinstance(op, Put):
        table.put(op.key, {"id": op.key, "v": op.value})
    elif isinstance(op, Delete):
        table.delete(op.key)
    else:
        allocated = table.allocate_id()
        table.put(allocated, {"id": allocated, "v": "allocated"})


def apply_to_model(rows: Model, next_ids: NextIds, op: Op) -> None:
    table = rows[(op.project, op.table)]
    if isinstance(op, Put):
        table[op.key] = {"id": op.key, "v": op.value}
    elif isinstance(op, Delete):
        table.pop(op.key, None)
    else:
        allocated = next_ids[(op.project, op.table)]
        next_ids[(op.project, op.table)] = allocated + 1
        table[allocated] = {"id": allocated, "v": "allocated"}


def run(store: Store, transaction: Transaction, apply: Callable[[Store, Any], None] | None = None) -> bool:
    """Run one transaction on the store (each op by ``apply``); True if it committed."""
    apply = apply or apply_to_store
    try:
        with store.transaction():
            for index, op in enumerate(transaction.ops):
                if transaction.fail_after == index:
                    raise Boom
                apply(store, op)
            if transaction.fail_after is not None and transaction.fail_after >= len(transaction.ops):
                raise Boom
    except Boom:
        return False
    return True


def model_run(rows: Model, next_ids: NextIds, transaction: Transaction) -> tuple[Model, NextIds]:
    """The model's answer: all of a transaction's ops, or (when it fails) none of them."""
    if transaction.fail_after is not None:
        return rows, next_ids
    rows = {where: dict(table) for where, table in rows.items()}
    next_ids = dict(next_ids)
    for op in transaction.ops:
        apply_to_model(rows, next_ids, op)
    return rows, next_ids


# -- properties ---------------------------------------------------------------------------------------
@SETTINGS
@given(st.lists(transactions, max_size=12))
def test_transactions_match_a_dict_model(history: list[Transaction]) -> None:
    """After every transaction, committed or failed, the store holds exactly the model's rows and ids."""
    store = Store(make_snapshot())
    rows, next_ids = model_of(store.snapshot)
    for transaction in history:
        run(store, transaction)
        rows, next_ids = model_run(rows, next_ids, transaction)
        actual_rows, actual_ids = state_of(store)
        assert actual_rows == rows
        assert actual_ids == next_ids


@SETTINGS
@given(st.lists(transactions, max_size=6), transactions.filter(lambda t: t.fail_after is not None))
def test_a_failed_transaction_restores_the_exact_state_and_order(
    history: list[Transaction], failing: Transaction
) -> None:
    """Rollback is exact: same rows, same ids, same row order, same dump() bytes as before."""
    store = Store(make_snapshot())
    for transaction in history:
        run(store, transaction)
    before_dump = copy.deepcopy(store.dump())
    before_rows, before_ids = state_of(store)
    assert not run(store, failing)
    after_rows, after_ids = state_of(store)
    assert after_ids == before_ids
    assert ordered(after_rows) == ordered(before_rows)
    assert store.dump() == before_dump


@SETTINGS
@given(st.lists(transactions, max_size=10))
def test_reset_returns_to_the_snapshot_and_never_mutates_it(history: list[Transaction]) -> None:
    """Whatever happened, reset gives the seeded rows and ids back, and the snapshot's rows (shared
    with the tables until their first write) were never changed in place."""
    snapshot = make_snapshot()
    pristine = copy.deepcopy(snapshot.tables), copy.deepcopy(snapshot.next_ids)
    store = Store(snapshot)
    seeded_dump = copy.deepcopy(store.dump())
    seeded_state = state_of(store)
    for transaction in history:
        run(store, transaction)
        assert (snapshot.tables, snapshot.next_ids) == pristine
    store.reset()
    assert (snapshot.tables, snapshot.next_ids) == pristine
    assert store.dump() == seeded_dump
    assert state_of(store) == seeded_state
    # and the store is fully usable again after a reset
    run(store, Transaction([Put(1, "alpha", 1, 7)], None))
    assert store.table(1, "alpha").get(1) == {"id": 1, "v": 7}
    assert snapshot.tables[1]["alpha"][1] == {"id": 1, "v": "seed-1"}


@SETTINGS
@given(st.lists(transactions, max_size=8), st.sampled_from(PROJECTS))
def test_reset_project_touches_only_that_project(history: list[Transaction], project: int) -> None:
    store = Store(make_snapshot())
    if not hasattr(store, "reset_project"):
        pytest.skip("this store has no reset_project")
    seeded = state_of(store)
    for transaction in history:
        run(store, transaction)
    changed = state_of(store)
    store.reset_project(project)
    rows, ids = state_of(store)
    for where in rows:
        source = seeded if where[0] == project else changed
        assert rows[where] == source[0][where]
        assert ids[where] == source[1][where]


@SETTINGS
@given(st.lists(ops, min_size=1, max_size=6), st.lists(ops, max_size=6))
def test_a_failed_inner_transaction_caught_by_the_outer_one_undoes_its_own_writes(
    inner: list[Op], outer_after: list[Op]
) -> None:
    """``transaction()`` promises: "if the block raises, every write made inside it is undone" —
    that must hold for a nested block too, even when the outer block catches the error and commits."""
    store = Store(make_snapshot())
    rows, next_ids = model_of(store.snapshot)
    with store.transaction():
        try:
            with store.transaction():
                for op in inner:
                    apply_to_store(store, op)
                raise Boom
        except Boom:
            pass
        for op in outer_after:
            apply_to_store(store, op)
    for op in outer_after:
        apply_to_model(rows, next_ids, op)
    actual_rows, _ = state_of(store)
    assert actual_rows == rows


@SETTINGS
@given(st.lists(st.sampled_from(TABLES), min_size=1, max_size=20), st.booleans())
def test_allocated_ids_are_unique_and_never_reused(tables: list[str], fail: bool) -> None:
    """Ids from allocate_id are increasing per table, never reused after a delete; a failed
    transaction gives its ids back (like a rolled-back sequence in mockhog's model)."""
    store = Store(make_snapshot())
    seen: dict[str, list[int]] = {name: [] for name in TABLES}
    for name in tables:
        with store.transaction():
            table = store.table(1, name)
            allocated = table.allocate_id()
            table.put(allocated, {"id": allocated})
            table.delete(allocated)
        seen[name].append(allocated)
    for ids in seen.values():
        assert ids == sorted(set(ids))
    before = {name: store.table(1, name).next_id for name in TABLES}
    try:
        with store.transaction():
            for name in tables:
                store.table(1, name).allocate_id()
            if fail:
                raise Boom
    except Boom:
        pass
    after = {name: store.table(1, name).next_id for name in TABLES}
    expected = {name: before[name] + (0 if fail else tables.count(name)) for name in TABLES}
    assert after == expected


# -- indexes ------------------------------------------------------------------------------------------
# Small alphabets, so that keys collide, rows share buckets and unique keys get refused.
UUIDS = st.sampled_from(["u1", "u2", "u3", "u4"])
DISTINCT = st.lists(st.sampled_from(["d1", "d2", "d3", "d4", "d5"]), max_size=3)
TAGS = st.sampled_from(["red", "blue", None])
PATHS = st.sampled_from(["a", "a/b", "a/b/c", "a\\/b", "a\\/b/c", "ab/c", "b", "b/a"])
INDEXED = {
    "people": (
        Index("uuid", unique=True),
        Index("distinct_ids", unique=True, each=True),
        Index("tag"),
        Index(("tag", "n"), name="tag_n"),
        Index(("tag", "n"), unique=True, name="tag_n_unique_when_red"),
        Index("path"),
        Index("path", derive=folders_above, name="under"),
    )
}
# What each index answers, as a scan over the table's rows says it.
SCANS = {
    "uuid": lambda row, value: row.get("uuid") == value,
    "distinct_ids": lambda row, value: value in (row.get("distinct_ids") or []),
    "tag": lambda row, value: row.get("tag") == value,
    "tag_n": lambda row, value: (row.get("tag"), row.get("n")) == value,
    "tag_n_unique_when_red": lambda row, value: (row.get("tag"), row.get("n")) == value,
    "path": lambda row, value: row.get("path") == value,
    "under": lambda row, value: isinstance(row.get("path"), str) and row["path"].startswith(value + "/"),
}
QUERIES = {
    "uuid": ["u1", "u2", "u3", "u4", "nope", None],
    "distinct_ids": ["d1", "d2", "d3", "d4", "d5", "nope"],
    "tag": ["red", "blue", None, "green"],
    "tag_n": [(tag, n) for tag in ("red", "blue", None) for n in (0, 1, 2)],
    "tag_n_unique_when_red": [("red", n) for n in (0, 1, 2)],
    "path": ["a", "a/b", "a\\/b", "b", "zzz"],
    "under": ["a", "a\\", "a/b", "a\\/b", "ab", "b", "", "zzz"],
}


def unique_keys(index: Index, row: dict[str, Any]) -> list[Any]:
    return index.keys(row) if index.unique else []


@dataclass(frozen=True)
class PutPerson:
    project: int
    key: int
    uuid: str
    distinct_ids: list[str]
    tag: str | None
    n: int
    path: str
    deleted: bool

    def record(self) -> dict[str, Any]:
        # only red rows take part in the unique (tag, n) index: the others leave n out (None)
        record = {"id": self.key, "uuid": self.uuid, "distinct_ids": self.distinct_ids, "tag": self.tag}
        record |= {"n": self.n if self.tag == "red" else None, "path": self.path}
        return record | ({"_deleted": True} if self.deleted else {})


@dataclass(frozen=True)
class DeletePerson:
    project: int
    key: int


@dataclass(frozen=True)
class Savepoint:
    """A nested transaction that fails (undone alone) or commits."""

    ops: list[Any]
    fails: bool


@dataclass(frozen=True)
class Reset:
    project: int | None  # None: the whole store


person_keys = st.integers(min_value=1, max_value=6)
puts = st.builds(
    PutPerson,
    project=st.sampled_from(PROJECTS),
    key=person_keys,
    uuid=UUIDS,
    distinct_ids=DISTINCT,
    tag=TAGS,
    n=st.integers(0, 2),
    path=PATHS,
    deleted=st.booleans(),
)
person_ops = st.one_of(puts, st.builds(DeletePerson, project=st.sampled_from(PROJECTS), key=person_keys))
steps = st.one_of(
    st.builds(
        Transaction,
        ops=st.lists(
            st.one_of(
                person_ops, st.builds(Savepoint, ops=st.lists(person_ops, max_size=4), fails=st.booleans())
            ),
            max_size=6,
        ),
        fail_after=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
    ),
    st.builds(Reset, project=st.one_of(st.none(), st.sampled_from(PROJECTS))),
)


def indexed_snapshot() -> Snapshot:
    seed = {
        1: {"id": 1, "uuid": "u1", "distinct_ids": ["d1", "d2"], "tag": "red", "n": 0, "path": "a/b"},
        2: {"id": 2, "uuid": "u2", "distinct_ids": [], "tag": "blue", "n": None, "path": "a"},
        3: {
            "id": 3,
            "uuid": "u3",
            "distinct_ids": ["d3"],
            "tag": "red",
            "n": 1,
            "path": "b",
            "_deleted": True,
        },
    }
    return Snapshot({1: {"people": dict(seed)}, 2: {"people": {}}}, {})


def apply_person(store: Store, op: Any) -> None:
    """One write; a put is refused (UniqueViolation) exactly when a scan finds its unique key taken."""
    if isinstance(op, Savepoint):
        try:
            with store.transaction():
                for inner in op.ops:
                    apply_person(store, inner)
                if op.fails:
                    raise Boom
        except Boom:
            pass
        return
    table = store.table(op.project, "people")
    if isinstance(op, DeletePerson):
        table.delete(op.key)
        return
    record = op.record()
    taken = any(
        key in unique_keys(index, other)
        for index in INDEXED["people"]
        for key in unique_keys(index, record)
        for other in table.values()
        if other["id"] != op.key
    )
    before = table.values()
    if taken:
        with pytest.raises(UniqueViolation):
            table.put(op.key, record)
        assert table.values() == before  # a refused write changes nothing
    else:
        table.put(op.key, record)


def run_step(store: Store, step: Transaction | Reset) -> None:
    if isinstance(step, Reset):
        if step.project is None:
            store.reset()
        else:
            store.reset_project(step.project)
        return
    run(store, step, apply_person)


def assert_indexes_agree_with_scans(store: Store) -> None:
    for project in PROJECTS:
        table = store.table(project, "people")
        visible = [row for row in table.values() if not row.get("_deleted")]
        for name, values in QUERIES.items():
            for value in values:
                scanned = [row for row in visible if SCANS[name](row, value)]
                if name in ("uuid", "distinct_ids", "tag_n_unique_when_red"):
                    scanned = [row for row in scanned if value is not None]  # NULL binds nothing
                assert table.lookup(name, value) == scanned, (project, name, value)
                assert table.count(name, value) == len(scanned)
                assert table.find(name, value) == (scanned[0] if scanned else None)


@SETTINGS
@given(st.lists(steps, max_size=12))
def test_every_index_lookup_agrees_with_a_full_scan(history: list[Transaction | Reset]) -> None:
    """After random creates, updates, soft and hard deletes, savepoints, rollbacks and resets, every
    index answers what a scan of the rows answers, in the same order, and unique keys stay unique."""
    store = Store(indexed_snapshot(), INDEXED)
    assert_indexes_agree_with_scans(store)
    for step in history:
        run_step(store, step)
        assert_indexes_agree_with_scans(store)


@SETTINGS
@given(st.lists(steps, max_size=8), st.lists(person_ops, min_size=1, max_size=8))
def test_a_rollback_restores_rows_order_and_indexes(
    history: list[Transaction | Reset], failing: list[Any]
) -> None:
    store = Store(indexed_snapshot(), INDEXED)
    for step in history:
        run_step(store, step)
    before = copy.deepcopy(store.dump())
    run_step(store, Transaction(failing, fail_after=len(failing)))
    assert store.dump() == before
    assert_indexes_agree_with_scans(store)


def test_many_deletes_sweep_their_tombstones_and_keep_order() -> None:
    """Deleting most of a table leaves tombstones that are swept after the transaction; order and
    lookups survive, and a key that comes back goes to the end like in a dict."""
    rows = {n: {"id": n, "tag": "red" if n % 2 else "blue", "path": f"f/{n}"} for n in range(1, 301)}
    store = Store(Snapshot({1: {"people": rows}}, {}), INDEXED)
    table = store.table(1, "people")
    with store.transaction():
        for n in range(1, 251):
            table.delete(n)
    assert table._gone == 0  # swept once no undo can need the tombstones
    assert [row["id"] for row in table.values()] == list(range(251, 301))
    table.put(7, {"id": 7, "tag": "red", "path": "f/7"})
    assert [row["id"] for row in table.values()][-1] == 7
    assert [row["id"] for row in table.lookup("under", "f")] == [*range(251, 301), 7]
    assert_red = [row["id"] for row in table.values() if row["tag"] == "red"]
    assert [row["id"] for row in table.lookup("tag", "red")] == assert_red
    assert len(table) == 51 and rows[7] == {"id": 7, "tag": "red", "path": "f/7"}


def test_a_seed_that_repeats_a_unique_key_is_refused_when_its_indexes_are_built() -> None:
    rows = {1: {"id": 1, "uuid": "same"}, 2: {"id": 2, "uuid": "same"}}
    store = Store(Snapshot({1: {"people": rows}}, {}), INDEXED)  # indexes are built on first use
    with pytest.raises(
        UniqueViolation, match=r"people [(]project 1[)]: uuid 'same' already belongs to the row 1"
    ):
        store.build_indexes()
    with pytest.raises(UniqueViolation):
        store.table(1, "people").find("uuid", "same")


def test_an_undeclared_index_is_named_in_the_error() -> None:
    store = Store(indexed_snapshot(), INDEXED)
    with pytest.raises(KeyError, match="no index named 'email'"):
        store.table(1, "people").lookup("email", "x")
