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
from dataclasses import asdict, dataclass, field
from typing import Any

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
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

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
        return error

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


_FIELDS = {
    "method": str, "path": str, "operation_id": str, "project": int, "header": dict, "status": int,
    "retry_after": int, "latency_ms": (int, float), "jitter_ms": (int, float), "drop": bool,
    "count": int, "probability": (int, float),
}  # fmt: skip


def parse_rule(rule_id: int, data: Any) -> FaultRule:
    """A rule from its JSON form; anything malformed is a 400 naming the field."""
    if not isinstance(data, dict):
        raise errors.validation_error("Invalid data. Expected a dictionary, but got list.")
    for name, value in data.items():
        if name == "body":
            continue
        if name not in _FIELDS:
            raise errors.validation_error(f"Unknown field '{name}'.", name)
        kind = _FIELDS[name]
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool) != (kind is bool)):
            raise errors.validation_error("Not a valid value for this field.", name)
    if not any(k in data for k in ("status", "latency_ms", "drop")):
        raise errors.validation_error("A rule needs 'status', 'latency_ms' or 'drop'.")
    if "status" in data and not 100 <= data["status"] <= 599:
        raise errors.validation_error("Ensure this value is an HTTP status.", "status")
    if not 0 <= data.get("probability", 1) <= 1:
        raise errors.validation_error("Ensure this value is between 0 and 1.", "probability")
    rule = FaultRule(rule_id, **{k: v for k, v in data.items()})
    if rule.path:
        try:
            rule._pattern = re.compile(rule.path)
        except re.error as exc:
            raise errors.validation_error(f"Not a valid regular expression: {exc}.", "path") from None
    return rule


class Faults:
    """The active rules, tried in the order they were added; the first that fires wins."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.rules: list[FaultRule] = []
            self._next_id = 1
            self._rng = random.Random(f"faults:{self._seed}")

    def add(self, data: Any) -> FaultRule:
        with self._lock:
            rule = parse_rule(self._next_id, data)
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self.rules)
            self.rules = [rule for rule in self.rules if rule.id != rule_id]
            return len(self.rules) < before

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
