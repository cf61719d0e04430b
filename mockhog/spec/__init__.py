"""PostHog's imported contract (``posthog.json``, written by ``mockhog import-schema``) at run time.

Each imported operation is classified in DRF's terms: a standard action of a viewset
(``list``, ``create``, ``retrieve``, ``update``, ``partial_update``, ``destroy``) over a collection,
or a custom ``@action`` on one record (detail) or on the collection. The router is a segment trie
over the full path templates; fixed segments win over parameters, as in DRF's router.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from ..routing import SegmentTrie, split

HERE = Path(__file__).resolve().parent
ROOT = "root"
PROJECT_PREFIXES = ("projects", "environments")
STANDARD = {
    ("GET", "list"): "list",
    ("POST", "create"): "create",
    ("GET", "retrieve"): "retrieve",
    ("PUT", "update"): "update",
    ("PATCH", "partial_update"): "partial_update",
    ("DELETE", "destroy"): "destroy",
}
_PARAM = re.compile(r"^\{(\w+)\}$")
# Path parameters that choose the scope of state, not a record.
SCOPE_PARAMS = ("project_id", "organization_id")


@dataclass(frozen=True, eq=False)
class SpecOperation:
    """One imported operation, shaped like a catalog operation for the HTTP layer."""

    operation_id: str
    method: str
    template: str
    prefix: str  # "projects" | "environments" | "root" (how the project is found)
    params: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any] | None
    responses: dict[str, Any]
    scopes: tuple[str, ...] | None  # None: PostHog refuses personal API keys here
    kind: str = "action"  # a standard action name, or "action" for a custom @action
    collection: str = ""  # the viewset's collection template (without the lookup)
    lookup: str | None = None  # the record's path parameter, for detail operations
    action = "serve"  # the generic engine's entry point
    tier = "generic"

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    @cached_property
    def path_params(self) -> dict[str, str]:
        """Path parameters and their lookup type, as the HTTP layer types them."""
        kinds = {}
        for name, schema in self.params.items():
            if name == "project_id":
                continue
            if schema.get("type") == "integer":
                kinds[name] = "integer"
            elif schema.get("format") == "uuid":
                kinds[name] = "uuid"
            else:
                kinds[name] = "string"
        return kinds

    @cached_property
    def success(self) -> tuple[int, dict[str, Any]]:
        """The documented success status and its response entry."""
        for status in sorted(self.responses):
            if status.startswith("2"):
                return int(status), self.responses[status]
        if self.kind == "destroy":
            return 204, {}
        return 200, self.responses.get("200", {})

    @property
    def status(self) -> int:
        return self.success[0]

    @property
    def response(self) -> str | None:
        """``None`` when the success response has no body, else ``"json"`` (as catalog rows say)."""
        return "json" if self.success[1].get("schema") is not None else None

    @property
    def response_schema(self) -> Any:
        return self.success[1].get("schema")

    @property
    def forbids_destroy(self) -> bool:
        """PostHog's ForbidDestroyModel: the document's destroy answers only 405."""
        return self.kind == "destroy" and set(self.responses) == {"405"}

    @property
    def scope(self) -> str:
        """Whose state the operation touches: a project's, the organization's, or the user's."""
        if self.prefix in PROJECT_PREFIXES:
            return "project"
        return "user" if self.template.startswith("/api/users/") else "organization"

    @cached_property
    def parents(self) -> tuple[str, ...]:
        """Path parameters of the collection that nest it under another record."""
        return tuple(
            m.group(1)
            for part in self.collection.strip("/").split("/")
            if (m := _PARAM.match(part)) and m.group(1) not in SCOPE_PARAMS
        )

    @property
    def table(self) -> str:
        """The store table of the collection: its fixed segments after the scope prefix."""
        parts = [p for p in self.collection.strip("/").split("/")[1:] if not _PARAM.match(p)]
        if parts and parts[0] in PROJECT_PREFIXES and self.prefix in PROJECT_PREFIXES:
            parts = parts[1:]
        return "/".join(parts) or "root"


