"""Cohorts: PostHog's CohortViewSet and CohortSerializer (posthog/api/cohort.py).

Membership is computed from the seeded persons: a dynamic cohort's person-property criteria (and
cohorts it refers to) are evaluated on their properties; a static cohort holds a list of person
UUIDs. Calculation finishes at once, but the answer to the write that started it still shows it
pending (``is_calculating`` true, the previous count), as the real server answers before its
worker runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..pagination import positive_int
from ..store import Record
from .base import Call, Reply, Resource, quirk
from .persons import display_name, is_anonymous_id, link_with_offset, matches
from .product import json_properties

INSERT_BATCH_SIZE = 1000  # DEFAULT_COHORT_INSERT_BATCH_SIZE: the most person_ids one call may add
PERSONS_PAGE = 100
DISTINCT_ID_LIMIT = 10
NO_PROPERTIES = "Must contain a 'properties' key with type and values"


class Cohorts(Resource):
    query_ordering = True

    # -- reads -------------------------------------------------------------------------------
    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        kind = query.get("type")
        if kind in ("static", "dynamic"):
            rows = [row for row in rows if row["is_static"] == (kind == "static")]
        if query.get("created_by_id"):
            wanted = str(query["created_by_id"])
            rows = [row for row in rows if row["created_by"] and str(row["created_by"]["id"]) == wanted]
        if str(query.get("hide_behavioral_cohorts", "false")).lower() == "true":
            rows = [row for row in rows if not _has_behavioral(row.get("filters"))]
        return super().filter(call, rows)  # the row's search fields

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        view = {**record}
        # a static cohort's filters are kept unchecked; ones that are no object show as none
        view["filters"] = record["filters"] if isinstance(record["filters"], dict) else {"properties": {}}
        view["search_match_type"] = self.search_match_type(call, record) if call.op.action == "list" else None
        body = super().serialize(call, view)
        if call.op.action == "list" and str(call.query.get("basic", "0")).lower() in ("1", "true", "yes"):
            for name in ("filters", "query", "groups"):
                body.pop(name, None)
        return body

    # -- writes ------------------------------------------------------------------------------
    @quirk("cohorts_create")
    def create(self, call: Call) -> Any:
        record = self.build(call, call.body)
        before = {"count": None, "version": None, "last_calculation": None}
        self.save(call, self.calculated(call, record))
        return self._answer(call, record, before)

    @quirk("cohorts_update", "cohorts_partial_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        changed = self.change(call, record, call.body)
        before = {name: record[name] for name in ("count", "version", "last_calculation")}
        self.save(call, self.calculated(call, changed))
        return self._answer(call, changed, before)

    def _answer(self, call: Call, record: Record, before: dict[str, Any]) -> dict[str, Any]:
        """What the write answers: a dynamic cohort's calculation was only just queued."""
        body = self.serialize(call, self.table(call).get(record["id"]))
        if not record["is_static"] and not record.get("_deleted"):
            pending = (before["version"] or 0) + 1
            body.update(before, is_calculating=True, pending_version=pending)
        return body

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        data = self._validated(call, data, None)
        person_ids = data.pop("_create_static_person_ids", [])
        if data.get("query") and _has_values(data.get("filters")):
            raise errors.validation_error("Cannot set both query and filters at the same time.")
        if not data.get("is_static") and data.get("query"):
            raise errors.validation_error(
                "Cannot create a dynamic cohort with a query. Set is_static to true."
            )
        record = super().build(call, data)
        record.update(
            created_by=call.user,
            version=None,
            pending_version=None,
            is_calculating=False,
            last_calculation=None,
            last_backfill_person_properties_at=None,
            errors_calculating=0,
            last_error_message=None,
            count=None,
            experiment_set=[],
            _members=[],
        )
        if record["is_static"]:
            # From a list of persons, or (insert_cohort_from_filters) from criteria at creation.
            chosen = members_of(call.table("persons").values(), record, self._live(call))
            record["_members"] = _existing_uuids(call, person_ids) or [person["uuid"] for person in chosen]
        return record

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        data = self._validated(call, data, record)
        data.pop("_create_static_person_ids", None)
        filters_changed = "filters" in data and data["filters"] != record["filters"]
        static = data.get("is_static", record["is_static"])
        if static and filters_changed and (_has_values(record["filters"]) or _has_values(data["filters"])):
            raise errors.validation_error(
                "Editing the criteria of a static cohort is not supported yet. "
                "Create a new static cohort instead."
            )
        if data.get("deleted") and not record.get("_deleted"):
            self._check_unused(call, record)
        changed = super().change(call, record, data)
        if _reaches(call, changed, changed["id"], set()):
            raise errors.validation_error("Cohorts cannot reference other cohorts in a loop.")
        return changed

    def _validated(self, call: Call, data: dict[str, Any], record: Record | None) -> dict[str, Any]:
        data = {k: v for k, v in data.items() if k != "_create_in_folder"}
        static = data.get("is_static", record["is_static"] if record else False)
        if "filters" in data:
            filters = data["filters"]
            if not (static and not _has_values(filters)):
                if not isinstance(filters, dict) or "properties" not in filters:
                    raise errors.validation_error(NO_PROPERTIES, "filters__detail")
                problem = _filter_problem(filters["properties"])
                if problem:
                    raise errors.validation_error(problem, "filters")
                data["filters"] = {"properties": _cleaned(filters["properties"])}
        if "query" in data and data["query"]:
            query = data["query"]
            if not isinstance(query, dict):
                raise errors.validation_error("Query must be a dictionary.", "query")
            if query.get("kind") not in ("ActorsQuery", "HogQLQuery"):
                raise errors.validation_error(
                    f"Query must be an ActorsQuery or HogQLQuery. Got: {query.get('kind')}", "query"
                )
        elif "query" in data:
            data["query"] = None
        return data

    def _check_unused(self, call: Call, cohort: Record) -> None:
        """A cohort used by a live insight, another live cohort or an active feature flag cannot be
        deleted (the last is CohortSerializer.update's own check, so it comes last)."""

        def users_of(table: str, uses: Any) -> list[Record]:
            return [row for row in sorted(call.table(table).values(), key=lambda row: row["id"]) if uses(row)]

        insights = users_of(
            "insights",
            lambda row: not row.get("_deleted") and _query_uses_cohort(row.get("query"), cohort["id"]),
        )
        if insights:
            names = _first_names(
                [row.get("name") or row.get("derived_name") or "Unnamed" for row in insights]
            )
            raise errors.validation_error(
                f"This cohort is used in {len(insights)} insight(s): {names}. "
                "Please remove the cohort from these insights before deleting it."
            )
        cohorts = users_of(
            self.table_name,
            lambda row: (
                row["id"] != cohort["id"] and not row.get("_deleted") and cohort["id"] in _cohort_refs(row)
            ),
        )
        if cohorts:
            names = _first_names([row["name"] or "Unnamed" for row in cohorts])
            raise errors.validation_error(
                f"This cohort is used as criteria in {len(cohorts)} other cohort(s): {names}. "
                "Please remove this cohort from those cohort definitions before deleting it."
            )
        flags = users_of(
            "feature_flags",
            lambda row: (
                row.get("active") and not row.get("deleted") and cohort["id"] in _flag_cohort_ids(row)
            ),
        )
        if flags:
            names = ", ".join(row.get("name") or row["key"] for row in flags)
            raise errors.validation_error(
                f"This cohort is used in {len(flags)} active feature flag(s): {names}. "
                "Please remove the cohort from these feature flags before deleting it."
            )

    def calculated(self, call: Call, record: Record) -> Record:
        return calculate(record, call.table("persons").values(), self._live(call), call.timestamp())

    def _live(self, call: Call) -> dict[int, Record]:
        return {row["id"]: row for row in self.table(call).values() if not row.get("_deleted")}

    # -- custom actions ----------------------------------------------------------------------
    @quirk("cohorts_persons_retrieve")
    def persons(self, call: Call) -> dict[str, Any]:
        """The cohort's persons, newest first, as get_serialized_people writes them."""
        cohort = self.get(call)
        wanted = set(cohort["_members"])
        rows = [row for row in call.table("persons").values() if row["uuid"] in wanted]
        extra = _json_list(call.query.get("properties"))
        rows = [row for row in rows if all(matches(row.get("properties") or {}, item) for item in extra)]
        search = str(call.query.get("search") or "").lower()
        if search:
            rows = [row for row in rows if _person_matches_search(row, search)]
        rows.sort(key=lambda row: (row["created_at"], row["uuid"]), reverse=True)
        limit = positive_int(call.query.get("limit"), PERSONS_PAGE, strict=True)
        offset = positive_int(call.query.get("offset"), 0)
        page = rows[offset : offset + limit]
        return {
            "results": [_serialized_person(row) for row in page],
            "next": link_with_offset(call.url, offset + limit) if len(page) >= limit else None,
            "previous": link_with_offset(call.url, offset - limit) if offset - limit >= 0 else None,
        }

    @quirk("cohorts_add_persons_to_static_cohort_add_persons_to_static_cohort_partial_update")
    def add_persons_to_static_cohort(self, call: Call) -> Reply:
        cohort = self.get(call)
        if not cohort["is_static"]:
            raise errors.validation_error("Can only add users to static cohorts")
        person_ids = call.body.get("person_ids")
        if not isinstance(person_ids, list):
            raise errors.validation_error("person_ids must be a list")
        if not person_ids:
            raise errors.validation_error("person_ids cannot be empty")
        if len(person_ids) > INSERT_BATCH_SIZE:
            raise errors.validation_error("List size exceeds limit")
        found = _existing_uuids(call, person_ids)
        if not found:
            raise errors.validation_error("No valid users to add to cohort")
        members = cohort["_members"] + [person for person in found if person not in cohort["_members"]]
        self.save(call, {**cohort, "_members": members, "count": len(members)})
        return Reply(body={"success": True})

    @quirk("cohorts_remove_person_from_static_cohort_remove_person_from_static_cohort_partial_update")
    def remove_person_from_static_cohort(self, call: Call) -> Reply:
        cohort = self.get(call)
        if not cohort["is_static"]:
            raise errors.validation_error("Can only remove users from static cohorts")
        person_id = call.body.get("person_id")
        if not person_id:
            raise errors.validation_error("person_id is required")
        if not isinstance(person_id, str):
            raise errors.validation_error("person_id must be a string")
        try:
            wanted = str(uuid.UUID(person_id))
        except ValueError:
            raise errors.validation_error("person_id must be a valid UUID") from None
        if not _existing_uuids(call, [wanted]):
            raise errors.not_found("Person with this UUID does not exist in the cohort's team")
        members = [member for member in cohort["_members"] if member != wanted]
        self.save(call, {**cohort, "_members": members, "count": len(members)})
        return Reply(body={"success": True})

    # -- seed --------------------------------------------------------------------------------
    seed_reads = ("persons",)

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's cohorts: dynamic ones on the seeded persons' properties, static ones
        holding every n-th person."""
        persons = sorted(ctx.tables["persons"].values(), key=lambda row: row["id"])
        records: list[Record] = []
        for index, spec in enumerate(ctx.profile["cohorts"], start=1):
            created = ctx.moment(300, 60)
            record = {
                **self.defaults,
                "id": index,
                "name": spec["name"],
                "description": spec.get("description", ""),
                "is_static": "every" in spec,
                "filters": {"properties": _cleaned(spec["properties"])} if "properties" in spec else None,
                "created_by": ctx.user,
                "created_at": created,
                "version": None,
                "pending_version": None,
                "is_calculating": False,
                "last_calculation": None,
                "last_backfill_person_properties_at": None,
                "errors_calculating": 0,
                "last_error_message": None,
                "count": None,
                "experiment_set": [],
                "_members": [person["uuid"] for person in persons[:: spec["every"]]]
                if "every" in spec
                else [],
            }
            earlier = {row["id"]: row for row in records}
            records.append(calculate(record, persons, earlier, ctx.moment(3)))
        return records


# -- membership --------------------------------------------------------------------------------
def calculate(record: Record, persons: Any, cohorts: dict[int, Record], now: str) -> Record:
    """The cohort after its calculation: members, count, a new version, the time it ran."""
    if record.get("_deleted"):
        return record
    if record["is_static"]:
        return {**record, "count": len(record["_members"]), "is_calculating": False}
    members = members_of(persons, record, cohorts)
    version = (record["version"] or 0) + 1
    return {
        **record,
        "_members": [person["uuid"] for person in members],
        "count": len(members),
        "version": version,
        "pending_version": version,
        "is_calculating": False,
        "last_calculation": now,
        "cohort_type": "realtime" if _realtime(record.get("filters")) else None,
    }


def _filters_of(cohort: Record) -> dict[str, Any]:
    """A cohort's filters object; a static cohort's may be anything (kept unchecked), read as none."""
    filters = cohort.get("filters")
    return filters if isinstance(filters, dict) else {}


def members_of(persons: Any, cohort: Record, cohorts: dict[int, Record]) -> list[Record]:
    """The persons a dynamic cohort's criteria select (static cohorts: their list)."""
    properties = _filters_of(cohort).get("properties") or {}
    if not isinstance(properties, dict) or not properties.get("values"):
        return []  # no criteria (a static cohort's filters may hold anything without one)
    return [person for person in persons if _holds(properties, person, cohorts, {cohort["id"]})]


