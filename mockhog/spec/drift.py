"""``mockhog drift FILE``: how mockhog's contract differs from a PostHog OpenAPI document.

mockhog's contract is the pinned import (``operations.json``, ``components.json``) with the
overlay's corrections applied. FILE is imported the same way (``mockhog.spec.importer``) and the
two are compared fact by fact: operations added or removed, and per shared operation and component
the fields added or removed, types, formats, enums, required lists, scopes, parameters, bodies and
responses. A difference at a place an overlay fix corrects is that fix (it carries the fix's
reason); any other difference is drift. On the pinned document only the overlay's fixes remain.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import HERE, apply_overlay, load_overlay, overlay_target
from .importer import import_document, read_source

# Keywords whose change is named by the keyword itself (everything else is "changed").
_NAMED = ("type", "format", "enum", "required", "$ref", "readOnly", "writeOnly", "default", "const")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")


@dataclass
class Change:
    """One difference: where (an operation or component and a JSON pointer inside it), what kind,
    mockhog's value and FILE's (``None`` where a side lacks it)."""

    kind: str
    scope: str  # "operation" | "component"
    name: str
    pointer: str = ""
    ours: Any = None
    theirs: Any = None
    overlay: str | None = None  # the overlay fix's reason, where the difference is one
    verified: bool = False  # an operation mockhog serves with hand-checked behaviour

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scope": self.scope,
            "name": self.name,
            "pointer": self.pointer,
            "ours": self.ours,
            "theirs": self.theirs,
            "overlay": self.overlay,
            "verified": self.verified,
        }


@dataclass
class Report:
    ours: dict[str, Any]
    theirs: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    # Overlay fixes FILE gives no target for (it already says what the fix makes it say, or no
    # longer has the place): each with the reason.
    unneeded: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    @property
    def drift(self) -> list[Change]:
        """The differences no overlay fix explains."""
        return [change for change in self.changes if change.overlay is None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ours": self.ours,
            "theirs": self.theirs,
            "drift": len(self.drift),
            "overlay": sum(1 for change in self.changes if change.overlay is not None),
            "changes": [change.as_dict() for change in self.changes],
            "overlay_not_needed": [
                {"component": fix["component"], "pointer": fix["pointer"], "reason": reason}
                for fix, reason in self.unneeded
            ],
        }


def ours(directory: Path = HERE) -> dict[str, Any]:
    """mockhog's contract: the committed import with the overlay applied."""
    operations = orjson.loads((directory / "operations.json").read_bytes())
    components = orjson.loads((directory / "components.json").read_bytes())
    overlay = load_overlay(directory / "overlay.toml") if (directory / "overlay.toml").exists() else []
    return {
        "source": operations["source"],
        "operations": operations["operations"],
        "components": apply_overlay(components["components"], overlay),
        "overlay": overlay,
    }


def drift_file(path: Path, verified_ids: Collection[str] = ()) -> Report:
    """The report for a document on disk (``ImportError_`` if it is none)."""
    raw, document = read_source(path)
    return compare(ours(), import_document(document, raw), verified_ids)


def compare(
    mine: dict[str, Any],
    theirs: dict[str, Any],
    verified_ids: Collection[str] = (),
) -> Report:
    """Every difference between mockhog's contract ``mine`` (from ``ours()``) and an import."""
    report = Report(ours=mine["source"], theirs=theirs["source"])
    mine_ops = {op["id"]: op for op in mine["operations"]}
    their_ops = {op["id"]: op for op in theirs["operations"]}
    for op_id in sorted(mine_ops.keys() | their_ops.keys()):
        a, b = mine_ops.get(op_id), their_ops.get(op_id)
        if b is None:
            found = [Change("operation removed", "operation", op_id, ours=_route(a))]
        elif a is None:
            found = [Change("operation added", "operation", op_id, theirs=_route(b))]
        else:
            found = list(_operation_changes(op_id, a, b))
        for change in found:
            change.verified = op_id in verified_ids
        report.changes.extend(found)
    mine_components, their_components = mine["components"], theirs["components"]
    for name in sorted(mine_components.keys() | their_components.keys()):
        a, b = mine_components.get(name), their_components.get(name)
        if b is None:
            report.changes.append(Change("component removed", "component", name))
        elif a is None:
            report.changes.append(Change("component added", "component", name))
        else:
            report.changes.extend(schema_changes(a, b, "component", name, ""))
    for fix in mine.get("overlay", []):
        in_fix = fix["pointer"].rstrip("/")
        explained = False
        for change in report.changes:
            if (
                change.scope == "component"
                and change.name == fix["component"]
                and (change.pointer == in_fix or change.pointer.startswith(in_fix + "/"))
            ):
                change.overlay = fix["why"]
                explained = True
        if not explained:
            reason = overlay_target(their_components, fix)[1]
            report.unneeded.append((fix, reason or "FILE already agrees"))
    return report


