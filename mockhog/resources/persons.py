"""Persons: PostHog's PersonViewSet (posthog/api/person.py): list and retrieve with its own page
envelope, filters and CSV output; property writes; deletes, splits and batch lookups.

The list is not a DRF page: ``{"results", "next", "previous"}`` plus ``count`` only when
``include_total`` is passed, and its links are the request URL with ``offset`` replaced or appended
(``format_query_params_absolute_url``), so other parameters stay exactly as the client wrote them.

What PostHog does later, in ingestion or a background task, mockhog does at once: a ``$set`` from
an update, a split. What happens in systems mockhog does not have is recorded, not done: an event
deletion is queued (``deletion_status`` lists it, pending), a recording deletion is accepted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import errors
from ..pagination import PageUrl, limit_offset_page, positive_int
from ..store import Record
from .base import Call, Reply, Resource, quirk

DEFAULT_LIMIT = 100
VALUES_LIMIT = 20  # posthog/queries/property_values.py: the most common values only
CSV_EXPORT_LIMIT = 300_000  # posthog.hogql.constants: a CSV list ignores limit/offset up to this
DISPLAY_NAME_PROPERTIES = ("email", "Email", "name", "Name", "username", "Username", "UserName")
ANONYMOUS_ID = re.compile(r"^([a-z0-9]+\-){4}([a-z0-9]+)$")
_OFFSET = re.compile(r"([&?]offset=)(\d+)")
BULK_LIMIT = 1000  # ids or distinct_ids per bulk_delete call
BATCH_LIMIT = 200  # batch_by_distinct_ids / batch_by_uuids look up at most this many
MINIMAL_DISTINCT_IDS = 10  # MinimalPersonSerializer shows this many distinct ids
DELETIONS = "person_deletions"  # AsyncDeletion rows of type Person: queued event deletions
# posthog/models/person/missing_person.py: persons a split makes get UUIDv5s in this namespace
PERSON_UUIDV5_NAMESPACE = uuid.UUID("932979b4-65c3-4424-8467-0b66ec27bc22")
NOT_A_PERSON_ID = (
    "The ID provided does not look like a personID. If you are using a distinctId, "
    "please use /persons?distinct_id={} instead."
)

# -- presentation ------------------------------------------------------------------------------


def is_anonymous_id(distinct_id: str) -> bool:
    """posthog.utils.is_anonymous_id: the SDKs' generated ids look like lowercase UUIDs."""
    return ANONYMOUS_ID.match(distinct_id) is not None


def display_name(record: Record) -> str:
    properties = record.get("properties") or {}
    for name in DISPLAY_NAME_PROPERTIES:
        if properties.get(name):
            return str(properties[name])
    if record.get("distinct_ids"):
        return sorted(record["distinct_ids"], key=is_anonymous_id)[0]
    return str(record.get("id"))


def _properties(record: Record) -> dict[str, Any]:
    return record.get("properties") or {}


def _required(name: str) -> dict[str, Any]:
    """PersonViewSet's own 400 for a missing field: its code and detail are swapped."""
    return {"attr": name, "code": "This field is required.", "detail": "required", "type": "validation_error"}


def present(record: Record) -> dict[str, Any]:
    # .get: a fixture record may miss fields, and the fixture check should name them
    return {
        "id": record.get("id"),
        "name": display_name(record),
        "distinct_ids": sorted(record.get("distinct_ids") or [], key=is_anonymous_id),
        "properties": record.get("properties") or {},
        "created_at": record.get("created_at"),
        "uuid": record.get("uuid"),
        "last_seen_at": record.get("last_seen_at"),
    }


def minimal(record: Record) -> dict[str, Any]:
    """MinimalPersonSerializer: a person with its first ten distinct ids (then sorted as usual)."""
    return present({**record, "distinct_ids": (record.get("distinct_ids") or [])[:MINIMAL_DISTINCT_IDS]})