def _holds(node: dict[str, Any], person: Record, cohorts: dict[int, Record], seen: set[int]) -> bool:
    if node.get("type") in ("AND", "OR"):
        results = (_holds(value, person, cohorts, seen) for value in node.get("values", []))
        return all(results) if node["type"] == "AND" else any(results)
    if node.get("type") == "person":
        found = matches(person.get("properties") or {}, node)
    elif node.get("type") == "cohort":
        other = cohorts.get(_int(node.get("value")))
        if other is None or other["id"] in seen:
            found = False
        elif other["is_static"]:
            found = person["uuid"] in other["_members"]
        else:
            properties = _filters_of(other).get("properties") or {}
            found = (
                isinstance(properties, dict)
                and bool(properties.get("values"))
                and _holds(properties, person, cohorts, seen | {other["id"]})
            )
    else:
        # Behavioral criteria need events (and person_metadata the persons table): not evaluated.
        found = False
    return found != bool(node.get("negation"))


def _filter_problem(node: Any) -> str | None:
    """The first reason the filters' structure is refused, in CohortFilters' words."""
    if not isinstance(node, dict):
        return "Input should be a valid dictionary"
    kind = node.get("type")
    if kind in ("AND", "OR"):
        values = node.get("values")
        if not isinstance(values, list):
            return "Missing required keys for group: values"
        for value in values:
            problem = _filter_problem(value)
            if problem:
                return problem
        return None
    if kind in ("person", "person_metadata"):
        missing = []
        if node.get("value") is None and node.get("operator") not in ("is_set", "is_not_set"):
            missing.append("value")
        if node.get("operator") is None:
            missing.append("operator")
        if "key" not in node:
            return f"Missing required keys for {kind} filter: key"
        if not isinstance(node["key"], str):
            return "Input should be a valid string"  # pydantic's, on the filter's key
        if missing:
            return f"Missing required keys for {kind} filter: {', '.join(missing)}"
        return None
    if kind == "cohort":
        for name in ("key", "value"):
            if name not in node:
                return f"Missing required keys for cohort filter: {name}"
        return None
    if kind == "behavioral":
        for name in ("key", "value", "event_type"):
            if name not in node:
                return f"Missing required keys for behavioral filter: {name}"
        return None
    return f"Input tag '{kind}' found using 'type' does not match any of the expected tags"


