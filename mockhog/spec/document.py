"""The served OpenAPI document: mockhog's verified operations plus every imported one.

Each operation carries ``x-mockhog-tier`` (``verified``: the catalog's hand-checked behaviour;
``generic``: DRF defaults over PostHog's schema). A verified operation that PostHog's document
also has keeps PostHog's operationId and path template, so a client generated from either
document finds it. Imported components whose name a verified schema already uses are published
as ``PostHog<Name>``. Every way this document differs from PostHog's has its reason in the overlay
(``overlay.toml``; ``mockhog drift`` compares them, ``tests/test_overlay.py`` keeps them in step).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..catalog import Catalog
from ..openapi import _types, closed_body, lenient_value
from . import Spec, SpecOperation
from .checks import lenient_query, request_view

TIER = "x-mockhog-tier"
_PARAM = re.compile(r"\{(\w+)\}")
_ERRORS = {
    "400": "Bad request: validation_error or parse_error",
    "401": "No key, or an unknown personal API key",
    "403": "The key lacks a required scope, or PostHog refuses personal API keys here",
    "404": "Unknown project, organization or object",
}


def shape(template: str) -> str:
    """A template with its parameter names erased: ``/api/users/{}/``."""
    return _PARAM.sub("{}", template)


def verified_matches(catalog: Catalog, spec: Spec) -> dict[tuple[str, str], SpecOperation]:
    """Imported operations that a catalog operation serves, by the catalog's (method, template)."""
    imported = {(op.method, shape(op.template)): op for op in spec.operations}
    found = {}
    for op in catalog.operations:
        match = imported.get((op.method, shape(op.template)))
        if match is not None:
            found[(op.method, op.template)] = match
    return found


def generic_operations(catalog: Catalog, spec: Spec) -> list[SpecOperation]:
    """The imported operations no catalog operation serves: the generic tier."""
    verified = {match.operation_id for match in verified_matches(catalog, spec).values()}
    return [op for op in spec.operations if op.operation_id not in verified]


def published_names(verified: dict[str, Any], imported: dict[str, Any]) -> dict[str, str]:
    """Each imported component's name in the served document: ``PostHog<Name>`` where a verified
    component (``verified``, the catalog document's) already has the name."""
    return {name: f"PostHog{name}" if name in verified else name for name in imported}


def served_document(
    document: dict[str, Any], catalog: Catalog, spec: Spec, strict: bool = False
) -> dict[str, Any]:
    """``document`` (the catalog's, from mockhog.openapi, as ``strict`` as it) with the imported
    operations added."""
    document = copy.deepcopy(document)
    paths: dict[str, dict[str, Any]] = document["paths"]
    schemas: dict[str, Any] = document["components"]["schemas"]
    renamed = published_names(schemas, spec.components)
    for schema in schemas.values():
        _generator_safe(schema)
    for name, schema in spec.components.items():
        schemas[renamed[name]] = _generator_safe(rename_refs(copy.deepcopy(schema), renamed))
    matches = verified_matches(catalog, spec)
    served = set()
    renamed_ops: dict[str, str] = {}
    for op in catalog.operations:
        entry = paths.get(op.template, {}).get(op.method.lower())
        if entry is None:
            continue
        entry[TIER] = "verified"
        match = matches.get((op.method, op.template))
        if match is None:
            continue
        served.add(match.operation_id)
        if match.template != op.template or match.operation_id != entry["operationId"]:
            # PostHog's name and path for the same route (``users/{uuid}/`` for ``users/{id}/``)
            del paths[op.template][op.method.lower()]
            if not paths[op.template]:
                del paths[op.template]
            entry = _renamed_params(entry, op.template, match.template)
            renamed_ops[entry["operationId"]] = match.operation_id
            entry["operationId"] = match.operation_id
            paths.setdefault(match.template, {})[op.method.lower()] = entry
    error_ref = "#/components/schemas/AnyError" if "AnyError" in schemas else None
    bodies = RequestBodies(spec, schemas, renamed, strict)
    for op in spec.operations:
        if op.operation_id in served:
            continue
        paths.setdefault(op.template, {})[op.method.lower()] = _operation(op, renamed, error_ref, bodies)
    WriteOnlySplit(schemas, bodies).apply(paths)
    _relink(paths, renamed_ops)
    document["paths"] = dict(sorted(paths.items()))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def _relink(paths: dict[str, dict[str, Any]], renamed_ops: dict[str, str]) -> None:
    """Response links name operations by id: follow the verified operations' PostHog names."""
    for item in paths.values():
        for entry in item.values():
            for response in entry.get("responses", {}).values():
                links = response.get("links")
                if not links:
                    continue
                response["links"] = {
                    renamed_ops.get(name, name): {
                        **link,
                        "operationId": renamed_ops.get(link["operationId"], link["operationId"]),
                    }
                    for name, link in links.items()
                }


