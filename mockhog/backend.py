"""The backend: one server's catalog, contract, seeded store, resources and keys. No HTTP here."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .catalog import Catalog, Operation
from .contract import Contract
from .faults import Faults, RateLimiter
from .handlers import load_impl, resolve
from .indexes import INDEXES
from .journal import Journal
from .keys import ApiKey, KeyRing
from .lifecycle import Lifecycle
from .openapi import build_document
from .resources.base import Call, Resource
from .seed import PROJECT_SETTINGS, FixtureError, World, build_world, load_profile
from .spec import Spec, SpecOperation
from .spec.checks import SpecSchemas
from .spec.derive import user_schemas
from .spec.document import generic_operations, served_document
from .spec.viewsets import GenericEngine
from .store import Store, UniqueViolation

DEFAULT_API_KEY = "phx_mockhog_default_key"


class ProjectRecords(Mapping[int, dict[str, Any]]):
    """The world's projects as they are now: each seeded record (profile and fixtures) with the
    settings written since (``PATCH /api/projects/{id}/``) on top, read from the store's
    ``project_settings`` table, so a rolled-back request leaves no trace and a reset restores the
    seeded settings. Every reader (remote config, ``/flags/``, SDK surveys, the identity views)
    sees the same record."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __getitem__(self, project_id: int) -> dict[str, Any]:
        seeded = self._backend.world.projects[project_id]
        store = getattr(self._backend, "store", None)  # None while the backend is being built
        table = store.existing(project_id, PROJECT_SETTINGS) if store is not None else None
        written = table.get(project_id) if table is not None else None
        return {**seeded, **written} if written else seeded

    def __iter__(self) -> Iterator[int]:
        return iter(self._backend.world.projects)

    def __len__(self) -> int:
        return len(self._backend.world.projects)

    def write(self, project_id: int, changes: dict[str, Any]) -> None:
        """Store settings of one project (inside the request's transaction)."""
        table = self._backend.store.table(project_id, PROJECT_SETTINGS)
        table.put(project_id, {**(table.get(project_id) or {}), **changes})


