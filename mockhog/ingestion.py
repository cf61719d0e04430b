"""What PostHog's ingestion pipeline does with captured events, on mockhog's store. No HTTP here.

Restated from PostHog's plugin-server (person and group processing) as the REST routes show it:
- every event is stored in its project with a UUID (the client's, else a new one), the timestamp
  corrected for the client's clock (``now + (timestamp - sent_at)``, or ``now - offset``);
- the person of the distinct id is created on first sight (unless ``$process_person_profile`` is
  false); ``$set`` / ``$set_once`` / ``$unset`` (in the properties, or at the top level as the
  legacy ``/engage/`` sends them) change their properties;
- ``$identify`` (with ``$anon_distinct_id``) and ``$create_alias`` (with ``alias``) join two distinct
  ids into one person, merging the anonymous person into the identified one; an already
  identified person is not merged away by ``$identify``;
- with person processing on, a group type named by ``$groupidentify`` (``$group_type``) or by
  ``$groups`` that the project does not map yet gets the lowest free ``group_type_index``, at
  most five per project (GroupTypeManager.fetchGroupTypeIndex); past that the group is dropped;
- ``$groupidentify`` then creates or updates the group (``$group_key``, ``$group_set``), and
  ``$groups`` adds the ``$group_<index>`` properties to the event;
- the event's definition is created and its ``last_seen_at`` moved.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .capture import Payload
from .resources.base import iso, parse_time
from .resources.identity import api_token
from .store import Record, Table

if TYPE_CHECKING:
    from .backend import Backend

EVENTS = "events"
RECORDINGS = "recording_snapshots"  # what /s/ received, one row per request
GROUP_TYPES = "group_type_mappings"  # the types ingestion mapped, keyed by group_type_index
MAX_GROUP_TYPES = 5  # MAX_GROUP_TYPES_PER_TEAM
PERSON_EVENTS = ("$identify", "$create_alias", "$merge_dangerously")
FUTURE_LIMIT = timedelta(hours=23)


def person_of(persons: Table, distinct_id: str) -> Record | None:
    """The person a distinct id belongs to, through the store's ``distinct_ids`` index."""
    return persons.find("distinct_ids", distinct_id)


def group_types(backend: Backend, project_id: int) -> dict[int, str]:
    """The project's group type mapping (index -> name): the seeded types, then those ingestion
    mapped since (which a reset forgets with the rest of the project's state)."""
    groups = backend.resources.get("groups")
    mapping = dict(getattr(groups, "group_types", {}) or {})
    for row in backend.store.table(project_id, GROUP_TYPES).values():
        mapping[row["group_type_index"]] = row["group_type"]
    return dict(sorted(mapping.items()))


def project_for_token(backend: Backend, token: str) -> int | None:
    """The project whose public ``api_token`` this is, or None."""
    for project_id, project in backend.projects.items():
        if api_token(backend.seed, project) == token:
            return project_id
    return None


def ingest(backend: Backend, project_id: int, payload: Payload, now: datetime | None = None) -> list[Record]:
    """Store the payload's events and apply their effects, in one transaction; returns the events."""
    now = now or datetime.now(UTC)
    stored = []
    with backend.store.transaction():
        pipeline = _Pipeline(backend, project_id, now)
        for event in payload.events:
            stored.append(pipeline.process(event, payload.sent_at))
    return stored


