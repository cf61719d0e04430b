"""The query API's ``EventsQuery``: the events list clients read, run as PostHog's runner builds it.

PostHog's EventsQueryRunner (posthog/hogql_queries/events_query_runner.py) turns the query into one
HogQL SELECT over ``events`` and runs it: each ``select`` string is a HogQL expression (``*`` is the
event as an object, ``person`` the person behind the distinct id, ``person_display_name -- Person``
a name and the person's ids); a select with an aggregation groups by its other columns; ``where``
strings, ``properties`` and ``fixedProperties`` filters, ``event``/``events``, ``personId`` and the
``after``/``before`` window (default: the last 24 hours up to now) are the WHERE, any aggregated
filter the HAVING; ``orderBy`` strings or the runner's default order are the ORDER BY, and the
paginator asks ``limit`` + 1 rows from ``offset`` to know ``hasMore``. mockhog builds the same
query as :mod:`mockhog.hogql` nodes and runs it with :func:`mockhog.hogql.execute`, so the user's
HogQL behaves exactly as in a ``HogQLQuery``, and answers CachedEventsQueryResponse's fields.

What cannot be the same offline (docs/divergences.md): ``types`` name mockhog's column types, not
ClickHouse's; ``hogql`` is mockhog's rendering of the query, not PostHog's printer's; ``*`` has no
``elements`` (the chain is not parsed) and ``$has_recording`` is always false (mockhog keeps no
replays); ``actionId``/``actionSteps``, ``source``, ``filterTestAccounts`` with filters and property
filters other than event, person, event metadata and HogQL ones are refused with a 400 naming what
mockhog does not evaluate.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import re2

from .. import errors, hogql
from ..flags import as_number
from ..hogql import Alias, Binary, Call, Constant, Field, Native, Not, Select
from ..ingestion import person_of
from ..store import Table

# The fields ``*`` returns, in their order (SELECT_STAR_FROM_EVENTS_FIELDS).
STAR_FIELDS = (
    "uuid",
    "event",
    "properties",
    "timestamp",
    "team_id",
    "distinct_id",
    "elements_chain",
    "created_at",
    "person_mode",
)
STAR_INPUT = f"tuple({', '.join(STAR_FIELDS)})"
# PERSON_DEFAULT_DISPLAY_NAME_PROPERTIES (posthog/api/person.py), tried in order.
DISPLAY_NAME_PROPERTIES = ("email", "Email", "$email", "name", "Name", "username", "Username", "UserName")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
# Pagination cursors are "<timestamp>|<uuid>" (split_pagination_cursor).
CURSOR_DELIMITER = "|"
# The runner's relative dates: an optional minus, a count, a unit, and Start/End (posthog/utils.py).
_RELATIVE = re.compile(r"\-?(?P<number>[0-9]+)?(?P<kind>[hdwmqysHDWMQY])(?P<position>Start|End)?")
# Property filter types the runner maps to a field of the event (property_to_expr's chain).
_PROPERTY_CHAINS = {"event": ("properties",), "person": ("person", "properties"), "event_metadata": ()}
_NEGATIVE = {"is_not", "not_icontains", "not_regex"}
# ClickHouse's match() is RE2; a pattern RE2 refuses is the client's 400, not a line on stderr.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def run(
    query: dict[str, Any], source: dict[str, hogql.Source], now: datetime, project_id: int, persons: Table
) -> dict[str, Any]:
    """The EventsQueryResponse fields of ``query`` over ``source`` (a :class:`hogql.HogQLError`
    or an :class:`errors.ApiError` for what PostHog or mockhog refuses)."""
    _refuse_unsupported(query)
    raw = list(query.get("select") or []) or ["*"]
    select_input, select = _select(raw)
    aggregations = [column for column in select if hogql.has_aggregate(column)]
    where = _filters(query, persons) + _window(query, now)
    order_by = _order_by(query, select_input, select, aggregations)
    limit = _limit(query.get("limit"))
    offset = query.get("offset") if isinstance(query.get("offset"), int) and query["offset"] > 0 else 0
    plain = [expr for expr in where if not hogql.has_aggregate(expr)]
    having = [expr for expr in where if hogql.has_aggregate(expr)]
    statement = Select(
        columns=select,
        table="events",
        alias=None,
        where=_and(plain),
        group_by=[column for column in select if not hogql.has_aggregate(column)] if aggregations else None,
        having=_and(having),
        order_by=order_by,
        limit=limit,
        offset=offset,
    )
    answer = hogql.execute(statement, source, now)
    results = [_expanded(list(row), raw, project_id, persons) for row in answer["results"]]
    cursor_eligible = not aggregations and order_by and order_by[0][0] == Field(("timestamp",))
    return {
        "columns": [
            column.name if isinstance(column, Alias) else text
            for text, column in zip(raw, select, strict=True)
        ],
        "types": [pair[1] for pair in answer["types"]],
        "results": results,
        "hasMore": answer["hasMore"],
        "limit": answer["limit"],
        "offset": answer["offset"],
        "nextCursor": _next_cursor(raw, results) if cursor_eligible and answer["hasMore"] else None,
        "hogql": _rendered(select_input, plain, having, statement),
    }


# -- the query ------------------------------------------------------------------------------------


def _refuse_unsupported(query: dict[str, Any]) -> None:
    """What the runner does that mockhog cannot do offline: a 400 saying so, not a wrong answer."""
    # filterTestAccounts is not among them: mockhog applies no test account filters, so it
    # filters nothing.
    for name in ("actionId", "actionSteps", "source"):
        if query.get(name):
            raise errors.validation_error(f"mockhog does not run an EventsQuery with {name}.")


def _select(raw: list[str]) -> tuple[list[str], list[Any]]:
    """(select_input, expressions): the runner's rewritten column texts and what they parse to."""
    texts: list[str] = []
    exprs: list[Any] = []
    for column in raw:
        head = column.split("--")[0].strip()
        if column == "*":
            texts.append(STAR_INPUT)
            exprs.append(_star())
        elif head == "person":
            # The person is looked up after the query (_expand_person_columns).
            texts.append("distinct_id")
            exprs.append(Field(("distinct_id",)))
        elif head == "person_display_name":
            texts.append("(person_display_name, toString(person.id), distinct_id)")
            exprs.append(_display_name(with_distinct_id=True))
        else:
            texts.append(column)
            exprs.append(hogql.parse_expr(column))
    return texts, exprs


