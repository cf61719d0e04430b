"""Personal API keys: who a request is, which scopes it has, which projects it may touch."""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass
from typing import Any

from . import errors
from .scopes import SCOPE_ACTIONS, SCOPE_OBJECTS


@dataclass
class ApiKey:
    """A personal API key. Empty ``scopes`` is a legacy key, allowed everything, as in PostHog."""

    id: str
    label: str
    value: str
    scopes: list[str]
    scoped_teams: list[int] | None = None
    created_at: str = "2025-06-02T12:00:00.000000Z"

    @property
    def mask_value(self) -> str:
        return f"{self.value[:4]}...{self.value[-4:]}"

    def allows_project(self, project_id: int) -> bool:
        return not self.scoped_teams or project_id in self.scoped_teams

    def missing_scope(self, needed: tuple[str, ...]) -> str | None:
        """The first required scope the key lacks (``x:write`` covers ``x:read``), or None."""
        if not self.scopes or "*" in self.scopes:
            return None
        for scope in needed:
            obj, _, access = scope.partition(":")
            if scope not in self.scopes and not (access == "read" and f"{obj}:write" in self.scopes):
                return scope
        return None

    def public(self) -> dict[str, Any]:
        """PostHog's PersonalAPIKey serializer view: never the value."""
        return {
            "id": self.id,
            "label": self.label,
            "mask_value": self.mask_value,
            "created_at": self.created_at,
            "last_used_at": None,
            "scopes": list(self.scopes),
            "scoped_teams": list(self.scoped_teams or []),
            "scoped_organizations": [],
        }


def check_scopes(scopes: Any) -> list[str]:
    """Scopes as PostHog accepts them on a personal API key; else a 400 naming the bad one."""
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise errors.validation_error('Expected a list of items but got type "str".', "scopes", "not_a_list")
    for scope in scopes:
        obj, _, access = scope.partition(":")
        if scope != "*" and (obj not in SCOPE_OBJECTS or access not in SCOPE_ACTIONS):
            raise errors.validation_error(f"Invalid scope: {scope}", "scopes")
    return list(scopes)


class KeyRing:
    """The keys a server accepts: the serve key, fixture keys, and keys minted at run time."""

    def __init__(self, default_value: str, seed: int, seeded: list[ApiKey] | None = None) -> None:
        primary = ApiKey(
            id=_key_id(default_value), label="mockhog default key", value=default_value, scopes=["*"]
        )
        self._seeded = {key.value: key for key in [primary, *(seeded or [])]}
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self._keys = dict(self._seeded)
        self._rng = random.Random(f"keys:{self._seed}")

    def add(self, key: ApiKey) -> None:
        """A key for the live state only: a reset forgets it."""
        self._keys[key.value] = key

    def find(self, value: str) -> ApiKey | None:
        return self._keys.get(value)

    def mint(self, label: str, scopes: list[str], scoped_teams: list[int] | None, created_at: str) -> ApiKey:
        token = "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(43))
        value = f"phx_{token}"
        key = ApiKey(_key_id(value), label, value, scopes, scoped_teams, created_at)
        self._keys[value] = key
        return key


def _key_id(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:20]
