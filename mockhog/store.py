"""The in-memory store: per-project tables, declared indexes, transactions that roll back, O(1) reset.

Records are plain dicts and are never changed in place: a change puts a new dict. That lets a
table share its rows (and their indexes) with the seed snapshot until its first write (copy on
write), so a reset only drops the live copies.

Every write costs the same whatever the table's size: a put or delete touches one row and the
index entries of that row; a delete leaves a tombstone in the row's slot, so undoing it puts the
row back in place without a search, and tombstones are swept once no transaction can undo them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Rows = dict[Any, Record]

_MISSING = object()
_GONE = object()  # a deleted row's slot, kept so that an undo restores the row in its place
_NEXT_ID = object()  # undo key for a table's id sequence
_SWEEP_AT = 64  # tombstones a table keeps before sweeping them (when more than its live rows)


class UniqueViolation(ValueError):
    """A write that would give a unique index's key to a second row (a database IntegrityError)."""


@dataclass(frozen=True)
class Index:
    """One declared secondary index of a table: which rows a value finds.

    ``fields`` names one field, or several whose values together make the key. ``unique``: at
    most one row per key. ``each``: the field is a list and every item is a key (a person's
    distinct ids). ``derive``: the keys are computed from the field's value (every folder above
    a path). A missing field reads as ``None``, which a lookup index files like any value (as a
    scan's ``row.get(field) == None`` finds it) and a unique one never (SQL's NULLs are distinct).
    Soft-deleted rows (``_deleted``) are in no secondary index, as they are in no list.
    """

    fields: str | tuple[str, ...]
    unique: bool = False
    each: bool = False
    derive: Callable[[Any], Iterable[Hashable]] | None = None
    name: str = ""
    _fields: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _plain: bool = field(init=False, repr=False, compare=False)  # one field, its value is the key

    def __post_init__(self) -> None:
        names = (self.fields,) if isinstance(self.fields, str) else tuple(self.fields)
        object.__setattr__(self, "_fields", names)
        object.__setattr__(self, "_plain", isinstance(self.fields, str) and not self.each and not self.derive)
        if not self.name:
            object.__setattr__(self, "name", "+".join(names))

    def keys(self, record: Record) -> list[Hashable]:
        """The keys under which ``record`` is found (none for a soft-deleted row)."""
        if record.get("_deleted"):
            return []
        if self._plain:
            value = record.get(self._fields[0])
            if value is None:
                return [] if self.unique else [None]
            try:
                hash(value)
            except TypeError:  # a list or dict value equals no query value
                return []
            return [value]
        if len(self._fields) > 1:
            raw: Iterable[Any] = (tuple(record.get(name) for name in self._fields),)
        else:
            value = record.get(self._fields[0])
            if self.derive is not None:
                raw = () if value is None else self.derive(value)
            elif self.each:
                raw = value if isinstance(value, list) else ()
            else:
                raw = (value,)
        keys: list[Hashable] = []
        for key in raw:
            if key in keys or (self.unique and (key is None or (type(key) is tuple and None in key))):
                continue
            try:
                hash(key)
            except TypeError:  # a list or dict value equals no query value
                continue
            keys.append(key)
        return keys


