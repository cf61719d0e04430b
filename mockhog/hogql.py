"""A subset of HogQL (PostHog's SQL) run over the store's events and persons, knowing nothing of HTTP.

``SELECT [DISTINCT] <exprs> FROM events|persons [AS alias] [WHERE ...] [GROUP BY ...] [HAVING ...]
[ORDER BY ... [ASC|DESC]] [LIMIT n [OFFSET m]]``. Expressions: columns, ``properties.$key`` and
``properties['key']`` (``person.properties...`` on events), literals, ``+ - * / %``, comparisons,
``AND OR NOT``, ``[NOT] IN (...)``, ``[NOT] [I]LIKE``, ``IS [NOT] NULL``, ``INTERVAL n UNIT``, and
the functions in ``FUNCTIONS`` and ``AGGREGATES``. Anything else is a :class:`HogQLError`, worded
as PostHog words its own (``Syntax error at line 1, column N: ...``, ``Unknown table``, ``Unable to
resolve field``), so a client sees where mockhog stops rather than a wrong answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

DEFAULT_LIMIT = 100  # HogQL's DEFAULT_RETURNED_ROWS: a query without LIMIT returns this many
MAX_LIMIT = 50000  # MAX_SELECT_RETURNED_ROWS


class HogQLError(ValueError):
    """A query PostHog would refuse (or that mockhog cannot run), with PostHog's wording."""