@dataclass
class SpecRoute:
    """The operations of one path template, by (prefix, method), like a catalog route."""

    template: str
    by_method: dict[tuple[str, str], SpecOperation] = field(default_factory=dict)

    def methods(self, prefix: str) -> list[str]:
        return [method for (p, method) in self.by_method if p == prefix]


class Router:
    """The imported path templates (``/api/projects/{project_id}/dashboards/{id}/``) in a segment
    trie (mockhog.routing, as the catalog's routes are)."""

    def __init__(self) -> None:
        self._trie: SegmentTrie[SpecRoute] = SegmentTrie()
        self.routes: dict[str, SpecRoute] = {}

    def add(self, op: SpecOperation) -> None:
        route = self.routes.get(op.template)
        if route is None:
            route = self.routes[op.template] = SpecRoute(op.template)
            # Of two templates of one shape (``x/{id}/``, ``x/{key}/``) the first is routed, as
            # Django resolves the first pattern that matches; the other keeps its own operations.
            self._trie.setdefault(op.template, route)
        route.by_method[(op.prefix, op.method)] = op

    def match(self, path: str) -> tuple[SpecRoute, dict[str, str]] | None:
        """The route for a request path (``/api/...``, trailing slash optional) and its parameters."""
        parts = split(path)
        return None if parts is None else self._trie.match(parts)


class Spec:
    """The imported operations and components, with a router over them."""

    def __init__(self, data: dict[str, Any], components: Path | dict[str, Any] | None = None) -> None:
        self.source: dict[str, Any] = data["source"]
        self._components = components if components is not None else data.get("components", {})
        self.operations = classify(data["operations"])
        self.by_id = {op.operation_id: op for op in self.operations}
        self.router = Router()
        for op in self.operations:
            self.router.add(op)

    @classmethod
    def load(cls, directory: Path | None = None) -> Spec:
        """The generated files in ``directory`` (default: beside this module). Components are
        read on first use: routing needs only the operations, and start-up stays short."""
        directory = directory or HERE
        spec = cls(orjson.loads((directory / "operations.json").read_bytes()), directory / "components.json")
        spec._overlay_file = directory / "overlay.toml"
        return spec

    @classmethod
    def from_document(cls, document: dict[str, Any], raw: bytes | None = None) -> Spec:
        """A user's own PostHog document (what their PostHog serves at ``/api/schema/``), imported
        in memory as ``mockhog import-schema`` would, with mockhog's overlay re-applied wherever
        its target is still there (``overlay_skipped`` says which fixes no longer apply)."""
        from .importer import import_document

        spec = cls(import_document(document, raw))
        spec._overlay_file = HERE / "overlay.toml"
        spec._user_document = True
        return spec

    @classmethod
    def from_file(cls, path: str | Path) -> Spec:
        """``from_document`` of a file: JSON or YAML, gzipped or not, or a wheel that ships one.
        Raises ``mockhog.spec.importer.ImportError_`` naming what is wrong with it."""
        from .importer import read_source

        raw, document = read_source(Path(path))
        return cls.from_document(document, raw)

    @cached_property
    def components(self) -> dict[str, Any]:
        """The imported components with the overlay's corrections applied."""
        components = self._components
        if isinstance(components, Path):
            data = orjson.loads(components.read_bytes())
            if data["source"] != self.source:
                raise ValueError(f"{components} comes from another import than operations.json")
            components = data["components"]
        if not self._user_document:
            return apply_overlay(components, self.overlay)
        applicable = []
        for fix in self.overlay:
            reason = overlay_target(components, fix)[1]
            if reason is None:
                applicable.append(fix)
            else:
                self.overlay_skipped.append((fix, reason))
        return apply_overlay(components, applicable)

    _overlay_file: Path | None = None
    # The pinned import must hold every overlay target (a missing one is an error: the import
    # moved under it); a user's newer document may have fixed or dropped what a fix corrects.
    _user_document = False

    @cached_property
    def overlay_skipped(self) -> list[tuple[dict[str, Any], str]]:
        """Overlay fixes that a user's document gives no target for, each with the reason."""
        return []

    @cached_property
    def overlay(self) -> list[dict[str, Any]]:
        """The corrections beside the generated files (none for a directory without them)."""
        path = self._overlay_file
        return load_overlay(path) if path is not None and path.exists() else []

    def collection_model(self, op: SpecOperation) -> Any:
        """The schema of one record of the operation's collection (its retrieve's answer, else
        its create's, else the items of its list)."""
        return self.models.get((op.prefix, op.collection))

    @cached_property
    def models(self) -> dict[tuple[str, str], Any]:
        found: dict[tuple[str, str], Any] = {}
        rank = {"retrieve": 0, "create": 1, "update": 2, "partial_update": 3, "list": 4}
        best: dict[tuple[str, str], int] = {}
        for op in self.operations:
            if op.kind not in rank or op.response_schema is None:
                continue
            schema = op.response_schema
            if op.kind == "list":
                schema = self.list_items(schema)
                if schema is None:
                    continue
            key = (op.prefix, op.collection)
            if rank[op.kind] < best.get(key, 99):
                best[key], found[key] = rank[op.kind], schema
        return found

    def resolve(self, schema: Any) -> Any:
        """Follow top-level ``$ref``s to the schema they name."""
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            schema = self.components.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema

    def list_items(self, schema: Any) -> Any:
        """The item schema of a list answer: a page's ``results`` or a bare array's ``items``."""
        resolved = self.resolve(schema)
        if not isinstance(resolved, dict):
            return None
        if resolved.get("type") == "array":
            return resolved.get("items")
        results = resolved.get("properties", {}).get("results")
        if isinstance(results, dict):
            return self.resolve(results).get("items")
        return None

    def page_kind(self, schema: Any) -> str:
        """``limit_offset`` (count/next/previous/results), ``cursor`` (no count) or ``none``."""
        properties = self.resolve(schema).get("properties", {}) if schema else {}
        if "results" in properties and "count" in properties:
            return "limit_offset"
        if "results" in properties and "next" in properties:
            return "cursor"
        return "none"