class _Indexes:
    """One table's secondary indexes: key -> primary key (unique) or key -> {primary keys}
    (lookup, a dict used as an ordered set), and each row's place in the table's order.

    A copy shares the buckets of lookup indexes with its source until it changes one."""

    def __init__(
        self,
        specs: Sequence[Index],
        maps: list[dict[Any, Any]],
        place: dict[Any, int],
        next_place: int,
        owned: list[set[Any]] | None,
    ) -> None:
        self.specs = specs
        self.by_name = {spec.name: number for number, spec in enumerate(specs)}
        self.maps = maps
        # Rows' places in table order, for lookup buckets only (a unique key finds one row).
        self.keeps_order = any(not spec.unique for spec in specs)
        self.place = place
        self.next_place = next_place
        # per lookup index: keys whose bucket this copy made its own (None: it built them all)
        self._owned = owned

    @classmethod
    def build(cls, specs: Sequence[Index], rows: Rows, where: str) -> _Indexes:
        indexes = cls(specs, [{} for _ in specs], {}, 0, None)
        if not specs:
            return indexes
        live = [(key, record) for key, record in rows.items() if record is not _GONE]
        for spec, index in zip(specs, indexes.maps, strict=True):
            keys_of = spec.keys
            for key, record in live:
                for k in keys_of(record):
                    if spec.unique:
                        holder = index.setdefault(k, key)
                        if holder != key:
                            raise UniqueViolation(
                                f"{where}: {spec.name} {k!r} already belongs to the row {holder!r}"
                            )
                    elif k in index:
                        index[k][key] = None
                    else:
                        index[k] = {key: None}
        if indexes.keeps_order:
            indexes.place = {key: number for number, (key, _) in enumerate(live)}
            indexes.next_place = len(live)
        return indexes

    def copy(self) -> _Indexes:
        maps = [dict(index) for index in self.maps]
        return _Indexes(self.specs, maps, dict(self.place), self.next_place, [set() for _ in self.specs])

    def placed(self, key: Any) -> None:
        """``key`` is (again) the table's newest row."""
        if not self.keeps_order:
            return
        self.place[key] = self.next_place
        self.next_place += 1

    def replace(self, key: Any, old: Record | None, new: Record | None, where: str) -> None:
        """Move ``key``'s entries from the keys of ``old`` to those of ``new`` (either may be None).

        Unique keys are checked before anything changes, so a refused write leaves no trace."""
        changes = []
        for number, spec in enumerate(self.specs):
            before = spec.keys(old) if old is not None else []
            after = spec.keys(new) if new is not None else []
            if before == after:
                continue
            gone = [k for k in before if k not in after]
            added = [k for k in after if k not in before]
            if spec.unique:
                index = self.maps[number]
                for k in added:
                    holder = index.get(k, _MISSING)
                    if holder is not _MISSING and holder != key:
                        raise UniqueViolation(
                            f"{where}: {spec.name} {k!r} already belongs to the row {holder!r}"
                        )
            changes.append((number, spec, gone, added))
        for number, spec, gone, added in changes:
            index = self.maps[number]
            if spec.unique:
                for k in gone:
                    index.pop(k, None)
                for k in added:
                    index[k] = key
                continue
            for k in gone:
                bucket = self._bucket(number, k)
                bucket.pop(key, None)
                if not bucket:
                    del index[k]
            for k in added:
                self._bucket(number, k)[key] = None

    def _bucket(self, number: int, k: Any) -> dict[Any, None]:
        """The lookup bucket of key ``k``, made this copy's own before it is changed."""
        index = self.maps[number]
        if self._owned is not None and k not in self._owned[number]:
            self._owned[number].add(k)
            index[k] = dict(index.get(k, ()))
            return index[k]
        return index.setdefault(k, {})

    def keys_for(self, name: str, value: Any) -> list[Any]:
        """Primary keys of the rows under ``value``, in table order."""
        number = self.by_name.get(name)
        if number is None:
            raise KeyError(f"no index named {name!r} (declared: {', '.join(self.by_name) or 'none'})")
        try:
            found = self.maps[number].get(value, _MISSING)
        except TypeError:  # an unhashable value is no row's key
            return []
        if found is _MISSING:
            return []
        if self.specs[number].unique:
            return [found]
        if len(found) == 1:
            return list(found)
        return sorted(found, key=self.place.__getitem__)

    def count(self, name: str, value: Any) -> int:
        number = self.by_name[name]
        try:
            found = self.maps[number].get(value, _MISSING)
        except TypeError:
            return 0
        if found is _MISSING:
            return 0
        return 1 if self.specs[number].unique else len(found)