def _cleaned(node: dict[str, Any]) -> dict[str, Any]:
    """Filters as the validated model dumps them: every filter has its ``negation``."""
    if node.get("type") in ("AND", "OR"):
        return {"type": node["type"], "values": [_cleaned(value) for value in node.get("values", [])]}
    if node.get("type") in ("person", "person_metadata", "cohort", "behavioral"):
        return {**node, "negation": bool(node.get("negation", False))}
    return node


def _leaves(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict) and node.get("type") in ("AND", "OR"):
        values = node.get("values")
        return [leaf for value in values for leaf in _leaves(value)] if isinstance(values, list) else []
    return [node] if isinstance(node, dict) else []


def _has_values(filters: Any) -> bool:
    """cohort_filters_have_values: some criterion exists."""
    return isinstance(filters, dict) and bool(_leaves(filters.get("properties") or {}))


def _has_behavioral(filters: Any) -> bool:
    return isinstance(filters, dict) and any(
        leaf.get("type") == "behavioral" for leaf in _leaves(filters.get("properties") or {})
    )


def _realtime(filters: Any) -> bool:
    """Realtime when every criterion is one the realtime path evaluates (not person_metadata)."""
    leaves = _leaves((filters if isinstance(filters, dict) else {}).get("properties") or {})
    return bool(leaves) and all(leaf.get("type") in ("person", "behavioral", "cohort") for leaf in leaves)


