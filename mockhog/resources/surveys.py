"""Surveys: PostHog's SurveyViewSet (products/surveys/backend/api/survey.py), verified tier.

What the source does and this module restates:
- POST and PATCH go through SurveySerializerCreateUpdateOnly (and answer in its shape, without
  ``feature_flag_keys``); reads use SurveySerializer.
- Field validators: questions (text required, strings, choices, links with https/mailto, open-text
  validation rules, inline translations), appearance, conditions, schedule, base_language,
  translations; then validate(): the linked and targeting flags and the linked insight exist, the
  linked flag variant, a unique name in the project, targeting that is not "everyone", response
  sampling, shuffling without branching, what external surveys may not have.
- Linked flags as PostHog makes them: ``targeting_flag_filters`` create (or update) a targeting flag
  ``survey-targeting-<10 hex>``; every survey has an internal targeting flag
  (``survey-targeting-<10 hex>-custom``) that leaves out persons who dismissed or answered it. Both
  are active only while the survey runs (started, not ended, not archived).
- ``launch`` sets start_date and ``stop`` end_date (no-ops when already so); archive is
  ``PATCH {"archived": true}``; DELETE really deletes the survey and its targeting flags.
- models.py: question ids are generated; recurring surveys get their iteration start dates.
- What the SDKs load (``sdk_surveys``, no HTTP): get_surveys_response over SurveyAPISerializer, the
  public shape of every survey of the project that is not archived (drafts and ended ones too: the
  SDK decides what to show from start_date and end_date), with the team's ``survey_config``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .. import errors
from ..store import Record
from .actions import step_views
from .base import Call, Resource, iso, quirk
from .feature_flags import minimal, user_basic
from .product import drf_datetime, editable, parse_moment, write_flag

if TYPE_CHECKING:
    from ..backend import Backend

TARGETING_PREFIX = "survey-targeting-"
SURVEY_TYPES = ("popover", "widget", "external_survey", "api")
SCHEDULES = ("once", "recurring", "always")
MAX_ITERATION_COUNT = 500
EMAIL_LINK = re.compile(r"^mailto:[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8}){0,3}$")
REJECTED_LANGUAGES = ("default", "original", "base")
VALIDATION_RULES = ("min_length", "max_length", "email")
QUESTION_TEXT_FIELDS = (
    ("buttonText", "Question buttonText must be a string"),
    ("lowerBoundLabel", "Question lowerBoundLabel must be a string"),
    ("upperBoundLabel", "Question upperBoundLabel must be a string"),
)
SURVEY_TRANSLATED = (
    "name",
    "description",
    "thankYouMessageHeader",
    "thankYouMessageDescription",
    "thankYouMessageCloseButtonText",
)
QUESTION_TRANSLATED = ("question", "description", "buttonText", "lowerBoundLabel", "upperBoundLabel")
NOT_FOR_EXTERNAL = ("linked_flag_id", "targeting_flag_filters")
# SURVEY_API_TRANSLATION_FIELDS: the survey-level strings SurveyAPISerializer passes on (never the
# description, which customers use for internal notes).
SDK_TRANSLATED = (
    "name",
    "thankYouMessageHeader",
    "thankYouMessageDescription",
    "thankYouMessageCloseButtonText",
)
CONDITIONS_NOT_FOR_EXTERNAL = (
    "url",
    "urlMatchType",
    "selector",
    "seenSurveyWaitPeriodInDays",
    "linkedFlagVariant",
    "deviceTypes",
    "deviceTypesMatchType",
)


def invalid(detail: str, attr: str | None = None, code: str = "invalid") -> errors.ApiError:
    return errors.validation_error(detail, attr, code)


def survey_flag_ids(call: Call) -> set[int]:
    """Survey.get_internal_flag_ids: the flags the surveys manage (not the user's linked flags)."""
    return {
        flag_id
        for row in call.table("surveys").values()
        for flag_id in (row.get("_targeting_flag"), row.get("_internal_flag"))
        if flag_id is not None
    }


def is_running(record: Record) -> bool:
    """_should_survey_flags_be_active."""
    return bool(record.get("start_date")) and not record.get("end_date") and not record.get("archived")


def language(raw: str) -> str:
    return raw.strip().lower().replace("_", "-")


# -- field validators (SurveySerializerCreateUpdateOnly) ----------------------------------------
def check_link(link: str, attr: str) -> None:
    parsed = urlparse(link)
    if parsed.scheme not in ("https", "mailto"):
        raise invalid("Link must be a URL with one of these schemes: [https, mailto]", attr)
    if parsed.scheme == "mailto" and not EMAIL_LINK.match(link):
        raise invalid(
            "Invalid mailto link. Please enter a valid mailto link (e.g., mailto:example@domain.com).", attr
        )
    if parsed.scheme == "https" and not parsed.netloc:
        raise invalid("Invalid HTTPS URL. Please enter a valid HTTPS link.", attr)


def check_choices(choices: list[Any], attr: str) -> None:
    for choice in choices:
        if not isinstance(choice, str):
            raise invalid("Question choices must be strings", attr)
        if not choice.strip():
            raise invalid("Question choices cannot be empty", attr)


def check_language_key(raw: Any, base: str, context: str, attr: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid(f"{context}: translation language code cannot be empty.", attr)
    normalized = language(raw)
    if normalized in REJECTED_LANGUAGES:
        raise invalid(
            f"{context}: '{raw}' is not a valid translation language. The untranslated text is the "
            "original — set the survey's base language instead of adding it as a translation.",
            attr,
        )
    if not LANGUAGE.match(normalized):
        raise invalid(
            f"{context}: '{raw}' is not a valid language code. Use BCP-47 codes like 'en', 'es', or 'es-MX' "
            "(not language names like 'english').",
            attr,
        )
    if normalized == base:
        raise invalid(
            f"{context}: '{raw}' matches the survey's base language ('{base}'). The original text already "
            "covers this language — translate to a different language.",
            attr,
        )
    return normalized


def clean_translations(
    value: dict[str, Any], base: str, existing: dict[str, Any], question: int | None, attr: str
) -> dict[str, Any]:
    """validate_translations (``question`` None) or _validate_question_translations (its number):
    each language's translatable strings; new language keys normalised and checked, keys already
    stored kept as they are (write-strict, read-tolerant)."""
    context = "Survey translation" if question is None else f"Question {question} translation"
    prefix = "" if question is None else f"Question {question}: "
    fields = SURVEY_TRANSLATED if question is None else QUESTION_TRANSLATED
    cleaned: dict[str, Any] = {}
    for raw, entry in value.items():
        if not isinstance(entry, dict):
            raise invalid(f"{prefix}Translation for '{raw}' must be an object", attr)
        kept = {}
        for field in fields:
            if field in entry:
                if not isinstance(entry[field], str):
                    if question is None:
                        raise invalid(f"Translation for '{raw}': '{field}' must be a string", attr)
                    raise invalid(f"{prefix}Translation '{raw}' field '{field}' must be a string", attr)
                kept[field] = entry[field]
        if question is not None:
            if entry.get("link"):
                if not isinstance(entry["link"], str):
                    raise invalid(f"{prefix}Translation '{raw}' field 'link' must be a string", attr)
                check_link(entry["link"], attr)
                kept["link"] = entry["link"]
            if "choices" in entry:
                if not isinstance(entry["choices"], list):
                    raise invalid(
                        f"{prefix}Translation '{raw}' field 'choices' must be a list of strings", attr
                    )
                check_choices(entry["choices"], attr)
                kept["choices"] = entry["choices"]
        if not kept:
            continue
        if raw in existing:
            cleaned[raw] = kept
            continue
        key = check_language_key(raw, base, context, attr)
        if any(language(other) == key for other in cleaned):
            raise invalid(f"{context}: '{raw}' collides with another translation for '{key}'.", attr)
        cleaned[key] = kept
    return cleaned


def check_questions(value: Any, base: str, instance: Record | None) -> Any:
    """validate_questions."""
    attr = "questions"
    if value is None:
        return value
    if not isinstance(value, list):
        raise invalid("Questions must be a list of objects", attr)
    stored = [q for q in (instance or {}).get("questions") or [] if isinstance(q, dict)]
    cleaned = []
    for index, raw in enumerate(value):
        if not isinstance(raw, dict):
            raise invalid("Questions must be a list of objects", attr)
        question = dict(raw)
        text = raw.get("question")
        if not text:
            raise invalid("Question text is required", attr)
        if not isinstance(text, str):
            raise invalid("Question text must be a string", attr)
        if raw.get("description") and not isinstance(raw["description"], str):
            raise invalid("Question description must be a string", attr)
        for field, message in QUESTION_TEXT_FIELDS:
            if raw.get(field) and not isinstance(raw[field], str):
                raise invalid(message, attr)
        choices = raw.get("choices")
        if choices:
            if not isinstance(choices, list):
                raise invalid("Question choices must be a list of strings", attr)
            check_choices(choices, attr)
        content_type = raw.get("descriptionContentType")
        if content_type and content_type not in ("text", "html"):
            raise invalid("Question descriptionContentType must be one of ['text', 'html']", attr)
        if "translations" in raw:
            translations = raw["translations"]
            if not isinstance(translations, dict):
                raise invalid(f"Question {index + 1}: translations must be an object", attr)
            existing = stored[index].get("translations") if index < len(stored) else None
            stored_translations = existing if isinstance(existing, dict) else {}
            cleaned_translations = clean_translations(
                translations, base, stored_translations, index + 1, attr
            )
            for code, entry in cleaned_translations.items():
                if "choices" not in entry:
                    continue
                if not isinstance(question.get("choices"), list):
                    entry.pop("choices")
                elif len(entry["choices"]) != len(question["choices"]):
                    raise invalid(
                        f"Question {index + 1}: Translation '{code}' has {len(entry['choices'])} choices but "
                        f"question has {len(question['choices'])} choices. Array lengths must match to avoid "
                        "partial translations.",
                        attr,
                    )
            question["translations"] = cleaned_translations
        link = raw.get("link")
        if link:
            if not isinstance(link, str):
                raise invalid(f"Question {index + 1}: link must be a string", attr)
            check_link(link, attr)
        check_validation_rules(raw.get("validation"), attr)
        cleaned.append(question)
    return cleaned


def check_validation_rules(rules: Any, attr: str) -> None:
    """An open question's ``validation``: min_length / max_length (positive integers) and email."""
    if rules is None:
        return
    if not isinstance(rules, list):
        raise invalid("Question validation must be a list of validation rules", attr)
    for rule in rules:
        if not isinstance(rule, dict):
            raise invalid("Each validation rule must be an object", attr)
        if rule.get("type") not in VALIDATION_RULES:
            raise invalid(f"Validation rule type must be one of: {', '.join(VALIDATION_RULES)}", attr)
        value = rule.get("value")
        if rule["type"] != "email" and value is not None and (not _is_int(value) or value <= 0):
            raise invalid(f"Validation rule value for {rule['type']} must be a positive integer", attr)
    bounds = {rule["type"]: rule.get("value") for rule in reversed(rules)}
    low, high = bounds.get("min_length"), bounds.get("max_length")
    if low is not None and high is not None and low > high:
        raise invalid("Minimum length cannot be greater than maximum length", attr)


def check_appearance(value: Any) -> Any:
    attr = "appearance"
    if value is None:
        return value
    if not isinstance(value, dict):
        raise invalid("Appearance must be an object", attr)
    content_type = value.get("thankYouMessageDescriptionContentType")
    if content_type and content_type not in ("text", "html"):
        raise invalid("thankYouMessageDescriptionContentType must be one of ['text', 'html']", attr)
    delay = value.get("surveyPopupDelaySeconds")
    if delay and (not isinstance(delay, int | float) or isinstance(delay, bool)):
        raise invalid("Survey popup delay seconds must be a positive integer", attr)  # PostHog: a 500
    if delay and delay < 0:
        raise invalid("Survey popup delay seconds must be a positive integer", attr)
    if value.get("whiteLabel") is not None and not isinstance(value["whiteLabel"], bool):
        raise invalid("whiteLabel must be a boolean", attr)
    return value


def check_base_language(value: Any) -> str:
    attr = "base_language"
    if value is None or (isinstance(value, str) and not value.strip()):
        return "en"
    normalized = language(value)
    if normalized in REJECTED_LANGUAGES:
        raise invalid(f"'{value}' is not a valid language code. Use a BCP-47 code like 'en' or 'es'.", attr)
    if not LANGUAGE.match(normalized):
        raise invalid(
            f"'{value}' is not a valid language code. Use BCP-47 codes like 'en', 'es', or 'es-MX'.", attr
        )
    return normalized


# What SurveySerializer's create leaves a survey with where the body says nothing (the model's
# defaults), beside the schema's.
NEW_SURVEY: dict[str, Any] = {
    "description": "",
    "schedule": "once",
    "questions": None,
    "conditions": None,
    "appearance": None,
    "archived": False,
    "responses_limit": None,
    "iteration_count": None,
    "iteration_frequency_days": None,
    "current_iteration": None,
    "current_iteration_start_date": None,
    "response_sampling_start_date": None,
    "response_sampling_interval_type": "week",
    "response_sampling_interval": None,
    "response_sampling_limit": None,
    "response_sampling_daily_limits": None,
    "enable_partial_responses": False,
    "enable_iframe_embedding": False,
    "base_language": "en",
    "translations": None,
    "form_content": None,
    "linked_flag_id": None,
    "linked_insight_id": None,
    "start_date": None,
    "end_date": None,
}


class Surveys(Resource):
    """SurveyViewSet (a ModelViewSet: DELETE deletes)."""

    query_ordering = True

    # -- reads ---------------------------------------------------------------------------
    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        return sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        """SurveyFilterSet (archived, type, ids) and the search on name and description."""
        query = call.query
        archived = str(query.get("archived") or "").lower()
        if archived in ("true", "false"):
            rows = [row for row in rows if bool(row.get("archived")) == (archived == "true")]
        if query.get("type"):
            if query["type"] not in SURVEY_TYPES:
                raise errors.validation_error(
                    f"Select a valid choice. {query['type']} is not one of the available choices.",
                    "type",
                    "invalid_choice",
                )
            rows = [row for row in rows if row["type"] == query["type"]]
        if query.get("ids"):
            wanted = set()
            for part in query["ids"].split(","):
                try:
                    wanted.add(str(uuid.UUID(part.strip())))
                except ValueError:
                    raise errors.validation_error("Enter a valid UUID.", "ids") from None
            rows = [row for row in rows if row["id"] in wanted]
        return super().filter(call, rows)  # the row's search fields

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        """SurveySerializer."""
        flags = call.table("feature_flags")
        linked = flags.get(record.get("linked_flag_id")) if record.get("linked_flag_id") is not None else None
        targeting = (
            flags.get(record.get("_targeting_flag")) if record.get("_targeting_flag") is not None else None
        )
        internal = (
            flags.get(record.get("_internal_flag")) if record.get("_internal_flag") is not None else None
        )
        view = {
            **record,
            "linked_flag": minimal(linked, call.project_id) if linked else None,
            "linked_flag_id": linked["id"] if linked else None,
            "targeting_flag": minimal(targeting, call.project_id) if targeting else None,
            "internal_targeting_flag": minimal(internal, call.project_id) if internal else None,
            "conditions": self.conditions_view(call, record),
            "feature_flag_keys": [
                {"key": "linked_flag_key", "value": linked["key"] if linked else None},
                {"key": "targeting_flag_key", "value": targeting["key"] if targeting else None},
                {"key": "internal_targeting_flag_key", "value": internal["key"] if internal else None},
                {"key": "internal_response_sampling_flag_key", "value": None},
            ],
            "search_match_type": self.search_match_type(call, record) if call.op.action == "list" else None,
        }
        return editable(super().serialize(call, view))

    def written(self, call: Call, record: Record) -> dict[str, Any]:
        """SurveySerializerCreateUpdateOnly's answer to POST and PATCH."""
        view = self.serialize(call, record)
        order = call.backend.contract.schemas.field_order("surveys.json", "SurveyWritten")
        return {name: view[name] for name in order}

    def conditions_view(self, call: Call, record: Record) -> Any:
        """get_survey_conditions_with_actions: the associated actions, serialized, under actions.values."""
        conditions = record.get("conditions")
        actions = [call.table("actions").get(key) for key in record.get("_actions") or []]
        actions = [row for row in actions if row is not None]
        if not actions:
            return conditions
        serialize = call.backend.resources["actions"].serialize
        return {**(conditions or {}), "actions": {"values": [serialize(call, row) for row in actions]}}

    # -- writes ----------------------------------------------------------------------------
    @quirk("surveys_create")
    def create(self, call: Call) -> Any:
        data = self.validated(call, call.body, None)
        filters = data.pop("targeting_flag_filters", None)
        data.pop("remove_targeting_flag", None)
        targeting = data.pop("targeting_flag_id", None)
        if filters:
            targeting = self.new_flag(call, filters, data["name"], False)["id"]
        now = call.timestamp()
        record: Record = {
            **self.defaults,
            **NEW_SURVEY,
            **{k: v for k, v in data.items() if k != "_create_in_folder"},
            "id": call.new_uuid(),
            "created_at": now,
            "_updated_at": now,
            "created_by": user_basic(call.user),
            "_targeting_flag": targeting,
        }
        record = self.prepared(call, record)
        self.sync_flags(call, record)
        return self.written(call, self.save(call, record))

    @quirk("surveys_partial_update")
    def partial_update(self, call: Call) -> Any:
        record = self.get(call)
        data = self.validated(call, call.body, record)
        return self.written(call, self.update_survey(call, record, data))

    @quirk("surveys_update")
    def update(self, call: Call) -> Any:
        record = self.get(call)
        data = self.validated(call, call.body, record)
        return self.serialize(call, self.update_survey(call, record, data))

    def update_survey(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        """SurveySerializerCreateUpdateOnly.update."""
        flags = call.table("feature_flags")
        changed = dict(record)
        if data.pop("remove_targeting_flag", None):
            if record.get("_targeting_flag") is not None:
                flags.delete(record["_targeting_flag"])  # the flag itself is deleted
            changed["_targeting_flag"] = None
        if "targeting_flag_id" in data:
            changed["_targeting_flag"] = data.pop("targeting_flag_id")
        filters = data.pop("targeting_flag_filters", None)
        if filters:
            existing = (
                flags.get(changed["_targeting_flag"]) if changed.get("_targeting_flag") is not None else None
            )
            if existing is not None:
                write_flag(call, {"filters": {**(existing.get("filters") or {}), **filters}}, existing["id"])
            else:
                flag = self.new_flag(call, filters, record["name"], bool(record.get("start_date")))
                changed["_targeting_flag"] = flag["id"]
        count = data.get("iteration_count")
        current = record.get("current_iteration")
        if current is not None and count is not None and current > count > 0:
            raise invalid(f"Cannot change survey recurrence to {count}, should be at least {current}")
        if count is not None:
            changed["iteration_frequency_days"] = data.get("iteration_frequency_days")
        data.pop("_create_in_folder", None)
        changed.update(data)
        changed["_updated_at"] = call.timestamp()
        resumed = record.get("end_date") is not None and changed.get("end_date") is None
        changed = self.prepared(call, changed)
        if resumed and self.final_iteration_ended(changed, call.now):
            # _reanchor_recurring_schedule_on_resume: the schedule restarts from now
            changed.update(
                start_date=call.timestamp(), current_iteration=None, current_iteration_start_date=None
            )
            changed = self.prepared(call, changed)
        targeting = (
            flags.get(changed["_targeting_flag"]) if changed.get("_targeting_flag") is not None else None
        )
        if targeting is not None and bool(targeting.get("active")) != is_running(changed):
            write_flag(call, {"active": is_running(changed)}, targeting["id"])
        self.sync_flags(call, changed)
        return self.save(call, changed)

    def prepared(self, call: Call, record: Record) -> Record:
        """pre_save_survey: question ids, iteration start dates, and the actions the conditions name."""
        record = dict(record)
        if record.get("questions"):
            record["questions"] = [
                question if question.get("id") else {**question, "id": call.new_uuid()}
                for question in record["questions"]
            ]
        count, every = record.get("iteration_count"), record.get("iteration_frequency_days")
        if not count or not every:
            record.update(iteration_start_dates=[], current_iteration=None, current_iteration_start_date=None)
        elif record.get("start_date") is None:
            record["iteration_start_dates"] = None
        else:
            start = parse_moment(record["start_date"])
            assert start is not None
            try:
                record["iteration_start_dates"] = [
                    iso(start + timedelta(days=every * n)) for n in range(min(count, MAX_ITERATION_COUNT))
                ]
            except OverflowError:  # PostHog's rrule fails with a 500 past the year 9999
                raise invalid(
                    "The iterations would end after the year 9999.", "iteration_frequency_days"
                ) from None
            if not record.get("current_iteration"):
                record.update(current_iteration=1, current_iteration_start_date=record["start_date"])
        values = ((record.get("conditions") or {}).get("actions") or {}).get("values") or []
        wanted = {value.get("id") for value in values if isinstance(value, dict)}
        actions = call.table("actions")
        record["_actions"] = sorted(
            key for key in wanted if actions.get(key) is not None and not actions.get(key).get("_deleted")
        )
        return record

    @staticmethod
    def final_iteration_ended(record: Record, now: datetime) -> bool:
        starts = record.get("iteration_start_dates") or []
        every = record.get("iteration_frequency_days")
        if not starts or not every or starts[-1] is None:
            return False
        last = parse_moment(starts[-1])
        return last is not None and now.date() > (last + timedelta(days=every)).date()

    def sync_flags(self, call: Call, record: Record) -> None:
        """_add_user_survey_interacted_filters: the internal targeting flag holds back whoever dismissed
        or answered the survey (this iteration of it), and whoever saw a survey in the wait period."""
        key = record["id"]
        if record.get("iteration_count"):
            key = f"{record['id']}/{record.get('current_iteration') or 1}"
        base = [
            {
                "key": f"$survey_dismissed/{key}",
                "value": "is_not_set",
                "operator": "is_not_set",
                "type": "person",
            },
            {
                "key": f"$survey_responded/{key}",
                "value": "is_not_set",
                "operator": "is_not_set",
                "type": "person",
            },
        ]
        wait = (record.get("conditions") or {}).get("seenSurveyWaitPeriodInDays")
        if _is_number(wait) and wait > 0:
            seen = {"key": "$survey_last_seen_date", "type": "person"}
            groups = [
                {
                    "variant": "",
                    "rollout_percentage": 100,
                    "properties": [*base, {**seen, "value": "is_not_set", "operator": "is_not_set"}],
                },
                {
                    "variant": "",
                    "rollout_percentage": 100,
                    "properties": [*base, {**seen, "value": f"{int(wait)}d", "operator": "is_date_before"}],
                },
            ]
        else:
            groups = [{"variant": "", "rollout_percentage": 100, "properties": base}]
        flags = call.table("feature_flags")
        internal = flags.get(record["_internal_flag"]) if record.get("_internal_flag") is not None else None
        if internal is None:
            flag = self.new_flag(call, {"groups": groups}, record["name"], is_running(record), "-custom")
            record["_internal_flag"] = flag["id"]
            return
        write_flag(
            call,
            {"filters": {**(internal.get("filters") or {}), "groups": groups}, "active": is_running(record)},
            internal["id"],
        )

    def new_flag(
        self, call: Call, filters: dict[str, Any], name: str, active: bool, suffix: str = ""
    ) -> Record:
        """_create_or_update_targeting_flag with no flag yet: a new flag of a random survey-targeting key."""
        random_id = "".join(call.rng.choice("1234567890abcdef") for _ in range(10))
        body = {
            "key": f"{TARGETING_PREFIX}{random_id}{suffix}",
            "name": f"Targeting flag for survey {name}",
            "filters": filters,
            "active": active,
        }
        return write_flag(call, body)

    @quirk("surveys_destroy")
    def destroy(self, call: Call) -> Any:
        record = self.get(call)
        flags = call.table("feature_flags")
        for key in (record.get("_targeting_flag"), record.get("_internal_flag")):
            if key is not None and flags.get(key) is not None:
                flags.delete(key)
        self.table(call).delete(record["id"])
        return None

    # -- validation --------------------------------------------------------------------------
    def validated(self, call: Call, body: dict[str, Any], instance: Record | None) -> dict[str, Any]:
        """The field validators in Meta.fields order, then validate()."""
        data = dict(body)
        for name in (
            "start_date",
            "end_date",
            "response_sampling_start_date",
            "current_iteration_start_date",
        ):
            if data.get(name):
                data[name] = drf_datetime(data[name])
        if "schedule" in data and data["schedule"] is not None and data["schedule"] not in SCHEDULES:
            raise invalid("Schedule must be one of: once, recurring, always", "schedule")
        base = self.base_language(body, instance)
        if "questions" in data:
            data["questions"] = check_questions(data["questions"], base, instance)
        if (
            "conditions" in data
            and data["conditions"] is not None
            and not isinstance(data["conditions"], dict)
        ):
            raise invalid("Conditions must be an object", "conditions")
        if "appearance" in data:
            check_appearance(data["appearance"])
        if "base_language" in data:
            data["base_language"] = check_base_language(data["base_language"])
        if data.get("translations") is not None:
            if not isinstance(data["translations"], dict):
                raise invalid("Translations must be an object", "translations")
            existing = (instance or {}).get("translations")
            stored = existing if isinstance(existing, dict) else {}
            data["translations"] = clean_translations(
                data["translations"], base, stored, None, "translations"
            )
        self.check_survey(call, data, instance)
        return data

    @staticmethod
    def base_language(body: dict[str, Any], instance: Record | None) -> str:
        """_resolve_base_language: the body's, else the stored one, else 'en'."""
        candidate = body.get("base_language")
        if isinstance(candidate, str) and candidate.strip():
            return language(candidate)
        stored = (instance or {}).get("base_language")
        return language(stored) if isinstance(stored, str) and stored.strip() else "en"

    def check_survey(self, call: Call, data: dict[str, Any], instance: Record | None) -> None:
        """SurveySerializerCreateUpdateOnly.validate."""
        flags = call.table("feature_flags")
        linked = flags.get(data["linked_flag_id"]) if data.get("linked_flag_id") else None
        if data.get("linked_flag_id") and linked is None:
            raise invalid("Feature Flag with this ID does not exist")
        if data.get("targeting_flag_id") and flags.get(data["targeting_flag_id"]) is None:
            raise invalid("Targeting Feature Flag with this ID does not exist")
        if data.get("linked_insight_id"):
            insight = call.table("insights").get(data["linked_insight_id"])
            if insight is None or insight.get("_deleted"):
                raise invalid("Insight with this ID does not exist")
        variant = (data.get("conditions") or {}).get("linkedFlagVariant")
        if variant and linked is not None and variant != "any":
            keys = [
                v.get("key")
                for v in ((linked.get("filters") or {}).get("multivariate") or {}).get("variants") or []
            ]
            if variant not in keys:
                if keys:
                    raise invalid(
                        f"Feature flag variant '{variant}' does not exist. "
                        f"Available variants: {', '.join(keys)}"
                    )
                raise invalid(
                    f"Feature flag variant '{variant}' specified but the linked feature flag has no variants"
                )
        elif variant and not data.get("linked_flag_id"):
            raise invalid("linkedFlagVariant can only be used when a linked_flag_id is specified")
        names = {row["name"]: row["id"] for row in self.table(call).values()}
        if instance is None and data.get("name") in names:
            raise invalid("There is already a survey with this name.", None, "unique")
        if (
            instance is not None
            and data.get("name") != instance["name"]
            and names.get(data.get("name"), instance["id"]) != instance["id"]
        ):
            raise invalid("There is already another survey with this name.", None, "unique")
        targeting = data.get("targeting_flag_filters")
        if targeting:
            groups = targeting.get("groups") or []
            if any(
                isinstance(g, dict) and g.get("rollout_percentage") in (100, None) and not g.get("properties")
                for g in groups
            ):
                raise invalid(
                    "Invalid operation: User targeting rolls out to everyone. "
                    "If you want to roll out to everyone, delete this targeting"
                )
        self.check_sampling(call, data)
        appearance = {**((instance or {}).get("appearance") or {}), **(data.get("appearance") or {})}
        questions = data.get("questions")
        if questions is None:
            questions = (instance or {}).get("questions") or []
        if appearance.get("shuffleQuestions") and any(q.get("branching") is not None for q in questions):
            raise invalid(
                "Question shuffling and question branching cannot be used together. "
                "Please disable one of these features."
            )
        if data.get("type") == "external_survey":
            self.check_external(data)
        base = data.get("base_language")
        if base and "translations" not in data and instance is not None:
            for key in instance.get("translations") or {}:
                if isinstance(key, str) and language(key) == language(base):
                    raise invalid(
                        f"'{base}' already exists as a translation key on this survey. "
                        "Remove the translation first, or pick a different base language.",
                        "base_language",
                    )

    def check_sampling(self, call: Call, data: dict[str, Any]) -> None:
        start = parse_moment(data.get("response_sampling_start_date"))
        if start is not None:
            today = call.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            if start < today:
                raise invalid(
                    "Response sampling start date must be today or a future date in UTC. "
                    f"Got {start} when current time is {today}",
                    "response_sampling_start_date",
                )
        interval = data.get("response_sampling_interval")
        if interval is not None and interval <= 0:
            raise invalid("Response sampling interval must be greater than 0.", "response_sampling_interval")
        limit = data.get("response_sampling_limit", 0)
        if limit is not None and limit > 0 and (interval or 0) > 0 and start is None:
            raise invalid(
                "Response sampling start date should be set if response_sampling_start_date is not zero.",
                "response_sampling_start_date",
            )

    @staticmethod
    def check_external(data: dict[str, Any]) -> None:
        """What an external (hosted) survey may not have; the first field is the one reported."""
        for field in NOT_FOR_EXTERNAL:
            if data.get(field) is not None:
                raise invalid(f"{field} is not allowed for external surveys", field)
        conditions = data.get("conditions")
        if conditions:
            refused = [field for field in CONDITIONS_NOT_FOR_EXTERNAL if conditions.get(field) is not None]
            refused += [
                field
                for field in ("actions", "events")
                if isinstance(conditions.get(field), dict) and conditions[field].get("values")
            ]
            if refused:
                raise invalid(
                    "The following condition fields are not allowed for external surveys: "
                    + ", ".join(refused),
                    "conditions",
                )
        if (data.get("appearance") or {}).get("surveyPopupDelaySeconds") is not None:
            raise invalid("surveyPopupDelaySeconds is not allowed for external surveys", "appearance")

    # -- actions ----------------------------------------------------------------------------
    @quirk("surveys_launch")
    def launch(self, call: Call) -> Any:
        """Sets start_date to now (only that field is saved: the flags are not synced here)."""
        record = self.get(call)
        if record.get("archived"):
            raise invalid("Cannot launch an archived survey. Unarchive it first.")
        if _passed(record.get("end_date"), call.now):
            raise invalid("Cannot launch a survey with end_date in the past. Extend the end_date first.")
        return self.stamped(call, record, "start_date")

    @quirk("surveys_stop")
    def stop(self, call: Call) -> Any:
        record = self.get(call)
        if record.get("archived"):
            raise invalid("Cannot stop an archived survey. Unarchive it first if needed.")
        return self.stamped(call, record, "end_date")

    def stamped(self, call: Call, record: Record, field: str) -> Any:
        """``field`` set to now, unless it is already in the past (then nothing changes)."""
        if _passed(record.get(field), call.now):
            return self.serialize(call, record)
        return self.serialize(call, self.save(call, {**record, field: call.timestamp()}))

    # -- seed ------------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        """The profile's surveys, none of them running (so no SDK is shown one): a draft, one that
        ran and ended, one that ended and was archived. They predate internal targeting flags,
        which PostHog's update creates (sync_flags here) the first time one is changed."""
        records = []
        for spec in ctx.profile["surveys"]:
            created = ctx.moment(90, 60)
            record: Record = {
                **self.defaults,
                **NEW_SURVEY,
                "name": spec["name"],
                "description": spec.get("description", ""),
                "type": spec["type"],
                "questions": [{**question, "id": ctx.uuid()} for question in spec["questions"]],
                "id": ctx.uuid(),
                "created_at": created,
                "_updated_at": created,
                "created_by": user_basic(ctx.user),
                "_targeting_flag": None,
                "iteration_start_dates": [],
                "_actions": [],
            }
            if spec["state"] in ("completed", "archived"):
                record.update(start_date=ctx.moment(55, 40), end_date=ctx.moment(35, 10))
                record["archived"] = spec["state"] == "archived"
            records.append(record)
        return records


def _passed(moment: str | None, now: datetime) -> bool:
    parsed = parse_moment(moment)
    return parsed is not None and parsed <= now


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- what the SDKs load (SurveyAPISerializer, get_surveys_response) -----------------------------
def sdk_surveys(backend: Backend, project_id: int) -> dict[str, Any]:
    """get_surveys_response: every survey not archived, in the SDK's shape, and the team's
    survey_config. PostHog's query has no ORDER BY; mockhog answers in creation order."""
    rows = [row for row in backend.store.table(project_id, "surveys").values() if not row.get("archived")]
    rows.sort(key=lambda row: (row["created_at"], row["id"]))
    return {
        "surveys": [sdk_survey(backend, project_id, row) for row in rows],
        "survey_config": backend.projects[project_id].get("survey_config"),
    }


def sdk_survey(backend: Backend, project_id: int, record: Record) -> dict[str, Any]:
    """SurveyAPISerializer, in its Meta.fields order; ``translations`` only when some survive."""
    flags = backend.store.table(project_id, "feature_flags")

    def key(flag_id: Any) -> str | None:
        flag = flags.get(flag_id) if flag_id is not None else None
        return flag["key"] if flag is not None else None

    base = language(record.get("base_language") or "en")
    view: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "type": record["type"],
        "linked_flag_key": key(record.get("linked_flag_id")),
        "targeting_flag_key": key(record.get("_targeting_flag")),
        "internal_targeting_flag_key": key(record.get("_internal_flag")),
        "questions": _sdk_questions(record.get("questions"), base),
        "conditions": _sdk_conditions(backend, project_id, record),
        "appearance": record.get("appearance"),
        "start_date": record.get("start_date"),
        "end_date": record.get("end_date"),
        "current_iteration": record.get("current_iteration"),
        "current_iteration_start_date": record.get("current_iteration_start_date"),
        "schedule": record.get("schedule"),
        "enable_partial_responses": record.get("enable_partial_responses"),
        "base_language": record.get("base_language"),
    }
    translations = _sdk_translations(record.get("translations"), base, SDK_TRANSLATED)
    if translations is not None:
        view["translations"] = translations
    return view


def _sdk_conditions(backend: Backend, project_id: int, record: Record) -> Any:
    """get_survey_conditions_with_actions with SurveyAPIActionSerializer (id, name, steps)."""
    conditions = record.get("conditions")
    table = backend.store.table(project_id, "actions")
    actions = [row for row in (table.get(key) for key in record.get("_actions") or []) if row is not None]
    if not actions:
        return conditions
    values = [{"id": row["id"], "name": row["name"], "steps": step_views(row["steps"])} for row in actions]
    return {**(conditions or {}), "actions": {"values": values}}


def _sdk_language(raw: Any, base: str) -> str | None:
    """A translation key the SDK can match (normalised), or None: sentinels, non-BCP-47 shapes and
    the base language itself are dropped."""
    if not isinstance(raw, str):
        return None
    normalized = language(raw)
    if normalized in REJECTED_LANGUAGES or not LANGUAGE.match(normalized) or normalized == base:
        return None
    return normalized


def _sdk_translations(value: Any, base: str, fields: tuple[str, ...] | None) -> dict[str, Any] | None:
    """get_survey_api_translations (``fields`` given: only those string fields of each) or, for a
    question, _strip_invalid_translation_keys (``fields`` None: each translation whole)."""
    if not isinstance(value, dict):
        return None
    kept: dict[str, Any] = {}
    for raw, entry in value.items():
        code = _sdk_language(raw, base)
        if code is None or not isinstance(entry, dict):
            continue
        if fields is None:
            kept[code] = entry
            continue
        strings = {name: text for name, text in entry.items() if name in fields and isinstance(text, str)}
        if strings:
            kept[code] = strings
    return kept or None


def _sdk_questions(questions: Any, base: str) -> Any:
    """get_questions: each question's inline translations filtered to the keys the SDK can match."""
    if not isinstance(questions, list):
        return questions
    cleaned = []
    for question in questions:
        if not isinstance(question, dict) or not isinstance(question.get("translations"), dict):
            cleaned.append(question)
            continue
        kept = _sdk_translations(question["translations"], base, None)
        cleaned.append(
            {**question, "translations": kept}
            if kept
            else {k: v for k, v in question.items() if k != "translations"}
        )
    return cleaned