class Table:
    """One resource's rows in one project, keyed by id, in insertion order, with its indexes."""

    def __init__(
        self, store: Store, name: str, rows: Rows, next_id: int, seed: tuple[int, str] | None
    ) -> None:
        self._store = store
        self.name = name
        self._rows = rows
        self._gone = 0  # tombstones in _rows
        self._owned = False
        self._seed = seed  # (project, name) of the snapshot rows it starts from
        self._built: _Indexes | None = None  # built on first use: a table nobody queries costs nothing
        self.next_id = next_id
        # Values computed from the rows (a sorted order, serialized views), dropped on any change.
        self.derived: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self._rows) - self._gone

    def __contains__(self, key: Any) -> bool:
        return self._rows.get(key, _GONE) is not _GONE

    def get(self, key: Any) -> Record | None:
        found = self._rows.get(key)
        return None if found is _GONE else found

    def values(self) -> list[Record]:
        if self._gone:
            return [record for record in self._rows.values() if record is not _GONE]
        return list(self._rows.values())

    # -- index lookups ---------------------------------------------------------------------------
    @property
    def _indexes(self) -> _Indexes:
        if self._built is None:
            self._built = self._store.indexes_of(self)
        return self._built

    def find(self, index: str, value: Any) -> Record | None:
        """The first row (in table order) that ``index`` files under ``value``, or None."""
        keys = self._indexes.keys_for(index, value)
        return self._rows[keys[0]] if keys else None

    def lookup(self, index: str, value: Any) -> list[Record]:
        """Every row that ``index`` files under ``value``, in table order (what a scan finds)."""
        rows = self._rows
        return [rows[key] for key in self._indexes.keys_for(index, value)]

    def count(self, index: str, value: Any) -> int:
        """How many rows ``lookup`` would return, without building them (to pick the narrowest)."""
        return self._indexes.count(index, value)

    @property
    def index_names(self) -> list[str]:
        return list(self._indexes.by_name)

    # -- writes ----------------------------------------------------------------------------------
    def allocate_id(self) -> int:
        """Next integer id, like a database sequence (ids are not reused after a delete)."""
        self._store.remember(self, _NEXT_ID, self.next_id, None)
        self.next_id += 1
        return self.next_id - 1

    def put(self, key: Any, record: Record) -> None:
        self._own()
        previous = self._rows.get(key, _MISSING)
        live = previous if previous is not _MISSING and previous is not _GONE else None
        self._indexes.replace(key, live, record, self.name)
        self.derived.clear()
        if previous is _GONE:
            # A key that comes back goes to the end, as in a dict; its tombstone's place is kept
            # for an undo (a rare case: new rows get new keys, so this search is almost never made).
            position = list(self._rows).index(key)
            self._store.remember(self, key, _GONE, (position, self._indexes.place.get(key)))
            del self._rows[key]
            self._gone -= 1
        else:
            self._store.remember(self, key, previous, None)
        if live is None:
            self._indexes.placed(key)
        self._rows[key] = record

    def delete(self, key: Any) -> None:
        previous = self._rows.get(key, _GONE)
        if previous is _GONE:
            return
        self._own()
        self._indexes.replace(key, previous, None, self.name)
        self.derived.clear()
        self._store.remember(self, key, previous, None)
        self._rows[key] = _GONE
        self._gone += 1
        if not self._store.in_transaction:
            self.sweep()

    def sweep(self) -> None:
        """Drop the tombstones once they outnumber the live rows (never while an undo may need them)."""
        if self._gone > _SWEEP_AT and self._gone > len(self):
            place = self._indexes.place
            for key in [key for key, record in self._rows.items() if record is _GONE]:
                del self._rows[key]
                place.pop(key, None)
            self._gone = 0

    def _own(self) -> None:
        if not self._owned:
            shared = self._indexes  # the snapshot's, until now
            self._rows = dict(self._rows)
            self._built = shared.copy()
            self._owned = True

    def _restore(self, key: Any, previous: Any, extra: Any) -> None:
        self.derived.clear()
        if key is _NEXT_ID:
            self.next_id = previous
            return
        current = self._rows.get(key, _MISSING)
        live = current if current is not _MISSING and current is not _GONE else None
        if previous is _MISSING:  # undo an insert
            self._indexes.replace(key, live, None, self.name)
            del self._rows[key]
            self._indexes.place.pop(key, None)
        elif previous is _GONE:  # undo a put over a tombstone: the tombstone back in its slot
            self._indexes.replace(key, live, None, self.name)
            position, place = extra
            items = [item for item in self._rows.items() if item[0] != key]
            items.insert(position, (key, _GONE))
            self._rows = dict(items)
            if place is not None:
                self._indexes.place[key] = place
            self._gone += 1
        else:  # undo an update or a delete: the old row back in its own slot
            self._indexes.replace(key, live, previous, self.name)
            if current is _GONE:
                self._gone -= 1
            self._rows[key] = previous


