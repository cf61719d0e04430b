"""The query API's HogQL: ``POST /query/`` with a ``HogQLQuery``, run over the store (mockhog.hogql).

PostHog's QueryViewSet.create (posthog/api/query.py) hands the query to its runner and answers the
runner's model; a HogQL error (``ExposedHogQLError``) is a 400 ``ValidationError`` with the error's
text. mockhog runs the HogQL subset of :mod:`mockhog.hogql` over the project's events (those seeded
and those captured) and persons, and answers the CachedHogQLQueryResponse fields: computed now,
never cached.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from .. import errors, hogql
from ..ingestion import person_of
from ..store import Record
from .base import Call, Resource, iso, quirk

# A fresh result may be asked for again after this long (BLOCKING_QUERY_REFRESH_INTERVAL's order).
NEXT_REFRESH = timedelta(minutes=1)


class Query(Resource):
    # It stores nothing; "query" is the generic tier's table of query statuses (GET query/{id}/).
    table_name = "hogql_runs"

    @quirk("query_create")
    def run(self, call: Call) -> dict[str, Any]:
        """Run the HogQL query; its errors are 400s in PostHog's words, and nothing is stored."""
        query = call.body["query"]
        text = query["query"]
        try:
            answer = hogql.run(text, self.sources(call), call.now)
        except hogql.HogQLError as error:
            raise errors.validation_error(str(error)) from None
        key = hashlib.sha256(json.dumps([call.project_id, query], sort_keys=True).encode()).hexdigest()
        return {
            "cache_key": f"cache_{key[:32]}",
            "cache_target_age": None,
            "calculation_trigger": None,
            "clickhouse": None,
            "columns": answer["columns"],
            "error": None,
            "explain": None,
            "hasMore": answer["hasMore"],
            "hogql": text,
            "is_cached": False,
            "last_refresh": iso(call.now),
            "limit": answer["limit"],
            "metadata": None,
            "modifiers": query.get("modifiers") or {},
            "next_allowed_client_refresh": iso(call.now + NEXT_REFRESH),
            "offset": answer["offset"],
            "query": text,
            "query_status": None,
            "results": answer["results"],
            "timezone": "UTC",
            "timings": [],
            "types": answer["types"],
        }

    def sources(self, call: Call) -> dict[str, hogql.Source]:
        """The tables a query reads, shaped as HogQL's columns (mockhog.hogql.TABLES)."""
        persons = call.table("persons")

        def person_row(person: Record | None) -> dict[str, Any] | None:
            if person is None:
                return None
            return {
                "id": person.get("uuid"),
                "created_at": person.get("created_at"),
                "properties": person.get("properties") or {},
                "is_identified": bool(person.get("is_identified")),
            }

        def event_row(event: Record) -> dict[str, Any]:
            person = person_of(persons, event["distinct_id"])
            return {
                "uuid": event["id"],
                "event": event["event"],
                "properties": event.get("properties") or {},
                "timestamp": event["timestamp"],
                "distinct_id": event["distinct_id"],
                "elements_chain": event.get("elements_chain") or "",
                "created_at": event["timestamp"],
                "person_id": person.get("uuid") if person else None,
            }

        events = [
            event_row(row) for row in call.table("events").values() if row["timestamp"] <= iso(call.now)
        ]

        def person_of_event(row: dict[str, Any]) -> dict[str, Any] | None:
            return person_row(person_of(persons, row["distinct_id"]))

        return {
            "events": hogql.Source(events, person_of_event),
            "persons": hogql.Source([person_row(p) or {} for p in persons.values()], lambda row: None),
        }
