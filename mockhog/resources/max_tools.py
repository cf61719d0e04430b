"""Max AI's create_and_query_insight tool: a plan and an insight query built from the project's events.

PostHog runs its assistant graph and answers with the stream's events as one JSON array
(``[{"type": "message", "data": {...}}]``), or as ``text/event-stream`` with ``?format=txt``.
mockhog plays the graph deterministically: it picks the project's event names that the question
mentions (from event definitions, else the profile's vocabulary), reads the period, interval,
math and breakdown from the wording, and answers with the same messages the real graph emits.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from .. import errors
from .base import Call, Reply, Resource, quirk

FORMATS = ("json", "txt")
KIND_LABELS = {"trends": "trends", "funnel": "funnel", "retention": "retention", "sql": "SQL"}
# Words too common to say which event a question is about.
STOPWORDS = {
    "the",
    "and",
    "for",
    "how",
    "many",
    "what",
    "per",
    "last",
    "with",
    "from",
    "did",
    "does",
    "over",
    "show",
    "time",
    "count",
    "number",
    "who",
    "which",
    "are",
    "was",
    "were",
    "this",
    "that",
    "users",
    "user",
    "people",
    "unique",
    "daily",
    "weekly",
    "monthly",
    "funnel",
    "trend",
    "trends",
    "retention",
    "week",
    "weeks",
    "day",
    "days",
    "month",
    "months",
    "year",
    "years",
}
UNITS = {"hour": "h", "day": "d", "week": "w", "month": "m", "quarter": "q", "year": "y"}
MATH = [
    (r"\bweekly active\b", "weekly_active", "weekly active users"),
    (r"\bmonthly active\b", "monthly_active", "monthly active users"),
    (r"\b(unique|users|people|persons|dau|active)\b", "dau", "unique users"),
]
BREAKDOWNS = {
    "browser": "$browser",
    "country": "$geoip_country_name",
    "os": "$os",
    "device": "$device_type",
    "referrer": "$referring_domain",
    "plan": "plan",
}
DEFAULT_PERIOD = "-30d"


class MaxTools(Resource):
    @quirk("max_tools_create_and_query_insight_create")
    def create_and_query_insight(self, call: Call) -> Any:
        fmt = call.query.get("format") or "json"
        if fmt not in FORMATS:
            # DRF's format override finds no renderer for an unknown format: Http404.
            raise errors.not_found()
        stream = assistant_stream(call, call.body["query"], call.body["insight_type"], self.event_names(call))
        if fmt == "txt":
            return Reply(body=render_event_stream(stream), content_type="text/event-stream")
        return stream

    def event_names(self, call: Call) -> list[str]:
        """The project's event definitions, or the profile's vocabulary before any are defined."""
        defined = [
            row.get("name") for row in call.table("event_definitions").values() if not row.get("_deleted")
        ]
        return [name for name in defined if isinstance(name, str) and name] or [
            *self.profile["events"]["standard"],
            *self.profile["events"]["custom"],
        ]


def assistant_stream(call: Call, question: str, insight_type: str, events: list[str]) -> list[dict[str, Any]]:
    picked = pick_events(question, events)
    period = period_of(question)
    label = KIND_LABELS[insight_type]
    plan, answer, used = BUILDERS[insight_type](question, picked, events, period)
    messages = [
        {
            "type": "ai/reasoning",
            "content": "Picking relevant events and properties",
            "substeps": [f"Exploring the `{name}` event" for name in used],
        },
        {"type": "ai/reasoning", "content": f"Creating {label} query"},
        {"type": "ai/viz", "id": call.new_uuid(), "query": question, "plan": plan, "answer": answer},
        {
            "type": "tool",
            "id": call.new_uuid(),
            "tool_call_id": call.new_uuid(),
            "content": f"I've created a {label} insight from {', '.join(f'`{e}`' for e in used)} "
            f"for {describe_period(period)}.",
            "ui_payload": {"create_and_query_insight": answer},
        },
    ]
    return [{"type": "message", "data": message} for message in messages]


def render_event_stream(stream: list[dict[str, Any]]) -> str:
    """PostHog's ServerSentEventRenderer: one ``event:``/``data:`` block per event."""
    return "".join(f"event: {item['type']}\ndata: {json.dumps(item['data'])}\n\n" for item in stream)


# -- reading the question ----------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _same_stem(token: str, word: str) -> bool:
    """Two spellings of one word: a shared prefix of 4+ letters covering most of the shorter one."""
    shared = len(os.path.commonprefix([token, word]))
    return shared >= min(4, len(token), len(word)) and shared >= 0.6 * min(len(token), len(word))


def pick_events(question: str, events: list[str]) -> list[str]:
    """Events the question names, in the order it names them.

    An event whose every word the question uses claims those words first ("uploaded files" is
    file_uploaded, not file_shared); a partly named event counts only for words still unclaimed.
    """
    words = [w for w in _words(question) if len(w) >= 3 and w not in STOPWORDS]
    candidates: list[tuple[float, int, set[int], str]] = []
    for index, name in enumerate(events):
        tokens = [t for t in re.split(r"[^a-z0-9]+", name.lower()) if len(t) >= 3]
        hits = [{i for i, w in enumerate(words) if _same_stem(t, w)} for t in tokens]
        named = [found for found in hits if found]
        if named:
            candidates.append((-len(named) / len(tokens), index, set().union(*named), name))
    claimed: set[int] = set()
    chosen: list[tuple[int, str]] = []
    for _, _, positions, name in sorted(candidates, key=lambda c: (c[0], c[1])):
        if positions - claimed:
            chosen.append((min(positions), name))
            claimed |= positions
    return [name for _, name in sorted(chosen)]


