"""``mockhog drift FILE``: how mockhog's contract differs from a PostHog OpenAPI document.

mockhog's contract is what it serves (``/api/schema/``): the pinned import (``operations.json``,
``components.json``) with the overlay's component fixes applied, the verified operations with
their hand-checked schemas (``catalog.toml``, ``schemas/``), and what the served document adds to
every operation. FILE is imported (``mockhog.spec.importer``) and the two are compared fact by
fact: operations added or removed, and per shared operation and component the fields added or
removed, types, nullability, formats, enums, required lists, scopes, parameters, bodies and
responses. A verified operation is compared with references followed on both sides (its schemas
are mockhog's own components) and in one form: ``allOf`` of one schema merged, read-only fields
left out of request bodies and write-only ones out of responses (DRF ignores and never sends
them). A difference an overlay entry explains carries its reason (a ``[[fix]]`` for components,
a ``[[served]]`` entry for operations, ``mockhog.spec.overlay``); any other difference is drift.
On the pinned document every difference is one of the overlay's reasoned corrections.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import HERE, load_overlay, overlay_target
from .importer import REF_PREFIX, convert_schema, import_document, read_source
from .importer import _operation as imported_operation
from .overlay import Served, check_families, explaining, load_served

# Keywords whose change is named by the keyword itself (everything else is "changed").
_NAMED = ("type", "format", "enum", "required", "$ref", "readOnly", "writeOnly", "default", "const")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
GENERIC = "generic"
COMPONENT = "component"


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
    overlay: str | None = None  # the overlay entry's reason, where the difference is one
    family: str = ""  # the catalog resource serving the operation, "generic" or "component"
    source: str | None = None  # the PostHog source file the overlay entry cites
    explained_by: str = ""  # which overlay entry: "fix <component><pointer>" or the entry's label
    rank: int = field(default=0, repr=False, compare=False)  # the entry's place in the overlay

    @property
    def verified(self) -> bool:
        """An operation mockhog serves with hand-checked behaviour."""
        return self.family not in ("", GENERIC, COMPONENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scope": self.scope,
            "name": self.name,
            "pointer": self.pointer,
            "ours": self.ours,
            "theirs": self.theirs,
            "overlay": self.overlay,
            "source": self.source,
            "explained_by": self.explained_by,
            "family": self.family,
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
    # [[served]] entries no difference with FILE needs (on the pinned document: a stale entry).
    unused: list[Served] = field(default_factory=list)

    @property
    def drift(self) -> list[Change]:
        """The differences no overlay entry explains."""
        return [change for change in self.changes if change.overlay is None]

    @property
    def corrections(self) -> list[Change]:
        return [change for change in self.changes if change.overlay is not None]

    def as_dict(self) -> dict[str, Any]:
        from .overlay import as_dict

        return {
            "ours": self.ours,
            "theirs": self.theirs,
            "drift": len(self.drift),
            "overlay": len(self.corrections),
            "changes": [change.as_dict() for change in self.changes],
            "overlay_not_needed": [
                {"component": fix["component"], "pointer": fix["pointer"], "reason": reason}
                for fix, reason in self.unneeded
            ],
            "served_entries_not_needed": [as_dict(entry) for entry in self.unused],
        }


def ours(directory: Path = HERE) -> dict[str, Any]:
    """mockhog's contract: the document it serves, as the importer would read it (references
    to imported components under their PostHog names), with each operation's family."""
    from ..catalog import Catalog
    from ..contract import Schemas
    from ..openapi import build_document
    from . import Spec
    from .document import TIER, published_names, rename_refs, served_document

    catalog, spec = Catalog.load(), Spec.load(directory)
    verified = build_document(catalog, Schemas())
    published = published_names(verified["components"]["schemas"], spec.components)
    document = served_document(verified, catalog, spec)
    original = {served: name for name, served in published.items()}
    served = {name: convert_schema(schema) for name, schema in document["components"]["schemas"].items()}
    operations, families = [], {}
    for path, item in document["paths"].items():
        for method, entry in item.items():
            row = imported_operation(path, method, entry, _AS_IS)
            if entry.get(TIER) == "verified":
                families[row["id"]] = entry["tags"][0]
            else:
                families[row["id"]] = GENERIC
                rename_refs(row, original)
            operations.append(row)
    overlay_file = directory / "overlay.toml"
    served_entries = load_served(overlay_file) if overlay_file.exists() else []
    check_families(served_entries, set(catalog.resources))
    return {
        "source": spec.source,
        "operations": sorted(operations, key=lambda op: op["id"]),
        "components": {
            name: rename_refs(served[published[name]], original) for name in sorted(spec.components)
        },
        "served_components": served,
        "families": families,
        "overlay": load_overlay(overlay_file) if overlay_file.exists() else [],
        "served": served_entries,
    }