# -- tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*)
  | (?P<number>\d+\.\d*|\.\d+|\d+)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op><=|>=|!=|<>|==|\|\||[-+*/%=<>(),.\[\]])
    """,
    re.VERBOSE,
)
KEYWORDS = {
    "SELECT", "DISTINCT", "FROM", "AS", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "ASC", "DESC",
    "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE",
    "INTERVAL", "NULLS", "FIRST", "LAST",
}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | name | keyword | op | end
    value: Any
    column: int


def tokenize(text: str) -> list[Token]:
    tokens, at = [], 0
    while at < len(text):
        found = _TOKEN.match(text, at)
        if not found:
            raise _syntax(at, f"token recognition error at: '{text[at]}'")
        kind, raw = found.lastgroup or "", found.group()
        if kind == "number":
            tokens.append(Token("number", float(raw) if "." in raw else int(raw), at))
        elif kind == "string":
            tokens.append(Token("string", raw[1:-1].replace("''", "'").replace("\\'", "'"), at))
        elif kind == "quoted":
            tokens.append(Token("name", raw[1:-1], at))
        elif kind == "name":
            upper = raw.upper()
            tokens.append(Token("keyword", upper, at) if upper in KEYWORDS else Token("name", raw, at))
        elif kind == "op":
            tokens.append(Token("op", {"<>": "!=", "==": "="}.get(raw, raw), at))
        at = found.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _syntax(at: int, message: str) -> HogQLError:
    return HogQLError(f"Syntax error at line 1, column {at}: {message}")


# -- the tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    chain: tuple[str, ...]


@dataclass(frozen=True)
class Constant:
    value: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]
    distinct: bool = False


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    expr: Any


@dataclass(frozen=True)
class Alias:
    name: str
    expr: Any


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class Interval:
    amount: Any
    unit: str


@dataclass(frozen=True)
class Native:
    """A value computed by mockhog's Python from its arguments' values: what a runner builds around
    the user's HogQL (PostHog's runners build such nodes too, as AST, never as text). The parser
    never makes one, so HogQLQuery text cannot reach it."""

    name: str
    function: Callable[..., Any]
    args: tuple[Any, ...]
    type: str = "String"


@dataclass
class Select:
    columns: list[Any]
    table: str | None  # None: SELECT with no FROM reads one empty row
    alias: str | None
    distinct: bool = False
    where: Any = None
    group_by: list[Any] | None = None
    having: Any = None
    order_by: list[tuple[Any, bool]] | None = None  # (expr, descending)
    limit: int | None = None
    offset: int = 0


class Parser:
    """Recursive descent over the tokens, lowest precedence first (OR, AND, NOT, comparison, ...)."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def accept(self, kind: str, value: Any = None) -> Token | None:
        token = self.token
        if token.kind == kind and (value is None or token.value == value):
            self.at += 1
            return token
        return None

    def expect(self, kind: str, value: Any = None) -> Token:
        token = self.accept(kind, value)
        if token is None:
            shown = self.token.value if self.token.kind != "end" else "<EOF>"
            raise _syntax(self.token.column, f"mismatched input '{shown}' expecting {value or kind}")
        return token

    def keyword(self, *words: str) -> bool:
        ahead = self.tokens[self.at : self.at + len(words)]
        if [(t.kind, t.value) for t in ahead] == [("keyword", word) for word in words]:
            self.at += len(words)
            return True
        return False

    def select(self) -> Select:
        self.expect("keyword", "SELECT")
        distinct = self.keyword("DISTINCT")
        columns = [self.column()]
        while self.accept("op", ","):
            columns.append(self.column())
        table, alias = None, None
        if self.keyword("FROM"):
            table = self.expect("name").value
            if self.keyword("AS") or self.token.kind == "name":
                alias = self.expect("name").value
        query = Select(columns, table, alias, distinct)
        if self.keyword("WHERE"):
            query.where = self.expr()
        if self.keyword("GROUP", "BY"):
            query.group_by = self.expr_list()
        if self.keyword("HAVING"):
            query.having = self.expr()
        if self.keyword("ORDER", "BY"):
            query.order_by = [self.order_item()]
            while self.accept("op", ","):
                query.order_by.append(self.order_item())
        if self.keyword("LIMIT"):
            query.limit = self.integer()
            if self.accept("op", ","):  # LIMIT offset, count
                query.offset, query.limit = query.limit, self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        self.accept("op", ";")
        self.finish()
        return query

    def finish(self) -> None:
        if self.token.kind != "end":
            raise _syntax(self.token.column, f"extraneous input '{self.token.value}' expecting <EOF>")

    def integer(self) -> int:
        return int(self.expect("number").value)

    def column(self) -> Any:
        if self.accept("op", "*"):
            return Star()
        expr = self.expr()
        if self.keyword("AS"):
            return Alias(self.expect("name").value, expr)
        if self.token.kind == "name":
            return Alias(self.expect("name").value, expr)
        return expr

    def order_item(self) -> tuple[Any, bool]:
        expr = self.expr()
        descending = self.keyword("DESC")
        if not descending:
            self.keyword("ASC")
        if self.keyword("NULLS") and not (self.keyword("FIRST") or self.keyword("LAST")):
            raise _syntax(self.token.column, "expecting FIRST or LAST")
        return expr, descending

    def expr_list(self) -> list[Any]:
        items = [self.expr()]
        while self.accept("op", ","):
            items.append(self.expr())
        return items

    def expr(self) -> Any:
        left = self.conjunction()
        while self.keyword("OR"):
            left = Binary("or", left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.keyword("AND"):
            left = Binary("and", left, self.negation())
        return left

    def negation(self) -> Any:
        if self.keyword("NOT"):
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.additive()
        token = self.token
        if token.kind == "op" and token.value in ("=", "!=", "<", ">", "<=", ">="):
            self.at += 1
            return Binary(token.value, left, self.additive())
        negated = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect("op", "(")
            items = self.expr_list()
            self.expect("op", ")")
            found = Binary("in", left, tuple(items))
            return Not(found) if negated else found
        for word in ("LIKE", "ILIKE"):
            if self.keyword(word):
                found = Binary(word.lower(), left, self.additive())
                return Not(found) if negated else found
        if negated:
            raise _syntax(self.token.column, "expecting IN, LIKE or ILIKE after NOT")
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            self.expect("keyword", "NULL")
            found = Binary("=", left, Constant(None))
            return Not(found) if negated else found
        return left

    def additive(self) -> Any:
        return self.operators(("+", "-", "||"), self.multiplicative)

    def multiplicative(self) -> Any:
        return self.operators(("*", "/", "%"), self.unary)

    def operators(self, ops: tuple[str, ...], operand: Callable[[], Any]) -> Any:
        """Left-associative operators of one precedence level over the next level's operands."""
        left = operand()
        while self.token.kind == "op" and self.token.value in ops:
            op = self.expect("op").value
            left = Binary(op, left, operand())
        return left

    def unary(self) -> Any:
        if self.accept("op", "-"):
            return Binary("-", Constant(0), self.unary())
        return self.postfix(self.primary())

    def postfix(self, expr: Any) -> Any:
        while True:
            if self.accept("op", "."):
                name = self.expect("name").value
                expr = (
                    Field((*expr.chain, name))
                    if isinstance(expr, Field)
                    else Call("get", (expr, Constant(name)))
                )
            elif self.accept("op", "["):
                key = self.expr()
                self.expect("op", "]")
                if isinstance(expr, Field) and isinstance(key, Constant) and isinstance(key.value, str):
                    expr = Field((*expr.chain, key.value))
                else:
                    expr = Call("get", (expr, key))
            else:
                return expr

    def primary(self) -> Any:
        token = self.token
        if self.accept("number") or self.accept("string"):
            return Constant(token.value)
        if self.keyword("NULL"):
            return Constant(None)
        if self.keyword("TRUE"):
            return Constant(True)
        if self.keyword("FALSE"):
            return Constant(False)
        if self.keyword("INTERVAL"):
            amount = self.additive() if self.token.kind != "string" else Constant(self.expect("string").value)
            if isinstance(amount, Constant) and isinstance(amount.value, str):
                number, _, unit = amount.value.partition(" ")
                return Interval(Constant(int(number)), _unit(unit, token.column))
            return Interval(amount, _unit(self.expect("name").value, token.column))
        if self.accept("op", "("):
            inner = self.expr()
            self.expect("op", ")")
            return inner
        if self.accept("name"):
            if self.accept("op", "("):
                distinct = self.keyword("DISTINCT")
                args: list[Any] = []
                if self.accept("op", "*"):
                    args = []
                elif not (self.token.kind == "op" and self.token.value == ")"):
                    args = self.expr_list()
                self.expect("op", ")")
                return Call(token.value, tuple(args), distinct)
            return Field((token.value,))
        shown = token.value if token.kind != "end" else "<EOF>"
        raise _syntax(token.column, f"no viable alternative at input '{shown}'")


_UNITS = {unit: f"{unit}s" for unit in ("second", "minute", "hour", "day", "week", "month", "year")}


def _unit(word: str, column: int) -> str:
    unit = word.lower().rstrip("s")
    if unit not in _UNITS:
        raise _syntax(column, f"unknown interval unit '{word}'")
    return unit


def parse_expr(text: str) -> Any:
    """One expression, as PostHog's ``parse_expr`` reads a runner's column or filter text
    (``expr [AS alias]``, comments allowed); anything after it is a syntax error."""
    parser = Parser(text)
    expr = parser.expr()
    if parser.keyword("AS"):
        expr = Alias(parser.expect("name").value, expr)
    parser.finish()
    return expr


def parse_order_expr(text: str) -> tuple[Any, bool]:
    """``expr [ASC|DESC]`` as PostHog's ``parse_order_expr`` reads it: (expr, descending)."""
    parser = Parser(text)
    item = parser.order_item()
    parser.finish()
    return item


# -- tables ---------------------------------------------------------------------------------------

# Each table's columns, in the order ``SELECT *`` lists them, with the ClickHouse type the answer's
# ``types`` names.
TABLES: dict[str, dict[str, str]] = {
    "events": {
        "uuid": "UUID",
        "event": "String",
        "properties": "String",
        "timestamp": "DateTime64(6, 'UTC')",
        "distinct_id": "String",
        "elements_chain": "String",
        "created_at": "DateTime64(6, 'UTC')",
        "person_id": "UUID",
    },
    "persons": {
        "id": "UUID",
        "created_at": "DateTime64(3, 'UTC')",
        "properties": "String",
        "is_identified": "Bool",
    },
}


@dataclass(frozen=True)
class Source:
    """What a query reads: the store's rows of one table, shaped as HogQL's columns."""

    rows: list[dict[str, Any]]
    person: Callable[[dict[str, Any]], dict[str, Any] | None]  # an event's person, as a persons row


# -- evaluation -----------------------------------------------------------------------------------

AGGREGATES = {"count", "uniq", "uniqexact", "sum", "avg", "min", "max", "any", "grouparray", "countif"}


def run(text: str, source: dict[str, Source], now: datetime) -> dict[str, Any]:
    """The query's answer: ``columns``, ``types``, ``results`` (rows as lists), ``hasMore``,
    ``limit``, ``offset``."""
    if not isinstance(text, str) or not text.strip():
        raise HogQLError("Query is empty")
    return execute(Parser(text).select(), source, now)


def execute(query: Select, source: dict[str, Source], now: datetime) -> dict[str, Any]:
    """A parsed (or runner-built) SELECT run over ``source``: :func:`run`'s answer."""
    table = query.table or ""
    if query.table is not None and table not in source:
        raise HogQLError(f'Unknown table "{table}".')
    read = source.get(table) or Source([{}], lambda row: None)
    scope = _Scope(table, query.alias, read, now)
    rows = [row for row in read.rows if query.where is None or _truthy(scope.value(query.where, row))]
    columns = _expand(query.columns, table)
    names = [_column_name(column) for column in columns]
    aliases = {column.name: column.expr for column in columns if isinstance(column, Alias)}
    scope.aliases = aliases
    grouped = query.group_by is not None or any(_has_aggregate(_bare(column)) for column in columns)
    if grouped:
        keys = query.group_by or []
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(_hashable(scope.value(key, row)) for key in keys), []).append(row)
        if not keys and not groups:
            groups[()] = []
        items = [(members[0] if members else {}, members) for members in groups.values()]
        if query.having is not None:
            items = [item for item in items if _truthy(scope.value(query.having, item[0], item[1]))]
    else:
        if query.having is not None:
            raise HogQLError("HAVING requires GROUP BY or an aggregation")
        items = [(row, None) for row in rows]
    answers = [
        ([scope.value(_bare(column), row, members) for column in columns], row, members)
        for row, members in items
    ]
    if query.distinct:
        seen: set[Any] = set()
        unique = []
        for answer in answers:
            marker = _hashable(answer[0])
            if marker not in seen:
                seen.add(marker)
                unique.append(answer)
        answers = unique
    for expr, descending in reversed(query.order_by or []):
        position = _position(expr, columns, names)
        answers.sort(
            key=lambda a, p=position, e=expr: _sort_key(
                a[0][p] if p is not None else scope.value(e, a[1], a[2])
            ),
            reverse=descending,
        )
    limit = min(query.limit if query.limit is not None else DEFAULT_LIMIT, MAX_LIMIT)
    page = answers[query.offset : query.offset + limit]
    return {
        "columns": names,
        "types": [[name, _type(column, table)] for name, column in zip(names, columns, strict=True)],
        "results": [[_shown(value) for value in answer[0]] for answer in page],
        "hasMore": len(answers) > query.offset + limit,
        "limit": limit,
        "offset": query.offset,
    }


