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
