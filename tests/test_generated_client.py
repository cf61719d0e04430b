"""A client generated from the served document works: openapi-python-client (a real subprocess)
generates it without a warning, every generated module imports, and its calls against a live mockhog
(a real socket) parse into the typed models."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests

from mockhog import Backend
from mockhog.testing import Server

PACKAGE = "generated_posthog_client"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server(Backend(seed=0), threads=2)
    yield running
    running.close()


@pytest.fixture(scope="module")
def generated(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, str]]:
    """The client package, generated from ``GET /api/schema/`` and importable for this module."""
    folder = tmp_path_factory.mktemp("client")
    # PostHog's own document needs literal enums too: TimezoneEnum holds "GMT0", "GMT+0" and
    # "GMT-0", which an Enum class would name alike.
    config = folder / "config.yaml"
    config.write_text("literal_enums: true\n")
    document = folder / "openapi.json"
    document.write_bytes(requests.get(f"{server.url}/api/schema/", timeout=10).content)
    command = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert command, "openapi-python-client is in the test extra: pip install -e '.[test]'"
    run = subprocess.run(
        [
            command,
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(folder / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE), output
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_the_generator_warns_about_nothing(generated):
    _, output = generated
    assert "Warning" not in output and "Unable to process" not in output, output


def test_every_generated_module_imports(generated, server):
    package, _ = generated
    names = [info.name for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
    failures = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # each failure is reported, not only the first
            failures[name] = repr(error)
    assert not failures
    # every served operation has its module (api.<tag>.<operation id>): nothing was dropped
    # (a Python keyword or builtin gets a trailing underscore: PostHog's operationId "list")
    operations = {
        name.split(".")[-1].removesuffix("_") for name in names if name.count(".") == 3 and ".api." in name
    }
    document = server.backend.openapi()
    assert operations == {
        entry["operationId"] for item in document["paths"].values() for entry in item.values()
    }


def _client(generated, server: Server):
    package, _ = generated
    return package.AuthenticatedClient(base_url=server.url, token=server.backend.api_key, timeout=10)


def test_lists_parse_into_typed_pages(generated, server):
    client = _client(generated, server)
    models = importlib.import_module(f"{PACKAGE}.models")
    exports_list = importlib.import_module(f"{PACKAGE}.api.exports.exports_list")
    # PostHog's own operationId for GET /api/organizations/ is "list"
    organizations_list = importlib.import_module(f"{PACKAGE}.api.organizations.list_")
    persons_list = importlib.import_module(f"{PACKAGE}.api.persons.persons_list")

    exports = exports_list.sync(client=client, project_id="1", limit=5)
    assert isinstance(exports, models.PaginatedExportedAssetList)
    assert exports.count == 12 and len(exports.results) == 5
    assert all(isinstance(item, models.ExportedAsset) for item in exports.results)

    organizations = organizations_list.sync(client=client)
    assert isinstance(organizations, models.PaginatedOrganizationList)
    assert isinstance(organizations.results[0], models.Organization)

    persons = persons_list.sync(client=client, project_id="1", limit=2)
    assert isinstance(persons, models.PersonPage) and len(persons.results) == 2


def test_the_user_and_a_create_come_back_as_models(generated, server):
    server.backend.reset_all()
    client = _client(generated, server)
    models = importlib.import_module(f"{PACKAGE}.models")
    users_retrieve = importlib.import_module(f"{PACKAGE}.api.users.users_retrieve")
    exports_create = importlib.import_module(f"{PACKAGE}.api.exports.exports_create")

    me = users_retrieve.sync(client=client, uuid="@me")
    assert isinstance(me, models.User) and me.email == server.backend.user["email"]

    body = models.ExportedAssetRequest(export_format="text/csv", insight=1)
    answer = exports_create.sync_detailed(client=client, project_id="1", body=body)
    assert answer.status_code == 201
    assert isinstance(answer.parsed, models.ExportedAsset)
    assert answer.parsed.id == 13 and answer.parsed.export_format == "text/csv"
    assert server.backend.store.table(1, "exports").get(13)["insight"] == 1
