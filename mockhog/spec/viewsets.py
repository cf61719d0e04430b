"""The viewset table and the generic viewset interpreter: DRF's ModelViewSet defaults over the
imported contract.

**The table** (``viewsets.toml``, :class:`Viewset`): what one viewset does beyond DRF's defaults,
in DRF's and Django's own terms: ``ordering`` (the queryset's order, ``-`` descending,
``Lower(field)`` case-insensitive), ``search_fields`` (and ``search_max_length``, PostHog's
trigram search limit), ``filters`` (``filterset_fields``), ``lookup_field`` and
``lookup_alternates`` (the fields a safely_get_object falls back to), ``restore_deleted`` (the
PATCH ``{"deleted": false}`` that finds a deleted row), ``page_size`` (the pagination class's
default), ``soft_delete``
(ForbidDestroyModel: DELETE refused, ``PATCH {"deleted": true}`` hides the row) and
``retrieve_deleted`` (only the list's queryset leaves deleted rows out), ``owner`` (the field
naming the user whose rows they are: the queryset is the requesting user's), ``unique`` (unique
constraints and the serializer's message), ``upsert`` (a create that is Django's
``update_or_create``), ``auto_now`` (fields stamped on every write). A row is named like the store
table, so one row describes a viewset whichever tier serves its operations: the verified tier's
interpreter (:class:`mockhog.resources.base.Resource`) and this module's generic one both read it
and order rows through the same :func:`order_rows`.

**The generic interpreter** (:class:`GenericEngine`): every imported operation that no
hand-verified catalog row serves lands here. Standard actions (list, create, retrieve, update,
partial_update, destroy) work on a store table per collection, scoped by project or organization
and by the parent records of nested routes; custom actions answer a deterministic body built from
the stored record or their response schema. Responses say ``X-Mockhog-Tier: generic``.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import errors, trigram
from ..pagination import DEFAULT_LIMIT, cursor_page, limit_offset_page
from . import Spec, SpecOperation, hog_inputs
from .values import USER_COMPONENT, References, ValueMaker

if TYPE_CHECKING:
    from ..backend import Backend
    from ..resources.base import Call

TIER_HEADER = "X-Mockhog-Tier"
VIEWSETS_FILE = Path(__file__).with_name("viewsets.toml")
DEFAULT_COUNT = 3  # records per generic table, unless fixtures/ says otherwise
PRIVATE_KEY = "_id"  # the stored key of records whose model has no id of its own


# PostHog's foreign keys to the verified families, by the names its serializers give them (the
# field, or Django's <field>_id column): a generic record that has one points at a seeded row.
FOREIGN_KEYS = {
    "dashboards": ("dashboard", "dashboard_id"),
    "insights": ("insight", "insight_id"),
    "cohorts": ("cohort", "cohort_id"),
    "feature_flags": ("feature_flag", "feature_flag_id"),
    "actions": ("action", "action_id"),
    "experiments": ("experiment", "experiment_id"),
    "surveys": ("survey", "survey_id"),
}


def organization_scope(organization_id: str) -> str:
    """The store key of an organization's tables (projects' tables are keyed by project id)."""
    return f"organization:{organization_id}"


@dataclass(frozen=True)
class Unique:
    """A unique constraint over ``fields`` among the rows a viewset shows, with the serializer's
    message for a clash (``str.format`` over the clashing row's fields)."""

    fields: tuple[str, ...]
    message: str
    non_field: bool = False  # raised by validate() or the view: no attr, DRF's code "invalid"


@dataclass(frozen=True)
class Upsert:
    """A create that is ``update_or_create(<lookup fields>, defaults=<defaults>)``: a row the body
    matches on ``lookup`` gets the body's (or the model's default) values of ``defaults``."""

    lookup: tuple[str, ...]
    defaults: tuple[str, ...]


@dataclass(frozen=True)
class Related:
    """Another table's foreign key to this viewset's rows, and what deleting a row does to the rows
    that point at it (Django's ``on_delete``: ``CASCADE`` deletes them, ``SET_NULL`` clears the field)."""

    table: str
    field: str
    on_delete: str


ON_DELETES = ("CASCADE", "SET_NULL")


@dataclass(frozen=True)
class Viewset:
    """What one viewset does beyond DRF's defaults (``viewsets.toml``)."""

    ordering: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    lookup_field: str | None = None
    page_size: int | None = None
    soft_delete: str | None = None  # one of SOFT_DELETES
    retrieve_deleted: bool = False
    owner: str | None = None
    unique: tuple[Unique, ...] = ()
    upsert: Upsert | None = None
    auto_now: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    lookup_alternates: tuple[str, ...] = ()
    restore_deleted: bool = False
    search_max_length: int | None = None
    trigram_tiebreakers: tuple[str, ...] = ()  # ranked trigram search: the order after the score
    blank_is_generated: tuple[str, ...] = ()  # a falsy value is the server's: made on create, kept on update
    parent_not_found: str | None = None  # the 404's detail when the parent record is not there


KEYS = {
    "ordering", "search_fields", "filters", "lookup_field", "page_size", "soft_delete",
    "retrieve_deleted", "owner", "unique", "upsert", "auto_now", "related", "lookup_alternates",
    "restore_deleted", "search_max_length", "trigram_tiebreakers", "blank_is_generated", "parent_not_found",
    "why",
}  # fmt: skip


# ForbidDestroyModel (DELETE refused, a body's ``deleted`` hides the row), or a destroy that hides
# the row instead of removing it.
SOFT_DELETES = ("forbid_destroy", "on_destroy")


def load_viewsets(path: Path = VIEWSETS_FILE) -> dict[str, Viewset]:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    table = {}
    for name, entry in data.get("viewsets", {}).items():
        unknown = set(entry) - KEYS
        if unknown:
            raise ValueError(f"{path}: viewsets.{name}: unknown key {sorted(unknown)[0]!r}")
        upsert = entry.get("upsert")
        if entry.get("soft_delete", "forbid_destroy") not in SOFT_DELETES:
            raise ValueError(f"{path}: viewsets.{name}: soft_delete is one of {', '.join(SOFT_DELETES)}")
        table[name] = Viewset(
            ordering=tuple(entry.get("ordering", ())),
            search_fields=tuple(entry.get("search_fields", ())),
            filters=tuple(entry.get("filters", ())),
            lookup_field=entry.get("lookup_field"),
            page_size=entry.get("page_size"),
            soft_delete=entry.get("soft_delete"),
            retrieve_deleted=entry.get("retrieve_deleted", False),
            owner=entry.get("owner"),
            unique=tuple(_unique(path, name, u) for u in entry.get("unique", ())),
            upsert=Upsert(tuple(upsert["lookup"]), tuple(upsert["defaults"])) if upsert else None,
            auto_now=tuple(entry.get("auto_now", ())),
            related=tuple(Related(r["table"], r["field"], r["on_delete"]) for r in entry.get("related", ())),
            lookup_alternates=tuple(entry.get("lookup_alternates", ())),
            restore_deleted=entry.get("restore_deleted", False),
            search_max_length=entry.get("search_max_length"),
            trigram_tiebreakers=tuple(entry.get("trigram_tiebreakers", ())),
            blank_is_generated=tuple(entry.get("blank_is_generated", ())),
            parent_not_found=entry.get("parent_not_found"),
        )
        _check_types(path, name, entry)
        for related in table[name].related:
            if related.on_delete not in ON_DELETES:
                raise ValueError(f"{path}: viewsets.{name}: on_delete is one of {', '.join(ON_DELETES)}")
    return table


UNIQUE_KEYS = {"fields", "message", "non_field"}


def _unique(path: Path, name: str, entry: dict[str, Any]) -> Unique:
    unknown = set(entry) - UNIQUE_KEYS
    if unknown:
        raise ValueError(f"{path}: viewsets.{name}: unique has no key {sorted(unknown)[0]!r}")
    if not isinstance(entry.get("non_field", False), bool):
        raise ValueError(f"{path}: viewsets.{name}: unique's non_field is true or false")
    return Unique(tuple(entry["fields"]), entry["message"], entry.get("non_field", False))


_LISTS = (
    "ordering", "search_fields", "filters", "auto_now", "lookup_alternates", "trigram_tiebreakers",
    "blank_is_generated",
)  # fmt: skip
_FLAGS = ("retrieve_deleted", "restore_deleted")


def _check_types(path: Path, name: str, entry: dict[str, Any]) -> None:
    """A key of the wrong kind (a field name where a list of them is meant) is a load error."""
    for key in _LISTS:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{path}: viewsets.{name}: {key} is a list of field names")
    for key in _FLAGS:
        if not isinstance(entry.get(key, False), bool):
            raise ValueError(f"{path}: viewsets.{name}: {key} is true or false")
    length = entry.get("search_max_length")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise ValueError(f"{path}: viewsets.{name}: search_max_length is a positive integer")
    if entry.get("trigram_tiebreakers") and length is None:
        raise ValueError(f"{path}: viewsets.{name}: trigram_tiebreakers rank a search_max_length search")


def search_needle(viewset: Viewset, query: dict[str, Any]) -> str:
    """The list's ``?search=`` as the viewset's search reads it, lower-cased ('' for none). With
    ``search_max_length`` (posthog/helpers/trigram_search.py's MAX_SEARCH_LENGTH), a longer term
    is PostHog's 400, and the term is normalised as normalize_search_term does (no NUL, stripped);
    without it, the term as sent."""
    search = query.get("search")
    if not isinstance(search, str) or not search:
        return ""
    limit = viewset.search_max_length
    if limit is None:
        return search.lower()
    if len(search) > limit:
        raise errors.validation_error(f"Search query must be {limit} characters or fewer.", "search")
    return search.replace("\x00", "").strip().lower()


def trigram_search(viewset: Viewset, rows: list[Any], needle: str) -> list[tuple[Any, bool]]:
    """apply_trigram_search over the viewset's search fields (``tags``: include_tag_search),
    ranked by score, then ``trigram_tiebreakers``; each row with whether it matched exactly."""
    fields = trigram.search_fields(name for name in viewset.search_fields if name != "tags")
    tags = (lambda row: row.get("tags") or []) if "tags" in viewset.search_fields else None
    ordering = viewset.trigram_tiebreakers
    return trigram.search(rows, needle, fields, tags=tags, tiebreak=lambda found: order_rows(found, ordering))


def searched(row: dict[str, Any], fields: tuple[str, ...], needle: str) -> bool:
    """Whether ``needle`` is in one of the row's search fields (``icontains``; a list field such as
    ``tags`` matches when one of its items does)."""
    for name in fields:
        value = row.get(name)
        texts = value if isinstance(value, list) else [value]
        if any(needle in str(text or "").lower() for text in texts):
            return True
    return False


def filtered(viewset: Viewset, query: dict[str, Any], rows: list[Any]) -> list[Any]:
    """The rows equal to each of the viewset's ``filterset_fields`` the query gives a value
    (django-filter skips a blank one)."""
    for name in viewset.filters:
        value = query.get(name)
        if value is not None and value != "" and _scalar(value):
            rows = [row for row in rows if _matches(row.get(name), value)]
    return rows


VIEWSETS = load_viewsets()
NO_DIFFERENCES = Viewset()
DEFAULT_ORDERING = ("-created_at", "-id")  # PostHog's usual queryset order, newest first
_LOWER = re.compile(r"^(-?)Lower\((\w+)\)$")


def order_rows(rows: list[Any], ordering: tuple[str, ...]) -> list[Any]:
    """Rows in a queryset's order: each field ascending, or descending with ``-``, and
    ``Lower(field)`` case-insensitively; later fields break ties. NULL sorts as Postgres sorts it,
    above every value: last ascending, first descending."""
    for term in reversed(ordering):
        lowered = _LOWER.match(term)
        descending = term.startswith("-")
        name = lowered.group(2) if lowered else term.lstrip("-")
        if lowered:
            key = lambda r, n=name: _sortable(None if r.get(n) is None else str(r.get(n)).lower())  # noqa: E731
        else:
            key = lambda r, n=name: _sortable(r.get(n))  # noqa: E731
        rows = sorted(rows, key=key, reverse=descending)
    return rows


def owned_by(row: dict[str, Any], owner: str, user_id: Any) -> bool:
    """Whether a row is the user's: its owner field holds their id (or, for a nested user such as
    ``created_by``, a user with that id)."""
    value = row.get(owner)
    return (value.get("id") if isinstance(value, dict) else value) == user_id


def check_unique(
    viewset: Viewset,
    data: dict[str, Any],
    current: dict[str, Any] | None,
    rows: Iterable[dict[str, Any]],
    key_field: str,
) -> None:
    """The row's unique constraints, where the body sets one of their fields: a clash with another
    of ``rows`` (the rows the viewset shows; ``current``, the one being changed, is skipped by its
    key) is the serializer's 400 with code ``unique`` on the constraint's first field. A field
    written ``Lower(field)`` compares case-insensitively (a validator's ``field__iexact``)."""
    for constraint in viewset.unique:
        terms = [_unique_term(term) for term in constraint.fields]
        if not any(name in data for name, _ in terms):
            continue
        wanted = [
            (name, folded, _folded(data[name] if name in data else (current or {}).get(name), folded))
            for name, folded in terms
        ]
        for row in rows:
            if current is not None and row.get(key_field) == current.get(key_field):
                continue
            if all(_folded(row.get(name), folded) == value for name, folded, value in wanted):
                message = constraint.message.format(**row)
                if constraint.non_field:
                    raise errors.validation_error(message)
                raise errors.validation_error(message, terms[0][0], "unique")


def _without_blanks(viewset: Viewset, body: dict[str, Any]) -> dict[str, Any]:
    """The body without the falsy values of ``blank_is_generated`` fields (the view reads them as
    not given: a create makes the value, an update keeps the stored one)."""
    if not viewset.blank_is_generated or not isinstance(body, dict):
        return body
    return {name: value for name, value in body.items() if value or name not in viewset.blank_is_generated}


def _unique_term(term: str) -> tuple[str, bool]:
    """A unique constraint's field and whether it compares case-insensitively (``Lower(field)``)."""
    lowered = _LOWER.match(term)
    return (lowered.group(2), True) if lowered else (term, False)


def _folded(value: Any, folded: bool) -> Any:
    return value.lower() if folded and isinstance(value, str) else value


def upsert_match(viewset: Viewset, body: dict[str, Any], rows: Iterable[dict[str, Any]]) -> Any:
    """The row a create-as-upsert updates (the one the body matches on the lookup fields), if any."""
    if viewset.upsert is None:
        return None
    lookup = viewset.upsert.lookup
    return next((row for row in rows if all(row.get(f) == body.get(f) for f in lookup)), None)


def delete_related(
    viewset: Viewset, key: Any, tables: Callable[[str], Any], key_of: Callable[[str], str]
) -> None:
    """What deleting the row keyed ``key`` does to the rows of other tables that point at it
    (``tables``: a store table by name; ``key_of``: the field its rows are stored under)."""
    for related in viewset.related:
        table, field = tables(related.table), key_of(related.table)
        for row in list(table.values()):
            # a nested route's rows hang under the parent named in the path they were made under
            parent = row.get("_parent") if isinstance(row.get("_parent"), dict) else {}
            if related.field in parent:
                if str(parent[related.field]) != str(key):
                    continue
            elif row.get(related.field) != key:
                continue
            if related.on_delete == "CASCADE":
                table.delete(row[field])
            else:
                table.put(row[field], {**row, related.field: None})


class Tables:
    """Which model each store table holds, its key and parents, for seeding and writes."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.models: dict[str, Any] = {}
        self.parents: dict[str, tuple[tuple[str, str], ...]] = {}
        for op in sorted(spec.operations, key=lambda o: o.prefix != "projects"):
            model = spec.collection_model(op)
            if model is not None:
                self.models.setdefault(op.table, model)
            self.parents.setdefault(op.table, parent_tables(op))

    def key_field(self, table: str) -> str:
        """The field records are stored under: ``id``, else a natural key the model has, else a
        private sequence (``_id``) for models without one."""
        properties = self.spec.resolve(self.models.get(table, {})).get("properties", {})
        for name in ("id", "uuid", "short_id", "key"):
            if name in properties and _is_scalar_schema(self.spec.resolve(properties[name])):
                return name
        return PRIVATE_KEY

    def reference_field(self, table: str, param: str) -> str:
        """The field of a parent record that a nested path parameter names
        (``group_type_index`` by itself, ``dashboard_id`` by the key)."""
        properties = self.spec.resolve(self.models.get(table, {})).get("properties", {})
        return param if param in properties else self.key_field(table)

    def integer_keys(self, table: str) -> bool:
        """Whether records are keyed by a database sequence (an integer id, or the private key)."""
        field = self.key_field(table)
        if field == PRIVATE_KEY:
            return True
        prop = self.spec.resolve(self.spec.resolve(self.models.get(table, {})).get("properties", {})[field])
        types = prop.get("type", "integer")
        return "integer" in ([types] if isinstance(types, str) else types)

    @cached_property
    def soft_deleted(self) -> set[str]:
        """Tables of PostHog's ForbidDestroyModel viewsets (their destroy documents only 405)."""
        return {op.table for op in self.spec.operations if op.forbids_destroy}


def _is_scalar_schema(schema: Any) -> bool:
    types = schema.get("type") if isinstance(schema, dict) else None
    types = [types] if isinstance(types, str) else (types or [])
    return bool(set(types) & {"integer", "string"})


def parent_tables(op: SpecOperation) -> tuple[tuple[str, str], ...]:
    """``(parameter, parent table)`` for each record the collection is nested under."""
    found = []
    parts = op.collection.strip("/").split("/")
    for index, part in enumerate(parts):
        if part.startswith("{") and part[1:-1] in op.parents:
            parent = SpecOperation(
                operation_id="",
                method="GET",
                template="",
                prefix=op.prefix,
                params={},
                query={},
                body=None,
                responses={},
                scopes=(),
                collection="/" + "/".join(parts[:index]) + "/",
            )
            found.append((part[1:-1], parent.table))
    return tuple(found)


# A serializer that rewrites what a create or an update sends, per table: (the body's writable
# fields, the stored record or None) -> the fields stored.
BODY_RULES: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]] = {
    hog_inputs.TABLE: hog_inputs.hog_function_body,
}


