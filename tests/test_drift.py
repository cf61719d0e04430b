"""``mockhog drift FILE``: how mockhog's contract differs from a PostHog OpenAPI document."""

from __future__ import annotations

import copy
import json

import pytest
from spec_documents import document_from_contract, write

from mockhog.cli import build_parser, main
from mockhog.spec import load_overlay
from mockhog.spec.drift import compare, ours
from mockhog.spec.importer import import_document
from mockhog.spec.overlay import load_served

OVERLAY = load_overlay()
SERVED = load_served()


@pytest.fixture(scope="module")
def pinned() -> dict:
    """The pinned document as the importer saw it (rebuilt from the committed contract)."""
    return document_from_contract()


@pytest.fixture(scope="module")
def contract() -> dict:
    """mockhog's contract (what it serves), built once for the module."""
    return ours()


def test_the_pinned_contract_differs_only_by_the_overlay(pinned, tmp_path, capsys):
    assert main(["drift", str(write(pinned, tmp_path / "posthog.json.gz"))]) == 0
    out = capsys.readouterr().out
    assert " reasons; mockhog differs on purpose)" in out
    for fix in OVERLAY:
        assert f"component {fix['component']}{fix['pointer']}" in out
        assert f"why: {fix['why']}" in out
    for entry in SERVED:
        assert f"[{entry.label}] " in out
        assert f"why: {entry.why}" in out
    assert "finds nothing" not in out
    assert out.rstrip().endswith("No drift beyond the overlay.")
    assert "Drift (" not in out


def _modified(pinned: dict) -> dict:
    """The pinned document with one of each kind of change a newer PostHog makes."""
    document = copy.deepcopy(pinned)
    # an operation dropped (a generic one) and another verified one
    del document["paths"]["/api/projects/{project_id}/early_access_feature/"]["get"]
    del document["paths"]["/api/projects/{project_id}/annotations/"]["get"]
    schemas = document["components"]["schemas"]
    # a field added
    schemas["EarlyAccessFeature"]["properties"]["rollout"] = {"type": "integer", "minimum": 0}
    # an enum changed
    schemas["StageEnum"]["enum"] = [v for v in schemas["StageEnum"]["enum"] if v != "archived"] + ["sunset"]
    # a scope changed
    document["paths"]["/api/projects/{project_id}/notebooks/"]["post"]["security"] = [
        {"PersonalAPIKeyAuth": ["notebook:admin"]}
    ]
    # a type changed, and a field made required
    schemas["EarlyAccessFeature"]["properties"]["description"]["type"] = "integer"
    schemas["EarlyAccessFeature"]["required"] = [*schemas["EarlyAccessFeature"]["required"], "description"]
    return document


def test_drift_names_each_change_of_a_modified_copy(pinned, tmp_path, capsys):
    """Differences no overlay entry gives a reason for are drift, in a generic operation or a
    verified one alike (here annotations_list, gone from the newer document)."""
    path = write(_modified(pinned), tmp_path / "newer.json.gz")
    assert main(["drift", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    drift = {(c["kind"], c["name"], c["pointer"]): c for c in report["changes"] if c["overlay"] is None}
    assert set(drift) == {
        ("operation removed", "early_access_feature_list", ""),
        ("operation removed", "annotations_list", ""),
        ("field added", "EarlyAccessFeature", "/properties/rollout"),
        ("enum", "StageEnum", "/enum"),
        ("scopes", "notebooks_create", "/scopes"),
        ("type", "EarlyAccessFeature", "/properties/description/type"),
        ("required", "EarlyAccessFeature", "/required"),
    }
    assert report["drift"] == 7 and report["overlay"] > 0
    assert drift[("scopes", "notebooks_create", "/scopes")]["ours"] == ["notebook:write"]
    assert drift[("scopes", "notebooks_create", "/scopes")]["theirs"] == ["notebook:admin"]
    assert drift[("operation removed", "annotations_list", "")]["verified"] is True
    assert drift[("operation removed", "early_access_feature_list", "")]["verified"] is False
    assert drift[("field added", "EarlyAccessFeature", "/properties/rollout")]["theirs"] == {
        "type": "integer",
        "minimum": 0,
    }
    assert main(["drift", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Drift (7: " in out
    assert 'enum: component StageEnum/enum: FILE adds ["sunset"], drops ["archived"]' in out
    assert (
        'scopes: operation notebooks_create/scopes: mockhog ["notebook:write"], FILE ["notebook:admin"]'
        in out
    )
    assert "operation removed: operation early_access_feature_list: mockhog " in out
    assert 'required: component EarlyAccessFeature/required: FILE requires ["description"] too' in out
    assert 'annotations_list: mockhog "GET /api/projects/{project_id}/annotations/", FILE - [verified' in out


def test_added_operations_components_parameters_and_responses(pinned, contract):
    document = copy.deepcopy(pinned)
    document["paths"]["/api/projects/{project_id}/widgets/"] = {
        "get": {"operationId": "widgets_list", "responses": {"200": {"description": ""}}}
    }
    document["components"]["schemas"]["Widget"] = {"type": "object"}
    notebooks = document["paths"]["/api/projects/{project_id}/notebooks/"]["get"]
    notebooks["parameters"].append({"in": "query", "name": "pinned", "schema": {"type": "boolean"}})
    notebooks["responses"]["429"] = {"description": ""}
    report = compare(contract, import_document(document))
    assert {(c.kind, c.name, c.pointer) for c in report.drift} == {
        ("operation added", "widgets_list", ""),
        ("component added", "Widget", ""),
        ("query parameter added", "notebooks_list", "/query/pinned"),
        ("response added", "notebooks_list", "/responses/429"),
    }


def test_an_overlay_fix_the_document_no_longer_needs_is_said(pinned, contract):
    document = copy.deepcopy(pinned)
    for fix in OVERLAY:
        node = document["components"]["schemas"][fix["component"]]
        parts = fix["pointer"].strip("/").split("/")
        for part in parts[:-1]:
            node = node[part]
        if fix["action"] == "remove":
            del node[parts[-1]]
        else:
            node[parts[-1]] = fix["value"]
    report = compare(contract, import_document(document))
    assert not any(change.explained_by.startswith("fix ") for change in report.changes)
    assert report.drift == []
    assert [fix for fix, _ in report.unneeded] == OVERLAY
    assert all(": already " in reason for _, reason in report.unneeded)


def test_a_file_that_is_no_openapi_document_is_exit_2(tmp_path, capsys):
    bogus = tmp_path / "schema.json"
    bogus.write_text('{"hello": "world"}')
    assert main(["drift", str(bogus)]) == 2
    assert "not an OpenAPI document" in capsys.readouterr().err
    assert main(["drift", str(tmp_path / "missing.json")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_help_says_what_the_exit_status_means():
    drift = build_parser()._subparsers._group_actions[0].choices["drift"]  # type: ignore[union-attr]
    text = drift.format_help()
    assert "0 when FILE differs from mockhog only by the overlay" in text
    assert "1 when there is drift" in text
