"""The generic engine: PostHog's imported operations served with DRF's defaults, labelled generic."""

from __future__ import annotations

import json

import pytest

from mockhog import Backend, create_app
from mockhog.spec.viewsets import TIER_HEADER, organization_scope

ORG = "01975a3c-0000-7000-8000-00000000000a"


def test_an_imported_list_starts_non_empty_and_pages_like_drf(client):
    first = client.get("/api/projects/1/notebooks/?limit=2")
    assert first.status_code == 200
    assert first.headers[TIER_HEADER] == "generic"
    page = first.get_json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert page["next"] == "http://localhost/api/projects/1/notebooks/?limit=2&offset=2"
    rest = client.get(page["next"]).get_json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert rest["previous"] == "http://localhost/api/projects/1/notebooks/?limit=2"


def test_verified_operations_win_and_say_nothing(client):
    response = client.get("/api/projects/1/persons/?limit=1")
    assert response.status_code == 200
    assert TIER_HEADER not in response.headers


def test_a_hard_delete_round_trip(client):
    created = client.post("/api/projects/1/early_access_feature/", json={"name": "Beta", "stage": "beta"})
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["name"] == "Beta"
    url = f"/api/projects/1/early_access_feature/{record['id']}/"
    assert client.get(url).get_json() == record
    listed = client.get("/api/projects/1/early_access_feature/?limit=100").get_json()["results"]
    assert record["id"] in [row["id"] for row in listed]
    patched = client.patch(url, json={"description": "now with notes"})
    assert patched.status_code == 200 and patched.get_json()["description"] == "now with notes"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(url).get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }


def test_forbid_destroy_model_refuses_delete_and_soft_deletes_on_patch(client):
    url = "/api/projects/1/dashboards/1/"
    assert client.get(url).status_code == 200
    refused = client.delete(url)
    assert refused.status_code == 405 and refused.data == b""
    assert client.get(url).status_code == 200
    hidden = client.patch(url, json={"deleted": True})
    assert hidden.status_code == 200 and hidden.get_json()["deleted"] is True
    assert client.get(url).status_code == 404
    ids = [row["id"] for row in client.get("/api/projects/1/dashboards/").get_json()["results"]]
    assert 1 not in ids


def test_notebooks_are_ordered_and_filtered_as_in_posthog(client):
    rows = client.get("/api/projects/1/notebooks/").get_json()["results"]
    stamps = [row["last_modified_at"] for row in rows]
    assert len(stamps) == 3 and stamps == sorted(stamps, reverse=True)
    one = client.get(f"/api/projects/1/notebooks/?short_id={rows[1]['short_id']}").get_json()["results"]
    assert [row["short_id"] for row in one] == [rows[1]["short_id"]]


def test_the_body_is_checked_against_the_imported_schema(client, backend):
    before = backend.store.dump()
    response = client.post("/api/projects/1/annotations/", json={"content": 5, "scope": "nowhere"})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_choice",
        "detail": '"nowhere" is not a valid choice.',
        "attr": "scope",
    }
    assert backend.store.dump() == before


def test_read_only_fields_are_not_required_nor_taken(client):
    created = client.post("/api/projects/1/annotations/", json={"content": "deploy", "id": 999})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["id"] != 999 and body["content"] == "deploy"
    assert body["created_by"]["email"] == "max@hedgebox.dev"


def test_organization_routes_use_the_organization_scope(client, backend):
    for organization in ("@current", ORG):
        roles = client.get(f"/api/organizations/{organization}/roles/")
        assert roles.status_code == 200 and roles.get_json()["count"] == 3
    missing = client.get("/api/organizations/01975a3c-0000-7000-8000-0000000000ff/roles/")
    assert missing.status_code == 404
    created = client.post(f"/api/organizations/{ORG}/roles/", json={"name": "Support"})
    assert created.status_code == 201, created.get_json()
    assert any(
        r.get("name") == "Support"
        for r in backend.store.table(organization_scope(ORG), "organizations/roles").values()
    )


