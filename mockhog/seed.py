"""Seed data: the default profile in fixtures/, filled in by Faker from a seed, plus user fixtures.

The same seed gives byte-identical data: every generator draws from its own seeded Faker and
``random.Random``, and times are measured back from the profile's fixed clock, not from now.

Tables are seeded lazily, on their first use, so a server starts without building data nobody
asks for. Each generator declares the tables it reads and the ones it fills besides its own
(``Resource.seed_reads`` / ``seed_writes``); seeding a table runs its generators and, first, the
earlier generators of every table they read or fill. A generator sees each table as it was just
after the last earlier generator filling it, so any access order gives exactly the rows that
running every generator in catalog order gives (``ProjectSeed.seed_all``).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .datafiles import read_fixture
from .errors import ApiError
from .fakers import SeededFaker, SharedFaker
from .keys import ApiKey, check_scopes
from .spec.viewsets import organization_scope, seed_rows
from .store import Record, Rows, Snapshot, UniqueViolation
from .times import iso

if TYPE_CHECKING:
    from faker import Faker

    from .backend import Backend

# Tables that no served operation owns, but that served resources refer to.
REFERENCE_TABLES = ("insights", "dashboards")


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the record and the field."""


class SeedDeclarationError(RuntimeError):
    """A generator touched a table it does not declare: lazy seeding could not order it."""


def load_profile(name: str = "default") -> dict[str, Any]:
    return read_fixture(name)


@dataclass
class SeedContext:
    """What a resource's seed generator may use: seeded randomness, the profile, earlier tables."""

    project_id: int
    project: dict[str, Any]
    faker: Faker | SeededFaker  # Faker is imported only by the generators that draw from it
    rng: random.Random
    profile: dict[str, Any]
    clock: datetime
    user: dict[str, Any]
    tables: Any = field(default_factory=dict)  # the declared tables (_DeclaredTables)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment(self, max_days_back: float = 90, min_days_back: float = 0) -> str:
        """A time between ``max_days_back`` and ``min_days_back`` days before the seed clock."""
        seconds = self.rng.uniform(min_days_back * 86400, max_days_back * 86400)
        return iso(self.clock - timedelta(seconds=round(seconds, 3)))


PROJECT_SETTINGS = "project_settings"  # the store table of a project's written settings (one row)


@dataclass
class World:
    """The seeded state with who owns it: the snapshot, the user, the projects."""

    snapshot: Snapshot
    user: dict[str, Any]
    projects: dict[int, dict[str, Any]]
    organization: dict[str, Any]
    keys: list[ApiKey] = field(default_factory=list)
    clock: datetime = datetime(2025, 6, 2, 12, tzinfo=UTC)
    profile: dict[str, Any] = field(default_factory=dict)
    seeds: dict[int, ProjectSeed] = field(default_factory=dict)


