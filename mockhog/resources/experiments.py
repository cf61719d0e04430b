"""Experiments, holdouts and saved metrics, verified tier.

Sources restated here (PostHog/posthog):
- ``products/experiments/backend/presentation/views.py`` (EnterpriseExperimentsViewSet) and
  ``serializers.py`` (ExperimentSerializer): fields, ForbidDestroyModel, the lifecycle actions.
- ``products/experiments/backend/experiment_service.py`` (ExperimentService): create with its linked
  multivariate flag (control/test 50/50 unless ``parameters.feature_flag_variants`` says otherwise),
  the reuse rules of an existing flag, update rules, launch / pause / resume / end / ship_variant /
  reset / archive / unarchive as state changes, the list's filters and ordering.
- ``products/experiments/backend/models/experiment.py``: status is draft (no start_date), running
  (started, no end_date; "paused" when its flag is inactive) or stopped (ended).
- ``products/experiments/backend/metric_validation.py``: the intrinsic metric rules.
- today's ExperimentSerializer fields: ``running_time_calculation`` (the calculator's state, checked
  by ``validate_running_time_calculation``; the model's default ``{}``), ``excluded_variants`` (a list
  of variant keys or null, checked against the linked flag's variants), ``is_legacy`` (read-only: a
  legacy-engine metric among the inline or saved metrics).
- ``ee/clickhouse/views/experiment_holdouts.py`` and ``.../presentation/saved_metric_serializers.py``
  with ``experiment_saved_metric_service.py``: holdouts and shared metrics.

Every write runs in the store's transaction, so a rule that refuses a request after the linked flag
was written leaves nothing behind, as PostHog's ``transaction.atomic`` does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import errors
from ..store import Record
from .base import Call, Reply, Resource, quirk
from .feature_flags import invalid_filters, minimal, user_basic
from .product import drf_datetime, editable, parse_moment, tagify, write_flag
from .surveys import survey_flag_ids

DEFAULT_VARIANTS = (
    {"key": "control", "name": "Control Group", "rollout_percentage": 50},
    {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
)
LEGACY_METRIC_KINDS = ("ExperimentTrendsQuery", "ExperimentFunnelsQuery")
METRIC_NODES = {
    "mean": ("source",),
    "funnel": ("series",),
    "ratio": ("numerator", "denominator"),
    "retention": ("start_event", "completion_event"),
}
STATS_METHODS = ("bayesian", "frequentist")
ORDER_FIELDS = (
    "created_at",
    "created_by",
    "updated_at",
    "name",
    "start_date",
    "end_date",
    "duration",
    "status",
)
ELIGIBLE_ORDER_FIELDS = ("created_at", "key", "name")
UPDATABLE = {
    "name",
    "description",
    "start_date",
    "end_date",
    "filters",
    "parameters",
    "running_time_calculation",
    "excluded_variants",
    "archived",
    "deleted",
    "secondary_metrics",
    "holdout_id",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "conclusion",
    "conclusion_comment",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "saved_metrics_ids",
    "only_count_matured_users",
}
UNKNOWN_EVENTS_HINT = (
    "No events with these names have been ingested by this project. If you meant a different event, "
    "please correct it. Only if the user has explicitly confirmed they want to proceed with the unknown "
    "event (e.g. they will instrument it shortly), call again with allow_unknown_events=True. Do not flip "
    "the flag silently to bypass this check."
)
RUNNING_TIME_CALCULATION_KEYS = (
    "minimum_detectable_effect",
    "recommended_running_time",
    "recommended_sample_size",
    "exposure_estimate_config",
)
NAME_LENGTH = 400  # Experiment.name's max_length
LINKS = "experiment_to_saved_metrics"  # ExperimentToSavedMetric rows
_TRUE = ("true", "1", "yes", "y", "t", "on")


def invalid(detail: str, attr: str | None = None) -> errors.ApiError:
    return errors.validation_error(detail, attr)


def is_true(value: Any) -> bool:
    """posthog.utils.str_to_bool."""
    return value is True or str(value).lower() in _TRUE


# -- state -------------------------------------------------------------------------------------
def is_draft(record: Record) -> bool:
    return record.get("start_date") is None


def is_stopped(record: Record) -> bool:
    return not is_draft(record) and record.get("end_date") is not None


def is_running(record: Record) -> bool:
    return not is_draft(record) and record.get("end_date") is None


def stored_status(record: Record) -> str:
    """Experiment.computed_status, which save() stores in ``status``."""
    return "stopped" if is_stopped(record) else "running" if is_running(record) else "draft"


# -- metric and parameter rules ------------------------------------------------------------------
def check_metric(call: Call, metric: Any, prefix: str) -> None:
    """metric_validation.parse_and_validate_metric's intrinsic rules, then the referenced actions."""
    if not isinstance(metric, dict):
        raise invalid(f"{prefix}must be a dict")
    kind = metric.get("kind")
    if isinstance(kind, str) and kind in LEGACY_METRIC_KINDS:
        raise invalid(
            f"{prefix}legacy metric kind '{kind}' is no longer supported. Use 'ExperimentMetric' instead."
        )
    if kind != "ExperimentMetric":
        raise invalid(f"{prefix}metric kind must be 'ExperimentMetric'")
    metric_type = metric.get("metric_type")
    if metric_type is None:
        raise invalid(f"{prefix}ExperimentMetric requires a metric_type")
    if not isinstance(metric_type, str) or metric_type not in METRIC_NODES:
        raise invalid(
            f"{prefix}ExperimentMetric metric_type must be 'mean', 'funnel', 'ratio', or 'retention'"
        )
    for name in METRIC_NODES[metric_type]:
        node = metric.get(name)
        wanted = list if name == "series" else dict
        if not isinstance(node, wanted):
            # pydantic's own report names the field, its error type and message
            raise invalid(f"{prefix}[{{'loc': ('{name}',), 'type': 'missing', 'msg': 'Field required'}}]")
    if metric_type == "funnel" and not metric["series"]:
        raise invalid(
            f"{prefix}funnel metrics require at least one step. "
            "The experiment exposure event is added as the initial step automatically."
        )
    nodes = [n for n in metric_nodes(metric) if not isinstance(n, dict)]
    if nodes:
        raise invalid(
            f"{prefix}[{{'loc': ('series',), 'type': 'model_type', 'msg': 'Input should be an object'}}]"
        )
    missing = sorted(
        {
            int(node["id"])
            for node in metric_nodes(metric)
            if node.get("kind") == "ActionsNode" and _int(node.get("id")) is not None
        }
        - {row["id"] for row in call.table("actions").values() if not row.get("_deleted")}
    )
    if missing:
        raise invalid(
            f"Action(s) with ID {', '.join(map(str, missing))} not found or deleted. "
            "Each ActionsNode must reference an existing action belonging to this project."
        )


def metric_nodes(metric: dict[str, Any]) -> list[Any]:
    """The EventsNode / ActionsNode entries a metric reads (extract_entity_nodes)."""
    nodes: list[Any] = []
    for name in METRIC_NODES.get(metric.get("metric_type") or "", ()):
        value = metric.get(name)
        nodes.extend(value if isinstance(value, list) else [value] if value else [])
    return nodes


