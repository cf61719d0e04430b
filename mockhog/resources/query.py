"""The query API: ``POST /query/`` with a ``HogQLQuery`` or an ``EventsQuery``, run over the store.

PostHog's QueryViewSet.create (posthog/api/query.py) hands the query to its kind's runner and
answers the runner's cached model with 200; a HogQL error (``ExposedHogQLError``) is a 400
``ValidationError`` with the error's text. mockhog runs the HogQL subset of :mod:`mockhog.hogql`
over the project's events (those seeded and those captured) and persons: a ``HogQLQuery`` as
written, an ``EventsQuery`` as its runner builds it (:mod:`mockhog.resources.events_query`); the
answers carry the Cached...Response fields, computed now and never cached.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from .. import errors, hogql
from ..ingestion import person_of
from ..store import Record
from . import events_query
from .base import Call, Resource, iso, quirk

# A fresh result may be asked for again after this long (BLOCKING_QUERY_REFRESH_INTERVAL's order).
NEXT_REFRESH = timedelta(minutes=1)


class Query(Resource):
    # It stores nothing; "query" is the generic tier's table of query statuses (GET query/{id}/).
    table_name = "hogql_runs"

    @quirk("query_create")
    def run(self, call: Call) -> dict[str, Any]:
        """Run the query; HogQL errors are 400s in PostHog's words, and nothing is stored."""
        query = call.body["query"]
        if query["kind"] == "EventsQuery":
            return self.events(call, query)
        text = query["query"]
        try:
            answer = hogql.run(text, self.sources(call), call.now)
        except hogql.HogQLError as error:
            raise errors.validation_error(str(error)) from None
        own = {"clickhouse": None, "explain": None, "hogql": text, "metadata": None, "query": text}
        return cached(call, query, answer, own)

    def events(self, call: Call, query: dict[str, Any]) -> dict[str, Any]:
        """CachedEventsQueryResponse: EventsQueryResponse's fields and the cache's, in its order."""
        assert call.project_id is not None
        try:
            answer = events_query.run(
                query, self.sources(call), call.now, call.project_id, call.table("persons")
            )
        except hogql.HogQLError as error:
            raise errors.validation_error(str(error)) from None
        own = {
            "hogql": answer["hogql"],
            "nextCursor": answer["nextCursor"],
            "query_metadata": None,
            "resolved_date_range": None,
        }
        return cached(call, query, answer, own)

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


def cache_key(call: Call, query: dict[str, Any]) -> str:
    """A stable key per project and query (PostHog hashes the query and the team's settings)."""
    key = hashlib.sha256(json.dumps([call.project_id, query], sort_keys=True).encode()).hexdigest()
    return f"cache_{key[:32]}"


def cached(call: Call, query: dict[str, Any], answer: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A Cached...QueryResponse: the runner's answer and its kind's ``own`` fields with the cache's
    (computed now, never cached), in the models' field order (alphabetical)."""
    fields = {
        "cache_key": cache_key(call, query),
        "cache_target_age": None,
        "calculation_trigger": None,
        "error": None,
        "is_cached": False,
        "last_refresh": iso(call.now),
        "modifiers": query.get("modifiers") or {},
        "next_allowed_client_refresh": iso(call.now + NEXT_REFRESH),
        "query_status": None,
        "timezone": "UTC",
        "timings": [],
        **{name: answer[name] for name in ("columns", "hasMore", "limit", "offset", "results", "types")},
        **own,
    }
    return {name: fields[name] for name in sorted(fields)}
