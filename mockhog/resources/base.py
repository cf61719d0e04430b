"""The verified tier's viewset interpreter: DRF's standard actions (list, create, retrieve, update,
partial_update, destroy) on the store, as the viewset's row in ``mockhog/spec/viewsets.toml`` says.

The row holds what differs from DRF's defaults in DRF's terms (ordering, page size, soft delete,
filterset and search fields, alternate lookups, owner scoping, unique constraints,
create-as-upsert, auto_now fields: see
:mod:`mockhog.spec.viewsets`); :class:`Resource` reads it, so a family whose viewset is DRF's
defaults plus such facts needs no code. A resource module subclasses :class:`Resource` only for
what PostHog does that no row can say: its serializer (``serialize``, ``build``, ``change``: the
fields it computes and its ``validate``), its queryset's own filters (``filter``, ``order``), its
seed data, and its quirks, methods registered by operationId with :func:`quirk` (checked when the
app loads: :mod:`mockhog.handlers`).

Nothing here knows about Flask: an operation arrives as a :class:`Call` and leaves as a value
(or a :class:`Reply` when the status, headers or content type are its own).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .. import errors
from ..catalog import Operation, ResourceSpec
from ..handlers import quirk  # noqa: F401 - re-exported: resource modules register quirks with it
from ..indexes import LIST_FILTERS
from ..keys import ApiKey
from ..pagination import DEFAULT_LIMIT, PageUrl, cursor_page, limit_offset_page
from ..spec.viewsets import (
    SOFT_DELETES,
    VIEWSETS,
    Viewset,
    check_unique,
    delete_related,
    filtered,
    order_rows,
    owned_by,
    search_needle,
    searched,
    trigram_search,
    upsert_match,
)
from ..store import Record, Store, Table
from ..times import iso, parse_time  # noqa: F401 - parse_time re-exported: resources import both from here

if TYPE_CHECKING:
    from ..backend import Backend
    from ..seed import SeedContext


@dataclass
class Call:
    """One request as the resource rules see it."""

    backend: Backend
    op: Operation
    project_id: int | None  # None for operations outside a project
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    url_source: Callable[[], PageUrl]
    query_lists: dict[str, list[str]] = field(default_factory=dict)
    key: ApiKey | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    header_source: Callable[[str], str | None] = lambda name: None
    search_matches: dict[Any, bool] = field(default_factory=dict)  # row key -> matched exactly

    def header(self, name: str) -> str:
        """A request header, "" when absent (rules that read the transport, e.g. the User-Agent)."""
        return self.header_source(name) or ""

    @cached_property
    def url(self) -> PageUrl:
        """The request's absolute URL, for pagination links."""
        return self.url_source()

    @property
    def store(self) -> Store:
        return self.backend.store

    @property
    def user(self) -> dict[str, Any]:
        return self.backend.user

    @property
    def rng(self) -> random.Random:
        return self.backend.rng

    def table(self, name: str) -> Table:
        assert self.project_id is not None, "a root operation has no project tables"
        return self.store.table(self.project_id, name)

    def new_uuid(self) -> str:
        """A fresh UUID from the backend's seeded generator: a replayed session gets the same ids."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self) -> str:
        return iso(self.now)


@dataclass
class Reply:
    """A response whose status, headers or content type differ from the catalog's defaults."""

    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def public(record: Record) -> dict[str, Any]:
    """A stored record without its private (``_``-prefixed) bookkeeping fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


# DRF's Allow header lists the detail route's methods in its http_method_names order.
DETAIL_ALLOW = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
FORBID_DESTROY, ON_DESTROY = SOFT_DELETES  # a row's soft_delete (mockhog.spec.viewsets)


def forbid_destroy(headers: dict[str, str] | None = None) -> Reply:
    """ForbidDestroyModel's DELETE (posthog/api/forbid_destroy_model.py): ``Response(status=405)``
    from the view method, so after DRF's permission checks and before any lookup (an unknown id gets
    it too); no data renders no body and no Content-Type, and finalize_response adds the view's
    ``Allow`` (the detail route's methods, DELETE among them)."""
    return Reply(body=None, status=405, headers={"Allow": DETAIL_ALLOW, **(headers or {})})


def _flagged(record: Record, deleted: bool) -> Record:
    """The record with ``_deleted`` set, or without it (as the file system's undo leaves it)."""
    rest = {k: v for k, v in record.items() if k != "_deleted"}
    return {**rest, "_deleted": True} if deleted else rest


class Resource:
    """DRF's ModelViewSet over one store table, as the viewset's row in ``viewsets.toml`` says."""

    table_name: str | None = None
    key_field = "id"
    # The tables ``seed`` reads, and the ones it fills besides its own: seeding is lazy per
    # table (mockhog.seed), and a generator touching an undeclared table is an error.
    seed_reads: tuple[str, ...] = ()
    seed_writes: tuple[str, ...] = ()
    not_found_detail = "Not found."
    # A ForbidDestroyModel row's soft deletion is a private ``_deleted`` flag that serializing shows
    # as ``deleted``; a resource whose own rules read the model's ``deleted`` field keeps it there.
    deleted_is_private = True
    # True where ``order`` reads the query (``?order_by=``): its result cannot be kept.
    query_ordering = False

    def __init__(self, spec: ResourceSpec, backend: Backend) -> None:
        self.spec = spec
        self.backend = backend
        self.table_name = self.table_name or spec.name
        schemas = backend.contract.schemas
        self.defaults = schemas.defaults(f"{spec.schema}.json", spec.model)
        self.fields = schemas.field_order(f"{spec.schema}.json", spec.model)
        self.list_filters = LIST_FILTERS.get(self.table_name, {})
        self.viewset: Viewset = VIEWSETS.get(self.table_name) or Viewset()
        # The queryset's order; the key breaks ties in the last field's direction.
        ordering = self.viewset.ordering or ("-created_at",)
        tiebreak = f"-{self.key_field}" if ordering[-1].startswith("-") else self.key_field
        self.ordering = (*ordering, tiebreak)
        # The page size of a limit/offset list without ?limit= (the viewset's pagination class).
        self.default_limit = self.viewset.page_size or DEFAULT_LIMIT
        self.forbids_destroy = self.viewset.soft_delete == FORBID_DESTROY
        self.private_deleted = self.forbids_destroy and self.deleted_is_private

    def required_scopes(self, op: Operation, body: Any) -> tuple[str, ...] | None:
        """PostHog's ``dangerously_get_required_scopes``: the scopes a write needs where they depend
        on what it sends (asked before the body is validated, as DRF's permissions are); None keeps
        the operation's own."""
        return None

    @property
    def profile(self) -> dict[str, Any]:
        """The seeded world's profile (fixtures/'s, with the Backend's overrides): resources read
        it from the backend they serve, never from the profile file."""
        return self.backend.profile

    # -- lookups ---------------------------------------------------------------------------
    def table(self, call: Call) -> Table:
        return call.table(self.table_name)

    def rows(self, call: Call) -> list[Record]:
        """Every row a list may show: soft-deleted rows are gone for clients, and an owned
        viewset's queryset is the requesting user's rows."""
        owner = self.viewset.owner
        if owner is not None:
            user = call.user["id"]
            return [
                row
                for row in self.table(call).values()
                if not row.get("_deleted") and owned_by(row, owner, user)
            ]
        return [row for row in self.table(call).values() if not row.get("_deleted")]

    def get(self, call: Call, key: Any = None) -> Record:
        """The detail route's row: by the key, else by the row's ``lookup_alternates``; a
        soft-deleted row only where the row's queryset keeps it (``retrieve_deleted``, or
        ``restore_deleted`` for the PATCH that restores it)."""
        key = call.params.get("id") if key is None else key
        record = self.table(call).get(key)
        deleted_shown = self.viewset.retrieve_deleted or self._restoring(call)
        if record is None and self.viewset.lookup_alternates:
            record = self._alternate(call, key, deleted_shown)
        if record is None or (record.get("_deleted") and not deleted_shown):
            raise errors.not_found(self.not_found_detail)
        owner = self.viewset.owner
        if owner is not None and not owned_by(record, owner, call.user["id"]):
            raise errors.not_found(self.not_found_detail)
        return record

    def _alternate(self, call: Call, key: Any, deleted_shown: bool) -> Record | None:
        """The row a lookup value that is not a key names: an all-digit value is the integer key
        (Django's pk lookup), else the first alternate field holding it (found through its index
        where the table declares one; soft-deleted rows, which no index holds, by a scan where the
        queryset shows them)."""
        table = self.table(call)
        raw = str(key)
        if raw.isascii() and raw.isdigit():
            found = table.get(int(raw))
            if found is not None:
                return found
        for name in self.viewset.lookup_alternates:
            try:
                found = table.find(name, raw)
            except KeyError:  # no index on the field: what a scan finds
                found = next((row for row in table.values() if row.get(name) == raw), None)
            if found is None and deleted_shown:
                found = next((r for r in table.values() if r.get("_deleted") and r.get(name) == raw), None)
            if found is not None:
                return found
        return None

    def _restoring(self, call: Call) -> bool:
        """Whether this is the PATCH ``{"deleted": false}`` a restore_deleted row's queryset
        lets find a deleted row."""
        if not self.viewset.restore_deleted or call.op.action != "partial_update":
            return False
        return isinstance(call.body, dict) and call.body.get("deleted") is False

    def ordered(self, call: Call) -> list[Record]:
        """The visible rows in list order; kept until the table changes, as lists are read far
        more often than written (a 100k-row sort per request would dominate)."""
        if self.query_ordering:
            return self.order(call, self.rows(call))
        derived = self.table(call).derived
        if "ordered" not in derived:
            derived["ordered"] = self.order(call, self.rows(call))
        return derived["ordered"]

    def listed(self, call: Call) -> list[Record]:
        """The rows a list filters, in list order: those the narrowest indexed filter of the query
        leaves (``filter`` still applies every filter to them), else every visible row."""
        narrowest = None
        table = self.table(call)
        for params, index in self.list_filters.items():
            names = (params,) if isinstance(params, str) else params
            values = tuple(call.query.get(name) for name in names)
            if any(value is None or value == "" for value in values):
                continue  # a filter that is absent or blank filters nothing
            value = values[0] if len(values) == 1 else values
            size = table.count(index, value)
            if narrowest is None or size < narrowest[0]:
                narrowest = (size, index, value)
        # A kept order beats sorting a large part of the table again.
        if narrowest is None or (not self.query_ordering and narrowest[0] * 8 > len(table)):
            return self.ordered(call)
        return self.order(call, table.lookup(narrowest[1], narrowest[2]))

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        """The list's query filters the row names: ``filters`` (filterset_fields, equality) and
        ``search_fields`` (``?search=``). A class with its queryset's own filters adds them and
        calls this one where its search ran."""
        rows = filtered(self.viewset, call.query, rows)
        needle = search_needle(self.viewset, call.query) if self.viewset.search_fields else ""
        if not needle:
            return rows
        if self.viewset.trigram_tiebreakers:
            found = trigram_search(self.viewset, rows, needle)
        else:
            found = [(row, True) for row in rows if searched(row, self.viewset.search_fields, needle)]
        call.search_matches = {row[self.key_field]: exact for row, exact in found}
        return [row for row, _ in found]

    def search_match_type(self, call: Call, record: Record) -> str | None:
        """How the list's ``?search=`` matched the row (search_match_type_from_instance): "exact",
        "similar" (trigram only), or None when the list was not searched."""
        exact = call.search_matches.get(record.get(self.key_field))
        return None if exact is None else "exact" if exact else "similar"

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        return order_rows(rows, self.ordering)

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        """The public fields, in the model's field order (DRF serializers keep declaration order)."""
        if self.private_deleted:
            record = {**record, "deleted": bool(record.get("_deleted"))}
        ordered = {name: record[name] for name in self.fields if name in record}
        for name, value in record.items():
            if name not in ordered and not name.startswith("_"):
                ordered[name] = value  # a field the model does not declare: the response check names it
        return ordered

    # -- seed data -------------------------------------------------------------------------
    def seed(self, ctx: SeedContext) -> list[Record]:
        """The records this resource starts with in a project; generic resources start empty."""
        return []

    def fixture_view(self, record: Record) -> dict[str, Any]:
        """What a fixture record must look like to its model schema (the serialized form)."""
        if self.private_deleted:
            return {**public(record), "deleted": bool(record.get("_deleted"))}
        return public(record)

    # -- writes ------------------------------------------------------------------------------
    def new_key(self, call: Call) -> Any:
        if self.spec.lookup == "integer":
            return self.table(call).allocate_id()
        return call.new_uuid()

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        """A new record from a validated create body: schema defaults, then the body, then ids
        (and the row's auto_now stamps and owner); a soft-deleting viewset's ``deleted`` is the
        private flag."""
        deleted = False
        if self.private_deleted:
            data = dict(data)
            deleted = bool(data.pop("deleted", False))
        self.check_unique(call, data, None)
        record = {**self.defaults, **data}
        record[self.key_field] = self.new_key(call)
        record.setdefault("created_at", call.timestamp())
        for name in self.viewset.auto_now:
            record[name] = call.timestamp()
        if self.viewset.owner is not None:
            record[self.viewset.owner] = call.user["id"]
        return _flagged(record, deleted) if self.private_deleted else record

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """The record after a validated update body (PUT and PATCH alike: DRF keeps the rest)."""
        deleted = None
        if self.private_deleted and "deleted" in data:
            deleted = bool(data["deleted"])
            data = {k: v for k, v in data.items() if k != "deleted"}
        self.check_unique(call, data, record)
        changed = {**record, **data}
        for name in self.viewset.auto_now:
            changed[name] = call.timestamp()
        return changed if deleted is None else _flagged(changed, deleted)

    def check_unique(self, call: Call, data: dict[str, Any], record: Record | None) -> None:
        """The row's unique constraints among the rows the viewset shows."""
        if self.viewset.unique:
            check_unique(self.viewset, data, record, self.rows(call), self.key_field)

    def _key_of(self, table: str) -> str:
        """The field another table's rows are stored under (its resource's key, else ``id``)."""
        owners = (r for r in self.backend.resources.values() if r.table_name == table)
        return next((r.key_field for r in owners), "id")

    def save(self, call: Call, record: Record) -> Record:
        self.table(call).put(record[self.key_field], record)
        return record

    # -- standard actions ----------------------------------------------------------------------
    def list(self, call: Call) -> Any:
        rows = self.filter(call, self.listed(call))
        if self.spec.pagination == "cursor":
            name = self.ordering[0].lstrip("-")
            page = cursor_page(rows, lambda row: row.get(name) or "", call.query, call.url)
        else:
            page = limit_offset_page(rows, call.query, call.url, self.default_limit)
        page["results"] = [self.serialize(call, row) for row in page["results"]]
        return page

    def retrieve(self, call: Call) -> Any:
        return self.serialize(call, self.get(call))

    def create(self, call: Call) -> Any:
        upsert = self.viewset.upsert
        existing = upsert_match(self.viewset, call.body, self.rows(call)) if upsert else None
        if upsert and existing is not None:  # update_or_create: the match takes the defaults' values
            wanted = {**self.defaults, **call.body}
            changed = {**existing, **{name: wanted.get(name) for name in upsert.defaults}}
            for name in self.viewset.auto_now:
                changed[name] = call.timestamp()
            return self.serialize(call, self.save(call, changed))
        return self.serialize(call, self.save(call, self.build(call, call.body)))

    def update(self, call: Call) -> Any:
        return self.serialize(call, self.save(call, self.change(call, self.get(call), call.body)))

    def partial_update(self, call: Call) -> Any:
        return self.update(call)

    def destroy(self, call: Call) -> Any:
        if self.forbids_destroy:
            return forbid_destroy()
        record = self.get(call)
        delete_related(self.viewset, record[self.key_field], call.table, self._key_of)
        if self.viewset.soft_delete == ON_DESTROY:
            self.save(call, {**record, "_deleted": True})
        else:
            self.table(call).delete(record[self.key_field])
        return None