def classify(rows: list[dict[str, Any]]) -> list[SpecOperation]:
    """Operations with their DRF role: which collection, which standard action or custom one."""
    templates: dict[str, set[str]] = {}
    for row in rows:
        templates.setdefault(_strip(row["path"]), set()).add(_suffix(row))
    collections = _collections(templates)
    ops = []
    for row in rows:
        parts = _strip(row["path"]).split("/")
        suffix = _suffix(row)
        method = row["method"]
        kind, collection, lookup = "action", "", None
        last = _PARAM.match(parts[-1])
        standard = STANDARD.get((method, suffix))
        if (
            last
            and last.group(1) not in SCOPE_PARAMS
            and standard
            in (
                "retrieve",
                "update",
                "partial_update",
                "destroy",
            )
        ):
            kind, collection, lookup = standard, "/".join(parts[:-1]), last.group(1)
        elif not last and standard == "list":
            kind, collection = "list", "/".join(parts)
        elif not last and standard == "create" and "/".join(parts) in collections:
            kind, collection = "create", "/".join(parts)
        elif len(parts) >= 2 and (m := _PARAM.match(parts[-2])) and m.group(1) not in SCOPE_PARAMS:
            collection, lookup = "/".join(parts[:-2]), m.group(1)  # a detail @action
        else:
            collection = "/".join(parts[:-1])  # an @action on the collection
        prefix = row["prefix"] if "{project_id}" in row["path"] else ROOT
        ops.append(
            SpecOperation(
                operation_id=row["id"],
                method=method,
                template=row["path"],
                prefix=prefix,
                params=row["params"],
                query=row["query"],
                body=row.get("body"),
                responses=row["responses"],
                scopes=tuple(row["scopes"]) if row["scopes"] is not None else None,
                kind=kind,
                collection="/" + collection + "/",
                lookup=lookup,
            )
        )
    return ops


