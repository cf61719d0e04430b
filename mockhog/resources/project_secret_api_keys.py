"""Project secret API keys: ``phs_`` secrets shown once (create, roll), stored only as a hash and a mask.

Behaves like today's ProjectSecretAPIKeySerializer (posthog/api/project_secret_api_key.py):
``created_by`` is the creating user (UserBasic), fifty keys per project at most, and only the scopes
of posthog/scopes.py's PROJECT_SECRET_API_KEY_ALLOWED_API_SCOPE_ACTION may be assigned
(``llm_gateway:read`` sits behind a feature flag that is off here).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from .. import errors
from ..scopes import SCOPE_ACTIONS, SCOPE_OBJECTS
from ..store import Record
from .base import Call, Resource, quirk

MAX_KEYS_PER_PROJECT = 50
ALLOWED_SCOPES = ("endpoint:read", "feature_flag:read", "account:read", "loop:write", "experiment:read")
FLAGGED_SCOPE = "llm_gateway:read"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_token(rng: random.Random, nbytes: int = 32) -> str:
    """PostHog's ``generate_random_token``: ``nbytes`` random bytes written in base 62."""
    number = rng.getrandbits(nbytes * 8)
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits)) or "0"


def new_secret(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A fresh ``phs_`` value and the only fields kept of it: its hash and its mask."""
    value = "phs_" + random_token(rng, 35)
    kept = {"mask_value": f"{value[:4]}...{value[-4:]}", "_secure_value": hash_secret(value)}
    return value, kept


def hash_secret(value: str) -> str:
    return "sha256$" + hashlib.sha256(value.encode()).hexdigest()


def check_scopes(scopes: list[str]) -> list[str]:
    """The serializer's ``validate_scopes``: the first bad scope is a 400 on ``scopes``."""
    cleaned = []
    for index, scope in enumerate(scopes):
        scope = scope.strip()  # DRF's CharField child trims, then refuses what is left blank
        if not scope:
            raise errors.validation_error("This field may not be blank.", f"scopes__{index}", "blank")
        cleaned.append(scope)
    for scope in cleaned:
        if scope == "*":
            raise errors.validation_error(
                "Wildcard scope '*' is not allowed for project API keys. Please specify explicit scopes.",
                "scopes",
            )
        parts = scope.split(":")
        if len(parts) != 2 or parts[0] not in SCOPE_OBJECTS or parts[1] not in SCOPE_ACTIONS:
            raise errors.validation_error(f"Invalid scope: {scope}", "scopes")
        if scope == FLAGGED_SCOPE:
            raise errors.validation_error(
                "LLM gateway scope is not available for this project. "
                "Contact support to enable this feature.",
                "scopes",
            )
        if scope not in ALLOWED_SCOPES:
            raise errors.validation_error(
                f"Scope '{scope}' can not be assigned to a project secret API key. "
                f"Allowed scopes: {', '.join(sorted(ALLOWED_SCOPES))}",
                "scopes",
            )
    return cleaned


class ProjectSecretApiKeys(Resource):
    def new_key(self, call: Call) -> str:
        return random_token(call.rng)

    def serialize(self, call: Call, record: Record, value: str | None = None) -> dict[str, Any]:
        # ``value`` is a method field: the secret exists only in the response that made it.
        shown = {**record, "value": value, "scopes": record.get("scopes") or []}
        return {name: shown.get(name) for name in self.fields}

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        return sorted(rows, key=lambda row: row["created_at"], reverse=True)

    @quirk("project_secret_api_keys_create")
    def create(self, call: Call) -> Any:
        data = {**call.body, "scopes": check_scopes(call.body["scopes"])}
        table = self.table(call)
        if len(table) >= MAX_KEYS_PER_PROJECT:
            raise errors.validation_error(
                f"You can only have {MAX_KEYS_PER_PROJECT} project secret API keys. "
                "Remove an existing key before creating a new one."
            )
        self.refuse_taken_label(call, data["label"])
        value, kept = new_secret(call.rng)
        record = self.build(call, data)
        record.update(kept, created_by=call.user, last_used_at=None, last_rolled_at=None)
        return self.serialize(call, self.save(call, record), value)

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        if "scopes" in data:
            data = {**data, "scopes": check_scopes(data["scopes"])}
        if "label" in data and data["label"] != record["label"]:
            self.refuse_taken_label(call, data["label"], record["id"])
        return {**record, **data}

    def refuse_taken_label(self, call: Call, label: str, own_id: str | None = None) -> None:
        """The (team, label) unique constraint, reported as PostHog's create does."""
        if any(row["label"] == label and row["id"] != own_id for row in self.table(call).values()):
            raise errors.validation_error(f"Project secret API key with label '{label}' already exists.")

    @quirk("project_secret_api_keys_roll_create")
    def roll(self, call: Call) -> Any:
        value, kept = new_secret(call.rng)
        record = {**self.get(call), **kept, "last_rolled_at": call.timestamp()}
        return self.serialize(call, self.save(call, record), value)

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return {**super().fixture_view(record), "value": None}

    def seed(self, ctx: Any) -> list[Record]:
        records = []
        labels = ctx.profile["project_secret_api_keys"]["labels"]
        for index in range(ctx.profile["project_secret_api_keys"]["count"]):
            _value, kept = new_secret(ctx.rng)  # the secret is drawn and forgotten, as after a real create
            created = ctx.moment(180, 30)
            used = ctx.rng.random() < 0.7
            records.append(
                {
                    "id": random_token(ctx.rng),
                    "label": labels[index % len(labels)] + ("" if index < len(labels) else f" {index}"),
                    **kept,
                    "created_at": created,
                    "created_by": ctx.user,
                    "last_used_at": ctx.moment(10) if used else None,
                    "last_rolled_at": None,
                    "scopes": ["endpoint:read"],
                }
            )
        return records