def _star() -> Native:
    """``*``: the allow-listed fields as one tuple, turned into the event object after the query."""
    fields = ("uuid", "event", "properties", "timestamp", "distinct_id", "elements_chain", "created_at")
    return Native(
        "tuple",
        lambda *values: tuple(values),
        tuple(Field((name,)) for name in fields),
        # The nine fields' types; team_id and person_mode are filled in after the query.
        type="Tuple(UUID, String, String, DateTime64(6, 'UTC'), Int64, String, String, "
        "DateTime64(6, 'UTC'), String)",
    )


def _display_name(with_distinct_id: bool) -> Native:
    """person_display_name: the first non-empty display-name property of the person, else the
    distinct id; then the person's id (and, as a column, the distinct id)."""

    def key(person: dict[str, Any] | None, distinct_id: Any, person_id: Any) -> tuple[Any, ...]:
        properties = (person or {}).get("properties") or {}
        name = next(
            (str(properties[k]) for k in DISPLAY_NAME_PROPERTIES if properties.get(k) not in (None, "")),
            distinct_id,
        )
        ids = ((person or {}).get("id") or person_id or ZERO_UUID,)
        return (name, str(ids[0]), distinct_id) if with_distinct_id else (name, str(ids[0]))

    args = (Field(("person",)), Field(("distinct_id",)), Field(("person_id",)))
    return Native("tuple", key, args, type="Tuple(String, String, String)")


def _filters(query: dict[str, Any], persons: Table) -> list[Any]:
    exprs = [hogql.parse_expr(text) for text in query.get("where") or []]
    exprs += [property_expr(prop) for prop in query.get("properties") or []]
    exprs += [property_expr(prop) for prop in query.get("fixedProperties") or []]
    names = [name for name in [query.get("event"), *(query.get("events") or [])] if name]
    if len(names) == 1:
        exprs.append(Binary("=", Field(("event",)), Constant(names[0])))
    elif names:
        exprs.append(Binary("in", Field(("event",)), tuple(Constant(name) for name in names)))
    if query.get("personId"):
        person = _person(persons, str(query["personId"]))
        ids = (person or {}).get("distinct_ids") or []
        exprs.append(Binary("in", Field(("distinct_id",)), tuple(Constant(i) for i in ids)))
    return exprs


def _person(persons: Table, key: str) -> dict[str, Any] | None:
    """get_person_by_pk_or_uuid: an all-digit key is the primary key, anything else the uuid."""
    for person in persons.values():
        if (key.isdigit() and person.get("id") == int(key)) or str(person.get("uuid")) == key:
            return person
    return None