def _strip(path: str) -> str:
    return path.strip("/")


def _suffix(row: dict[str, Any]) -> str:
    """drf-spectacular's operationId ends with the action: ``..._partial_update``, ``..._list``."""
    op_id = re.sub(r"_\d+$", "", row["id"])  # "retrieve_2": a second route to the same view
    for suffix in ("partial_update", "list", "create", "retrieve", "update", "destroy"):
        if op_id == suffix or op_id.endswith("_" + suffix):
            return suffix
    return ""


def _collections(templates: dict[str, set[str]]) -> set[str]:
    """Paths that are a viewset's collection: listed, or with records under them."""
    found = {path for path, suffixes in templates.items() if "list" in suffixes}
    for path, suffixes in templates.items():
        head, _, last = path.rpartition("/")
        if _PARAM.match(last) and {"retrieve", "destroy"} & suffixes:
            found.add(head)
    return found


def load_overlay(path: Path | None = None) -> list[dict[str, Any]]:
    """The component fixes; the file's ``[[served]]`` entries are checked too (mockhog.spec.overlay)."""
    from .overlay import served_entries

    with open(path or HERE / "overlay.toml", "rb") as handle:
        data = tomllib.load(handle)
    fixes = data.get("fix", [])
    served_entries(data.get("served", []))
    for index, fix in enumerate(fixes):
        missing = {"component", "pointer", "action", "why"} - set(fix)
        valued = (fix.get("action") == "replace") == ("value" in fix)
        if missing or fix["action"] not in ("remove", "replace") or not valued:
            raise ValueError(f"overlay.toml: fix {index + 1} needs component, pointer, action and why")
    return fixes


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]


def overlay_target(components: dict[str, Any], fix: dict[str, Any]) -> tuple[Any, str | None]:
    """The value a fix corrects in ``components`` and None, or (None, why it has no target):
    the component or the pointer's parent is missing, or the document already says what the fix
    makes it say."""
    parts = _pointer_parts(fix["pointer"])
    if fix["component"] not in components:
        return None, f"no component {fix['component']!r}"
    node = components[fix["component"]]
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None, f"{fix['component']}{fix['pointer']}: no such place"
    if parts[-1] not in node:
        if fix["action"] == "remove":
            return None, f"{fix['component']}{fix['pointer']}: already absent"
        return None, None
    if fix["action"] == "replace" and _stated(node[parts[-1]]) == _stated(fix["value"]):
        return node[parts[-1]], f"{fix['component']}{fix['pointer']}: already {fix['value']!r}"
    return node[parts[-1]], None


def _stated(value: Any) -> Any:
    """A value as a document can state it: the importer drops ``x-`` keys (a fix's ``x-drf-error``
    is mockhog's wording of the rule, which no document carries)."""
    if isinstance(value, dict):
        return {key: _stated(item) for key, item in value.items() if not str(key).startswith("x-")}
    if isinstance(value, list):
        return [_stated(item) for item in value]
    return value


def apply_overlay(components: dict[str, Any], fixes: list[dict[str, Any]]) -> dict[str, Any]:
    """Components with each fix applied (copying only what a fix touches); a fix whose pointer
    names nothing is an error: the import moved under it."""
    out = dict(components)
    for fix in fixes:
        parts = _pointer_parts(fix["pointer"])
        if fix["component"] not in out:
            raise ValueError(f"overlay.toml: no component {fix['component']!r} in the import")
        node = out[fix["component"]] = copy.deepcopy(out[fix["component"]])
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or (parts[-1] not in node and fix["action"] == "remove"):
            raise ValueError(f"overlay.toml: {fix['component']}{fix['pointer']} is not in the import")
        if fix["action"] == "remove":
            del node[parts[-1]]
        else:
            node[parts[-1]] = fix["value"]
    return out
