"""The OpenAPI 3.1 document, assembled from the catalog and schemas/ (nothing restated here).

What the document says is what the server does, so that generated clients work and contract tools
(Schemathesis, Prism) find no gap:

- request bodies are offered as JSON only: mockhog reads form and multipart bodies too, but converts
  only their top-level scalars, so no body schema holds for them;
- every list answers with its own page model (``Paginated<Model>List``, drf-spectacular's name) whose
  ``results`` are the resource's model, and every array says what it holds;
- what a view itself refuses (``x-view`` on a schema, ``x-required`` on a query parameter) is
  published as part of the schema, and a lenient parameter (``x-lenient``) as taking any value;
- a query parameter the view reads as JSON text (``x-json``: the decoded value's schema) is
  published with OpenAPI's ``content`` (``application/json``) instead of a string schema;
- a ``--strict`` server publishes ``additionalProperties: false`` on its request bodies;
- only the components an operation reaches are published, each under one unique name.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .catalog import ROOT, Catalog, Operation
from .contract import (
    NO_NULL_CHARACTER,
    PAGE_SCHEMAS,
    Schemas,
    decimal_digits,
    numbers_taken,
    takes_bits,
    takes_text,
)
from .version import __version__

ERROR_STATUSES = {
    "400": "Bad request: validation_error or parse_error",
    "401": "No key, or an unknown personal API key",
    "403": "The key lacks a required scope or access to the project",
    "404": "Unknown project or object",
}
# A file that is still being generated: get_content_response's 425 export_not_ready, the one
# error only a file download (exports content) answers.
FILE_ERROR_STATUSES = {"425": "The file is still being generated (export_not_ready); try again later"}
JSON_TYPE = "application/json"
COMPONENTS = "#/components/schemas/"
PROJECT_ID = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Project ID of the project you're trying to access. To find the ID of the "
    "project, make a call to /api/projects/.",
}
_PATH_KINDS = {
    "integer": {"type": "integer"},
    "uuid": {"type": "string", "format": "uuid"},
    # a numeric id or a UUID, whichever the value parses as (PersonViewSet's lookup)
    "integer_or_uuid": {"anyOf": [{"type": "integer"}, {"type": "string", "format": "uuid"}]},
}


def build_document(catalog: Catalog, schemas: Schemas, strict: bool = False) -> dict[str, Any]:
    """The document of every catalog operation; ``strict`` as ``mockhog serve --strict`` serves it."""
    document = Document(schemas, strict)
    for op in catalog.operations:
        document.add_operation(op)
    document.link_creates(catalog.operations)
    return document.to_json()


class Document:
    """An OpenAPI document being assembled: paths, and the components they reach."""

    def __init__(self, schemas: Schemas, strict: bool = False) -> None:
        self.schemas = schemas
        self.strict = strict
        self.names = _component_names(schemas)
        self.components: dict[str, Any] = {
            self.names[(document, name)]: _publish(_rewrite(copy.deepcopy(definition), document, self.names))
            for document, doc in sorted(schemas.documents.items())
            for name, definition in doc.get("$defs", {}).items()
        }
        for name in self.components:
            self.components[name] = self._merge_all_of(self.components[name])
        for name in list(self.components):
            self._hoist(name)
        self.paths: dict[str, dict[str, Any]] = {}
        self._bodies: set[str] = set()
        # over the live components: the bodies derived later (Patched<Name>) resolve too
        live = {"components": {"schemas": self.components}}
        self._registry = Registry().with_resource(
            "openapi.json", Resource.from_contents(live, default_specification=DRAFT202012)
        )

    def _merge_all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        """An object that is ``allOf`` other components plus its own keywords, written out as one
        object: generators name inline models after the component that declares them, so a shared
        parent would give two models one name."""
        parts = schema.get("allOf")
        if not parts or not all(set(part) == {"$ref"} for part in parts):
            return schema
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in [*(self._merge_all_of(self.resolve(p)) for p in parts), schema]:
            for key, value in part.items():
                if key == "properties":
                    merged["properties"].update(copy.deepcopy(value))
                elif key == "required":
                    merged["required"] = sorted(set(merged.get("required", [])) | set(value))
                elif key not in ("allOf", "description") or part is schema:
                    merged[key] = copy.deepcopy(value)
        merged.pop("allOf", None)
        return merged

    def _hoist(self, parent: str) -> None:
        """Inline objects and enums become components named ``<Parent><Property>``: generators
        otherwise name them after the bare property (a ``user`` object becomes ``User1`` beside
        the real ``User``)."""
        for prop, schema in list(self.components[parent].get("properties", {}).items()):
            self.components[parent]["properties"][prop] = self._named(schema, parent + _camel(prop))

    def _named(self, schema: Any, name: str) -> Any:
        if not isinstance(schema, dict) or "$ref" in schema:
            return schema
        if "properties" in schema or "enum" in schema:
            while name in self.components:
                name += "Item"
            self.components[name] = schema
            self._hoist(name)
            return {"$ref": COMPONENTS + name}
        out = dict(schema)
        if isinstance(schema.get("items"), dict):
            out["items"] = self._named(schema["items"], name + "Item")
        for key in ("anyOf", "oneOf"):
            if key in schema:
                out[key] = [self._named(branch, name) for branch in schema[key]]
        return out

    # -- components ------------------------------------------------------------------------------
    def ref(self, document: str, name: str) -> dict[str, str]:
        return {"$ref": COMPONENTS + self.names[(document, name)]}

    def derive(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        """A component built here (a typed page, a PATCH body), under a name no file uses."""
        existing = self.components.setdefault(name, schema)
        if existing is not schema and existing != schema:
            raise ValueError(f"OpenAPI component {name} would have two definitions")
        return {"$ref": COMPONENTS + name}

    def page(self, op: Operation, document: str) -> dict[str, str]:
        """``Paginated<Model>List``: the resource's page envelope with ``results`` of its model."""
        model = op.resource.model or ""
        envelope = self.components[self.names[("common.json", PAGE_SCHEMAS[op.resource.pagination])]]
        page = copy.deepcopy(envelope)
        page.pop("description", None)
        page["properties"]["results"] = {"type": "array", "items": self.ref(document, model)}
        return self.derive(f"Paginated{self.names[(document, model)]}List", page)

    def body(self, op: Operation, document: str) -> dict[str, str]:
        """The request body's component; PATCH takes it without ``required`` (``Patched<Name>``),
        unless the view reads those fields on a PATCH too (``x-patch-required``)."""
        name = self.names[(document, op.request or "")]
        if op.action == "partial_update" and not patch_keeps_required(self.components[name]):
            patched = {k: v for k, v in self.components[name].items() if k != "required"}
            name = self.derive(f"Patched{name}", patched)["$ref"].removeprefix(COMPONENTS)
        self._bodies.add(name)
        return {"$ref": COMPONENTS + name}

    # -- operations ------------------------------------------------------------------------------
    def add_operation(self, op: Operation) -> None:
        document = f"{op.resource.schema}.json"
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "tags": [op.resource.name],
            "parameters": self.parameters(op, document),
            "security": [{"PersonalAPIKeyAuth": list(op.scopes)}],
            "responses": self.responses(op, document),
        }
        if op.prefix == "environments":
            entry["deprecated"] = True
            entry["description"] = "Deprecated: use /api/projects/{project_id}/ instead."
        if op.request and op.is_write:
            schema = self.body(op, document)
            required = body_required(self._registry, schema["$ref"].removeprefix(COMPONENTS))
            entry["requestBody"] = {
                "required": required,
                "content": {JSON_TYPE: {"schema": schema}},
            }
        self.paths.setdefault(op.template, {})[op.method.lower()] = entry

    def parameters(self, op: Operation, document: str) -> list[dict[str, Any]]:
        params = [] if op.prefix == ROOT else [dict(PROJECT_ID)]
        for name, kind in op.path_params.items():
            schema = _PATH_KINDS.get(kind, {"type": "string"})
            params.append({"name": name, "in": "path", "required": True, "schema": dict(schema)})
        if not op.query:
            return params
        query = self.components[self.names[(document, op.query)]]
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            resolved = {**self.resolve(schema), **{k: v for k, v in schema.items() if k != "$ref"}}
            # x-required: the view refuses the request without a (non-empty) value, in its own words
            needed = name in required or bool(resolved.get("x-required"))
            if resolved.get("x-lenient") and not needed:
                # DRF-style leniency: a value the view cannot use means the default, never a 400
                schema = lenient_value(resolved)
            elif needed and _types(resolved) == ["string"] and "minLength" not in resolved:
                schema = {**resolved, "minLength": 1}
            entry = {"name": name, "in": "query", "required": needed, "schema": schema}
            if "x-json" in resolved:
                # JSON text: published as OpenAPI's content, so clients and contract tools send
                # the decoded value's JSON rather than any string
                entry["content"] = {JSON_TYPE: {"schema": _publish(entry.pop("schema")["x-json"])}}
            if "description" in resolved:
                entry["description"] = resolved["description"]
            params.append(entry)
        return params

    def responses(self, op: Operation, document: str) -> dict[str, Any]:
        status = str(op.status)
        responses: dict[str, Any] = {}
        if op.response is None:
            responses[status] = {"description": "No response body"}
        elif op.response == "binary":
            responses[status] = {"description": "The file", "content": self.media(op, document)}
        elif op.response == "page":
            schema = self.page(op, document)
            responses[status] = {
                "description": "A page of results",
                "content": {JSON_TYPE: {"schema": schema}},
            }
        elif status == "204":
            # 204 carries no body; where the view sometimes answers with one, that answer is a 200
            responses[status] = {"description": "No response body"}
            name = self.names[(document, op.response)]
            body = self.derive(f"{name}Body", copy.deepcopy(_without_null(self.components[name])))
            responses["200"] = {"description": "OK", "content": {JSON_TYPE: {"schema": body}}}
        else:
            schema = self.ref(document, op.response)
            responses[status] = {"description": "OK", "content": {JSON_TYPE: {"schema": schema}}}
        error = {JSON_TYPE: {"schema": self.ref("common.json", "AnyError")}}
        errors = {**ERROR_STATUSES, **(FILE_ERROR_STATUSES if op.response == "binary" else {})}
        for code, description in errors.items():
            responses[code] = {"description": description, "content": error}
        return responses

    def media(self, op: Operation, document: str) -> dict[str, Any]:
        """A file response in each content type it may have (the catalog's ``media`` enum)."""
        if not op.media:
            return {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        content = {}
        for media_type in self.schemas.definition(document, op.media)["enum"]:
            if media_type == JSON_TYPE or media_type.endswith("+json"):
                schema: dict[str, Any] = {}
            elif media_type.startswith("text/"):
                schema = {"type": "string"}
            else:
                schema = {"type": "string", "format": "binary"}
            content[media_type] = {"schema": schema}
        return content

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema with its top-level ``$ref`` followed (to read its type and flags)."""
        while "$ref" in schema and schema["$ref"].startswith(COMPONENTS):
            schema = self.components[schema["$ref"].removeprefix(COMPONENTS)]
        return schema

    def link_creates(self, operations: list[Operation]) -> None:
        """OpenAPI links from each create to the operations on what it created (by its ``id``), so
        that tools can follow them (Schemathesis' stateful runs)."""
        for create in operations:
            if create.action != "create" or create.response is None:
                continue
            targets = [
                op
                for op in operations
                if op.resource is create.resource and op.prefix == create.prefix and "{id}" in op.path
            ]
            if not targets:
                continue
            links = {
                op.operation_id: {
                    "operationId": op.operation_id,
                    "parameters": {
                        "path.project_id": "$request.path.project_id",
                        "path.id": "$response.body#/id",
                    },
                }
                for op in targets
            }
            self.paths[create.template][create.method.lower()]["responses"][str(create.status)]["links"] = (
                links
            )

    # -- the document ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        components = {name: self.components[name] for name in self._reached()}
        for name in self._bodies:
            components[name] = closed_body(components[name], self.strict)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "PostHog API (mockhog)",
                "version": __version__,
                "description": "The PostHog REST API as served by mockhog: every operation, with the "
                "request and response schemas mockhog enforces"
                + (" (strict: unknown body fields are refused)." if self.strict else "."),
            },
            "paths": dict(sorted(self.paths.items())),
            "components": {
                "schemas": dict(sorted(components.items())),
                "securitySchemes": {
                    "PersonalAPIKeyAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_..."}
                },
            },
            "security": [{"PersonalAPIKeyAuth": []}],
        }

    def _reached(self) -> set[str]:
        """The components the paths refer to, directly or through other components."""
        reached: set[str] = set()
        pending = _refs(self.paths)
        while pending:
            name = pending.pop()
            if name not in reached:
                reached.add(name)
                pending |= _refs(self.components[name])
        return reached