def _window(query: dict[str, Any], now: datetime) -> list[Any]:
    """``timestamp < before`` (default: now + 5 s, so no future event shows) and
    ``timestamp > after`` (default -24h; "all" drops it)."""
    before = query.get("before") or (now + timedelta(seconds=5)).isoformat()
    exprs = [_boundary(before, "<", now)]
    after = query.get("after") or "-24h"
    if after != "all":
        exprs.append(_boundary(after, ">", now))
    return exprs


def _boundary(value: str, op: str, now: datetime) -> Any:
    timestamp, delimiter, uuid = value.partition(CURSOR_DELIMITER)
    try:
        moment = Call("toDateTime", (Constant(relative_date(timestamp, now).isoformat()),))
    except (OverflowError, ValueError):
        # A date beyond datetime's range: PostHog's relativedelta overflows into a 500; mockhog
        # names the value instead.
        raise errors.validation_error(f"Invalid date: {timestamp}") from None
    plain = Binary(op, Field(("timestamp",)), moment)
    if not delimiter:
        return plain
    # A cursor's uuid breaks ties on the boundary's timestamp (TimestampBoundary.with_uuid_tiebreaker).
    tied = Binary(
        "and", Binary("=", Field(("timestamp",)), moment), Binary(op, Field(("uuid",)), Constant(uuid))
    )
    return Binary("or", plain, tied)


def relative_date(text: str, now: datetime) -> datetime:
    """relative_date_parse (posthog/utils.py) in UTC, mockhog's project timezone: an ISO date or
    time as given (a bare one is UTC), else now moved back by ``-Nh``/``-Nd``/``-Nw``/``-Nm``/
    ``-Nq``/``-Ny``/``-NM`` (minutes)/``-Ns``, with ``Start``/``End`` of the unit; text with no
    unit at all is now."""
    moment = _iso(text)
    if moment is not None:
        return moment
    found = _RELATIVE.search(text)
    if not found:
        return now
    number = int(found["number"]) if found["number"] else 0
    kind, position = found["kind"], found["position"]
    moment = now
    if kind in "hdwsMq" and number:
        unit = {"h": "hours", "d": "days", "w": "weeks", "s": "seconds", "M": "minutes", "q": "weeks"}[kind]
        moment -= timedelta(**{unit: number * (13 if kind == "q" else 1)})
    elif kind in "my" and number:
        moment = _months_back(moment, number * (12 if kind == "y" else 1))
    if position == "Start":
        moment = _start(moment, kind)
    elif position == "End":
        moment = _end(moment, kind)
    return moment


