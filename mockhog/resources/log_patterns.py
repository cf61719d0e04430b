"""Log patterns: recurring message templates mined from log bodies, and the diff of two windows.

What PostHog's ``logs/patterns/`` and ``logs/patterns_diff/`` answer today
(products/logs/backend/presentation/views/api.py ``LogsViewSet.patterns`` / ``patterns_diff``,
products/logs/backend/log_patterns.py ``mine_patterns``, patterns_query_runner.py,
pattern_diff.py), computed here from the stored log rows:

1. Each body is whitespace-collapsed and cut at 512 characters, then its variable parts are masked
   in PostHog's order (timestamp, uuid, ip, hex, num) as ``<timestamp>`` ... ``<num>``.
2. The masked bodies are grouped with a Drain-style prefix tree (mockhog's own implementation of
   the published Drain algorithm PostHog vendors as drain3): bodies with the same number of
   tokens and the same first two tokens (a token holding a digit counts as a wildcard there) share
   a leaf; within a leaf a body joins the most similar template when at least 40% of its tokens
   match it position by position, and the positions where they differ become ``<*>``; otherwise it
   starts a template of its own.
3. Per template: counts, errors, first and last seen, up to 10 distinct examples, up to 4
   services, a sparkline over the window, counts per severity, a regex over raw bodies that is kept
   only if it matches every example, and the longest literal run (3 characters at least).

The window is sampled (a deterministic 1-in-N by the row's uuid) only past 10,000 matching rows,
PostHog's sample limit; below it every row is mined and the estimates are the exact counts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from typing import Any

ERROR_SEVERITIES = frozenset({"error", "fatal"})
SAMPLE_LIMIT = 10_000
MAX_PATTERNS = 200
MAX_EXAMPLES = 10
MAX_SERVICES = 4
BODY_TRUNCATE = 512
SIMILARITY = 0.4
PREFIX_DEPTH = 2  # Drain's depth 4: the root, the length level and two token levels
# PostHog's sparkline bucket count was not read in its source: mockhog divides the window into 20.
SPARKLINE_BUCKETS = 20
MIN_LITERAL_CHARS = 3
WILDCARD = "<*>"

# Masks in PostHog's order: the more specific ones first, the catch-all number last.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_MASKS = [
    (re.compile(r"\b" + _TIMESTAMP), "<timestamp>"),
    (re.compile(r"\b" + _UUID + r"\b"), "<uuid>"),
    (re.compile(r"(?<![A-Za-z]/)(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w.])"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<hex>"),
    (re.compile(r"\b\d+\b"), "<num>"),
]
# What each placeholder stands for in a raw body (the regex a pattern's lines match).
_PLACEHOLDERS = {
    WILDCARD: r"\S+",
    "<num>": r"\d+",
    "<timestamp>": _TIMESTAMP,
    "<uuid>": _UUID,
    "<ip>": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    "<hex>": r"(?:0x[0-9a-fA-F]+|[0-9a-fA-F]{16,})",
}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Sample:
    body: str
    severity_text: str
    service_name: str
    timestamp: datetime


@dataclass
class _Cluster:
    tokens: list[str]
    samples: list[tuple[Sample, str]] = field(default_factory=list)  # (sample, prepared body)

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


def prepare(body: str) -> str:
    """The body as the miner sees it: one line, single spaces, at most 512 characters."""
    return _SPACES.sub(" ", body).strip()[:BODY_TRUNCATE]


def mask(text: str) -> str:
    for pattern, name in _MASKS:
        text = pattern.sub(name, text)
    return text


def _similarity(template: list[str], tokens: list[str]) -> tuple[float, int]:
    """Drain's sequence distance: the share of positions equal to the template's (its wildcards
    do not count as equal), and how many wildcards it has (more wins a tie)."""
    same = sum(
        1 for mine, theirs in zip(template, tokens, strict=True) if mine == theirs and mine != WILDCARD
    )
    wildcards = template.count(WILDCARD)
    return same / len(tokens) if tokens else 1.0, wildcards


def _leaf_key(tokens: list[str]) -> tuple[Any, ...]:
    prefix = [WILDCARD if any(ch.isdigit() for ch in token) else token for token in tokens[:PREFIX_DEPTH]]
    return (len(tokens), *prefix)


def cluster(samples: list[Sample]) -> list[_Cluster]:
    """Group the samples' masked bodies into templates (step 2 of the module docstring)."""
    leaves: dict[tuple[Any, ...], list[_Cluster]] = {}
    clusters: list[_Cluster] = []
    for sample in samples:
        prepared = prepare(sample.body)
        tokens = mask(prepared).split(" ") if prepared else [""]
        leaf = leaves.setdefault(_leaf_key(tokens), [])
        best, best_score = None, (-1.0, -1)
        for candidate in leaf:
            score = _similarity(candidate.tokens, tokens)
            if score > best_score:
                best, best_score = candidate, score
        if best is None or best_score[0] < SIMILARITY:
            best = _Cluster(list(tokens))
            leaf.append(best)
            clusters.append(best)
        else:
            best.tokens = [
                mine if mine == theirs else WILDCARD for mine, theirs in zip(best.tokens, tokens, strict=True)
            ]
        best.samples.append((sample, prepared))
    return clusters


