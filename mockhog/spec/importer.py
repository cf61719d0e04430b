"""``mockhog import-schema``: PostHog's OpenAPI document -> mockhog's contract (facts only).

The input is what drf-spectacular writes (OpenAPI 3.0): JSON or YAML, plain or gzipped, or the
``arcade-posthog-api`` wheel/sdist that ships PostHog's document as ``moar/openapi.json``. The
output keeps, per operation, its id, method, path, prefix, parameters, body and response schemas,
content types and personal-API-key scopes, and the component schemas as JSON Schema 2020-12:

- OpenAPI 3.0's ``nullable`` becomes a type union (or ``anyOf`` with ``null``);
- descriptions, titles, examples and ``x-`` keys are dropped (prose is not a fact we serve);
- a schema inlined in an operation that equals a named component becomes a ``$ref`` again
  (published copies of the document inline every reference; the contract stays small).

The output is deterministic: the same input gives byte-identical files, and its ``source.sha256``
names the input it came from.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FORMAT = 1
OPERATIONS_FILE = "operations.json"
COMPONENTS_FILE = "components.json"
REF_PREFIX = "#/components/schemas/"
PREFIXES = ("projects", "environments", "organizations", "users")
METHODS = ("get", "post", "put", "patch", "delete")
# Where a schema holds other schemas (everything else is a literal or a keyword's value).
_SCHEMA_MAP = ("properties", "patternProperties", "$defs")
_SCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "propertyNames")
_SCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_LITERAL = ("default", "enum", "const")
_KEPT = {
    "type", "format", "required", "readOnly", "writeOnly", "minimum", "maximum", "multipleOf",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems",
    "maxItems", "uniqueItems", "minProperties", "maxProperties",
}  # fmt: skip
# The arcade-posthog-api package keeps the pinned document here.
PACKAGED_MEMBER = "arcade_posthog_api/moar/openapi.json"


class ImportError_(ValueError):
    """An input that is not a PostHog OpenAPI document (the message says why)."""


def read_source(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The document's raw bytes (what the sha256 is of) and its parsed content."""
    name = path.name.lower()
    try:
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(path) as archive:
                member = _pick(archive.namelist())
                raw = archive.read(member)
        elif name.endswith((".tar.gz", ".tgz")) and tarfile.is_tarfile(path):
            with tarfile.open(path) as archive:
                member = _pick(archive.getnames())
                handle = archive.extractfile(member)
                assert handle is not None
                raw = handle.read()
        else:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ImportError_(f"{path}: cannot read it ({exc})") from exc
    return raw, _parse(raw, path)