# -- for runners that build queries around the user's HogQL (mockhog.resources.events_query) ---------


def has_aggregate(expr: Any) -> bool:
    """Whether an expression (or an aliased column) aggregates: the runner's has_aggregation."""
    return _has_aggregate(_bare(expr))


def printed(expr: Any) -> str:
    """An expression (or an aliased column's expression) as HogQL prints it."""
    return _printed(_bare(expr))


def shown(value: Any) -> Any:
    """A value as the query API's JSON has it."""
    return _shown(value)


def moment(value: Any) -> datetime | None:
    """A date or time value as a UTC-aware datetime, or None."""
    return _moment(value)


def _expand(columns: list[Any], table: str) -> list[Any]:
    out = []
    for column in columns:
        if isinstance(column, Star) and table not in TABLES:
            raise HogQLError("Cannot select * without a table")
        out += [Field((name,)) for name in TABLES[table]] if isinstance(column, Star) else [column]
    return out


def _bare(column: Any) -> Any:
    return column.expr if isinstance(column, Alias) else column


def _column_name(column: Any) -> str:
    if isinstance(column, Alias):
        return column.name
    if isinstance(column, Field):
        return column.chain[-1]
    return _printed(column)


# What HogQL prints an operator as, in an unaliased column's name.
_FUNCTION_NAMES = {
    "+": "plus",
    "-": "minus",
    "*": "multiply",
    "/": "divide",
    "%": "modulo",
    "=": "equals",
    "!=": "notEquals",
    "<": "less",
    ">": "greater",
    "<=": "lessOrEquals",
    ">=": "greaterOrEquals",
    "and": "and",
    "or": "or",
    "like": "like",
    "ilike": "ilike",
    "in": "in",
    "||": "concat",
}