class _AsIs:
    """The importer's folding, left out: the served document's schemas are compared as served."""

    @staticmethod
    def fold(node: Any) -> Any:
        return node


_AS_IS = _AsIs()


def drift_file(path: Path) -> Report:
    """The report for a document on disk (``ImportError_`` if it is none)."""
    raw, document = read_source(path)
    return compare(ours(), import_document(document, raw))


def compare(mine: dict[str, Any], theirs: dict[str, Any]) -> Report:
    """Every difference between mockhog's contract ``mine`` (from ``ours()``) and an import."""
    report = Report(ours=mine["source"], theirs=theirs["source"])
    families: dict[str, str] = mine.get("families", {})
    mine_ops = {op["id"]: op for op in mine["operations"]}
    their_ops = {op["id"]: op for op in theirs["operations"]}
    ours_inline = _Inliner(mine.get("served_components", mine["components"]))
    theirs_inline = _Inliner(theirs["components"])
    for op_id in sorted(mine_ops.keys() | their_ops.keys()):
        a, b = mine_ops.get(op_id), their_ops.get(op_id)
        family = families.get(op_id, GENERIC)
        if b is None:
            found = [Change("operation removed", "operation", op_id, ours=_route(a))]
        elif a is None:
            found = [Change("operation added", "operation", op_id, theirs=_route(b))]
        elif family != GENERIC:
            found = list(_operation_changes(op_id, ours_inline.operation(a), theirs_inline.operation(b)))
        else:
            found = list(_operation_changes(op_id, a, b))
        for change in found:
            change.family = family
        report.changes.extend(found)
    mine_components, their_components = mine["components"], theirs["components"]
    for name in sorted(mine_components.keys() | their_components.keys()):
        a, b = mine_components.get(name), their_components.get(name)
        if b is None:
            found = [Change("component removed", "component", name)]
        elif a is None:
            found = [Change("component added", "component", name)]
        else:
            found = list(schema_changes(a, b, "component", name, ""))
        for change in found:
            change.family = COMPONENT
        report.changes.extend(found)
    fixes = mine.get("overlay", [])
    for rank, fix in enumerate(fixes):
        in_fix = fix["pointer"].rstrip("/")
        explained = False
        for change in report.changes:
            if (
                change.scope == "component"
                and change.name == fix["component"]
                and (change.pointer == in_fix or change.pointer.startswith(in_fix + "/"))
            ):
                change.overlay = fix["why"]
                change.explained_by = f"fix {fix['component']}{fix['pointer']}"
                change.rank = rank
                explained = True
        if not explained:
            # a property's new schema as an import reads it (mockhog's own keys, x-drf-error, dropped)
            is_property = fix["pointer"].rstrip("/").rsplit("/", 2)[-2:-1] == ["properties"]
            read = {**fix, "value": convert_schema(fix["value"])} if is_property and "value" in fix else fix
            reason = overlay_target(their_components, read)[1]
            report.unneeded.append((fix, reason or "FILE already agrees"))
    entries: list[Served] = mine.get("served", [])
    ranks = {id(entry): len(fixes) + index for index, entry in enumerate(entries)}
    for change in report.changes:
        if change.overlay is not None:
            continue
        absent = tuple(side for side in ("ours", "theirs") if getattr(change, side) is None)
        entry = explaining(entries, change.family, change.name, change.kind, change.pointer, absent)
        if entry is not None:
            change.overlay, change.source, change.explained_by = entry.why, entry.source, entry.label
            change.rank = ranks[id(entry)]
    used = {change.rank for change in report.corrections if change.rank >= len(fixes)}
    report.unused = [entry for entry in entries if ranks[id(entry)] not in used]
    return report


