"""The HTTP layer: routing, slashes, prefixes, projects, bodies and keys, as PostHog answers them."""

import pytest
import requests

from mockhog import DEFAULT_API_KEY


def test_unknown_api_path_is_posthogs_404(client):
    for path in ("/api/projects/1/nothing/", "/api/nowhere", "/api/", "/api/projects/1/exports/1/x/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json() == {
            "type": "invalid_request",
            "code": "not_found",
            "detail": "Endpoint not found.",
            "attr": None,
        }


def test_known_path_wrong_method_is_405(client):
    response = client.put("/api/projects/1/exports/", json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "method_not_allowed",
        "detail": 'Method "PUT" not allowed.',
        "attr": None,
    }


@pytest.mark.parametrize("path", ["/api/projects/1/exports/1/", "/api/projects/1/exports/1"])
def test_with_or_without_slash_no_redirect(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.get_json()["id"] == 1


def test_environments_is_the_same_project_with_deprecation_headers(client):
    created = client.post("/api/environments/1/exports/", json={"insight": 1, "export_format": "text/csv"})
    assert created.status_code == 201
    assert created.headers["Deprecation"] == "true"
    assert created.headers["Link"] == '</api/projects/1/exports/>; rel="successor-version"'
    same = client.get(f"/api/projects/1/exports/{created.get_json()['id']}/")
    assert same.get_json() == created.get_json()
    assert "Deprecation" not in same.headers
    listed = client.get("/api/environments/1/exports/?limit=1")
    assert listed.headers["Link"] == '</api/projects/1/exports/?limit=1>; rel="successor-version"'


@pytest.mark.parametrize("project", ["2", "999", "abc", "-1"])
def test_unknown_project(client, project):
    response = client.get(f"/api/projects/{project}/exports/")
    assert response.status_code == 404
    assert response.get_json()["detail"] == "Project not found."


def test_current_project_alias(client):
    assert client.get("/api/projects/@current/exports/1/").get_json()["id"] == 1


def test_malformed_json_is_parse_error_and_changes_nothing(client, backend):
    before = backend.store.dump()
    response = client.post("/api/projects/1/exports/", data='{"insight": ', content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "invalid_request" and body["code"] == "parse_error"
    assert body["detail"].startswith("JSON parse error - ")
    assert backend.store.dump() == before


def test_nan_is_not_json(client):
    response = client.post(
        "/api/projects/1/exports/", data='{"insight": NaN}', content_type="application/json"
    )
    assert response.get_json()["code"] == "parse_error"


def test_body_that_is_not_an_object(client):
    response = client.post("/api/projects/1/exports/", json=[1, 2])
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Invalid data. Expected a dictionary, but got list.",
        "attr": None,
    }


def test_form_bodies_are_parsed_like_drf(client):
    response = client.post("/api/projects/1/exports/", data={"insight": "2", "export_format": "text/csv"})
    assert response.status_code == 201 and response.get_json()["insight"] == 2


def _multipart(parts: list[tuple[str, tuple]]) -> tuple[bytes, str]:
    """A multipart body as requests writes it: (body, Content-Type)."""
    prepared = requests.Request("POST", "http://mockhog/", files=parts).prepare()
    return prepared.body, prepared.headers["Content-Type"]


def test_a_file_part_is_read_as_drf_reads_it(client):
    """DRF's request.data holds a multipart's files beside its fields (rest_framework/request.py,
    _load_data_and_files), so a field sent as a file is that field's value: a CharField refuses it,
    a ChoiceField looks its name up, a nested serializer expects a dictionary. Django's parser skips
    a file part with a blank filename (django/http/multipartparser.py)."""
    route = "/api/projects/1/warehouse_tables/file/"
    refusals = {
        "name": ("invalid_input", "Not a valid string."),
        "format": ("invalid_choice", '"t.csv" is not a valid choice.'),
        "credential": ("invalid_input", "Invalid data. Expected a dictionary, but got InMemoryUploadedFile."),
    }
    for field, (code, detail) in refusals.items():
        body, content_type = _multipart([(field, ("t.csv", b"a,b\n1,2\n", "text/csv"))])
        answer = client.post(route, data=body, content_type=content_type)
        assert answer.status_code == 400, field
        assert answer.get_json() == {
            "type": "validation_error",
            "code": code,
            "detail": detail,
            "attr": field,
        }
    # the file part wins over a field of its name, as QueryDict.update appends it after the field
    body, content_type = _multipart([("name", (None, "events")), ("name", ("t.csv", b"x"))])
    assert client.post(route, data=body, content_type=content_type).get_json()["attr"] == "name"
    body, content_type = _multipart([("name", ("", b"x"))])
    assert client.post(route, data=body, content_type=content_type).status_code == 200


@pytest.mark.parametrize("text", ["null", "Null", "NULL", ""])
def test_a_nullable_flag_reads_a_forms_null_text_as_null(client, text):
    """DRF's BooleanField reads 'null', 'Null', 'NULL' and '' as None where it allows null
    (rest_framework/fields.py: NULL_VALUES, and Field.get_value's allow_null for a blank HTML
    field): a form has no null but its text. DataWarehouseTable.deleted is nullable."""
    route = "/api/projects/1/warehouse_tables/file/"
    body, content_type = _multipart([("deleted", (None, text)), ("format", (None, "CSV"))])
    assert client.post(route, data=body, content_type=content_type).status_code == 200
    body, content_type = _multipart([("deleted", (None, "nothing"))])
    answer = client.post(route, data=body, content_type=content_type)
    assert answer.status_code == 400 and answer.get_json()["detail"] == "Must be a valid boolean."


def test_a_form_publishes_that_one_nested_field_needs_the_others(client, backend):
    """DRF's nested serializer reads a form's ``<field>.<key>`` fields as one object
    (rest_framework/utils/html.py parse_html_dict), so sending one of them makes the object and its
    required fields are then required: the served form says so (dependentRequired)."""
    form = backend.openapi()["components"]["schemas"]["PatchedTableForm"]
    assert form["dependentRequired"] == {
        "credential.access_key": ["credential.access_secret"],
        "credential.access_secret": ["credential.access_key"],
    }
    body, content_type = _multipart([("credential.access_secret", (None, "s"))])
    answer = client.post("/api/projects/1/warehouse_tables/file/", data=body, content_type=content_type)
    assert answer.status_code == 400 and answer.get_json()["attr"] == "credential__access_key"


def test_a_strict_form_states_the_text_its_fields_take():
    """A form carries text only (django/http/multipartparser.py): a number a client sends is its
    text, which DRF's CharField and BooleanField read the same under mockhog --strict, so the
    strict document's form takes them too (and still no unknown field)."""
    from mockhog import DEFAULT_API_KEY, Backend, create_app

    strict = Backend(strict=True)
    form = strict.openapi()["components"]["schemas"]["PatchedTableForm"]
    assert form["properties"]["deleted"]["type"] == ["boolean", "null", "integer"]
    assert "number" in form["properties"]["name"]["type"] and form["additionalProperties"] is False
    body, content_type = _multipart([("deleted", (None, "0")), ("name", (None, "5"))])
    answer = (
        create_app(backend=strict)
        .test_client()
        .post(
            "/api/projects/1/warehouse_tables/file/",
            data=body,
            content_type=content_type,
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        )
    )
    assert answer.status_code == 200


def test_unsupported_media_type(client):
    response = client.post("/api/projects/1/exports/", data="insight=2", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"


def test_missing_key_is_401_with_www_authenticate(anonymous):
    response = anonymous.get("/api/projects/1/exports/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {
        "type": "authentication_error",
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "attr": None,
    }


@pytest.mark.parametrize(
    "how, source",
    [("header", "Authorization header"), ("query", "query string"), ("body", "body")],
)
def test_invalid_key_names_where_it_was_found(anonymous, how, source):
    kwargs = {"json": {"personal_api_key": "phx_wrong"}} if how == "body" else {}
    headers = {"Authorization": "Bearer phx_wrong"} if how == "header" else {}
    query = "?personal_api_key=phx_wrong" if how == "query" else ""
    response = anonymous.post(f"/api/projects/1/exports/{query}", headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.get_json()["detail"] == f"Personal API key found in request {source} is invalid."


def test_key_in_query_or_body_is_accepted(anonymous):
    assert anonymous.get(f"/api/projects/1/exports/?personal_api_key={DEFAULT_API_KEY}").status_code == 200
    made = anonymous.post(
        "/api/projects/1/exports/",
        json={"personal_api_key": DEFAULT_API_KEY, "insight": 1, "export_format": "text/csv"},
    )
    assert made.status_code == 201


def test_head_and_options(client):
    head = client.head("/api/projects/1/exports/1/")
    assert head.status_code == 200 and head.data == b""
    options = client.options("/api/projects/1/exports/")
    assert options.status_code == 200
    assert set(options.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_responses_are_compact_utf8_json(client):
    created = client.post(
        "/api/projects/1/exports/",
        json={"export_format": "application/json", "export_context": {"path": "/ünïcode 🦔"}},
    )
    assert "🦔".encode() in created.data
    assert b", " not in created.data and created.mimetype == "application/json"


def test_unknown_body_fields_are_ignored_with_a_warning(client, backend):
    response = client.post(
        "/api/projects/1/exports/", json={"insight": 1, "export_format": "text/csv", "colour": 1}
    )
    assert response.status_code == 201 and "colour" not in response.get_json()
    assert "colour" in response.headers["X-Mockhog-Warning"]


def test_strict_mode_rejects_unknown_fields(backend):
    from mockhog import Backend, create_app

    strict = Backend(seed=0, strict=True, catalog=backend.catalog, contract=backend.contract)
    client = create_app(backend=strict).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {strict.api_key}"
    before = strict.store.dump()
    response = client.post(
        "/api/projects/1/exports/", json={"insight": 1, "export_format": "text/csv", "colour": 1}
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "unknown_field",
        "detail": "Unknown field 'colour': PostHog ignores it; mockhog --strict rejects it.",
        "attr": "colour",
    }
    assert strict.store.dump() == before