def _printed(expr: Any) -> str:
    """An unaliased expression's column name, as HogQL prints it (``count()``, ``plus(1, 2)``...)."""
    if isinstance(expr, Field):
        return ".".join(expr.chain)
    if isinstance(expr, Constant):
        return (
            "NULL"
            if expr.value is None
            else repr(expr.value)
            if isinstance(expr.value, str)
            else str(expr.value)
        )
    if isinstance(expr, Call):
        inner = ", ".join(_printed(arg) for arg in expr.args)
        return f"{expr.name}({'DISTINCT ' if expr.distinct else ''}{inner})"
    if isinstance(expr, Binary):
        right = expr.right if isinstance(expr.right, tuple) else (expr.right,)
        return f"{_FUNCTION_NAMES[expr.op]}({_printed(expr.left)}, {', '.join(_printed(r) for r in right)})"
    if isinstance(expr, Not):
        return f"not({_printed(expr.expr)})"
    if isinstance(expr, Interval):
        return f"toInterval{expr.unit.capitalize()}({_printed(expr.amount)})"
    if isinstance(expr, Native):
        return f"{expr.name}({', '.join(_printed(arg) for arg in expr.args)})"
    if isinstance(expr, Alias):
        return f"{_printed(expr.expr)} AS {expr.name}"
    return "?"