def body_required(registry: Registry, name: str) -> bool:
    """Whether a body must be sent: DRF reads a missing one as {}, so it must where the body's
    schema refuses {} (a required field, in each alternative too, or a rule over several)."""
    return not Draft202012Validator({"$ref": f"openapi.json{COMPONENTS}{name}"}, registry=registry).is_valid(
        {}
    )


def patch_keeps_required(schema: dict[str, Any]) -> bool:
    """Whether a PATCH body keeps its required fields: the view's partial update reads them as its
    update does (``x-patch-required``: PersonViewSet.update, which DRF's partial_update calls)."""
    return bool(schema.get("x-patch-required"))


def closed_body(schema: dict[str, Any], strict: bool) -> dict[str, Any]:
    """A request body as the server reads it: no null character in top-level text
    (``contract.refuse_null_characters``); without --strict, top-level fields as DRF's fields
    coerce them (``contract._coerce``): text takes numbers where DRF makes valid text of them
    (``contract.numbers_taken``), a decimal takes a number with its digits (``contract.drf_decimal``),
    a flag takes 0 and 1. Under --strict the types stay PostHog's (the server refuses those numbers)
    and no unknown top-level field is taken."""
    properties = schema.get("properties", {})
    if not properties:
        return schema
    out = {**schema, "properties": dict(properties)}
    for name, prop in properties.items():
        digits = decimal_digits(prop)
        if digits:
            out["properties"][name] = _decimal_field(prop, *digits, strict)
            continue
        if takes_text(prop):
            published = prop if "pattern" in prop else {**prop, "pattern": NO_NULL_CHARACTER}
            numbers = None if strict else numbers_taken(prop)
            if numbers:
                published = {**published, **numbers, "type": [*_types(prop), numbers["type"]]}
            out["properties"][name] = published
        elif strict:
            continue
        elif takes_bits(prop) and not {"minimum", "maximum", "integer", "number"} & {*prop, *_types(prop)}:
            # bounds bind numbers only: the flag's own true and false stay as they are
            out["properties"][name] = {**prop, "type": [*_types(prop), "integer"], "minimum": 0, "maximum": 1}
    if strict and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def _decimal_field(prop: dict[str, Any], whole: int, places: int, strict: bool) -> dict[str, Any]:
    """A DecimalField as the server reads it (``contract.drf_decimal``). Its text: a sign, then at
    least one digit, blanks around it trimmed; drf-spectacular's pattern also matches ``""``, ``"-"``
    and ``"."``, which DRF refuses. Without --strict, a number with at most its digits too, stated
    as bounds and a step (which bind numbers only)."""
    blanks = r"[ \t\n\r\f\v]*"  # what str.strip takes and every regex dialect spells alike
    number = rf"[-+]?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
    text = f"^{blanks}{number}{blanks}$"
    published = {**prop, "pattern": text}
    if strict:
        return published
    step = 10.0**-places
    largest = round(10.0**whole - step, places)
    bounds = {"minimum": -largest, "maximum": largest, "multipleOf": step}
    return {**published, **bounds, "type": [*_types(prop), "number"]}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(COMPONENTS)} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    return set()


