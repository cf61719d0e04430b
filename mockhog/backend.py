"""The backend: one server's catalog, contract, seeded store, resources and keys. No HTTP here."""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .catalog import Catalog, Operation
from .contract import Contract
from .keys import ApiKey, KeyRing
from .openapi import build_document
from .resources.base import Resource
from .seed import World, build_world
from .store import Store

DEFAULT_API_KEY = "phx_mockhog_default_key"


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
    ) -> None:
        self.catalog = catalog or Catalog.load()
        self.contract = contract or Contract(self.catalog)
        self.seed = seed
        self.strict = strict
        # Off only to measure what response validation costs (bench/); a served mock keeps it on.
        self.validate_responses = validate_responses
        self.api_key = api_key or DEFAULT_API_KEY
        self.resources: dict[str, Resource] = {
            name: _load_impl(spec.impl)(spec, self) for name, spec in self.catalog.resources.items()
        }
        self.fixtures = [Path(path) for path in fixtures]
        self.world: World = build_world(self, seed, self.fixtures, profile)
        self.store = Store(self.world.snapshot)
        self.rng = random.Random(seed)
        self.keys = KeyRing(self.api_key, seed, self.world.keys)
        self._openapi: dict[str, Any] | None = None

    @property
    def user(self) -> dict[str, Any]:
        return self.world.user

    @property
    def projects(self) -> dict[int, dict[str, Any]]:
        return self.world.projects

    def resource(self, op: Operation) -> Resource:
        return self.resources[op.resource.name]

    def reset(self) -> None:
        """Back to the seeded state, and the id generator back to its start."""
        with self.store.lock:
            self.store.reset()
            self.keys.reset()
            self.rng = random.Random(self.seed)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of everything this backend serves (built once)."""
        if self._openapi is None:
            self._openapi = build_document(self.catalog, self.contract.schemas)
        return self._openapi

    def current_project(self, key: ApiKey) -> int:
        """What ``@current`` means for a key: its first scoped project, else the first project."""
        return key.scoped_teams[0] if key.scoped_teams else min(self.projects)


def _load_impl(impl: str) -> type[Resource]:
    module_name, class_name = impl.split(":")
    module = importlib.import_module(f"mockhog.resources.{module_name}")
    return getattr(module, class_name)