class GenericEngine:
    """Serves imported operations (``SpecOperation.action == "serve"``)."""

    def __init__(self, backend: Backend, spec: Spec) -> None:
        self.backend = backend
        self.spec = spec
        self.viewsets = VIEWSETS
        self._bases: dict[tuple[Any, str, Any], dict[str, Any]] = {}
        self._references_of: dict[Any, References] = {}

    @cached_property
    def tables(self) -> Tables:
        return Tables(self.spec)

    def forget(self) -> None:
        """Drop what was built for the previous seed (after a reseed)."""
        self._bases.clear()

    # -- the entry point -------------------------------------------------------------------------
    def serve(self, call: Call) -> Any:
        from ..resources.base import Reply, forbid_destroy

        op: SpecOperation = call.op  # type: ignore[assignment]
        scope = self._scope(call, op)
        self._check_path(call, op)
        self._check_parent(call, op, scope)
        if op.kind == "destroy" and (op.forbids_destroy or self._soft_delete(op)):
            # PostHog's ForbidDestroyModel, as in the verified tier; PATCH {"deleted": true} is how
            # such records go away.
            return forbid_destroy(self._tier())
        handler = getattr(self, f"_{op.kind}")
        body = handler(call, op, scope)
        return Reply(body=body, headers=self._tier())

    def _check_path(self, call: Call, op: SpecOperation) -> None:
        """A parent in the path whose value cannot be its key's type names nothing: PostHog's
        parent lookups answer NotFound where the filter cannot take the value
        (posthog/api/routing.py: _filter_queryset_by_parents_lookups), so nothing is listed or
        created under a malformed UUID. Only where the parent's records are keyed by a UUID
        field (a lookup of the record itself already finds nothing). An integer out of its
        field's bounds (the path parameter's published minimum and maximum) names nothing
        either: no row can hold it (PostHog's filter finds none; its create is Postgres' integer
        out of range, a 500)."""
        for name, schema in op.params.items():
            value = call.params.get(name)
            if schema.get("type") != "integer" or not isinstance(value, int) or isinstance(value, bool):
                continue
            if value > schema.get("maximum", value) or value < schema.get("minimum", value):
                raise errors.not_found()
        for name, table in self.tables.parents.get(op.table, ()):
            value = call.params.get(name)
            if not isinstance(value, str) or table not in self.tables.models:
                continue
            model = self.spec.resolve(self.tables.models[table]).get("properties", {})
            key = self.spec.resolve(model.get(self.tables.reference_field(table, name), {}))
            if isinstance(key, dict) and key.get("format") == "uuid" and not _UUID.fullmatch(value):
                raise errors.not_found()

    def _check_parent(self, call: Call, op: SpecOperation, scope: Any) -> None:
        """``parent_not_found``: the viewset looks its parent up first (a task run's views call
        _ensure_task_accessible) and answers NotFound with its own detail when it is not there,
        where DRF's parent filter alone would list nothing."""
        message = self._viewset(op).parent_not_found
        parents = self.tables.parents.get(op.table, ())
        if message is None or not parents or parents[-1][0] not in call.params:
            return
        name, table = parents[-1]
        field = self.tables.reference_field(table, name)
        value = call.params[name]
        soft = table in self.tables.soft_deleted or (self.viewsets.get(table) or NO_DIFFERENCES).soft_delete
        for row in self.backend.store.table(scope, table).values():
            if str(_field(row, field)) == str(value):
                if row.get("_deleted") or (soft and row.get("deleted") is True):
                    break
                return
        raise errors.not_found(message)

    @staticmethod
    def _tier() -> dict[str, str]:
        return {TIER_HEADER: "generic"}

    def _scope(self, call: Call, op: SpecOperation) -> Any:
        if op.scope == "project":
            return call.project_id
        organization = self.backend.world.organization["id"]
        wanted = call.params.get("organization_id")
        if op.collection == "/api/organizations/" and op.lookup:
            wanted = call.params.get(op.lookup)
        if wanted is not None and wanted not in ("@current", organization):
            raise errors.not_found("Organization not found.")
        return organization_scope(organization)

    # -- rows ----------------------------------------------------------------------------------
    def _table(self, scope: Any, op: SpecOperation) -> Any:
        return self.backend.store.table(scope, op.table)

    def _parents(self, call: Call, op: SpecOperation) -> dict[str, Any]:
        """The record a nested collection hangs under (its nearest parent in the path)."""
        if not op.parents or op.parents[-1] not in call.params:
            return {}
        return {op.parents[-1]: call.params[op.parents[-1]]}

    def _visible(self, call: Call, op: SpecOperation, scope: Any) -> list[dict[str, Any]]:
        parents = self._parents(call, op)
        soft = self._soft_delete(op)
        rows = []
        owner = self._viewset(op).owner
        user = self.backend.user.get("id")
        for row in self._table(scope, op).values():
            if row.get("_deleted") or (soft and row.get("deleted") is True):
                continue
            if parents and not _under(row, parents):
                continue
            if owner is not None and not owned_by(row, owner, user):
                continue
            rows.append(row)
        return rows

    def _viewset(self, op: SpecOperation) -> Viewset:
        return self.viewsets.get(op.table) or NO_DIFFERENCES

    def _soft_delete(self, op: SpecOperation) -> bool:
        viewset = self.viewsets.get(op.table)
        forbidden = viewset is not None and viewset.soft_delete == "forbid_destroy"
        return op.table in self.tables.soft_deleted or forbidden

    def _lookup_value(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        value = call.params[op.lookup]
        if value == "@me":
            return self.backend.user.get("uuid")
        if value == "@current":
            if op.table == "organizations":
                return self.backend.world.organization["id"]
            if op.table == "projects" and call.key is not None:
                return self.backend.current_project(call.key)
        return value

    def _get(self, call: Call, op: SpecOperation, scope: Any) -> dict[str, Any]:
        value = self._lookup_value(call, op, scope)
        table = self._table(scope, op)
        field = self._lookup_field(op)
        sequence = field == self.tables.key_field(op.table) and self.tables.integer_keys(op.table)
        if sequence and isinstance(value, str) and value.isdigit() and len(value) < 19:
            value = int(value)  # documented as a string, stored under a sequence
        record = table.get(value) if field == self.tables.key_field(op.table) else None
        if record is None:
            record = next((r for r in table.values() if _field(r, field) == value), None)
        if record is None or record.get("_deleted"):
            raise errors.not_found()
        viewset = self._viewset(op)
        if self._soft_delete(op) and record.get("deleted") is True and not viewset.retrieve_deleted:
            raise errors.not_found()
        parents = self._parents(call, op)
        if parents and not _under(record, parents):
            raise errors.not_found()
        if viewset.owner is not None and not owned_by(record, viewset.owner, self.backend.user.get("id")):
            raise errors.not_found()
        return record

    def _lookup_field(self, op: SpecOperation) -> str:
        viewset = self.viewsets.get(op.table)
        if viewset and viewset.lookup_field:
            return viewset.lookup_field
        lookup = op.lookup or "id"
        if lookup == "id":
            return self.tables.key_field(op.table)
        return lookup

    def view(
        self, scope: Any, op: SpecOperation, record: dict[str, Any], schema: Any = None
    ) -> dict[str, Any]:
        """A record as the operation's serializer shows it (``schema``: its answer, else the
        collection's model): fields it lacks filled in from that schema (once per record and
        schema, deterministically), private fields dropped."""
        public = {k: v for k, v in record.items() if not k.startswith("_")}
        schema = schema if schema is not None else self.tables.models.get(op.table)
        if schema is None:
            return public
        properties = self.spec.resolve(schema).get("properties", {})
        hidden = {name for name, prop in properties.items() if prop.get("writeOnly")}
        public = {k: v for k, v in public.items() if k not in hidden}  # taken, never shown
        if all(name in public for name in properties if name not in hidden):
            return public
        key = record.get(self.tables.key_field(op.table))
        base_key = (scope, op.table, key, id(schema))
        base = self._bases.get(base_key)
        if base is None:
            made = self.make(schema, f"complete:{scope}:{op.table}:{key}:{_schema_name(schema)}", scope)
            made = {k: v for k, v in made.items() if k not in hidden} if isinstance(made, dict) else {}
            base = self._bases[base_key] = made
        return {**base, **public}

    def make(self, schema: Any, stream: str, scope: Any = None) -> Any:
        """A deterministic value of ``schema`` for this backend's seed and a stream name, as the
        server shows it: without write-only fields, at any depth; in a scope, its users, project
        and organization are the world's."""
        seed = f"{self.backend.seed}:{stream}"
        maker = ValueMaker(self._resolve, random.Random(seed), self.backend.clock, self._references(scope))
        return self._without_write_only(maker.make(schema), schema)

    def _references(self, scope: Any) -> References | None:
        """The world's records a value in ``scope`` points at: its user (UserBasicSerializer of
        the request's user, PostHog's created_by), its project and organization ids, the seeded
        rows of the verified families (worked out once per scope: the seed does not change)."""
        if scope is None:
            return None
        found = self._references_of.get(scope)
        if found is None:
            found = self._references_of[scope] = self._world_references(scope)
        return found

    def _world_references(self, scope: Any) -> References:
        world = self.backend.world
        user = self.backend.user
        shown = self.spec.components.get(USER_COMPONENT, {}).get("properties", {})
        basic = {name: user.get(name) for name in shown}
        fields: dict[str, Any] = {
            "organization": world.organization["id"],
            "organization_id": world.organization["id"],
        }
        choices: dict[str, list[Any]] = {}
        if isinstance(scope, int):
            fields.update(team=scope, team_id=scope, project_id=scope)
            for table, names in FOREIGN_KEYS.items():
                seeded, _ = self.backend.store.snapshot.seed_table(scope, table)  # never the live rows
                keys = [key for key, row in seeded.items() if not row.get("_deleted")]
                choices.update(dict.fromkeys(names, keys))
        return References(user=basic, fields=fields, choices=choices)

    def _resolve(self, ref: str) -> Any:
        return self.spec.components.get(ref.rsplit("/", 1)[-1], {})

    # -- standard actions ------------------------------------------------------------------------
    def _list(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        rows = self._filter(call, op, self._order(op, self._visible(call, op, scope)))
        items = self.spec.list_items(op.response_schema) if op.response_schema else None
        results = [self.view(scope, op, row, items) for row in rows]
        kind = self.spec.page_kind(op.response_schema)
        if kind == "limit_offset":
            viewset = self.viewsets.get(op.table)
            size = viewset.page_size if viewset and viewset.page_size else DEFAULT_LIMIT
            return limit_offset_page(results, call.query, call.url, size)
        if kind == "cursor":
            return cursor_page(results, lambda row: str(row.get("created_at") or ""), call.query, call.url)
        return results

    def _order(self, op: SpecOperation, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        viewset = self.viewsets.get(op.table)
        return order_rows(rows, viewset.ordering if viewset and viewset.ordering else DEFAULT_ORDERING)

    def _filter(self, call: Call, op: SpecOperation, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """DRF's filter backends: ``search`` over the viewset's search fields, and equality on
        documented query parameters that name a field of the model, and on the viewset's own
        ``filterset_fields`` (which PostHog's document does not always list)."""
        viewset = self.viewsets.get(op.table) or Viewset()
        model = self.spec.resolve(self.tables.models.get(op.table, {}))
        fields = set(model.get("properties", {}))
        search = call.query.get("search")
        if isinstance(search, str) and search and "search" in op.query:
            names = viewset.search_fields or tuple(n for n in ("name", "key", "title") if n in fields)
            needle = search.lower()
            rows = [r for r in rows if any(needle in str(r.get(n) or "").lower() for n in names)]
        for name, value in call.query.items():
            if name in ("search", "limit", "offset", "cursor", "format", "ordering"):
                continue
            declared = name in viewset.filters or (name in op.query and name in fields)
            if declared and _scalar(value):
                rows = [r for r in rows if _matches(r.get(name), value)]
        return rows

    def _retrieve(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        return self.view(scope, op, self._get(call, op, scope), op.response_schema)

    def _create(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        table = self._table(scope, op)
        model = self.tables.models.get(op.table) or op.response_schema or {}
        key_field = self.tables.key_field(op.table)
        viewset = self._viewset(op)
        body = _without_blanks(viewset, self._body(op, call.body, None))
        if viewset.upsert is not None or viewset.unique:
            rows = self._visible(call, op, scope)
            existing = upsert_match(viewset, body, rows)
            if existing is not None:  # update_or_create: the match takes the defaults' values
                return self._upsert(call, op, scope, existing, body, viewset.upsert)
            check_unique(viewset, body, None, rows, key_field)
        key = table.allocate_id() if self.tables.integer_keys(op.table) else None
        record = self.make(model, f"create:{scope}:{op.table}:{len(table)}:{call.rng.random()}", scope)
        record = record if isinstance(record, dict) else {}
        record = self._merged(record, body, model)
        if key is None:
            key = call.new_uuid() if key_field in ("id", "uuid") else record.get(key_field)
        record[key_field] = key
        for name in viewset.blank_is_generated:
            if name not in body:
                record[name] = str(key)
        now = call.timestamp()
        for stamp in ("created_at", "updated_at", "last_modified_at"):
            if stamp in record:
                record[stamp] = now
        for stamp in viewset.auto_now:
            record[stamp] = now
        if "deleted" in record:
            record["deleted"] = False
        if isinstance(record.get("created_by"), dict):
            # the key's user made it: their fields over the generated shape of the user
            shown = record["created_by"]
            record["created_by"] = {**shown, **{k: v for k, v in call.user.items() if k in shown}}
        if viewset.owner is not None and not isinstance(record.get(viewset.owner), dict):
            record[viewset.owner] = call.user.get("id")
        parents = self._parents(call, op)
        if parents:
            record["_parent"] = parents
            record.update(self.parent_fields(model, parents))
        table.put(key, record)
        return self.view(scope, op, record, op.response_schema)

    def parent_fields(self, model: Any, parents: dict[str, Any]) -> dict[str, Any]:
        """The child's own field naming its parent (``dashboard`` or ``dashboard_id`` for
        ``{dashboard_id}``), set from the path as the nested viewset's perform_create sets it;
        an integer field gets the path's number."""
        properties = self.spec.resolve(model).get("properties", {})
        fields = {}
        for param, value in parents.items():
            name = next((n for n in (param, param.removesuffix("_id")) if n in properties), None)
            if name is None:
                continue
            schema = self.spec.resolve(properties[name])
            types = schema.get("type", [])
            types = [types] if isinstance(types, str) else list(types)
            if "integer" in types and str(value).lstrip("-").isdigit():
                fields[name] = int(value)
            elif "string" in types:
                fields[name] = str(value)
        return fields

    def _upsert(
        self,
        call: Call,
        op: SpecOperation,
        scope: Any,
        existing: dict[str, Any],
        body: dict[str, Any],
        upsert: Upsert | None,
    ) -> Any:
        """update_or_create's update: the defaults' fields from the body, else the model's default."""
        properties = self.spec.resolve(self.tables.models.get(op.table, {})).get("properties", {})
        changed = dict(existing)
        for name in upsert.defaults if upsert else ():
            if name in body:
                changed[name] = body[name]
            elif "default" in self.spec.resolve(properties.get(name, {})):
                changed[name] = self.spec.resolve(properties[name])["default"]
        self._stamp(call, op, changed)
        self._table(scope, op).put(existing[self.tables.key_field(op.table)], changed)
        return self.view(scope, op, changed, op.response_schema)

    def _stamp(self, call: Call, op: SpecOperation, record: dict[str, Any]) -> None:
        """An update's times: ``updated_at`` where the model has it, and the row's auto_now fields."""
        auto_now = self._viewset(op).auto_now
        for name in ("updated_at", *auto_now):
            if name in record or name in auto_now:
                record[name] = call.timestamp()

    def _body(self, op: SpecOperation, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
        """The fields a create or an update stores, as the table's serializer makes them where
        it rewrites what was sent (``BODY_RULES``)."""
        taken = self._writable(op, body)
        rule = BODY_RULES.get(op.table)
        return rule(taken, stored) if rule is not None else taken

    def _writable(self, op: SpecOperation, body: Any) -> dict[str, Any]:
        """The body's fields that the model stores (checked against the body schema already)."""
        if not isinstance(body, dict):
            return {}
        model = self.spec.resolve(self.tables.models.get(op.table, {}))
        properties = model.get("properties", {})
        if not properties:
            return {}
        taken = {k: v for k, v in body.items() if k in properties and not properties[k].get("readOnly")}
        return self._without_write_only(taken, model)

    def _without_write_only(self, value: Any, schema: Any, depth: int = 0) -> Any:
        """``value`` without the write-only fields its schema has at any depth: what a client
        sends there is taken, never shown (the generic engine acts on none of them)."""
        schema = self.spec.resolve(schema)
        if depth > 16 or not isinstance(schema, dict):
            return value
        if isinstance(value, list):
            items = schema.get("items") or self._branch(schema, "items").get("items")
            return [self._without_write_only(item, items, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        properties = self._declared(schema)
        if not properties:
            return value
        return {
            name: self._without_write_only(item, properties[name], depth + 1) if name in properties else item
            for name, item in value.items()
            if not (isinstance(properties.get(name), dict) and properties[name].get("writeOnly"))
        }

    def _merged(self, stored: Any, sent: Any, schema: Any, depth: int = 0) -> Any:
        """What the server holds after a client sends ``sent`` over ``stored``: a nested object
        the schema declares keeps the fields the server made for it (a nested serializer's id,
        created_at, created_by: the client never sends them), the client's values over them."""
        properties = self._declared(schema) if depth <= 16 else {}
        if not isinstance(sent, dict) or not properties:
            return sent
        if not isinstance(stored, dict):
            made = self.make(self._branch(schema, "properties"), f"nested:{depth}:{sorted(sent)}")
            stored = made if isinstance(made, dict) else {}
        merged = dict(stored)
        for name, value in sent.items():
            merged[name] = self._merged(stored.get(name), value, properties.get(name), depth + 1)
        return merged

    def _declared(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """The properties an object schema declares, its allOf, anyOf and oneOf branches' too."""
        schema = self.spec.resolve(schema)
        if not isinstance(schema, dict) or depth > 8:
            return {}
        properties = dict(schema.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(key, ()):
                resolved = self.spec.resolve(branch)
                if isinstance(resolved, dict):
                    properties.update(self._declared(resolved, depth + 1))
        return properties

    def _branch(self, schema: Any, key: str, depth: int = 0) -> dict[str, Any]:
        """The schema itself, or the first of its allOf, anyOf, oneOf branches, that has ``key``."""
        schema = self.spec.resolve(schema)
        if not isinstance(schema, dict) or key in schema or depth > 8:
            return schema if isinstance(schema, dict) else {}
        for combinator in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(combinator, ()):
                found = self._branch(branch, key, depth + 1)
                if key in found:
                    return found
        return {}

    def _update(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        record = self._get(call, op, scope)
        viewset = self._viewset(op)
        body = _without_blanks(viewset, self._body(op, call.body, record))
        if viewset.unique:
            check_unique(
                viewset, body, record, self._visible(call, op, scope), self.tables.key_field(op.table)
            )
        model = self.tables.models.get(op.table) or op.response_schema or {}
        changed = self._merged({**self.view(scope, op, record), **record}, body, model)
        self._stamp(call, op, changed)
        key = record[self.tables.key_field(op.table)]
        self._table(scope, op).put(key, changed)
        return self.view(scope, op, changed, op.response_schema)

    _partial_update = _update

    def _destroy(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        record = self._get(call, op, scope)
        key = record[self.tables.key_field(op.table)]
        store = self.backend.store
        delete_related(self._viewset(op), key, lambda name: store.table(scope, name), self.tables.key_field)
        self._table(scope, op).delete(key)
        return None

    # -- custom actions ------------------------------------------------------------------------
    def _action(self, call: Call, op: SpecOperation, scope: Any) -> Any:
        """No hand-written behaviour: the record itself where the action answers with the model,
        else a deterministic body built from the response schema. Nothing is changed."""
        record = self._get(call, op, scope) if op.lookup else None
        schema = op.response_schema
        if schema is None:
            return None
        if record is not None and schema == self.tables.models.get(op.table):
            return self.view(scope, op, record)
        key = record.get(self.tables.key_field(op.table)) if record is not None else None
        body = self.make(schema, f"action:{op.operation_id}:{scope}:{key}", scope)
        if isinstance(body, dict) and "results" in body and isinstance(body["results"], list):
            if "count" in body:
                body["count"] = len(body["results"])
            for link in ("next", "previous"):
                if link in body:
                    body[link] = None
        return body


def seed_rows(engine: GenericEngine, scope: Any, table: str, profile: dict[str, Any]) -> dict[Any, Any]:
    """The records a generic table starts with: ``count`` per table (fixtures' ``generic``), built
    from the model schema, children spread over their parents' records."""
    tables = engine.tables
    model = tables.models.get(table)
    if model is None:
        return {}
    settings = profile.get("generic", {})
    count = settings.get("counts", {}).get(table, settings.get("count", DEFAULT_COUNT))
    key_field = tables.key_field(table)
    integer_ids = tables.integer_keys(table)
    parents = tables.parents.get(table, ())
    parent_keys: list[Any] = [None]
    if parents:
        parent_keys = _parent_choices(engine, scope, parents)
    rows: dict[Any, Any] = {}
    for index in range(count):
        record = engine.make(model, f"seed:{scope}:{table}:{index}", scope)
        if not isinstance(record, dict):
            continue
        if integer_ids:
            record[key_field] = index + 1
        if "deleted" in record:
            record["deleted"] = False
        if parents:
            parent = record["_parent"] = parent_keys[index % len(parent_keys)]
            if parent is not None:
                record.update(engine.parent_fields(model, parent))
        rows[record[key_field]] = record
    return rows


def _parent_choices(engine: GenericEngine, scope: Any, parents: tuple[tuple[str, str], ...]) -> list[Any]:
    """Parent keys that exist, for nested records: each parent table's first records."""
    name, table = parents[-1]
    if table not in engine.tables.models:
        return [None]  # a parent mockhog holds no records of: the children hang under any
    seeded, _ = engine.backend.store.snapshot.seed_table(scope, table)  # never the live rows
    field = engine.tables.reference_field(table, name)
    keys = [row.get(field) for row in seeded.values() if not row.get("_deleted")]
    return [{name: key} for key in keys[:3] if key is not None] or [None]


# what Django's UUIDField takes (a hex UUID, with or without dashes)
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def _schema_name(schema: Any) -> str:
    return schema.get("$ref", "inline").rsplit("/", 1)[-1] if isinstance(schema, dict) else "inline"


def _under(record: dict[str, Any], parents: dict[str, Any]) -> bool:
    """Whether a nested record hangs under the path's parent (``None``: under any, for parents
    mockhog has no records of)."""
    stored = record.get("_parent")
    return stored is None or all(str(stored.get(k)) == str(v) for k, v in parents.items())


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:  # Postgres: NULLS LAST ascending, NULLS FIRST descending
        return (3, "")
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _matches(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return str(stored).lower() == str(wanted).lower()
    return str(stored) == str(wanted)