def _renamed_params(entry: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    names = dict(zip(_PARAM.findall(old), _PARAM.findall(new), strict=True))
    entry = copy.deepcopy(entry)
    for parameter in entry.get("parameters", []):
        if parameter.get("in") == "path":
            parameter["name"] = names.get(parameter["name"], parameter["name"])
    return entry


def _operation(
    op: SpecOperation, renamed: dict[str, str], error_ref: str | None, bodies: RequestBodies
) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": rename_refs(copy.deepcopy(schema), renamed)}
        for name, schema in op.params.items()
    ]
    for name, entry in op.query.items():
        schema = rename_refs(copy.deepcopy(entry["schema"]), renamed)
        if name in lenient_query(bodies.spec, op) and not entry.get("required"):
            schema = lenient_value(schema)  # DRF's pagination: a value it cannot use is the default
        parameter = {"name": name, "in": "query", "required": bool(entry.get("required")), "schema": schema}
        if "content" in entry:
            parameter["content"] = {entry["content"]: {"schema": parameter.pop("schema")}}
        if entry.get("explode") is False:
            parameter.update(style="form", explode=False)
        parameters.append(parameter)
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "parameters": parameters,
        "security": [{"PersonalAPIKeyAuth": list(op.scopes or ())}],
        "responses": {},
        TIER: "generic",
    }
    if op.scopes is None:
        result["x-mockhog-personal-api-key"] = "refused"
    if op.body is not None:
        media = _request_media(op.body.get("content", ()), bodies.spec.resolve(op.body["schema"]))
        result["requestBody"] = {
            "required": bodies.required(op),
            "content": {
                kind: {"schema": bodies.form(bodies.schema(op)) if kind == _MULTIPART else bodies.schema(op)}
                for kind in media
            },
        }
    for status, response in op.responses.items():
        result["responses"][status] = {"description": "", **_content(response, renamed)}
        if status == "400" and error_ref:
            _also_the_envelope(result["responses"][status], error_ref)
    if error_ref:
        for status, description in _ERRORS.items():
            result["responses"].setdefault(
                status,
                {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": error_ref}}},
                },
            )
    return result


class RequestBodies:
    """Request bodies as the server checks them (``checks.request_view``, then ``closed_body``):
    PostHog's document requires read-only fields of a shared component, which no client sends,
    and says nothing of null characters or, under --strict, of unknown fields. Where that view
    differs from the component it is published beside it, named as drf-spectacular's
    COMPONENT_SPLIT_REQUEST names request components (``<Name>Request``,
    ``Patched<Name>Request``)."""

    def __init__(self, spec: Spec, schemas: dict[str, Any], renamed: dict[str, str], strict: bool) -> None:
        self.spec = spec
        self.schemas = schemas
        self.renamed = renamed
        self.strict = strict
        self.made: set[str] = set()  # the request components published

    def schema(self, op: SpecOperation) -> Any:
        assert op.body is not None
        body = op.body["schema"]
        component = self.spec.resolve(body)
        view = self.spec.resolve(request_view(self.spec, body, op))
        published = closed_body(view, self.strict) if isinstance(view, dict) else view
        if published == component or "$ref" not in body:
            return _generator_safe(
                rename_refs(copy.deepcopy(body if published == component else published), self.renamed)
            )
        name = self.renamed[body["$ref"].rsplit("/", 1)[-1]]
        if "required" in component and "required" not in published and not name.startswith("Patched"):
            name = "Patched" + name  # drf-spectacular's name for the view without required fields
        published = _generator_safe(rename_refs(copy.deepcopy(published), self.renamed))
        return {"$ref": "#/components/schemas/" + self._name(name + "Request", published)}

    def form(self, schema: Any) -> Any:
        """A multipart body as a form can carry it: an object field becomes its ``<field>.<key>``
        fields (DRF's nested serializers read a form so, ``contract.nest_form_fields``), published
        as ``<Name>Form``; a body with no object field is the same schema. One such field sent makes
        the object, which then needs its own required fields (``dependentRequired``). Its fields
        take what their text may be (numbers, 0 and 1 for a flag) under --strict too."""
        name = schema.get("$ref", "").rsplit("/", 1)[-1] if isinstance(schema, dict) else ""
        body = self.schemas.get(name)
        if not isinstance(body, dict):
            return schema
        properties, required, flattened = {}, list(body.get("required", [])), False
        dependent: dict[str, list[str]] = {}
        for field, prop in body.get("properties", {}).items():
            nested = self.schemas.get(prop.get("$ref", "").rsplit("/", 1)[-1], prop)
            if prop.get("readOnly") or "object" not in _types(nested) or not nested.get("properties"):
                properties[field] = prop
                continue
            flattened = True
            keys = {key: sub for key, sub in nested["properties"].items() if not sub.get("readOnly")}
            properties |= {f"{field}.{key}": sub for key, sub in keys.items()}
            needed = [f"{field}.{key}" for key in nested.get("required", []) if key in keys]
            if field in required:
                required.remove(field)
                required += needed
            else:
                for key in keys:
                    others = [name for name in needed if name != f"{field}.{key}"]
                    if others:
                        dependent[f"{field}.{key}"] = others
        if not flattened:
            return schema
        # A form's values are text: a number sent is its text, which a text field or a flag reads
        # whether or not the server is --strict, so the form states what text it takes in both.
        properties = closed_body({"properties": properties}, False)["properties"]
        form = {**body, "properties": properties, "required": required}
        if not required:
            del form["required"]
        if dependent:
            form["dependentRequired"] = dependent
        return {"$ref": "#/components/schemas/" + self._name(name.removesuffix("Request") + "Form", form)}

    def required(self, op: SpecOperation) -> bool:
        """Whether a request must have a body: DRF reads a missing one as ``{}``, which only a
        view with required fields refuses."""
        assert op.body is not None
        view = self.spec.resolve(request_view(self.spec, op.body["schema"], op))
        return bool(op.body.get("required")) and not (isinstance(view, dict) and not view.get("required"))

    def _name(self, wanted: str, schema: dict[str, Any]) -> str:
        """``wanted``, or ``wanted2``, ...: the first name free or already holding ``schema``."""
        for index in range(1, 1000):
            name = wanted if index == 1 else f"{wanted}{index}"
            if name not in self.schemas:
                self.schemas[name] = schema
                self.made.add(name)
                return name
            if self.schemas[name] == schema:
                return name
        raise ValueError(f"no free component name for {wanted}")