def split_target_uuid(team_id: int, distinct_id: str, source_uuid: str) -> str:
    """splitTargetUuid: the person a split moves ``distinct_id`` onto, a UUIDv5 of
    ``team:distinct_id``, or of ``team:distinct_id:split`` where that is the source person itself."""
    plain = uuid.uuid5(PERSON_UUIDV5_NAMESPACE, f"{team_id}:{distinct_id}")
    if plain == uuid.UUID(source_uuid):
        return str(uuid.uuid5(PERSON_UUIDV5_NAMESPACE, f"{team_id}:{distinct_id}:split"))
    return str(plain)


def csv_reply(rows: list[dict[str, Any]]) -> Reply:
    """djangorestframework-csv's PaginatedCSVRenderer: flattened columns (``properties.email``,
    ``distinct_ids.0``) sorted by name; nothing at all for an empty list."""
    flat = [_flatten(row) for row in rows]
    header = sorted({column for row in flat for column in row})
    buffer = io.StringIO()
    if flat:
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([row.get(column) for column in header] for row in flat)
    return Reply(body=buffer.getvalue().encode(), content_type="text/csv; charset=utf-8")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def link_with_offset(url: PageUrl, offset: int) -> str:
    """posthog.utils.format_query_params_absolute_url: every ``offset=<digits>`` replaced, else one
    appended; a zero offset leaves the URL untouched (so a first-page ``previous`` is this URL)."""
    current = f"{url.base}?{url.query}" if url.query else url.base
    if not offset:
        return current
    if _OFFSET.search(current):
        return _OFFSET.sub(rf"\g<1>{offset}", current)
    return f"{current}{'&' if '?' in current else '?'}offset={offset}"


# -- property filters --------------------------------------------------------------------------


def parse_property_filters(raw: str | None) -> list[dict[str, Any]]:
    """The person filters of a ``properties`` parameter (a list, or an AND group of filters/groups)."""
    if not raw:
        return []
    try:
        loaded = json.loads(raw)
    except ValueError as exc:
        raise errors.validation_error("Properties are unparsable!") from exc
    if not isinstance(loaded, list | dict) or (
        isinstance(loaded, list) and not all(isinstance(i, dict) for i in loaded)
    ):
        # PostHog iterates the value as a list of filters and fails on anything else
        raise errors.validation_error("Properties are unparsable!")
    filters = [item for item in _leaves(loaded) if item.get("type") == "person" and "key" in item]
    if any(not isinstance(item["key"], str) for item in filters):
        raise errors.validation_error("Properties are unparsable!")
    return filters


