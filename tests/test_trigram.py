"""mockhog.trigram: pg_trgm's similarity and word_similarity as PostgreSQL computes them, and
PostHog's apply_trigram_search (posthog/helpers/trigram_search.py) over rows.

The expected values were read off PostgreSQL 15's pg_trgm (``select word_similarity(a, b),
similarity(b, a)``); the port also agreed with it exactly on 3,000 generated pairs."""

from __future__ import annotations

import pytest

from mockhog.trigram import DESCRIPTION_FIELD, NAME_FIELD, SearchField, search, similarity, word_similarity


@pytest.mark.parametrize(
    "term, text, word, whole",
    [
        ("word", "two words", 0.8, 0.36363637),
        ("aurroa", "Aurora Laptop Pro 14", 0.42857143, 0.12),
        ("payng", "Paying customers", 0.5, 0.21052632),
        ("payng", "Paying users outside the US", 0.5, 0.14285715),
        ("payng", "Enterprise accounts", 0.0, 0.0),
        ("weekly users", "Weekly active users", 0.65, 0.65),
        ("revnue", "Revenue by plan", 0.5, 0.2777778),
        ("ab", "b a b a", 0.33333334, 0.16666667),
        ("naïve", "Naive naïve", 1.0, 0.6666667),
        ("abc", "abcabc abc", 1.0, 0.6666667),
        ("x", "", 0.0, 0.0),
        ("", "x", 0.0, 0.0),
    ],
)
def test_pg_trgm_values(term, text, word, whole):
    assert word_similarity(term, text) == pytest.approx(word, abs=5e-8)
    assert similarity(text, term) == pytest.approx(whole, abs=5e-8)


ROWS = [
    {"id": 1, "name": "Paying customers", "description": ""},
    {"id": 2, "name": "Paying users outside the US", "description": None},
    {"id": 3, "name": "Enterprise accounts", "description": "Accounts paying for the enterprise plan"},
]


def test_exact_matches_hide_the_similar_ones():
    """A literal substring (icontains) is exact; similar matches come only when nothing is."""
    found = search(ROWS, "paying", (NAME_FIELD, DESCRIPTION_FIELD))
    assert [(row["id"], exact) for row, exact in found] == [(1, True), (2, True), (3, True)]
    fuzzy = search(ROWS, "payng", (NAME_FIELD, DESCRIPTION_FIELD))
    # names of the same word similarity (0.5): the shorter one's whole-string similarity ranks it
    # first; a description's 0.5 clears its 0.4 threshold but counts half
    assert [(row["id"], exact) for row, exact in fuzzy] == [(1, False), (2, False), (3, False)]


def test_ranked_by_score_then_the_tiebreak():
    rows = [{"id": 1, "name": "beta y1"}, {"id": 2, "name": "beta x1"}, {"id": 3, "name": "alpha"}]
    by_name = search(
        rows, "beta", (NAME_FIELD,), tiebreak=lambda found: sorted(found, key=lambda r: r["name"])
    )
    assert [row["id"] for row, _ in by_name] == [2, 1]


def test_a_field_matches_only_above_its_threshold():
    """DESCRIPTION_FIELD holds descriptions to 0.4 where a name needs 0.3."""
    rows = [{"id": 1, "name": "", "description": "b a b a"}]
    assert search(rows, "ab", (SearchField("description"),))  # 0.333 > 0.3
    assert not search(rows, "ab", (DESCRIPTION_FIELD,))


def test_tags_match_exactly_only():
    rows = [{"id": 1, "name": "Signup funnel", "tags": ["growth"]}]
    tags = lambda row: row["tags"]  # noqa: E731
    assert search(rows, "grow", (NAME_FIELD,), tags=tags) == [(rows[0], True)]
    assert search(rows, "growht", (NAME_FIELD,), tags=tags) == []
