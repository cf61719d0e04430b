"""Feature flags: PostHog's FeatureFlagViewSet (posthog/api/feature_flag.py), verified tier.

What the source does and this module restates:
- ``validate_key``: a key used by another undeleted flag of the project is refused (``unique``);
  only letters, digits, ``-`` and ``_`` (``invalid_key``).
- ``validate_filters``: a create needs at least one condition set; without
  ``aggregation_group_type_index`` properties may only be person, cohort and flag ones (flag ones
  with ``flag_evaluates_to``), with it only group properties of that index; variant rollout
  percentages sum to 100; a condition's variant override names a variant; regex, icontains, gt...
  take strings; ``in``/``not_in`` only on cohorts; cohorts must exist; dates must parse; payloads are
  a dict of JSON (objects are stored as their JSON text) keyed ``"true"`` or by variant.
- ``validate``: ``evaluation_contexts`` is at most 50 names of up to 255 characters (they are stored
  only for users with the flag-evaluation-tags feature, which the mock user lacks, so answers say
  ``[]``); an archived flag must be disabled.
- the read-only answers computed from the store: ``experiment_set_metadata`` (each undeleted linked
  experiment's id, name and whether it runs), ``is_used_in_replay_settings`` (the project's
  ``session_recording_linked_flag`` names the flag's id), ``is_eligible_for_experiment``
  (multivariate with 2 to 20 variants); ``status`` is ARCHIVED for an archived flag.
- ``ForbidDestroyModel`` (the viewset defines no destroy of its own): DELETE is the viewset row's
  bodiless 405 before any lookup; soft delete is ``PATCH {"deleted": true}``, and a soft-deleted
  flag's key may be taken again (the create hard-deletes the old one).
- list: undeleted flags, archived ones only when ``?archived=`` is given
  (``exclude_archived_unless_requested``), ``-created_at`` unless ``?order=``, ``_apply_filters``'
  parameters.
- ``local_evaluation``: every undeleted flag except remote configurations, in
  MinimalFeatureFlagSerializer's shape, the project's group type mapping and, with
  ``send_cohorts``, the dynamic cohorts the flags use.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import errors, flags
from ..store import Record
from .base import Call, Reply, Resource, iso, parse_time, quirk

if TYPE_CHECKING:
    from ..backend import Backend

KEY_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_PROPERTY_VALUES = 1000
STRING_OPERATORS = ("regex", "icontains", "not_regex", "not_icontains", "gte", "lte", "gt", "lt")
MINIMAL_FIELDS = (
    "id",
    "team_id",
    "name",
    "key",
    "filters",
    "deleted",
    "active",
    "ensure_experience_continuity",
    "has_encrypted_payloads",
    "version",
    "evaluation_runtime",
    "bucketing_identifier",
    "evaluation_tags",
)
STALE_AFTER = timedelta(days=30)
MAX_EVALUATION_CONTEXTS = 50
MAX_CONTEXT_NAME = 255
EXPERIMENT_VARIANTS = range(2, 21)  # what can back an experiment: 2 to 20 variants
REPLAY_LINKED_FLAG_DELETE_ERROR = (
    "This feature flag is used in session replay settings. Please remove it from replay settings before "
    "deleting."
)
_TRUE = ("true", "1", "yes", "y", "t", "on")


def invalid_filters(detail: str, code: str = "invalid") -> errors.ApiError:
    return errors.validation_error(detail, "filters", code)


class FeatureFlags(Resource):
    query_ordering = True
    deleted_is_private = False  # flags' evaluation, local evaluation and experiments read ``deleted``
    # project secret API keys (phs_) may call these actions, as ProjectSecretAPIKeyAuthentication allows
    secret_key_actions = ("local_evaluation", "remote_config")

    # -- reads -----------------------------------------------------------------------------
    def rows(self, call: Call) -> list[Record]:
        return [row for row in self.table(call).values() if not row.get("deleted")]

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        order = call.query.get("order")
        if not order:
            return sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)
        name = order.lstrip("-")
        return sorted(rows, key=lambda row: _sort_key(row.get(name)), reverse=order.startswith("-"))

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        if "archived" not in query:  # exclude_archived_unless_requested
            rows = [row for row in rows if not row.get("archived")]
        active = query.get("active")
        if active == "STALE":
            rows = [row for row in rows if _status(row, call.now) == "STALE"]
        elif active is not None:
            rows = [row for row in rows if row.get("active") == (active == "true")]
        if query.get("created_by_id"):
            rows = [
                row for row in rows if str((row.get("created_by") or {}).get("id")) == query["created_by_id"]
            ]
        rows = super().filter(call, rows)  # the row's search fields
        kind = query.get("type")
        if kind == "boolean":
            rows = [row for row in rows if not _variants(row)]
        elif kind == "multivariant":
            rows = [row for row in rows if _variants(row)]
        elif kind == "experiment":
            rows = [row for row in rows if row.get("experiment_set")]
        elif kind == "remote_config":
            rows = [row for row in rows if row.get("is_remote_configuration")]
        if query.get("evaluation_runtime"):
            rows = [row for row in rows if row.get("evaluation_runtime") == query["evaluation_runtime"]]
        excluded = _json_list(query.get("excluded_properties"))
        if excluded:
            rows = [row for row in rows if row["key"] not in excluded]
        tags = _json_list(query.get("tags"))
        if tags:
            rows = [row for row in rows if set(row.get("tags") or []) & set(tags)]
        if "archived" in query:
            rows = [row for row in rows if bool(row.get("archived")) == _str_to_bool(query["archived"])]
        if "has_evaluation_contexts" in query and _str_to_bool(query["has_evaluation_contexts"]):
            rows = []  # no flag has evaluation contexts: they are never stored for the mock user
        if "eligible_for_experiment" in query and _str_to_bool(query["eligible_for_experiment"]):
            rows = [row for row in rows if _eligible_for_experiment(row)]
        return rows

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        view = {
            **{k: v for k, v in record.items() if k not in RETIRED_FIELDS},
            "archived": bool(record.get("archived")),
            "filters": self.filters_view(call, record.get("filters") or {}),
            "experiment_set_metadata": experiment_set_metadata(call, record),
            "status": _status(record, call.now),
            # evaluation contexts are stored and shown only for users with the flag-evaluation-tags
            # feature (EvaluationTagsChecker), which the mock user lacks
            "evaluation_contexts": [],
            "is_used_in_replay_settings": is_used_in_replay_settings(call.backend, call.project_id, record),
            "is_eligible_for_experiment": _eligible_for_experiment(record),
        }
        return super().serialize(call, view)

    def filters_view(self, call: Call, filters: dict[str, Any]) -> dict[str, Any]:
        """``to_representation``: each cohort property carries the cohort's name (or None)."""
        names: dict[Any, Any] = {}

        def cohort_name(value: Any) -> Any:
            # read only for a flag on a cohort: the cohorts' seed is built over every person
            if not names:
                names.update((row.get("id"), row.get("name")) for row in call.table("cohorts").values())
            return names.get(_int(value))

        groups = []
        for group in filters.get("groups") or []:
            properties = [
                {**prop, "cohort_name": cohort_name(prop.get("value"))}
                if prop.get("type") == "cohort"
                else prop
                for prop in group.get("properties") or []
            ]
            groups.append({**group, "properties": properties} if "properties" in group else group)
        return {**filters, "groups": groups} if "groups" in filters else filters

    # -- writes ------------------------------------------------------------------------------
    @quirk("feature_flags_create")
    def create(self, call: Call) -> Any:
        data = self.validated(call, call.body, None)
        table = self.table(call)
        for row in table.lookup("key", data["key"]):
            if row.get("deleted"):
                table.delete(row["id"])
        user = user_basic(call.user)
        record = self.build(call, {k: v for k, v in data.items() if k in self.fields and k not in COMPUTED})
        record = {**EMPTY_RELATIONS, "deleted": False, "active": True, **record}
        record.update(
            created_by=user,
            last_modified_by=user,
            created_at=call.timestamp(),
            updated_at=call.timestamp(),
            version=1,
            filters=data.get("filters") or {},
            name=data.get("name", ""),
        )
        return self.serialize(call, self.save(call, record))

    @quirk("feature_flags_update", "feature_flags_partial_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        data = self.validated(call, call.body, record)
        changed = {**record, **{k: v for k, v in data.items() if k in self.fields and k not in COMPUTED}}
        self.check_lifecycle(call, record, data, changed)
        changed.update(
            last_modified_by=user_basic(call.user),
            updated_at=call.timestamp(),
            version=(record.get("version") or 0) + 1,
        )
        return self.serialize(call, self.save(call, changed))

    def check_lifecycle(self, call: Call, record: Record, data: dict[str, Any], changed: Record) -> None:
        """FeatureFlagSerializer.update's rules for deleting, restoring, disabling and enabling a
        flag, in its order; ``changed`` takes the key a delete or restore gives the flag."""
        flags = call.table("feature_flags")
        linked = [row for row in call.table("experiments").values() if row.get("_flag") == record["id"]]
        if data.get("deleted") is True:
            running = [row for row in linked if not row.get("deleted") and _running(row)]
            if running:
                names = ", ".join(f'"{row.get("name")}" (ID: {row["id"]})' for row in running)
                raise errors.validation_error(
                    f"Cannot delete a feature flag that is linked to running experiment(s): {names}. "
                    "Please stop the experiment(s) before deleting the flag."
                )
            _refuse_dependents(flags, record, "delete")
            if is_used_in_replay_settings(call.backend, call.project_id, record):
                raise errors.validation_error(REPLAY_LINKED_FLAG_DELETE_ERROR)
            if linked:  # the key is freed for reuse; the experiments keep pointing at this row
                changed["key"] = f"{record['key']}{_tombstone(record)}"
        if (
            data.get("deleted") is False
            and record.get("deleted")
            and record["key"].endswith(_tombstone(record))
        ):
            original = candidate = record["key"].removesuffix(_tombstone(record))
            taken = {row["key"] for row in flags.values() if row["id"] != record["id"]}
            counter = 2
            while candidate in taken:
                candidate, counter = f"{original}-{counter}", counter + 1
            changed["key"] = candidate
        if data.get("active") is False and record.get("active") is True:
            _refuse_dependents(flags, record, "disable")
        if data.get("active") is True and record.get("active") is False:
            wanted = {str(key) for key in _flag_conditions(record)}
            disabled = sorted(
                (row for row in flags.values() if str(row["id"]) in wanted and not row.get("active")),
                key=lambda row: row["key"],
            )
            if disabled:
                raise errors.validation_error(
                    "Cannot enable this feature flag because it depends on disabled flags: "
                    f"{_named(disabled)}. Please enable the dependency flags first."
                )

    def validated(self, call: Call, body: dict[str, Any], instance: Record | None) -> dict[str, Any]:
        """FeatureFlagSerializer's field validators, in DRF's order (fields first, then filters)."""
        data = dict(body)
        if "key" in data:
            self.check_key(call, data["key"], instance)
        if "filters" in data:
            filters = data["filters"]
            if "groups" not in filters and call.op.method == "PATCH" and instance is not None:
                data["filters"] = instance.get("filters") or {}
            else:
                data["filters"] = self.check_filters(call, filters, instance is None)
        # validate(): EvaluationContextSerializerMixin's checks, then the archived rule
        contexts = data.get("evaluation_contexts")
        if contexts is not None:
            if len(contexts) > MAX_EVALUATION_CONTEXTS:
                raise errors.validation_error(
                    f"evaluation_contexts must be a list of at most {MAX_EVALUATION_CONTEXTS} items."
                )
            if any(not isinstance(name, str) or len(name) > MAX_CONTEXT_NAME for name in contexts):
                raise errors.validation_error("Invalid evaluation context name.")
        self.check_archived(data, instance)
        return data

    def check_archived(self, data: dict[str, Any], instance: Record | None) -> None:
        """_validate_archived_flags_are_disabled: an archived flag must be disabled (the model's
        archived_flag_must_be_disabled constraint); the values sent, else the flag's own, else the
        model's defaults (archived false, active true)."""
        archived = data.get("archived", bool((instance or {}).get("archived")))
        active = data.get("active", instance.get("active", True) if instance else True)
        if not (archived and active):
            return
        if data.get("archived"):
            raise errors.validation_error(
                "Cannot archive an enabled feature flag. Disable it first, or send active: false in the "
                "same request."
            )
        raise errors.validation_error("Cannot enable an archived feature flag. Unarchive it first.")

    def check_key(self, call: Call, key: str, instance: Record | None) -> None:
        own = instance["id"] if instance else None
        for row in self.table(call).lookup("key", key):
            if not row.get("deleted") and row["id"] != own:
                raise errors.validation_error(
                    "There is already a feature flag with this key.", "key", "unique"
                )
        if not KEY_PATTERN.match(key):
            raise errors.validation_error(
                "Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key", "invalid_key"
            )

    def check_filters(self, call: Call, filters: dict[str, Any], creating: bool) -> dict[str, Any]:
        groups = filters.get("groups")
        if creating and not groups:
            raise invalid_filters("Feature flags must have at least one condition set (group).")
        groups = groups or []
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise invalid_filters("Filters are not valid (groups must be a list of condition sets)")
        # Shapes PostHog's serializer assumes (a wrong one is a 500 there): refused here instead.
        if not all(isinstance(group.get("properties") or [], list) for group in groups):
            raise invalid_filters("Filters are not valid (properties must be a list)")
        properties = [prop for group in groups for prop in (group.get("properties") or [])]
        if not all(isinstance(prop, dict) for prop in properties):
            raise invalid_filters("Filters are not valid (properties must be objects)")
        if not all(_percentage(group.get("rollout_percentage"), True) for group in groups):
            raise invalid_filters("Filters are not valid (rollout_percentage must be a number or null)")
        multivariate = filters.get("multivariate")
        variant_list = (
            (multivariate or {}).get("variants") or [] if isinstance(multivariate, dict | None) else None
        )
        if not isinstance(variant_list, list) or not all(
            isinstance(v, dict)
            and isinstance(v.get("key"), str)
            and _percentage(v.get("rollout_percentage", 0))
            for v in variant_list
        ):
            raise invalid_filters(
                "Filters are not valid (multivariate.variants must be a list of {key, rollout_percentage})"
            )
        aggregation = filters.get("aggregation_group_type_index")
        if aggregation is None:
            if any(prop.get("type") not in ("person", "cohort", "flag") for prop in properties):
                raise invalid_filters(
                    "Filters are not valid (can only use person, cohort, and flag properties)"
                )
            if any(p.get("type") == "flag" and p.get("operator") != "flag_evaluates_to" for p in properties):
                raise invalid_filters("Flag properties must use the 'flag_evaluates_to' operator")
        elif any(p.get("type") != "group" or p.get("group_type_index") != aggregation for p in properties):
            raise invalid_filters("Filters are not valid (can only use group properties)")
        variants = {variant["key"] for variant in variant_list}
        if variant_list and sum(v.get("rollout_percentage", 0) for v in variant_list) != 100:
            raise invalid_filters(
                "Invalid variant definitions: Variant rollout percentages must sum to 100.", "invalid_input"
            )
        for group in groups:
            if group.get("variant") and (
                not isinstance(group["variant"], str) or group["variant"] not in variants
            ):
                raise invalid_filters("Filters are not valid (variant override does not exist)")
            for prop in group.get("properties") or []:
                self.check_property(call, prop)
        return {**filters, "payloads": _check_payloads(filters, variants)}

    def check_property(self, call: Call, prop: dict[str, Any]) -> None:
        value, operator = prop.get("value"), prop.get("operator")
        if isinstance(value, list) and len(value) > MAX_PROPERTY_VALUES:
            raise invalid_filters(
                f"Property group expressions of type {prop.get('key')} cannot contain more than "
                f"{MAX_PROPERTY_VALUES} values."
            )
        # Cohort.objects.get: CohortManager filters nothing, so a deleted cohort still passes
        if prop.get("type") == "cohort" and call.table("cohorts").get(_int(value)) is None:
            raise invalid_filters(f"Cohort with id {value} does not exist", "cohort_does_not_exist")
        if operator in ("is_date_before", "is_date_after") and flags._moment(value, call.now) is None:
            raise invalid_filters(f"Invalid date value: {value}", "invalid_date")
        if operator in STRING_OPERATORS and not isinstance(value, str):
            raise invalid_filters(f"Invalid value for operator {operator}: {value}", "invalid_value")
        if operator in ("in", "not_in") and prop.get("type") != "cohort":
            raise invalid_filters(
                f"The '{operator}' operator is only valid for cohort properties, not '{prop.get('type')}' "
                "properties.",
                "invalid_operator",
            )

    # -- actions -----------------------------------------------------------------------------
    @quirk("feature_flags_local_evaluation_retrieve")
    def local_evaluation(self, call: Call) -> Any:
        raw = call.query_lists.get("send_cohorts")
        include_cohorts = raw is not None and raw[-1].lower() in ("", "true", "1", "yes")
        assert call.project_id is not None
        return local_evaluation_body(call.backend, call.project_id, include_cohorts)

    @quirk("feature_flags_remote_config_retrieve")
    def remote_config(self, call: Call) -> Any:
        """The flag's ``"true"`` payload as stored (its JSON text), by id or key, unless it is no
        remote configuration (``remote_config``). PostHog answers that 404, and a flag with no
        payload, with no bytes and no Content-Type (``Response(status=404)``, ``Response(None)``);
        mockhog sends the JSON its document states instead: the not-found error, and ``null``."""
        raw = str(call.params["key"])
        table = self.table(call)
        found = (
            table.get(int(raw))
            if raw.isdigit()
            else next((r for r in table.values() if r["key"] == raw), None)
        )
        if found is None or not found.get("is_remote_configuration"):
            raise errors.not_found()
        payload = ((found.get("filters") or {}).get("payloads") or {}).get("true") or None
        if payload is None:  # a null body is no body to the responder: JSON null, said as bytes
            return Reply(body=b"null", content_type="application/json")
        return payload

    @quirk("feature_flags_my_flags_retrieve")
    def my_flags(self, call: Call) -> Any:
        """Every undeleted flag (newest first) with its value for the requesting user's distinct id."""
        assert call.project_id is not None
        subject = subject_for(
            call.backend,
            call.project_id,
            call.user["distinct_id"],
            groups=_json_object(call.query.get("groups")),
        )
        results = evaluate_project(call.backend, call.project_id, subject)
        rows = sorted(self.rows(call), key=lambda row: (row["created_at"], row["id"]), reverse=True)
        return [
            {
                "feature_flag": minimal(row, call.project_id),
                "value": results[row["key"]].value if row["key"] in results else False,
            }
            for row in rows
        ]

    @quirk("feature_flags_evaluation_reasons_retrieve")
    def evaluation_reasons(self, call: Call) -> Any:
        """Each evaluated flag's value and reason for ``distinct_id``; disabled flags say ``disabled``."""
        assert call.project_id is not None
        distinct_id = call.query.get("distinct_id")
        if not distinct_id:
            raise errors.validation_error("This field is required.", "distinct_id", "required")
        subject = subject_for(
            call.backend, call.project_id, distinct_id, groups=_json_object(call.query.get("groups"))
        )
        answer = {
            key: {
                "value": result.value,
                "evaluation": {"reason": result.reason, "condition_index": result.condition_index},
            }
            for key, result in evaluate_project(call.backend, call.project_id, subject).items()
        }
        for row in self.rows(call):
            if not row.get("active"):
                answer[row["key"]] = {
                    "value": False,
                    "evaluation": {"reason": "disabled", "condition_index": None},
                }
        return answer

    @quirk("feature_flags_status_retrieve")
    def status(self, call: Call) -> Any:
        record = self.get(call)
        state = _status(record, call.now)
        reasons = {
            "DELETED": "Flag has been deleted",
            "ARCHIVED": "Flag has been archived",
            "STALE": "Flag has been fully rolled out for more than 30 days",
            "ACTIVE": "Flag is not fully rolled out and may still be active",
        }
        return {"status": state, "reason": reasons[state]}

    # -- seed data ---------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        """The profile's flags (fixtures/default.json), each reading properties the seeded persons
        have (plan, $geoip_country_code)."""
        user = user_basic(ctx.user)
        records = []
        for index, spec in enumerate(ctx.profile["feature_flags"], start=1):
            created = ctx.moment(120, 40)
            records.append(
                {
                    **self.defaults,
                    "id": index,
                    "name": spec["name"],
                    "key": spec["key"],
                    "filters": spec["filters"],
                    "deleted": False,
                    "active": True,
                    "created_by": user,
                    "last_modified_by": user,
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                    **EMPTY_RELATIONS,
                }
            )
        return records


EMPTY_RELATIONS = {
    "archived": False,
    "ensure_experience_continuity": False,
    "experiment_set": [],
    "surveys": [],
    "features": [],
    "can_edit": True,
    "tags": [],
    "usage_dashboard": None,
    "analytics_dashboards": [],
    "has_enriched_analytics": False,
    "user_access_level": "editor",
    "is_remote_configuration": False,
    "has_encrypted_payloads": False,
    "evaluation_runtime": "all",
    "bucketing_identifier": None,
    "last_called_at": None,
}

# Fields the serializer computes for every answer (never stored, whatever a body says), and fields it
# no longer declares (rollback_conditions and performed_rollback stay model columns; evaluation_tags
# became evaluation_contexts), left out of answers should a stored row still carry them.
COMPUTED = (
    "evaluation_contexts",
    "experiment_set_metadata",
    "is_used_in_replay_settings",
    "is_eligible_for_experiment",
)
RETIRED_FIELDS = ("rollback_conditions", "performed_rollback", "evaluation_tags")


def declare_flag(
    backend: Backend,
    project_id: int,
    key: str,
    value: bool | str = True,
    rollout: int = 100,
    variants: dict[str, int] | None = None,
    payload: Any = None,
    person_properties: dict[str, Any] | None = None,
) -> Record:
    """Store a flag quickly (a test's ``set_flag``): on for ``rollout`` % of everyone matching
    ``person_properties`` (exact matches), off when ``value`` is False, one variant for all when
    ``value`` names it, or split by ``variants`` ({key: percentage}). Replaces a flag of that key."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"set_flag: {key!r}: only letters, numbers, hyphens (-) & underscores (_)")
    if isinstance(value, str) and variants is None:
        variants = {value: 100}
    if variants is not None and sum(variants.values()) != 100:
        raise ValueError(f"set_flag: {key!r}: variant rollout percentages must sum to 100")
    properties = [
        {
            "key": name,
            "type": "person",
            "value": wanted if isinstance(wanted, list) else [wanted],
            "operator": "exact",
        }
        for name, wanted in (person_properties or {}).items()
    ]
    payloads: dict[str, Any] = {}
    if payload is not None:
        keyed = payload if variants and isinstance(payload, dict) and set(payload) <= set(variants) else None
        items = keyed.items() if keyed else [(next(iter(variants)) if variants else "true", payload)]
        payloads = {name: item if isinstance(item, str) else json.dumps(item) for name, item in items}
    filters = {
        "groups": [{"properties": properties, "rollout_percentage": rollout}],
        "payloads": payloads,
        "multivariate": {"variants": [{"key": k, "rollout_percentage": p} for k, p in variants.items()]}
        if variants
        else None,
    }
    table = backend.store.table(project_id, "feature_flags")
    existing = next((row for row in table.values() if row["key"] == key and not row.get("deleted")), None)
    now = iso(datetime.now(UTC))
    user = user_basic(backend.user)
    record = {
        **(existing or EMPTY_RELATIONS),
        "id": existing["id"] if existing else table.allocate_id(),
        "name": key,
        "key": key,
        "filters": filters,
        "deleted": False,
        "active": value is not False,
        "created_by": (existing or {}).get("created_by", user),
        "last_modified_by": user,
        "created_at": (existing or {}).get("created_at", now),
        "updated_at": now,
        "version": ((existing or {}).get("version") or 0) + 1,
    }
    table.put(record["id"], record)
    return record


def local_evaluation_body(backend: Backend, project_id: int, include_cohorts: bool) -> dict[str, Any]:
    """``_get_flags_response_for_local_evaluation`` for one project."""
    rows = sorted(backend.store.table(project_id, "feature_flags").values(), key=lambda row: row["id"])
    served = [row for row in rows if not row.get("deleted") and not row.get("is_remote_configuration")]
    cohorts: dict[str, Any] = {}
    if include_cohorts:
        every = cohort_definitions(backend, project_id)
        used = {
            str(prop.get("value"))
            for row in served
            for prop in _properties(row)
            if prop.get("type") == "cohort"
        }
        cohorts = {key: value for key, value in every.items() if key in used}
    return {
        "flags": [minimal(row, project_id) for row in served],
        "group_type_mapping": group_type_mapping(backend, project_id),
        "cohorts": cohorts,
    }


def subject_for(
    backend: Backend,
    project_id: int,
    distinct_id: str,
    person_properties: Any = None,
    groups: Any = None,
    group_properties: Any = None,
) -> flags.Subject:
    """Who a flag is evaluated for: the stored person's properties overridden by the ones passed,
    and each named group's stored properties overridden by the ones passed."""
    from ..ingestion import person_of

    store = backend.store
    person = person_of(store.table(project_id, "persons"), distinct_id)
    overrides = person_properties if isinstance(person_properties, dict) else {}
    properties = {**((person or {}).get("properties") or {}), **overrides}
    named = {str(k): str(v) for k, v in groups.items()} if isinstance(groups, dict) else {}
    passed = group_properties if isinstance(group_properties, dict) else {}
    indexes = {name: int(index) for index, name in group_type_mapping(backend, project_id).items()}
    stored_groups = store.table(project_id, "groups").values()
    values: dict[str, dict[str, Any]] = {}
    for group_type, key in named.items():
        stored = next(
            (
                row["group_properties"]
                for row in stored_groups
                if row["group_type_index"] == indexes.get(group_type) and row["group_key"] == key
            ),
            {},
        )
        extra = passed.get(group_type) if isinstance(passed.get(group_type), dict) else {}
        values[group_type] = {**stored, **extra}
    return flags.Subject(distinct_id, properties, named, values)


def evaluate_project(
    backend: Backend, project_id: int, subject: flags.Subject, only: list[str] | None = None
) -> dict[str, flags.FlagResult]:
    """The flags service's answer: every active, undeleted flag of the project evaluated."""
    rows = sorted(backend.store.table(project_id, "feature_flags").values(), key=lambda row: row["id"])
    served = [row for row in rows if row.get("active") and not row.get("deleted")]
    cohorts: dict[str, Any] = {
        str(row["id"]): None
        for row in backend.store.table(project_id, "cohorts").values()
        if not row.get("_deleted") and row.get("is_static")
    }
    cohorts.update(cohort_definitions(backend, project_id))
    return flags.evaluate_all(served, subject, group_type_mapping(backend, project_id), cohorts, only)


def minimal(row: Record, project_id: int | None) -> dict[str, Any]:
    view = {name: row.get(name) for name in MINIMAL_FIELDS}
    view.update(team_id=project_id, evaluation_tags=[], filters=row.get("filters") or {})
    return view


def cohort_definitions(backend: Backend, project_id: int) -> dict[str, Any]:
    """The project's dynamic cohorts as the flags service reads them: ``filters.properties``."""
    definitions = {}
    for cohort in backend.store.table(project_id, "cohorts").values():
        if cohort.get("_deleted") or cohort.get("is_static"):
            continue
        found = (cohort.get("filters") or {}).get("properties")
        definitions[str(cohort["id"])] = found if isinstance(found, dict) else {"type": "AND", "values": []}
    return definitions


def group_type_mapping(backend: Backend, project_id: int) -> dict[str, str]:
    """The project's group types as the flags service sends them: ``{"<index>": "<name>"}``."""
    from ..ingestion import group_types

    return {str(index): name for index, name in group_types(backend, project_id).items()}


def experiment_set_metadata(call: Call, record: Record) -> list[dict[str, Any]]:
    """get_experiment_set_metadata: each undeleted linked experiment's id, name and is_running
    (started and not ended: the experiments that block the flag's deletion)."""
    experiments = call.table("experiments")
    rows = [experiments.get(i) for i in record.get("experiment_set") or []]
    return [
        {
            "id": row["id"],
            "name": row.get("name"),
            "is_running": row.get("start_date") is not None and row.get("end_date") is None,
        }
        for row in rows
        if row is not None and not row.get("deleted")
    ]


def is_used_in_replay_settings(backend: Backend, project_id: int | None, record: Record) -> bool:
    """get_is_used_in_replay_settings (teams_linking_flag): the project's
    ``session_recording_linked_flag`` contains ``{"id": <the flag's id>}`` (JSON containment: only an
    integer id matches, not true or "1"); the same project setting the remote config reads."""
    project = backend.projects.get(project_id) if project_id is not None else None
    linked = (project or {}).get("session_recording_linked_flag")
    if not isinstance(linked, dict):
        return False
    stored = linked.get("id")
    return not isinstance(stored, bool) and isinstance(stored, int) and stored == record.get("id")


def _eligible_for_experiment(row: Record) -> bool:
    """is_eligible_for_experiment: multivariate with 2 to 20 variants."""
    return len(_variants(row)) in EXPERIMENT_VARIANTS


def _str_to_bool(value: Any) -> bool:
    """posthog.utils.str_to_bool."""
    return value is True or str(value).lower() in _TRUE


def _check_payloads(filters: dict[str, Any], variants: set[Any]) -> dict[str, Any]:
    payloads = filters.get("payloads", {})
    if payloads is None:
        payloads = {}
    if not isinstance(payloads, dict):
        raise invalid_filters("Payloads must be passed as a dictionary")
    stored = {}
    for key, value in payloads.items():
        if isinstance(value, dict):
            value = json.dumps(value)
        elif isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise invalid_filters("Payload value is not valid JSON") from None
        stored[key] = value
    if filters.get("multivariate"):
        if not all(key in variants for key in stored):
            raise invalid_filters("Payload keys must match a variant key for multivariate flags")
    elif len(stored) > 1 or any(key != "true" for key in stored):
        raise invalid_filters("Payload keys must be 'true' for boolean flags")
    return stored


def _properties(row: Record) -> list[dict[str, Any]]:
    return [p for g in (row.get("filters") or {}).get("groups") or [] for p in g.get("properties") or []]


def _percentage(value: Any, nullable: bool = False) -> bool:
    if value is None:
        return nullable
    return isinstance(value, int | float) and not isinstance(value, bool)


def _variants(row: Record) -> list[Any]:
    return ((row.get("filters") or {}).get("multivariate") or {}).get("variants") or []


def _status(row: Record, now: datetime) -> str:
    """FeatureFlagStatusChecker.get_status: DELETED when soft-deleted, ARCHIVED when archived, then
    the STALE rule of ``_apply_filters``: not called for 30 days when it has been called, else fully
    rolled out and created 30 days ago; otherwise ACTIVE."""
    if row.get("deleted"):
        return "DELETED"
    if row.get("archived"):
        return "ARCHIVED"
    called = parse_time(row.get("last_called_at"))
    if called is not None:
        return "STALE" if row.get("active") and now - called > STALE_AFTER else "ACTIVE"
    groups = (row.get("filters") or {}).get("groups") or []
    full = any(g.get("rollout_percentage") in (100, None) and not g.get("properties") for g in groups)
    variants = _variants(row)
    if variants:
        full = full and any(v.get("rollout_percentage") == 100 for v in variants)
    created = parse_time(row.get("created_at"))
    if row.get("active") and full and created is not None and now - created > STALE_AFTER:
        return "STALE"
    return "ACTIVE"


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value if isinstance(value, int | float | str) else str(value))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_object(raw: str | None) -> dict[str, Any]:
    """GroupsJSONField: a JSON object string; anything else is the serializer's 400."""
    if not raw:
        return {}
    try:
        loaded = json.loads(raw)
    except ValueError:
        raise errors.validation_error("Invalid JSON in groups parameter", "groups") from None
    if not isinstance(loaded, dict):
        raise errors.validation_error("groups must be a JSON object", "groups")
    return loaded


def _json_list(raw: str | None) -> list[Any]:
    if not raw:
        return []
    try:
        loaded = json.loads(raw)
    except ValueError:
        return []
    return loaded if isinstance(loaded, list) else []


def user_basic(user: dict[str, Any]) -> dict[str, Any]:
    """UserBasicSerializer of the seeded user."""
    return {
        "id": user["id"],
        "uuid": user["uuid"],
        "distinct_id": user.get("distinct_id"),
        "first_name": user.get("first_name", ""),
        "last_name": user.get("last_name", ""),
        "email": user["email"],
        "is_email_verified": user.get("is_email_verified"),
        "hedgehog_config": None,
        "role_at_organization": user.get("role_at_organization"),
    }


def _running(experiment: Record) -> bool:
    """Experiment.is_running: launched and not ended."""
    return experiment.get("start_date") is not None and experiment.get("end_date") is None


def _tombstone(record: Record) -> str:
    """FeatureFlag._tombstone_suffix: what a soft-deleted flag's key ends with once renamed."""
    return f":deleted:{record['id']}"


def _flag_conditions(record: Record) -> list[Any]:
    """The flag ids a flag's release conditions depend on (properties of type "flag")."""
    return [
        prop.get("key")
        for group in (record.get("filters") or {}).get("groups") or []
        if isinstance(group, dict)
        for prop in group.get("properties") or []
        if isinstance(prop, dict) and prop.get("type") == "flag"
    ]


def _named(rows: list[Record]) -> str:
    """The first five flags as "key (ID: id)", then how many more."""
    names = ", ".join(f"{row['key']} (ID: {row['id']})" for row in rows[:5])
    return names + (f", and {len(rows) - 5} more" if len(rows) > 5 else "")


def _refuse_dependents(flags: Any, record: Record, action: str) -> None:
    """raise_if_flag_has_dependents: active, undeleted flags with a condition on this one."""
    dependents = sorted(
        (
            row
            for row in flags.values()
            if row["id"] != record["id"]
            and row.get("active")
            and not row.get("deleted")
            and str(record["id"]) in {str(key) for key in _flag_conditions(row)}
        ),
        key=lambda row: row["key"],
    )
    if dependents:
        raise errors.validation_error(
            f"Cannot {action} this feature flag because other flags depend on it: {_named(dependents)}. "
            "Please update or disable the dependent flags first."
        )
