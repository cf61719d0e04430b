"""The overlay's ``[[served]]`` entries: why mockhog's served operations differ from PostHog's.

``[[fix]]`` entries (``mockhog.spec.load_overlay``) correct the imported components themselves.
``[[served]]`` entries give the reason for each way an operation mockhog serves differs from the
same operation in PostHog's document: a verified family's hand-checked schemas (``schemas/``,
``catalog.toml``), and what the served document adds to every operation. An entry names no values
(the schemas hold them); it says which differences it explains:

- ``family``: catalog resources (``annotations``), ``generic`` (the imported tier), ``component``
  (an imported component as published), or ``*`` (every operation);
- ``names``: globs over the operationId (or component name), default any;
- ``kinds``: the kinds of difference (``KINDS``, as ``mockhog drift`` names them), default any;
- ``where``: globs over the difference's JSON pointer inside the operation (``*`` spans ``/``),
  default anywhere;
- ``fields``: the property or parameter (the innermost one named in the pointer) whose own schema
  differs, default any; a difference in no named property (a whole body) is not restricted by it;
- ``absent``: ``"theirs"`` (PostHog's document states nothing there) or ``"ours"`` (mockhog's
  does not), default either;
- ``why``, and ``source``: the PostHog source file that shows it, where there is one.

Every difference between the served contract and the pinned document must be explained by an
entry, and every entry must explain one (``tests/test_overlay.py``): the overlay is the list of
mockhog's reasons, no longer and no shorter.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from . import HERE

# Every kind of difference a report names.
KINDS = frozenset(
    {
        "operation added", "operation removed", "route", "scopes",
        "path parameter added", "path parameter removed", "query parameter added",
        "query parameter removed", "body added", "body removed", "content types", "schema",
        "response added", "response removed", "component added", "component removed",
        "field added", "field removed", "changed", "required", "nullable", "ref",
        "type", "format", "enum", "readOnly", "writeOnly", "default", "const",
    }
)  # fmt: skip
_KEYS = {"family", "names", "kinds", "where", "fields", "absent", "why", "source"}
_SIDES = ("ours", "theirs")
_NAMED = re.compile(r"/(?:properties|query|params)/([^/]+)")


@dataclass(frozen=True)
class Served:
    """One ``[[served]]`` entry."""

    why: str
    family: tuple[str, ...]
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    absent: str | None = None
    source: str | None = None

    def explains(self, family: str, name: str, kind: str, pointer: str, absent: tuple[str, ...] = ()) -> bool:
        """Whether a difference of ``kind`` at ``pointer`` in the operation (or component)
        ``name`` of ``family``, where the sides ``absent`` state nothing, is this one."""
        if self.absent and self.absent not in absent:
            return False
        if family not in self.family and ("*" not in self.family or family == "component"):
            return False
        if self.names and not any(fnmatchcase(name, glob) for glob in self.names):
            return False
        if self.kinds and kind not in self.kinds:
            return False
        if self.where and not any(fnmatchcase(pointer, glob) for glob in self.where):
            return False
        if self.fields:
            named = _NAMED.findall(pointer)
            if named and named[-1].replace("~1", "/").replace("~0", "~") not in self.fields:
                return False
        return True

    @property
    def label(self) -> str:
        """Where the entry applies, in a few words (for reports)."""
        parts = [",".join(self.family)]
        if self.names:
            parts.append(" ".join(self.names))
        if self.kinds:
            parts.append("/".join(self.kinds))
        if self.fields:
            parts.append("fields " + ", ".join(self.fields))
        if self.where:
            parts.append("at " + ", ".join(self.where))
        if self.absent:
            parts.append(f"none in {self.absent}")
        return "; ".join(parts)


def load_served(path: Path | None = None) -> list[Served]:
    """The ``[[served]]`` entries of ``overlay.toml``, checked (``served_entries``)."""
    with open(path or HERE / "overlay.toml", "rb") as handle:
        return served_entries(tomllib.load(handle).get("served", []))


def served_entries(rows: list[dict[str, Any]], kinds: frozenset[str] = KINDS) -> list[Served]:
    """Entries from their TOML tables, checked: known keys, a reason, lists of strings, only kinds
    of difference that exist (a misspelt one is an error when the overlay loads, not an entry
    that silently explains nothing)."""
    entries = []
    for index, row in enumerate(rows, 1):
        where = f"overlay.toml: served entry {index}"
        unknown = set(row) - _KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(row.get("why"), str) or not row["why"].strip():
            raise ValueError(f"{where}: needs a why")
        lists = {}
        for key in ("family", "names", "kinds", "where", "fields"):
            value = row.get(key, [])
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"{where}: {key} must be a string or a list of strings")
            lists[key] = tuple(value)
        if not lists["family"]:
            raise ValueError(f"{where}: needs a family (a catalog resource, 'generic' or '*')")
        if set(lists["kinds"]) - kinds:
            raise ValueError(f"{where}: no such kind of difference {sorted(set(lists['kinds']) - kinds)}")
        if row.get("absent") not in (None, *_SIDES):
            raise ValueError(f"{where}: absent must be one of {_SIDES}")
        entries.append(Served(why=row["why"], source=row.get("source"), absent=row.get("absent"), **lists))
    return entries


def check_families(entries: list[Served], known: set[str]) -> None:
    """Every family an entry names is a catalog resource (or ``generic``, ``*``)."""
    for index, entry in enumerate(entries, 1):
        unknown = set(entry.family) - known - {"generic", "component", "*"}
        if unknown:
            raise ValueError(f"overlay.toml: served entry {index}: no catalog resource {sorted(unknown)}")


def explaining(
    entries: list[Served], family: str, name: str, kind: str, pointer: str, absent: tuple[str, ...] = ()
) -> Served | None:
    """The first entry that explains a difference (the overlay's order: specific ones first)."""
    for entry in entries:
        if entry.explains(family, name, kind, pointer, absent):
            return entry
    return None


def as_dict(entry: Served) -> dict[str, Any]:
    out: dict[str, Any] = {"family": list(entry.family), "why": entry.why}
    for key in ("names", "kinds", "where", "fields"):
        if getattr(entry, key):
            out[key] = list(getattr(entry, key))
    if entry.absent:
        out["absent"] = entry.absent
    if entry.source:
        out["source"] = entry.source
    return out
