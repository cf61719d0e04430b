"""The catalog of operations (``catalog.toml``): routing, scopes and schema names for every route."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .routing import SegmentTrie, split

PREFIXES = ("projects", "environments")
ROOT = "root"  # operations outside a project: /api/users/@me/, /api/projects/, ...
_METHOD_SUFFIX = {
    "GET": "retrieve",
    "POST": "create",
    "PUT": "update",
    "PATCH": "partial_update",
    "DELETE": "destroy",
}
_DEFAULT_STATUS = {"create": 201, "destroy": 204}
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, eq=False)
class ResourceSpec:
    """A resource as the catalog describes it."""

    name: str
    impl: str
    scope: str
    schema: str
    model: str | None
    lookup: str
    params: dict[str, str]
    pagination: str
    root: bool = False


@dataclass(frozen=True, eq=False)
class Operation:
    """One served operation: a catalog row under one of the two prefixes."""

    resource: ResourceSpec
    prefix: str
    action: str
    method: str
    path: str
    scopes: tuple[str, ...]
    query: str | None
    request: str | None
    response: str | None
    status: int
    suffix: str
    media: str | None = None  # a binary response: the $defs enum of its content types

    @cached_property
    def operation_id(self) -> str:
        """PostHog's (drf-spectacular's) operationId, e.g. ``environments_exports_list``."""
        tokens = [part for part in self.path.strip("/").split("/") if not part.startswith("{")]
        # drf-spectacular turns a url_path's hyphens into underscores (logs/count-ranges/)
        name = "_".join(tokens + [self.suffix] if self.suffix else tokens).replace("-", "_")
        return f"environments_{name}" if self.prefix == "environments" else name

    @property
    def template(self) -> str:
        """The full path template, as PostHog's OpenAPI document writes it."""
        if self.prefix == ROOT:
            return f"/api/{self.path}"
        return f"/api/{self.prefix}/{{project_id}}/{self.path}"

    @cached_property
    def path_params(self) -> dict[str, str]:
        types = {"id": self.resource.lookup, **self.resource.params}
        return {name: types.get(name, "string") for name in _PARAM.findall(self.path)}

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass
class Route:
    """A path pattern and the operations it serves, by method."""

    template: str
    params: tuple[str, ...]
    by_method: dict[tuple[str, str], Operation] = field(default_factory=dict)

    def methods(self, prefix: str) -> list[str]:
        return [method for (p, method) in self.by_method if p == prefix]


class Catalog:
    """Every operation, with a router that finds one from a request path."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.resources: dict[str, ResourceSpec] = {}
        self.operations: list[Operation] = []
        for name, entry in data["resources"].items():
            spec = ResourceSpec(
                name=name,
                impl=entry["impl"],
                scope=entry["scope"],
                schema=entry.get("schema", name),
                model=entry.get("model"),
                lookup=entry.get("lookup", "integer"),
                params=dict(entry.get("params", {})),
                pagination=entry.get("pagination", "limit_offset"),
                root=entry.get("root", False),
            )
            self.resources[name] = spec
            for row in entry["operations"]:
                for prefix in (ROOT,) if spec.root else PREFIXES:
                    self.operations.append(_operation(spec, prefix, row))
        self._build_routes()

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        path = path or Path(__file__).with_name("catalog.toml")
        with open(path, "rb") as handle:
            return cls(tomllib.load(handle))

    def _build_routes(self) -> None:
        # A segment trie per kind of path (relative to a project prefix, or to /api/); where two
        # templates match a path, fixed segments win over parameters, as in DRF's router
        # (log_view before {id}).
        self._routes: SegmentTrie[Route] = SegmentTrie()
        self._root_routes: SegmentTrie[Route] = SegmentTrie()
        for op in self.operations:
            trie = self._root_routes if op.prefix == ROOT else self._routes
            route = trie.setdefault(op.path, Route(op.path, tuple(_PARAM.findall(op.path))))
            route.by_method[(op.prefix, op.method)] = op

    def match(self, rest: str, root: bool = False) -> tuple[Route, dict[str, str]] | None:
        """Find the route for a path relative to the project prefix (``exports/12/``), or to
        ``/api/`` for root operations."""
        parts = split(rest)
        if parts is None:
            return None
        return (self._root_routes if root else self._routes).match(parts)


def _operation(spec: ResourceSpec, prefix: str, row: dict[str, Any]) -> Operation:
    action = row["action"]
    method = row["method"]
    if "scopes" in row:
        scopes = tuple(row["scopes"])
    else:
        access = row.get("access") or ("read" if method == "GET" else "write")
        scopes = (f"{spec.scope}:{access}",)
    # suffix = "" where PostHog names the operation itself (extend_schema's operation_id)
    suffix = row["suffix"] if "suffix" in row else (action if action == "list" else _METHOD_SUFFIX[method])
    response = row.get("response")
    if response is None and action != "destroy":
        response = "page" if action == "list" and spec.pagination != "none" else spec.model
    request = row.get("request")
    if request is None and action in ("create", "update", "partial_update") and spec.model:
        request = f"{spec.model}Request"
    return Operation(
        resource=spec,
        prefix=prefix,
        action=action,
        method=method,
        path=row["path"],
        scopes=scopes,
        query=row.get("query"),
        request=request,
        response=response if response != "none" else None,
        status=row.get("status", _DEFAULT_STATUS.get(action, 200)),
        suffix=suffix,
        media=row.get("media"),
    )