def build_world(
    backend: Backend, seed: int, fixture_paths: list[Path], overrides: dict[str, Any] | None = None
) -> World:
    """The seeded world: the default profile (its top-level entries replaced by ``overrides``,
    e.g. ``{"persons": {"count": 10000}}``), every project seeded on first use, fixture files
    applied (the tables they touch are seeded at once)."""
    profile = {**load_profile(), **(overrides or {})}
    fixtures = [(path, _read_fixture(path)) for path in fixture_paths]
    projects = {p["id"]: dict(p) for p in profile["projects"]}
    for path, data in fixtures:
        for index, project in enumerate(data.get("projects", [])):
            if not isinstance(project, dict) or not isinstance(project.get("id"), int):
                raise FixtureError(f"{path}: projects[{index}]: field 'id' must be an integer")
            projects[project["id"]] = {**projects.get(project["id"], {}), **project}
    clock = datetime.fromisoformat(profile["clock"].replace("Z", "+00:00"))
    generators = seed_generators(backend)
    faker = SharedFaker()
    lock = threading.RLock()
    seeds: dict[int, ProjectSeed] = {}
    tables: dict[Any, dict[str, Rows]] = {}
    for project_id, project in sorted(projects.items()):
        project.setdefault("name", f"Project {project_id}")
        seeds[project_id] = ProjectSeed(generators, seed, project_id, project, profile, clock, faker, lock)
        tables[project_id] = {}
    for path, data in fixtures:
        for project_key, by_table in data.get("records", {}).items():
            project_seed = seeds.get(int(project_key)) if str(project_key).isdigit() else None
            for table in by_table if project_seed is not None and isinstance(by_table, dict) else ():
                if table in project_seed.writers and table not in tables[project_seed.project_id]:
                    # a copy: fixture records never reach what later generators read
                    tables[project_seed.project_id][table] = dict(project_seed.table(table))
        _apply_records(backend, path, data, tables)
    next_ids = {pid: {name: next_id(rows) for name, rows in t.items()} for pid, t in tables.items()}
    keys = [key for path, data in fixtures for key in _fixture_keys(path, data, projects)]
    # The organization's own tables (members, roles, domains, ...): seeded lazily like every
    # generic table, the world's user, organization and projects among their records.
    organization = profile["organization"]
    tables.setdefault(organization_scope(organization["id"]), {})

    def lazy(scope: Any, name: str) -> Rows:
        project_seed = seeds.get(scope) if isinstance(scope, int) else None
        if project_seed is not None and name == PROJECT_SETTINGS:
            # the settings written since the seed start empty (the seeded record stands); in the
            # Store, a transaction rolls them back and a reset restores the seeded settings
            return {}
        if project_seed is not None and name in project_seed.writers:
            return project_seed.table(name)
        return _generic_rows(backend, scope, name, profile)

    def seedable(scope: Any) -> Iterable[str]:
        project_seed = seeds.get(scope) if isinstance(scope, int) else None
        return list(project_seed.writers) if project_seed is not None else ()

    snapshot = Snapshot(tables, next_ids, lazy=lazy, seedable=seedable)
    return World(snapshot, profile["user"], projects, organization, keys, clock, profile, seeds)


def next_id(rows: Rows) -> int:
    """A table's next integer id after its seeded rows."""
    return 1 + max((k for k in rows if isinstance(k, int)), default=0)


def _generic_rows(backend: Backend, scope: Any, table: str, profile: dict[str, Any]) -> Rows:
    """A generic table's seed (see mockhog.spec.viewsets), with the world's own identities in the
    organization's tables, so ``/api/organizations/@current/`` and friends agree."""
    rows = seed_rows(backend.generic, scope, table, profile)
    own = {"organizations": [backend.world.organization], "users": [backend.world.user]}
    own["projects"] = list(backend.world.projects.values())
    if not isinstance(scope, str) or table not in own:
        return rows
    # only the real identities (one organization, its user and projects), completed by the schema
    key_field = backend.generic.tables.key_field(table)
    generated = list(rows.values())
    merged: Rows = {}
    for index, record in enumerate(own[table]):
        item = {**(generated[index] if index < len(generated) else {}), **record}
        merged[item[key_field]] = item
    return merged


@dataclass(frozen=True)
class Generator:
    """One seed generator: ``make`` returns the records of ``table`` (keyed by ``key_field``) and
    may fill the ``writes`` tables itself; it reads the ``reads`` tables (its own table's earlier
    rows too). ``name`` names its random stream."""

    name: str
    table: str
    make: Callable[[SeedContext], list[Record]]
    key_field: str = "id"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


def seed_generators(backend: Backend) -> list[Generator]:
    """Every generator, in the order that defines the seeded data: the reference rows, then the
    catalog's resources."""
    generators = [Generator("reference", REFERENCE_TABLES[0], _reference_rows, writes=REFERENCE_TABLES[1:])]
    for name, resource in backend.resources.items():
        table = resource.table_name
        assert table is not None
        generators.append(
            Generator(
                name, table, resource.seed, resource.key_field, resource.seed_reads, resource.seed_writes
            )
        )
    return generators


def _reference_rows(ctx: SeedContext) -> list[Record]:
    for name in REFERENCE_TABLES:
        ctx.tables.setdefault(name, {}).update(
            (index, {"id": index, "name": title, "created_at": ctx.moment(365, 120)})
            for index, title in enumerate(ctx.profile[name], start=1)
        )
    return []


