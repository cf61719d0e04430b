"""A verified family's schemas/<family>.json derived from the import: PostHog's components plus the
overlay's reasoned patches (``[[schema]]`` and ``[[patch]]`` in ``overlay.toml``).

A ``[[schema]]`` names the file (``file``), its ``title``, its ``$defs`` in order (``defs``) and
which of them start as an imported component (``from``: def name -> component name, taken after
the ``[[fix]]`` corrections). A ref to a component another def of the file starts from becomes a
local ``#/$defs/`` ref. Each ``[[patch]]`` then changes one def (``file``, ``def``, ``pointer``,
``action``, ``value`` or ``value_json`` (JSON text), ``why``, ``source``):

- ``add``: the pointer names nothing yet (``""`` adds a whole def mockhog states and PostHog's
  document has not; ``/-`` appends to a list);
- ``replace``, ``remove``: the pointer names something;
- ``merge``: the pointer names an object; ``value``'s keys are set in it;
- ``order``: the pointer names an object; its keys are put in ``value``'s order (the import sorts
  keys, and an answer's fields follow its schema's order);
- ``view``: the pointer is ``""``; adds a whole def that shows some of another def's fields, as a
  lighter serializer over the same model does (``value``: ``{"of": def, "fields": [names]}``, the
  other def as the patches before this one left it, its properties and ``required`` kept to
  ``fields``, in that order).

The committed file is the derivation of the pinned import (``tools/derive_schemas.py --check``,
``tests/test_derive.py``), so a schema is changed by changing a patch, never by hand. With a
user's document (``--posthog-schema``) the families are derived again from its components; a
patch that finds no target there is skipped and reported, and a def whose component is gone keeps
the pinned derivation.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import HERE, _pointer_parts

ACTIONS = ("add", "replace", "remove", "merge", "order", "view")
_IMPORTED = "#/components/schemas/"


class PatchError(ValueError):
    """A patch that finds no target (on the pinned import: the overlay is wrong)."""


@dataclass
class Derivation:
    """One derived file: its document, and the patches skipped on a user's document."""

    document: dict[str, Any]
    skipped: list[tuple[dict[str, Any], str]] = field(default_factory=list)