def _leaves(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [leaf for item in node for leaf in _leaves(item)]
    if isinstance(node, dict) and isinstance(node.get("values"), list):
        return _leaves(node["values"])
    return [node] if isinstance(node, dict) else []


def _as_text(value: Any) -> str:
    """A property as ClickHouse compares it: the JSON text, strings without their quotes."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def matches(properties: dict[str, Any], item: dict[str, Any]) -> bool:
    """One person property filter, with PostHog's operators (exact when none is given)."""
    key, operator, value = item["key"], item.get("operator") or "exact", item.get("value")
    if operator in ("is_set", "is_not_set"):
        return (key in properties) == (operator == "is_set")
    text = _as_text(properties[key]) if key in properties else ""
    wanted = [_as_text(v) for v in value] if isinstance(value, list) else [_as_text(value)]
    wanted = wanted or [""]
    if operator in ("exact", "in"):
        return key in properties and text in wanted
    if operator in ("is_not", "not_in"):
        return text not in wanted
    if operator in ("icontains", "not_icontains"):
        found = key in properties and wanted[0].lower() in text.lower()
        return found == (operator == "icontains")
    if operator in ("regex", "not_regex"):
        try:
            found = key in properties and re.search(wanted[0], text) is not None
        except re.error:
            return False
        return found == (operator == "regex")
    if operator in ("gt", "gte", "lt", "lte"):
        have, limit = _number(text), _number(wanted[0])
        if have is None or limit is None:
            return False
        return {"gt": have > limit, "gte": have >= limit, "lt": have < limit, "lte": have <= limit}[operator]
    have, limit = _date(text), _date(wanted[0])
    if have is None or limit is None:
        return False
    if operator == "is_date_exact":
        return have.date() == limit.date()
    return have > limit if operator == "is_date_after" else have < limit


# -- the resource ------------------------------------------------------------------------------


class Persons(Resource):
    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        if query.get("distinct_id"):
            rows = [row for row in rows if query["distinct_id"] in (row.get("distinct_ids") or [])]
        if query.get("email"):
            rows = [row for row in rows if _properties(row).get("email") == query["email"]]
        if query.get("search"):
            needle = query["search"]
            lowered = needle.lower()
            rows = [
                row
                for row in rows
                if lowered in str(_properties(row).get("email", "")).lower()
                or needle in (row.get("distinct_ids") or [])
            ]
        for item in parse_property_filters(query.get("properties")):
            rows = [row for row in rows if matches(_properties(row), item)]
        return rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        return sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        return self.views(call, [record])[0]

    def views(self, call: Call, rows: list[Record]) -> list[dict[str, Any]]:
        """Persons change only through fixtures, so each one's view is computed once per table state."""
        cache = self.table(call).derived.setdefault("views", {})
        views = []
        for row in rows:
            view = cache.get(row["id"])
            if view is None:
                view = cache[row["id"]] = present(row)
            views.append(view)
        return views

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return present(record)

    def wants_csv(self, call: Call) -> bool:
        """DRF's ``?format=``: json or csv; a format no renderer has is a 404."""
        wanted = call.query.get("format")
        if wanted not in (None, "json", "csv"):
            raise errors.not_found()
        return wanted == "csv"

    @quirk("persons_list")
    def list(self, call: Call) -> Any:
        as_csv = self.wants_csv(call)
        rows = self.filter(call, self.listed(call))
        if as_csv:
            return csv_reply(self.views(call, rows[:CSV_EXPORT_LIMIT]))
        limit = positive_int(call.query.get("limit"), DEFAULT_LIMIT, strict=True)
        offset = positive_int(call.query.get("offset"), 0)
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {
            "results": self.views(call, page),
            "next": link_with_offset(call.url, offset + limit) if len(page) >= limit else None,
            "previous": link_with_offset(call.url, offset - limit) if offset - limit >= 0 else None,
        }
        if "include_total" in call.query_lists:
            body["count"] = len(rows)
        return body

    def get(self, call: Call, key: Any = None) -> Record:
        """By numeric id or by UUID; anything else is a 400 that points at ``?distinct_id=``."""
        raw = str(call.params["id"] if key is None else key)
        try:
            wanted = str(uuid.UUID(raw))
        except ValueError:
            try:
                number = int(raw)
            except ValueError:
                raise errors.validation_error(NOT_A_PERSON_ID.format(raw)) from None
            found = self.table(call).get(number)
        else:
            found = self.table(call).find("uuid", wanted)
        if found is None:
            raise errors.not_found()
        return found

    @quirk("persons_retrieve")
    def retrieve(self, call: Call) -> Any:
        as_csv = self.wants_csv(call)
        person = present(self.get(call))
        # PaginatedCSVRenderer renders a body's "results": a single person has none, so no rows.
        return csv_reply([]) if as_csv else person

    @quirk("persons_values_retrieve")
    def values(self, call: Call) -> Reply:
        """``persons/values/?key=&value=``: the key's distinct values across persons with how many
        persons hold each, most common first, at most 20, filtered by a case-insensitive substring
        (posthog/api/person.py ``values``, posthog/queries/property_values.py). No key, or a
        ``$virt`` one, is an empty answer; ``distinct_id`` lists distinct ids."""
        key, search = call.query.get("key"), call.query.get("value")
        counts: dict[str, int] = {}
        if key and not str(key).startswith("$virt"):
            for row in self.table(call).values():
                held = row.get("distinct_ids", []) if key == "distinct_id" else [_properties(row).get(key)]
                for value in held:
                    text = "" if value is None else _as_text(value)
                    if text and (not search or str(search).lower() in text.lower()):
                        counts[text] = counts.get(text, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:VALUES_LIMIT]
        body = {"results": [{"name": name, "count": count} for name, count in ranked], "refreshing": False}
        return Reply(body, headers={"Cache-Control": "max-age=10"})

    @quirk("persons_update_property_create")
    def update_property(self, call: Call) -> Reply:
        """PersonViewSet.update_property (posthog/api/person.py): ``value`` then ``key`` must be
        present (PostHog's hand-built 400 swaps code and detail), then the person's properties get a
        ``$set`` of that one key; PostHog captures the ``$set`` event and answers 202 with no body at
        once, and its ingestion applies it shortly after; mockhog applies it at once."""
        body = call.body if isinstance(call.body, dict) else {}
        for name in ("value", "key"):
            if body.get(name) is None:
                raise errors.BareError(400, _required(name))
        self._set(call, self.get(call), {str(body["key"]): body["value"]}, ())
        return Reply(status=202)

    @quirk("persons_delete_property_create")
    def delete_property(self, call: Call) -> Reply:
        """PersonViewSet.delete_property: captures ``$delete_person_property`` with ``$unset`` of the
        named key and answers 201 ``{"success": true}``; the property is removed (at once here)."""
        person = self.get(call)
        body = call.body if isinstance(call.body, dict) else {}
        if "$unset" not in body:
            # PostHog reads request.data["$unset"] and fails with a 500 without it.
            raise errors.validation_error("This field is required.", "$unset", "required")
        self._set(call, person, {}, (str(body["$unset"]),))
        return Reply({"success": True}, status=201)

    def _set(self, call: Call, person: Record, changes: dict[str, Any], removed: Sequence[str]) -> None:
        properties = {k: v for k, v in _properties(person).items() if k not in removed}
        self.table(call).put(person["id"], {**person, "properties": {**properties, **changes}})

    @quirk("persons_update", "persons_partial_update")
    def update(self, call: Call) -> Reply:
        """PersonViewSet.update (PATCH goes through it too): ``properties`` is required (the view's
        own 400, code and detail swapped) and is ``$set`` on the person, other properties stay;
        202 with no body."""
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("properties") is None:
            raise errors.BareError(400, _required("properties"))
        person = self.get(call)
        if isinstance(body["properties"], dict):  # anything else is a $set ingestion ignores
            self._set(call, person, body["properties"], ())
        return Reply(status=202)

    @quirk("persons_destroy")
    def destroy(self, call: Call) -> Reply:
        """PersonViewSet.destroy: the bulk delete of one person, its flags read by presence in the
        query string (``?delete_events`` is on whatever its value); 202 with no body."""
        person = self.get(call)
        flags = {
            name: name in call.query_lists for name in ("delete_events", "delete_recordings", "keep_person")
        }
        self._delete(call, [person], **flags)
        return Reply(status=202)

    @quirk("persons_bulk_delete_create")
    def bulk_delete(self, call: Call) -> Reply:
        """PersonViewSet.bulk_delete (``_bulk_delete_persons``): persons by UUID or by distinct id,
        one kind per call, at most 1000; deleted unless ``keep_person``; event deletions queued; 202
        with the summary. Ids that match nobody are not an error (``persons_found`` says so)."""
        body = call.body if isinstance(call.body, dict) else {}
        ids, distinct_ids = body.get("ids"), body.get("distinct_ids")
        if ids and distinct_ids:
            raise errors.validation_error("You must provide either distinct_ids or ids, not both")
        for name, given in (("distinct_ids", distinct_ids), ("ids", ids)):
            if given and len(given) > BULK_LIMIT:
                raise errors.validation_error(f"You can only pass {BULK_LIMIT} {name} in one call")
        if not ids and not distinct_ids:
            raise errors.validation_error("You need to specify either distinct_ids or ids")
        table = self.table(call)
        if ids:
            found = [table.find("uuid", str(wanted)) for wanted in dict.fromkeys(ids)]
        else:
            found = [table.find("distinct_ids", str(wanted)) for wanted in distinct_ids]
        persons = list({person["id"]: person for person in found if person is not None}.values())
        flags = {name: bool(body.get(name)) for name in ("delete_events", "delete_recordings", "keep_person")}
        deleted = self._delete(call, persons, **flags)
        summary = {
            "persons_found": len(persons),
            "persons_deleted": deleted,
            "events_queued_for_deletion": flags["delete_events"] and bool(persons),
            "recordings_queued_for_deletion": flags["delete_recordings"] and bool(persons),
            "deletion_errors": [],
        }
        return Reply(summary, status=202)

    def _delete(
        self,
        call: Call,
        persons: list[Record],
        delete_events: bool,
        delete_recordings: bool,
        keep_person: bool,
    ) -> int:
        """What ``_bulk_delete_persons`` does to the persons found: how many it deleted."""
        if delete_events:
            self._queue_event_deletions(call, persons)
        # delete_recordings starts a workflow in PostHog's recording store, which mockhog has not.
        if keep_person:
            return 0
        table = self.table(call)
        for person in persons:
            table.delete(person["id"])
        return len(persons)

    def _queue_event_deletions(self, call: Call, persons: list[Record]) -> None:
        """queue_person_event_deletion: one AsyncDeletion per person, never twice (ignore_conflicts)."""
        deletions = call.table(DELETIONS)
        for person in persons:
            if deletions.get(person["uuid"]) is None:
                row = {
                    "person_uuid": person["uuid"],
                    "created_at": call.timestamp(),
                    "delete_verified_at": None,
                }
                deletions.put(person["uuid"], row)

    @quirk("persons_delete_events_create")
    def delete_events(self, call: Call) -> Reply:
        """PersonViewSet.delete_events: queues the deletion of the person's events; 202."""
        self._queue_event_deletions(call, [self.get(call)])
        return Reply(status=202)

    @quirk("persons_delete_recordings_create")
    def delete_recordings(self, call: Call) -> Reply:
        """PersonViewSet.delete_recordings: starts the recording deletion (not kept here); 202."""
        self.get(call)
        return Reply(status=202)

    @quirk("persons_deletion_status_list")
    def deletion_status(self, call: Call) -> dict[str, Any]:
        """PersonViewSet.deletion_status: the queued event deletions, newest first, a DRF
        limit/offset page of 100; ``status`` pending, completed or all, ``person_uuid`` one person.
        mockhog never runs the deletions, so each stays pending."""
        rows = sorted(call.table(DELETIONS).values(), key=lambda row: row["created_at"], reverse=True)
        wanted = call.query.get("status") or "all"
        if wanted != "all":
            rows = [row for row in rows if (row["delete_verified_at"] is None) == (wanted == "pending")]
        if call.query.get("person_uuid"):
            rows = [
                row for row in rows if row["person_uuid"] == str(uuid.UUID(str(call.query["person_uuid"])))
            ]
        views = [
            {**row, "status": "pending" if row["delete_verified_at"] is None else "completed"} for row in rows
        ]
        return limit_offset_page(views, call.query, call.url)

    @quirk("persons_reset_person_distinct_id_create")
    def reset_person_distinct_id(self, call: Call) -> Reply:
        """PersonViewSet.reset_person_distinct_id: a non-empty string ``distinct_id`` (else 400
        "distinct_id is required") with no NUL (DRF's 400; PostHog's Postgres write fails); 202.
        PostHog bumps the deleted person's distinct id version so ingestion takes the id again;
        mockhog frees a deleted person's ids at once, so nothing waits."""
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("distinct_id") or not isinstance(body["distinct_id"], str):
            raise errors.validation_error("distinct_id is required")
        if "\x00" in body["distinct_id"]:
            # PostHog writes the id to Postgres (PersonDistinctId), which cannot store a NUL: a 500
            raise errors.validation_error(
                "Null characters are not allowed.", "distinct_id", "null_characters_not_allowed"
            )
        return Reply(status=202)

    @quirk("persons_split_create")
    def split(self, call: Call) -> Reply:
        """PersonViewSet.split and Person.split_person: ``distinct_ids_to_split`` moves those ids
        off, ``main_distinct_id`` (default: the first id) keeps only that one; each id moved goes to
        a new person of its own with a UUID derived from the team and the id (split_target_uuid),
        no properties; the person keeps its properties. PostHog runs it in a task and answers 201
        ``{"success": true}`` at once; mockhog splits at once."""
        person = self.get(call)
        body = call.body if isinstance(call.body, dict) else {}
        held = list(person.get("distinct_ids") or [])
        main, chosen = body.get("main_distinct_id"), body.get("distinct_ids_to_split")
        if chosen is not None:
            if not isinstance(chosen, list) or not all(isinstance(item, str) for item in chosen):
                raise errors.validation_error("must be a list of strings", "distinct_ids_to_split")
            if not chosen:
                raise errors.validation_error("must not be empty", "distinct_ids_to_split")
            if main is not None:
                raise errors.validation_error(
                    "main_distinct_id cannot be combined with distinct_ids_to_split"
                )
            unknown = sorted(set(chosen) - set(held))
            if unknown:
                raise errors.validation_error(f"not on this person: {unknown!r}", "distinct_ids_to_split")
            moving = [item for item in held if item in chosen]
        else:
            kept = main or (held[0] if held else None)
            moving = [item for item in held if item != kept]
        table = self.table(call)
        if moving:  # off the person first: a distinct id belongs to one person at a time
            table.put(person["id"], {**person, "distinct_ids": [item for item in held if item not in moving]})
        for distinct_id in moving:
            target_uuid = split_target_uuid(call.project_id or 0, distinct_id, person["uuid"])
            target = table.find("uuid", target_uuid)
            if target is None:
                target = {
                    "id": table.allocate_id(),
                    "uuid": target_uuid,
                    "created_at": call.timestamp(),
                    "last_seen_at": None,
                    "properties": {},
                    "distinct_ids": [],
                }
            table.put(target["id"], {**target, "distinct_ids": [*target["distinct_ids"], distinct_id]})
        return Reply({"success": True}, status=201)

    @quirk("persons_batch_by_distinct_ids_create")
    def batch_by_distinct_ids(self, call: Call) -> dict[str, Any]:
        """PersonViewSet.batch_by_distinct_ids: the first 200 ids, each found one mapped to its
        person (MinimalPersonSerializer); no list, or an empty one, is ``{"results": {}}``."""
        body = call.body if isinstance(call.body, dict) else {}
        wanted = body.get("distinct_ids")
        if not isinstance(wanted, list):
            return {"results": {}}
        table, results = self.table(call), {}
        for distinct_id in wanted[:BATCH_LIMIT]:
            person = table.find("distinct_ids", str(distinct_id))
            if person is not None:
                results[str(distinct_id)] = minimal(person)
        return {"results": results}

    @quirk("persons_batch_by_uuids_create")
    def batch_by_uuids(self, call: Call) -> dict[str, Any]:
        """PersonViewSet.batch_by_uuids: the first 200 UUIDs (any not a UUID: 400 "One or more UUIDs
        are invalid."), each found person under its UUID (MinimalPersonSerializer)."""
        body = call.body if isinstance(call.body, dict) else {}
        wanted = body.get("uuids")
        if not isinstance(wanted, list) or not wanted:
            return {"results": {}}
        try:
            uuids = [str(uuid.UUID(str(item))) for item in wanted[:BATCH_LIMIT]]
        except ValueError:
            raise errors.validation_error("One or more UUIDs are invalid.") from None
        table, results = self.table(call), {}
        for value in uuids:
            person = table.find("uuid", value)
            if person is not None:
                results[value] = minimal(person)
        return {"results": results}

    @quirk("persons_cohorts_retrieve")
    def cohorts(self, call: Call) -> dict[str, Any]:
        """``persons/cohorts/?person_id=``: the cohorts the person (id or UUID) is in, as
        CohortMinimalSerializer rows (posthog/api/person.py ``cohorts``). mockhog seeds no cohorts,
        so a person's list is empty; an unknown person is 404."""
        person_id = call.query.get("person_id")
        if not person_id:
            # PostHog reads request.GET["person_id"] and fails with a 500 without it.
            raise errors.validation_error("This query parameter is required.", "person_id", "required")
        try:
            self.get(call, person_id)
        except errors.ApiError as error:
            raise errors.not_found() from error
        return {"results": []}

    def seed(self, ctx: Any) -> list[Record]:
        return PersonFactory(ctx).make(ctx.profile["persons"]["count"])


# -- seed data ---------------------------------------------------------------------------------

BROWSERS = ("Chrome", "Safari", "Firefox", "Microsoft Edge", "Chrome iOS", "Samsung Internet")
SYSTEMS = ("Mac OS X", "Windows", "iOS", "Android", "Linux", "Chrome OS")
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "CA", "IN", "BR", "NL", "AU", "ES", "PL", "JP")
PLANS = ("free", "free", "free", "pro", "pro", "team", "enterprise")
REFERRERS = (
    "$direct",
    "$direct",
    "www.google.com",
    "news.ycombinator.com",
    "twitter.com",
    "www.bing.com",
    "github.com",
    "www.linkedin.com",
    "duckduckgo.com",
    "t.co",
)
FREE_MAIL = ("gmail.com", "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")
YEAR = 365 * 86400