class ProjectSeed:
    """One project's seed data, each table built on first use (see the module's docstring)."""

    def __init__(
        self,
        generators: list[Generator],
        seed: int,
        project_id: int,
        project: dict[str, Any],
        profile: dict[str, Any],
        clock: datetime,
        faker: SharedFaker,
        lock: threading.RLock,
    ) -> None:
        self.generators = generators
        self.seed, self.project_id, self.project = seed, project_id, project
        self.profile, self.clock, self.faker, self.lock = profile, clock, faker, lock
        # table -> the generators that fill it, in order
        self.writers: dict[str, list[int]] = {}
        for number, generator in enumerate(generators):
            for table in (generator.table, *generator.writes):
                self.writers.setdefault(table, []).append(number)
        self._after: dict[tuple[int, str], Rows] = {}  # (generator, table) -> the table after it
        self._ran: set[int] = set()

    def table(self, name: str) -> Rows:
        """A table's seeded rows (built now if need be); the same dict on every call."""
        with self.lock:
            writers = self.writers[name]
            for number in writers:
                self._run(number)
            return self._after[(writers[-1], name)]

    def seed_all(self) -> dict[str, Rows]:
        """Every table, generators run in catalog order: what eager seeding gives."""
        with self.lock:
            for number in range(len(self.generators)):
                self._run(number)
            return {name: self.table(name) for name in self.writers}

    @property
    def ran(self) -> list[str]:
        """The generators run so far, in catalog order."""
        return [generator.name for number, generator in enumerate(self.generators) if number in self._ran]

    def _before(self, number: int, table: str) -> Rows | None:
        """``table`` as generator ``number`` finds it: after the last earlier generator filling it."""
        earlier = [w for w in self.writers.get(table, ()) if w < number]
        if not earlier:
            return None
        self._run(earlier[-1])
        return self._after[(earlier[-1], table)]

    def _run(self, number: int) -> None:
        if number in self._ran:
            return
        generator = self.generators[number]
        readable = {}
        for table in generator.reads:
            rows = self._before(number, table)
            if rows is not None:
                readable[table] = MappingProxyType(rows)
        # copies: what earlier generators left stays as it was for the generators reading it
        writable = {
            table: dict(self._before(number, table) or {}) for table in (generator.table, *generator.writes)
        }
        declared = _DeclaredTables(generator, readable, writable)
        # Each generator gets its own stream, so adding one never shifts another's data.
        stream = f"{self.seed}:{self.project_id}:{generator.name}"
        ctx = SeedContext(
            self.project_id,
            self.project,
            SeededFaker(self.faker, stream),
            random.Random(stream),
            self.profile,
            self.clock,
            self.profile["user"],
            declared,
        )
        records = generator.make(ctx)
        own = writable[generator.table]
        for record in records:
            own[record[generator.key_field]] = record
        for table, rows in writable.items():
            self._after[(number, table)] = rows
        self._ran.add(number)


class _DeclaredTables:
    """The tables one generator may touch: its reads (read-only) and its own and side tables."""

    def __init__(self, generator: Generator, readable: dict[str, Any], writable: dict[str, Rows]) -> None:
        self._generator = generator
        self._readable = readable
        self._writable = writable
        self._declared = {generator.table, *generator.reads, *generator.writes}

    def _check(self, name: str) -> None:
        if name not in self._declared:
            raise SeedDeclarationError(
                f"seed generator {self._generator.name!r} touched {name!r}: declare it in seed_reads "
                "or seed_writes"
            )

    def __contains__(self, name: str) -> bool:
        self._check(name)
        return name in self._writable or name in self._readable

    def __getitem__(self, name: str) -> Any:
        self._check(name)
        return self._writable[name] if name in self._writable else self._readable[name]

    def get(self, name: str, default: Any = None) -> Any:
        self._check(name)
        return self._writable[name] if name in self._writable else self._readable.get(name, default)

    def setdefault(self, name: str, default: Rows) -> Rows:
        self._check(name)
        if name not in self._generator.writes and name != self._generator.table:
            raise SeedDeclarationError(f"seed generator {self._generator.name!r} fills {name!r}: declare it")
        return self._writable.setdefault(name, default)