def _iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _months_back(moment: datetime, months: int) -> datetime:
    """relativedelta(months=-n): the same day, clipped to the target month's last day."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _start(moment: datetime, kind: str) -> datetime:
    if kind == "h":
        return moment.replace(minute=0, second=0, microsecond=0)
    if kind == "d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "m":
        return moment.replace(day=1)
    if kind == "y":
        return moment.replace(month=1, day=1)
    return moment


def _end(moment: datetime, kind: str) -> datetime:
    if kind == "h":
        return moment.replace(minute=59, second=59, microsecond=999999)
    if kind == "d":
        return moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    if kind in "my":
        # relativedelta's day=31 is the month's last day.
        return moment.replace(day=calendar.monthrange(moment.year, moment.month)[1])
    return moment


def _order_by(
    query: dict[str, Any], select_input: list[str], select: list[Any], aggregations: list[Any]
) -> list[tuple[Any, bool]]:
    """The requested order, or the runner's default: the first column ascending unless the select
    has ``count()`` (its count descending), another aggregation (the first one descending) or
    ``timestamp`` (newest first). Ordered by timestamp and not aggregated, uuid breaks ties."""
    if query.get("orderBy") is not None:
        order = [_order_item(text) for text in query["orderBy"]]
    elif "count()" not in select_input and not aggregations and "timestamp" not in select_input:
        order = [(select[0], False)] if select else []
    elif "count()" in select_input:
        order = [(Call("count", ()), True)]
    elif aggregations:
        order = [(aggregations[0].expr if isinstance(aggregations[0], Alias) else aggregations[0], True)]
    else:
        order = [(Field(("timestamp",)), True)]
    if (
        not aggregations
        and order
        and order[0][0] == Field(("timestamp",))
        and not any(expr == Field(("uuid",)) for expr, _ in order)
    ):
        order.append((Field(("uuid",)), order[0][1]))
    return order


def _order_item(text: str) -> tuple[Any, bool]:
    # The runner swaps "person_display_name -- Person " for the name and the person's id; what
    # follows it is the direction.
    found = re.match(r"person_display_name -- Person (.*)$", text)
    if found:
        direction = found[1].strip().upper()
        if direction not in ("", "ASC", "DESC"):
            raise hogql.HogQLError(f"Syntax error at line 1, column 0: extraneous input '{found[1]}'")
        return _display_name(with_distinct_id=False), direction == "DESC"
    return hogql.parse_order_expr(text)


def _limit(value: Any) -> int:
    """HogQLHasMorePaginator.from_limit_context: 100 when unset or not positive, at most 50000."""
    wanted = value if isinstance(value, int) and value > 0 else hogql.DEFAULT_LIMIT
    return min(wanted, hogql.MAX_LIMIT)


def _and(exprs: list[Any]) -> Any:
    if not exprs:
        return None
    combined = exprs[0]
    for expr in exprs[1:]:
        combined = Binary("and", combined, expr)
    return combined


# -- property filters -----------------------------------------------------------------------------


def property_expr(prop: Any) -> Any:
    """property_to_expr (posthog/hogql/property.py) for the filters mockhog evaluates: groups
    (``{"type": "AND"|"OR", "values": [...]}``), ``hogql`` (its key is an expression), and event,
    person and event metadata properties with PostHog's operators."""
    if not isinstance(prop, dict) or not prop:
        return Constant(1)
    kind = prop.get("type")
    if kind in ("AND", "OR") and isinstance(prop.get("values"), list):
        parts = [property_expr(value) for value in prop["values"]]
        if not parts:
            return Constant(1)
        combined = parts[0]
        for part in parts[1:]:
            combined = Binary(kind.lower(), combined, part)
        return combined
    if kind == "hogql":
        return hogql.parse_expr(str(prop.get("key", "")))
    if kind == "empty":
        return Constant(1)
    if kind not in _PROPERTY_CHAINS:
        raise errors.validation_error(
            f"mockhog does not evaluate '{kind}' property filters in an EventsQuery."
        )
    key = str(prop.get("key", ""))
    field = Field(("elements_chain",)) if kind == "event" and key == "$elements_chain" else None
    field = field or Field((*_PROPERTY_CHAINS[kind], key))
    operator = prop.get("operator") or "exact"
    value = prop.get("value")
    if isinstance(value, list) and operator not in ("between", "not_between", "in", "not_in"):
        if not value:
            return Constant(1)
        if len(value) == 1:
            value = value[0]
        elif operator in ("exact", "is_not"):
            found = Native("in", _among, (field, Constant(tuple(value))), type="UInt8")
            return Call("ifnull", (Not(found), Constant(1))) if operator == "is_not" else found
        else:
            parts = [property_expr({**prop, "value": item}) for item in value]
            join = "and" if operator in _NEGATIVE else "or"
            combined = parts[0]
            for part in parts[1:]:
                combined = Binary(join, combined, part)
            return combined
    return compare(field, operator, value)


def compare(field: Any, operator: str, value: Any) -> Any:
    """_expr_to_compare_op, with the NULL handling HogQL's printer adds: a missing property is
    never equal, contained, matched or ordered, and always "not" any of them."""

    def check(name: str, test: Callable[[Any], bool | None], if_null: int) -> Any:
        def run(actual: Any) -> Any:
            return if_null if actual is None else int(bool(test(actual)))

        return Native(name, run, (field,), type="UInt8")

    text = "" if value is None else _text(value)
    if operator == "is_set":
        return Not(Binary("=", field, Constant(None)))
    if operator == "is_not_set":
        return Binary("=", field, Constant(None))
    if operator in ("exact", "is_date_exact"):
        return check("equals", lambda actual: _equal(actual, value), 0)
    if operator == "is_not":
        return check("notEquals", lambda actual: not _equal(actual, value), 1)
    if operator == "icontains":
        return check("ilike", lambda actual: text.lower() in _text(actual).lower(), 0)
    if operator == "not_icontains":
        return check("notILike", lambda actual: text.lower() not in _text(actual).lower(), 1)
    if operator in ("regex", "not_regex"):
        try:
            pattern = re2.compile(text, options=_RE2_OPTIONS)
        except re2.error:
            raise hogql.HogQLError(f"Invalid regular expression: {text}") from None
        negated = operator == "not_regex"
        return check(
            "match", lambda actual: (pattern.search(_text(actual)) is None) == negated, 1 if negated else 0
        )
    orders = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "is_date_after": ">", "is_date_before": "<"}
    if operator in orders:
        return check(orders[operator], lambda actual: _ordered(actual, orders[operator], value), 0)
    if operator in ("between", "not_between") and isinstance(value, list) and len(value) == 2:
        low, high = value
        inside = check(
            "between", lambda actual: _ordered(actual, ">=", low) and _ordered(actual, "<=", high), 0
        )
        return Not(inside) if operator == "not_between" else inside
    if operator in ("in", "not_in") and isinstance(value, list):
        found = Native("in", _among, (field, Constant(tuple(value))), type="UInt8")
        return Call("ifnull", (Not(found), Constant(1))) if operator == "not_in" else found
    raise errors.validation_error(f"mockhog does not evaluate the '{operator}' property operator.")