class Backend:
    """Everything a served request reads or changes, built from a seed and fixture files."""

    def __init__(
        self,
        seed: int = 0,
        api_key: str | None = None,
        fixtures: Sequence[str | Path] = (),
        catalog: Catalog | None = None,
        contract: Contract | None = None,
        strict: bool = False,
        validate_responses: bool = True,
        profile: dict[str, Any] | None = None,
        journal_limit: int = 10_000,
        spec: Spec | None = None,
    ) -> None:
        self.catalog = catalog or Catalog.load()
        # PostHog's whole published API, imported (mockhog/spec/): what the catalog does not
        # serve, the generic engine does, labelled generic.
        self.spec = spec or Spec.load()
        # A user's document re-derives the derived families' schemas (the pinned ones are committed).
        self.contract = contract or Contract(self.catalog, _schemas_for(spec))
        self.contract.add_spec(SpecSchemas(self.spec))
        self.generic = GenericEngine(self, self.spec)
        self.generic_operations = generic_operations(self.catalog, self.spec)
        self.seed = seed
        self.strict = strict
        # Off only to measure what response validation costs (bench/); a served mock keeps it on.
        self.validate_responses = validate_responses
        self.api_key = api_key or DEFAULT_API_KEY
        self.resources: dict[str, Resource] = {
            name: load_impl(spec.impl)(spec, self) for name, spec in self.catalog.resources.items()
        }
        # Every verified operation's handler, checked now: a quirk registered for an operationId the
        # catalog does not serve, or an operation nothing serves, stops the app here.
        handlers = resolve(self.catalog, {name: type(r) for name, r in self.resources.items()})
        self.handlers: dict[Operation, Callable[[Call], Any]] = {
            op: getattr(self.resources[op.resource.name], handler.method) for op, handler in handlers.items()
        }
        # The resources whose writes need scopes that depend on the body (Resource.required_scopes).
        self.request_scoped = {
            name
            for name, resource in self.resources.items()
            if type(resource).required_scopes is not Resource.required_scopes
        }
        self.fixtures = [Path(path) for path in fixtures]
        self.profile_overrides = profile
        # The world's profile: what resources read (fixture records are completed with it while
        # the world is still being built, so it cannot wait for the world).
        self.profile: dict[str, Any] = {**load_profile(), **(profile or {})}
        self.world: World = build_world(self, seed, self.fixtures, profile)
        try:
            self.store = Store(self.world.snapshot, INDEXES)
            if self.fixtures:
                self.store.build_indexes()
        except UniqueViolation as error:  # the seed keeps keys unique: a fixture repeated one
            raise FixtureError(f"fixtures: {error}") from None
        self.rng = random.Random(seed)
        self.keys = KeyRing(self.api_key, seed, self.world.keys)
        self.journal = Journal(journal_limit)
        self.faults = Faults(seed)
        self.rate_limiter = RateLimiter()
        self.lifecycle = Lifecycle()
        self._openapi: dict[bool, dict[str, Any]] = {}

    @property
    def user(self) -> dict[str, Any]:
        return self.world.user

    @property
    def projects(self) -> ProjectRecords:
        return ProjectRecords(self)

    @property
    def clock(self) -> datetime:
        """The seed's fixed clock: generated times are measured back from it."""
        return self.world.clock

    def resource(self, op: Operation | SpecOperation) -> Resource | GenericEngine:
        if isinstance(op, SpecOperation):
            return self.generic
        return self.resources[op.resource.name]

    def handler(self, op: Operation | SpecOperation) -> Callable[[Call], Any]:
        """What serves ``op``: its quirk or the viewset interpreter (mockhog.handlers), or the
        generic engine for an imported operation."""
        if isinstance(op, SpecOperation):
            return self.generic.serve
        return self.handlers[op]

    def reset(self, project: int | None = None) -> None:
        """Back to the seeded state (of one project, or of all and the keys and id generator)."""
        with self.store.lock:
            if project is not None:
                self.store.reset_project(project)
                return
            self.store.reset()
            self.keys.reset()
            self.rng = random.Random(self.seed)

    def reset_all(self) -> None:
        """A clean slate between tests: seeded state, and no journal, faults, limits or async modes."""
        self.reset()
        self.journal.clear()
        self.faults.clear()
        self.rate_limiter.configure(None)
        self.lifecycle.reset()

    def advance(self, kind: str, project: int | None = None) -> int:
        """Finish pending async work of one kind now (see mockhog.lifecycle); returns how many."""
        count = 0
        with self.store.transaction():
            for project_id in [project] if project is not None else list(self.projects):
                table = self.store.table(project_id, kind)
                for row in table.values():
                    if row.get("_ready_at") is not None or row.get("status") == "Running":
                        table.put(row["id"], {**row, "_ready_at": None})
                        count += 1
        return count

    def reseed(self, seed: int) -> None:
        """Rebuild the world from another seed (fixture files are applied again)."""
        world = build_world(self, seed, self.fixtures, self.profile_overrides)
        with self.store.lock:
            self.seed, self.world = seed, world
            self.generic.forget()
            self.store.load(world.snapshot)
            self.keys = KeyRing(self.api_key, seed, world.keys)
            self.rng = random.Random(seed)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of everything this backend serves, verified and imported, as
        strict or lenient as it is now (each built once)."""
        if self.strict not in self._openapi:
            verified = build_document(self.catalog, self.contract.schemas, self.strict)
            self._openapi[self.strict] = served_document(verified, self.catalog, self.spec, self.strict)
        return self._openapi[self.strict]

    def current_project(self, key: ApiKey) -> int:
        """What ``@current`` means for a key: its first scoped project, else the first project."""
        return key.scoped_teams[0] if key.scoped_teams else min(self.projects)


def _schemas_for(spec: Spec | None) -> Any:
    """None (the committed schemas/) for the pinned import; a user's document's re-derivation
    (worked out once by the CLI, else here)."""
    if spec is None or not getattr(spec, "_user_document", False):
        return None
    return getattr(spec, "served_schemas", None) or user_schemas(spec)