class _Inliner:
    """A verified operation's schemas in one comparable form: references followed (siblings such
    as ``readOnly`` kept), ``allOf`` of one schema merged, read-only fields out of request bodies
    and write-only ones out of responses. A reference that would recur stays a reference."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self._active: set[str] = set()

    def operation(self, op: dict[str, Any]) -> dict[str, Any]:
        out = dict(op)
        out["params"] = {name: self.schema(s, "") for name, s in op["params"].items()}
        out["query"] = {
            name: {**entry, "schema": self.schema(entry["schema"], "")} for name, entry in op["query"].items()
        }
        if op.get("body") is not None:
            out["body"] = self._content(op["body"], "readOnly")
        out["responses"] = {status: self._content(r, "writeOnly") for status, r in op["responses"].items()}
        return out

    def _content(self, entry: dict[str, Any], unseen: str) -> dict[str, Any]:
        if "schema" not in entry:
            return entry
        out = {key: value for key, value in entry.items() if key != "schemas"}
        out["schema"] = self.schema(entry["schema"], unseen)
        return out

    def schema(self, node: Any, unseen: str) -> Any:
        """``unseen``: the flag of properties the side does not see (``readOnly`` in a request)."""
        if isinstance(node, list):
            return [self.schema(value, unseen) for value in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith(REF_PREFIX):
            name = target[len(REF_PREFIX) :]
            if name in self._active or name not in self.components:
                return node
            self._active.add(name)
            try:
                resolved = self.schema(self.components[name], unseen)
            finally:
                self._active.discard(name)
            del node["$ref"]
            node = {**resolved, **{k: self.schema(v, unseen) for k, v in node.items()}}
            return self.schema(node, unseen) if "$ref" in node or "allOf" in node else node
        parts = node.get("allOf")
        if isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], dict):
            del node["allOf"]
            return self.schema({**parts[0], **node}, unseen)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "patternProperties") and isinstance(value, dict):
                kept = {name: self.schema(s, unseen) for name, s in value.items()}
                out[key] = {
                    name: s for name, s in kept.items() if not (isinstance(s, dict) and s.get(unseen))
                }
            elif key in _SCHEMA_ONE or key in _SCHEMA_LIST:
                out[key] = self.schema(value, unseen)
            else:
                out[key] = value
        if isinstance(out.get("required"), list) and isinstance(node.get("properties"), dict):
            hidden = set(node["properties"]) - set(out.get("properties", {}))
            out["required"] = [name for name in out["required"] if name not in hidden]
            if not out["required"]:
                del out["required"]
        if isinstance(out.get("type"), list) and len(out["type"]) == 1:
            out["type"] = out["type"][0]
        values = out.get("enum")
        # an enum's type says nothing its values do not
        if (
            isinstance(values, list)
            and "type" in out
            and {_json_type(v) for v in values} <= _types(out["type"])
        ):
            del out["type"]
        return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "array" if isinstance(value, list) else "object"


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
        elif key == "type" and _types(mine) - {"null"} == _types(theirs) - {"null"}:
            yield Change("nullable", scope, name, here, mine, theirs)
        elif key in _NAMED:
            yield Change("ref" if key == "$ref" else key, scope, name, here, mine, theirs)
        else:
            yield Change("changed", scope, name, here, mine, theirs)


def _types(declared: Any) -> set[str]:
    return {declared} if isinstance(declared, str) else set(declared or ())


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _short(value: Any, limit: int = 100) -> str:
    if value is None:
        return "-"
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXAMPLES = 3


def _plural(scope: str, count: int) -> str:
    return scope + ("s" if count != 1 else "")


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
    if change.verified and change.overlay is None:
        line += " [verified: mockhog serves it with hand-checked behaviour, which stays]"
    return line


def render(report: Report, file: str, every: bool = False) -> str:
    """The human-readable report: the overlay's reasoned corrections (each reason once, with what
    it explains: every difference, or a few of each with ``every`` false), then the drift."""
    ours_sha, theirs_sha = report.ours.get("sha256") or "-", report.theirs.get("sha256") or "-"
    lines = [f"mockhog's contract (sha256 {ours_sha[:12]}…) against {file} (sha256 {theirs_sha[:12]}…)"]
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in sorted(report.corrections, key=lambda change: change.rank):
        groups.setdefault((change.explained_by, change.overlay or ""), []).append(change)
    if groups:
        count, reasons = len(report.corrections), len(groups)
        lines.append(
            f"\nOverlay corrections ({count} differences, {reasons} reasons; mockhog differs on purpose):"
        )
    for (label, why), changes in groups.items():
        names = {change.name for change in changes}
        lines.append(f"\n  [{label}] {len(changes)} in {len(names)} {_plural(changes[0].scope, len(names))}")
        lines.append(f"    why: {why}")
        if changes[0].source:
            lines.append(f"    source: {changes[0].source}")
        shown = changes if every else changes[:_EXAMPLES]
        lines.extend(f"    {describe(change)}" for change in shown)
        if len(shown) < len(changes):
            lines.append(f"    … and {len(changes) - len(shown)} more (--all or --json lists every one)")
    for fix, reason in report.unneeded:
        lines.append(f"  overlay fix {fix['component']}{fix['pointer']} finds nothing to correct: {reason}")
    for entry in report.unused:
        lines.append(f"  overlay entry ({entry.label}) finds nothing to explain: {entry.why}")
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
