"""Quirks are registered by operationId and checked when the app loads (mockhog.handlers): a
misspelt registration, an operation nothing serves, or an unregistered override of a standard
action stops the app from being created, with a message naming what to fix."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import mockhog
from mockhog.app import create_app
from mockhog.catalog import Catalog
from mockhog.handlers import HandlerError, quirk, registered, resolve
from mockhog.resources import actions as actions_module
from mockhog.resources.actions import Actions
from mockhog.resources.base import Call, Resource

CATALOG_FILE = Path(mockhog.__file__).with_name("catalog.toml")


class MisspeltActions(Actions):
    @quirk("actions_refrences_retrieve")  # the operation is actions_references_retrieve
    def references(self, call: Call) -> Any:
        return super().references(call)


class UnregisteredList(Actions):
    def retrieve(self, call: Call) -> Any:  # a standard action of its own, registered for nothing
        return super().retrieve(call)


def test_a_misspelt_operation_id_fails_app_creation(monkeypatch):
    monkeypatch.setattr(actions_module, "Actions", MisspeltActions)
    with pytest.raises(HandlerError) as caught:
        create_app()
    message = str(caught.value)
    assert "MisspeltActions.references is registered for operationId 'actions_refrences_retrieve'" in message
    assert "did you mean 'actions_references_retrieve'?" in message


def test_an_override_of_a_standard_action_must_be_registered(monkeypatch):
    monkeypatch.setattr(actions_module, "Actions", UnregisteredList)
    with pytest.raises(HandlerError, match=r"UnregisteredList\.retrieve overrides the standard retrieve"):
        create_app()


def test_an_operation_nothing_serves_fails_loading():
    data = tomllib.loads(CATALOG_FILE.read_text())
    rows = data["resources"]["actions"]["operations"]
    references = next(row for row in rows if row["action"] == "references")
    references["path"] = "actions/{id}/refrences/"  # a misspelt row: its operationId changes
    with pytest.raises(HandlerError) as caught:
        resolve(Catalog(data))
    message = str(caught.value)
    assert "operation actions_refrences_retrieve (catalog.toml resources.actions" in message
    assert "Actions registers no quirk for 'actions_refrences_retrieve'" in message
    # ... and the quirk written for the real name now names an operation that is not served
    assert "Actions.references is registered for operationId 'actions_references_retrieve'" in message


def test_quirk_needs_an_operation_id():
    with pytest.raises(TypeError):
        quirk()


def test_every_verified_operation_has_a_handler_and_the_environments_twin_shares_it():
    catalog = Catalog.load()
    handlers = resolve(catalog)
    assert set(handlers) == set(catalog.operations)
    by_id = {op.operation_id: handlers[op] for op in catalog.operations}
    assert by_id["actions_references_retrieve"] == by_id["environments_actions_references_retrieve"]
    assert by_id["actions_references_retrieve"].quirk
    assert not by_id["persisted_folder_create"].quirk  # the upsert is the row's, not code
    assert not by_id["cohorts_destroy"].quirk  # ForbidDestroyModel is the row's soft_delete


def test_a_base_class_registration_covers_its_subclasses_operations():
    from mockhog.resources.sharing import DashboardSharing, InsightSharing

    assert registered(InsightSharing)["dashboards_sharing_list"] == "list"
    assert registered(DashboardSharing) == registered(InsightSharing)


def test_the_interpreter_alone_serves_a_plain_resource():
    assert registered(Resource) == {}


def test_routes_shows_each_operations_handler_and_tier():
    result = subprocess.run(
        [sys.executable, "-m", "mockhog", "routes"], capture_output=True, text=True, check=True
    )
    lines = {line.split()[2]: line.split() for line in result.stdout.splitlines()}
    assert lines["persisted_folder_create"][3:6] == ["verified", "viewset", "persisted_folder.create"]
    assert lines["environments_actions_references_retrieve"][3:6] == [
        "verified",
        "quirk",
        "actions.Actions.references",
    ]
    assert lines["insights_sharing_list"][4:6] == ["quirk", "sharing._Sharing.list"]
    # the interpreter with a class's serializer hooks says whose
    assert lines["actions_create"][4:8] == ["viewset", "actions.create", "+hooks", "actions.Actions"]
    assert lines["experiment_saved_metrics_destroy"][4:6] == ["viewset", "experiment_saved_metrics.destroy"]
    generic = next(words for words in lines.values() if words[3] == "generic")
    assert generic[4] in ("viewset", "generic")
    summary = result.stderr.strip().splitlines()[-1]
    assert "verified" in summary and "served by the viewset interpreter" in summary and "by quirks" in summary
