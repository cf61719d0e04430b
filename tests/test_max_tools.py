"""Max tools create_and_query_insight: assistant events built from the project's event names."""

import json

import pytest

URL = "/api/projects/1/max_tools/create_and_query_insight/"


def ask(client, question, insight_type, url=URL):
    response = client.post(url, json={"query": question, "insight_type": insight_type})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def viz(events):
    return next(e["data"] for e in events if e["data"]["type"] == "ai/viz")


def test_trends_stream(client):
    question = "How many unique users uploaded files by browser in the last 14 days?"
    events = ask(client, question, "trends")
    assert [(e["type"], e["data"]["type"]) for e in events] == [
        ("message", "ai/reasoning"), ("message", "ai/reasoning"), ("message", "ai/viz"), ("message", "tool"),
    ]  # fmt: skip
    message = viz(events)
    assert message["query"] == question
    assert message["answer"] == {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "file_uploaded", "name": "file_uploaded", "math": "dau"}],
        "dateRange": {"date_from": "-14d"},
        "interval": "day",
        "trendsFilter": {"display": "ActionsLineGraph"},
        "breakdownFilter": {"breakdowns": [{"property": "$browser", "type": "event"}]},
    }
    assert "series 1: file_uploaded" in message["plan"] and "Breakdown by: $browser" in message["plan"]
    assert events[3]["data"]["ui_payload"] == {"create_and_query_insight": message["answer"]}


def test_funnel_retention_and_sql(client):
    funnel = viz(ask(client, "Signup to first file share funnel", "funnel"))["answer"]
    assert funnel["kind"] == "FunnelsQuery"
    assert [s["event"] for s in funnel["series"]] == ["signed_up", "file_shared"]
    retention = viz(ask(client, "Do people who sign up come back to upload files monthly?", "retention"))[
        "answer"
    ]
    assert retention["retentionFilter"]["targetEntity"]["id"] == "signed_up"
    assert retention["retentionFilter"]["returningEntity"]["id"] == "file_uploaded"
    assert retention["retentionFilter"]["period"] == "Month"
    sql = viz(ask(client, "count file downloads and shares over the last 2 weeks", "sql"))["answer"]
    assert sql["kind"] == "HogQLQuery"
    assert "WHERE event IN ('file_shared', 'download_started')" in sql["query"]
    assert "INTERVAL 2 WEEK" in sql["query"]


def test_funnel_needs_two_steps(client):
    funnel = viz(ask(client, "How do people get to invite accepted?", "funnel"))["answer"]
    assert [s["event"] for s in funnel["series"]] == ["invite_accepted", "$pageview"]


def test_event_names_come_from_event_definitions(client, backend):
    definitions = backend.store.table(1, "event_definitions")
    for row in definitions.values():
        definitions.delete(row["id"])
    vocabulary = viz(ask(client, "photo prints per week", "trends"))["answer"]
    assert vocabulary["series"][0]["event"] == "$pageview"  # nothing matches the profile's events
    definitions.put("e1", {"id": "e1", "name": "photo_printed"})
    defined = viz(ask(client, "photo prints per week", "trends"))["answer"]
    assert defined["series"][0]["event"] == "photo_printed" and defined["interval"] == "week"


def test_txt_format_streams_the_same_events(client, backend):
    as_json = ask(client, "pageviews last month", "trends")
    backend.reset()  # same id sequence for the second call
    response = client.post(
        "/api/environments/1/max_tools/create_and_query_insight/?format=txt",
        json={"query": "pageviews last month", "insight_type": "trends"},
    )
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    blocks = [b for b in response.get_data(as_text=True).split("\n\n") if b]
    parsed = []
    for block in blocks:
        event_line, data_line = block.split("\n")
        parsed.append(
            {"type": event_line.removeprefix("event: "), "data": json.loads(data_line.removeprefix("data: "))}
        )
    assert parsed == as_json
    assert viz(as_json)["answer"]["dateRange"] == {"date_from": "-1m"}


def test_unknown_format_is_404(client):
    response = client.post(f"{URL}?format=xml", json={"query": "pageviews", "insight_type": "trends"})
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"insight_type": "trends"}, "required", "query", "This field is required."),
        ({"query": "x"}, "required", "insight_type", "This field is required."),
        ({"query": "", "insight_type": "trends"}, "blank", "query", "This field may not be blank."),
        (
            {"query": "x" * 1001, "insight_type": "trends"},
            "max_length",
            "query",
            "Ensure this field has no more than 1000 characters.",
        ),
        (
            {"query": "x", "insight_type": "paths"},
            "invalid_choice",
            "insight_type",
            '"paths" is not a valid choice.',
        ),
    ],
)
def test_invalid_calls(client, backend, body, code, attr, detail):
    before = backend.store.dump()
    response = client.post(URL, json=body)
    assert response.status_code == 400
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    assert backend.store.dump() == before
