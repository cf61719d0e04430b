"""Annotations as PostHog's AnnotationsViewSet serves them (posthog/api/annotation.py)."""

import pytest
from seeded import USER

BASE = "/api/projects/1/annotations/"


def error(detail, attr=None, code="invalid_input"):
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def make(client, **body):
    response = client.post(BASE, json={"content": "note", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_answers_the_whole_annotation(client):
    """posthog/api/annotation.py: AnnotationSerializer's fields, in order; creation_type USR and scope
    dashboard_item are the model's defaults; created_by is the requesting user."""
    body = make(client, content="  Launched v3  ", date_marker="2025-05-30T10:00:00+02:00", scope="project")
    assert list(body) == [
        "id", "content", "date_marker", "creation_type", "dashboard_item", "dashboard_id",
        "dashboard_name", "insight_short_id", "insight_name", "insight_derived_name", "created_by",
        "created_at", "updated_at", "deleted", "scope", "emoji", "hidden_in_user_interface", "tags",
    ]  # fmt: skip
    assert body["content"] == "Launched v3"  # CharField trims
    assert body["date_marker"] == "2025-05-30T08:00:00Z"  # DRF writes datetimes back in UTC
    assert (body["creation_type"], body["scope"], body["deleted"]) == ("USR", "project", False)
    assert body["created_by"] == USER and body["created_at"] == body["updated_at"]
    assert client.get(f"{BASE}{body['id']}/").get_json() == body
    assert make(client)["scope"] == "dashboard_item"


def test_update_keeps_the_rest_and_moves_updated_at(client):
    """posthog/api/annotation.py: a ModelSerializer update; updated_at is auto_now on the model."""
    made = make(client, scope="project")
    patched = client.patch(f"{BASE}{made['id']}/", json={"content": "changed"}).get_json()
    assert patched["content"] == "changed" and patched["scope"] == "project"
    assert patched["updated_at"] > made["updated_at"] and patched["created_at"] == made["created_at"]
    put = client.put(f"{BASE}{made['id']}/", json={"emoji": "🚀", "creation_type": "GIT"})
    assert put.status_code == 200
    assert (put.get_json()["emoji"], put.get_json()["creation_type"]) == ("🚀", "GIT")


def test_delete_is_refused_with_an_empty_405(client, backend):
    """posthog/api/forbid_destroy_model.py: destroy answers 405 with no body, without a lookup."""
    before = backend.store.dump()
    for key in (1, 999):
        response = client.delete(f"{BASE}{key}/")
        assert response.status_code == 405 and response.data == b""
        assert "Content-Type" not in response.headers
    assert backend.store.dump() == before
    assert client.get(f"{BASE}1/").status_code == 200


def test_soft_delete_and_restore(client):
    """posthog/api/annotation.py: deleted rows leave every action but partial_update, so PATCH
    {"deleted": false} brings one back."""
    made = make(client)
    hidden = client.patch(f"{BASE}{made['id']}/", json={"deleted": True})
    assert hidden.status_code == 200 and hidden.get_json()["deleted"] is True
    assert made["id"] not in [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert client.get(f"{BASE}{made['id']}/").status_code == 404
    assert client.put(f"{BASE}{made['id']}/", json={}).status_code == 404
    restored = client.patch(f"{BASE}{made['id']}/", json={"deleted": False}).get_json()
    assert restored["deleted"] is False
    assert client.get(f"{BASE}{made['id']}/").status_code == 200


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"scope": "team"}, error('"team" is not a valid choice.', "scope", "invalid_choice")),
        ({"scope": "recording"}, error("Recording scope is deprecated")),
        ({"dashboard_id": 99}, error("Dashboard not found.", "dashboard_id")),
        (
            {"dashboard_item": 99},
            error('Invalid pk "99" - object does not exist.', "dashboard_item", "does_not_exist"),
        ),
        ({"creation_type": "BOT"}, error('"BOT" is not a valid choice.', "creation_type", "invalid_choice")),
        (
            {"emoji": "x" * 17},
            error("Ensure this field has no more than 16 characters.", "emoji", "max_length"),
        ),
        ({"date_marker": "yesterday"}, None),
    ],
)
def test_create_refusals(refused, body, expected):
    """posthog/api/annotation.py: field errors (the scope and creation_type choices, the insight
    relation, the model's max lengths) come before validate(), which checks the dashboard and then
    refuses the deprecated recording scope."""
    if expected is None:
        expected = error(
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            "date_marker",
        )
    refused("post", BASE, body, expected["code"], expected["attr"], expected["detail"])


