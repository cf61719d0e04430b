"""What PostHog's HogFunctionSerializer makes of a hog function's inputs (posthog/cdp/validation.py:
InputsSerializer and InputsItemSerializer; posthog/api/hog_function.py: to_internal_value). No HTTP.

The inputs a function keeps are read from its ``inputs_schema``, not from what was sent: each
schema item's key is looked up in the inputs, an input without a ``value`` is left out, a required
one must have a value, a value is checked against its item's type, and every kept input gets its
``order`` (inputs that a template names, ``{inputs.other}``, come after the ones they name). The
same holds for each mapping's inputs against the mapping's own ``inputs_schema``. PostHog also
compiles a templated value to Hog bytecode (or to TypeScript for site functions); mockhog compiles
no Hog, so it answers no ``bytecode`` or ``transpiled`` for an input (docs/divergences.md).
"""

from __future__ import annotations

import re
from typing import Any

from .. import errors

TABLE = "hog_functions"
# posthog/models/hog_functions/hog_function.py: the types whose inputs PostHog transpiles to
# TypeScript instead of compiling them to bytecode (no input_deps, so no ordering by them)
JAVASCRIPT_TYPES = ("site_destination", "site_app")
_TEMPLATED_TYPES = ("string", "dictionary", "json", "email")
_INPUT_REFERENCE = re.compile(r"\binputs\.([A-Za-z_$][A-Za-z0-9_$]*)")
_TEMPLATING = ("hog", "liquid")
_NOT_A_DICT = "Invalid data. Expected a dictionary, but got {}."
_PY_TYPES = {str: "str", int: "int", float: "float", bool: "bool", list: "list", type(None): "NoneType"}


def hog_function_body(body: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The body with its inputs as PostHog keeps them: the top-level ``inputs`` validated against
    the ``inputs_schema`` sent (else the stored one) on a create and where an update sends either,
    and each sent mapping's inputs against that mapping's ``inputs_schema``; a create without them
    has none (to_internal_value's defaults: [], {} and no mappings). A refusal is DRF's 400 on the
    input."""
    out = dict(body)
    kind = body.get("type") or (stored or {}).get("type") or "destination"
    if stored is None:  # a create's defaults: no inputs, no mappings
        out["inputs_schema"] = body.get("inputs_schema") or []
        out["inputs"] = kept_inputs(out["inputs_schema"], body.get("inputs") or {}, kind, ["inputs"])
        out["mappings"] = body.get("mappings") or None
    elif "inputs" in body or "inputs_schema" in body:
        schema = body.get("inputs_schema", stored.get("inputs_schema")) or []
        inputs = body.get("inputs", stored.get("inputs")) or {}
        out["inputs"] = kept_inputs(schema, inputs, kind, ["inputs"])
    if isinstance(out.get("mappings"), list):
        mappings = []
        for index, mapping in enumerate(body["mappings"]):
            if isinstance(mapping, dict) and "inputs" in mapping:
                if "inputs_schema" not in mapping:
                    raise errors.validation_error("Missing inputs_schema.", f"mappings__{index}__inputs")
                path = ["mappings", str(index), "inputs"]
                mapping = {
                    **mapping,
                    "inputs": kept_inputs(mapping["inputs_schema"] or [], mapping["inputs"], kind, path),
                }
            mappings.append(mapping)
        out["mappings"] = mappings
    return out


def kept_inputs(schema: list[Any], inputs: Any, kind: str, path: list[str]) -> dict[str, Any]:
    """InputsSerializer.run_child_validation: the inputs ``schema`` declares, checked, in their
    topological order, each with its ``order``."""
    inputs = inputs if isinstance(inputs, dict) else {}
    result: dict[str, dict[str, Any]] = {}
    deps: dict[str, list[str]] = {}
    for item in schema:
        if not isinstance(item, dict) or "key" not in item:
            continue
        key = str(item["key"])
        value = inputs.get(key) or {}
        where = "__".join([*path, key])
        if not isinstance(value, dict):
            name = _PY_TYPES.get(type(value), type(value).__name__)
            raise errors.validation_error(_NOT_A_DICT.format(name), where)
        kept = _checked(item, value, kind, where)
        if kept is None:
            continue
        result[key] = kept
        deps[key] = _input_deps(item, kept, kind)
    order = _topological(list(result), {k: [d for d in v if d in result] for k, v in deps.items()}, path)
    return {key: {**result[key], "order": index} for index, key in enumerate(order)}


def _checked(item: dict[str, Any], sent: dict[str, Any], kind: str, where: str) -> dict[str, Any] | None:
    """InputsItemSerializer: the input's writable fields (value, templating), or None where it has
    no value; its refusals are PostHog's messages."""
    kept: dict[str, Any] = {}
    if "value" in sent:
        if sent["value"] is None:
            raise errors.validation_error("This field may not be null.", f"{where}__value", "null")
        kept["value"] = sent["value"]
    if "templating" in sent:
        if sent["templating"] not in _TEMPLATING:
            message = f'"{sent["templating"]}" is not a valid choice.'
            raise errors.validation_error(message, f"{where}__templating", "invalid_choice")
        kept["templating"] = sent["templating"]
    value = kept.get("value")
    if item.get("required") and (value is None or value == ""):
        raise errors.validation_error("This field is required.", where)
    if value:
        message = _type_refusal(item.get("type"), value)
        if message:
            raise errors.validation_error(message, where)
    return kept if "value" in kept else None


def _type_refusal(kind: Any, value: Any) -> str | None:
    """InputsItemSerializer.validate's check of a (truthy) value against its item's type."""
    if kind == "string" and not isinstance(value, str):
        return "Value must be a string."
    if kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
        return "Value must be a number."
    if kind == "boolean" and not isinstance(value, bool):
        return "Value must be a boolean."
    if kind == "dictionary" and not isinstance(value, dict):
        return "Value must be a dictionary."
    if kind == "integration" and (not isinstance(value, int) or isinstance(value, bool)):
        return "Value must be an Integration ID."
    if kind == "email":
        if not isinstance(value, dict):
            return "Value must be an email object."
        for field in ("from", "to", "subject"):
            if not value.get(field):
                return f"Missing value for '{field}'."
        if not value.get("text") and not value.get("html"):
            return "Either 'text' or 'html' is required."
    return None


def _input_deps(item: dict[str, Any], kept: dict[str, Any], kind: str) -> list[str]:
    """The other inputs a value's templates name (``input_deps``): only where PostHog compiles
    the value to bytecode (a templated type, hog templating, a function type it does not
    transpile). mockhog reads the names from the text instead of compiling it."""
    value = kept.get("value")
    templated = item.get("templating", True) and kept.get("templating") != "liquid"
    if not value or not templated or item.get("type") not in _TEMPLATED_TYPES or kind in JAVASCRIPT_TYPES:
        return []
    return sorted(set(_INPUT_REFERENCE.findall(" ".join(_texts(value)))))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _topological(nodes: list[str], edges: dict[str, list[str]], path: list[str]) -> list[str]:
    """posthog/cdp/validation.py's topological_sort: Kahn's order, first come first served."""
    degree = {node: len(edges.get(node, [])) for node in nodes}
    queue = [node for node in nodes if degree[node] == 0]
    ordered: list[str] = []
    while queue:
        current = queue.pop(0)
        ordered.append(current)
        for node in nodes:
            if current in edges.get(node, []):
                degree[node] -= 1
                if degree[node] == 0:
                    queue.append(node)
    if len(ordered) != len(nodes):
        raise errors.validation_error("Circular dependency detected in input_deps.", "__".join(path))
    return ordered
