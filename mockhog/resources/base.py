"""Generic resource rules: list, create, retrieve, update, partial_update and destroy on the store.

A resource module subclasses :class:`Resource` and overrides only what PostHog does differently.
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
from ..indexes import LIST_FILTERS
from ..keys import ApiKey
from ..pagination import DEFAULT_LIMIT, PageUrl, cursor_page, limit_offset_page
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


class Resource:
    """Generic CRUD over one store table, ordered and paginated like a DRF ModelViewSet."""

    table_name: str | None = None
    key_field = "id"
    # The tables ``seed`` reads, and the ones it fills besides its own: seeding is lazy per
    # table (mockhog.seed), and a generator touching an undeclared table is an error.
    seed_reads: tuple[str, ...] = ()
    seed_writes: tuple[str, ...] = ()
    # (field, descending): PostHog's default queryset ordering for most viewsets.
    ordering: tuple[str, bool] = ("created_at", True)
    soft_delete = False
    not_found_detail = "Not found."
    # True where ``order`` reads the query (``?order_by=``): its result cannot be kept.
    query_ordering = False
    # The page size of a limit/offset list without ?limit= (a viewset's own pagination class may differ).
    default_limit = DEFAULT_LIMIT

    def __init__(self, spec: ResourceSpec, backend: Backend) -> None:
        self.spec = spec
        self.backend = backend
        self.table_name = self.table_name or spec.name
        schemas = backend.contract.schemas
        self.defaults = schemas.defaults(f"{spec.schema}.json", spec.model)
        self.fields = schemas.field_order(f"{spec.schema}.json", spec.model)
        self.list_filters = LIST_FILTERS.get(self.table_name, {})

    @property
    def profile(self) -> dict[str, Any]:
        """The seeded world's profile (fixtures/'s, with the Backend's overrides): resources read
        it from the backend they serve, never from the profile file."""
        return self.backend.profile

    # -- lookups ---------------------------------------------------------------------------
    def table(self, call: Call) -> Table:
        return call.table(self.table_name)

    def rows(self, call: Call) -> list[Record]:
        """Every row a list may show: soft-deleted rows are gone for clients."""
        return [row for row in self.table(call).values() if not row.get("_deleted")]

    def get(self, call: Call, key: Any = None) -> Record:
        key = call.params.get("id") if key is None else key
        record = self.table(call).get(key)
        if record is None or record.get("_deleted"):
            raise errors.not_found(self.not_found_detail)
        return record

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
        """Apply the list's query filters; generic resources have none."""
        return rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        name, descending = self.ordering
        return sorted(rows, key=lambda row: (row.get(name) or "", row[self.key_field]), reverse=descending)

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        """The public fields, in the model's field order (DRF serializers keep declaration order)."""
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
        return public(record)

    # -- writes ------------------------------------------------------------------------------
    def new_key(self, call: Call) -> Any:
        if self.spec.lookup == "integer":
            return self.table(call).allocate_id()
        return call.new_uuid()

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        """A new record from a validated create body: schema defaults, then the body, then ids."""
        record = {**self.defaults, **data}
        record[self.key_field] = self.new_key(call)
        record.setdefault("created_at", call.timestamp())
        return record

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """The record after a validated update body (PUT and PATCH alike: DRF keeps the rest)."""
        return {**record, **data}

    def save(self, call: Call, record: Record) -> Record:
        self.table(call).put(record[self.key_field], record)
        return record

    # -- generic actions ---------------------------------------------------------------------
    def list(self, call: Call) -> Any:
        rows = self.filter(call, self.listed(call))
        if self.spec.pagination == "cursor":
            name, _ = self.ordering
            page = cursor_page(rows, lambda row: row.get(name) or "", call.query, call.url)
        else:
            page = limit_offset_page(rows, call.query, call.url, self.default_limit)
        page["results"] = [self.serialize(call, row) for row in page["results"]]
        return page

    def retrieve(self, call: Call) -> Any:
        return self.serialize(call, self.get(call))

    def create(self, call: Call) -> Any:
        return self.serialize(call, self.save(call, self.build(call, call.body)))

    def update(self, call: Call) -> Any:
        return self.serialize(call, self.save(call, self.change(call, self.get(call), call.body)))

    def partial_update(self, call: Call) -> Any:
        return self.update(call)

    def destroy(self, call: Call) -> Any:
        record = self.get(call)
        if self.soft_delete:
            self.save(call, {**record, "_deleted": True})
        else:
            self.table(call).delete(record[self.key_field])
        return None
