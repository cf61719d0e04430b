"""Fault injection and rate limits: answers a real PostHog (or its network) sometimes gives.

A rule matches requests by method, path, operation id, project and optionally a header, and then
answers a status with PostHog's body, adds latency, or drops the connection; it may fire a given
number of times, or with a probability. The rate limiter copies DRF's throttles, which PostHog
applies per personal API key.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import re2

from . import errors

_DEFAULT_DETAIL = {
    400: ("validation_error", "invalid_input", "Invalid input."),
    401: ("authentication_error", "authentication_failed", "Incorrect authentication credentials."),
    403: ("authentication_error", "permission_denied", "You do not have permission to perform this action."),
    404: ("invalid_request", "not_found", "Not found."),
    500: ("server_error", "error", "A server error occurred."),
    502: ("server_error", "bad_gateway", "Bad gateway."),
    503: ("server_error", "service_unavailable", "Service temporarily unavailable, try again later."),
    504: ("server_error", "gateway_timeout", "Gateway timeout."),
}
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}  # fmt: skip


class DropConnection(Exception):
    """Raised while sending a response so that the server closes the connection mid-answer."""


@dataclass
class FaultRule:
    """One rule: what it matches, what it does, how often."""

    id: int
    method: str | None = None
    path: str | None = None  # a regular expression searched in the request path
    operation_id: str | None = None
    project: int | None = None
    header: dict[str, str] | None = None  # {"name": "value"}; "*" means any value
    status: int | None = None
    body: Any = None
    retry_after: int | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    drop: bool = False
    count: int | None = None
    probability: float = 1.0
    fired: int = 0
    _pattern: Any = field(default=None, repr=False)  # the compiled RE2 pattern of ``path``
    # Set when the rule is removed (or the rules cleared, or the state reset): its sleepers wake.
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)

    def matches(self, method: str, path: str, operation_id: str | None, project: int | None,
                headers: Any) -> bool:  # fmt: skip
        if self.method and self.method.upper() != method:
            return False
        if self._pattern and not self._pattern.search(path):
            return False
        if self.operation_id and self.operation_id != operation_id:
            return False
        if self.project is not None and self.project != project:
            return False
        for name, value in (self.header or {}).items():
            sent = headers.get(name)
            if sent is None or (value != "*" and sent != value):
                return False
        return True

    def error(self) -> errors.ApiError | None:
        """The answer this rule gives, in PostHog's shape (429 with Retry-After, 5xx, ...)."""
        if self.status is None:
            return None
        if self.status == 429:
            wait = self.retry_after if self.retry_after is not None else 1
            error = errors.ApiError(
                429, "throttled_error", "throttled",
                f"Request was throttled. Expected available in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )  # fmt: skip
        else:
            kind, code, detail = _DEFAULT_DETAIL.get(self.status, ("server_error", "error", "Error."))
            error = errors.ApiError(self.status, kind, code, detail)
            if self.retry_after is not None:
                error.headers["Retry-After"] = str(self.retry_after)
        if self.body is not None:
            error.body = self.body
        if self.status in _NO_BODY:
            error.body = None
        return error

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


MAX_LATENCY_MS = 3_600_000  # one hour: the longest latency (and jitter) a rule may add
MAX_RETRY_AFTER = 86_400 * 365
_NO_BODY = (204, 205, 304)  # statuses whose answer has no body
_STRING, _INTEGER, _NUMBER, _BOOLEAN, _OBJECT, _ANY = (
    "string",
    "integer",
    "number",
    "boolean",
    "object",
    "any",
)
# field -> (kind, may be null, minimum, maximum)
_FIELDS: dict[str, tuple[str, bool, float | None, float | None]] = {
    "method": (_STRING, True, None, None),
    "path": (_STRING, True, None, None),
    "operation_id": (_STRING, True, None, None),
    "project": (_INTEGER, True, None, None),
    "header": (_OBJECT, True, None, None),
    "status": (_INTEGER, True, 200, 599),
    "body": (_ANY, True, None, None),
    "retry_after": (_INTEGER, True, 0, MAX_RETRY_AFTER),
    "latency_ms": (_NUMBER, False, 0, MAX_LATENCY_MS),
    "jitter_ms": (_NUMBER, False, 0, MAX_LATENCY_MS),
    "drop": (_BOOLEAN, False, None, None),
    "count": (_INTEGER, True, 1, None),
    "probability": (_NUMBER, False, 0, 1),
}
_TYPE_ERRORS = {
    _STRING: "Not a valid string.",
    _INTEGER: "A valid integer is required.",
    _NUMBER: "A valid number is required.",
    _BOOLEAN: "Must be a valid boolean.",
    _OBJECT: 'Expected a dictionary of items but got type "{got}".',
}
_METHOD = re.compile(r"[A-Za-z]{1,20}")


def _check_field(name: str, value: Any) -> None:
    """One field of a rule, checked the way DRF's fields check it: a 400 naming the field."""
    kind, nullable, minimum, maximum = _FIELDS[name]
    if value is None:
        if not nullable:
            raise errors.validation_error("This field may not be null.", name, "null")
        return
    if kind == _ANY:
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    valid = {
        _STRING: isinstance(value, str),
        _INTEGER: isinstance(value, int) and not isinstance(value, bool),
        _NUMBER: number and math.isfinite(value),
        _BOOLEAN: isinstance(value, bool),
        _OBJECT: isinstance(value, dict),
    }[kind]
    if not valid:
        raise errors.validation_error(_TYPE_ERRORS[kind].format(got=type(value).__name__), name)
    if minimum is not None and value < minimum:
        raise errors.validation_error(
            f"Ensure this value is greater than or equal to {minimum}.", name, "min_value"
        )
    if maximum is not None and value > maximum:
        raise errors.validation_error(
            f"Ensure this value is less than or equal to {maximum}.", name, "max_value"
        )
    if name == "method" and not _METHOD.fullmatch(value):
        raise errors.validation_error("Not a valid HTTP method.", name)
    if name == "header":
        for header, expected in value.items():
            if not isinstance(expected, str) or not _HEADER_NAME.fullmatch(header):
                raise errors.validation_error(
                    'Expected {"Header-Name": "value"} ("*" for any value).', f"header__{header}"
                )


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}")


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the client's 400, not a line on stderr
    return options