def _type(column: Any, table: str) -> str:
    expr = _bare(column)
    if isinstance(expr, Field) and len(expr.chain) == 1 and expr.chain[0] in TABLES.get(table, {}):
        return TABLES[table][expr.chain[0]]
    if isinstance(expr, Call) and expr.name.lower() in ("count", "uniq", "uniqexact", "countif"):
        return "UInt64"
    if isinstance(expr, Native):
        return expr.type
    return "String"


def _position(expr: Any, columns: list[Any], names: list[str]) -> int | None:
    if isinstance(expr, Field) and len(expr.chain) == 1 and expr.chain[0] in names:
        return names.index(expr.chain[0])
    if isinstance(expr, Constant) and isinstance(expr.value, int) and 1 <= expr.value <= len(columns):
        return expr.value - 1  # ORDER BY 2
    bare = [_bare(column) for column in columns]
    return bare.index(expr) if expr in bare else None


def _has_aggregate(expr: Any) -> bool:
    if isinstance(expr, Call):
        return expr.name.lower() in AGGREGATES or any(_has_aggregate(arg) for arg in expr.args)
    if isinstance(expr, Binary):
        right = expr.right if isinstance(expr.right, tuple) else (expr.right,)
        return _has_aggregate(expr.left) or any(_has_aggregate(r) for r in right)
    if isinstance(expr, Not):
        return _has_aggregate(expr.expr)
    if isinstance(expr, Native):
        return any(_has_aggregate(arg) for arg in expr.args)
    if isinstance(expr, Alias):
        return _has_aggregate(expr.expr)
    return False