def ingest_recording(
    backend: Backend,
    project_id: int,
    payload: Payload,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> Record:
    """A ``/s/`` batch as the capture service passes it on: one ``$snapshot_items`` record of the
    first event's session, window (the session when absent), source (``web``) and ``$lib`` (else
    the user agent's product when it names posthog, else ``web``; ``unknown`` without one),
    holding every event's snapshot data in order."""
    now = now or datetime.now(UTC)
    first = payload.events[0]
    properties = first.get("properties") or {}
    items: list[Any] = []
    for event in payload.events:
        data = event["properties"]["$snapshot_data"]
        items.extend(data if isinstance(data, list) else [data])
    with backend.store.transaction():
        pipeline = _Pipeline(backend, project_id, now)
        record = {
            "id": pipeline.valid_uuid(first.get("uuid")) or pipeline.new_uuid(),
            "event": "$snapshot_items",
            "distinct_id": first["distinct_id"],
            "session_id": properties["$session_id"],
            "window_id": properties.get("$window_id", properties["$session_id"]),
            "snapshot_source": properties.get("$snapshot_source", "web"),
            "lib": _snapshot_library(properties.get("$lib"), user_agent),
            "snapshot_items": items,
            "timestamp": pipeline.timestamp(first, payload.sent_at),
            "_received_at": iso(now),
        }
        backend.store.table(project_id, RECORDINGS).put(record["id"], record)
    return record


def _snapshot_library(lib: Any, user_agent: str | None) -> str:
    if isinstance(lib, str):
        return lib
    if user_agent is None:
        return "unknown"
    product = user_agent.split("/")[0]
    return product if "posthog" in product else "web"


def recordings(
    backend: Backend, session_id: str | None = None, project_id: int | None = None
) -> list[Record]:
    """What ``/s/`` received (of one session), oldest first."""
    projects = [project_id] if project_id is not None else list(backend.projects)
    rows = [row for pid in projects for row in backend.store.table(pid, RECORDINGS).values()]
    rows = [row for row in rows if session_id is None or row["session_id"] == session_id]
    return sorted(rows, key=lambda row: row["_received_at"])


class _Pipeline:
    def __init__(self, backend: Backend, project_id: int, now: datetime) -> None:
        self.backend = backend
        self.project_id = project_id
        self.now = now
        self.persons = backend.store.table(project_id, "persons")

    def table(self, name: str) -> Table:
        return self.backend.store.table(self.project_id, name)

    def new_uuid(self) -> str:
        return str(uuid_module.UUID(int=self.backend.rng.getrandbits(128), version=4))

    # -- one event -------------------------------------------------------------------------
    def process(self, event: dict[str, Any], sent_at: str | None) -> Record:
        name = event["event"]
        distinct_id = event["distinct_id"]
        properties = dict(event.get("properties") or {}) if isinstance(event.get("properties"), dict) else {}
        for legacy in ("$set", "$set_once", "$unset"):
            if legacy in event and legacy not in properties:
                properties[legacy] = event[legacy]
        properties.pop("token", None)
        moment = self.timestamp(event, sent_at)
        person = None
        if properties.get("$process_person_profile") is not False:
            if name in PERSON_EVENTS:
                person = self.merge(name, distinct_id, properties)
            person = self.update_person(person or self.person_for(distinct_id), properties, moment)
            self.add_group_properties(properties, moment)
            if name == "$groupidentify":
                self.identify_group(properties, moment)
        if name == "$feature_flag_called":
            self.flag_called(properties.get("$feature_flag"), moment)
        self.see_definition(name, moment)
        record = {
            "id": self.valid_uuid(event.get("uuid")) or self.new_uuid(),
            "distinct_id": distinct_id,
            "properties": properties,
            "event": name,
            "timestamp": moment,
            "person_id": person["id"] if person else None,
            "elements": [],
            "elements_chain": event.get("elements_chain") or "",
            "_captured": True,
            "_received_at": iso(self.now),
        }
        self.table(EVENTS).put(record["id"], record)
        return record

    def valid_uuid(self, value: Any) -> str | None:
        try:
            return str(uuid_module.UUID(str(value))) if value else None
        except ValueError:
            return None

    def timestamp(self, event: dict[str, Any], sent_at: str | None) -> str:
        """The event time as ingestion computes it: the client's clock skew removed, and a time
        more than 23 hours ahead replaced by now (parseEventTimestamp)."""
        stamp = parse_time(event.get("timestamp"))
        sent = parse_time(event.get("sent_at") or sent_at)
        offset = event.get("offset")
        if stamp and sent:
            moment = self.now + (stamp - sent)
        elif isinstance(offset, int | float) and not isinstance(offset, bool):
            moment = self.now - timedelta(milliseconds=offset)
        else:
            moment = stamp or self.now
        return iso(self.now if moment > self.now + FUTURE_LIMIT else moment)

    # -- persons -----------------------------------------------------------------------------
    def find_person(self, distinct_id: str) -> Record | None:
        return person_of(self.persons, distinct_id)

    def person_for(self, distinct_id: str) -> Record:
        return self.find_person(distinct_id) or self.create_person([distinct_id])

    def create_person(self, distinct_ids: list[str], properties: dict[str, Any] | None = None) -> Record:
        person = {
            "id": self.persons.allocate_id(),
            "uuid": self.new_uuid(),
            "created_at": iso(self.now),
            "last_seen_at": None,
            "properties": dict(properties or {}),
            "distinct_ids": list(distinct_ids),
            "_is_identified": False,
        }
        self.persons.put(person["id"], person)
        return person

    def merge(self, name: str, distinct_id: str, properties: dict[str, Any]) -> Record:
        """``$identify`` / ``$create_alias``: one person for both ids."""
        other = properties.get("$anon_distinct_id") if name == "$identify" else properties.get("alias")
        target = self.find_person(distinct_id)
        if not isinstance(other, str) or not other or other == distinct_id:
            return target or self.create_person([distinct_id])
        source = self.find_person(other)
        if target is None and source is None:
            person = self.create_person([other, distinct_id])
        elif target is None and source is not None:
            if name == "$identify" and source.get("_is_identified"):
                person = self.create_person([distinct_id])
            else:
                person = {**source, "distinct_ids": [*source["distinct_ids"], distinct_id]}
        elif source is None and target is not None:
            person = {**target, "distinct_ids": [*target["distinct_ids"], other]}
        elif source is not None and target is not None and source["id"] != target["id"]:
            if name == "$identify" and source.get("_is_identified"):
                return target
            person = {
                **target,
                "properties": {**source.get("properties", {}), **target.get("properties", {})},
                "distinct_ids": [*source["distinct_ids"], *target["distinct_ids"]],
                "created_at": min(source["created_at"], target["created_at"]),
            }
            self.persons.delete(source["id"])
        else:
            person = target  # both ids already belong to one person
        assert person is not None
        if name == "$identify":
            person = {**person, "_is_identified": True}
        self.persons.put(person["id"], person)
        return person

    def update_person(self, person: Record, properties: dict[str, Any], moment: str) -> Record:
        values = dict(person.get("properties") or {})
        set_once = properties.get("$set_once")
        if isinstance(set_once, dict):
            values.update({k: v for k, v in set_once.items() if k not in values})
        to_set = properties.get("$set")
        if isinstance(to_set, dict):
            values.update(to_set)
        unset = properties.get("$unset")
        names = unset if isinstance(unset, list) else list(unset) if isinstance(unset, dict) else []
        for key in names:
            values.pop(key, None)
        last_seen = max(filter(None, [person.get("last_seen_at"), moment]))
        changed = {**person, "properties": values, "last_seen_at": last_seen}
        if changed != person:
            self.persons.put(person["id"], changed)
        return changed

    # -- groups ------------------------------------------------------------------------------
    def group_type_index(self, group_type: str, moment: str) -> int | None:
        """``fetchGroupTypeIndex``: the type's index, mapping it to the lowest free index first
        when the project has none for it; None once the project has five types."""
        mapping = group_types(self.backend, self.project_id)
        found = next((index for index, name in mapping.items() if name == group_type), None)
        if found is not None or len(mapping) >= MAX_GROUP_TYPES:
            return found
        index = next(i for i in range(MAX_GROUP_TYPES) if i not in mapping)
        row = {
            "group_type": group_type,
            "group_type_index": index,
            "name_singular": None,
            "name_plural": None,
            "detail_dashboard": None,
            "default_columns": None,
            "created_at": moment,
        }
        self.table(GROUP_TYPES).put(index, row)
        return index

    def add_group_properties(self, properties: dict[str, Any], moment: str) -> None:
        """``addGroupProperties``: each type named in ``$groups`` is mapped, and its key becomes the
        event's ``$group_<index>`` property."""
        named = properties.get("$groups")
        if not isinstance(named, dict):
            return
        for group_type, key in named.items():
            index = self.group_type_index(str(group_type), moment)
            if index is not None:
                properties[f"$group_{index}"] = key

    def identify_group(self, properties: dict[str, Any], moment: str) -> None:
        """``upsertGroup``: a falsy ``$group_type`` or ``$group_key`` is skipped; the key is the
        string of the value, NUL characters removed (sanitizeString)."""
        group_type, group_key = properties.get("$group_type"), properties.get("$group_key")
        if not group_type or not group_key or not isinstance(group_type, str):
            return
        index = self.group_type_index(group_type, moment)
        if index is None:
            return
        key = (group_key if isinstance(group_key, str) else _js_string(group_key)).replace("\0", "")
        updates = properties.get("$group_set") if isinstance(properties.get("$group_set"), dict) else {}
        table = self.table("groups")
        found = table.find("group", (index, key))
        if found is None:
            pk = table.allocate_id()
            table.put(
                pk,
                {
                    "_pk": pk,
                    "group_type_index": index,
                    "group_key": key,
                    "group_properties": dict(updates),
                    "created_at": iso(self.now),
                    "_activity": [],
                },
            )
        elif updates:
            table.put(found["_pk"], {**found, "group_properties": {**found["group_properties"], **updates}})

    # -- feature flags -----------------------------------------------------------------------
    def flag_called(self, key: Any, moment: str) -> None:
        """``last_called_at`` of the flag the SDK reports calling (PostHog syncs it from these events)."""
        table = self.table("feature_flags")
        flag = next((row for row in table.values() if row["key"] == key and not row.get("deleted")), None)
        if flag is not None and (flag.get("last_called_at") or "") < moment:
            table.put(flag["id"], {**flag, "last_called_at": moment})

    # -- event definitions -------------------------------------------------------------------
    def see_definition(self, name: str, moment: str) -> None:
        table = self.table("event_definitions")
        found = next((row for row in table.values() if row["name"] == name), None)
        seen = iso(self.now)
        if found is not None:
            if (found.get("last_seen_at") or "") < seen:
                table.put(found["id"], {**found, "last_seen_at": seen})
            return
        definition_id = self.new_uuid()
        table.put(
            definition_id,
            {
                "id": definition_id,
                "name": name,
                "owner": None,
                "description": "",
                "tags": [],
                "created_at": seen,
                "updated_at": seen,
                "updated_by": None,
                "last_seen_at": seen,
                "verified": False,
                "verified_at": None,
                "verified_by": None,
                "hidden": False,
                "enforcement_mode": "allow",
                "is_action": False,
                "post_to_slack": False,
                "default_columns": [],
                "media_preview_urls": [],
                "primary_property": None,
                "_properties": [],
                "_query_usage_30_day": 0,
            },
        )


def captured(backend: Backend, project_id: int | None = None) -> list[Record]:
    """Every event captured since the last reset (not the seeded ones), oldest first."""
    projects = [project_id] if project_id is not None else list(backend.projects)
    rows = [
        row for pid in projects for row in backend.store.table(pid, EVENTS).values() if row.get("_captured")
    ]
    return sorted(rows, key=lambda row: row["_received_at"])


def captured_view(row: Record, project_id: int | None = None) -> dict[str, Any]:
    """A captured event as tests and the control plane show it."""
    view = {
        "uuid": row["id"],
        "event": row["event"],
        "distinct_id": row["distinct_id"],
        "properties": row.get("properties") or {},
        "timestamp": row["timestamp"],
        "received_at": row.get("_received_at"),
    }
    return {**view, "project": project_id} if project_id is not None else view


def find_captured(
    backend: Backend,
    event: str | None = None,
    distinct_id: str | None = None,
    properties: dict[str, Any] | None = None,
    project_id: int | None = None,
) -> list[dict[str, Any]]:
    """Captured events matching the event name, the distinct id and a subset of properties."""
    found = []
    for pid in [project_id] if project_id is not None else list(backend.projects):
        for row in captured(backend, pid):
            if event is not None and row["event"] != event:
                continue
            if distinct_id is not None and row["distinct_id"] != distinct_id:
                continue
            have = row.get("properties") or {}
            if properties and any(have.get(key, _ABSENT) != value for key, value in properties.items()):
                continue
            found.append(captured_view(row, pid))
    return sorted(found, key=lambda view: view["received_at"] or "")


_ABSENT = object()


def _js_string(value: Any) -> str:
    """``value.toString()`` in JavaScript, for the JSON scalars a group key can be."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if item is None else _js_string(item) for item in value)
    return str(value)


def clear_captured(backend: Backend, project_id: int | None = None) -> int:
    """Forget captured events (persons, groups and definitions they made stay); returns how many."""
    rows = captured(backend, project_id)
    with backend.store.transaction():
        for pid in [project_id] if project_id is not None else list(backend.projects):
            table = backend.store.table(pid, EVENTS)
            for row in table.values():
                if row.get("_captured"):
                    table.delete(row["id"])
    return len(rows)
