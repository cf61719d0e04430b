"""Feature flag evaluation as PostHog's flags service does it. Knows nothing of HTTP or the store.

A flag is a stored FeatureFlag record (``key``, ``active``, ``filters``); a person is its distinct id
and properties. The facts restated here come from PostHog's flags service (rust/feature-flags) and
the SDKs' local evaluators, which implement the same algorithm so that local and remote answers
agree:

- bucketing hashes ``"<flag key>.<distinct id><salt>"`` with SHA-1 and reads the first 15 hex
  digits as a fraction of 0xFFFFFFFFFFFFFFF; a condition holds the person when that fraction is at
  most ``rollout_percentage / 100``;
- the variant hashes the same string with the salt ``"variant"`` and walks the variants' rollout
  percentages in order;
- conditions (``filters.groups``) are tried in order, the first one that matches wins; its
  ``variant`` override is used when it names an existing variant;
- a group-aggregated flag (``aggregation_group_type_index``) buckets by the group key and matches
  group properties; without that group in the request it does not match (``no_group_type``);
- property operators compare as PostHog does: ``exact``/``is_not`` case-insensitively on the
  string form (a list value means "any of"), numeric operators on numbers, dates on ISO dates,
  ``regex`` with Python's ``re``; a property the person does not have never matches (only
  ``is_not_set`` and ``is_not`` hold for it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .resources.base import parse_time

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)
NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte")
DATE_OPERATORS = ("is_date_before", "is_date_after", "is_date_exact")
_RELATIVE_DATE = re.compile(r"^-?(\d+)([hdwmy])$")


@dataclass
class FlagResult:
    """One flag's answer for one distinct id, in the terms of the flags service's ``FlagDetails``."""

    key: str
    enabled: bool
    variant: str | None
    reason: str
    condition_index: int | None
    payload: Any
    flag_id: int
    version: int
    failed: bool = False  # the evaluation hit an error (errorsWhileComputingFlags)

    @property
    def value(self) -> bool | str:
        """What the legacy responses and the SDKs call the flag's value: the variant, else the bool."""
        return self.variant if self.variant is not None else self.enabled

    @property
    def description(self) -> str:
        if self.reason == "condition_match":
            return f"Matched condition set {(self.condition_index or 0) + 1}"
        return REASON_DESCRIPTIONS.get(self.reason, self.reason)


REASON_DESCRIPTIONS = {
    "dependency_not_found_cohort": "Cohort dependency not found",
    "no_condition_match": "No matching condition set",
    "out_of_rollout_bound": "Out of rollout bound",
    "no_group_type": "No group type",
    "flag_disabled": "Feature flag is disabled",
}


class MissingCohort(Exception):
    """A condition names a cohort the project does not have (the service's DependencyNotFound)."""


@dataclass
class Subject:
    """Who is evaluated: a distinct id, their person properties, their groups."""

    distinct_id: str
    person_properties: Mapping[str, Any]
    groups: Mapping[str, str]  # group type name -> group key
    group_properties: Mapping[str, Mapping[str, Any]]  # group type name -> properties