def _literal_runs(template: str) -> list[str]:
    return [run.strip() for run in _PLACEHOLDER.split(template) if run.strip()]


def match_literal(template: str) -> str | None:
    longest = max(_literal_runs(template), key=len, default="")
    return longest if len(longest) >= MIN_LITERAL_CHARS else None


def fingerprint(template: str) -> str:
    """A template's identity across runs: its set of literal runs (placeholders drop out)."""
    literals = sorted(set(_literal_runs(template)))
    return "\x00".join(literals) if literals else template


def match_regex(template: str, examples: list[str]) -> str | None:
    """A regex over raw bodies for the template's lines, offered only when it matches every
    example (anchored at the end unless an example reached the truncation cap)."""
    if not examples or not any(len(run.strip()) >= MIN_LITERAL_CHARS for run in _PLACEHOLDER.split(template)):
        return None
    parts, position = [], 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(_literal(template[position : found.start()]))
        parts.append(_PLACEHOLDERS[found.group(0)])
        position = found.end()
    parts.append(_literal(template[position:]))
    truncated = any(len(example) >= BODY_TRUNCATE for example in examples)
    candidate = r"^\s*" + "".join(parts) + ("" if truncated else r"\s*$")
    try:
        compiled = re.compile(candidate)
    except re.error:
        return None
    return candidate if all(compiled.search(example) for example in examples) else None


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(token) for token in text.split(" "))


def sample_rows(rows: list[Sample], uuids: list[str]) -> tuple[list[Sample], bool]:
    """Every row up to the sample limit; past it, the rows whose uuid hashes to 0 modulo the
    divisor that brings the sample under the limit (deterministic, as PostHog's cityHash64)."""
    if len(rows) <= SAMPLE_LIMIT:
        return rows, False
    divisor = ceil(len(rows) / SAMPLE_LIMIT)
    kept = [row for row, uuid in zip(rows, uuids, strict=True) if _hash(uuid) % divisor == 0]
    return kept[:SAMPLE_LIMIT], True


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def buckets(
    start: datetime, end: datetime, count: int = SPARKLINE_BUCKETS
) -> list[tuple[datetime, datetime]]:
    step = (end - start) / count if end > start else timedelta(0)
    return [(start + step * i, start + step * (i + 1)) for i in range(count)] if step else []


def mine(
    samples: list[Sample], total: int, window: tuple[datetime, datetime], sampled: bool
) -> dict[str, Any]:
    """The patterns answer: templates most frequent first (ties by template), estimates scaled
    from the sample to the window's ``total``."""
    spans = buckets(*window)
    scanned = len(samples)
    patterns = [_pattern(group, scanned, total, spans) for group in cluster(samples)]
    patterns.sort(key=lambda p: (-p["count"], p["pattern"]))
    return {
        "patterns": patterns[:MAX_PATTERNS],
        "scanned_count": scanned,
        "total_count": total,
        "sampled": sampled,
        "sample_coverage_pct": 100.0,
        "sparkline_buckets": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in spans],
    }


def _pattern(
    group: _Cluster, scanned: int, total: int, spans: list[tuple[datetime, datetime]]
) -> dict[str, Any]:
    def estimate(n: int) -> int:
        return n if scanned >= total else round(n / scanned * total)

    examples: list[dict[str, Any]] = []
    services: list[str] = []
    severities: dict[str, int] = {}
    sparkline = [0] * len(spans)
    for sample, prepared in group.samples:
        level = sample.severity_text.lower()
        severities[level] = severities.get(level, 0) + 1
        if len(examples) < MAX_EXAMPLES and all(example["body"] != prepared for example in examples):
            examples.append(
                {
                    "body": prepared,
                    "severity_text": sample.severity_text,
                    "service_name": sample.service_name,
                    "timestamp": sample.timestamp.isoformat(),
                }
            )
        if sample.service_name not in services and len(services) < MAX_SERVICES:
            services.append(sample.service_name)
        for index, (start, end) in enumerate(spans):
            if start <= sample.timestamp < end:
                sparkline[index] += 1
                break
    count = len(group.samples)
    errors_seen = sum(severities.get(level, 0) for level in ERROR_SEVERITIES)
    moments = [sample.timestamp for sample, _ in group.samples]
    template = group.template
    return {
        "pattern": template,
        "count": count,
        "estimated_count": estimate(count),
        "volume_share_pct": round(count / scanned * 100, 2),
        "error_count": errors_seen,
        "estimated_error_count": estimate(errors_seen),
        "first_seen": min(moments).isoformat(),
        "last_seen": max(moments).isoformat(),
        "examples": examples,
        "services": services,
        "sparkline": [estimate(n) for n in sparkline],
        "severity_counts": severities,
        "match_regex": match_regex(template, [example["body"] for example in examples]),
        "match_literal": match_literal(template),
    }


