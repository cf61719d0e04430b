"""The overlay is mockhog's list of reasons, no longer and no shorter.

Every difference between what mockhog serves (its /api/schema/: the verified operations'
hand-checked schemas, the imported ones, the overlay's fixes) and PostHog's pinned document must be
explained by an overlay entry with its reason (mockhog/spec/overlay.toml), and every entry must
explain one. The pinned document is rebuilt from the committed import, so this runs in a clone.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from spec_documents import document_from_contract

from mockhog.catalog import Catalog
from mockhog.spec import load_overlay
from mockhog.spec.drift import compare, describe, ours
from mockhog.spec.importer import import_document
from mockhog.spec.overlay import KINDS, check_families, load_served


@pytest.fixture(scope="module")
def contract() -> dict:
    return ours()


@pytest.fixture(scope="module")
def pinned() -> dict:
    return import_document(document_from_contract())


@pytest.fixture(scope="module")
def report(contract, pinned):
    return compare(contract, pinned)


def test_every_difference_from_the_pinned_document_has_a_reason(report):
    unexplained = [describe(change) for change in report.drift]
    assert unexplained == [], (
        f"{len(unexplained)} differences from PostHog's document have no reason: give them a "
        "[[served]] entry in mockhog/spec/overlay.toml (or add the field to the entry that has its "
        "reason), then run python tools/derive_divergences.py; the first: " + "; ".join(unexplained[:5])
    )


def test_every_kind_of_difference_is_one_an_entry_may_name(report):
    assert {change.kind for change in report.changes} <= KINDS


def test_every_overlay_entry_explains_a_difference(report):
    stale = [f"{entry.label}: {entry.why}" for entry in report.unused]
    assert stale == [], f"overlay entries that explain nothing (remove or narrow them): {stale}"
    assert report.unneeded == []


def test_verified_operations_are_compared_and_explained(report):
    """The verified tier is compared with its own schemas, not skipped: each verified family
    that PostHog's document has differs somewhere, and each difference cites an entry."""
    verified = [change for change in report.changes if change.verified]
    families = {change.family for change in verified}
    assert {"annotations", "feature_flags", "experiments", "surveys", "users"} <= families
    assert all(change.overlay and change.explained_by for change in verified)
    sourced = {change.family for change in verified if change.source}
    assert families <= sourced | {"organizations"}, families - sourced


def _with_extra_field(contract: dict, component: str) -> dict:
    """mockhog's contract as if a verified schema gained a field nobody gave a reason for."""
    changed = copy.deepcopy(contract)
    model = changed["served_components"][component]
    model["properties"]["mood"] = {"type": "string"}
    return changed


def test_a_verified_schema_that_differs_without_a_reason_fails(contract, pinned):
    report = compare(_with_extra_field(contract, "Annotation"), pinned)
    drift = {(change.family, change.kind, change.pointer.rsplit("/", 1)[-1]) for change in report.drift}
    assert ("annotations", "field removed", "mood") in drift
    assert all(change.family == "annotations" for change in report.drift)


def test_an_entry_that_explains_nothing_is_named(contract, pinned, tmp_path: Path):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(
        '[[served]]\nfamily = "annotations"\nkinds = ["scopes"]\nwhy = "no such difference"\n',
        encoding="utf-8",
    )
    mine = {**contract, "served": contract["served"] + load_served(overlay)}
    report = compare(mine, pinned)
    assert [entry.why for entry in report.unused] == ["no such difference"]
    assert report.drift == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('family = "annotations"\nwhy = "x"\nwhere_ = ["/body"]\n', "unknown keys ['where_']"),
        ('family = "annotations"\n', "needs a why"),
        ('why = "x"\n', "needs a family"),
        ('family = "annotations"\nkinds = ["renamed"]\nwhy = "x"\n', "no such kind of difference"),
        ('family = "annotations"\nfields = [1]\nwhy = "x"\n', "fields must be a string or a list"),
        ('family = "annotations"\nabsent = "both"\nwhy = "x"\n', "absent must be one of"),
    ],
)
def test_a_malformed_entry_is_refused_when_the_overlay_loads(tmp_path: Path, text: str, message: str):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text("[[served]]\n" + text, encoding="utf-8")
    pattern = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(ValueError, match=pattern):
        load_served(overlay)
    with pytest.raises(ValueError, match=pattern):  # as the served spec loads its overlay
        load_overlay(overlay)


def test_an_entry_for_no_catalog_resource_is_refused(tmp_path: Path):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text('[[served]]\nfamily = "annotation"\nwhy = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no catalog resource"):
        check_families(load_served(overlay), set(Catalog.load().resources))


def test_the_committed_overlay_loads_and_names_real_families():
    entries = load_served()
    check_families(entries, set(Catalog.load().resources))
    assert all(entry.why.strip() for entry in entries)
