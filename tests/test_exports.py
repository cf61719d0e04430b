"""Exports: list/create/retrieve/content as PostHog serves them."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from mockhog import DEFAULT_API_KEY, Backend, create_app
from mockhog.seed import load_profile

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}

BASE = "/api/projects/1/exports/"


def test_create_shows_in_list_and_retrieve(client):
    created = client.post(BASE, json={"insight": 3, "export_format": "text/csv"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["insight"] == 3 and body["has_content"] is True
    assert body["filename"].startswith("export-pageviews-by-browser-") and body["filename"].endswith(".csv")
    assert client.get(f"{BASE}{body['id']}/").get_json() == body
    listed = client.get(BASE).get_json()
    assert listed["count"] == 13 and listed["results"][0] == body


def test_list_is_newest_first_and_pages_are_disjoint(client):
    seen, url = [], f"{BASE}?limit=5"
    while url:
        page = client.get(url).get_json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 12
    times = [client.get(f"{BASE}{i}/").get_json()["created_at"] for i in seen]
    assert times == sorted(times, reverse=True)


def test_links_are_absolute_with_sorted_params(client):
    page = client.get(f"{BASE}?offset=5&limit=5", base_url="http://127.0.0.1:8010").get_json()
    assert page["next"] == "http://127.0.0.1:8010/api/projects/1/exports/?limit=5&offset=10"
    assert page["previous"] == "http://127.0.0.1:8010/api/projects/1/exports/?limit=5"


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"insight": 3}, "required", "export_format", "This field is required."),
        (
            {"insight": 3, "export_format": "image/bmp"},
            "invalid_choice",
            "export_format",
            '"image/bmp" is not a valid choice.',
        ),
        (
            {"export_format": "text/csv"},
            "invalid_input",
            None,
            "Either dashboard, insight or export_context is required for an export.",
        ),
        (
            {"export_format": "text/csv", "insight": 99},
            "does_not_exist",
            "insight",
            'Invalid pk "99" - object does not exist.',
        ),
        (
            {"export_format": "text/csv", "dashboard": "x"},
            "invalid_input",
            "dashboard",
            "A valid integer is required.",
        ),
    ],
)
def test_create_errors_change_nothing(refused, body, code, attr, detail):
    refused("post", BASE, body, code, attr, detail)


def test_no_update_or_delete(client):
    for method in ("patch", "put", "delete"):
        response = getattr(client, method)(f"{BASE}1/", json={})
        assert response.status_code == 405
        assert response.get_json()["code"] == "method_not_allowed"


def test_content_is_a_real_file(client):
    created = client.post(BASE, json={"insight": 1, "export_format": "text/csv"}).get_json()
    response = client.get(f"{BASE}{created['id']}/content/?download=true")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{created["filename"]}"'
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True))))[0] == ["date", "value"]
    xlsx_format = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = client.post(BASE, json={"dashboard": 1, "export_format": xlsx_format}).get_json()
    data = client.get(f"{BASE}{sheet['id']}/content").data
    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    png = client.post(BASE, json={"insight": 2, "export_format": "image/png"}).get_json()
    assert client.get(f"{BASE}{png['id']}/content").data.startswith(b"\x89PNG")


RECORDING = {"session_recording_id": "0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}


def test_exports_render_at_once_by_default(client):
    video = client.post(BASE, json={"export_format": "video/mp4", "export_context": RECORDING}).get_json()
    assert video["has_content"] is True
    content = client.get(f"{BASE}{video['id']}/content/")
    assert content.status_code == 200 and content.data[4:8] == b"ftyp"
    assert content.headers["Content-Type"] == "video/mp4"


NOT_READY = {
    "type": "invalid_request",
    "code": "export_not_ready",
    "detail": "This export is still being generated. Please try again shortly.",
    "attr": None,
}
STUCK = (
    "Export failed without throwing an exception. Please try to rerun this export and contact support if "
    "it fails to complete multiple times."
)


def test_pending_export_answers_425_until_advanced(client):
    """products/exports/backend/models/exported_asset.py get_content_response: an export with no
    bytes yet raises ExportNotReadyError, a 425 with code export_not_ready (drf-exceptions-hog's
    invalid_request envelope), until rendering finishes."""
    client.put("/_mockhog/async", json={"exports": {"mode": "manual"}})
    made = client.post(BASE, json={"export_format": "video/webm", "export_context": RECORDING}).get_json()
    assert made["has_content"] is False and made["exception"] is None
    pending = client.get(f"{BASE}{made['id']}/content/")
    assert pending.status_code == 425 and pending.get_json() == NOT_READY
    assert client.post("/_mockhog/advance", json={"kind": "exports"}).get_json()["advanced"] == 1
    assert client.get(f"{BASE}{made['id']}/").get_json()["has_content"] is True
    assert client.get(f"{BASE}{made['id']}/content/").status_code == 200


def _age(backend, key, seconds):
    table = backend.store.table(1, "exports")
    made = (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    table.put(key, {**table.get(key), "created_at": made})


def test_a_stuck_export_reads_as_failed_and_its_content_is_400(client, backend):
    """exported_asset.py is_export_stuck / get_export_error and ExportedAssetSerializer
    .to_representation (products/exports/backend/api/exports.py): an export with no content and no
    exception more than HOGQL_INCREASED_MAX_EXECUTION_TIME (600 s) + 30 s after it was made shows
    the stuck message as its exception, and its content is ExportFailedError, a 400 export_failed
    carrying that message; within the budget it is still a 425."""
    client.put("/_mockhog/async", json={"exports": {"mode": "manual"}})
    made = client.post(BASE, json={"insight": 1, "export_format": "text/csv"}).get_json()
    _age(backend, made["id"], 620)
    assert client.get(f"{BASE}{made['id']}/").get_json()["exception"] is None
    assert client.get(f"{BASE}{made['id']}/content/").status_code == 425
    _age(backend, made["id"], 640)
    shown = client.get(f"{BASE}{made['id']}/").get_json()
    assert (shown["has_content"], shown["exception"]) == (False, STUCK)
    listed = {row["id"]: row for row in client.get(BASE).get_json()["results"]}
    assert listed[made["id"]]["exception"] == STUCK
    failed = client.get(f"{BASE}{made['id']}/content/")
    assert failed.status_code == 400
    assert failed.get_json() == {
        "type": "invalid_request",
        "code": "export_failed",
        "detail": STUCK,
        "attr": None,
    }
    # once rendered, it has content and no exception
    client.post("/_mockhog/advance", json={"kind": "exports"})
    assert client.get(f"{BASE}{made['id']}/").get_json()["exception"] is None
    assert client.get(f"{BASE}{made['id']}/content/").status_code == 200


def test_a_recorded_exception_is_the_content_answer(client, backend):
    """exported_asset.py get_export_error: a recorded exception always wins; the content answer is a
    400 export_failed whose detail is that exception (ExportFailedError(error))."""
    table = backend.store.table(1, "exports")
    table.put(5, {**table.get(5), "exception": "Query timed out"})
    shown = client.get(f"{BASE}5/").get_json()
    assert (shown["has_content"], shown["exception"]) == (False, "Query timed out")
    failed = client.get(f"{BASE}5/content/")
    assert failed.status_code == 400
    assert failed.get_json() == {
        "type": "invalid_request", "code": "export_failed", "detail": "Query timed out", "attr": None,
    }  # fmt: skip


def test_filters(client):
    client.post(BASE, json={"export_format": "application/json", "export_context": {"path": "/a/Report"}})
    found = client.get(f"{BASE}?context_path=report").get_json()
    assert found["count"] == 1
    only_json = client.get(f"{BASE}?export_format=application/json").get_json()["results"]
    assert {row["export_format"] for row in only_json} == {"application/json"}


def test_the_session_recording_filter(client):
    """ExportedAssetViewSet.safely_get_queryset (products/exports/backend/api/exports.py): the list's
    ?session_recording_id= keeps the exports whose export_context names that recording exactly."""
    other = {"session_recording_id": "0197a1b2-0000-7000-8000-000000000001"}
    mine = client.post(BASE, json={"export_format": "image/png", "export_context": RECORDING}).get_json()
    client.post(BASE, json={"export_format": "image/png", "export_context": other})
    found = client.get(f"{BASE}?session_recording_id={RECORDING['session_recording_id']}").get_json()
    assert [row["id"] for row in found["results"]] == [mine["id"]] and found["count"] == 1
    assert client.get(f"{BASE}?session_recording_id=0197a1b2").get_json()["count"] == 0
    assert client.get(f"{BASE}?session_recording_id=").get_json()["count"] == 14  # empty: no filter


@pytest.mark.parametrize(
    "body, attr, detail",
    [
        (
            {"insight": 2, "export_format": "video/mp4"},
            "export_format",
            "Video export supports session recordings only.",
        ),
        (
            {"dashboard": 1, "export_format": "video/webm"},
            "export_format",
            "Video export supports session recordings only.",
        ),
        (
            {"insight": 2, "export_format": "image/gif", "export_context": {"session_recording_id": ""}},
            "export_format",
            "Video export supports session recordings only.",
        ),
        (
            {"export_format": "video/mp4", "export_context": {"session_recording_id": "../../admin"}},
            "export_context",
            "Invalid session_recording_id.",
        ),
        (
            {"export_format": "image/png", "export_context": {"session_recording_id": 42}},
            "export_context",
            "Invalid session_recording_id.",
        ),
        (
            {"export_format": "application/json", "export_context": {"path": "/api/x", "method": "POST"}},
            "export_context",
            "Exports from API endpoints only support GET requests without a request body.",
        ),
        (
            {"export_format": "text/csv", "export_context": [1]},
            "export_context",
            'Expected a dictionary of items but got type "list".',
        ),
        (
            {"export_format": "application/json", "export_context": {"path": "/api/x", "body": {}}},
            "export_context",
            "Exports from API endpoints only support GET requests without a request body.",
        ),
    ],
)
def test_what_posthog_refuses_today(client, backend, body, attr, detail):
    """ExportedAssetSerializer.validate (an invalid session_recording_id by
    products/exports/backend/models/exported_asset.py's is_valid_session_recording_id, whose body was
    not in the snapshots read: letters, digits, ``-``, ``_``, at most 200, is mockhog's rule; an
    API-path export that is not a plain GET) and _create_asset (a rasterized format, video or
    GIF, needs a session recording: "Video export supports session recordings only.") in
    posthog/api/exports.py today: a 400 naming the field, nothing stored. An export_context that is
    not an object PostHog reads with .get() (a 500 there); mockhog answers DRF's dictionary
    message."""
    before = backend.store.dump()
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    code = "not_a_dict" if detail.startswith("Expected a dictionary") else "invalid_input"
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "url, problem",
    [
        ("ftp://example.com/page", "Disallowed scheme"),
        ("javascript:alert(1)", "Disallowed scheme"),
        ("https://", "Missing host"),
        ("http://169.254.169.254/latest/meta-data", "Local/metadata host"),
        ("http://metadata.google.internal/", "Local/metadata host"),
        ("http://localhost:8000/", "Local/Loopback host not allowed"),
        ("http://[::1]/", "Local/Loopback host not allowed"),
        ("https://app.corp/", "Internal domain pattern blocked: .corp"),
        ("https://api.svc.cluster.local/", "Internal domain pattern blocked: .local"),
        ("http://10.1.2.3/", "Private IP address not allowed"),
        ("http://172.20.0.5/", "Private IP address not allowed"),
        ("http://127.0.0.2/", "Disallowed target IP: 127.0.0.2"),
        ("http://[fd00::1]/", "Disallowed target IP: fd00::1"),
        ("http://[::1/", "Invalid URL"),
        (42, "Invalid URL"),
    ],
)
def test_heatmap_urls_posthog_would_not_fetch_are_refused(client, backend, url, problem):
    """ExportedAssetSerializer.validate (products/exports/backend/api/exports.py) runs a heatmap
    export's export_context.heatmap_url through is_url_allowed (posthog/security/url_validation.py):
    a refused URL is a 400 on export_context "heatmap_url not allowed: <why>", nothing stored. Host
    names are not resolved (mockhog makes no DNS queries); IP literals are checked as PostHog checks
    resolved addresses."""
    before = backend.store.dump()
    body = {"export_format": "image/png", "export_context": {"heatmap_url": url}}
    response = client.post(BASE, json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error", "code": "invalid_input", "detail": f"heatmap_url not allowed: {problem}",
        "attr": "export_context",
    }  # fmt: skip
    assert backend.store.dump() == before


def test_a_public_heatmap_url_is_exported(client):
    body = {"export_format": "image/png", "export_context": {"heatmap_url": "https://example.com/pricing"}}
    made = client.post(BASE, json=body)
    assert made.status_code == 201 and made.get_json()["export_context"] == body["export_context"]


def test_exports_carry_the_users_access_level(client):
    """ExportedAssetSerializer mixes in UserAccessControlSerializerMixin today: user_access_level is
    the last field; the mock user (an organization admin) has "manager" (posthog/api/exports.py,
    posthog/rbac/user_access_control.py)."""
    listed = client.get(BASE).get_json()["results"]
    assert listed and all(list(row)[-1] == "user_access_level" for row in listed)
    assert {row["user_access_level"] for row in listed} == {"manager"}
    made = client.post(BASE, json={"insight": 1, "export_format": "image/png"}).get_json()
    assert made["user_access_level"] == "manager"


def _video(n: int, export_format: str = "video/mp4") -> dict:
    return {"export_format": export_format, "export_context": {"session_recording_id": f"session_{n}"}}


LIMIT_REACHED = {
    "type": "validation_error",
    "code": "invalid_input",
    "detail": "Your team has reached the limit of 10 full video exports this month.",
    "attr": "export_limit_exceeded",
}


def test_full_video_exports_are_limited_per_month(client, backend):
    """ExportedAssetSerializer.validate today (posthog/api/exports.py, FULL_VIDEO_EXPORTS_LIMIT_BY_TIER;
    PostHog's test_video_export_monthly_limit and ..._applies_to_all_video_formats): a video or GIF
    export of a session recording counts against the team's monthly limit, 10 on the free tier,
    shared by MP4, WebM and GIF; the next one is a 400 naming ``export_limit_exceeded`` and stores
    nothing. Other exports are not limited."""
    formats = ["video/mp4", "video/webm", "image/gif"]
    for n in range(10):
        made = client.post(BASE, json=_video(n, formats[n % 3]))
        assert made.status_code == 201, made.get_json()
    before = backend.store.dump()
    for export_format in formats:
        refused = client.post(BASE, json=_video(99, export_format))
        assert refused.status_code == 400
        assert refused.get_json() == LIMIT_REACHED
    assert backend.store.dump() == before
    # a screenshot of a recording is not a full video, nor is an insight's CSV
    png = {"export_format": "image/png", "export_context": {"session_recording_id": "session_png"}}
    assert client.post(BASE, json=png).status_code == 201
    assert client.post(BASE, json={"insight": 1, "export_format": "text/csv"}).status_code == 201


def test_the_video_limit_counts_this_calendar_month_only_and_not_system_exports(client, backend):
    """The count is ExportedAsset rows of the team in a rasterized format with a session recording,
    created since the first of the current month (UTC), excluding ``is_system`` ones
    (posthog/api/exports.py; PostHog's test_video_export_limit_resets_monthly and
    test_video_export_limit_excludes_system_assets)."""
    table = backend.store.table(1, "exports")
    now = datetime.now(UTC)
    last_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(seconds=1)
    for n, (created, system) in enumerate([(last_month, False)] * 10 + [(now, True)] * 10):
        record = {
            "id": 1000 + n,
            "dashboard": None,
            "insight": None,
            "export_format": "video/mp4",
            "export_context": {"session_recording_id": f"old_{n}"},
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "filename": f"export-{n}.mp4",
            "expires_after": None,
            "has_content": True,
            "exception": None,
            "is_system": system,
            "_created_by": 1,
        }
        table.put(record["id"], record)
    assert client.post(BASE, json=_video(1)).status_code == 201


@pytest.mark.parametrize(
    "features, limit",
    [
        ([], 10),
        ([{"key": "recordings_file_export", "name": "Recordings file export"}], 15),
        ([{"key": "saml", "name": "SAML"}], 25),
        ([{"key": "recordings_file_export"}, {"key": "role_based_access"}], 25),
    ],
)
def test_the_video_limit_follows_the_plan_tier(features, limit):
    """get_full_video_exports_limit_for_organization: free 10, paid 15, enterprise 25, the tier read
    from the organization's billing features as PostHog's test_video_export_limit_varies_by_plan_tier
    pins it (posthog/api/exports.py). The mock organization's own features (advanced permissions)
    leave it on the free tier."""
    organization = {**load_profile()["organization"], "available_product_features": features}
    backend = Backend(seed=0, profile={"organization": organization})
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
    for n in range(limit):
        assert client.post(BASE, json=_video(n)).status_code == 201
    refused = client.post(BASE, json=_video(limit))
    assert refused.status_code == 400
    detail = f"Your team has reached the limit of {limit} full video exports this month."
    assert refused.get_json() == {**LIMIT_REACHED, "detail": detail}


def test_a_team_override_raises_the_video_limit_but_never_lowers_it():
    """A team's ``extra_settings.full_video_exports_limit`` is a floor above the tier's default
    (posthog/api/exports.py; PostHog's test_video_export_extra_settings_override_acts_as_floor...)."""
    for override, limit in ((12, 12), (3, 10), ("bogus", 10)):
        project = {**load_profile()["projects"][0], "extra_settings": {"full_video_exports_limit": override}}
        backend = Backend(seed=0, profile={"projects": [project, *load_profile()["projects"][1:]]})
        client = create_app(backend=backend).test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
        for n in range(limit):
            assert client.post(BASE, json=_video(n)).status_code == 201
        refused = client.post(BASE, json=_video(limit))
        assert (
            refused.get_json()["detail"]
            == f"Your team has reached the limit of {limit} full video exports this month."
        )


@pytest.mark.parametrize(
    "scopes, body, missing",
    [
        (["export:write"], {"insight": 3, "export_format": "text/csv"}, "insight:read"),
        (["export:write", "insight:read"], {"dashboard": 1, "export_format": "image/png"}, "dashboard:read"),
        (
            ["export:write"],
            {"export_context": {"session_recording_id": "s1"}, "export_format": "video/mp4"},
            "session_recording:read",
        ),
        (
            ["export:write"],
            {"export_context": {"source": {"kind": "HogQLQuery"}}, "export_format": "text/csv"},
            "query:read",
        ),
        (["insight:write"], {"insight": 3, "export_format": "text/csv"}, "export:write"),
    ],
)
def test_a_create_needs_read_access_to_what_it_renders(client, scopes, body, missing):
    """ExportedAssetViewSet.dangerously_get_required_scopes (required_scopes_for_export_target,
    products/exports/backend/source_authentication.py): export:write, then the read scope of the
    insight, dashboard, recording or query the export renders; refused before anything is stored."""
    key = client.post("/_mockhog/personal_api_keys", json={"label": "exports", "scopes": scopes}).get_json()
    headers = {"Authorization": f"Bearer {key['value']}"}
    before = client.get(BASE).get_json()["count"]
    refused = client.post(BASE, json=body, headers=headers)
    assert (refused.status_code, refused.get_json()["detail"]) == (
        403,
        f"API key missing required scope '{missing}'",
    )
    assert client.get(BASE).get_json()["count"] == before


def test_a_write_scope_grants_the_read_an_export_needs(client):
    """insight:write covers insight:read (APIScopePermission); an export of an API path needs only
    export:write."""
    scopes = ["export:write", "insight:write"]
    key = client.post("/_mockhog/personal_api_keys", json={"label": "exports", "scopes": scopes}).get_json()
    headers = {"Authorization": f"Bearer {key['value']}"}
    made = client.post(BASE, json={"insight": 3, "export_format": "text/csv"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    only = client.post("/_mockhog/personal_api_keys", json={"label": "e", "scopes": ["export:write"]})
    path = {"export_context": {"path": "/api/projects/1/insights/"}, "export_format": "text/csv"}
    answer = client.post(BASE, json=path, headers={"Authorization": f"Bearer {only.get_json()['value']}"})
    assert answer.status_code == 201, answer.get_json()
