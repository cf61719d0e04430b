"""Events: PostHog's EventViewSet (posthog/api/event.py), list and retrieve, verified tier.

The list is not a DRF page: ``{"next", "results"}`` only. ``next`` is the request URL without its
``after``/``before`` plus ``before=<the page's last timestamp>`` (``after=`` when ``orderBy`` is
ascending), set when more events follow. Filters: ``event``, ``distinct_id``, ``person_id`` (any
distinct id of that person), ``after``/``before`` (strict), ``properties`` (event or person property
filters, PostHog's operators). Each event names its person: ``is_identified``, the first distinct id
and only the ``email``/``name``/``username`` properties.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .. import errors
from ..ingestion import person_of
from ..store import Record
from .base import Call, Resource, iso, quirk
from .persons import matches
from .product import json_properties

DEFAULT_LIMIT = 100
PERSON_SUMMARY = ("email", "name", "username")
SEED_PROPERTIES = ("$browser", "$os", "$geoip_country_code")


class Events(Resource):
    query_ordering = True

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        ascending = _ascending(call.query.get("orderBy"))
        return sorted(rows, key=lambda row: (row["timestamp"], row["id"]), reverse=not ascending)

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        horizon = iso(call.now + timedelta(seconds=5))  # "don't allow events too far into the future"
        rows = [row for row in rows if row["timestamp"] <= horizon]
        if query.get("event"):
            rows = [row for row in rows if row["event"] == query["event"]]
        if query.get("distinct_id"):
            rows = [row for row in rows if row["distinct_id"] == query["distinct_id"]]
        if query.get("person_id"):
            person = self.person_by_id(call, query["person_id"])
            ids = set(person.get("distinct_ids") or []) if person else set()
            rows = [row for row in rows if row["distinct_id"] in ids]
        if query.get("after"):
            after = _moment(query["after"], "after")
            rows = [row for row in rows if _moment(row["timestamp"]) > after]
        if query.get("before"):
            before = _moment(query["before"], "before")
            rows = [row for row in rows if _moment(row["timestamp"]) < before]
        for item in _property_filters(query.get("properties")):
            if item.get("type") == "person":
                rows = [row for row in rows if matches(self.person_properties(call, row), item)]
            else:
                rows = [row for row in rows if matches(row.get("properties") or {}, item)]
        return rows

    def person_by_id(self, call: Call, raw: str) -> Record | None:
        table = call.table("persons")
        if raw.isdigit():
            return table.get(int(raw))
        return next((p for p in table.values() if p.get("uuid") == raw), None)

    def person_of(self, call: Call, distinct_id: str) -> Record | None:
        return person_of(call.table("persons"), distinct_id)

    def person_properties(self, call: Call, row: Record) -> dict[str, Any]:
        person = self.person_of(call, row["distinct_id"])
        return (person or {}).get("properties") or {}

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        person = self.person_of(call, record["distinct_id"])
        summary = None
        if person is not None:
            properties = person.get("properties") or {}
            ids = person.get("distinct_ids") or []
            # captured persons know; a seeded one is identified when it has a non-anonymous id
            identified = person.get("_is_identified", any(not _looks_anonymous(did) for did in ids))
            summary = {
                "is_identified": bool(identified),
                "distinct_ids": (person.get("distinct_ids") or [])[:1],
                "properties": {key: properties[key] for key in PERSON_SUMMARY if key in properties},
            }
        return {
            "id": record["id"],
            "distinct_id": record["distinct_id"],
            "properties": record.get("properties") or {},
            "event": record["event"],
            "timestamp": record["timestamp"],
            "person": summary,
            "elements": record.get("elements") or [],
            "elements_chain": record.get("elements_chain") or "",
        }

    @quirk("events_list")
    def list(self, call: Call) -> Any:
        rows = self.filter(call, self.ordered(call))
        limit = call.query.get("limit") or DEFAULT_LIMIT
        page = rows[:limit]
        next_url = None
        if len(rows) > limit:
            params = {k: v[-1] for k, v in call.query_lists.items() if k not in ("after", "before")}
            edge = "after" if _ascending(call.query.get("orderBy")) else "before"
            query = urlencode(params)
            next_url = f"{call.url.base}?{query}{'&' if query else ''}{edge}={page[-1]['timestamp']}"
        return {"next": next_url, "results": [self.serialize(call, row) for row in page]}

    @quirk("events_retrieve")
    def retrieve(self, call: Call) -> Any:
        raw = str(call.params["id"])
        try:
            key = str(uuid.UUID(raw))
        except ValueError:
            # the view builds this body by hand: no attr, DRF's own "invalid" code
            raise errors.BareError(
                400, {"detail": "Invalid UUID", "code": "invalid", "type": "validation_error"}
            ) from None
        record = self.table(call).get(key)
        if record is None:
            raise errors.not_found(f"No events exist for event UUID {raw}")
        return self.serialize(call, record)

    # -- seed data ---------------------------------------------------------------------------
    seed_reads = ("persons",)

    def seed(self, ctx: Any) -> list[Record]:
        """A few events for the first persons: pageviews and the profile's custom events."""
        persons = list(ctx.tables.get("persons", {}).values())[
            : ctx.profile.get("events", {}).get("persons", 60)
        ]
        custom = ctx.profile["events"]["custom"]
        records = []
        for person in persons:
            for _ in range(ctx.rng.randint(2, 6)):
                name = "$pageview" if ctx.rng.random() < 0.5 else ctx.rng.choice(custom)
                properties = {
                    key: person["properties"][key] for key in SEED_PROPERTIES if key in person["properties"]
                }
                if name == "$pageview":
                    properties["$current_url"] = "https://hedgebox.net" + ctx.rng.choice(
                        ctx.profile["events"]["pages"]
                    )
                properties["$lib"] = "web"
                record_id = ctx.uuid()
                records.append(
                    {
                        "id": record_id,
                        "distinct_id": ctx.rng.choice(person["distinct_ids"]),
                        "properties": properties,
                        "event": name,
                        "timestamp": ctx.moment(30),
                        "person_id": person["id"],
                        "elements": [],
                        "elements_chain": "",
                    }
                )
        return records


