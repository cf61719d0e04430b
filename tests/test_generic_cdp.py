"""Generic families checked against PostHog's serializers: early access features and hog functions
(what their views read and answer, beyond DRF's defaults over PostHog's document)."""

from __future__ import annotations

import pytest

FEATURES = "/api/projects/1/early_access_feature/"


@pytest.mark.parametrize("url", [0, "0", "abc", "a:b", "mailto:a@b.com", "http://localhost", "http://x"])
def test_an_early_access_feature_documentation_url_is_a_url_or_blank(client, url):
    """products/early_access_features/backend/api.py: documentation_url is a URLField(max_length=800,
    allow_blank=True), so DRF runs Django's URLValidator on its (trimmed) text, a number's too:
    http, https, ftp or ftps, a host with a top-level domain (or localhost, or an IP), an optional
    port and path; anything else is "Enter a valid URL.", and blank text is stored as it is."""
    body = {"name": "Beta", "stage": "draft", "documentation_url": url}
    response = client.post(FEATURES, json=body)
    if url == "http://localhost":
        assert response.status_code == 201, response.get_json()
        return
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Enter a valid URL.",
        "attr": "documentation_url",
    }
    feature = client.post(FEATURES, json={"name": "Beta", "stage": "draft"}).get_json()
    refused = client.patch(f"{FEATURES}{feature['id']}/", json={"documentation_url": url})
    assert refused.status_code == 400 and refused.get_json()["detail"] == "Enter a valid URL."


@pytest.mark.parametrize(
    "url, stored",
    [
        ("", ""),
        ("   ", ""),
        (" https://posthog.com/docs ", "https://posthog.com/docs"),
        ("FTPS://user:pw@files.example.org:21/a?b#c", "FTPS://user:pw@files.example.org:21/a?b#c"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
    ],
)
def test_an_early_access_feature_takes_blank_or_a_url(client, url, stored):
    """products/early_access_features/backend/api.py: the URLField allows blank, and DRF trims
    the text before Django's URLValidator reads it."""
    response = client.post(FEATURES, json={"name": "Beta", "stage": "beta", "documentation_url": url})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["documentation_url"] == stored


def test_an_early_access_feature_name_is_not_blank(client):
    """products/early_access_features/backend/api.py: name is a CharField(max_length=200) without
    allow_blank: blank text (after DRF's trim) is "This field may not be blank."."""
    response = client.post(FEATURES, json={"name": "  ", "stage": "beta"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "blank" and response.get_json()["attr"] == "name"


FUNCTIONS = "/api/projects/1/hog_functions/"
SCHEMA = [
    {"key": "url", "type": "string", "required": True},
    {"key": "body", "type": "json"},
    {"key": "retries", "type": "number"},
]


def test_a_hog_function_keeps_the_inputs_its_schema_declares_in_order(client):
    """posthog/cdp/validation.py: InputsSerializer reads the inputs through inputs_schema: a key
    the schema does not declare and an input without a value are left out, any JSON value is
    taken (AnyInputField), and every kept input gets its order, an input named in another's
    template ({inputs.body}) first. mockhog compiles no Hog: no bytecode is answered."""
    inputs = {
        "url": {"value": "https://example.com/{inputs.body}"},
        "body": {"value": {"event": "{event.uuid}"}},
        "retries": {},
        "unknown": {"value": 1},
    }
    body = {"type": "destination", "name": "Webhook", "inputs_schema": SCHEMA, "inputs": inputs}
    created = client.post(FUNCTIONS, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["inputs"] == {
        "body": {"value": {"event": "{event.uuid}"}, "order": 0},
        "url": {"value": "https://example.com/{inputs.body}", "order": 1},
    }
    url = f"{FUNCTIONS}{created.get_json()['id']}/"
    assert client.get(url).get_json()["inputs"] == created.get_json()["inputs"]
    # an update's inputs_schema is read against the stored inputs
    changed = client.patch(url, json={"inputs_schema": SCHEMA[:1]})
    assert changed.status_code == 200
    assert changed.get_json()["inputs"] == {"url": {"value": "https://example.com/{inputs.body}", "order": 0}}


def test_a_hog_function_create_without_inputs_has_none(client):
    """posthog/api/hog_function.py: HogFunctionSerializer.to_internal_value defaults a create's
    inputs_schema to [], its inputs to {} and its mappings to None."""
    created = client.post(FUNCTIONS, json={"type": "destination", "name": "Bare"})
    assert created.status_code == 201
    record = created.get_json()
    assert (record["inputs_schema"], record["inputs"], record["mappings"]) == ([], {}, None)


@pytest.mark.parametrize(
    "inputs, attr, detail",
    [
        ({}, "inputs__url", "This field is required."),
        ({"url": {"value": ""}}, "inputs__url", "This field is required."),
        ({"url": {"value": 7}}, "inputs__url", "Value must be a string."),
        ({"url": {"value": "u"}, "retries": {"value": "3"}}, "inputs__retries", "Value must be a number."),
    ],
)
def test_a_hog_function_input_fits_its_schema_item(client, inputs, attr, detail):
    """posthog/cdp/validation.py: InputsItemSerializer.validate refuses a required input without a
    value and a value of another type than its inputs_schema item's."""
    body = {"type": "destination", "name": "Webhook", "inputs_schema": SCHEMA, "inputs": inputs}
    response = client.post(FUNCTIONS, json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": detail,
        "attr": attr,
    }


def test_a_hog_function_mapping_reads_its_inputs_through_its_own_schema(client):
    """posthog/cdp/validation.py: MappingsSerializer's inputs are an InputsSerializer over the
    mapping's own inputs_schema ("Missing inputs_schema." without one), the function's type
    checking each value."""
    mapping = {
        "name": "Purchase",
        "inputs_schema": SCHEMA[:1],
        "inputs": {"url": {"value": "u"}, "x": {"value": 1}},
    }
    body = {"type": "destination", "name": "Webhook", "mappings": [mapping]}
    created = client.post(FUNCTIONS, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["mappings"][0]["inputs"] == {"url": {"value": "u", "order": 0}}
    missing = client.post(FUNCTIONS, json={**body, "mappings": [{"inputs": {"url": {"value": "u"}}}]})
    assert missing.status_code == 400
    assert missing.get_json()["detail"] == "Missing inputs_schema."
    null = client.post(
        FUNCTIONS, json={**body, "mappings": [{**mapping, "inputs": {"url": {"value": None}}}]}
    )
    assert null.status_code == 400 and null.get_json()["detail"] == "This field may not be null."