def _text(value: Any) -> str:
    """A JSON property as ClickHouse reads it as text: true/false in lower case, 5 not 5.0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _equal(actual: Any, value: Any) -> bool:
    # A property is JSON text to ClickHouse: 5 and "5", true and "true" are the same value.
    return actual == value or _text(actual) == _text(value)


def _among(actual: Any, values: tuple[Any, ...]) -> Any:
    return None if actual is None else int(any(_equal(actual, value) for value in values))


def _ordered(actual: Any, op: str, value: Any) -> bool:
    left, right = as_number(actual), as_number(value)
    if left is None or right is None:
        left_moment, right_moment = hogql.moment(actual), hogql.moment(value)
        if left_moment is None or right_moment is None:
            return False
        left, right = left_moment.timestamp(), right_moment.timestamp()
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


# -- the answer -----------------------------------------------------------------------------------


def _expanded(row: list[Any], raw: list[str], project_id: int, persons: Table) -> list[Any]:
    """A result row as the runner returns it: ``*`` an object, ``person`` and
    ``person_display_name`` objects."""
    for index, column in enumerate(raw):
        head = column.split("--")[0].strip()
        if column == "*" and isinstance(row[index], tuple | list):
            uuid, event, properties, timestamp, distinct_id, chain, created_at = row[index]
            properties = dict(properties or {})
            if isinstance(properties.get("$session_id"), str) and properties["$session_id"]:
                properties["$has_recording"] = False  # mockhog keeps no recordings
            row[index] = {
                "uuid": uuid,
                "event": event,
                "properties": properties,
                "timestamp": hogql.shown(timestamp),
                "team_id": project_id,
                "distinct_id": distinct_id,
                "elements_chain": chain,
                "created_at": hogql.shown(created_at),
                "person_mode": "propertyless"
                if properties.get("$process_person_profile") is False
                else "full",
            }
        elif head == "person":
            person = person_of(persons, row[index])
            row[index] = (
                {"distinct_id": row[index]}
                if person is None
                else {
                    "uuid": person.get("uuid"),
                    "created_at": person.get("created_at"),
                    "properties": person.get("properties") or {},
                    "distinct_id": row[index],
                }
            )
        elif head == "person_display_name" and isinstance(row[index], tuple | list):
            name, person_id, distinct_id = row[index]
            row[index] = {"display_name": name, "id": person_id, "distinct_id": str(distinct_id)}
    return row


def _next_cursor(raw: list[str], results: list[list[Any]]) -> str | None:
    """_next_cursor: the last row's timestamp, and its uuid when the row has one."""
    if not results:
        return None
    last = results[-1]
    timestamp = uuid = None
    if "*" in raw and isinstance(last[raw.index("*")], dict):
        star = last[raw.index("*")]
        timestamp, uuid = star.get("timestamp"), star.get("uuid")
    for index, column in enumerate(raw):
        head = column.split("--")[0].strip()
        if timestamp is None and head == "timestamp":
            timestamp = last[index]
        if uuid is None and head == "uuid":
            uuid = last[index]
    if timestamp is None:
        return None
    return f"{timestamp}{CURSOR_DELIMITER}{uuid}" if uuid else str(timestamp)


def _rendered(select_input: list[str], where: list[Any], having: list[Any], query: Select) -> str:
    """The query as HogQL text, for the answer's ``hogql`` (mockhog's rendering, not PostHog's)."""
    parts = [f"SELECT {', '.join(select_input)} FROM events"]
    if where:
        parts.append("WHERE " + " AND ".join(hogql.printed(expr) for expr in where))
    if query.group_by:
        parts.append("GROUP BY " + ", ".join(hogql.printed(expr) for expr in query.group_by))
    if having:
        parts.append("HAVING " + " AND ".join(hogql.printed(expr) for expr in having))
    if query.order_by:
        shown = {id(column): text for column, text in zip(query.columns, select_input, strict=True)}
        order = [
            f"{shown.get(id(expr)) or hogql.printed(expr)} {'DESC' if desc else 'ASC'}"
            for expr, desc in query.order_by
        ]
        parts.append("ORDER BY " + ", ".join(order))
    parts.append(f"LIMIT {(query.limit or 0) + 1}")
    if query.offset:
        parts.append(f"OFFSET {query.offset}")
    return " ".join(parts)