def _route(op: dict[str, Any] | None) -> str:
    return f"{op['method']} {op['path']}" if op else ""


def _operation_changes(op_id: str, a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    if (a["method"], a["path"]) != (b["method"], b["path"]):
        yield Change("route", "operation", op_id, "", _route(a), _route(b))
    if a["scopes"] != b["scopes"]:
        yield Change("scopes", "operation", op_id, "/scopes", a["scopes"], b["scopes"])
    for where in ("params", "query"):
        mine, theirs = a[where], b[where]
        label = "path parameter" if where == "params" else "query parameter"
        for name in sorted(mine.keys() | theirs.keys()):
            pointer = f"/{where}/{_escape(name)}"
            if name not in theirs:
                yield Change(f"{label} removed", "operation", op_id, pointer, mine[name], None)
            elif name not in mine:
                yield Change(f"{label} added", "operation", op_id, pointer, None, theirs[name])
            elif where == "params":
                yield from schema_changes(mine[name], theirs[name], "operation", op_id, pointer)
            else:
                if bool(mine[name].get("required")) != bool(theirs[name].get("required")):
                    yield Change(
                        "required", "operation", op_id, pointer + "/required",
                        bool(mine[name].get("required")), bool(theirs[name].get("required")),
                    )  # fmt: skip
                yield from schema_changes(
                    mine[name]["schema"], theirs[name]["schema"], "operation", op_id, pointer + "/schema"
                )
    body_a, body_b = a.get("body"), b.get("body")
    if body_a is None or body_b is None:
        if body_a != body_b:
            kind = "body removed" if body_b is None else "body added"
            yield Change(kind, "operation", op_id, "/body", body_a, body_b)
    else:
        if body_a.get("required") != body_b.get("required"):
            yield Change(
                "required",
                "operation",
                op_id,
                "/body/required",
                body_a.get("required"),
                body_b.get("required"),
            )
        yield from _content_changes(op_id, "/body", body_a, body_b)
    for status in sorted(a["responses"].keys() | b["responses"].keys()):
        pointer = f"/responses/{status}"
        if status not in b["responses"]:
            yield Change("response removed", "operation", op_id, pointer, status, None)
        elif status not in a["responses"]:
            yield Change("response added", "operation", op_id, pointer, None, status)
        else:
            yield from _content_changes(op_id, pointer, a["responses"][status], b["responses"][status])


def _content_changes(op_id: str, pointer: str, a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    if a.get("content") != b.get("content"):
        yield Change(
            "content types", "operation", op_id, pointer + "/content", a.get("content"), b.get("content")
        )
    if "schema" in a and "schema" in b:
        yield from schema_changes(a["schema"], b["schema"], "operation", op_id, pointer + "/schema")
    elif a.get("schema") != b.get("schema"):
        yield Change("schema", "operation", op_id, pointer + "/schema", a.get("schema"), b.get("schema"))


def schema_changes(a: Any, b: Any, scope: str, name: str, pointer: str) -> Iterator[Change]:
    """The differences between two JSON Schemas, by the keyword they are in."""
    if a == b:
        return
    if not (isinstance(a, dict) and isinstance(b, dict)):
        yield Change("changed", scope, name, pointer, a, b)
        return
    for key in sorted(a.keys() | b.keys()):
        here = f"{pointer}/{_escape(key)}"
        mine, theirs = a.get(key), b.get(key)
        if mine == theirs:
            continue
        if (
            key in ("properties", "patternProperties", "$defs")
            and isinstance(mine, dict)
            and isinstance(theirs, dict)
        ):
            for prop in sorted(mine.keys() | theirs.keys()):
                at = f"{here}/{_escape(prop)}"
                if prop not in theirs:
                    yield Change("field removed", scope, name, at, mine[prop], None)
                elif prop not in mine:
                    yield Change("field added", scope, name, at, None, theirs[prop])
                else:
                    yield from schema_changes(mine[prop], theirs[prop], scope, name, at)
        elif key in _SCHEMA_ONE and isinstance(mine, dict) and isinstance(theirs, dict):
            yield from schema_changes(mine, theirs, scope, name, here)
        elif (
            key in _SCHEMA_LIST
            and isinstance(mine, list)
            and isinstance(theirs, list)
            and len(mine) == len(theirs)
        ):
            for index, (x, y) in enumerate(zip(mine, theirs, strict=True)):
                yield from schema_changes(x, y, scope, name, f"{here}/{index}")
        elif key == "required" and isinstance(mine, list | None) and isinstance(theirs, list | None):
            if set(mine or ()) != set(theirs or ()):  # an order or a repeat changes nothing
                yield Change(
                    "required", scope, name, here, sorted(set(mine or ())), sorted(set(theirs or ()))
                )
        elif key in _NAMED:
            yield Change("ref" if key == "$ref" else key, scope, name, here, mine, theirs)
        else:
            yield Change("changed", scope, name, here, mine, theirs)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _short(value: Any, limit: int = 100) -> str:
    if value is None:
        return "-"
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(change: Change) -> str:
    """One line: what differs, where, and each side (``-`` where a side has nothing)."""
    where = f"{change.scope} {change.name}{change.pointer}"
    if change.kind == "enum" and isinstance(change.ours, list) and isinstance(change.theirs, list):
        added = [v for v in change.theirs if v not in change.ours]
        dropped = [v for v in change.ours if v not in change.theirs]
        detail = f"FILE adds {_short(added)}, drops {_short(dropped)}"
    elif change.kind == "required" and isinstance(change.ours, list) and isinstance(change.theirs, list):
        added = [v for v in change.theirs if v not in change.ours]
        dropped = [v for v in change.ours if v not in change.theirs]
        detail = f"FILE requires {_short(added)} too, no longer {_short(dropped)}"
    else:
        detail = f"mockhog {_short(change.ours)}, FILE {_short(change.theirs)}"
    line = f"{change.kind}: {where}: {detail}"
    if change.verified:
        line += " [verified: mockhog serves it with hand-checked behaviour, which stays]"
    return line


def render(report: Report, file: str) -> str:
    """The human-readable report: the overlay's reasoned corrections, then the drift."""
    ours_sha, theirs_sha = report.ours.get("sha256") or "-", report.theirs.get("sha256") or "-"
    lines = [f"mockhog's contract (sha256 {ours_sha[:12]}…) against {file} (sha256 {theirs_sha[:12]}…)"]
    corrections = [change for change in report.changes if change.overlay is not None]
    if corrections:
        lines.append(f"\nOverlay corrections ({len(corrections)}; mockhog differs on purpose):")
        for change in corrections:
            lines.append(f"  {describe(change)}")
            lines.append(f"    why: {change.overlay}")
    for fix, reason in report.unneeded:
        lines.append(f"  overlay fix {fix['component']}{fix['pointer']} finds nothing to correct: {reason}")
    drift = report.drift
    if not drift:
        lines.append("\nNo drift beyond the overlay.")
        return "\n".join(lines) + "\n"
    counts: dict[str, int] = {}
    for change in drift:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    lines.append(f"\nDrift ({len(drift)}: {summary}):")
    lines.extend(f"  {describe(change)}" for change in drift)
    return "\n".join(lines) + "\n"