def test_nested_routes_are_scoped_by_their_parent(client):
    first = client.get("/api/projects/1/dashboards/1/collaborators/").get_json()
    second = client.get("/api/projects/1/dashboards/2/collaborators/").get_json()
    assert first and second
    assert not {row["id"] for row in first} & {row["id"] for row in second}
    # the child's own field naming its parent is the path's (seeded and created alike)
    assert {row["dashboard_id"] for row in first} == {1} and {row["dashboard_id"] for row in second} == {2}
    body = {"level": 37, "user_uuid": "01975a3c-0000-7000-8000-000000000001"}
    created = client.post("/api/projects/1/dashboards/2/collaborators/", json=body)
    assert created.status_code == 201 and created.get_json()["dashboard_id"] == 2


def test_seeded_records_point_at_the_world_that_exists(client):
    """A generic record's creator is the world's user (UserBasicSerializer of who made it, as
    /api/users/@me shows them), its team the project it is under, its insight or dashboard one
    that exists; a made-up person's address is made of their name."""
    me = client.get("/api/users/@me/").get_json()
    notebook = client.get("/api/projects/1/notebooks/").get_json()["results"][0]
    for field in ("created_by", "last_modified_by"):
        assert notebook[field]["uuid"] == me["uuid"] and notebook[field]["email"] == me["email"]
    exports = client.get("/api/projects/1/batch_exports/").get_json()["results"]
    assert exports and all(row["team_id"] == 1 for row in exports)
    # a foreign key to a verified family names one of its rows (mockhog.spec.viewsets.FOREIGN_KEYS)
    for subscription in client.get("/api/projects/1/subscriptions/").get_json()["results"]:
        assert client.get(f"/api/projects/1/insights/{subscription['insight']}/").status_code == 200
        assert client.get(f"/api/projects/1/dashboards/{subscription['dashboard']}/").status_code == 200
    members = client.get("/api/organizations/@current/members/").get_json()["results"]
    for member in members:
        user = member["user"]
        assert user["email"].startswith(f"{user['first_name']}.{user['last_name']}".lower())


def test_custom_actions_answer_a_schema_built_body_and_say_generic(client):
    short_id = client.get("/api/projects/1/notebooks/").get_json()["results"][0]["short_id"]
    response = client.get(f"/api/projects/1/notebooks/{short_id}/activity/")
    assert response.status_code == 200
    assert response.headers[TIER_HEADER] == "generic"
    again = client.get(f"/api/projects/1/notebooks/{short_id}/activity/")
    assert again.data == response.data
    assert client.get("/api/projects/1/notebooks/missing1/activity/").status_code == 404


def test_posthog_refuses_personal_api_keys_where_it_derives_no_scope(client):
    response = client.get("/api/users/@me/hedgehog_config/")
    assert response.status_code == 403
    assert response.get_json()["detail"] == "This action does not support personal API key access"


