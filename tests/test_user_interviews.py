"""User interviews (generic tier): the audio is an uploaded file.

Source (PostHog/posthog): products/user_interviews/backend/api.py (UserInterviewSerializer:
``audio = serializers.FileField(write_only=True)``; UserInterviewViewSet's parsers, JSONParser and
MultiPartParser), DRF's FileField (its ``invalid`` message) and ListField (a form's getlist).
"""

from __future__ import annotations

import io

import pytest

URL = "/api/environments/1/user_interviews/"


@pytest.mark.parametrize("audio", [0, "clip.wav", "https://example.com/a.wav"])
def test_no_json_value_is_a_file(client, audio):
    response = client.post(URL, json={"audio": audio, "interviewee_emails": []})
    assert response.status_code == 400
    assert response.get_json()["attr"] == "audio"
    assert response.get_json()["detail"] == (
        "The submitted data was not a file. Check the encoding type on the form."
    )


def test_a_form_text_is_no_file_either(client):
    response = client.post(URL, data={"audio": "clip.wav"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["attr"] == "audio"


def test_a_multipart_upload_creates_it_with_every_email_of_the_form(client):
    data = {"audio": (io.BytesIO(b"RIFF"), "clip.wav"), "interviewee_emails": ["a@b.co", "c@d.co"]}
    response = client.post(URL, data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["interviewee_emails"] == ["a@b.co", "c@d.co"]
    assert "audio" not in response.get_json()  # write_only


def test_the_published_bodies_are_multipart_with_a_binary_audio(client):
    document = client.get("/api/schema/?format=json").get_json()
    create = document["paths"][URL.replace("/1/", "/{project_id}/")]["post"]["requestBody"]
    assert list(create["content"]) == ["multipart/form-data"]
    name = create["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][name]["properties"]["audio"]["format"] == "binary"


@pytest.mark.parametrize(
    ("emails", "status"), [(["{}"], 400), (["no email"], 400), (["Ann Lee <ann@x.io>"], 201)]
)
def test_each_interviewee_email_is_an_address(client, emails, status):
    """UserInterview.interviewee_emails (products/user_interviews/backend/models.py): an ArrayField
    of CharFields with EmailWithDisplayNameValidator, an address or 'Name <address>'."""
    data = {"audio": (io.BytesIO(b"RIFF"), "clip.wav"), "interviewee_emails": emails}
    response = client.post(URL, data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert response.get_json()["attr"] == "interviewee_emails__0"
        assert response.get_json()["detail"] == "Enter a valid email address."


def test_an_audio_file_may_hold_any_byte(client):
    """A FileField's content is bytes (no CharField's null-character rule): a NUL in the file is
    taken, and the published binary field states no text pattern."""
    data = {"audio": (io.BytesIO(b"RIFF\x00\x00data"), "clip.wav")}
    response = client.post(URL, data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    schemas = client.get("/api/schema/?format=json").get_json()["components"]["schemas"]
    assert "pattern" not in schemas["UserInterviewRequest"]["properties"]["audio"]