_RE2_OPTIONS = _regex_options()


def parse_rule(rule_id: int, data: Any) -> FaultRule:
    """A rule from its JSON form; anything malformed is a 400 naming the field.

    Every value is checked here, so a stored rule cannot break the requests it meets: finite
    latencies up to ``MAX_LATENCY_MS``, statuses 200-599, probabilities in [0, 1]. ``path`` is an
    RE2 pattern (linear-time matching: no pattern can stall the server; no backreferences)."""
    if not isinstance(data, dict):
        got = "list" if isinstance(data, list) else type(data).__name__
        raise errors.validation_error(f"Invalid data. Expected a dictionary, but got {got}.")
    for name, value in data.items():
        if name not in _FIELDS:
            raise errors.validation_error(f"Unknown field '{name}'.", name)
        _check_field(name, value)
    given = {k: v for k, v in data.items() if v is not None}
    if given.get("status") is None and not given.get("latency_ms") and not given.get("drop"):
        raise errors.validation_error("A rule needs 'status', 'latency_ms' or 'drop'.")
    rule = FaultRule(rule_id, **given)
    if rule.path:
        try:
            rule._pattern = re2.compile(rule.path, options=_RE2_OPTIONS)
        except re2.error as exc:
            reason = (
                exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            )
            raise errors.validation_error(
                f"Not a valid regular expression (RE2 syntax): {reason}.", "path"
            ) from None
    return rule


class Faults:
    """The active rules, tried in the order they were added; the first that fires wins."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.clear()

    def clear(self) -> None:
        with self._lock:
            for rule in getattr(self, "rules", []):
                rule._wake.set()
            self.rules: list[FaultRule] = []
            self._next_id = 1
            self._rng = random.Random(f"faults:{self._seed}")

    def wake(self) -> None:
        """End every latency now being waited (the rules stay)."""
        with self._lock:
            for rule in self.rules:
                rule._wake.set()
                rule._wake = threading.Event()

    def add(self, data: Any) -> FaultRule:
        with self._lock:
            rule = parse_rule(self._next_id, data)
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            removed = [rule for rule in self.rules if rule.id == rule_id]
            for rule in removed:
                rule._wake.set()
            self.rules = [rule for rule in self.rules if rule.id != rule_id]
            return bool(removed)

    def fire(self, method: str, path: str, operation_id: str | None, project: int | None,
             headers: Any) -> tuple[FaultRule, float] | None:  # fmt: skip
        """The rule that fires for this request (counted), with the latency to add in seconds."""
        with self._lock:
            for rule in self.rules:
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if not rule.matches(method, path, operation_id, project, headers):
                    continue
                if rule.probability < 1 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                jitter = self._rng.uniform(-rule.jitter_ms, rule.jitter_ms) if rule.jitter_ms else 0.0
                return rule, max(0.0, rule.latency_ms + jitter) / 1000
        return None

    def sleep(self, rule: FaultRule, seconds: float) -> None:
        """Wait out a rule's latency, or less if the rule is removed or the sleepers woken first."""
        with self._lock:
            wake = rule._wake
        wake.wait(seconds)


def parse_rate(rate: Any, field_name: str) -> tuple[int, int]:
    """DRF's rate syntax: ``"480/minute"`` -> (480, 60)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", str(rate))
    if not match or match.group(2) not in _PERIODS or int(match.group(1)) < 1:
        raise errors.validation_error(f"Invalid rate '{rate}': use e.g. '480/minute'.", field_name)
    return int(match.group(1)), _PERIODS[match.group(2)]


@dataclass
class RateLimit:
    """PostHog's personal-API-key throttles (burst and sustained), off until switched on."""

    burst: str = "480/minute"
    sustained: str = "4800/hour"


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(None)

    def configure(self, limits: RateLimit | None) -> None:
        with self._lock:
            self.limits = limits
            self._rates = [parse_rate(r, n) for n, r in asdict(limits).items()] if limits else []
            self._history: dict[tuple[str, int], deque[float]] = {}

    def check(self, key: str) -> None:
        """Count a request for ``key``; raise PostHog's 429 when a limit is spent."""
        if not self._rates:
            return
        now = time.monotonic()
        with self._lock:
            waits = []
            for index, (allowed, period) in enumerate(self._rates):
                history = self._history.setdefault((key, index), deque())
                while history and history[-1] <= now - period:
                    history.pop()
                if len(history) >= allowed:
                    # DRF SimpleRateThrottle.wait(): the remaining window spread over what is left.
                    remaining = period - (now - history[-1])
                    waits.append(remaining / (allowed - len(history) + 1))
            if waits:
                wait = math.ceil(max(waits))
                raise errors.ApiError(
                    429, "throttled_error", "throttled",
                    f"Request was throttled. Expected available in {wait} seconds.",
                    headers={"Retry-After": str(wait)},
                )  # fmt: skip
            for index in range(len(self._rates)):
                self._history[(key, index)].appendleft(now)
