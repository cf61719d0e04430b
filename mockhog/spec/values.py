"""Values built from JSON Schemas: seed records and the bodies of generic custom actions.

Deterministic: every value comes from the ``random.Random`` handed in, so the same seed gives
byte-identical data. Words come from the committed vocabulary (``fixtures/vocabulary.json``), not
Faker, whose import would cost a generic route's first request ~0.15 s. Formats, enums, bounds and
well-known field names (``email``, ``key``, ``name``, ``short_id``, ...) shape the values; depth is
bounded, so recursive schemas (HogQL query nodes) end in their required fields only.
"""

from __future__ import annotations

import copy
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from ..datafiles import read_fixture

MAX_DEPTH = 4  # below this, objects keep only their required properties
USER_COMPONENT = "UserBasic"  # UserBasicSerializer: who created or changed a record
_ALNUM = string.ascii_letters + string.digits


@cache
def vocabulary() -> dict[str, list[str]]:
    """The committed word lists, read once."""
    return read_fixture("vocabulary")


class Words:
    """Names, words and phrases drawn from the vocabulary with a stream's random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _pick(self, kind: str) -> str:
        choices = vocabulary()[kind]
        return choices[self.rng.randrange(len(choices))]

    def word(self) -> str:
        return self._pick("words")

    def slug(self) -> str:
        return "-".join(self.word() for _ in range(self.rng.randint(2, 4)))

    def first_name(self) -> str:
        return self._pick("first_names")

    def last_name(self) -> str:
        return self._pick("last_names")

    def user_name(self) -> str:
        return f"{self.first_name()}.{self.last_name()}{self.rng.randint(1, 99)}".lower()

    def catch_phrase(self) -> str:
        return f"{self._pick('adjectives').capitalize()} {self.word()} {self._pick('nouns')}"

    def sentence(self) -> str:
        words = [self.word() for _ in range(self.rng.randint(4, 9))]
        return " ".join(words).capitalize() + "."

    def hex_color(self) -> str:
        return f"#{self.rng.getrandbits(24):06x}"


@dataclass(frozen=True)
class References:
    """What a made value must point at rather than invent: records that exist. ``user``: who a
    ``*_by`` user (``created_by``, ``last_modified_by``) is; ``fields``: a property name -> its
    value, and ``choices``: a property name -> the values it may take (a foreign key's keys), each
    where the property's type takes it (``team_id`` is the project's id)."""

    user: dict[str, Any] | None = None
    fields: dict[str, Any] = dataclass_field(default_factory=dict)
    choices: dict[str, list[Any]] = dataclass_field(default_factory=dict)  # a foreign key's: one of these


class ValueMaker:
    """Builds a value that validates against a schema (components resolved by ``resolve``)."""

    def __init__(
        self,
        resolve: Callable[[str], Any],
        rng: random.Random,
        clock: datetime,
        references: References | None = None,
    ) -> None:
        self.resolve = resolve
        self.rng = rng
        self.words = Words(rng)
        self.clock = clock
        self.references = references or References()

    def make(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        if not isinstance(schema, dict) or schema is True:
            return None if schema is False else self._word()
        if "$ref" in schema:
            return self.make(self.resolve(schema["$ref"]), name, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = [value for value in schema["enum"] if value is not None] or [None]
            return choices[self.rng.randrange(len(choices))]
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = self._deref(part)
                merged = _merge(merged, part)
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.make(_merge(merged, rest), name, depth)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                options = [o for o in schema[key] if self._deref(o).get("type") != "null"]
                if not options:
                    return None
                # the first option: deterministic, and for oneOf the least likely to overlap
                return self.make(options[0], name, depth + 1)
        if "default" in schema and schema["default"] is not None and not isinstance(schema["default"], dict):
            return schema["default"]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        return getattr(self, f"_{kind}", self._string)(schema, name, depth)

    def _deref(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 16:
            schema = self.resolve(schema["$ref"])
            seen += 1
        return schema if isinstance(schema, dict) else {}

    # -- by type ---------------------------------------------------------------------------------
    def _object(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        out = {}
        for prop, sub in properties.items():
            if prop not in required and (depth >= MAX_DEPTH or sub is False):
                continue
            if prop not in required and isinstance(sub, dict) and sub.get("writeOnly"):
                continue
            known = self.references.fields.get(prop, _UNKNOWN)
            keys = self.references.choices.get(prop)
            if keys:
                known = keys[self.rng.randrange(len(keys))]
            if prop.endswith("_by") and self.references.user and _component_name(sub) == USER_COMPONENT:
                out[prop] = copy.deepcopy(self.references.user)
            elif _takes(self._deref(sub), known):
                out[prop] = known
            else:
                out[prop] = self.make(sub, prop, depth + 1)
        first, last = out.get("first_name"), out.get("last_name")
        if isinstance(out.get("email"), str) and isinstance(first, str) and isinstance(last, str):
            # one person: the address is made of the name beside it
            out["email"] = f"{first}.{last}{self.rng.randint(1, 99)}@example.com".lower()
        return out

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = schema.get("minItems", 0)
        high = max(low, min(schema.get("maxItems", 2), 2 if depth < MAX_DEPTH else low))
        count = self.rng.randint(low, high) if high > low else low
        items = schema.get("items", {})
        return [self.make(items, name, depth + 1) for _ in range(count)]

    def _integer(self, schema: dict[str, Any], name: str, depth: int) -> int:
        low = _bound(schema, "minimum", "exclusiveMinimum", 1, 1)
        high = _bound(schema, "maximum", "exclusiveMaximum", -1, max(low, 1) + 999)
        low, high = int(low), int(high)
        return self.rng.randint(low, max(low, min(high, low + 999)))

    def _number(self, schema: dict[str, Any], name: str, depth: int) -> float:
        return float(self._integer(schema, name, depth))

    def _boolean(self, schema: dict[str, Any], name: str, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _null(self, schema: dict[str, Any], name: str, depth: int) -> None:
        return None

    def _string(self, schema: dict[str, Any], name: str, depth: int) -> str:
        text = self._formatted(schema.get("format"), name)
        if "pattern" in schema:
            text = self._patterned(schema["pattern"], text)
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if high is not None and len(text) > high:
            text = text[:high]
        if len(text) < low:
            text = text + "x" * (low - len(text))
        return text

    def _formatted(self, fmt: str | None, name: str) -> str:
        if fmt == "date-time":
            seconds = self.rng.uniform(0, 180 * 86400)
            moment = self.clock - timedelta(seconds=round(seconds, 3))
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if fmt == "date":
            return (self.clock - timedelta(days=self.rng.randint(0, 180))).strftime("%Y-%m-%d")
        if fmt == "time":  # RFC 3339's full-time: with its offset
            return f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00Z"
        if fmt == "duration":
            return f"PT{self.rng.randint(1, 59)}M"
        if fmt == "ipv6":
            return "::1"
        if fmt == "hostname":
            return "example.com"
        if fmt == "uuid":
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if fmt == "email" or "email" in name:
            return f"{self.words.user_name()}@example.com"
        if fmt in ("uri", "url") or name.endswith("url"):
            return f"https://example.com/{self.words.slug()}"
        if fmt == "ipv4":
            return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        if fmt == "binary":
            return ""
        return self._named(name)

    def _named(self, name: str) -> str:
        if name in ("key", "slug") or name.endswith("_key"):
            return self.words.slug().replace("-", "_")
        if name == "short_id":
            return "".join(self.rng.choice(_ALNUM) for _ in range(8))
        if name in ("first_name",):
            return self.words.first_name()
        if name in ("last_name",):
            return self.words.last_name()
        if name in ("name", "title", "label", "display_name"):
            return self.words.catch_phrase()
        if name in ("description", "content", "message", "text", "summary"):
            return self.words.sentence()
        if name.endswith("token"):
            return "phc_" + "".join(self.rng.choice(_ALNUM) for _ in range(32))
        if name in ("color", "colour"):
            return self.words.hex_color()
        if name in ("distinct_id",):
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return self._word()

    def _word(self) -> str:
        return self.words.word()

    def _patterned(self, pattern: str, text: str) -> str:
        """The few patterns PostHog's schemas use; anything else keeps the text."""
        if pattern == r"^[-a-zA-Z0-9_]+$":
            return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "slug"
        if pattern.startswith(r"^-?\d"):
            return "0"
        return text


_UNKNOWN = object()
_JSON_TYPES = {bool: "boolean", int: "integer", str: "string"}


def _component_name(schema: dict[str, Any]) -> str | None:
    """The component a schema is: a ``$ref``, or an ``allOf`` of one (drf-spectacular's way of
    adding readOnly or nullable to a reference)."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    parts = schema.get("allOf")
    if isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], dict) and "$ref" in parts[0]:
        return parts[0]["$ref"].rsplit("/", 1)[-1]
    return None


def _takes(schema: dict[str, Any], value: Any) -> bool:
    """Whether a known field value fits the property's declared type (a ``team`` that is an
    object is no id)."""
    if value is _UNKNOWN:
        return False
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    return _JSON_TYPES.get(type(value)) in types and "enum" not in schema


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, step: int, default: int) -> float:
    if inclusive in schema:
        return schema[inclusive]
    if exclusive in schema:
        return schema[exclusive] + step
    return default


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = {**left, **right}
    if "properties" in left and "properties" in right:
        merged["properties"] = {**left["properties"], **right["properties"]}
    if "required" in left and "required" in right:
        merged["required"] = sorted(set(left["required"]) | set(right["required"]))
    return merged