class WriteOnlySplit:
    """PostHog's document is OpenAPI 3.0, where a required write-only property is required in
    requests only; the served one is 3.1, where ``writeOnly`` is an annotation and ``required``
    binds both ways. So a component requiring write-only fields (a credential's secret, a
    membership's ``user_uuid``, a user's password) is published as its answers are (the server
    never shows them), and a request body reaching it refers to its request view instead:
    ``<Name>Request``, drf-spectacular's COMPONENT_SPLIT_REQUEST name, requiring them (and not
    the read-only fields, which a client never sends)."""

    def __init__(self, schemas: dict[str, Any], bodies: RequestBodies) -> None:
        self.schemas = schemas
        self.bodies = bodies
        self.original = {name: copy.deepcopy(schema) for name, schema in schemas.items()}
        self.write_only = {
            name: required
            for name, schema in self.original.items()
            if name not in bodies.made and (required := _write_only(schema))
        }
        self.requests: dict[str, str] = {}  # component -> its request view's name

    def apply(self, paths: dict[str, dict[str, Any]]) -> None:
        if not self.write_only:
            return
        reaching = self._reaching()
        for item in paths.values():
            for entry in item.values():
                for media in entry.get("requestBody", {}).get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = self._request(media["schema"], reaching)
        for name in sorted(self.bodies.made):
            self.schemas[name] = self._request(self.schemas[name], reaching, inside=name)
        for name, hidden in self.write_only.items():
            schema = self.schemas[name]
            required = [field for field in schema.get("required", []) if field not in hidden]
            self.schemas[name] = {k: v for k, v in schema.items() if k != "required"}
            if required:
                self.schemas[name]["required"] = required

    def _reaching(self) -> set[str]:
        """The components that are, or refer (at any depth) to, one requiring write-only fields."""
        refers = {name: _refs(schema) for name, schema in self.original.items()}
        reaching = set(self.write_only)
        grew = True
        while grew:
            grew = False
            for name, targets in refers.items():
                if name not in reaching and targets & reaching:
                    reaching.add(name)
                    grew = True
        return reaching

    def _request(self, node: Any, reaching: set[str], inside: str = "") -> Any:
        """``node`` with its references to ``reaching`` components turned to request views."""
        if isinstance(node, list):
            return [self._request(value, reaching, inside) for value in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            target = value.removeprefix(_COMPONENTS) if key == "$ref" and isinstance(value, str) else None
            if target in reaching and target != inside and target not in self.bodies.made:
                out[key] = _COMPONENTS + self._view(target, reaching)
            else:
                out[key] = self._request(value, reaching, inside)
        return out

    def _view(self, name: str, reaching: set[str]) -> str:
        if name not in self.requests:
            schema = self.original[name]
            self.requests[name] = wanted = f"{name}Request"  # a cycle refers to the name meanwhile
            view = self._request(_without_read_only_required(schema), reaching)
            self.requests[name] = self.bodies._name(wanted, view)
        return self.requests[name]


_COMPONENTS = "#/components/schemas/"


def _write_only(schema: Any) -> list[str]:
    """The write-only fields an object schema requires."""
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties", {})
    return [
        name
        for name in schema.get("required", [])
        if isinstance(properties.get(name), dict) and properties[name].get("writeOnly")
    ]


def _without_read_only_required(schema: Any) -> Any:
    """A component as a request sees it: its read-only fields not required."""
    if not isinstance(schema, dict) or "required" not in schema:
        return copy.deepcopy(schema)
    properties = schema.get("properties", {})
    required = [
        name
        for name in schema["required"]
        if not (isinstance(properties.get(name), dict) and properties[name].get("readOnly"))
    ]
    view = {k: copy.deepcopy(v) for k, v in schema.items() if k != "required"}
    if required:
        view["required"] = required
    return view


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENTS):
                found.add(value.removeprefix(_COMPONENTS))
            else:
                found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    return set()