# -- the diff of two windows (pattern_diff.py) ----------------------------------------------------
NEW_MIN_SHARE = 1.0
SHIFT_RATIO = 2.0
MIN_SAMPLES = 5
_ORDER = {"new": 0, "rate_shift": 1, "gone": 2, "unchanged": 3}


def diff(
    current: list[dict[str, Any]],
    baseline: list[dict[str, Any]],
    current_window: tuple[datetime, datetime],
    baseline_window: tuple[datetime, datetime],
) -> list[dict[str, Any]]:
    """Classify each template, grouped by fingerprint, as new, rate_shift, gone or unchanged:
    new and gone need a 1% share or an error/fatal line; a shift is a per-second rate at least 2x
    either way with 5 samples or more on both sides. Sorted new (by estimated count), rate_shift
    (by magnitude), gone, unchanged."""
    now_groups, then_groups = _by_fingerprint(current), _by_fingerprint(baseline)
    entries = []
    for key, group in now_groups.items():
        representative = max(group, key=lambda p: p["estimated_count"])
        raw, estimated, share = _totals(group)
        before = then_groups.get(key)
        if before is None:
            entries.append(_entry("new" if _above_floor(share, group) else "unchanged", representative))
            continue
        base_raw, base_estimated, base_share = _totals(before)
        base_rate, rate = _rate(base_estimated, baseline_window), _rate(estimated, current_window)
        ratio = round(rate / base_rate, 2) if base_rate > 0 else None
        shifted = (
            ratio is not None
            and (ratio >= SHIFT_RATIO or ratio <= 1 / SHIFT_RATIO)
            and min(raw, base_raw) >= MIN_SAMPLES
        )
        entries.append(
            _entry(
                "rate_shift" if shifted else "unchanged", representative, base_estimated, base_share, ratio
            )
        )
    for key, group in then_groups.items():
        if key in now_groups:
            continue
        _raw, base_estimated, base_share = _totals(group)
        if _above_floor(base_share, group):
            representative = max(group, key=lambda p: p["estimated_count"])
            entries.append(_entry("gone", representative, base_estimated, base_share))

    def magnitude(entry: dict[str, Any]) -> float:
        ratio = entry["rate_ratio"]
        if entry["classification"] == "rate_shift" and ratio is not None:
            return max(ratio, 1 / ratio) if ratio > 0 else float("inf")
        return float(entry["pattern"]["estimated_count"])

    entries.sort(key=lambda e: (_ORDER[e["classification"]], -magnitude(e), e["pattern"]["pattern"]))
    return entries


def _by_fingerprint(patterns: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pattern in patterns:
        grouped.setdefault(fingerprint(pattern["pattern"]), []).append(pattern)
    return grouped


def _totals(group: list[dict[str, Any]]) -> tuple[int, int, float]:
    return (
        sum(p["count"] for p in group),
        sum(p["estimated_count"] for p in group),
        round(sum(p["volume_share_pct"] for p in group), 2),
    )


def _above_floor(share: float, group: list[dict[str, Any]]) -> bool:
    return share >= NEW_MIN_SHARE or any(
        level in ERROR_SEVERITIES for p in group for level in p["severity_counts"]
    )


def _rate(estimated: float, window: tuple[datetime, datetime]) -> float:
    seconds = (window[1] - window[0]).total_seconds()
    return estimated / seconds if seconds > 0 else 0.0


def _entry(
    classification: str,
    pattern: dict[str, Any],
    baseline_estimated: int | None = None,
    baseline_share: float | None = None,
    rate_ratio: float | None = None,
) -> dict[str, Any]:
    return {
        "classification": classification,
        "rate_ratio": rate_ratio,
        "pattern": pattern,
        "baseline_estimated_count": baseline_estimated,
        "baseline_volume_share_pct": baseline_share,
    }