def check_metrics(call: Call, metrics: Any, allow_unknown_events: bool) -> list[dict[str, Any]] | None:
    """validate_experiment_metrics, the action check and, unless allowed, the event-name check."""
    if metrics is None:
        return None
    if not isinstance(metrics, list):
        raise invalid("Metrics must be a list")
    for index, metric in enumerate(metrics):
        check_metric(call, metric, f"Invalid metric at index {index}: ")
    if not allow_unknown_events:
        known = {row.get("name") for row in call.table("event_definitions").values()}
        names = {
            node["event"]
            for metric in metrics
            for node in metric_nodes(metric)
            if node.get("kind") == "EventsNode"
            and isinstance(node.get("event"), str)
            and node["event"].strip()
        }
        unknown = sorted(names - known)
        if unknown:
            listed = ", ".join(f"'{name}'" for name in unknown)
            raise invalid(f"Event(s) {listed} not found. {UNKNOWN_EVENTS_HINT}")
    return metrics


def with_uuids(
    call: Call, metrics: list[dict[str, Any]] | None, seen: set[str]
) -> list[dict[str, Any]] | None:
    """_assign_uuids_to_metrics: a copy where every metric has a uuid unique across ``seen``."""
    if metrics is None:
        return None
    prepared = []
    for metric in metrics:
        metric = dict(metric) if isinstance(metric, dict) else metric
        if isinstance(metric, dict):
            if not isinstance(metric.get("uuid"), str) or not metric["uuid"] or metric["uuid"] in seen:
                metric["uuid"] = call.new_uuid()
            seen.add(metric["uuid"])
        prepared.append(metric)
    return prepared


def fingerprinted(metrics: list[dict[str, Any]], record: Record) -> list[dict[str, Any]]:
    """Each metric with a fingerprint of its definition and the analysis settings around it."""
    method = (record.get("stats_config") or {}).get("method", "bayesian")
    context = {
        "start_date": record.get("start_date"),
        "method": method,
        "exposure_criteria": record.get("exposure_criteria"),
        "only_count_matured_users": record.get("only_count_matured_users"),
        "excluded_variants": record.get("excluded_variants"),
    }
    result = []
    for metric in metrics:
        body = {k: v for k, v in metric.items() if k not in ("fingerprint", "uuid", "name")}
        text = json.dumps({"metric": body, **context}, sort_keys=True, default=str)
        result.append({**metric, "fingerprint": hashlib.sha256(text.encode()).hexdigest()})
    return result


def parameters_in(value: Any) -> Any:
    """ExperimentParametersField.to_internal_value: a 'Control' key becomes 'control' when no
    exact one exists; split_percent wins over (and replaces) rollout_percentage."""
    if not isinstance(value, dict) or not isinstance(value.get("feature_flag_variants"), list):
        return value
    variants = [dict(v) if isinstance(v, dict) else v for v in value["feature_flag_variants"]]
    keys = [v.get("key") for v in variants if isinstance(v, dict)]  # a key may be unhashable
    if "control" not in keys:
        for variant in variants:
            key = variant.get("key") if isinstance(variant, dict) else None
            if isinstance(key, str) and key.lower() == "control":
                variant["key"] = "control"
                break
    for variant in variants:
        if isinstance(variant, dict) and "split_percent" in variant:
            variant["rollout_percentage"] = variant.pop("split_percent")
    return {**value, "feature_flag_variants": variants}


def parameters_out(value: Any) -> Any:
    """to_representation: each variant also shows its rollout_percentage as split_percent."""
    if not isinstance(value, dict) or not isinstance(value.get("feature_flag_variants"), list):
        return value
    variants = [
        {**v, "split_percent": v["rollout_percentage"]}
        if isinstance(v, dict) and "rollout_percentage" in v
        else v
        for v in value["feature_flag_variants"]
    ]
    return {**value, "feature_flag_variants": variants}


def check_variant_shapes(parameters: Any) -> None:
    """validate_variant_shapes and validate_variant_percentages."""
    if not parameters:
        return
    variants = parameters.get("feature_flag_variants") or []
    if not isinstance(variants, list):
        raise invalid("Feature flag variants must be a list")
    for index, variant in enumerate(variants):
        if not isinstance(variant, dict):
            raise invalid(f"Feature flag variant at index {index} must be an object")
        if "key" not in variant:
            raise invalid(f"Feature flag variant at index {index} must have a 'key' field")
        if not isinstance(variant["key"], str):  # PostHog fails later, in the flag's serializer
            raise invalid(f"Feature flag variant at index {index} must have a string 'key'")
    for variant in variants:
        if "split_percent" not in variant and "rollout_percentage" not in variant:
            raise invalid(
                "Each variant must include split_percent (recommended) or rollout_percentage (deprecated)."
            )
    # What the linked flag's serializer refuses when the parameters reach it (a draft's always; a
    # running experiment's with update_feature_flag_params): refused whenever they are sent, so a
    # running experiment never stores parameters its flag could not take.
    if any(not _number(v.get("rollout_percentage", 0)) for v in variants):
        raise invalid_filters(
            "Filters are not valid (multivariate.variants must be a list of {key, rollout_percentage})"
        )
    if parameters.get("rollout_percentage") is not None and not _number(parameters["rollout_percentage"]):
        raise invalid_filters("Filters are not valid (rollout_percentage must be a number or null)")
    if parameters.get("feature_flag_payloads") is not None and not isinstance(
        parameters["feature_flag_payloads"], dict
    ):
        raise invalid_filters("Payloads must be passed as a dictionary")


def check_parameters(parameters: Any) -> None:
    """validate_experiment_parameters: shapes, 2 to 20 variants with a 'control'."""
    if not parameters:
        return
    check_variant_shapes(parameters)
    variants = parameters.get("feature_flag_variants") or []
    if len(variants) >= 21:
        raise invalid("Feature flag variants must be less than 21")
    keys = [variant["key"] for variant in variants]
    if variants and len(variants) < 2:
        raise invalid("Feature flag must have at least 2 variants (control and at least one test variant)")
    if variants and "control" not in keys:
        raise invalid(
            "Feature flag variants must contain a variant with key 'control' (lowercase, exactly). "
            f"Got keys: {keys!r}. Rename the baseline variant's 'key' to 'control'."
        )


def check_running_time_calculation(value: Any) -> None:
    """ExperimentService.validate_running_time_calculation (a field validator: errors name the field)."""
    if not value:
        return
    if not isinstance(value, dict):
        raise invalid("running_time_calculation must be an object", "running_time_calculation")
    unknown = sorted(set(value) - set(RUNNING_TIME_CALCULATION_KEYS))
    if unknown:
        raise invalid(f"running_time_calculation got unknown keys: {unknown!r}", "running_time_calculation")
    for key in RUNNING_TIME_CALCULATION_KEYS[:3]:
        number = value.get(key)
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise invalid(f"{key} must be a number", "running_time_calculation")
    config = value.get("exposure_estimate_config")
    if config is not None and not isinstance(config, dict):
        raise invalid("exposure_estimate_config must be an object", "running_time_calculation")


def check_excluded_variants(excluded: list[str] | None, variant_keys: list[Any], baseline: str) -> None:
    """ExperimentService._validate_excluded_variant_keys, against the linked flag's variants (the
    source of truth), so the request need not send feature_flag_variants."""
    if not excluded:
        return
    holdouts = sorted(k for k in excluded if k.startswith("holdout-"))
    if holdouts:
        raise invalid(f"cannot exclude holdout pseudo-variants: {holdouts!r}")
    if baseline in excluded:
        raise invalid(f"baseline variant cannot be excluded ('{baseline}')")
    unknown = sorted(set(excluded) - set(variant_keys))
    if unknown:
        raise invalid(f"unknown variants for this experiment: {unknown!r}")
    if not set(variant_keys) - set(excluded) - {baseline}:
        raise invalid("at least one test variant must remain in analysis")


