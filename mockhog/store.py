"""The in-memory store: per-project tables, transactions that roll back, and O(1) reset.

Records are plain dicts and are never changed in place: a change puts a new dict. That lets a
table share its rows with the seed snapshot until its first write (copy on write), so a reset
only drops the live copies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Record = dict[str, Any]
Rows = dict[Any, Record]

_MISSING = object()
_NEXT_ID = object()  # journal key for a table's id sequence


class Table:
    """One resource's rows in one project, keyed by id, in insertion order."""

    def __init__(self, store: Store, rows: Rows, next_id: int) -> None:
        self._store = store
        self._rows = rows
        self._owned = False
        self.next_id = next_id
        # Values computed from the rows (a sorted order, serialized views), dropped on any change.
        self.derived: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: Any) -> bool:
        return key in self._rows

    def get(self, key: Any) -> Record | None:
        return self._rows.get(key)

    def values(self) -> list[Record]:
        return list(self._rows.values())

    def allocate_id(self) -> int:
        """Next integer id, like a database sequence (ids are not reused after a delete)."""
        self._store.remember(self, _NEXT_ID, self.next_id, None)
        self.next_id += 1
        return self.next_id - 1

    def put(self, key: Any, record: Record) -> None:
        self._own()
        self.derived.clear()
        self._store.remember(self, key, self._rows.get(key, _MISSING), None)
        self._rows[key] = record

    def delete(self, key: Any) -> None:
        self._own()
        self.derived.clear()
        if key in self._rows:
            # where it stood, so that an undo puts it back in the same place
            position = list(self._rows).index(key)
            self._store.remember(self, key, self._rows.pop(key), position)

    def _own(self) -> None:
        if not self._owned:
            self._rows = dict(self._rows)
            self._owned = True

    def _restore(self, key: Any, previous: Any, position: int | None) -> None:
        self.derived.clear()
        if key is _NEXT_ID:
            self.next_id = previous
        elif previous is _MISSING:
            self._rows.pop(key, None)
        elif position is None:
            self._rows[key] = previous
        else:
            items = list(self._rows.items())
            items.insert(position, (key, previous))
            self._rows = dict(items)


class Snapshot:
    """The seeded state: ``{project_id: {table: rows}}`` plus the next integer id per table."""

    def __init__(self, tables: dict[int, dict[str, Rows]], next_ids: dict[int, dict[str, int]]):
        self.tables = tables
        self.next_ids = next_ids


class Store:
    """All projects' tables behind one lock; writes run in transactions that roll back on error."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.lock = threading.RLock()
        self._undo: list[tuple[Table, Any, Any]] | None = None
        self.load(snapshot)

    def load(self, snapshot: Snapshot) -> None:
        with self.lock:
            self.snapshot = snapshot
            self._projects: dict[int, dict[str, Table]] = {}
            for project_id, tables in snapshot.tables.items():
                counters = snapshot.next_ids.get(project_id, {})
                self._projects[project_id] = {
                    name: Table(self, rows, counters.get(name, 1)) for name, rows in tables.items()
                }

    def reset(self) -> None:
        """Back to the snapshot: tables drop their live copies and share the seed rows again."""
        self.load(self.snapshot)

    def reset_project(self, project_id: int) -> None:
        """One project back to the snapshot; the others keep their changes."""
        with self.lock:
            counters = self.snapshot.next_ids.get(project_id, {})
            self._projects[project_id] = {
                name: Table(self, rows, counters.get(name, 1))
                for name, rows in self.snapshot.tables[project_id].items()
            }

    def project_ids(self) -> list[int]:
        return list(self._projects)

    def has_project(self, project_id: int) -> bool:
        return project_id in self._projects

    def table(self, project_id: int, name: str) -> Table:
        tables = self._projects[project_id]
        if name not in tables:
            tables[name] = Table(self, {}, 1)
        return tables[name]

    def dump(self, project_id: int | None = None) -> dict[int, dict[str, list[Record]]]:
        """Every row of every table (or of one project), for comparing states."""
        with self.lock:
            ids = [project_id] if project_id is not None else self.project_ids()
            # An empty table and a missing one are the same state (tables appear on first use).
            return {
                pid: {
                    name: table.values() for name, table in sorted(self._projects[pid].items()) if len(table)
                }
                for pid in ids
            }

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; if the block raises, every write made inside it is undone.

        Transactions nest like savepoints: an inner one that fails undoes only its own writes.
        """
        with self.lock:
            outer = self._undo is not None
            if not outer:
                self._undo = []
            mark = len(self._undo)
            try:
                yield
            except BaseException:
                for table, key, previous, position in reversed(self._undo[mark:]):
                    table._restore(key, previous, position)
                del self._undo[mark:]
                raise
            finally:
                if not outer:
                    self._undo = None

    def remember(self, table: Table, key: Any, previous: Any, position: int | None) -> None:
        if self._undo is not None:
            self._undo.append((table, key, previous, position))
