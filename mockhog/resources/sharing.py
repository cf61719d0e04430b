"""Sharing configurations of insights, dashboards and session recordings.

One configuration per shared object, stored in one table keyed ``"<kind>:<object id>"``. As in
PostHog, a GET of an object never shared answers an unsaved configuration (fresh access token,
no ``created_at``) and stores nothing; the first change saves it. Share passwords live inside
their configuration, hashed; the raw password is shown once, in the create response.

The mock's organization HAS the Advanced Permissions feature, so password protection is allowed.
"""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

from .. import errors
from ..store import Record
from .base import Call, Resource, quirk
from .product import is_live

TABLE = "sharing_configurations"
# posthog.schema.SharingConfigurationSettings, in its field order; every field is an optional bool.
SETTINGS_FIELDS = ("detailed", "hideExtraDetails", "legend", "noHeader", "showInspector", "whitelabel")
_LAX_TRUE = {"1", "on", "t", "true", "y", "yes"}
_LAX_FALSE = {"0", "off", "f", "false", "n", "no"}
PASSWORD_FIELDS = ("id", "created_at", "note", "created_by_email", "is_active")
HASH_ITERATIONS = 1000


def url_safe_token(rng: random.Random, nbytes: int) -> str:
    """``secrets.token_urlsafe(nbytes)``, drawn from the seeded generator."""
    return base64.urlsafe_b64encode(rng.randbytes(nbytes)).rstrip(b"=").decode()


def access_token(rng: random.Random) -> str:
    return url_safe_token(rng, 22)


def hash_password(raw: str, rng: random.Random) -> str:
    salt = base64.b64encode(rng.randbytes(12)).decode()
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), HASH_ITERATIONS)
    return f"pbkdf2_sha256${HASH_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def present(record: Record) -> dict[str, Any]:
    """The SharingConfiguration serializer: active passwords only, without their hashes."""
    passwords = [
        {name: password[name] for name in PASSWORD_FIELDS}
        for password in record.get("_passwords", [])
        if password["is_active"]
    ]
    return {
        "created_at": record.get("created_at"),
        "enabled": record.get("enabled", False),
        "access_token": record.get("access_token"),
        "settings": record.get("settings"),
        "password_required": record.get("password_required", False),
        "share_passwords": passwords,
    }