def baseline_of(stats_config: Any) -> str:
    return (stats_config if isinstance(stats_config, dict) else {}).get("baseline_variant_key", "control")


def check_stats_config(stats_config: Any, variant_keys: list[str]) -> None:
    if not stats_config:
        return
    if not isinstance(stats_config, dict):
        raise invalid("stats_config must be an object")
    method = stats_config.get("method")
    if method is not None and method not in STATS_METHODS:
        raise invalid(f"Invalid stats method: '{method}'. Must be one of: {', '.join(STATS_METHODS)}")
    baseline = stats_config.get("baseline_variant_key")
    if baseline is not None and variant_keys and baseline not in variant_keys:
        raise invalid(
            f"Invalid baseline_variant_key: '{baseline}'. Must be one of: {', '.join(sorted(variant_keys))}"
        )


def check_exposure_criteria(criteria: Any) -> None:
    """validate_experiment_exposure_criteria, without the pydantic model check of exposure_config."""
    if criteria is None:
        return
    if "filterTestAccounts" in criteria and not isinstance(criteria["filterTestAccounts"], bool):
        value = criteria["filterTestAccounts"]
        raise invalid(
            "exposure_criteria.filterTestAccounts must be a boolean, got "
            f"{_python_type(value)}: {_python_repr(value)}."
        )
    hint = (
        "Expected either an event-based config like {'kind': 'ExperimentEventExposureConfig', 'event': "
        "'<event_name>', 'properties': []} or an action-based config like {'kind': 'ActionsNode', 'id': "
        "<action_id>}."
    )
    if "exposure_config" in criteria:
        config = criteria["exposure_config"]
        if not isinstance(config, dict):
            raise invalid(
                f"exposure_criteria.exposure_config must be an object, got {_python_type(config)}. {hint}"
            )
        kind = config.get("kind", "ExperimentEventExposureConfig")
        if kind not in ("ExperimentEventExposureConfig", "ActionsNode"):
            raise invalid(
                "exposure_criteria.exposure_config.kind must be one of ['ExperimentEventExposureConfig', "
                f"'ActionsNode'], got {_python_repr(kind)}. {hint}"
            )


def check_dates(start: str | None, end: str | None) -> None:
    if start and end and parse_moment(start) >= parse_moment(end):  # type: ignore[operator]
        raise invalid("End date must be after start date")


def holdout_filter(holdout: Record | None) -> dict[str, Any]:
    """holdout_filters_for_flag: the flag's ``holdout`` entry for the experiment's holdout."""
    filters = holdout.get("filters") if holdout else None
    if not holdout or not filters:
        return {"holdout": None}
    return {"holdout": {"id": holdout["id"], "exclusion_percentage": filters[0]["rollout_percentage"]}}


def flag_variants(flag: Record) -> list[dict[str, Any]]:
    return list(((flag.get("filters") or {}).get("multivariate") or {}).get("variants") or [])


def check_existing_flag(flag: Record) -> None:
    """_validate_existing_flag: an experiment's flag has a 'control' and at least one more variant."""
    variants = flag_variants(flag)
    if len(variants) < 2:
        raise invalid("Feature flag must have at least 2 variants (control and at least one test variant)")
    if "control" not in [variant.get("key") for variant in variants]:
        raise invalid("Feature flag must have a variant with key 'control'")