def _looks_anonymous(distinct_id: str) -> bool:
    return len(distinct_id) == 36 and distinct_id.count("-") == 4


def _ascending(raw: str | None) -> bool:
    if not raw:
        return False
    try:
        order = json.loads(raw)
    except ValueError:
        order = None
    if not isinstance(order, list) or not all(isinstance(field, str) for field in order):
        # PostHog's list(json.loads(...)) answers 500 for what is no JSON list of fields
        raise errors.validation_error("orderBy must be a JSON list", "orderBy")
    return bool(order) and order[0] == "timestamp"


def _moment(value: str, name: str | None = None) -> datetime:
    try:
        # a "+01:00" offset in a query string arrives as " 01:00"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        if name is None:
            return datetime.min.replace(tzinfo=UTC)
        relative = value.lstrip("-")
        if relative[:-1].isdigit() and relative[-1:] in ("d", "h", "w"):
            unit = {"d": 1, "h": 1 / 24, "w": 7}[relative[-1]]
            try:
                return datetime.now(UTC) - timedelta(days=int(relative[:-1]) * unit)
            except OverflowError:
                pass  # further back than any date: invalid, like any other value it cannot read
        raise errors.validation_error(f"Invalid date value for {name}: {value}", name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _property_filters(raw: str | None) -> list[dict[str, Any]]:
    return _flat_filters(json_properties(raw))


def _flat_filters(loaded: Any) -> list[dict[str, Any]]:
    """The property filters of a list or a property group, nested groups flattened."""
    if isinstance(loaded, dict):
        loaded = loaded.get("values") or []
    flat: list[dict[str, Any]] = []
    for item in loaded if isinstance(loaded, list) else []:
        if isinstance(item, dict) and isinstance(item.get("values"), list) and "key" not in item:
            flat.extend(_flat_filters(item))
        elif isinstance(item, dict) and "key" in item:
            flat.append(item)
    return flat
