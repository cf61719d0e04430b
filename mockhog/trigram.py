"""PostHog's saved-list search (``apply_trigram_search`` in posthog/helpers/trigram_search.py) over
stored rows, with pg_trgm's ``similarity`` and ``word_similarity`` computed as Postgres does.

A row matches *exactly* when the term is a case-insensitive substring of one of its fields (or of
one of its tags); only when no row does, the rows whose word similarity to a field clears the
field's threshold match as *similar*. Matches are ranked by the fields' weighted scores, then by
the viewset's tiebreakers.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# posthog/helpers/trigram_search.py
MIN_NAME_TRIGRAM_SIMILARITY = 0.3
MIN_DESCRIPTION_TRIGRAM_SIMILARITY = 0.4
DESCRIPTION_SCORE_WEIGHT = 0.5


@dataclass(frozen=True)
class SearchField:
    """One field the search scores (TrigramSearchField): its word similarity times ``weight``,
    plus its whole-string similarity with ``include_full``; it matches as similar above
    ``threshold``."""

    name: str
    weight: float = 1.0
    threshold: float = MIN_NAME_TRIGRAM_SIMILARITY
    include_full: bool = False


NAME_FIELD = SearchField("name", include_full=True)
DESCRIPTION_FIELD = SearchField(
    "description", weight=DESCRIPTION_SCORE_WEIGHT, threshold=MIN_DESCRIPTION_TRIGRAM_SIMILARITY
)


def search_fields(names: Iterable[str]) -> tuple[SearchField, ...]:
    """The fields of a viewset's search, by name: ``name`` and ``description`` as PostHog's
    NAME_FIELD and DESCRIPTION_FIELD, any other as a plain TrigramSearchField."""
    known = {field.name: field for field in (NAME_FIELD, DESCRIPTION_FIELD)}
    return tuple(known.get(name, SearchField(name)) for name in names)


# -- pg_trgm -------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """The words pg_trgm reads: runs of alphanumeric characters, lower-cased."""
    words, current = [], []
    for char in text.lower():
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def trigrams(text: str) -> list[str]:
    """Each word's trigrams in order (pg_trgm pads a word with two blanks before, one after)."""
    found = []
    for word in _words(text):
        padded = f"  {word} "
        found.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def _real(shared: int, others: int) -> float:
    """``shared / others`` as pg_trgm computes it, in single precision (a ``real``, which then
    compares with PostHog's thresholds as the double it widens to)."""
    return struct.unpack("f", struct.pack("f", shared / others))[0]


def similarity(first: str, second: str) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all the trigrams of both."""
    a, b = set(trigrams(first)), set(trigrams(second))
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return _real(shared, len(a) + len(b) - shared)


def word_similarity(term: str, text: str) -> float:
    """pg_trgm's ``word_similarity(term, text)``: the greatest similarity between the term's
    trigrams and a continuous extent of the text's ordered trigrams, found as pg_trgm's
    ``iterate_word_similarity`` finds it (an extent grows to each trigram the term has, and its
    start moves up where that scores higher)."""
    wanted = set(trigrams(term))
    ordered = trigrams(text)
    if not wanted or not ordered:
        return 0.0
    size = len(wanted)
    last_seen: dict[str, int] = {}
    lower, count, distinct, best = -1, 0, 0, 0.0

    def score(shared: int, extent: int) -> float:
        return _real(shared, size + extent - shared)

    for index, gram in enumerate(ordered):
        present = gram in wanted
        if lower >= 0 or present:
            if gram not in last_seen:
                distinct += 1
                count += present
            last_seen[gram] = index
        if not present:
            continue
        if lower == -1:
            lower, distinct = index, 1
        current = score(count, distinct)
        trial_count, trial_distinct, start = count, distinct, lower
        for trial_lower in range(lower, index + 1):
            trial = score(trial_count, trial_distinct)
            if trial > current:
                current, distinct, lower, count = trial, trial_distinct, trial_lower, trial_count
            dropped = ordered[trial_lower]
            if last_seen.get(dropped) == trial_lower:
                trial_distinct -= 1
                trial_count -= dropped in wanted
        best = max(best, current)
        for forgotten in range(start, lower):
            dropped = ordered[forgotten]
            if last_seen.get(dropped) == forgotten:
                del last_seen[dropped]
    return best


# -- the search ----------------------------------------------------------------------------------


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)


def search(
    rows: Sequence[dict[str, Any]],
    term: str,
    fields: Sequence[SearchField],
    *,
    tags: Callable[[dict[str, Any]], Iterable[str]] | None = None,
    tiebreak: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
) -> list[tuple[dict[str, Any], bool]]:
    """The rows ``term`` finds, each with whether it matched exactly, best first: the exact
    matches if there are any, else the similar ones (``term`` already normalised: stripped,
    without NUL). ``tags`` gives a row's tag names (``include_tag_search``); ``tiebreak`` orders
    rows of equal score (a stable sort, as Postgres' ORDER BY after the score)."""
    needle = term.lower()
    exact, similar, score = [], [], {}
    for row in rows:
        texts = {field.name: _text(row, field.name) for field in fields}
        total, close = 0.0, False
        for field in fields:
            word = word_similarity(term, texts[field.name])
            close = close or word > field.threshold
            total += word * field.weight
            if field.include_full:
                total += similarity(texts[field.name], term)
        score[id(row)] = total
        names = texts.values() if tags is None else [*texts.values(), *map(str, tags(row))]
        if any(needle in text.lower() for text in names):
            exact.append(row)
        elif close:
            similar.append(row)
    found = exact or similar
    if tiebreak is not None:
        found = tiebreak(found)
    found = sorted(found, key=lambda row: -score[id(row)])  # stable: ties keep the tiebreak's order
    return [(row, bool(exact)) for row in found]