def test_links_to_insights_and_dashboards(client):
    """posthog/api/annotation.py and its model: dashboard_name and insight_name come from the
    linked rows; a blank emoji is stored as none (validate_emoji)."""
    body = make(client, dashboard_item=3, dashboard_id=2, emoji="")
    assert body["insight_name"] == "Pageviews by browser" and body["dashboard_name"] == "Growth"
    assert body["emoji"] is None


def test_scope_filter(client):
    """posthog/api/annotation.py: ?scope= filters (``insight`` means dashboard_item) and an unknown
    scope is a 400 for any action, retrieve included."""
    make(client, scope="organization")
    rows = client.get(f"{BASE}?scope=organization").get_json()["results"]
    assert rows and {row["scope"] for row in rows} == {"organization"}
    insight_rows = client.get(f"{BASE}?scope=insight").get_json()["results"]
    assert insight_rows and {row["scope"] for row in insight_rows} == {"dashboard_item"}
    for url in (f"{BASE}?scope=team", f"{BASE}1/?scope=team"):
        response = client.get(url)
        assert response.status_code == 400
        assert response.get_json() == error("Invalid scope: team")


def test_date_range_filters(client):
    """posthog/api/annotation.py: date_from / date_to bound date_marker inclusively (rows without
    one drop out); bad or reversed bounds are 400s with the viewset's messages."""
    early = make(client, date_marker="2024-01-01T00:00:00Z")["id"]
    late = make(client, date_marker="2024-01-03T00:00:00Z")["id"]
    make(client)  # no date_marker
    found = client.get(f"{BASE}?date_from=2024-01-01&date_to=2024-01-02T00:00:00Z").get_json()
    assert [row["id"] for row in found["results"]] == [early]
    assert late in [row["id"] for row in client.get(f"{BASE}?date_from=2024-01-03").get_json()["results"]]
    messages = {
        "date_from=soon": "Invalid date range: date_from must be a valid ISO 8601 date",
        "date_to=later": "Invalid date range: date_to must be a valid ISO 8601 date",
        "date_from=2024-02-01&date_to=2024-01-01": "Invalid date range: date_from must be before date_to",
    }
    for query, detail in messages.items():
        response = client.get(f"{BASE}?{query}")
        assert response.status_code == 400 and response.get_json() == error(detail)


def test_search_and_hidden_filters(client):
    """posthog/api/annotation.py: SearchFilter over content (every term must match) and the
    hidden_in_user_interface filter (false also matches rows that never set it)."""
    wanted = make(client, content="Deploy of the billing worker", hidden_in_user_interface=True)["id"]
    make(client, content="Deploy of the web app")
    found = client.get(f"{BASE}?search=deploy,billing").get_json()["results"]
    assert [row["id"] for row in found] == [wanted]
    hidden = client.get(f"{BASE}?hidden_in_user_interface=true").get_json()["results"]
    assert [row["id"] for row in hidden] == [wanted]
    shown = client.get(f"{BASE}?hidden_in_user_interface=false").get_json()["results"]
    assert wanted not in [row["id"] for row in shown] and shown


def test_list_order_and_page_size(client):
    """posthog/api/annotation.py: the list is ordered by -date_marker (Postgres puts NULLs first
    when descending) and pages hold 1000 rows unless ?limit= says otherwise."""
    for day in range(1, 101):
        make(client, date_marker=f"2023-{1 + day // 28:02d}-{1 + day % 28:02d}T00:00:00Z")
    undated = make(client)["id"]
    page = client.get(BASE).get_json()
    assert page["count"] == 109 and len(page["results"]) == 109 and page["next"] is None
    assert page["results"][0]["id"] == undated
    markers = [row["date_marker"] for row in page["results"][1:]]
    assert markers == sorted(markers, reverse=True)
    assert len(client.get(f"{BASE}?limit=5").get_json()["results"]) == 5


def test_annotations_of_deleted_insights_and_dashboards_are_hidden(client):
    """posthog/api/annotation.py: an annotation on a soft-deleted insight or dashboard is hidden from
    every action (PATCH included) until its parent is restored."""
    on_insight = make(client, dashboard_item=4)["id"]
    on_board = make(client, dashboard_id=3, scope="dashboard")["id"]
    client.patch("/api/projects/1/insights/4/", json={"deleted": True})
    client.patch("/api/projects/1/dashboards/3/", json={"deleted": True})
    ids = [row["id"] for row in client.get(BASE).get_json()["results"]]
    assert on_insight not in ids and on_board not in ids
    assert client.patch(f"{BASE}{on_insight}/", json={"content": "x"}).status_code == 404
    client.patch("/api/projects/1/insights/4/", json={"deleted": False})
    assert client.get(f"{BASE}{on_insight}/").get_json()["insight_short_id"] is not None
    assert client.get(f"{BASE}{on_board}/").status_code == 404


