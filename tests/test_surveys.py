"""Surveys as PostHog's SurveyViewSet serves them (products/surveys/backend/api/survey.py, models.py)."""

import re

import pytest
from seeded import USER

BASE = "/api/projects/1/surveys/"
FLAGS = "/api/projects/1/feature_flags/"
QUESTION = {"type": "open", "question": "What could we do better?"}
TARGETING = {
    "groups": [{"properties": [{"key": "plan", "type": "person", "value": ["pro"], "operator": "exact"}]}]
}


def make(client, **body):
    response = client.post(BASE, json={"name": "NPS", "type": "popover", "questions": [QUESTION], **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def flag(client, minimal):
    return client.get(f"{FLAGS}{minimal['id']}/").get_json()


def test_create_answers_the_create_serializer_and_makes_the_internal_flag(client):
    """SurveySerializerCreateUpdateOnly: POST answers its fields (no feature_flag_keys); pre_save gives
    each question an id; _add_user_survey_interacted_filters makes the internal targeting flag, which
    holds back persons who dismissed or answered this survey and is off until the survey runs."""
    body = make(client, description="Quarterly")
    assert list(body) == [
        "id", "name", "description", "type", "schedule", "linked_flag", "targeting_flag",
        "internal_targeting_flag", "questions", "conditions", "appearance", "created_at", "created_by",
        "start_date", "end_date", "archived", "responses_limit", "iteration_count",
        "iteration_frequency_days", "iteration_start_dates", "current_iteration",
        "current_iteration_start_date", "response_sampling_start_date", "response_sampling_interval_type",
        "response_sampling_interval", "response_sampling_limit", "response_sampling_daily_limits",
        "enable_partial_responses", "enable_iframe_embedding", "base_language", "translations",
        "form_content",
    ]  # fmt: skip
    assert body["created_by"] == USER and body["schedule"] == "once" and body["base_language"] == "en"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["questions"][0]["id"])
    assert body["targeting_flag"] is None and body["linked_flag"] is None
    internal = flag(client, body["internal_targeting_flag"])
    assert re.fullmatch(r"survey-targeting-[0-9a-f]{10}-custom", internal["key"])
    assert internal["name"] == "Targeting flag for survey NPS" and internal["active"] is False
    assert internal["filters"]["groups"] == [
        {
            "variant": "",
            "rollout_percentage": 100,
            "properties": [
                {
                    "key": f"$survey_dismissed/{body['id']}",
                    "value": "is_not_set",
                    "operator": "is_not_set",
                    "type": "person",
                },
                {
                    "key": f"$survey_responded/{body['id']}",
                    "value": "is_not_set",
                    "operator": "is_not_set",
                    "type": "person",
                },
            ],
        }
    ]
    read = client.get(f"{BASE}{body['id']}/").get_json()
    assert read["feature_flag_keys"][2] == {"key": "internal_targeting_flag_key", "value": internal["key"]}
    assert {k: v for k, v in read.items() if k in body} == body


def test_targeting_filters_make_a_targeting_flag(client, refused):
    """create: targeting_flag_filters become a new survey-targeting-<10 hex> flag (inactive); validate()
    refuses targeting that rolls out to everyone."""
    body = make(client, targeting_flag_filters=TARGETING)
    targeting = flag(client, body["targeting_flag"])
    assert re.fullmatch(r"survey-targeting-[0-9a-f]{10}", targeting["key"]) and targeting["active"] is False
    assert targeting["filters"]["groups"][0]["properties"][0]["key"] == "plan"
    everyone = {"name": "All", "type": "popover", "targeting_flag_filters": {"groups": [{"properties": []}]}}
    refused(
        "post", BASE, everyone, "invalid_input", None,
        "Invalid operation: User targeting rolls out to everyone. If you want to roll out to everyone, "
        "delete this targeting",
    )  # fmt: skip
    removed = client.patch(f"{BASE}{body['id']}/", json={"remove_targeting_flag": True}).get_json()
    assert removed["targeting_flag"] is None
    assert client.get(f"{FLAGS}{targeting['id']}/").status_code == 404  # the flag is deleted


@pytest.mark.parametrize(
    "questions, detail",
    [
        ({"type": "open"}, "Questions must be a list of objects"),
        ([{"type": "open"}], "Question text is required"),
        ([{"type": "open", "question": 5}], "Question text must be a string"),
        ([{"type": "open", "question": "q", "buttonText": 3}], "Question buttonText must be a string"),
        (
            [{"type": "single_choice", "question": "q", "choices": ["a", " "]}],
            "Question choices cannot be empty",
        ),
        (
            [{"type": "single_choice", "question": "q", "choices": ["a", 2]}],
            "Question choices must be strings",
        ),
        (
            [{"type": "link", "question": "q", "link": "http://example.com"}],
            "Link must be a URL with one of these schemes: [https, mailto]",
        ),
        (
            [{"type": "link", "question": "q", "link": "mailto:nobody"}],
            "Invalid mailto link. Please enter a valid mailto link (e.g., mailto:example@domain.com).",
        ),
        (
            [{"type": "link", "question": "q", "link": "https:///x"}],
            "Invalid HTTPS URL. Please enter a valid HTTPS link.",
        ),
        (
            [{"type": "open", "question": "q", "descriptionContentType": "md"}],
            "Question descriptionContentType must be one of ['text', 'html']",
        ),
        (
            [{"type": "open", "question": "q", "validation": [{"type": "regex"}]}],
            "Validation rule type must be one of: min_length, max_length, email",
        ),
        (
            [
                {
                    "type": "open",
                    "question": "q",
                    "validation": [{"type": "min_length", "value": 9}, {"type": "max_length", "value": 3}],
                }
            ],
            "Minimum length cannot be greater than maximum length",
        ),
        (
            [{"type": "open", "question": "q", "translations": {"english": {"question": "q"}}}],
            "Question 1 translation: 'english' is not a valid language code. "
            "Use BCP-47 codes like 'en', 'es', or 'es-MX' (not language names like 'english').",
        ),
        (
            [
                {
                    "type": "single_choice",
                    "question": "q",
                    "choices": ["a", "b"],
                    "translations": {"es": {"choices": ["x"]}},
                }
            ],
            "Question 1: Translation 'es' has 1 choices but question has 2 choices. "
            "Array lengths must match to avoid partial translations.",
        ),
    ],
)
def test_questions_are_validated(refused, questions, detail):
    """validate_questions, with PostHog's messages, on the questions field; nothing is stored."""
    refused(
        "post",
        BASE,
        {"name": "Q", "type": "popover", "questions": questions},
        "invalid_input",
        "questions",
        detail,
    )


@pytest.mark.parametrize(
    "body, attr, code, detail",
    [
        (
            {"schedule": "weekly"},
            "schedule",
            "invalid_input",
            "Schedule must be one of: once, recurring, always",
        ),
        (
            {"appearance": {"whiteLabel": "yes"}},
            "appearance",
            "invalid_input",
            "whiteLabel must be a boolean",
        ),
        (
            {"base_language": "default"},
            "base_language",
            "invalid_input",
            "'default' is not a valid language code. Use a BCP-47 code like 'en' or 'es'.",
        ),
        (
            {"translations": {"en": {"name": "NPS"}}},
            "translations",
            "invalid_input",
            "Survey translation: 'en' matches the survey's base language ('en'). The original text already "
            "covers this language — translate to a different language.",
        ),
        ({"linked_flag_id": 999}, None, "invalid_input", "Feature Flag with this ID does not exist"),
        (
            {"targeting_flag_id": 999},
            None,
            "invalid_input",
            "Targeting Feature Flag with this ID does not exist",
        ),
        ({"linked_insight_id": 999}, None, "invalid_input", "Insight with this ID does not exist"),
        (
            {"conditions": {"linkedFlagVariant": "test"}},
            None,
            "invalid_input",
            "linkedFlagVariant can only be used when a linked_flag_id is specified",
        ),
        (
            {"linked_flag_id": 2, "conditions": {"linkedFlagVariant": "nope"}},
            None,
            "invalid_input",
            "Feature flag variant 'nope' does not exist. Available variants: control, test-a, test-b",
        ),
        (
            {
                "appearance": {"shuffleQuestions": True},
                "questions": [{**QUESTION, "branching": {"type": "end"}}],
            },
            None,
            "invalid_input",
            "Question shuffling and question branching cannot be used together. Please disable one of these "
            "features.",
        ),
        (
            {"type": "external_survey", "linked_flag_id": 1},
            "linked_flag_id",
            "invalid_input",
            "linked_flag_id is not allowed for external surveys",
        ),
        (
            {"type": "external_survey", "conditions": {"url": "/pricing"}},
            "conditions",
            "invalid_input",
            "The following condition fields are not allowed for external surveys: url",
        ),
        (
            {"response_sampling_interval": 0},
            "response_sampling_interval",
            "invalid_input",
            "Response sampling interval must be greater than 0.",
        ),
    ],
)
def test_survey_rules(refused, body, attr, code, detail):
    """The other field validators and validate() of SurveySerializerCreateUpdateOnly."""
    refused("post", BASE, {"name": "Rules", "type": "popover", **body}, code, attr, detail)


def test_names_are_unique_in_the_project(client, refused):
    """validate(): a POST may not reuse a name; a PATCH may not take another survey's."""
    first = make(client)
    make(client, name="CSAT")
    refused(
        "post",
        BASE,
        {"name": "NPS", "type": "popover"},
        "unique",
        None,
        "There is already a survey with this name.",
    )
    refused(
        "patch", f"{BASE}{first['id']}/", {"name": "CSAT"}, "unique", None,
        "There is already another survey with this name.",
    )  # fmt: skip


def test_start_end_and_archive_drive_the_flags(client):
    """update(): the targeting flags are active exactly while the survey runs (start_date set, no
    end_date, not archived)."""
    live = client.get(f"{BASE}?archived=false").get_json()["count"]
    body = make(client, targeting_flag_filters=TARGETING)
    url = f"{BASE}{body['id']}/"

    def active():
        return (
            flag(client, body["targeting_flag"])["active"],
            flag(client, body["internal_targeting_flag"])["active"],
        )

    started = client.patch(url, json={"start_date": "2025-06-01T09:00:00+02:00"}).get_json()
    assert started["start_date"] == "2025-06-01T07:00:00Z" and active() == (True, True)
    client.patch(url, json={"archived": True})
    assert active() == (False, False)
    client.patch(url, json={"archived": False})
    assert active() == (True, True)
    client.patch(url, json={"end_date": "2025-06-02T00:00:00Z"})
    assert active() == (False, False)
    assert client.get(f"{BASE}?archived=false").get_json()["count"] == live + 1


def test_launch_and_stop(client):
    """launch sets start_date to now (a no-op once started), stop sets end_date (a no-op once ended);
    archived surveys are refused, and so is launching one that has ended."""
    body = make(client)
    url = f"{BASE}{body['id']}/"
    launched = client.post(f"{url}launch/").get_json()
    assert launched["start_date"] and launched["end_date"] is None
    assert client.post(f"{url}launch/").get_json()["start_date"] == launched["start_date"]
    stopped = client.post(f"{url}stop/").get_json()
    assert stopped["end_date"] and client.post(f"{url}stop/").get_json()["end_date"] == stopped["end_date"]
    refused = client.post(f"{url}launch/")
    assert refused.status_code == 400 and refused.get_json()["detail"] == (
        "Cannot launch a survey with end_date in the past. Extend the end_date first."
    )
    client.patch(url, json={"archived": True})
    assert client.post(f"{url}stop/").get_json()["detail"] == (
        "Cannot stop an archived survey. Unarchive it first if needed."
    )
    assert (
        client.post(f"{url}launch/").get_json()["detail"]
        == "Cannot launch an archived survey. Unarchive it first."
    )


def test_recurring_surveys_get_iterations(client):
    """models.update_survey_iterations: iteration start dates every N days from start_date, iteration 1;
    the internal flag names the iteration (<id>/1)."""
    body = make(
        client,
        iteration_count=3,
        iteration_frequency_days=7,
        schedule="recurring",
        start_date="2025-06-01T00:00:00Z",
    )
    assert body["iteration_start_dates"] == [
        "2025-06-01T00:00:00.000000Z",
        "2025-06-08T00:00:00.000000Z",
        "2025-06-15T00:00:00.000000Z",
    ]
    assert body["current_iteration"] == 1
    properties = flag(client, body["internal_targeting_flag"])["filters"]["groups"][0]["properties"]
    assert properties[0]["key"] == f"$survey_dismissed/{body['id']}/1"


def test_delete_removes_the_survey_and_its_flags(client):
    """SurveyViewSet.destroy: a real delete (204), with the targeting and internal targeting flags."""
    body = make(client, targeting_flag_filters=TARGETING)
    assert client.delete(f"{BASE}{body['id']}/").status_code == 204
    assert client.get(f"{BASE}{body['id']}/").status_code == 404
    for minimal in (body["targeting_flag"], body["internal_targeting_flag"]):
        assert client.get(f"{FLAGS}{minimal['id']}/").status_code == 404


def test_list_filters(client):
    """SurveyFilterSet (archived, type, ids) and search over name and description, newest first."""

    def names(query):
        return [row["name"] for row in client.get(f"{BASE}{query}").get_json()["results"]]

    seeded = names("")
    one = make(client, name="Onboarding feedback")
    two = make(client, name="Widget", type="widget", description="tell us about onboarding")
    assert names("") == ["Widget", "Onboarding feedback", *seeded]
    assert names("?type=widget") == ["Widget"]
    assert names("?search=onboarding") == ["Widget", "Onboarding feedback"]
    assert names(f"?ids={one['id']}") == ["Onboarding feedback"]
    assert client.get(f"{BASE}?search=onboarding").get_json()["results"][0]["search_match_type"] == "exact"
    assert client.get(f"{BASE}?ids=nope").get_json()["attr"] == "ids"
    assert two["type"] == "widget"


def test_the_seed_has_surveys_that_are_not_running(client):
    """The default world's surveys (fixtures/default.json): a draft, an ended and an archived one,
    so no SDK is shown one; the first change creates the internal targeting flag, as PostHog's
    update does for a survey that has none (posthog/api/survey.py, _add_user_survey_interacted_filters)."""
    rows = client.get(BASE).get_json()["results"]
    assert len(rows) == 3
    assert [row["start_date"] is None for row in rows].count(True) == 1
    assert all(row["start_date"] is None or row["end_date"] > row["start_date"] for row in rows)
    assert [row["archived"] for row in rows].count(True) == 1
    assert all(row["internal_targeting_flag"] is None and row["questions"][0]["id"] for row in rows)
    changed = client.patch(f"{BASE}{rows[0]['id']}/", json={"description": "Asked once."}).get_json()
    assert flag(client, changed["internal_targeting_flag"])["active"] is False


def test_hostile_shapes_are_a_400(refused):
    """Where PostHog's serializer would fail with a 500 (a non-numeric popup delay, iterations past
    the year 9999), mockhog answers a 400 on the field and stores nothing."""
    refused(
        "post", BASE, {"name": "Delay", "type": "popover", "appearance": {"surveyPopupDelaySeconds": "soon"}},
        "invalid_input", "appearance", "Survey popup delay seconds must be a positive integer",
    )  # fmt: skip
    far = {
        "name": "Far", "type": "popover", "start_date": "2025-06-01T00:00:00Z", "iteration_count": 500,
        "iteration_frequency_days": 2000000,
    }  # fmt: skip
    refused("post", BASE, far, "invalid_input", "iteration_frequency_days",
            "The iterations would end after the year 9999.")  # fmt: skip
    refused("post", BASE, {"name": "T", "type": "popover", "translations": ["es"]}, "invalid_input",
            "translations", "Translations must be an object")  # fmt: skip


def test_an_external_survey_publishes_that_it_takes_no_flags(client):
    """SurveySerializer.validate (products/surveys/backend/api/survey.py): a body of type
    external_survey with a linked flag or targeting flag filters is refused; the published body
    states it (if type is external_survey, then both are null), for a create and an update."""
    schemas = client.get("/api/schema/?format=json").get_json()["components"]["schemas"]
    for name in ("SurveyRequest", "PatchedSurveyRequest"):
        assert schemas[name]["if"] == {
            "properties": {"type": {"const": "external_survey"}},
            "required": ["type"],
        }
        assert schemas[name]["then"]["properties"]["targeting_flag_filters"] == {"type": "null"}
    body = {"name": "Hosted", "type": "external_survey", "questions": [{"type": "open", "question": "Hi?"}]}
    refused = client.post("/api/projects/1/surveys/", json={**body, "targeting_flag_filters": {"groups": []}})
    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "targeting_flag_filters is not allowed for external surveys"