def clean_settings(value: Any) -> dict[str, Any] | None:
    """``validate_settings``: unknown keys dropped, values read as pydantic's lax booleans, nulls left out."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.validation_error("Invalid settings format", "settings")
    cleaned = {}
    for name in SETTINGS_FIELDS:
        flag = _lax_bool(value.get(name))
        if flag is not None:
            cleaned[name] = flag
    return cleaned


def _lax_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _LAX_TRUE | _LAX_FALSE:
        return value.lower() in _LAX_TRUE
    raise errors.validation_error("Invalid settings format", "settings")


def next_password_id(configs: Any) -> int:
    """Share passwords share one id sequence across every configuration, expired ones included."""
    return 1 + max((p["id"] for config in configs for p in config.get("_passwords", [])), default=0)


class _Sharing(Resource):
    """The rules every shared kind follows; subclasses say what they share and how it is found."""

    table_name = TABLE
    key_field = "_key"
    kind = ""
    parent_param = ""
    parent_table: str | None = None
    parent_missing = "Not found."

    # -- the configuration of the object in the path ----------------------------------------
    def config_key(self, call: Call) -> str:
        parent = call.params[self.parent_param]
        if self.parent_table is not None and not is_live(call, self.parent_table, parent):
            raise errors.not_found(self.parent_missing)
        return f"{self.kind}:{parent}"

    def current(self, call: Call) -> Record:
        """The stored configuration, or an unsaved one with a fresh token (as PostHog builds it)."""
        key = self.config_key(call)
        stored = self.table(call).get(key)
        if stored is not None:
            return stored
        return {
            **self.defaults,
            "_key": key,
            "created_at": None,
            "access_token": access_token(call.rng),
            "_passwords": [],
        }

    def save_config(self, call: Call, record: Record) -> Record:
        """Save, stamping created_at the first time (PostHog saves a configuration on its first change)."""
        if record["created_at"] is None:
            record = {**record, "created_at": call.timestamp()}
        return self.save(call, record)

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return present(record)

    # -- actions ---------------------------------------------------------------------------
    @quirk("insights_sharing_list", "session_recordings_sharing_list", "dashboards_sharing_list")
    def list(self, call: Call) -> Any:
        return present(self.current(call))

    @quirk(
        "insights_sharing_partial_update",
        "session_recordings_sharing_partial_update",
        "dashboards_sharing_partial_update",
    )
    def partial_update(self, call: Call) -> Any:
        record = self.current(call)
        changes = dict(call.body)
        if "settings" in changes:
            changes["settings"] = clean_settings(changes["settings"])
        return present(self.save_config(call, {**record, **changes}))

    @quirk(
        "insights_sharing_refresh_create",
        "session_recordings_sharing_refresh_create",
        "dashboards_sharing_refresh_create",
    )
    def refresh(self, call: Call) -> Any:
        """``rotate_access_token``: a new configuration (new token, new created_at) replaces the old,
        which is kept, expired; active passwords are copied over when protection is on."""
        old = self.current(call)
        passwords = []
        if old["password_required"]:
            first_id = next_password_id(self.table(call).values())
            active = [p for p in old["_passwords"] if p["is_active"]]
            passwords = [
                {**p, "id": first_id + offset, "created_at": call.timestamp()}
                for offset, p in enumerate(active)
            ]
        if self.table(call).get(old["_key"]) is not None:
            retired_key = f"{old['_key']}#{old['access_token']}"
            self.save(call, {**old, "_key": retired_key, "_expires_at": call.timestamp()})
        new = {
            **old,
            "created_at": call.timestamp(),
            "access_token": access_token(call.rng),
            "_passwords": passwords,
        }
        return present(self.save(call, new))

    @quirk(
        "insights_sharing_passwords_create",
        "session_recordings_sharing_passwords_create",
        "dashboards_sharing_passwords_create",
    )
    def create_password(self, call: Call) -> dict[str, Any]:
        record = self.current(call)
        if not record["password_required"]:
            raise errors.BareError(
                400, {"error": "Password protection must be enabled before creating passwords"}
            )
        raw = call.body.get("raw_password") or ""
        note = call.body.get("note", "")
        if raw and len(raw) < 8:
            raise errors.validation_error("Password must be at least 8 characters long.", "raw_password")
        if len(note) > 100:
            raise errors.validation_error(
                "Ensure this field has no more than 100 characters.", "note", "max_length"
            )
        raw = raw or url_safe_token(call.rng, 16)
        password = {
            "id": next_password_id(self.table(call).values()),
            "created_at": call.timestamp(),
            "note": note,
            "created_by_email": call.user["email"],
            "is_active": True,
            "_hash": hash_password(raw, call.rng),
        }
        self.save_config(call, {**record, "_passwords": [*record["_passwords"], password]})
        shown = {name: password[name] for name in ("note", "created_at", "created_by_email")}
        return {"id": password["id"], "password": raw, **shown}

    @quirk(
        "insights_sharing_passwords_destroy",
        "session_recordings_sharing_passwords_destroy",
        "dashboards_sharing_passwords_destroy",
    )
    def delete_password(self, call: Call) -> None:
        record = self.current(call)
        wanted = call.params["password_id"]
        passwords = record["_passwords"]
        if not any(p["id"] == wanted and p["is_active"] for p in passwords):
            raise errors.not_found("Password not found")
        revoked = [{**p, "is_active": False} if p["id"] == wanted else p for p in passwords]
        self.save(call, {**record, "_passwords": revoked})
        return None

    # -- seed data -------------------------------------------------------------------------
    def seed_configs(self, ctx: Any, parents: list[int], with_passwords: bool) -> list[Record]:
        """Enabled configurations for the profile's shared objects; the first may be password protected."""
        earlier = ctx.tables.get(TABLE, {}).values()
        next_id = next_password_id(earlier)
        records = []
        for index, parent in enumerate(parents):
            protected = with_passwords and index == 0
            created = ctx.moment(90, 10)
            passwords = []
            if protected:
                for note, active in (("Board members", True), ("Agency (revoked)", False)):
                    raw = access_token(ctx.rng)  # drawn and forgotten: only the hash is kept
                    passwords.append(
                        {
                            "id": next_id,
                            "created_at": ctx.moment(9),
                            "note": note,
                            "created_by_email": ctx.user["email"],
                            "is_active": active,
                            "_hash": hash_password(raw, ctx.rng),
                        }
                    )
                    next_id += 1
            records.append(
                {
                    "_key": f"{self.kind}:{parent}",
                    "created_at": created,
                    "enabled": True,
                    "access_token": access_token(ctx.rng),
                    "settings": {"noHeader": index % 2 == 1, "whitelabel": False} if index else None,
                    "password_required": protected,
                    "_passwords": passwords,
                }
            )
        return records


class InsightSharing(_Sharing):
    kind = "insight"
    parent_param = "insight_id"
    parent_table = "insights"
    parent_missing = "Insight not found."

    def seed(self, ctx: Any) -> list[Record]:
        return self.seed_configs(ctx, ctx.profile["sharing"]["insights"], with_passwords=True)


class DashboardSharing(_Sharing):
    kind = "dashboard"
    parent_param = "dashboard_id"
    parent_table = "dashboards"
    parent_missing = "Dashboard not found."

    def seed(self, ctx: Any) -> list[Record]:
        return self.seed_configs(ctx, ctx.profile["sharing"]["dashboards"], with_passwords=False)


class SessionRecordingSharing(_Sharing):
    # PostHog builds the recording row on demand (get_or_build): any recording id works.
    kind = "recording"
    parent_param = "recording_id"