class Experiments(Resource):
    """EnterpriseExperimentsViewSet."""

    query_ordering = True
    deleted_is_private = False  # filter_experiments_queryset and the flags' rules read ``deleted``

    # -- lookups ---------------------------------------------------------------------------
    def rows(self, call: Call) -> list[Record]:
        return [row for row in self.table(call).values() if not row.get("deleted")]

    def get(self, call: Call, key: Any = None) -> Record:
        """filter_experiments_queryset: deleted experiments are gone, except to an update whose body
        sets ``deleted`` to a false value (the way to restore one)."""
        record = self.table(call).get(call.params.get("id") if key is None else key)
        include_deleted = False
        body = call.body if isinstance(call.body, dict) else {}
        if call.op.action in ("update", "partial_update") and body.get("deleted") is not None:
            include_deleted = not is_true(body["deleted"])
        if record is None or (record.get("deleted") and not include_deleted):
            raise errors.not_found()
        return record

    def flag(self, call: Call, record: Record) -> Record:
        return call.table("feature_flags").get(record["_flag"])

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        status = str(query.get("status") or "").lower()
        status = "stopped" if status == "complete" else status
        if status == "draft":
            rows = [row for row in rows if is_draft(row)]
        elif status in ("running", "paused"):
            active = status == "running"
            rows = [
                row for row in rows if is_running(row) and bool(self.flag(call, row).get("active")) == active
            ]
        elif status == "stopped":
            rows = [row for row in rows if is_stopped(row)]
        if query.get("created_by_id"):
            rows = [
                row for row in rows if str((row.get("created_by") or {}).get("id")) == query["created_by_id"]
            ]
        archived = query.get("archived")
        wanted = str(archived).lower() == "true" if archived is not None else False
        rows = [row for row in rows if bool(row.get("archived")) == wanted]
        if query.get("feature_flag_id"):
            flag_id = _int(query["feature_flag_id"])
            if flag_id is None:
                raise invalid("feature_flag_id must be an integer")
            rows = [row for row in rows if row["_flag"] == flag_id]
        if query.get("prompt_name"):
            name = query["prompt_name"]
            rows = [
                r
                for r in rows
                if ((r.get("parameters") or {}).get("prompt_metadata") or {}).get("name") == name
            ]
        if query.get("search"):
            needle = query["search"].lower()
            rows = [row for row in rows if needle in (row.get("name") or "").lower()]
        return rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        order = call.query.get("order") if call.op.action == "list" else None
        if not order:
            return sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)
        if order.lstrip("-") not in ORDER_FIELDS or order.count("-") > 1:
            raise invalid(f"Invalid order field: '{order}'")
        name, descending = order.lstrip("-"), order.startswith("-")

        def key(row: Record) -> Any:
            if name == "status":
                return (0, 0 if is_draft(row) else 1 if is_running(row) else 2)
            if name == "duration":
                if is_draft(row):
                    return (1, 0.0)  # NULL durations: last ascending, first descending (Postgres)
                end = parse_moment(row.get("end_date")) or call.now
                return (0, (end - parse_moment(row["start_date"])).total_seconds())  # type: ignore[operator]
            if name == "created_by":
                user = row.get("created_by") or {}
                return (0, user.get("first_name") or user.get("email") or "")
            value = row.get(name)
            return (1, "") if value is None else (0, value)

        if name in ("start_date", "end_date", "duration"):
            # Postgres sorts NULLs last ascending and first descending
            present = sorted((r for r in rows if key(r)[0] == 0), key=key, reverse=descending)
            absent = [r for r in rows if key(r)[0] != 0]
            return absent + present if descending else present + absent
        return sorted(rows, key=key, reverse=descending)

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        flag = self.flag(call, record)
        holdouts = call.table("experiment_holdouts")
        holdout = holdouts.get(record.get("holdout_id")) if record.get("holdout_id") is not None else None
        holdout_view = (
            call.backend.resources["experiment_holdouts"].serialize(call, holdout) if holdout else None
        )
        paused = is_running(record) and not flag.get("active")
        view = {
            **record,
            "feature_flag_key": flag["key"],
            "feature_flag": minimal(flag, call.project_id),
            "holdout": holdout_view,
            "holdout_id": holdout["id"] if holdout else None,
            "parameters": parameters_out(record.get("parameters")),
            "saved_metrics": self.saved_metric_links(call, record),
            "running_time_calculation": record.get("running_time_calculation", {}),
            "excluded_variants": record.get("excluded_variants"),
            "status": "paused" if paused else stored_status(record),
            "is_legacy": self.has_legacy_metrics(call, record),
        }
        shown = editable(super().serialize(call, view))
        if call.op.action == "list" and call.op.resource.name == "experiments":
            # ExperimentBasicSerializer: the list never shows the metric definitions
            order = call.backend.contract.schemas.field_order(f"{self.spec.schema}.json", "ExperimentBasic")
            return {name: shown[name] for name in order}
        return shown

    def saved_metric_links(self, call: Call, record: Record) -> list[dict[str, Any]]:
        metrics = call.table("experiment_saved_metrics")
        links = sorted(
            (link for link in call.table(LINKS).values() if link["experiment"] == record["id"]),
            key=lambda link: link["id"],
        )
        return [
            {
                **link,
                "query": (metrics.get(link["saved_metric"]) or {}).get("query"),
                "name": (metrics.get(link["saved_metric"]) or {}).get("name"),
            }
            for link in links
        ]

    # -- create ----------------------------------------------------------------------------
    @quirk("experiments_create")
    def create(self, call: Call) -> Any:
        return self.serialize(call, self.create_experiment(call, self.validated(call, call.body)))

    def validated(self, call: Call, body: dict[str, Any]) -> dict[str, Any]:
        """ExperimentSerializer's field validators and validate(), in DRF's order."""
        data = dict(body)
        for name in ("start_date", "end_date"):
            if name in data:
                data[name] = drf_datetime(data[name])
        holdout_id = data.get("holdout_id")
        if holdout_id is not None and call.table("experiment_holdouts").get(holdout_id) is None:
            raise errors.validation_error(
                f'Invalid pk "{holdout_id}" - object does not exist.', "holdout_id", "does_not_exist"
            )
        if "parameters" in data:
            data["parameters"] = parameters_in(data["parameters"])
            check_parameters(data["parameters"])
        if "running_time_calculation" in data:
            check_running_time_calculation(data["running_time_calculation"])
            if data["running_time_calculation"] is not None and not data["running_time_calculation"]:
                # the check lets any value read as false through; stored as the model's default ({})
                # so the answer keeps the field an object (PostHog stores [] or "" as sent, and
                # fails on false or 0 when it merges them into parameters)
                data["running_time_calculation"] = {}
        if "saved_metrics_ids" in data:
            self.check_saved_metrics_ids(call, data["saved_metrics_ids"])
        if "exposure_criteria" in data:
            check_exposure_criteria(data["exposure_criteria"])
        for name in ("metrics", "metrics_secondary"):
            if name in data and data[name] is not None and not isinstance(data[name], list):
                raise invalid("Metrics must be a list")
        check_dates(data.get("start_date"), data.get("end_date"))
        return data

    def check_saved_metrics_ids(self, call: Call, value: Any) -> None:
        """ExperimentService.validate_saved_metrics_ids."""
        if value is None:
            return
        for item in value:
            if not isinstance(item, dict):
                raise invalid("Saved metric must be an object", "saved_metrics_ids")
            if "id" not in item:
                raise invalid("Saved metric must have an id", "saved_metrics_ids")
            if "metadata" in item and not isinstance(item["metadata"], dict):
                raise invalid("Metadata must be an object", "saved_metrics_ids")
            if "metadata" in item and "type" not in item["metadata"]:
                raise invalid("Metadata must have a type key", "saved_metrics_ids")
        table = call.table("experiment_saved_metrics")
        found = {item["id"] for item in value if _int(item["id"]) is not None and table.get(_int(item["id"]))}
        if len(found) != len(value):
            raise invalid(
                "Saved metric does not exist or does not belong to this project", "saved_metrics_ids"
            )

    def create_experiment(self, call: Call, data: dict[str, Any]) -> Record:
        """ExperimentService.create_experiment (its checks in its order)."""
        allow_unknown = bool(data.get("allow_unknown_events"))
        parameters = data.get("parameters")
        saved_ids = data.get("saved_metrics_ids")
        seen = self.saved_metric_uuids(call, saved_ids)
        metrics = with_uuids(call, check_metrics(call, data.get("metrics"), allow_unknown), seen)
        metrics_secondary = with_uuids(
            call, check_metrics(call, data.get("metrics_secondary"), allow_unknown), seen
        )
        check_variant_shapes(parameters)
        holdout = (
            call.table("experiment_holdouts").get(data.get("holdout_id")) if data.get("holdout_id") else None
        )
        flag, variants = self.ensure_flag(call, data, holdout)
        check_stats_config(data.get("stats_config"), [v.get("key") for v in variants])
        check_excluded_variants(
            data.get("excluded_variants"),
            [v.get("key") for v in variants],
            baseline_of(data.get("stats_config")),
        )
        stats_config = dict(data.get("stats_config") or {})
        stats_config["method"] = stats_config.get("method") or "bayesian"
        exposure = dict(data.get("exposure_criteria") or {})
        if exposure.get("filterTestAccounts") is None:
            exposure["filterTestAccounts"] = True
        now = call.timestamp()
        record: Record = {
            "id": self.table(call).allocate_id(),
            "name": data["name"],
            "description": data.get("description", ""),
            "start_date": data.get("start_date"),
            "end_date": data.get("end_date"),
            "holdout_id": holdout["id"] if holdout else None,
            "exposure_cohort": None,
            "parameters": parameters,
            "running_time_calculation": data.get("running_time_calculation", {}),
            "excluded_variants": data.get("excluded_variants"),
            "secondary_metrics": data.get("secondary_metrics")
            if data.get("secondary_metrics") is not None
            else [],
            "filters": data.get("filters") if data.get("filters") is not None else {},
            "archived": bool(data.get("archived", False)),
            "deleted": bool(data.get("deleted", False)),
            "created_by": user_basic(call.user),
            "created_at": now,
            "updated_at": now,
            "type": data.get("type") or "product",
            "exposure_criteria": exposure,
            "metrics": metrics if metrics is not None else [],
            "metrics_secondary": metrics_secondary if metrics_secondary is not None else [],
            "stats_config": stats_config,
            "scheduling_config": data.get("scheduling_config"),
            "conclusion": data.get("conclusion"),
            "conclusion_comment": data.get("conclusion_comment"),
            "primary_metrics_ordered_uuids": data.get("primary_metrics_ordered_uuids"),
            "secondary_metrics_ordered_uuids": data.get("secondary_metrics_ordered_uuids"),
            "only_count_matured_users": bool(data.get("only_count_matured_users") or False),
            "_flag": flag["id"],
        }
        record["metrics"] = fingerprinted(record["metrics"], record)
        record["metrics_secondary"] = fingerprinted(record["metrics_secondary"], record)
        for field, listed in (
            ("primary_metrics_ordered_uuids", metrics),
            ("secondary_metrics_ordered_uuids", metrics_secondary),
        ):
            if listed is not None:
                ordering = list(record[field] or [])
                record[field] = ordering + [m["uuid"] for m in listed if m["uuid"] not in ordering]
        if saved_ids:
            self.link_saved_metrics(call, record, saved_ids)
        self.check_ordering(call, record)
        self.save(call, record)
        self.index_on_flag(call, record)
        return record

    def saved_metric_uuids(self, call: Call, saved_ids: Any) -> set[str]:
        table = call.table("experiment_saved_metrics")
        rows = [table.get(_int(item.get("id"))) for item in saved_ids or [] if isinstance(item, dict)]
        return {row["query"]["uuid"] for row in rows if row and (row.get("query") or {}).get("uuid")}

    def ensure_flag(
        self, call: Call, data: dict[str, Any], holdout: Record | None
    ) -> tuple[Record, list[Any]]:
        """_ensure_feature_flag: the project's flag of that key, if it is fit for an experiment, or a new
        multivariate flag made through the feature flags' own rules (inactive while a draft)."""
        key = data["feature_flag_key"]
        flags = call.table("feature_flags")
        existing = next((row for row in flags.values() if row["key"] == key), None)
        if existing is not None:
            check_existing_flag(existing)
            return existing, flag_variants(existing) or list(DEFAULT_VARIANTS)
        params = data.get("parameters") or {}
        variants = params.get("feature_flag_variants") or [dict(v) for v in DEFAULT_VARIANTS]
        filters: dict[str, Any] = {
            "groups": [{"properties": [], "rollout_percentage": params.get("rollout_percentage", 100)}],
            "multivariate": {"variants": variants},
            "aggregation_group_type_index": params.get("aggregation_group_type_index"),
            **holdout_filter(holdout),
        }
        if params.get("feature_flag_payloads"):
            filters["payloads"] = params["feature_flag_payloads"]
        body = {
            "key": key,
            "name": f"Feature Flag for Experiment {data['name']}",
            "filters": filters,
            "active": data.get("start_date") is not None,
            "ensure_experience_continuity": bool(params.get("ensure_experience_continuity") or False),
        }
        return write_flag(call, body), variants

    def patch_flag(self, call: Call, record: Record, body: dict[str, Any]) -> Record:
        return write_flag(call, body, record["_flag"])

    def index_on_flag(self, call: Call, record: Record) -> None:
        """The flag's experiment_set: its experiments that are not deleted."""
        flags = call.table("feature_flags")
        flag = flags.get(record["_flag"])
        ids = [i for i in flag.get("experiment_set") or [] if i != record["id"]]
        if not record.get("deleted"):
            ids = sorted([*ids, record["id"]])
        if ids != (flag.get("experiment_set") or []):
            flags.put(flag["id"], {**flag, "experiment_set": ids})

    def link_saved_metrics(self, call: Call, record: Record, saved_ids: list[dict[str, Any]]) -> None:
        """_sync_saved_metrics (create) and the update's in-place sync: one link per saved metric,
        its uuid appended to the ordering of its type (primary unless metadata says otherwise)."""
        links = call.table(LINKS)
        existing = {
            link["saved_metric"]: link for link in links.values() if link["experiment"] == record["id"]
        }
        wanted = {_int(item["id"]): item for item in saved_ids}
        for metric_id, link in existing.items():
            if metric_id not in wanted:
                links.delete(link["id"])
        metrics = call.table("experiment_saved_metrics")
        for metric_id, item in wanted.items():
            metadata = item.get("metadata") or {}
            link = existing.get(metric_id)
            if link is None:
                link_id = links.allocate_id()
                link = {
                    "id": link_id,
                    "experiment": record["id"],
                    "saved_metric": metric_id,
                    "created_at": call.timestamp(),
                }
            if link.get("metadata") != metadata:
                links.put(link["id"], {**link, "metadata": metadata})
            uuid = ((metrics.get(metric_id) or {}).get("query") or {}).get("uuid")
            field = (
                "primary_metrics_ordered_uuids"
                if metadata.get("type", "primary") == "primary"
                else ("secondary_metrics_ordered_uuids")
            )
            if uuid and uuid not in (record.get(field) or []):
                record[field] = [*(record.get(field) or []), uuid]

    def check_ordering(self, call: Call, record: Record) -> None:
        """_validate_metric_ordering_on_create / _on_update: each ordering lists its metrics' uuids."""
        expected: dict[str, set[str]] = {"primary": set(), "secondary": set()}
        for kind, field in (("primary", "metrics"), ("secondary", "metrics_secondary")):
            expected[kind] |= {
                m["uuid"] for m in record.get(field) or [] if isinstance(m, dict) and m.get("uuid")
            }
        metrics = call.table("experiment_saved_metrics")
        for link in self.saved_metric_links(call, record):
            uuid = ((metrics.get(link["saved_metric"]) or {}).get("query") or {}).get("uuid")
            if uuid:
                expected[
                    (link.get("metadata") or {}).get("type", "primary") if link.get("metadata") else "primary"
                ].add(uuid)
        for kind in ("primary", "secondary"):
            ordering = record.get(f"{kind}_metrics_ordered_uuids")
            if not expected[kind]:
                continue
            if ordering is None:
                raise invalid(
                    f"{kind}_metrics_ordered_uuids is null but {kind} metrics exist. "
                    "This is likely a frontend bug - please refresh and try again."
                )
            missing = sorted(expected[kind] - set(ordering))
            if missing:
                raise invalid(
                    f"{kind}_metrics_ordered_uuids is missing UUIDs: {missing!r}. "
                    "This is likely a frontend bug - please refresh and try again."
                )

    # -- update ----------------------------------------------------------------------------
    @quirk("experiments_update", "experiments_partial_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        data = self.validated(call, call.body)
        if call.op.action == "update":  # PUT: DRF fills the serializer's defaults
            data = {"archived": False, **data}
        return self.serialize(call, self.update_experiment(call, record, data))

    def update_experiment(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """ExperimentService.update_experiment."""
        data = {
            k: v for k, v in data.items() if k not in ("allow_unknown_events", "update_feature_flag_params")
        }
        allow_unknown = bool(call.body.get("allow_unknown_events"))
        sync_flag = is_draft(record) or bool(call.body.get("update_feature_flag_params"))
        flag = self.flag(call, record)
        seen: set[str] = set()
        if "metrics" in data and "metrics_secondary" not in data:
            seen |= {m["uuid"] for m in record.get("metrics_secondary") or [] if m.get("uuid")}
        if "metrics_secondary" in data and "metrics" not in data:
            seen |= {m["uuid"] for m in record.get("metrics") or [] if m.get("uuid")}
        if "saved_metrics_ids" in data:
            seen |= self.saved_metric_uuids(call, data["saved_metrics_ids"])
        else:
            seen |= self.saved_metric_uuids(
                call, [{"id": link["saved_metric"]} for link in self.saved_metric_links(call, record)]
            )
        for name in ("metrics", "metrics_secondary"):
            if name in data:
                data[name] = with_uuids(call, data[name], seen)
                check_metrics(call, data[name], allow_unknown)
        self.check_update(call, record, data, flag)
        saved_ids = data.pop("saved_metrics_ids", None) if "saved_metrics_ids" in data else None
        holdouts = call.table("experiment_holdouts")
        if sync_flag:
            holdout_id = data.get("holdout_id", record.get("holdout_id"))
            holdout = holdouts.get(holdout_id) if holdout_id is not None else None
            params = data.get("parameters")
            if params:
                groups = list((flag.get("filters") or {}).get("groups") or [])
                rollout = params.get("rollout_percentage")
                if rollout is not None and groups:
                    groups = [{**groups[0], "rollout_percentage": rollout}, *groups[1:]]
                filters = {
                    **(flag.get("filters") or {}),
                    "groups": groups,
                    "multivariate": {
                        "variants": params.get("feature_flag_variants") or [dict(v) for v in DEFAULT_VARIANTS]
                    },
                    "aggregation_group_type_index": params.get("aggregation_group_type_index"),
                    **holdout_filter(holdout),
                }
                flag = self.patch_flag(call, record, {"filters": filters})
            elif "holdout_id" in data:
                flag = self.patch_flag(
                    call, record, {"filters": {**(flag.get("filters") or {}), **holdout_filter(holdout)}}
                )
        update_variants = (data.get("parameters") or {}).get("feature_flag_variants")
        if "stats_config" in data or update_variants is not None:
            variants = update_variants
            if variants is None:
                variants = (record.get("parameters") or {}).get("feature_flag_variants") or flag_variants(
                    flag
                )
            check_stats_config(
                data.get("stats_config", record.get("stats_config")), [v.get("key") for v in variants]
            )
        if data.get("excluded_variants"):
            check_excluded_variants(
                data["excluded_variants"],
                [v.get("key") for v in flag_variants(flag)],
                baseline_of(data.get("stats_config", record.get("stats_config"))),
            )
        changed = {**record, **data}
        for name in ("metrics", "metrics_secondary"):
            if changed.get(name):
                changed[name] = fingerprinted(changed[name], changed)
        for field, name in (
            ("primary_metrics_ordered_uuids", "metrics"),
            ("secondary_metrics_ordered_uuids", "metrics_secondary"),
        ):
            if name in data and field not in data:
                old = {m.get("uuid") for m in record.get(name) or []}
                new = [m["uuid"] for m in data[name] or []]
                kept = [u for u in changed.get(field) or [] if u not in old or u in new]
                changed[field] = kept + [u for u in new if u not in kept]
        if saved_ids is not None:
            self.link_saved_metrics(call, changed, saved_ids)
        self.check_ordering(call, changed)
        if is_draft(record) and data.get("start_date") is not None and not flag.get("active"):
            self.patch_flag(call, record, {"active": True})
        changed["updated_at"] = call.timestamp()
        self.save(call, changed)
        self.index_on_flag(call, changed)
        return changed

    def check_update(self, call: Call, record: Record, data: dict[str, Any], flag: Record) -> None:
        """_validate_update_payload."""
        if record.get("deleted") and data.get("deleted") is False and flag.get("deleted"):
            raise invalid(
                "Cannot restore experiment: the linked feature flag has been deleted. "
                "Restore the feature flag first, then restore the experiment."
            )
        if is_draft(record) and data.get("start_date") is not None:
            self.check_launchable(flag)
        extra = set(data) - UPDATABLE
        if data.get("feature_flag_key") == flag["key"]:
            extra.discard("feature_flag_key")
        if extra:
            names = ", ".join(sorted("get_feature_flag_key" if k == "feature_flag_key" else k for k in extra))
            raise invalid(f"Can't update keys: {names} on Experiment")
        if not is_draft(record):
            variants = (data.get("parameters") or {}).get("feature_flag_variants")
            if variants is not None:
                keys = [v.get("key") for v in flag_variants(flag)]
                if len(variants) != len(keys) or any(keys.count(v.get("key")) != 1 for v in variants):
                    raise invalid("Can't update feature_flag_variants on Experiment")
            if "holdout_id" in data and data["holdout_id"] != record.get("holdout_id"):
                raise invalid("Can't update holdout on running Experiment")
        if ((data.get("filters") or {}) if isinstance(data.get("filters"), dict) else {}).get("properties"):
            raise invalid("Experiments do not support global filter properties")

    def check_launchable(self, flag: Record) -> None:
        if flag.get("deleted"):
            raise invalid("Experiment cannot be launched because its feature flag has been deleted.")
        check_existing_flag(flag)

    # -- lifecycle actions -------------------------------------------------------------------
    @quirk("experiments_launch_create")
    def launch(self, call: Call) -> Any:
        record = self.get(call)
        if not is_draft(record):
            raise invalid("Experiment has already been launched.")
        flag = self.flag(call, record)
        self.check_launchable(flag)
        changed = {**record, "start_date": call.timestamp(), "updated_at": call.timestamp()}
        for name in ("metrics", "metrics_secondary"):
            if changed.get(name):
                changed[name] = fingerprinted(changed[name], changed)
        self.patch_flag(call, record, {"active": True})
        return self.serialize(call, self.save(call, changed))

    @quirk("experiments_archive_create")
    def archive(self, call: Call) -> Any:
        record = self.get(call)
        if record.get("archived"):
            raise invalid("Experiment is already archived.")
        if not is_stopped(record):
            raise invalid("Experiment must be ended before it can be archived.")
        return self.changed(call, record, archived=True)

    @quirk("experiments_unarchive_create")
    def unarchive(self, call: Call) -> Any:
        record = self.get(call)
        if not record.get("archived"):
            raise invalid("Experiment is not archived.")
        return self.changed(call, record, archived=False)

    @quirk("experiments_pause_create")
    def pause(self, call: Call) -> Any:
        return self.set_flag_active(call, False)

    @quirk("experiments_resume_create")
    def resume(self, call: Call) -> Any:
        return self.set_flag_active(call, True)

    def set_flag_active(self, call: Call, active: bool) -> Any:
        """pause_experiment / resume_experiment: only the flag changes; paused is derived from it."""
        record = self.get(call)
        self.check_running(record)
        flag = self.flag(call, record)
        if bool(flag.get("active")) == active:
            raise invalid("Experiment is not paused." if active else "Experiment is already paused.")
        self.patch_flag(call, record, {"active": active})
        return self.serialize(call, record)

    def check_running(self, record: Record) -> None:
        if is_draft(record):
            raise invalid("Experiment has not been launched yet.")
        if is_stopped(record):
            raise invalid("Experiment has already ended.")

    @quirk("experiments_end_create")
    def end(self, call: Call) -> Any:
        record = self.get(call)
        self.check_running(record)
        body = call.body or {}
        return self.changed(
            call,
            record,
            end_date=call.timestamp(),
            conclusion=body.get("conclusion"),
            conclusion_comment=body.get("conclusion_comment"),
        )

    @quirk("experiments_ship_variant_create")
    def ship_variant(self, call: Call) -> Any:
        """Ship one variant to 100 % of the variant split (release conditions kept), ending the
        experiment if it still runs."""
        record = self.get(call)
        if is_draft(record):
            raise invalid("Experiment has not been launched yet.")
        flag = self.flag(call, record)
        key = call.body["variant_key"]
        variants = flag_variants(flag)
        if not any(variant.get("key") == key for variant in variants):
            raise invalid(f"Variant '{key}' not found on feature flag.")
        filters = flag.get("filters") or {}
        shipped = {
            "aggregation_group_type_index": filters.get("aggregation_group_type_index"),
            "payloads": filters.get("payloads", {}),
            "multivariate": {
                "variants": [
                    {
                        "key": v["key"],
                        "rollout_percentage": 100 if v["key"] == key else 0,
                        **({"name": v["name"]} if v.get("name") else {}),
                    }
                    for v in variants
                ]
            },
            "groups": list(filters.get("groups") or []),
        }
        self.patch_flag(call, record, {"filters": shipped})
        changes: dict[str, Any] = {}
        if is_running(record):
            changes["end_date"] = call.timestamp()
        for name in ("conclusion", "conclusion_comment"):
            if call.body.get(name) is not None:
                changes[name] = call.body[name]
        return self.changed(call, record, **changes)

    @quirk("experiments_reset_create")
    def reset(self, call: Call) -> Any:
        record = self.get(call)
        if is_draft(record):
            raise invalid("Experiment is already in draft state.")
        return self.changed(
            call,
            record,
            start_date=None,
            end_date=None,
            archived=False,
            conclusion=None,
            conclusion_comment=None,
        )

    def changed(self, call: Call, record: Record, **changes: Any) -> Any:
        return self.serialize(call, self.save(call, {**record, **changes, "updated_at": call.timestamp()}))

    @quirk("experiments_duplicate_create")
    def duplicate(self, call: Call) -> Any:
        """duplicate_experiment (clone_experiment in the same project): a new draft."""
        source = self.get(call)
        if self.has_legacy_metrics(call, source):
            return Reply(
                body={"detail": "Duplication is not supported for experiments using legacy metrics."},
                status=400,
            )
        body = call.body or {}
        source_flag = self.flag(call, source)
        key = body.get("feature_flag_key") or source_flag["key"]
        parameters = json.loads(json.dumps(source.get("parameters"))) or {}
        if key != source_flag["key"]:
            existing = next((row for row in call.table("feature_flags").values() if row["key"] == key), None)
            if existing is not None and flag_variants(existing):
                parameters["feature_flag_variants"] = flag_variants(existing)
        check_parameters(parameters)
        name = body.get("name")
        if not name:
            taken = {row["name"] for row in self.rows(call)}
            name = base = f"{source['name']} (Copy)"
            counter = 1
            while name in taken:
                name, counter = f"{base} {counter}", counter + 1
        if len(name) > NAME_LENGTH:
            # Experiment.name is a varchar(400): PostHog's insert fails (a 500); refused here as
            # the serializer words a long name
            raise errors.validation_error(
                f"Ensure this field has no more than {NAME_LENGTH} characters.", "name", "max_length"
            )
        remaps: dict[str, dict[str, str]] = {}
        cloned: dict[str, Any] = {}
        for name_field, order_field in (
            ("metrics", "primary_metrics_ordered_uuids"),
            ("metrics_secondary", "secondary_metrics_ordered_uuids"),
        ):
            remap = remaps[name_field] = {}
            metrics = []
            for metric in source.get(name_field) or []:
                fresh = call.new_uuid()
                if metric.get("uuid"):
                    remap[metric["uuid"]] = fresh
                metrics.append({**metric, "uuid": fresh})
            cloned[name_field] = metrics
            ordering = source.get(order_field)
            cloned[order_field] = [remap.get(u, u) for u in ordering] if ordering else ordering
        links = self.saved_metric_links(call, source)
        data = {
            "name": name,
            "feature_flag_key": key,
            "description": source.get("description") or "",
            "type": source.get("type") or "product",
            "parameters": parameters,
            "filters": source.get("filters"),
            "stats_config": source.get("stats_config"),
            "scheduling_config": source.get("scheduling_config"),
            "exposure_criteria": source.get("exposure_criteria"),
            "saved_metrics_ids": [
                {"id": link["saved_metric"], "metadata": link["metadata"]} for link in links
            ]
            or None,
            "only_count_matured_users": source.get("only_count_matured_users"),
            "allow_unknown_events": True,
            **cloned,
        }
        return Reply(body=self.serialize(call, self.create_experiment(call, data)), status=201)

    def has_legacy_metrics(self, call: Call, record: Record) -> bool:
        metrics = [*(record.get("metrics") or []), *(record.get("metrics_secondary") or [])]
        metrics += [link["query"] or {} for link in self.saved_metric_links(call, record)]
        return any(isinstance(m, dict) and m.get("kind") in LEGACY_METRIC_KINDS for m in metrics)

    @quirk("experiments_eligible_feature_flags_retrieve")
    def eligible_feature_flags(self, call: Call) -> Any:
        """Multivariate flags of two or more variants whose first variant is 'control', except the
        surveys' internal targeting flags; ``{"results", "count"}`` pages of 20 (100 at most)."""
        query = call.query
        try:
            limit = min(int(query.get("limit", 20)), 100)
            offset = max(int(query.get("offset", 0)), 0)
        except ValueError:
            return Reply(body={"error": "Invalid limit or offset"}, status=400)
        internal = survey_flag_ids(call)
        flags = call.backend.resources["feature_flags"]
        rows = [
            row
            for row in call.table("feature_flags").values()
            if len(flag_variants(row)) >= 2
            and flag_variants(row)[0].get("key") == "control"
            and row["id"] not in internal
        ]
        if query.get("search"):
            needle = query["search"].lower()
            rows = [r for r in rows if needle in r["key"].lower() or needle in (r.get("name") or "").lower()]
        if query.get("active") is not None:
            rows = [row for row in rows if bool(row.get("active")) == (query["active"].lower() == "true")]
        if query.get("created_by_id"):
            rows = [
                row for row in rows if str((row.get("created_by") or {}).get("id")) == query["created_by_id"]
            ]
        if query.get("evaluation_runtime"):
            rows = [row for row in rows if row.get("evaluation_runtime") == query["evaluation_runtime"]]
        if query.get("has_evaluation_contexts") is not None:
            # the flags here carry no evaluation context (their evaluation_contexts are [])
            wanted = query["has_evaluation_contexts"].lower() in ("true", "1", "yes")
            rows = [row for row in rows if bool(row.get("evaluation_contexts")) == wanted]
        order = query.get("order") or "-created_at"
        if order.lstrip("-") not in ELIGIBLE_ORDER_FIELDS or order.count("-") > 1:
            raise invalid(f"Invalid order field: '{order}'")
        field = order.lstrip("-")
        rows.sort(key=lambda row: (row.get(field) or "", row["id"]), reverse=order.startswith("-"))
        page = rows[offset : offset + limit]
        return {"results": [flags.serialize(call, row) for row in page], "count": len(rows)}

    # -- seed --------------------------------------------------------------------------------
    seed_writes = ("feature_flags",)  # the flag's side of the link

    def seed(self, ctx: Any) -> list[Record]:
        """One running experiment on the seeded multivariate flag (pricing-page-test), measured on a
        seeded event."""
        flags = ctx.tables.get("feature_flags") or {}
        flag = next((row for row in flags.values() if row["key"] == "pricing-page-test"), None)
        if flag is None:
            return []
        started = ctx.moment(30, 10)
        created = ctx.moment(40, 31)
        metric = {
            "kind": "ExperimentMetric",
            "metric_type": "funnel",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            "uuid": ctx.uuid(),
            "name": "Pricing page to signup",
        }
        record = {
            "id": 1,
            "name": "Pricing page layout",
            "description": "Does a shorter pricing page or annual-first pricing lift conversion?",
            "start_date": started,
            "end_date": None,
            "holdout_id": None,
            "exposure_cohort": None,
            "parameters": {"feature_flag_variants": flag_variants(flag)},
            # the calculator's state has its own field today (it used to live in parameters)
            "running_time_calculation": {"minimum_detectable_effect": 20},
            "excluded_variants": None,
            "secondary_metrics": [],
            "filters": {},
            "archived": False,
            "deleted": False,
            "created_by": user_basic(ctx.user),
            "created_at": created,
            "updated_at": started,
            "type": "product",
            "exposure_criteria": {"filterTestAccounts": True},
            "metrics": [metric],
            "metrics_secondary": [],
            "stats_config": {"method": "bayesian"},
            "scheduling_config": None,
            "conclusion": None,
            "conclusion_comment": None,
            "primary_metrics_ordered_uuids": [metric["uuid"]],
            "secondary_metrics_ordered_uuids": None,
            "only_count_matured_users": False,
            "_flag": flag["id"],
        }
        record["metrics"] = fingerprinted(record["metrics"], record)
        # the flag's side of the link, as the flag serializer shows it (a new row: seeded rows are shared)
        flags[flag["id"]] = {**flag, "experiment_set": [1]}
        return [record]


class ExperimentHoldouts(Resource):
    """ExperimentHoldoutViewSet: a plain ModelViewSet (DELETE really deletes)."""

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        return editable(super().serialize(call, record))

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        self.check_filters(data.get("filters"))
        if not data.get("filters"):
            raise invalid("Filters are required to create an holdout group")
        record = super().build(call, data)
        user = user_basic(call.user)
        return {
            **record,
            "filters": self.with_variant(record["id"], record["filters"]),
            "created_by": user,
            "updated_at": record["created_at"],
        }

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """update(): changed filters get the holdout's variant, and the first one's percentage becomes
        the exclusion percentage on the flag of every experiment in the holdout."""
        self.check_filters(data.get("filters"))
        data = dict(data)
        filters = data.get("filters")
        if filters and filters != record.get("filters"):
            data["filters"] = self.with_variant(record["id"], filters)
            self.write_flags(call, record, {**record, **data})
        return {**record, **data, "updated_at": call.timestamp()}

    @quirk("experiment_holdouts_destroy")
    def destroy(self, call: Call) -> Any:
        """The flags of the holdout's experiments lose its filters; then DRF's destroy (whose
        SET_NULL on experiments.holdout_id is the row's)."""
        self.write_flags(call, self.get(call), None)
        return super().destroy(call)

    def write_flags(self, call: Call, record: Record, holdout: Record | None) -> None:
        """The ``holdout`` entry (holdout_filters_for_flag) on the flag of each experiment in it."""
        experiments: Experiments = call.backend.resources["experiments"]  # type: ignore[assignment]
        for row in call.table("experiments").values():
            if row.get("holdout_id") == record["id"]:
                flag = experiments.flag(call, row)
                filters = {**(flag.get("filters") or {}), **holdout_filter(holdout)}
                experiments.patch_flag(call, row, {"filters": filters})

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's holdouts, in no experiment yet (so no seeded flag carries their filters)."""
        records = []
        for index, spec in enumerate(ctx.profile["experiment_holdouts"], start=1):
            created = ctx.moment(60, 45)
            group = {"properties": [], "rollout_percentage": spec["rollout_percentage"]}
            records.append(
                {
                    **self.defaults,
                    "id": index,
                    "name": spec["name"],
                    "description": spec.get("description"),
                    "filters": self.with_variant(index, [group]),
                    "created_by": user_basic(ctx.user),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return records

    @staticmethod
    def with_variant(holdout_id: int, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**group, "variant": f"holdout-{holdout_id}"} for group in filters]

    @staticmethod
    def check_filters(filters: Any) -> None:
        """validate_filters (run when the body has filters)."""
        if filters is None:
            return
        if not filters:
            raise invalid("Filters must not be empty.", "filters")
        for group in filters:
            percentage = group.get("rollout_percentage")
            if percentage is None:
                raise invalid("Rollout percentage must be present.", "filters")
            if not isinstance(percentage, int | float) or isinstance(percentage, bool):
                raise invalid("Rollout percentage must be a number.", "filters")
            if percentage < 0 or percentage > 100:
                raise invalid("Rollout percentage must be between 0 and 100.", "filters")


class ExperimentSavedMetrics(Resource):
    """ExperimentSavedMetricViewSet: shared metrics, listed by name (case-insensitive); DELETE
    deletes, and with it the metric's links to experiments."""

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        return editable(super().serialize(call, record))

    def check_name(self, call: Call, name: str, own: int | None) -> None:
        for row in self.table(call).values():
            if row["name"].lower() == name.lower() and row["id"] != own:
                raise invalid("A shared metric with this name already exists.", "name")

    def normalized_query(self, call: Call, query: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
        """normalize_query_for_write: validated unless resent unchanged; keeps or makes the uuid."""
        if not query:
            raise invalid("Query is required to create a saved metric", "query")
        unchanged = existing is not None and _unnamed(query) == _unnamed(existing)
        if not unchanged:
            check_metric(call, query, "Invalid metric: ")
        query = dict(query)
        stored_uuid = (existing or {}).get("uuid")
        if stored_uuid and query.get("uuid") and query["uuid"] != stored_uuid:
            raise invalid("Saved metric UUID cannot be changed")
        query["uuid"] = stored_uuid or call.new_uuid()
        return query

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        self.check_name(call, data["name"], None)
        if not data.get("query"):
            raise invalid("Query is required to create a saved metric", "query")
        query = self.normalized_query(call, data["query"], None)
        record = super().build(call, {**data, "query": query, "tags": tagify(data.get("tags") or [])})
        return {**record, "created_by": user_basic(call.user), "updated_at": record["created_at"]}

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        data = dict(data)
        if "name" in data:
            self.check_name(call, data["name"], record["id"])
        if "query" in data:
            query = data["query"]
            if not query:
                raise invalid("Query is required to create a saved metric", "query")
        if (record.get("query") or {}).get("kind") in LEGACY_METRIC_KINDS:
            raise invalid(
                "This saved metric uses a legacy query format and cannot be updated. "
                "Please create a new saved metric with the ExperimentMetric format instead."
            )
        if "query" in data:
            data["query"] = self.normalized_query(call, data["query"], record.get("query"))
        if "tags" in data:
            data["tags"] = tagify(data["tags"] or [])
        return {**record, **data, "updated_at": call.timestamp()}

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's shared metrics, each with its own uuid as a create gives it."""
        records = []
        for index, spec in enumerate(ctx.profile["experiment_saved_metrics"], start=1):
            created = ctx.moment(50, 35)
            records.append(
                {
                    **self.defaults,
                    "id": index,
                    "name": spec["name"],
                    "description": spec.get("description"),
                    "query": {**spec["query"], "uuid": ctx.uuid()},
                    "tags": spec.get("tags", []),
                    "created_by": user_basic(ctx.user),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return records


def _unnamed(query: Any) -> Any:
    """A metric as compared for "resent unchanged" (the uuid is the server's, so it is left out)."""
    if not isinstance(query, dict):
        return query
    return {k: v for k, v in query.items() if k not in ("uuid",)}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _python_type(value: Any) -> str:
    return {dict: "dict", list: "list", str: "str", int: "int", float: "float", type(None): "NoneType"}.get(
        type(value), type(value).__name__
    )


def _python_repr(value: Any) -> str:
    text = repr(value)
    return text[:80] + "...(truncated)" if len(text) > 80 else text
