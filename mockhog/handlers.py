"""Which code serves each verified operation, decided and checked when the app loads.

A verified operation is served by one of two things:

- **the viewset interpreter**: :class:`mockhog.resources.base.Resource`'s standard action
  (list, create, retrieve, update, partial_update, destroy), driven by the viewset's row in
  ``mockhog/spec/viewsets.toml`` (ordering, soft delete, owner, unique, upsert, ... in DRF's terms)
  and the resource class's serializer hooks (``serialize``, ``build``, ``change``, ``filter``:
  PostHog's serializer and queryset code);
- **a quirk**: a resource method marked ``@quirk("<operationId>", ...)`` with the operationIds it
  serves (PostHog's, under ``/api/projects/``; the ``/api/environments/`` twin, ``environments_``
  plus that id, is the same view in PostHog and is served by the same quirk). Every custom action is
  a quirk, and so is a class's own version of a standard action.

:func:`resolve` decides the handler of every operation of a catalog and refuses, with a message that
names the file to fix, a quirk registered for an operationId that none of its class's operations
has (a misspelling), a standard action overridden without a registration, and an operation with
neither a quirk nor a standard action. :class:`mockhog.backend.Backend` binds the result, so a bad
registration stops the app from being created instead of answering 500 on first use.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .catalog import Catalog, Operation

if TYPE_CHECKING:
    from .resources.base import Resource

STANDARD_ACTIONS = ("list", "create", "retrieve", "update", "partial_update", "destroy")
# The interpreter's hooks a resource class may give its own version of: its serializer and queryset.
HOOKS = ("rows", "get", "filter", "order", "serialize", "build", "change", "new_key", "save")
ENVIRONMENTS = "environments_"
_QUIRK_ATTRIBUTE = "quirk_of"
Method = TypeVar("Method", bound=Callable[..., Any])


class HandlerError(ValueError):
    """The catalog and the resources' registrations disagree: the app cannot be served."""


def quirk(*operation_ids: str) -> Callable[[Method], Method]:
    """Mark a resource method as the handler of these operations (their ``/api/projects/``
    operationIds, or a root operation's own)."""
    if not operation_ids:
        raise TypeError("quirk() needs the operationIds the method serves")

    def mark(method: Method) -> Method:
        setattr(method, _QUIRK_ATTRIBUTE, tuple(operation_ids))
        return method

    return mark


def registered(cls: type) -> dict[str, str]:
    """operationId -> method name for every quirk a resource class has (its own and inherited;
    a subclass's registration of an id wins)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            for operation_id in getattr(value, _QUIRK_ATTRIBUTE, ()):
                found[operation_id] = name
    return found


@dataclass(frozen=True)
class Handler:
    """The code that serves one operation: a method of its resource class."""

    method: str
    quirk: bool
    owner: type  # the class whose method it is (for messages and ``mockhog routes``)
    hooks: type | None = None  # the interpreter's: the class whose serializer hooks it runs, if any

    def label(self, op: Operation) -> str:
        """What ``mockhog routes`` shows: the quirk's qualified name, or the viewset row (and the
        class whose serializer or queryset hooks the interpreter runs)."""
        if self.quirk:
            return f"quirk {_name(self.owner)}.{self.method}"
        shown = f"viewset {op.resource.name}.{self.method}"
        return f"{shown} +hooks {_name(self.hooks)}" if self.hooks is not None else shown


def _name(cls: type) -> str:
    return f"{cls.__module__.removeprefix('mockhog.resources.')}.{cls.__qualname__}"


def registration_id(op: Operation) -> str:
    """The operationId a quirk registers for ``op``: its ``/api/projects/`` twin's."""
    return op.operation_id.removeprefix(ENVIRONMENTS) if op.prefix == "environments" else op.operation_id


def load_impl(impl: str) -> type[Resource]:
    """The resource class a catalog row's ``impl`` (``module:Class`` in mockhog/resources/) names."""
    module_name, class_name = impl.split(":")
    module = importlib.import_module(f"mockhog.resources.{module_name}")
    return getattr(module, class_name)


def resolve(catalog: Catalog, classes: dict[str, type[Resource]] | None = None) -> dict[Operation, Handler]:
    """The handler of every operation of ``catalog`` (``classes``: each resource's class, by
    resource name; default: the catalog's ``impl``). Raises :class:`HandlerError`."""
    from .resources.base import Resource

    classes = classes or {name: load_impl(spec.impl) for name, spec in catalog.resources.items()}
    problems: list[str] = []
    served: dict[type, set[str]] = {}
    for op in catalog.operations:
        served.setdefault(classes[op.resource.name], set()).add(registration_id(op))
    # A registration on a shared base class (sharing's) may name the operations of any resource
    # whose class inherits it.
    for owner in {_owner(cls, method) for cls in served for method in registered(cls).values()}:
        ids = set().union(*(found for cls, found in served.items() if issubclass(cls, owner)))
        for name, value in vars(owner).items():
            for operation_id in getattr(value, _QUIRK_ATTRIBUTE, ()):
                if operation_id not in ids:
                    near = difflib.get_close_matches(operation_id, sorted(ids), n=1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    problems.append(
                        f"{_where(owner, name)} is registered for operationId {operation_id!r}, which "
                        f"no operation of its catalog resources has{hint}"
                    )
    handlers: dict[Operation, Handler] = {}
    for op in catalog.operations:
        cls = classes[op.resource.name]
        quirks = registered(cls)
        method = quirks.get(registration_id(op))
        if method is not None:
            handlers[op] = Handler(method, True, _owner(cls, method))
        elif op.action in STANDARD_ACTIONS:
            owner = _owner(cls, op.action)
            if owner is not Resource:
                problems.append(
                    f"{_where(cls, op.action)} overrides the standard {op.action} without registering "
                    f"it: mark it @quirk({registration_id(op)!r}, ...) for the operations it serves"
                )
            hooked = any(_owner(cls, hook) is not Resource for hook in HOOKS)
            handlers[op] = Handler(op.action, False, owner, cls if hooked else None)
        else:
            problems.append(
                f"operation {op.operation_id} (catalog.toml resources.{op.resource.name}, action "
                f"{op.action!r}) has no handler: {op.action!r} is no standard action and "
                f"{cls.__qualname__} registers no quirk for {registration_id(op)!r}"
            )
    if problems:
        unique = list(dict.fromkeys(problems))
        raise HandlerError("mockhog cannot serve its catalog:\n  " + "\n  ".join(unique))
    return handlers


def _owner(cls: type, method: str) -> type:
    """The class in ``cls``'s MRO that defines ``method``."""
    return next(klass for klass in cls.__mro__ if method in vars(klass))


def _where(cls: type, method: str) -> str:
    owner = _owner(cls, method) if hasattr(cls, method) else cls
    return f"{owner.__module__}.{owner.__qualname__}.{method}"