def test_the_tag_scope_shows_on_tagged_surfaces(client):
    """products/annotations/backend/api/annotation.py today: Annotation.Scope has a ``tag`` choice
    (products/annotations/backend/models/annotation.py), whose annotation carries ``tags`` (a list of
    tag names, TaggedItemSerializerMixin: stored trimmed, lower case, each once; the serializer's
    last field, [] on every other annotation); ?scope=tag lists them."""
    made = make(client, scope="tag", tags=["Release", "release ", "backend"])
    assert list(made)[-1] == "tags" and made["scope"] == "tag"
    assert made["tags"] == ["backend", "release"]
    assert client.get(f"{BASE}{made['id']}/").get_json()["tags"] == ["backend", "release"]
    assert make(client, scope="project")["tags"] == []
    assert client.get(f"{BASE}1/").get_json()["tags"] == []
    tagged = client.get(f"{BASE}?scope=tag").get_json()["results"]
    assert [row["id"] for row in tagged] == [made["id"]]
    # a PATCH that leaves tags out keeps them; one that sends them replaces them
    kept = client.patch(f"{BASE}{made['id']}/", json={"content": "changed"}).get_json()
    assert kept["tags"] == ["backend", "release"]
    replaced = client.patch(f"{BASE}{made['id']}/", json={"tags": ["web"]}).get_json()
    assert replaced["tags"] == ["web"]


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"scope": "tag"}, "At least one tag is required when scope is 'tag'."),
        ({"scope": "tag", "tags": []}, "At least one tag is required when scope is 'tag'."),
        ({"scope": "project", "tags": ["release"]}, "Tags can only be set when scope is 'tag'."),
        ({"tags": ["release"]}, "Tags can only be set when scope is 'tag'."),
    ],
)
def test_tag_scope_refusals(refused, body, detail):
    """AnnotationSerializer.validate (products/annotations/backend/api/annotation.py): a tag-scoped
    annotation needs at least one tag, and tags are only allowed with that scope (the default scope
    is dashboard_item): a 400 on ``tags``, nothing stored."""
    refused("post", BASE, {"content": "note", **body}, "invalid_input", "tags", detail)


def test_tag_rules_on_update_read_the_stored_row(client, backend):
    """AnnotationSerializer.validate on an update: the scope the row will have decides (the stored
    one when the body leaves it out), and the stored tags count when the body sends none."""
    project = make(client, scope="project")
    response = client.patch(f"{BASE}{project['id']}/", json={"scope": "tag"})
    assert response.status_code == 400
    assert response.get_json() == error("At least one tag is required when scope is 'tag'.", "tags")
    refused = client.patch(f"{BASE}{project['id']}/", json={"tags": ["web"]})
    assert refused.get_json() == error("Tags can only be set when scope is 'tag'.", "tags")
    tagged = client.patch(f"{BASE}{project['id']}/", json={"scope": "tag", "tags": ["web"]}).get_json()
    assert (tagged["scope"], tagged["tags"]) == ("tag", ["web"])
    cleared = client.patch(f"{BASE}{project['id']}/", json={"tags": []})
    assert cleared.get_json() == error("At least one tag is required when scope is 'tag'.", "tags")
    moved = client.patch(f"{BASE}{project['id']}/", json={"scope": "organization"}).get_json()
    assert moved["scope"] == "organization" and moved["tags"] == ["web"]  # kept, as PostHog keeps them


def _published(client, name):
    """A component of the served document as a validator (its refs resolved, formats checked)."""
    from jsonschema import Draft202012Validator

    components = client.get("/api/schema/").get_json()["components"]
    schema = {"components": components, "$ref": f"#/components/schemas/{name}"}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(
    "body, created",
    [
        ({"scope": "tag"}, False),
        ({"scope": "tag", "tags": []}, False),
        ({"scope": "tag", "tags": ["release"]}, True),
        ({"tags": ["release"]}, False),
        ({"scope": "project", "tags": ["release"]}, False),
        ({"scope": "project", "tags": []}, True),
        ({"scope": "recording"}, False),
        ({}, True),
    ],
)
def test_the_create_body_publishes_the_scope_rules(client, body, created):
    """AnnotationSerializer.validate (products/annotations/backend/api/annotation.py): a new
    annotation's tags and scope are judged on the body alone (recording is deprecated, scope tag
    needs tags, tags need scope tag), so AnnotationCreateRequest states it: what it accepts is
    what the server creates."""
    assert _published(client, "AnnotationCreateRequest").is_valid(body) is created
    assert client.post(BASE, json={"content": "note", **body}).status_code == (201 if created else 400)