class Snapshot:
    """The seeded state: ``{project_id: {table: rows}}`` plus the next integer id per table.

    ``lazy(scope, table)`` seeds a table the snapshot lacks on its first use (every table: none
    is built before a request needs it); ``seedable(scope)`` names the tables a scope has before
    any request (a dump shows them all, touched or not)."""

    def __init__(
        self,
        tables: dict[Any, dict[str, Rows]],
        next_ids: dict[Any, dict[str, int]],
        lazy: Callable[[Any, str], Rows] | None = None,
        seedable: Callable[[Any], Iterable[str]] | None = None,
    ):
        self.tables = tables
        self.next_ids = next_ids
        self.lazy = lazy
        self.seedable = seedable

    def seed_table(self, scope: Any, name: str) -> tuple[Rows, int] | None:
        """A lazy table's seeded rows and next id, built now and kept for resets (None: the
        snapshot has no lazy seeder)."""
        if self.lazy is None:
            return None
        tables = self.tables.setdefault(scope, {})
        if name not in tables:
            rows = self.lazy(scope, name)
            tables[name] = rows
            self.next_ids.setdefault(scope, {})[name] = 1 + max(
                (k for k in rows if isinstance(k, int)), default=0
            )
        return tables[name], self.next_ids.get(scope, {}).get(name, 1)