def _first_names(names: list[str]) -> str:
    """The first five names, and how many more."""
    listed = ", ".join(names[:5])
    return f"{listed}, and {len(names) - 5} more" if len(names) > 5 else listed


def _flag_cohort_ids(flag: Record) -> set[int]:
    """FeatureFlag.get_cohort_ids: the cohorts its release conditions name."""
    ids = set()
    for group in (flag.get("filters") or {}).get("groups") or []:
        for prop in group.get("properties") or []:
            if prop.get("type") == "cohort":
                try:
                    ids.add(int(prop.get("value")))
                except (TypeError, ValueError):
                    continue
    return ids


def _cohort_refs(cohort: Record) -> set[int]:
    return {
        _int(leaf.get("value"))
        for leaf in _leaves(_filters_of(cohort).get("properties") or {})
        if leaf.get("type") == "cohort"
    }


def _reaches(call: Call, cohort: Record, target: int, seen: set[int]) -> bool:
    """Whether following the cohort's cohort criteria leads back to ``target``."""
    for ref in _cohort_refs(cohort):
        if ref == target:
            return True
        other = call.table("cohorts").get(ref)
        if other is not None and ref not in seen and _reaches(call, other, target, seen | {ref}):
            return True
    return False


def _query_uses_cohort(query: Any, cohort_id: int) -> bool:
    if not isinstance(query, dict):
        return False
    breakdown = (query.get("source") or {}).get("breakdownFilter") or {}
    if breakdown.get("breakdown_type") == "cohort" and cohort_id in (breakdown.get("breakdown") or []):
        return True

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("type") == "cohort" and node.get("value") == cohort_id:
                return True
            return any(walk(value) for value in node.values())
        if isinstance(node, list):
            return any(walk(item) for item in node)
        return False

    return walk(query)


