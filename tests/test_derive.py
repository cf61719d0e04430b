"""Derived verified-family schemas: schemas/<file> = PostHog's imported component + the overlay's
reasoned patches (mockhog/spec/derive.py, [[schema]] and [[patch]] in mockhog/spec/overlay.toml).
The pilot family is annotations (products/annotations/backend/api/annotation.py, AnnotationSerializer).
"""

from __future__ import annotations

import copy
import json

import pytest
from spec_documents import document_from_contract

from mockhog import DEFAULT_API_KEY, Backend, create_app
from mockhog.cli import main
from mockhog.contract import schemas_dir
from mockhog.spec import Spec
from mockhog.spec.derive import PatchError, derive, derived_files, dumps, load_rules, user_schemas

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def test_every_derived_file_is_its_derivation_of_the_pinned_import():
    """A hand edit of a derived file fails here (tools/derive_schemas.py writes them)."""
    derivations = derived_files(Spec.load().components)
    assert "annotations.json" in derivations
    for name, derivation in derivations.items():
        assert derivation.skipped == []
        assert (schemas_dir() / name).read_text(encoding="utf-8") == dumps(derivation.document), name


def test_a_derived_def_starts_as_the_imported_component():
    """Without patches, Annotation is PostHog's component with its refs made local; each patch
    carries a reason."""
    schemas, patches = load_rules()
    rule = next(schema for schema in schemas if schema["file"] == "annotations.json")
    bare = derive(rule, [], Spec.load().components, lenient=True).document["$defs"]
    imported = Spec.load().components["Annotation"]
    assert set(bare["Annotation"]["properties"]) == set(imported["properties"])
    assert bare["Annotation"]["properties"]["scope"] == {"$ref": "#/$defs/Scope"}
    assert all(patch["why"].strip() for patch in patches)


def test_a_patch_without_a_target_stops_the_pinned_derivation():
    schemas, patches = load_rules()
    rule = next(schema for schema in schemas if schema["file"] == "annotations.json")
    wrong = {**patches[0], "def": "Annotation", "pointer": "/properties/no_such/x", "action": "remove"}
    with pytest.raises(PatchError, match="no such place"):
        derive(rule, [wrong], Spec.load().components)


def test_a_view_shows_some_of_another_defs_fields_in_its_order():
    """A lighter serializer over one model (ExperimentBasicSerializer beside ExperimentSerializer):
    the other def's properties and required kept to the named fields, in the view's order."""
    schemas, patches = load_rules()
    rule = next(schema for schema in schemas if schema["file"] == "annotations.json")
    own = [patch for patch in patches if patch["file"] == "annotations.json"]
    view = {"file": "annotations.json", "def": "Brief", "pointer": "", "action": "view", "why": "test"}
    rule = {**rule, "defs": [*rule["defs"], "Brief"]}
    fields = ["scope", "id", "content"]
    made = derive(
        rule, [*own, {**view, "value": {"of": "Annotation", "fields": fields}}], Spec.load().components
    )
    brief = made.document["$defs"]["Brief"]
    assert list(brief["properties"]) == fields and brief["required"] == fields
    assert brief["properties"]["scope"] == made.document["$defs"]["Annotation"]["properties"]["scope"]
    with pytest.raises(PatchError, match="has no"):
        derive(
            rule, [*own, {**view, "value": {"of": "Annotation", "fields": ["nope"]}}], Spec.load().components
        )


def _users_document() -> dict:
    """The pinned document, as a user's newer PostHog might serve it: Annotation.content with no
    maxLength, and a field the overlay does not know."""
    document = document_from_contract()
    annotation = document["components"]["schemas"]["Annotation"]
    del annotation["properties"]["content"]["maxLength"]
    annotation["properties"]["newer_field"] = {"type": "string", "readOnly": True}
    return document


def test_a_users_document_rederives_the_family_and_reports_what_no_longer_applies(tmp_path, capsys):
    """--posthog-schema: the family is derived from the user's component; the patch whose target
    is gone is said on stderr, and the rest still apply."""
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(_users_document()))
    out = tmp_path / "served.json"
    assert main(["openapi", "--posthog-schema", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "schemas/annotations.json replace Annotation/properties/content/maxLength" in err
    assert "not there" in err and "unnamed, kept last: ['newer_field']" in err
    served = json.loads(out.read_text())["components"]["schemas"]["Annotation"]["properties"]
    assert "newer_field" in served and "maxLength" not in served["content"]
    assert served["emoji"]["maxLength"] == 16  # a patch that still applies


def test_the_users_rederived_schema_is_what_the_server_serves():
    """Over HTTP: the user's app publishes its re-derived Annotation at /api/schema/ and validates
    its answers against it (the pinned app publishes the committed one)."""
    users = create_app(backend=Backend(seed=0, spec=Spec.from_document(_users_document()))).test_client()
    pinned = create_app(seed=0).test_client()
    for client, newer in ((users, True), (pinned, False)):
        schema = client.get("/api/schema/").get_json()["components"]["schemas"]["Annotation"]
        assert ("newer_field" in schema["properties"]) is newer
        listed = client.get("/api/projects/1/annotations/", headers=AUTH)
        assert listed.status_code == 200 and listed.get_json()["results"]
        created = client.post(
            "/api/projects/1/annotations/", json={"content": "x", "scope": "project"}, headers=AUTH
        )
        assert created.status_code == 201 and created.get_json()["content"] == "x"


def test_a_document_without_the_component_keeps_the_pinned_derivation():
    document = copy.deepcopy(document_from_contract())
    del document["components"]["schemas"]["Annotation"]
    spec = Spec.from_document(document)
    schemas = user_schemas(spec)
    pinned = json.loads((schemas_dir() / "annotations.json").read_text())
    assert schemas.definition("annotations.json", "Annotation") == pinned["$defs"]["Annotation"]
    assert [reason for _, _, reason in spec.derive_skipped] == [
        "no component 'Annotation' in the document: the pinned import's is used"
    ]