class PersonFactory:
    """Builds many persons fast: names and domains are drawn once into pools, each person is a
    handful of ``rng`` draws and string formats (100k persons must seed in seconds)."""

    def __init__(self, ctx: Any) -> None:
        self.rng = ctx.rng
        self.clock = ctx.clock.astimezone(UTC).replace(tzinfo=None)  # naive UTC: cheap to format
        self.clock_millis = int(ctx.clock.timestamp() * 1000)
        self.first_names = [ctx.faker.first_name() for _ in range(160)]
        self.last_names = [ctx.faker.last_name() for _ in range(160)]
        self.domains = list(FREE_MAIL) + sorted({ctx.faker.domain_name() for _ in range(24)})
        self.taken: set[str] = set()

    def make(self, count: int) -> list[Record]:
        return [self.person(number) for number in range(1, count + 1)]

    def pick(self, pool: Sequence[str]) -> str:
        return pool[int(self.rng.random() * len(pool))]

    def person(self, number: int) -> Record:
        random, pick = self.rng.random, self.pick
        created_back = round(86400 + random() * (YEAR - 86400), 3)
        seen_back = round(random() * created_back, 3) if random() < 0.92 else None
        created_millis = self.clock_millis - int(created_back * 1000)
        anonymous = [self.uuid7(created_millis) for _ in range(pick((1, 1, 1, 2, 2, 3)))]
        properties: dict[str, Any] = {}
        identified: list[str] = []
        if random() < 0.7:
            first, last = pick(self.first_names), pick(self.last_names)
            email = self.unique(f"{first}.{last}@{pick(self.domains)}".lower(), number)
            properties["email"] = email
            properties["name"] = f"{first} {last}"
            identified.append(email if random() < 0.6 else f"user_{number:05d}")
        properties["$browser"] = pick(BROWSERS)
        properties["$os"] = pick(SYSTEMS)
        properties["$geoip_country_code"] = pick(COUNTRIES)
        properties["$initial_referring_domain"] = pick(REFERRERS)
        properties["plan"] = pick(PLANS)
        return {
            "id": number,
            "uuid": self.uuid7(created_millis),
            "created_at": self.stamp(created_back),
            "last_seen_at": None if seen_back is None else self.stamp(seen_back),
            "properties": properties,
            # anonymous ids came first (they were seen before identify); serializing puts them last
            "distinct_ids": anonymous + identified,
        }

    def stamp(self, seconds_back: float) -> str:
        """``iso()`` of a moment before the clock, without the time zone round trip."""
        return (self.clock - timedelta(seconds=seconds_back)).isoformat(timespec="microseconds") + "Z"

    def unique(self, email: str, number: int) -> str:
        if email in self.taken:
            name, _, domain = email.partition("@")
            email = f"{name}{number}@{domain}"
        self.taken.add(email)
        return email

    def uuid7(self, millis: int) -> str:
        """A UUIDv7 (as PostHog and posthog-js make them) for a moment in milliseconds."""
        bits = (millis << 80) | (0x7 << 76) | (self.rng.getrandbits(12) << 64) | (0b10 << 62)
        text = f"{bits | self.rng.getrandbits(62):032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