_MULTIPART = "multipart/form-data"


def _request_media(offered: Any, body: Any = None) -> list[str]:
    """The one body type to publish: JSON where PostHog takes it (mockhog converts only top-level
    scalars from form bodies), else multipart (file uploads); never ``*/*``. A body with a file
    field (``format: binary``, DRF's FileField) is multipart where PostHog takes that: no JSON
    value is a file."""
    offered = list(offered)
    properties = body.get("properties", {}) if isinstance(body, dict) else {}
    files = any(isinstance(prop, dict) and prop.get("format") == "binary" for prop in properties.values())
    for media in (
        ("multipart/form-data", "application/json") if files else ("application/json", "multipart/form-data")
    ):
        if media in offered:
            return [media]
    return offered[:1]


def _also_the_envelope(response: dict[str, Any], error_ref: str) -> None:
    """A 400 PostHog documents with a body of its own: the view answers it, but DRF's request
    parsing and serializer validation (``is_valid(raise_exception=True)``, as @validated_request
    runs it) answer their 400 in the error envelope before the view does (drf-exceptions-hog),
    so the served document says either."""
    for media in response.get("content", {}).values():
        schema = media.get("schema")
        if isinstance(schema, dict) and schema != {"$ref": error_ref}:
            media["schema"] = {"anyOf": [schema, {"$ref": error_ref}]}


def _content(entry: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    if "content" not in entry:
        return {}
    different = entry.get("schemas", {})
    return {
        "content": {
            media: {"schema": rename_refs(copy.deepcopy(different.get(media, entry["schema"])), renamed)}
            for media in entry["content"]
        }
    }


def _generator_safe(node: Any) -> Any:
    """The same constraint in a form client generators accept: an enum of mixed JSON types
    becomes an ``anyOf`` per type, and whole numbers typed ``number`` become integers
    (openapi-python-client refuses both; PostHog's document has each once)."""
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and values:
            kinds = {_json_type(value) for value in values if value is not None}
            if kinds == {"number"} and all(
                float(value).is_integer() for value in values if value is not None
            ):
                node["enum"] = [None if value is None else int(value) for value in values]
                if node.get("type") == "number":
                    node["type"] = "integer"
            elif (len(kinds) > 1 or kinds & {"array", "object"}) and "type" not in node:
                del node["enum"]
                nullable = [{"type": "null"}] if None in values else []
                node["anyOf"] = [_enum_of(kind, values) for kind in sorted(kinds)] + nullable
        for key, value in node.items():
            if key != "not":  # a refused value set says nothing a generator builds a type from
                _generator_safe(value)
    elif isinstance(node, list):
        for value in node:
            _generator_safe(value)
    return node


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "object"


def _enum_of(kind: str, values: list[Any]) -> dict[str, Any]:
    if kind == "boolean":
        flags = {value for value in values if isinstance(value, bool)}
        return {"type": "boolean"} if len(flags) == 2 else {"type": "boolean", "const": flags.pop()}
    chosen = [value for value in values if _json_type(value) == kind]
    if kind in ("array", "object") and not any(chosen):
        # the empty one: generators build no type from an enum of containers
        return (
            {"type": "array", "items": {}, "maxItems": 0}
            if kind == "array"
            else {"type": kind, "maxProperties": 0}
        )
    return {"type": kind, "enum": chosen}


def rename_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[-1]
                node[key] = "#/components/schemas/" + renamed.get(name, name)
            else:
                rename_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            rename_refs(value, renamed)
    return node