def bucket(key: str, identifier: str, salt: str = "") -> float:
    """PostHog's hash: a number in [0, 1) for ``"<key>.<identifier><salt>"``."""
    digest = hashlib.sha1(f"{key}.{identifier}{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / LONG_SCALE


def variant_for(flag: Mapping[str, Any], identifier: str) -> str | None:
    variants = ((flag.get("filters") or {}).get("multivariate") or {}).get("variants") or []
    point = bucket(flag["key"], identifier, "variant")
    low = 0.0
    for variant in variants:
        high = low + variant.get("rollout_percentage", 0) / 100
        if low <= point < high:
            return variant["key"]
        low = high
    return None


def payload_for(flag: Mapping[str, Any], value: bool | str) -> Any:
    """The payload stored for the value (``"true"`` for a boolean flag) as stored: its JSON text,
    which the flags service passes through and the SDKs parse."""
    payloads = (flag.get("filters") or {}).get("payloads") or {}
    return payloads.get("true" if value is True else value) if value is not False else None


def evaluate(
    flag: Mapping[str, Any],
    subject: Subject,
    group_type_mapping: Mapping[str, str],
    cohorts: Mapping[str, Any],
) -> FlagResult:
    """Evaluate one stored flag for one subject."""
    filters = flag.get("filters") or {}

    def result(
        enabled: bool, variant: str | None, reason: str, index: int | None, failed: bool = False
    ) -> FlagResult:
        value: bool | str = variant if variant is not None else enabled
        return FlagResult(
            failed=failed,
            key=flag["key"],
            enabled=enabled,
            variant=variant,
            reason=reason,
            condition_index=index,
            payload=payload_for(flag, value) if enabled else None,
            flag_id=flag.get("id", 0),
            version=flag.get("version") or 0,
        )

    if not flag.get("active", True):
        return result(False, None, "flag_disabled", None)
    aggregation = filters.get("aggregation_group_type_index")
    if aggregation is not None:
        group_type = group_type_mapping.get(str(aggregation))
        if group_type is None or group_type not in subject.groups:
            return result(False, None, "no_group_type", None)
        identifier = str(subject.groups[group_type])
        properties: Mapping[str, Any] = subject.group_properties.get(group_type) or {}
    else:
        identifier = subject.distinct_id
        properties = subject.person_properties
    variant_keys = {
        v["key"] for v in ((filters.get("multivariate") or {}).get("variants") or []) if "key" in v
    }
    best_reason, best_index = "no_condition_match", None
    for index, condition in enumerate(filters.get("groups") or []):
        props = condition.get("properties") or []
        try:
            held = all(matches_filter(prop, properties, cohorts) for prop in props)
        except MissingCohort:
            return result(False, None, "dependency_not_found_cohort", index, failed=True)
        if not held:
            if best_index is None:
                best_index = index
            continue
        rollout = condition.get("rollout_percentage")
        if rollout is not None and bucket(flag["key"], identifier) > rollout / 100:
            if best_reason != "out_of_rollout_bound":
                best_reason, best_index = "out_of_rollout_bound", index
            continue
        override = condition.get("variant")
        variant = override if override in variant_keys else variant_for(flag, identifier)
        return result(True, variant, "condition_match", index)
    return result(False, None, best_reason, best_index)


def matches_filter(
    prop: Mapping[str, Any], properties: Mapping[str, Any], cohorts: Mapping[str, Any]
) -> bool:
    """One property filter of a condition: a person/group property, or a cohort."""
    if prop.get("type") == "cohort":
        key = str(prop.get("value"))
        if key not in cohorts:
            raise MissingCohort(key)
        definition = cohorts[key]  # None: a static cohort, whose members mockhog does not know
        inside = definition is not None and matches_group(definition, properties, cohorts)
        return inside != (prop.get("operator") == "not_in")
    return match_property(prop, properties)


def matches_group(group: Any, properties: Mapping[str, Any], cohorts: Mapping[str, Any]) -> bool:
    """A cohort's property group: ``{"type": "AND"|"OR", "values": [filters or groups]}``."""
    if not isinstance(group, Mapping):
        return False
    values = group.get("values") or []
    if not values:
        return True
    outcomes = []
    for item in values:
        if isinstance(item, Mapping) and "values" in item and "key" not in item:
            outcome = matches_group(item, properties, cohorts)
        elif isinstance(item, Mapping):
            outcome = matches_filter(item, properties, cohorts)
            if item.get("negation"):
                outcome = not outcome
        else:
            outcome = False
        outcomes.append(outcome)
    return all(outcomes) if group.get("type", "AND") == "AND" else any(outcomes)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict | list) else str(value)


def as_number(value: Any) -> float | None:
    """A property value as a number for gt/lt comparisons (a flag is none), else None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _moment(value: Any, now: datetime) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    relative = _RELATIVE_DATE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        days = {"h": amount / 24, "d": amount, "w": 7 * amount, "m": 30 * amount, "y": 365 * amount}[unit]
        return now - timedelta(days=days)
    return parse_time(value)


def match_property(prop: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """A person or group property filter with PostHog's operators."""
    key, operator, wanted = prop.get("key"), prop.get("operator") or "exact", prop.get("value")
    if operator == "is_not_set":
        return key not in properties
    if key not in properties:
        return operator == "is_not"
    if operator == "is_set":
        return True
    have = properties[key]
    if operator in ("exact", "is_not"):
        options = wanted if isinstance(wanted, list) else [wanted]
        found = _text(have).lower() in {_text(option).lower() for option in options}
        return found == (operator == "exact")
    if operator in ("icontains", "not_icontains"):
        found = _text(wanted).lower() in _text(have).lower()
        return found == (operator == "icontains")
    if operator in ("regex", "not_regex"):
        try:
            found = re.search(_text(wanted), _text(have)) is not None
        except re.error:
            return False
        return found == (operator == "regex")
    if operator in NUMERIC_OPERATORS:
        left, right = as_number(have), as_number(wanted)
        if left is None or right is None:
            left_text, right_text = _text(have), _text(wanted)
            return {
                "gt": left_text > right_text,
                "gte": left_text >= right_text,
                "lt": left_text < right_text,
                "lte": left_text <= right_text,
            }[operator]
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[operator]
    if operator in DATE_OPERATORS:
        now = datetime.now(UTC)
        limit, moment = _moment(wanted, now), _moment(have, now)
        if limit is None or moment is None:
            return False
        if operator == "is_date_exact":
            return moment.date() == limit.date()
        return moment < limit if operator == "is_date_before" else moment > limit
    return False


def evaluate_all(
    flags: list[Mapping[str, Any]],
    subject: Subject,
    group_type_mapping: Mapping[str, str],
    cohorts: Mapping[str, Any],
    only: list[str] | None = None,
) -> dict[str, FlagResult]:
    """Every active-or-not, undeleted flag (or those in ``only``), keyed by flag key."""
    wanted = set(only) if only else None
    return {
        flag["key"]: evaluate(flag, subject, group_type_mapping, cohorts)
        for flag in flags
        if not flag.get("deleted") and (wanted is None or flag["key"] in wanted)
    }