@pytest.mark.parametrize(
    "body, valid",
    [
        ({"scope": "tag", "tags": []}, False),
        ({"scope": "project", "tags": ["release"]}, False),
        ({"scope": "recording"}, False),
        ({"scope": "tag", "tags": ["release"]}, True),
        ({"scope": "project", "tags": []}, True),
        # no scope in the body: the stored one decides, which no schema knows
        ({"tags": ["release"]}, True),
        ({"scope": "tag"}, True),
    ],
)
def test_the_update_body_publishes_what_the_body_alone_decides(client, body, valid):
    """AnnotationSerializer.validate on an update judges tags on the scope the row will have:
    PatchedAnnotationRequest states the cases the body decides; refused bodies are 400s."""
    assert _published(client, "PatchedAnnotationRequest").is_valid(body) is valid
    if not valid:
        made = make(client, scope="tag", tags=["web"])
        assert client.patch(f"{BASE}{made['id']}/", json=body).status_code == 400


def test_the_list_filters_publish_what_the_view_reads(client):
    """AnnotationsViewSet.safely_get_queryset: an empty date_from or date_to is no bound and a date
    is read as its midnight (datetime.fromisoformat), and ?scope= takes tag, a scope of today's
    Annotation.Scope: the published parameters accept them, as the server does."""
    from jsonschema import Draft202012Validator

    document = client.get("/api/schema/").get_json()
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/projects/{project_id}/annotations/"]["get"]["parameters"]
    }
    components = document["components"]

    def accepts(name, value):
        schema = {"components": components, **parameters[name]}
        return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(
            value
        )

    make(client, scope="tag", tags=["web"])
    for name, value in [("date_from", ""), ("date_to", ""), ("date_from", "2024-01-01"), ("scope", "tag")]:
        assert accepts(name, value), (name, value)
        assert client.get(f"{BASE}?{name}={value}").status_code == 200
    for name, value in [("date_from", "soon"), ("date_to", "2024-13-01"), ("scope", "team")]:
        assert not accepts(name, value), (name, value)
        assert client.get(f"{BASE}?{name}={value}").status_code == 400


def test_a_tag_of_blanks_is_blank(refused):
    """AnnotationSerializer.tags is a ListField of CharFields, which trim before their blank check:
    a tag of blanks only is a 400 on that tag (it was stored as '' and answered as a 500)."""
    body = {"content": "note", "scope": "tag", "tags": ["web", "  "]}
    refused("post", BASE, body, "blank", "tags__1", "This field may not be blank.")
    # str.strip's whitespace, which is more than ECMA's \s: the published pattern names it
    body = {"content": "note", "scope": "tag", "tags": ["\x1f\x85"]}
    refused("post", BASE, body, "blank", "tags__0", "This field may not be blank.")


def test_the_published_tags_refuse_what_the_trim_leaves_blank(client):
    """The Tags items' pattern (x-view) refuses every string str.strip leaves empty and no other."""
    import re

    pattern = _published(client, "AnnotationCreateRequest").schema["components"]["schemas"]["Tags"]
    pattern = pattern["items"]["pattern"]
    blanks = [chr(code) for code in range(0x3001) if chr(code).isspace()]
    assert not [c for c in blanks if re.search(pattern, c)]
    assert all(re.search(pattern, text) for text in ("a", "\ufeff", " web "))


def test_a_short_text_field_publishes_the_integers_it_takes(client):
    """AnnotationSerializer.emoji is a CharField of max_length 16: DRF takes a number as its text
    (rest_framework/fields.py), so an integer of up to 16 characters is an emoji and a longer one
    is too long. The served body says so (type integer with those bounds; a float's text has no
    length its value bounds, so no float is published)."""
    emoji = _published(client, "AnnotationCreateRequest").schema["components"]["schemas"]
    emoji = emoji["AnnotationCreateRequest"]["properties"]["emoji"]
    assert "integer" in emoji["type"] and emoji["maximum"] == 10**16 - 1
    assert client.post(BASE, json={"emoji": 0}).status_code == 201
    assert client.post(BASE, json={"emoji": 10**16 - 1}).status_code == 201
    assert client.post(BASE, json={"emoji": 10**16}).status_code == 400
