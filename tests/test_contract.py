"""Request validation rule by rule, as DRF + drf-exceptions-hog word it, and response validation."""

import pytest


def error(code, detail, attr):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


@pytest.fixture
def definition_url(client):
    first = client.get("/api/projects/1/event_definitions/?limit=1").get_json()["results"][0]
    return f"/api/projects/1/event_definitions/{first['id']}/"


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"verified": "maybe"}, error("invalid_input", "Must be a valid boolean.", "verified")),
        ({"owner": "abc"}, error("invalid_input", "A valid integer is required.", "owner")),
        ({"tags": "x"}, error("not_a_list", 'Expected a list of items but got type "str".', "tags")),
        ({"tags": [1]}, error("invalid_input", "Not a valid string.", "tags__0")),
        (
            {"enforcement_mode": "deny"},
            error("invalid_choice", '"deny" is not a valid choice.', "enforcement_mode"),
        ),
        ({"verified": None}, error("null", "This field may not be null.", "verified")),
    ],
)
def test_field_types_enum_and_null(client, backend, definition_url, body, expected):
    before = backend.store.dump()
    response = client.patch(definition_url, json=body)
    assert response.status_code == 400 and response.get_json() == expected
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"type": "folder"}, error("required", "This field is required.", "path")),
        ({"path": ""}, error("blank", "This field may not be blank.", "path")),
        ({"path": "   "}, error("blank", "This field may not be blank.", "path")),
        ({"path": None}, error("null", "This field may not be null.", "path")),
        (
            {"path": "a", "type": "x" * 101},
            error("max_length", "Ensure this field has no more than 100 characters.", "type"),
        ),
    ],
)
def test_required_blank_null_max_length(client, body, expected):
    response = client.post("/api/projects/1/file_system/", json=body)
    assert response.status_code == 400 and response.get_json() == expected


def test_nested_attr_joins_names_with_double_underscore(client):
    response = client.post("/api/projects/1/logs/query/", json={"query": {"severityLevels": ["loud"]}})
    assert response.get_json() == error(
        "invalid_choice", '"loud" is not a valid choice.', "query__severityLevels__0"
    )
    response = client.post("/api/projects/1/logs/query/", json={"query": {"dateRange": {"date_from": 5}}})
    assert response.get_json() == error("invalid_input", "Not a valid string.", "query__dateRange__date_from")


def test_only_the_first_error_in_field_order(client):
    response = client.post("/api/projects/1/exports/", json={"insight": "x", "export_format": "nope"})
    assert response.get_json()["attr"] == "insight"


def test_values_are_coerced_like_drf_fields(client):
    created = client.post("/api/projects/1/exports/", json={"insight": "3", "export_format": "text/csv"})
    assert created.status_code == 201 and created.get_json()["insight"] == 3
    # CharField trims; ChoiceField does not
    folder = client.post("/api/projects/1/file_system/", json={"path": "  Trimmed  ", "type": "folder"})
    assert folder.get_json()["path"] == "Trimmed"
    padded = client.post("/api/projects/1/exports/", json={"insight": 3, "export_format": " text/csv"})
    assert padded.get_json() == error("invalid_choice", '" text/csv" is not a valid choice.', "export_format")


def test_read_only_fields_in_a_body_are_ignored(client):
    created = client.post(
        "/api/projects/1/exports/", json={"insight": 1, "export_format": "text/csv", "id": 999}
    )
    assert created.get_json()["id"] != 999


def test_a_broken_record_is_a_500_naming_the_operation_and_path(client, backend, caplog):
    table = backend.store.table(1, "exports")
    table.put(1, {**table.get(1), "export_format": "image/bmp"})
    response = client.get("/api/projects/1/exports/1/")
    assert response.status_code == 500
    body = response.get_json()
    assert body["type"] == "server_error" and body["code"] == "error" and body["attr"] is None
    assert body["detail"].startswith("Response of exports_retrieve breaks its schema at $.export_format: ")
    listed = client.get("/api/projects/1/exports/").get_json()
    assert "$.results[" in listed["detail"] and "].export_format" in listed["detail"]
    assert "exports_retrieve breaks its schema" in caplog.text


PROJECT = "/api/organizations/@current/projects/1/"


@pytest.mark.parametrize(
    "sent, answered",
    [
        (0.5, "0.50"),
        ("0.5", "0.50"),
        (1, "1.00"),
        (-1, "-1.00"),
        (" .25 ", "0.25"),
        ("+1.", "1.00"),
        ("1.2e-1", "0.12"),
    ],
)
def test_a_decimal_field_takes_numbers_and_text_and_answers_its_places(client, sent, answered):
    """DRF's DecimalField (session_recording_sample_rate: max_digits=3, decimal_places=2, which
    drf-spectacular writes as format decimal and its pattern) takes a JSON number or numeric text,
    stripped, and answers text quantized to its decimal places (rest_framework/fields.py)."""
    changed = client.patch(PROJECT, json={"session_recording_sample_rate": sent})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["session_recording_sample_rate"] == answered
    assert client.get(PROJECT).get_json()["session_recording_sample_rate"] == answered


@pytest.mark.parametrize(
    "sent, code, detail",
    [
        ("abc", "invalid_input", "A valid number is required."),
        ("", "invalid_input", "A valid number is required."),
        ("-", "invalid_input", "A valid number is required."),
        ("NaN", "invalid_input", "A valid number is required."),
        (True, "invalid_input", "A valid number is required."),
        (1.234, "max_digits", "Ensure that there are no more than 3 digits in total."),
        ("0.1250", "max_digits", "Ensure that there are no more than 3 digits in total."),
        (0.001, "max_decimal_places", "Ensure that there are no more than 2 decimal places."),
        ("0.125", "max_decimal_places", "Ensure that there are no more than 2 decimal places."),
        (12, "max_whole_digits", "Ensure that there are no more than 1 digits before the decimal point."),
        ("1" * 1001, "max_string_length", "String value too large."),
    ],
)
def test_a_decimal_field_refuses_what_drf_refuses(client, sent, code, detail):
    """DecimalField.to_internal_value, then validate_precision: digits in total before decimal
    places before whole digits; nothing is changed."""
    before = client.get(PROJECT).get_json()["session_recording_sample_rate"]
    refused = client.patch(PROJECT, json={"session_recording_sample_rate": sent})
    assert (refused.status_code, refused.get_json()) == (
        400,
        error(code, detail, "session_recording_sample_rate"),
    )
    assert client.get(PROJECT).get_json()["session_recording_sample_rate"] == before
