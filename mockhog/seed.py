"""Seed data: the default profile in fixtures/, filled in by Faker from a seed, plus user fixtures.

The same seed gives byte-identical data: every generator draws from its own seeded Faker and
``random.Random``, and times are measured back from the profile's fixed clock, not from now.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faker import Faker

from .errors import ApiError
from .keys import ApiKey, check_scopes
from .spec.viewsets import organization_scope, seed_rows
from .store import Rows, Snapshot, UniqueViolation
from .times import iso

if TYPE_CHECKING:
    from .backend import Backend

# Tables that no served operation owns, but that served resources refer to.
REFERENCE_TABLES = ("insights", "dashboards")


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the record and the field."""


def fixtures_dir() -> Path:
    here = Path(__file__).resolve().parent
    checkout = here.parent / "fixtures"
    return checkout if checkout.is_dir() else here / "fixtures"


def load_profile(name: str = "default") -> dict[str, Any]:
    return json.loads((fixtures_dir() / f"{name}.json").read_text())


@dataclass
class SeedContext:
    """What a resource's seed generator may use: seeded randomness, the profile, earlier tables."""

    project_id: int
    project: dict[str, Any]
    faker: Faker
    rng: random.Random
    profile: dict[str, Any]
    clock: datetime
    user: dict[str, Any]
    tables: dict[str, Rows] = field(default_factory=dict)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment(self, max_days_back: float = 90, min_days_back: float = 0) -> str:
        """A time between ``max_days_back`` and ``min_days_back`` days before the seed clock."""
        seconds = self.rng.uniform(min_days_back * 86400, max_days_back * 86400)
        return iso(self.clock - timedelta(seconds=round(seconds, 3)))


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


def build_world(
    backend: Backend, seed: int, fixture_paths: list[Path], overrides: dict[str, Any] | None = None
) -> World:
    """The seeded world: the default profile (its top-level entries replaced by ``overrides``,
    e.g. ``{"persons": {"count": 10000}}``), every project seeded, fixture files applied."""
    profile = {**load_profile(), **(overrides or {})}
    fixtures = [(path, _read_fixture(path)) for path in fixture_paths]
    projects = {p["id"]: dict(p) for p in profile["projects"]}
    for path, data in fixtures:
        for index, project in enumerate(data.get("projects", [])):
            if not isinstance(project, dict) or not isinstance(project.get("id"), int):
                raise FixtureError(f"{path}: projects[{index}]: field 'id' must be an integer")
            projects[project["id"]] = {**projects.get(project["id"], {}), **project}
    clock = datetime.fromisoformat(profile["clock"].replace("Z", "+00:00"))
    tables: dict[int, dict[str, Rows]] = {}
    for project_id, project in sorted(projects.items()):
        project.setdefault("name", f"Project {project_id}")
        tables[project_id] = _seed_project(backend, seed, project_id, project, profile, clock)
    for path, data in fixtures:
        _apply_records(backend, path, data, tables)
    next_ids = {
        pid: {name: 1 + max((k for k in rows if isinstance(k, int)), default=0) for name, rows in t.items()}
        for pid, t in tables.items()
    }
    keys = [key for path, data in fixtures for key in _fixture_keys(path, data, projects)]
    # The organization's own tables (members, roles, domains, ...): seeded lazily like every
    # generic table, the world's user, organization and projects among their records.
    organization = profile["organization"]
    tables.setdefault(organization_scope(organization["id"]), {})
    snapshot = Snapshot(
        tables, next_ids, lazy=lambda scope, name: _generic_rows(backend, scope, name, profile)
    )
    return World(snapshot, profile["user"], projects, organization, keys, clock, profile)


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


def _seed_project(
    backend: Backend,
    seed: int,
    project_id: int,
    project: dict[str, Any],
    profile: dict[str, Any],
    clock: datetime,
) -> dict[str, Rows]:
    tables: dict[str, Rows] = {}

    faker = Faker("en_US")  # one instance, re-seeded per generator: building one costs ~2 ms

    def context(name: str) -> SeedContext:
        # Each generator gets its own stream, so adding one never shifts another's data.
        stream = f"{seed}:{project_id}:{name}"
        faker.seed_instance(stream)
        return SeedContext(
            project_id, project, faker, random.Random(stream), profile, clock, profile["user"], tables
        )

    ctx = context("reference")
    for name in REFERENCE_TABLES:
        tables[name] = {
            index: {"id": index, "name": title, "created_at": ctx.moment(365, 120)}
            for index, title in enumerate(profile[name], start=1)
        }
    for name, resource in backend.resources.items():
        rows = tables.setdefault(resource.table_name, {})
        for record in resource.seed(context(name)):
            rows[record[resource.key_field]] = record
    return tables


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