def period_of(question: str) -> str:
    text = question.lower()
    counted = re.search(r"\b(?:last|past)\s+(\d+)\s+(hour|day|week|month|quarter|year)s?\b", text)
    if counted:
        return f"-{counted.group(1)}{UNITS[counted.group(2)]}"
    single = re.search(r"\b(?:last|past)\s+(hour|day|week|month|quarter|year)\b", text)
    if single:
        return f"-1{UNITS[single.group(1)]}"
    if "yesterday" in text:
        return "-1d"
    return DEFAULT_PERIOD


def describe_period(period: str) -> str:
    amount, unit = int(period[1:-1]), period[-1]
    name = {v: k for k, v in UNITS.items()}[unit]
    return f"the last {amount} {name}{'s' if amount != 1 else ''}"


def interval_of(question: str) -> str:
    found = re.search(
        r"\b(hour|dai|day|week|month)(?:ly)?\b|\b(?:per|by|each)\s+(hour|day|week|month)\b", question.lower()
    )
    if not found:
        return "day"
    word = found.group(1) or found.group(2)
    return "day" if word == "dai" else word


def math_of(question: str) -> tuple[str, str]:
    text = question.lower()
    return next(
        ((math, label) for pattern, math, label in MATH if re.search(pattern, text)), ("total", "total count")
    )


def breakdown_of(question: str) -> str | None:
    found = re.search(r"\bby\s+(" + "|".join(BREAKDOWNS) + r")\b", question.lower())
    return BREAKDOWNS[found.group(1)] if found else None


def _fill(picked: list[str], events: list[str], needed: int) -> list[str]:
    """At least ``needed`` events: the mentioned ones, then $pageview, then the project's first ones."""
    chosen = list(picked)
    for name in ["$pageview", *events]:
        if len(chosen) >= needed:
            break
        if name in events and name not in chosen:
            chosen.append(name)
    return chosen


def _series(names: list[str], math: str) -> list[dict[str, Any]]:
    return [{"kind": "EventsNode", "event": name, "name": name, "math": math} for name in names]


# -- one builder per insight type: (plan, query, events used) -------------------------------------------
def _trends(question: str, picked: list[str], events: list[str], period: str) -> tuple[str, dict, list[str]]:
    names = _fill(picked, events, 1)[:3]
    math, math_label = math_of(question)
    interval, breakdown = interval_of(question), breakdown_of(question)
    lines = ["Series:"]
    for number, name in enumerate(names, start=1):
        lines += [f"- series {number}: {name}", f"    - math operation: {math_label}"]
    if breakdown:
        lines += ["", f"Breakdown by: {breakdown}"]
    lines += ["", f"Time period: {describe_period(period)}", f"Time interval: {interval}"]
    query: dict[str, Any] = {
        "kind": "TrendsQuery",
        "series": _series(names, math),
        "dateRange": {"date_from": period},
        "interval": interval,
        "trendsFilter": {"display": "ActionsLineGraph"},
    }
    if breakdown:
        query["breakdownFilter"] = {"breakdowns": [{"property": breakdown, "type": "event"}]}
    return "\n".join(lines), query, names


def _funnel(question: str, picked: list[str], events: list[str], period: str) -> tuple[str, dict, list[str]]:
    names = _fill(picked, events, 2)[:5]
    lines = [
        "Sequence:",
        *(f"{n}. {name}" for n, name in enumerate(names, start=1)),
        "",
        f"Time period: {describe_period(period)}",
    ]
    query = {
        "kind": "FunnelsQuery",
        "series": _series(names, "total"),
        "dateRange": {"date_from": period},
        "funnelsFilter": {
            "funnelVizType": "steps",
            "funnelOrderType": "ordered",
            "funnelWindowInterval": 14,
            "funnelWindowIntervalUnit": "day",
        },
    }
    return "\n".join(lines), query, names


def _retention(
    question: str, picked: list[str], events: list[str], period: str
) -> tuple[str, dict, list[str]]:
    names = _fill(picked, events, 1)
    target, returning = names[0], names[1] if len(names) > 1 else names[0]
    period_unit = "Month" if "month" in question.lower() else "Week"
    plan = f"Activation:\n{target}\n\nRetention:\n{returning}\n\nPeriod: {period_unit}"
    query = {
        "kind": "RetentionQuery",
        "dateRange": {"date_from": period},
        "retentionFilter": {
            "targetEntity": {"id": target, "name": target, "type": "events"},
            "returningEntity": {"id": returning, "name": returning, "type": "events"},
            "period": period_unit,
            "totalIntervals": 8,
            "retentionType": "retention_first_time",
        },
    }
    return plan, query, list(dict.fromkeys([target, returning]))


def _sql(question: str, picked: list[str], events: list[str], period: str) -> tuple[str, dict, list[str]]:
    names = _fill(picked, events, 1)[:5]
    math, math_label = math_of(question)
    amount, unit = int(period[1:-1]), {v: k for k, v in UNITS.items()}[period[-1]].upper()
    measure = "count(DISTINCT person_id)" if math != "total" else "count()"
    listed = ", ".join("'" + name.replace("'", "\\'") + "'" for name in names)
    sql = (
        f"SELECT event, toStartOfDay(timestamp) AS day, {measure} AS total\n"
        f"FROM events\n"
        f"WHERE event IN ({listed}) AND timestamp >= now() - INTERVAL {amount} {unit}\n"
        f"GROUP BY event, day\n"
        f"ORDER BY day ASC"
    )
    plan = f"{math_label.capitalize()} of {', '.join(names)} per day over {describe_period(period)}."
    return plan, {"kind": "HogQLQuery", "query": sql}, names


BUILDERS = {"trends": _trends, "funnel": _funnel, "retention": _retention, "sql": _sql}