def _existing_uuids(call: Call, person_ids: list[Any]) -> list[str]:
    """The given ids that are UUIDs of persons in the project, in the order given, once each."""
    known = {row["uuid"] for row in call.table("persons").values()}
    found: list[str] = []
    for raw in person_ids:
        try:
            value = str(uuid.UUID(str(raw)))
        except ValueError:
            continue
        if value in known and value not in found:
            found.append(value)
    return found


def _serialized_person(row: Record) -> dict[str, Any]:
    distinct_ids = row.get("distinct_ids") or []
    return {
        "type": "person",
        "id": row["uuid"],
        "uuid": row["uuid"],
        "created_at": _drf_json_time(row.get("created_at")),
        "last_seen_at": _drf_json_time(row.get("last_seen_at")),
        "properties": row.get("properties") or {},
        "is_identified": any(not is_anonymous_id(value) for value in distinct_ids),
        "name": display_name(row),
        "distinct_ids": distinct_ids[:DISTINCT_ID_LIMIT],
        "matched_recordings": [],
        "value_at_data_point": None,
    }


def _drf_json_time(text: str | None) -> str | None:
    """A datetime as DRF's JSON encoder writes it: milliseconds, and Z for UTC."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    written = moment.isoformat()
    if moment.microsecond:
        written = written[:23] + written[26:]
    return written.replace("+00:00", "Z")


def _person_matches_search(row: Record, search: str) -> bool:
    properties = row.get("properties") or {}
    texts = [str(properties.get("email", "")), str(properties.get("name", "")), *row.get("distinct_ids", [])]
    return any(search in text.lower() for text in texts)


def _json_list(raw: Any) -> list[dict[str, Any]]:
    loaded = json_properties(raw)
    values = loaded if isinstance(loaded, list) else []
    leaves = _leaves({"type": "AND", "values": values})
    # a person filter names its property by text; one that does not filters nothing (it was a 500)
    return [item for item in leaves if item.get("type") == "person" and isinstance(item.get("key"), str)]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