def load_rules(path: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``[[schema]]`` and ``[[patch]]`` tables, checked."""
    with open(path or HERE / "overlay.toml", "rb") as handle:
        data = tomllib.load(handle)
    schemas, patches = data.get("schema", []), data.get("patch", [])
    files = {schema["file"] for schema in schemas}
    for index, schema in enumerate(schemas, 1):
        if {"file", "title", "defs"} - set(schema) or set(schema.get("from", {})) - set(schema["defs"]):
            raise ValueError(f"overlay.toml: schema {index} needs file, title, defs (and from only of defs)")
    for index, patch in enumerate(patches, 1):
        where = f"overlay.toml: patch {index}"
        if "value_json" in patch:  # TOML has no null; a schema reads better as JSON
            if "value" in patch:
                raise ValueError(f"{where}: value or value_json, not both")
            patch["value"] = json.loads(patch.pop("value_json"))
        if {"file", "def", "pointer", "action", "why"} - set(patch) or patch["action"] not in ACTIONS:
            raise ValueError(f"{where} needs file, def, pointer, action (one of {ACTIONS}) and why")
        if (patch["action"] != "remove") != ("value" in patch):
            wanted = "takes no" if "value" in patch else "needs a"
            raise ValueError(f"{where}: {patch['action']} {wanted} value")
        if patch["file"] not in files:
            raise ValueError(f"{where}: no [[schema]] for {patch['file']}")
    return schemas, patches


def derive(
    schema: dict[str, Any], patches: list[dict[str, Any]], components: dict[str, Any], lenient: bool = False
) -> Derivation:
    """The document of one ``[[schema]]`` from ``components``. A patch without a target raises
    ``PatchError``, or with ``lenient`` (a user's document) is skipped and listed."""
    sources = schema.get("from", {})
    local = {component: name for name, component in sources.items()}
    defs: dict[str, Any] = {}
    skipped: list[tuple[dict[str, Any], str]] = []
    for name, component in sources.items():
        if component in components:
            defs[name] = _localised(copy.deepcopy(components[component]), local)
        elif not lenient:
            raise PatchError(f"{schema['file']}: no component {component!r} in the import")
    for patch in patches:
        if patch["file"] != schema["file"]:
            continue
        if patch["def"] in sources and patch["def"] not in defs:
            skipped.append((patch, f"no component {sources[patch['def']]!r}"))
            continue
        try:
            note = _apply(defs, patch, lenient)
            if note:
                skipped.append((patch, note))
        except PatchError as error:
            if not lenient:
                raise
            skipped.append((patch, str(error)))
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema["file"],
        "title": schema["title"],
        "$defs": {name: defs[name] for name in schema["defs"] if name in defs},
    }
    missing = [name for name in schema["defs"] if name not in defs]
    if missing and not lenient:
        raise PatchError(f"{schema['file']}: defs {missing} neither imported nor added")
    stray = _imported_refs(document)
    if stray and not lenient:
        raise PatchError(f"{schema['file']}: refs to components outside the file: {sorted(stray)}")
    return Derivation(document, skipped)


def _localised(node: Any, local: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {key: _localised(value, local) for key, value in node.items()}
        target = out.get("$ref")
        if isinstance(target, str) and target.startswith(_IMPORTED) and target[len(_IMPORTED) :] in local:
            out["$ref"] = "#/$defs/" + local[target[len(_IMPORTED) :]]
        return out
    if isinstance(node, list):
        return [_localised(value, local) for value in node]
    return node


def _imported_refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if str(node.get("$ref", "")).startswith(_IMPORTED) else set()
        return found.union(*(_imported_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_imported_refs(value) for value in node))
    return set()


def _apply(defs: dict[str, Any], patch: dict[str, Any], lenient: bool = False) -> str | None:
    """Applies one patch; raises ``PatchError`` when it has no target. With ``lenient``, an order
    over other keys than it names is applied to those it names, and what differs is returned."""
    name, action, where = patch["def"], patch["action"], f"{patch['def']}{patch['pointer']}"
    if patch["pointer"] == "":
        if action not in ("add", "view") or name in defs:
            raise PatchError(f"{where}: a whole def is only added, and only once")
        defs[name] = _view(defs, patch["value"], where) if action == "view" else copy.deepcopy(patch["value"])
        return None
    if action == "view":
        raise PatchError(f'{where}: a view is a whole def (pointer "")')
    if name not in defs:
        raise PatchError(f"{where}: no def {name!r}")
    parts = _pointer_parts(patch["pointer"])
    node: Any = defs[name]
    for part in parts[:-1]:
        node = _child(node, part)
        if node is None:
            raise PatchError(f"{where}: no such place")
    last, value = parts[-1], copy.deepcopy(patch.get("value"))
    if isinstance(node, list):
        if action == "add" and last == "-":
            node.append(value)
            return None
        raise PatchError(f"{where}: only add with /- reaches into a list")
    if not isinstance(node, dict):
        raise PatchError(f"{where}: no such place")
    if action == "add":
        if last in node:
            raise PatchError(f"{where}: already there")
        node[last] = value
        return None
    if last not in node:
        raise PatchError(f"{where}: not there")
    if action == "replace":
        node[last] = value
    elif action == "remove":
        del node[last]
    elif action == "merge":
        if not isinstance(node[last], dict):
            raise PatchError(f"{where}: merge needs an object")
        node[last].update(value)
    else:
        target = node[last]
        if not isinstance(target, dict):
            raise PatchError(f"{where}: order needs an object")
        absent, unnamed = sorted(set(value) - set(target)), [key for key in target if key not in value]
        if (absent or unnamed) and not lenient:
            raise PatchError(f"{where}: order names {absent} (not there) and not {unnamed}")
        node[last] = {key: target[key] for key in [*value, *unnamed] if key in target}
        if absent or unnamed:
            return f"{where}: ordered; not there: {absent}; unnamed, kept last: {unnamed}"
    return None


def _view(defs: dict[str, Any], value: dict[str, Any], where: str) -> dict[str, Any]:
    """The def showing ``value["fields"]`` of ``value["of"]``."""
    shown = defs.get(value["of"])
    if shown is None:
        raise PatchError(f"{where}: no def {value['of']!r} to view")
    properties = shown.get("properties", {})
    missing = [field for field in value["fields"] if field not in properties]
    if missing:
        raise PatchError(f"{where}: {value['of']} has no {missing}")
    kept = {k: v for k, v in shown.items() if k not in ("properties", "required", "description")}
    view = copy.deepcopy(kept)
    view["properties"] = {field: copy.deepcopy(properties[field]) for field in value["fields"]}
    view["required"] = [field for field in value["fields"] if field in shown.get("required", [])]
    return view


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def dumps(document: dict[str, Any]) -> str:
    """The file's text: deterministic, one property (or small value) per line."""
    return _format(document, 0) + "\n"


def _format(value: Any, indent: int) -> str:
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or (indent >= 4 and len(compact) + indent <= 110):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + _format(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [
        f"{pad}{json.dumps(key, ensure_ascii=False)}: {_format(v, indent + 2)}" for key, v in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def derived_files(
    components: dict[str, Any], lenient: bool = False, path: Path | None = None
) -> dict[str, Derivation]:
    """Every ``[[schema]]``'s derivation from ``components``, by file name."""
    schemas, patches = load_rules(path)
    return {schema["file"]: derive(schema, patches, components, lenient) for schema in schemas}


def user_schemas(spec: Any) -> Any:
    """The schemas to serve with ``spec``: the committed files, except that with a user's document
    (``--posthog-schema``) each derived family is derived again from its components. Skipped
    patches are kept on ``spec.derive_skipped`` (file, patch, reason) for the caller to report."""
    from ..contract import Schemas
    from . import Spec

    if not getattr(spec, "_user_document", False):
        return Schemas()
    components, gone = dict(spec.components), []
    pinned = Spec.load().components
    for rule in load_rules()[0]:
        for component in rule.get("from", {}).values():
            if component not in components:
                components[component] = pinned[component]
                gone.append((rule["file"], component))
    derivations = derived_files(components, lenient=True)
    for name, component in gone:
        reason = f"no component {component!r} in the document: the pinned import's is used"
        derivations[name].skipped.insert(0, ({"action": "from", "def": component, "pointer": ""}, reason))
    spec.derive_skipped = [
        (name, *skip) for name, derivation in derivations.items() for skip in derivation.skipped
    ]
    return Schemas(derived={name: d.document for name, d in derivations.items()})