class Store:
    """All projects' tables behind one lock; writes run in transactions that roll back on error.

    ``indexes`` declares each table's secondary indexes by table name (the same in every project);
    they are built once per seeded table, shared until a table's first write, and kept right by
    every put, delete and rollback.
    """

    def __init__(self, snapshot: Snapshot, indexes: Mapping[str, Sequence[Index]] | None = None) -> None:
        self.lock = threading.RLock()
        self.declared: dict[str, tuple[Index, ...]] = {
            name: tuple(specs) for name, specs in (indexes or {}).items()
        }
        self._undo: list[tuple[Table, Any, Any, Any]] | None = None
        self.load(snapshot)

    def load(self, snapshot: Snapshot) -> None:
        with self.lock:
            self.snapshot = snapshot
            # The seeded tables' indexes, built once per snapshot on first use and shared by
            # every reset (a reset builds nothing).
            self._seed_indexes: dict[tuple[int, str], _Indexes] = {}
            self._projects: dict[int, dict[str, Table]] = {}
            for project_id in snapshot.tables:
                self._projects[project_id] = self._seeded_tables(project_id)

    def _seeded_tables(self, project_id: int) -> dict[str, Table]:
        counters = self.snapshot.next_ids.get(project_id, {})
        return {
            name: Table(self, name, rows, counters.get(name, 1), (project_id, name))
            for name, rows in self.snapshot.tables[project_id].items()
        }

    def reset(self) -> None:
        """Back to the snapshot: tables drop their live copies and share the seed rows again."""
        with self.lock:
            self._projects = {
                project_id: self._seeded_tables(project_id) for project_id in self.snapshot.tables
            }

    def reset_project(self, project_id: int) -> None:
        """One project back to the snapshot; the others keep their changes."""
        with self.lock:
            self._projects[project_id] = self._seeded_tables(project_id)

    def project_ids(self) -> list[int]:
        return list(self._projects)

    def has_project(self, project_id: int) -> bool:
        return project_id in self._projects

    def table(self, project_id: int, name: str) -> Table:
        tables = self._projects[project_id]
        table = tables.get(name)
        if table is None:
            seeded = self.snapshot.seed_table(project_id, name)
            if seeded is None:
                table = tables[name] = Table(self, name, {}, 1, None)
            else:  # seeded on first use, shared with the snapshot like any seeded table
                table = tables[name] = Table(self, name, seeded[0], seeded[1], (project_id, name))
        return table

    def existing(self, project_id: int, name: str) -> Table | None:
        """A table already in use, or None: a read that must not seed one (an unwritten table is
        its empty seed)."""
        return self._projects[project_id].get(name)

    def indexes_of(self, table: Table) -> _Indexes:
        """A table's indexes: the snapshot's (built now if need be) while it shares the seeded rows."""
        specs = self.declared.get(table.name, ())
        where = table.name if table._seed is None else f"{table.name} (project {table._seed[0]})"
        if table._owned or table._seed is None:
            return _Indexes.build(specs, table._rows, where)
        with self.lock:
            built = self._seed_indexes.get(table._seed)
            if built is None:
                built = self._seed_indexes[table._seed] = _Indexes.build(specs, table._rows, where)
            return built

    def build_indexes(self) -> None:
        """Build every seeded table's indexes now, so that a unique key repeated by a fixture
        is an error at start (UniqueViolation) rather than at the first request."""
        with self.lock:
            for tables in self._projects.values():
                for table in tables.values():
                    table.index_names  # noqa: B018 - building them is the point

    def dump(self, project_id: int | None = None) -> dict[int, dict[str, list[Record]]]:
        """Every row of every table (or of one project), for comparing states."""
        with self.lock:
            ids = [project_id] if project_id is not None else self.project_ids()
            for pid in ids if self.snapshot.seedable is not None else ():
                for name in self.snapshot.seedable(pid):
                    self.table(pid, name)
            # An empty table and a missing one are the same state (tables appear on first use).
            return {
                pid: {
                    name: table.values() for name, table in sorted(self._projects[pid].items()) if len(table)
                }
                for pid in ids
            }

    @property
    def in_transaction(self) -> bool:
        return self._undo is not None

    def transaction(self) -> _Transaction:
        """Hold the lock; if the block raises, every write made inside it is undone.

        Transactions nest like savepoints: an inner one that fails undoes only its own writes.
        """
        return _Transaction(self)

    def remember(self, table: Table, key: Any, previous: Any, extra: Any) -> None:
        if self._undo is not None:
            self._undo.append((table, key, previous, extra))


class _Transaction:
    """``Store.transaction()``'s context manager: a class rather than a generator, since every
    request opens one (``contextlib``'s machinery costs several times its own work here)."""

    __slots__ = ("store", "outer", "mark")

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        store.lock.acquire()
        self.outer = store._undo is not None
        if not self.outer:
            store._undo = []
        self.mark = len(store._undo)  # type: ignore[arg-type]

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        store = self.store
        undo = store._undo
        assert undo is not None
        try:
            if kind is not None:
                for table, key, previous, extra in reversed(undo[self.mark :]):
                    table._restore(key, previous, extra)
                del undo[self.mark :]
        finally:
            try:
                if not self.outer:
                    touched = {id(entry[0]): entry[0] for entry in undo}
                    store._undo = None
                    for table in touched.values():
                        table.sweep()
            finally:
                store.lock.release()