def _pick(names: Iterable[str]) -> str:
    names = list(names)
    for name in names:
        if name.endswith(PACKAGED_MEMBER):
            return name
    for name in names:
        if name.rsplit("/", 1)[-1] in ("openapi.json", "openapi.yaml", "openapi.yml", "schema.json"):
            return name
    raise ImportError_(f"no OpenAPI document in the archive (looked for {PACKAGED_MEMBER})")


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    text = raw.decode("utf-8-sig")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ImportError_(f"{path}: not valid JSON ({exc})") from exc
    else:
        try:
            import yaml
        except ModuleNotFoundError as exc:  # pragma: no cover - PyYAML ships with the test extra
            raise ImportError_(f"{path}: reading YAML needs PyYAML (pip install pyyaml)") from exc
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ImportError_(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(document, dict) or "paths" not in document or "openapi" not in document:
        raise ImportError_(f"{path}: not an OpenAPI document (no 'openapi' and 'paths')")
    return document


# -- schemas -------------------------------------------------------------------------------------


def convert_schema(node: Any) -> Any:
    """One OpenAPI 3.0 schema as JSON Schema 2020-12, prose dropped."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = value
        elif key in _SCHEMA_MAP and isinstance(value, dict):
            out[key] = {name: convert_schema(item) for name, item in value.items()}
        elif key in _SCHEMA_ONE:
            out[key] = convert_schema(value) if isinstance(value, dict) else value
        elif key in _SCHEMA_LIST and isinstance(value, list):
            out[key] = [convert_schema(item) for item in value]
        elif key in _LITERAL or key in _KEPT:
            out[key] = value
    # OpenAPI 3.0's boolean exclusive bounds are 2020-12's numeric ones.
    for bound, name in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(name) is True and bound in out:
            out[name] = out.pop(bound)
        elif isinstance(out.get(name), bool):
            del out[name]
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    declared = schema.get("type")
    if isinstance(declared, str):
        schema["type"] = [declared, "null"]
        return schema
    if isinstance(declared, list):
        if "null" not in declared:
            schema["type"] = [*declared, "null"]
        return schema
    if "enum" in schema:
        return schema
    keep = {k: v for k, v in schema.items() if k in ("readOnly", "writeOnly", "default")}
    rest = {k: v for k, v in schema.items() if k not in keep}
    if not rest:
        return schema
    return {"anyOf": [rest, {"type": "null"}], **keep}


class Refolder:
    """Turns schemas whose content equals a named component back into ``$ref``s.

    Contents are compared by a structural digest (each node's from its children's, so the
    megabytes of an expanded component are never written out as text) and confirmed by a strict
    comparison, where ``1``, ``1.0`` and ``true`` differ as they do in JSON."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self._inlined: dict[str, Any] = {}
        self._active: set[str] = set()
        self._digests: dict[int, int] = {}  # by id() of the expanded nodes, which are shared
        self._keep: list[Any] = []  # what those ids name stays alive while the refolder does
        self.by_digest: dict[int, list[tuple[str, Any]]] = {}
        for name in sorted(components):
            expanded = self._expand({"$ref": REF_PREFIX + name})
            if not _worth_a_ref(expanded):
                continue
            self.by_digest.setdefault(self._digest(expanded), []).append((name, expanded))

    def _expand(self, node: Any) -> Any:
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str) and target.startswith(REF_PREFIX) and len(node) == 1:
                name = target[len(REF_PREFIX) :]
                if name in self._active or name not in self.components:
                    return node  # a cycle stays a reference, as any inliner must leave it
                if name not in self._inlined:
                    self._active.add(name)
                    self._inlined[name] = self._expand(self.components[name])
                    self._active.discard(name)
                return self._inlined[name]
            return {key: self._expand(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._expand(value) for value in node]
        return node

    def _digest(self, node: Any) -> int:
        if not isinstance(node, dict | list):
            return _leaf_digest(node)
        known = self._digests.get(id(node))
        if known is None:
            if isinstance(node, dict):
                known = hash(("{", tuple(sorted((key, self._digest(v)) for key, v in node.items()))))
            else:
                known = hash(("[", tuple(self._digest(v) for v in node)))
            self._digests[id(node)] = known
            self._keep.append(node)
        return known

    def fold(self, node: Any) -> Any:
        """The schema with every component-equal part replaced by its ``$ref``."""
        return self._fold(node)[1]

    def _fold(self, node: Any) -> tuple[int, Any]:
        if isinstance(node, dict):
            digests, folded = [], {}
            for key in node:
                digest, folded[key] = self._fold(node[key])
                digests.append((key, digest))
            digest = hash(("{", tuple(sorted(digests))))
            for name, expanded in self.by_digest.get(digest, ()):
                if _same(node, expanded):
                    return digest, {"$ref": REF_PREFIX + name}
            return digest, folded
        if isinstance(node, list):
            pairs = [self._fold(value) for value in node]
            return hash(("[", tuple(digest for digest, _ in pairs))), [value for _, value in pairs]
        return _leaf_digest(node), node


def _leaf_digest(value: Any) -> int:
    return hash((type(value).__name__, repr(value) if isinstance(value, float) else value))


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: same types (``1`` is not ``1.0`` nor ``true``), keys in any order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return repr(a) == repr(b) if isinstance(a, float) else a == b


def _worth_a_ref(schema: Any) -> bool:
    """Only objects, arrays and enums: a bare ``{"type": "string"}`` is no component's identity."""
    return isinstance(schema, dict) and any(k in schema for k in ("properties", "enum", "items", "allOf"))


# -- operations ----------------------------------------------------------------------------------


def _prefix(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "api" and parts[1] in PREFIXES else "root"


def _scopes(operation: dict[str, Any]) -> list[str] | None:
    """The personal API key scopes an operation needs; None where PostHog refuses such keys
    (no scopes derived, or the INTERNAL scope object)."""
    for requirement in operation.get("security") or []:
        scopes = requirement.get("PersonalAPIKeyAuth")
        if scopes and "INTERNAL" not in scopes:
            return sorted(scopes)
    return None


def _operation(path: str, method: str, operation: dict[str, Any], fold: Refolder) -> dict[str, Any]:
    params: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        # a parameter sent as a serialized document (OpenAPI's `content`, e.g. JSON text) has the
        # schema of the decoded value under its one media type
        encoded, media = next(iter((parameter.get("content") or {"": {}}).items()))
        schema = fold.fold(convert_schema(parameter.get("schema", media.get("schema", {}))))
        if parameter.get("in") == "path":
            params[parameter["name"]] = schema
        elif parameter.get("in") == "query":
            entry: dict[str, Any] = {"schema": schema}
            if encoded and "schema" not in parameter:
                entry["content"] = encoded
            if parameter.get("required"):
                entry["required"] = True
            if parameter.get("style") == "form" and parameter.get("explode") is False:
                entry["explode"] = False
            query[parameter["name"]] = entry
    result: dict[str, Any] = {
        "id": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "prefix": _prefix(path),
        "params": dict(sorted(params.items())),
        "query": dict(sorted(query.items())),
        "scopes": _scopes(operation),
        "responses": {
            status: _content(response.get("content", {}), fold)
            for status, response in sorted(operation.get("responses", {}).items())
        },
    }
    body = operation.get("requestBody")
    if body is not None:
        result["body"] = {"required": bool(body.get("required")), **_content(body.get("content", {}), fold)}
    return result


def _content(content: dict[str, Any], fold: Refolder) -> dict[str, Any]:
    """``{"content": [media types], "schema": S}``, plus ``schemas`` for types that differ from S."""
    if not content:
        return {}
    schemas = {media: fold.fold(convert_schema(entry.get("schema", {}))) for media, entry in content.items()}
    main = "application/json" if "application/json" in schemas else next(iter(schemas))
    result: dict[str, Any] = {"content": list(content), "schema": schemas[main]}
    different = {media: s for media, s in schemas.items() if s != schemas[main]}
    if different:
        result["schemas"] = different
    return result


def import_document(document: dict[str, Any], raw: bytes | None = None) -> dict[str, Any]:
    """mockhog's contract from a parsed OpenAPI document."""
    if not str(document.get("openapi", "")).startswith("3."):
        raise ImportError_(f"OpenAPI 3.x expected, got {document.get('openapi')!r}")
    raw_components = (document.get("components") or {}).get("schemas") or {}
    if not isinstance(raw_components, dict):
        raise ImportError_("'components.schemas' is not an object")
    components = {name: convert_schema(schema) for name, schema in sorted(raw_components.items())}
    fold = Refolder(components)
    operations = []
    if not isinstance(document["paths"], dict):
        raise ImportError_("'paths' is not an object")
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            if isinstance(item, dict) and method in item:
                try:
                    operations.append(_operation(path, method, item[method], fold))
                except (KeyError, TypeError, AttributeError) as exc:
                    # a user's document, hand-edited or cut short: say where, not a traceback
                    missing = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
                    raise ImportError_(
                        f"{method.upper()} {path}: not an OpenAPI operation ({missing})"
                    ) from exc
    info = document.get("info", {})
    return {
        "format": FORMAT,
        "source": {
            "title": info.get("title"),
            "version": info.get("version"),
            "openapi": document.get("openapi"),
            "sha256": hashlib.sha256(raw).hexdigest() if raw is not None else None,
            "operations": len(operations),
            "components": len(components),
        },
        "operations": operations,
        "components": components,
    }


def _line(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(contract: dict[str, Any]) -> dict[str, str]:
    """The two generated files: operations (read at start-up) and components (read on first use),
    each compact and diffable: one operation or component per line, keys sorted."""
    head = f'{{\n"format":{_line(contract["format"])},\n"source":{_line(contract["source"])},\n'
    operations = ",\n".join(_line(op) for op in contract["operations"])
    items = sorted(contract["components"].items())
    components = ",\n".join(f"{_line(name)}:{_line(schema)}" for name, schema in items)
    return {
        OPERATIONS_FILE: f'{head}"operations":[\n{operations}\n]\n}}\n',
        COMPONENTS_FILE: f'{head}"components":{{\n{components}\n}}\n}}\n',
    }


def run(source: Path, output: Path, expect_sha256: str | None = None) -> dict[str, Any]:
    """Import ``source`` into the directory ``output``; a pinned ``expect_sha256`` must match."""
    raw, document = read_source(source)
    digest = hashlib.sha256(raw).hexdigest()
    if expect_sha256 and digest != expect_sha256:
        raise ImportError_(f"{source}: sha256 {digest} is not the expected {expect_sha256}")
    contract = import_document(document, raw)
    output.mkdir(parents=True, exist_ok=True)
    for name, text in dumps(contract).items():
        (output / name).write_text(text, encoding="utf-8")
    return contract