def test_scopes_come_from_the_imported_security(app, backend):
    backend.reset_all()
    backend.keys.add(_key("phx_dash_read", ["dashboard:read"]))
    client = app.test_client()
    headers = {"Authorization": "Bearer phx_dash_read"}
    assert client.get("/api/projects/1/dashboards/", headers=headers).status_code == 200
    refused = client.patch("/api/projects/1/dashboards/1/", json={"name": "x"}, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "API key missing required scope 'dashboard:write'"
    backend.reset_all()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_data():
    def body(seed: int) -> bytes:
        backend = Backend(seed=seed)
        client = create_app(backend=backend).test_client()
        headers = {"Authorization": f"Bearer {backend.api_key}"}
        return client.get("/api/projects/1/notebooks/", headers=headers).data

    assert body(0) == body(0)
    assert body(0) != body(1)


def test_generic_tables_are_built_only_when_used():
    backend = Backend(seed=0)
    assert "notebooks" not in backend.store.snapshot.tables[1]
    backend.store.table(1, "notebooks")
    assert len(backend.store.snapshot.tables[1]["notebooks"]) == 3
    backend.reset()
    assert len(backend.store.table(1, "notebooks")) == 3


def test_reset_undoes_generic_writes(client, backend):
    assert client.post("/api/projects/1/notebooks/", json={"title": "x"}).status_code == 201
    assert client.get("/api/projects/1/notebooks/").get_json()["count"] == 4
    backend.reset()
    assert client.get("/api/projects/1/notebooks/").get_json()["count"] == 3


def test_the_served_document_has_every_imported_operation_with_its_tier(client, backend):
    document = client.get("/api/schema/").get_json()
    served = {
        (method.upper(), path): entry
        for path, item in document["paths"].items()
        for method, entry in item.items()
    }
    for op in backend.spec.operations:
        entry = served[(op.method, op.template)]
        assert entry["operationId"] == op.operation_id
    tiers = [entry["x-mockhog-tier"] for entry in served.values()]
    assert set(tiers) == {"verified", "generic"}
    assert served[("GET", "/api/users/{uuid}/")]["x-mockhog-tier"] == "verified"
    assert served[("GET", "/api/projects/{project_id}/cohorts/")]["x-mockhog-tier"] == "verified"
    assert served[("GET", "/api/projects/{project_id}/notebooks/")]["x-mockhog-tier"] == "generic"
    json.dumps(document)  # plain JSON all the way down


def _key(value: str, scopes: list[str]):
    from mockhog.keys import ApiKey

    return ApiKey(id=value, label=value, value=value, scopes=scopes)


# -- the published document says what the server does (the outside Schemathesis run) ----------


def _document(client) -> dict:
    return client.get("/api/schema/").get_json()


def _component(document: dict, ref: dict) -> dict:
    return document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def test_allow_lists_the_methods_of_the_route_that_serves_the_path(client):
    """DRF's router puts a collection @action (persons/bulk_delete/) before the detail route
    (persons/{id}/): that route answers every method, a missing one with its own 405 and Allow."""
    for url in ("/api/projects/1/persons/bulk_delete/", "/api/environments/1/persons/bulk_delete/"):
        options = client.options(url)
        assert options.status_code == 200 and options.headers["Allow"] == "POST, OPTIONS"
        refused = client.get(url)
        assert refused.status_code == 405 and refused.headers["Allow"] == "POST, OPTIONS"
    assert client.options("/api/users/verify_email/").headers["Allow"] == "POST, OPTIONS"
    # and the other way round: a verified fixed segment before an imported lookup
    refused = client.delete("/api/projects/1/event_definitions/python/")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/api/projects/1/persons/1/").headers["Allow"] == (
        "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    )


def test_a_generic_body_that_breaks_its_schema_is_refused_and_changes_nothing(refused):
    url = f"/api/organizations/{ORG}/roles/"
    refused("post", url, {"name": ["Support"]}, "invalid_input", "name", "Not a valid string.")
    refused("post", url, {}, "required", "name", "This field is required.")
    refused(
        "post",
        url,
        {"name": "a\x00b"},
        "null_characters_not_allowed",
        "name",
        "Null characters are not allowed.",
    )


def test_generic_text_and_flags_take_what_drf_fields_take_and_the_document_says_so(client):
    """DRF's CharField takes a number as its str, BooleanField takes 0 and 1 (and 1.0, which is
    1 in its value sets): the request view publishes both, and only for the body (a --strict
    server publishes PostHog's types and refuses the numbers)."""
    created = client.post(f"/api/organizations/{ORG}/roles/", json={"name": 0})
    assert created.status_code == 201 and created.get_json()["name"] == "0"
    domain = client.post(
        f"/api/organizations/{ORG}/domains/", json={"domain": "a.io", "jit_provisioning_enabled": 1.0}
    )
    assert domain.status_code == 201 and domain.get_json()["jit_provisioning_enabled"] is True
    assert (
        client.post(
            f"/api/organizations/{ORG}/domains/", json={"domain": "b.io", "jit_provisioning_enabled": 2}
        ).status_code
        == 400
    )
    document = _document(client)
    body = document["paths"]["/api/organizations/{organization_id}/domains/"]["post"]["requestBody"]
    view = _component(document, body["content"]["application/json"]["schema"])
    assert view["properties"]["domain"] == {
        "maxLength": 128,
        "type": ["string", "number"],
        "pattern": "^[^\\x00]*$",
    }
    assert view["properties"]["jit_provisioning_enabled"] == {
        "type": ["boolean", "integer"],
        "minimum": 0,
        "maximum": 1,
    }
    assert view["required"] == ["domain"]  # PostHog's document also lists its read-only fields
    assert document["components"]["schemas"]["OrganizationDomain"]["properties"]["domain"]["type"] == "string"


def test_an_action_body_is_published_without_required_fields_and_may_be_left_out(client):
    document = _document(client)
    entry = document["paths"]["/api/organizations/{organization_id}/batch_exports/{id}/pause/"]["post"]
    assert entry["requestBody"]["required"] is False
    schema = entry["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PatchedBatchExportRequest"}
    assert "required" not in _component(document, schema)


def test_strict_publishes_and_enforces_closed_generic_bodies(app, backend):
    backend.reset_all()
    backend.strict = True
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {backend.api_key}"
        document = _document(client)
        body = document["paths"]["/api/organizations/{organization_id}/roles/"]["post"]["requestBody"]
        assert (
            _component(document, body["content"]["application/json"]["schema"])["additionalProperties"]
            is False
        )
        refused = client.post(f"/api/organizations/{ORG}/roles/", json={"name": "x", "colour": "red"})
        assert refused.status_code == 400 and refused.get_json()["code"] == "unknown_field"
        # PostHog's types, held to: a number is no text, 1 no flag (DRF would coerce both)
        view = _component(document, body["content"]["application/json"]["schema"])
        assert view["properties"]["name"]["type"] == "string"
        number = client.post(f"/api/organizations/{ORG}/roles/", json={"name": 0})
        assert number.status_code == 400 and number.get_json()["detail"] == "Not a valid string."
        domains = document["paths"]["/api/organizations/{organization_id}/domains/"]["post"]["requestBody"]
        flag = _component(document, domains["content"]["application/json"]["schema"])
        assert flag["properties"]["jit_provisioning_enabled"]["type"] == "boolean"
        bit = client.post(
            f"/api/organizations/{ORG}/domains/", json={"domain": "c.io", "jit_provisioning_enabled": 1}
        )
        assert bit.status_code == 400 and bit.get_json()["attr"] == "jit_provisioning_enabled"
        verified = client.post("/api/projects/1/annotations/", json={"content": 5, "date_marker": None})
        assert verified.status_code == 400 and verified.get_json()["attr"] == "content"
    finally:
        backend.strict = False
        backend.reset_all()
    lenient = app.test_client().post(
        f"/api/organizations/{ORG}/roles/",
        json={"name": "x", "colour": "red"},
        headers={"Authorization": f"Bearer {backend.api_key}"},
    )
    assert lenient.status_code == 201 and "colour" in lenient.headers["X-Mockhog-Warning"]
    document = backend.openapi()
    body = document["paths"]["/api/organizations/{organization_id}/roles/"]["post"]["requestBody"]
    assert "additionalProperties" not in _component(document, body["content"]["application/json"]["schema"])
    backend.reset_all()


def test_write_only_fields_are_taken_never_shown(client):
    """RoleMembership.user_uuid and BatchExportDestination.integration_id are write-only (and the
    first is required): the answer leaves them out, at any depth, and still passes its check."""
    role = client.get(f"/api/organizations/{ORG}/roles/").get_json()["results"][0]["id"]
    url = f"/api/organizations/{ORG}/roles/{role}/role_memberships/"
    member = client.post(url, json={"user_uuid": "01975a3c-0000-7000-8000-000000000001"})
    assert member.status_code == 201, member.get_json()
    assert "user_uuid" not in member.get_json()
    assert all("user_uuid" not in row for row in client.get(url).get_json()["results"])
    export = client.post(
        f"/api/organizations/{ORG}/batch_exports/",
        json={
            "name": "x",
            "interval": "hour",
            "destination": {"type": "S3", "config": {}, "integration_id": 5},
        },
    )
    assert export.status_code == 201, export.get_json()
    assert "integration_id" not in export.get_json()["destination"]


def test_pagination_parameters_are_published_as_lenient_as_drf_reads_them(client):
    page = client.get(f"/api/organizations/{ORG}/roles/?offset=null&limit=-3")
    assert page.status_code == 200 and page.get_json()["count"] == 3
    entry = _document(client)["paths"]["/api/organizations/{organization_id}/roles/"]["get"]
    schemas = {p["name"]: p["schema"] for p in entry["parameters"]}
    assert schemas["offset"]["type"] == ["integer", "string"]
    assert schemas["limit"]["type"] == ["integer", "string"]


def test_the_annotation_scope_filter_publishes_the_scopes_posthog_takes(client):
    """products/annotations/backend/api/annotation.py: safely_get_queryset refuses any scope
    outside Annotation.Scope ('insight' standing for dashboard_item) with "Invalid scope: <scope>";
    an empty one filters nothing."""
    refused = client.get("/api/projects/1/annotations/?scope=%C2%8F")
    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "Invalid scope: \x8f"
    assert client.get("/api/projects/1/annotations/?scope=").status_code == 200
    document = _document(client)
    entry = document["paths"]["/api/projects/{project_id}/annotations/"]["get"]
    scope = next(p["schema"] for p in entry["parameters"] if p["name"] == "scope")
    scope = _component(document, scope) if "$ref" in scope else scope
    for value in scope["enum"]:
        assert client.get(f"/api/projects/1/annotations/?scope={value}").status_code == 200


def test_a_nested_object_keeps_what_the_server_made_and_hides_what_the_client_wrote(client):
    """A warehouse table's credential (DataWarehouseCredential): its secrets are write-only and
    required, its id, created_at and created_by are the server's; the answer shows the latter,
    the same on every read, and the document states both views (the answer's Credential, the
    request's CredentialRequest)."""
    url = "/api/projects/1/warehouse_tables/"
    body = {"format": "CSV", "name": "orders", "url_pattern": "s3://bucket/orders/*.csv"}
    missing = client.post(url, json={**body, "credential": {"access_key": "k"}})
    assert missing.status_code == 400
    assert missing.get_json()["attr"] == "credential__access_secret"
    created = client.post(url, json={**body, "credential": {"access_key": "k", "access_secret": "s"}})
    assert created.status_code == 201, created.get_json()
    credential = created.get_json()["credential"]
    assert set(credential) == {"id", "created_at", "created_by"}
    assert client.get(f"{url}{created.get_json()['id']}/").get_json()["credential"] == credential
    schemas = _document(client)["components"]["schemas"]
    assert "access_key" not in schemas["Credential"]["required"]
    assert schemas["TableRequest"]["properties"]["credential"] == {
        "$ref": "#/components/schemas/CredentialRequest"
    }
    assert schemas["CredentialRequest"]["required"] == ["access_key", "access_secret"]


def test_a_form_sends_a_nested_object_as_dotted_fields(client):
    """DRF's nested serializers read a form as parse_html_dict does (rest_framework/serializers.py:
    Serializer.get_value): the credential of warehouse_tables/file's multipart body is its
    credential.<key> fields, and the document publishes that form (PatchedTableForm)."""
    url = "/api/projects/1/warehouse_tables/"
    form = {"format": "CSV", "name": "orders", "url_pattern": "s3://bucket/orders/*.csv"}
    secrets = {"credential.access_key": "k", "credential.access_secret": "s"}
    created = client.post(url, data={**form, **secrets}, content_type="multipart/form-data")
    assert created.status_code == 201, created.get_json()
    assert set(created.get_json()["credential"]) == {"id", "created_at", "created_by"}
    half = client.post(url, data={**form, "credential.access_key": "k"}, content_type="multipart/form-data")
    assert half.status_code == 400 and half.get_json()["attr"] == "credential__access_secret"
    document = _document(client)
    body = document["paths"]["/api/projects/{project_id}/warehouse_tables/file/"]["post"]["requestBody"]
    assert body["content"]["multipart/form-data"]["schema"] == {
        "$ref": "#/components/schemas/PatchedTableForm"
    }
    published = document["components"]["schemas"]["PatchedTableForm"]["properties"]
    assert {"credential.access_key", "credential.access_secret"} <= set(published)
    assert "credential" not in published


def test_a_parent_that_cannot_be_its_keys_type_names_nothing(client):
    """PostHog's parent lookups (posthog/api/routing.py: _filter_queryset_by_parents_lookups)
    answer NotFound where the filter cannot take the value: nothing is listed or created under a
    malformed UUID."""
    roles = f"/api/organizations/{ORG}/roles/"
    assert client.get(f"{roles}null,null/role_memberships/").status_code == 404
    before = client.get(roles).get_json()["count"]
    refused = client.post(f"{roles}not-a-uuid/role_memberships/", json={"user_uuid": str(ORG)})
    assert refused.status_code == 404 and refused.get_json()["detail"] == "Not found."
    assert client.get(roles).get_json()["count"] == before
    role = client.get(roles).get_json()["results"][0]["id"]
    assert client.get(f"{roles}{role}/role_memberships/").status_code == 200
    assert client.get("/api/projects/1/warehouse_tables/x1/").status_code == 404


def test_a_request_view_keeps_its_required_write_only_fields(client):
    schemas = _document(client)["components"]["schemas"]
    assert schemas["RoleMembershipRequest"]["required"] == ["user_uuid"]
    assert (
        "required" not in schemas["RoleMembership"]
        or "user_uuid" not in schemas["RoleMembership"]["required"]
    )


def test_a_date_parameter_takes_an_iso_date_only(client):
    """DRF's DateField (django.utils.dateparse.parse_date): a format: date parameter refuses
    other text."""
    url = "/api/projects/1/web_analytics/overview/?date_to=2025-02-01&date_from="
    for good in ("2025-01-01", "2025-1-1", "20250101"):  # date.fromisoformat, then django's regex
        assert client.get(url + good).status_code == 200, good
    for bad in ("abc", "2025-13-01", "2025-02-30"):
        refused = client.get(url + bad)
        assert refused.status_code == 400, bad
        assert refused.get_json() == {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            "attr": "date_from",
        }


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/projects/1/llm_gateway/v1/messages/?format=null"),
        ("post", "/api/projects/1/llm_gateway/v1/chat/completions/?format=null&format=xml"),
        ("get", "/api/projects/1/events/values/?key=$browser&format=xml"),
    ],
)
def test_a_format_no_renderer_has_is_404(client, method, path):
    """rest_framework/negotiation.py: DefaultContentNegotiation.select_renderer reads ?format=
    (URL_FORMAT_OVERRIDE) before the view checks anything else, and filter_renderers raises Http404
    when none of the view's renderers has it: PostHog's 404, not a 400 on the published enum of
    formats (a 400 there breaks the llm gateway's documented 400 body)."""
    response = client.open(path, method=method.upper(), json={"model": "x", "messages": []})
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }


def test_a_documented_400_body_is_published_beside_the_envelope(client):
    """posthog/api/mixins.py: @validated_request runs the request serializer with
    is_valid(raise_exception=True), so a body it refuses is DRF's 400 in the error envelope
    (drf-exceptions-hog) even where the action documents a 400 of its own (ErrorResponse): the
    served document says either, and the envelope the server answers fits it."""
    from jsonschema import Draft202012Validator

    document = client.get("/api/schema/").get_json()
    operation = document["paths"]["/api/projects/{project_id}/tasks/{id}/update_position/"]["patch"]
    schema = operation["responses"]["400"]["content"]["application/json"]["schema"]
    assert schema == {
        "anyOf": [{"$ref": "#/components/schemas/ErrorResponse"}, {"$ref": "#/components/schemas/AnyError"}]
    }
    task = client.get("/api/projects/1/tasks/").get_json()["results"][0]["id"]
    response = client.patch(f"/api/projects/1/tasks/{task}/update_position/", json=[1])
    assert response.status_code == 400
    validator = Draft202012Validator({"components": document["components"], **schema})
    assert validator.is_valid(response.get_json())


def test_a_task_run_needs_its_task(client):
    """products/tasks/backend/api.py: TaskRunViewSet's actions call _ensure_task_accessible first,
    so the runs of a task that is not there (or was deleted) are NotFound('Task not found'), not an
    empty list (viewsets.toml: parent_not_found)."""
    body = {"title": "Fix the flaky test", "description": "CI", "origin_product": "user_created"}
    task = client.post("/api/projects/1/tasks/", json=body).get_json()["id"]
    runs = f"/api/projects/1/tasks/{task}/runs/"
    assert client.post(runs, json={}).status_code == 201
    assert client.get(runs).get_json()["count"] == 1
    assert client.delete(f"/api/projects/1/tasks/{task}/").status_code == 204
    for response in (client.get(runs), client.post(runs, json={})):
        assert response.status_code == 404
        assert response.get_json()["detail"] == "Task not found"
    missing = client.get("/api/projects/1/tasks/0b4f7a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/runs/")
    assert missing.status_code == 404 and missing.get_json()["detail"] == "Task not found"