class _Scope:
    """Resolves fields against one table's row (and an event's person) and evaluates expressions."""

    def __init__(self, table: str, alias: str | None, source: Source, now: datetime) -> None:
        self.table, self.alias, self.source, self.now = table, alias, source, now
        self.aliases: dict[str, Any] = {}

    def field(self, chain: tuple[str, ...], row: dict[str, Any]) -> Any:
        if self.alias and chain[0] == self.alias or chain[0] == self.table:
            chain = chain[1:]
            if not chain:
                raise HogQLError(f"Unable to resolve field: {self.table}")
        head, rest = chain[0], chain[1:]
        if head in self.aliases and not rest:
            return self.value(self.aliases[head], row)
        if head == "person" and self.table == "events":
            person = self.source.person(row) if row else None
            return _dig(person, rest, "persons")
        if head in TABLES.get(self.table, {}):
            value = row.get(head)
            if rest:
                return _dig({head: value}, (head, *rest), self.table)
            return value
        raise HogQLError(f"Unable to resolve field: {head}")

    def value(self, expr: Any, row: dict[str, Any], members: list[dict[str, Any]] | None = None) -> Any:
        if isinstance(expr, Constant):
            return expr.value
        if isinstance(expr, Field):
            return self.field(expr.chain, row)
        if isinstance(expr, Alias):
            return self.value(expr.expr, row, members)
        if isinstance(expr, Not):
            inner = self.value(expr.expr, row, members)
            return None if inner is None else not _truthy(inner)
        if isinstance(expr, Interval):
            return _interval(self.value(expr.amount, row, members), expr.unit)
        if isinstance(expr, Native):
            return expr.function(*[self.value(arg, row, members) for arg in expr.args])
        if isinstance(expr, Binary):
            return self.binary(expr, row, members)
        if isinstance(expr, Call):
            name = expr.name.lower()
            if name in AGGREGATES:
                if members is None:
                    raise HogQLError(f"Aggregation '{expr.name}' cannot be used here")
                return self.aggregate(name, expr, members)
            args = [self.value(arg, row, members) for arg in expr.args]
            function = FUNCTIONS.get(name)
            if function is None:
                raise HogQLError(f"Unsupported function call '{expr.name}(...)'")
            return function(self, *args)
        raise HogQLError("Unsupported expression")

    def binary(self, expr: Binary, row: dict[str, Any], members: list[dict[str, Any]] | None) -> Any:
        if expr.op in ("and", "or"):
            left = _truthy(self.value(expr.left, row, members))
            if expr.op == "and":
                return left and _truthy(self.value(expr.right, row, members))
            return left or _truthy(self.value(expr.right, row, members))
        left = self.value(expr.left, row, members)
        if expr.op == "in":
            return _comparable(left) in {_comparable(self.value(item, row, members)) for item in expr.right}
        right = self.value(expr.right, row, members)
        if expr.op in ("like", "ilike"):
            if left is None or right is None:
                return None
            pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(right))
            flags = re.IGNORECASE | re.DOTALL if expr.op == "ilike" else re.DOTALL
            return re.fullmatch(pattern, str(left), flags) is not None
        if expr.op == "=" and right is None:
            return left is None
        if left is None or right is None:
            return None
        return _arithmetic(expr.op, left, right)

    def aggregate(self, name: str, expr: Call, members: list[dict[str, Any]]) -> Any:
        if name == "count" and not expr.args:
            return len(members)
        if name == "countif":
            return sum(1 for row in members if _truthy(self.value(expr.args[0], row)))
        values = [self.value(expr.args[0], row) for row in members] if expr.args else []
        present = [value for value in values if value is not None]
        if name == "count":
            return len({_hashable(v) for v in present}) if expr.distinct else len(present)
        if name in ("uniq", "uniqexact"):
            return len({_hashable(v) for v in present})
        if name == "grouparray":
            return present
        if name == "any":
            return present[0] if present else None
        if not present:
            return 0 if name == "sum" else None
        numbers = [_number(v) for v in present] if name in ("sum", "avg") else present
        if name == "sum":
            return sum(numbers)
        if name == "avg":
            return sum(numbers) / len(numbers)
        return (min if name == "min" else max)(present, key=_sort_key)


def _dig(value: Any, chain: tuple[str, ...], table: str) -> Any:
    for i, name in enumerate(chain):
        if i == 0 and table == "persons" and isinstance(value, dict) and name not in TABLES["persons"]:
            raise HogQLError(f"Unable to resolve field: person.{name}")
        if isinstance(value, str) and i > 0:
            value = _json(value)
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _json(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return None


def _interval(amount: Any, unit: str) -> timedelta:
    number = int(_number(amount))
    if unit == "month":
        return timedelta(days=30 * number)
    if unit == "year":
        return timedelta(days=365 * number)
    return timedelta(**{_UNITS[unit]: number})


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _comparable(value: Any) -> Any:
    moment = _moment(value) if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" else None
    return moment if moment is not None else _hashable(value)


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, datetime | date) or isinstance(right, datetime | date | timedelta):
        left_moment, right_moment = _moment(left) or left, _moment(right) or right
        if op == "+" and isinstance(right_moment, timedelta):
            return left_moment + right_moment
        if op == "-" and isinstance(right_moment, timedelta):
            return left_moment - right_moment
        left, right = left_moment, right_moment
    elif isinstance(left, str) and isinstance(right, str) and op in ("=", "!=", "<", ">", "<=", ">="):
        left_moment, right_moment = _moment(left), _moment(right)
        if left_moment and right_moment and left[4:5] == "-" and right[4:5] == "-":
            left, right = left_moment, right_moment
    elif op in ("+", "-", "*", "/", "%"):
        left, right = _number(left), _number(right)
    if op == "||":
        return f"{_shown(left)}{_shown(right)}"
    try:
        return {
            "=": lambda: left == right,
            "!=": lambda: left != right,
            "<": lambda: left < right,
            ">": lambda: left > right,
            "<=": lambda: left <= right,
            ">=": lambda: left >= right,
            "+": lambda: left + right,
            "-": lambda: left - right,
            "*": lambda: left * right,
            "/": lambda: left / right if right else math.inf,
            "%": lambda: left % right if right else None,
        }[op]()
    except TypeError:
        raise HogQLError(f"Illegal types of arguments for '{op}'") from None


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        raise HogQLError(f"Cannot parse '{value}' as a number") from None
    return int(number) if number.is_integer() else number