def _read_fixture(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the file ({exc.strerror})") from exc
    except ValueError as exc:
        raise FixtureError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FixtureError(f"{path}: the top level must be an object with 'projects' and 'records'")
    unknown = set(data) - {"projects", "records", "personal_api_keys"}
    if unknown:
        raise FixtureError(f"{path}: unknown top-level key '{sorted(unknown)[0]}'")
    return data


def _fixture_keys(path: Path, data: dict[str, Any], projects: dict[int, Any]) -> list[ApiKey]:
    """``{"personal_api_keys": [{"value", "label"?, "scopes", "scoped_teams"?}]}``."""
    keys = []
    for index, entry in enumerate(data.get("personal_api_keys", [])):
        label = f"{path}: personal_api_keys[{index}]"
        if not isinstance(entry, dict):
            raise FixtureError(f"{label}: a key must be an object")
        value = entry.get("value")
        if not isinstance(value, str) or not value.strip():
            raise FixtureError(f"{label}: field 'value' must be a non-empty string")
        try:
            scopes = check_scopes(entry.get("scopes", ["*"]))
        except ApiError as error:
            raise FixtureError(f"{label}: field 'scopes': {error.body['detail']}") from None
        teams = entry.get("scoped_teams")
        if teams is not None and (not isinstance(teams, list) or any(team not in projects for team in teams)):
            raise FixtureError(f"{label}: field 'scoped_teams' must list declared project ids")
        keys.append(
            ApiKey(f"fixture-{index}", str(entry.get("label", f"fixture key {index}")), value, scopes, teams)
        )
    return keys


def load_records(backend: Backend, data: dict[str, Any], label: str) -> int:
    """Load fixture records (and keys) into the live store, all or nothing; returns how many."""
    unknown = set(data) - {"records", "personal_api_keys"}
    if unknown:
        raise FixtureError(f"{label}: '{sorted(unknown)[0]}' cannot be loaded live (use --fixtures)")
    try:
        with backend.store.transaction():
            count = _apply_records(backend, Path(label), data, _LiveTables(backend))
            keys = _fixture_keys(Path(label), data, backend.projects)
    except UniqueViolation as error:
        raise FixtureError(f"{label}: {error}") from None
    for key in keys:
        backend.keys.add(key)
    return count


class _LiveTables:
    """The live store seen as ``{project: {table: rows}}``, so live loads share the fixture rules."""

    def __init__(self, backend: Backend) -> None:
        self.store = backend.store

    def __contains__(self, project_id: object) -> bool:
        return isinstance(project_id, int) and self.store.has_project(project_id)

    def __getitem__(self, project_id: int) -> _LiveTables:
        self.project_id = project_id
        return self

    def setdefault(self, name: str, _default: Any) -> _LiveRows:
        return _LiveRows(self.store.table(self.project_id, name))


class _LiveRows:
    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: Any, default: Any = None) -> Any:
        found = self.table.get(key)
        return default if found is None else found

    def __setitem__(self, key: Any, record: dict[str, Any]) -> None:
        self.table.put(key, record)


def _apply_records(backend: Backend, path: Path, data: dict[str, Any], tables: Any) -> int:
    """Add or override records: ``{"records": {"<project id>": {"<resource>": [record, ...]}}}``."""
    count = 0
    owners = {r.table_name: r for r in backend.resources.values()}
    for project_key, by_table in data.get("records", {}).items():
        where = f"{path}: records.{project_key}"
        if not str(project_key).isdigit() or int(project_key) not in tables:
            raise FixtureError(f"{where}: no such project (declare it under 'projects')")
        project_tables = tables[int(project_key)]
        for table, records in by_table.items():
            if table not in owners and table not in REFERENCE_TABLES:
                raise FixtureError(f"{where}.{table}: unknown resource '{table}'")
            if not isinstance(records, list):
                raise FixtureError(f"{where}.{table}: must be a list of records")
            rows = project_tables.setdefault(table, {})
            for index, record in enumerate(records):
                label = f"{where}.{table}[{index}]"
                _apply_record(backend, owners.get(table), label, rows, record)
                count += 1
    return count


def _apply_record(backend: Backend, owner: Any, label: str, rows: Rows, record: Any) -> None:
    key_field = owner.key_field if owner else "id"
    if not isinstance(record, dict):
        raise FixtureError(f"{label}: a record must be an object")
    if key_field not in record:
        raise FixtureError(f"{label}: field '{key_field}' is required")
    key = record[key_field]
    merged = {**rows.get(key, {}), **record}
    if owner is not None and owner.spec.model:
        problem = backend.contract.check_record(
            owner.spec.schema, owner.spec.model, owner.fixture_view(merged)
        )
        if problem:
            field_name, _, message = problem.partition(": ")
            raise FixtureError(f"{label} (id {key!r}): field '{field_name}': {message}")
    elif not isinstance(merged.get("name"), str) or not isinstance(key, int):
        raise FixtureError(f"{label}: fields 'id' (integer) and 'name' (string) are required")
    rows[key] = merged