def _component_names(schemas: Schemas) -> dict[tuple[str, str], str]:
    """``$defs`` names, prefixed by their file's name where two files use the same one."""
    owners: dict[str, list[str]] = {}
    for document, doc in schemas.documents.items():
        for name in doc.get("$defs", {}):
            owners.setdefault(name, []).append(document)
    names = {}
    for name, documents in owners.items():
        for document in documents:
            stem = "".join(part.title() for part in document.removesuffix(".json").split("_"))
            names[(document, name)] = name if len(documents) == 1 else f"{stem}{name}"
    return names


def _rewrite(node: Any, document: str, names: dict[tuple[str, str], str]) -> Any:
    """Point every ``$ref`` at ``#/components/schemas/...``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, name = value.partition("#/$defs/")
                out[key] = COMPONENTS + names[(target or document, name)]
            else:
                out[key] = _rewrite(value, document, names)
        return out
    if isinstance(node, list):
        return [_rewrite(value, document, names) for value in node]
    return node


def _publish(node: Any) -> Any:
    """A schema as the document states it: ``x-view`` (what the view itself refuses, checked after
    its lookups and worded its own way) merged in, and every array saying what it holds."""
    if isinstance(node, list):
        return [_publish(value) for value in node]
    if not isinstance(node, dict):
        return node
    out = {key: _publish(value) for key, value in node.items() if key != "x-view"}
    for key, value in node.get("x-view", {}).items():
        if key == "required":
            out[key] = sorted(set(out.get(key, [])) | set(value))
        elif key == "properties" and isinstance(out.get(key), dict):
            # each property's own rules are added to what the schema already says of it
            out[key] = {**out[key], **{n: {**out[key].get(n, {}), **_publish(v)} for n, v in value.items()}}
        else:
            out[key] = _publish(value)
    if "array" in _types(out) and "items" not in out and "prefixItems" not in out:
        out["items"] = {}
    if isinstance(out.get("default"), dict | list) and "null" in _types(out):
        # generators cannot give a nullable field a non-null default: say it in words instead
        default = out.pop("default")
        out["description"] = " ".join(
            [out.get("description", ""), f"Default: {json.dumps(default)}."]
        ).strip()
    return out


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def lenient_value(schema: dict[str, Any]) -> dict[str, Any]:
    """A lenient parameter: its type is what clients should send, but any text is taken."""
    kinds = [kind for kind in _types(schema) if kind != "string"]
    return {"type": [*kinds, "string"], **({"default": schema["default"]} if "default" in schema else {})}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a body that is there: its non-null alternatives."""
    branches = [b for b in schema.get("anyOf", schema.get("oneOf", [])) if b != {"type": "null"}]
    if not branches:
        return schema
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def yaml_dump(node: Any, indent: int = 0) -> str:
    """A small YAML writer for the document (JSON-compatible YAML, no dependency)."""
    pad = "  " * indent
    if isinstance(node, dict):
        if not node:
            return "{}"
        lines = []
        for key, value in node.items():
            text = _scalar(str(key))
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{text}:\n{yaml_dump(value, indent + 1)}")
            else:
                lines.append(f"{pad}{text}: {yaml_dump(value, indent + 1)}")
        return "\n".join(lines)
    if isinstance(node, list):
        if not node:
            return "[]"
        lines = []
        for value in node:
            if isinstance(value, dict | list) and value:
                body = yaml_dump(value, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {yaml_dump(value, indent + 1)}")
        return "\n".join(lines)
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, int | float):
        return str(node)
    return _scalar(str(node))


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./{}-]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def _scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)
