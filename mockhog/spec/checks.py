"""Request and response checks of imported operations, compiled on first use per operation.

The same DRF-style coercion and error wording as the catalog's contract (``mockhog.contract``),
over the imported components (one registry resource, ``posthog.json``).
"""

from __future__ import annotations

import contextlib
import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from .. import errors
from ..contract import (
    CompiledChecks,
    _coerce,
    _format_checker,
    _raise_first,
    _valid_alone,
    nest_form_fields,
    only_missing,
    refuse_null_characters,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from . import Spec, SpecOperation

DOCUMENT = "posthog.json"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
# DRF's pagination parameters: a bad value means the default, never a 400.
LENIENT_QUERY = ("limit", "offset")


class SpecSchemas:
    """The imported components as one resolvable document, for both validators."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    @cached_property
    def document(self) -> dict[str, Any]:
        return {"$schema": _DRAFT, "components": {"schemas": self.spec.components}}

    @cached_property
    def fast_registry(self) -> Any:
        return jsonschema_rs.Registry([(DOCUMENT, self.document)])

    @cached_property
    def registry(self) -> Any:
        from referencing import Registry, Resource

        return Registry().with_resource(DOCUMENT, Resource.from_contents(self.document))

    def fast_validator(self, schema: dict[str, Any]) -> Any:
        return jsonschema_rs.validator_for(
            absolute(schema), registry=self.fast_registry, validate_formats=True
        )

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(
            absolute(schema), registry=self.registry, format_checker=_format_checker()
        )


def absolute(node: Any) -> Any:
    """Refs of an operation's schema, pointed at the components document."""
    if isinstance(node, dict):
        return {
            k: (DOCUMENT + v if k == "$ref" and v.startswith("#") else absolute(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [absolute(v) for v in node]
    return node


class SpecContract(CompiledChecks):
    """The checks of one imported operation (the catalog's OperationContract, for imports)."""

    def __init__(self, schemas: SpecSchemas, op: SpecOperation) -> None:
        self.op = op
        self.schemas = schemas
        spec = schemas.spec
        body = op.body.get("schema") if op.body else None
        self.body_schema = _top_level(spec, body) if body is not None else None
        self.body_ref = request_view(spec, body, op) if body is not None else None
        self.query_schema = _query_schema(spec, op.query) if op.query else None
        self.response_schema = op.response_schema

    @property
    def validated_body(self) -> Any:
        return self.body_ref

    @cached_property
    def lenient_query(self) -> tuple[str, ...]:
        return lenient_query(self.schemas.spec, self.op)

    def check_response(self, body: Any) -> str | None:
        """The first place where a response body breaks its schema, or None. A write-only field
        is never shown, even where PostHog's document lists it as required (drf-spectacular
        lists a serializer's required fields once, for requests and responses alike)."""
        problem = super().check_response(body)
        if problem is None:
            return None
        found = [
            e for e in self.detailed_response_validator.iter_errors(body) if not only_missing(e, "writeOnly")
        ]
        if not found:
            return None
        error = min(found, key=lambda e: len(e.absolute_path))
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        return f"{where}: {error.message}"

    @cached_property
    def detailed_response_validator(self) -> Draft202012Validator:
        return self.schemas.validator(self.response_schema)

    def check_query(self, query: dict[str, str]) -> dict[str, Any]:
        if self.query_schema is None:
            return dict(query)
        properties = self.query_schema["properties"]
        values = _coerce(properties, _split_lists(properties, query))
        for name in self.lenient_query:
            if name in values and name in properties and not _valid_alone(properties[name], values[name]):
                del values[name]
        _raise_first(self.query_validator, self.query_schema, values)
        return values

    def check_body(self, body: Any, strict: bool = False) -> tuple[Any, list[str]]:
        """Like the catalog's check: coerce, drop read-only fields, validate; unknown fields are
        ignored (and named), or refused with ``strict``."""
        if self.body_schema is None:
            return body, []
        if body is None:
            raise errors.validation_error("This field may not be null.", code="null")
        if not isinstance(body, dict):
            if self.body_schema.get("type") == "object" or "properties" in self.body_schema:
                raise errors.validation_error(
                    f"Invalid data. Expected a dictionary, but got {type(body).__name__}."
                )
            _raise_first(self.body_validator, self.body_schema, body)
            return body, []
        properties = self.body_schema.get("properties", {})
        body = nest_form_fields(properties, body)
        unknown = [k for k in body if properties and k not in properties and k != "personal_api_key"]
        if strict and unknown:
            raise errors.validation_error(
                f"Unknown field '{unknown[0]}': PostHog ignores it; mockhog --strict rejects it.",
                unknown[0],
                "unknown_field",
            )
        values = _coerce(properties, body, numbers=not strict)
        readonly = {name for name, prop in properties.items() if prop.get("readOnly")}
        values = {k: v for k, v in values.items() if k not in readonly}
        refuse_null_characters(properties, values)
        if properties and self.body_schema.get("additionalProperties") is not False:
            values = {k: v for k, v in values.items() if k in properties}
        _raise_first(self.body_validator, self.body_schema, values)
        return values, unknown


def lenient_query(spec: Spec, op: SpecOperation) -> tuple[str, ...]:
    """The query parameters a bad value of which means their default: DRF's pagination
    parameters, where the answer is one of DRF's pages (results, next and previous); a view's own
    ``limit`` is a serializer field, refused out of its bounds."""
    properties = spec.resolve(op.response_schema).get("properties", {}) if op.response_schema else {}
    return LENIENT_QUERY if {"results", "next", "previous"} <= set(properties) else ()


def request_view(spec: Spec, schema: Any, op: SpecOperation) -> Any:
    """What a request body must satisfy. One component serves as both request and response in
    PostHog's document, so read-only fields are listed as required: a client never sends them.
    drf-spectacular also documents a custom action's body as the viewset's serializer, which the
    action rarely requires whole: there only the fields sent are checked."""
    resolved = spec.resolve(schema)
    if not isinstance(resolved, dict) or "required" not in resolved:
        return schema
    properties = resolved.get("properties", {})
    required = [
        name
        for name in resolved["required"]
        if op.kind != "action"
        and not spec.resolve(properties.get(name, {})).get("readOnly")
        and not properties.get(name, {}).get("readOnly")
    ]
    view = {k: v for k, v in resolved.items() if k != "required"}
    if required:
        view["required"] = required
    return view


def _top_level(spec: Spec, schema: Any) -> dict[str, Any]:
    """The body schema with its top-level ``$ref`` (and its properties' refs) followed, so that
    coercion sees each field's type."""
    resolved = dict(spec.resolve(schema))
    if "allOf" in resolved:
        merged: dict[str, Any] = {}
        for part in resolved["allOf"]:
            merged.update(spec.resolve(part).get("properties", {}))
        resolved["properties"] = {**merged, **resolved.get("properties", {})}
    properties = resolved.get("properties", {})
    resolved["properties"] = {name: _flat(spec, prop) for name, prop in properties.items()}
    return resolved


def _flat(spec: Spec, prop: Any) -> dict[str, Any]:
    """A property as coercion reads it: its type, even behind ``$ref``/``allOf``/nullable."""
    if not isinstance(prop, dict):
        return {}
    out = {k: v for k, v in prop.items() if k not in ("$ref", "allOf", "anyOf")}
    target = prop.get("$ref") or next(
        (p.get("$ref") for p in prop.get("allOf", []) + prop.get("anyOf", []) if isinstance(p, dict)), None
    )
    if target:
        inner = spec.resolve({"$ref": target})
        for key in ("type", "format", "enum"):
            if key in inner and key not in out:
                out[key] = inner[key]
    if "anyOf" in prop and "type" not in out:
        types = [
            p.get("type") for p in prop["anyOf"] if isinstance(p, dict) and isinstance(p.get("type"), str)
        ]
        if types:
            out["type"] = types
    return out


def _query_schema(spec: Spec, query: dict[str, Any]) -> dict[str, Any]:
    properties = {name: _flat(spec, entry["schema"]) | entry["schema"] for name, entry in query.items()}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = sorted(name for name, entry in query.items() if entry.get("required"))
    if required:
        schema["required"] = required
    return schema


def _split_lists(properties: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """Array parameters arrive as text: ``a,b`` (DRF's comma lists) or a single value."""
    out: dict[str, Any] = dict(query)
    for name, value in query.items():
        prop = properties.get(name, {})
        if prop.get("type") == "array" and isinstance(value, str):
            out[name] = [part for part in value.split(",") if part != ""]
        elif prop.get("type") == "object" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[name] = json.loads(value)
    return out