def _truthy(value: Any) -> bool:
    return bool(value) and value != "0"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """ClickHouse's order: NULLs last ascending; numbers by value; the rest as text."""
    if value is None:
        return (2, "")
    if isinstance(value, bool | int | float):
        return (0, value)
    moment = _moment(value) if isinstance(value, str) and value[4:5] == "-" else None
    if moment is not None or isinstance(value, datetime):
        return (0, (moment or value).timestamp())
    return (1, str(value))


def _shown(value: Any) -> Any:
    """A value as the query API's JSON has it: times in ISO 8601 with Z, JSON columns as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, dict):
        import json

        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return value
    return value


def _to_date(scope: _Scope, value: Any) -> date | None:
    moment = _moment(value)
    return moment.date() if moment else None


def _date_trunc(unit: str) -> Callable[..., Any]:
    def trunc(scope: _Scope, value: Any) -> datetime | None:
        moment = _moment(value)
        if moment is None:
            return None
        if unit == "hour":
            return moment.replace(minute=0, second=0, microsecond=0)
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if unit == "week":  # toStartOfWeek: Sunday, ClickHouse's mode 0
            return start - timedelta(days=(start.weekday() + 1) % 7)
        if unit == "month":
            return start.replace(day=1)
        return start

    return trunc


def _first(values: Iterable[Any]) -> Any:
    return next((value for value in values if value is not None), None)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": lambda scope: scope.now,
    "today": lambda scope: scope.now.date(),
    "yesterday": lambda scope: scope.now.date() - timedelta(days=1),
    "todate": _to_date,
    "todatetime": lambda scope, value: _moment(value),
    "tostartofday": _date_trunc("day"),
    "tostartofhour": _date_trunc("hour"),
    "tostartofweek": _date_trunc("week"),
    "tostartofmonth": _date_trunc("month"),
    "tostring": lambda scope, value: None if value is None else str(_shown(value)),
    "toint": lambda scope, value: None if value is None else int(_number(value)),
    "tofloat": lambda scope, value: None if value is None else float(_number(value)),
    "lower": lambda scope, value: None if value is None else str(value).lower(),
    "upper": lambda scope, value: None if value is None else str(value).upper(),
    "length": lambda scope, value: 0 if value is None else len(value),
    "concat": lambda scope, *values: "".join("" if v is None else str(_shown(v)) for v in values),
    "coalesce": lambda scope, *values: _first(values),
    "ifnull": lambda scope, value, fallback: fallback if value is None else value,
    "if": lambda scope, test, yes, no: yes if _truthy(test) else no,
    "round": lambda scope, value, digits=0: None if value is None else round(_number(value), int(digits)),
    "abs": lambda scope, value: None if value is None else abs(_number(value)),
    "get": lambda scope, value, key: _dig(value, (str(key),), "") if isinstance(value, dict) else None,
    "jsonextractstring": lambda scope, text, key: (
        (_json(text) or {}).get(key) if isinstance(text, str) else None
    ),
    "datediff": lambda scope, unit, start, end: _date_diff(str(unit), start, end),
}


def _date_diff(unit: str, start: Any, end: Any) -> int | None:
    first, last = _moment(start), _moment(end)
    if first is None or last is None:
        return None
    seconds = (last - first).total_seconds()
    per = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}.get(
        unit.lower().rstrip("s")
    )
    if per is None:
        raise HogQLError(f"Unsupported dateDiff unit '{unit}'")
    return int(seconds // per)
