"""Hostile input: each malformed, odd or oversized request gets the real server's answer (a 4xx with a
clear message in PostHog's envelope, or the 2xx the real server gives), never a 5xx, and a request
that does not legitimately write leaves the store (and the fault rules) byte-for-byte as it was.
Every answer's headers are printable ASCII (what waitress can send), and the journal records the
status the client got."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from mockhog import create_app
from mockhog.journal import TOO_DEEP

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
P = "/api/projects/1"
JSON = "application/json"
MAX_BODY = 10 * 1024 * 1024  # the body limit mockhog should enforce (Django's own default is 2.5 MiB)
ENVELOPE_KEYS = {"type", "code", "detail", "attr"}


@dataclass
class Case:
    """One hostile request and what the server must answer."""

    id: str
    method: str
    path: str
    status: int
    body: dict[str, Any] | None = None  # a subset of the JSON answer that must match exactly
    data: Any = None
    json_body: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    writes: bool = False  # the real server legitimately changes state for this request
    check: Callable[[TestResponse], None] | None = None  # extra checks on the answer
    setup: Callable[[Any], None] | None = None  # run with the client before the state is recorded
    admin_token: str | None = None  # serve the control plane behind this token


def parse_error(detail_start: str = "JSON parse error - ") -> dict[str, Any]:
    return {"type": "invalid_request", "code": "parse_error", "attr": None, "_detail_start": detail_start}


def validation(code: str, detail: str, attr: str | None) -> dict[str, Any]:
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
ENDPOINT_NOT_FOUND = {**NOT_FOUND, "detail": "Endpoint not found."}
NOT_A_DICT = "Invalid data. Expected a dictionary, but got {}."
EXPORT = {"insight": 1, "export_format": "text/csv"}


def _deep(levels: int) -> str:
    return (
        '{"export_format": "text/csv", "insight": 1, "export_context": {"nested": '
        + "[" * levels
        + "]" * levels
        + "}}"
    )


def _all_twelve_exports(response: TestResponse) -> None:
    page = response.get_json()
    assert page["count"] == 12 and len(page["results"]) == 12 and page["next"] is None


def _default_page_of_exports(response: TestResponse) -> None:
    page = response.get_json()
    assert page["count"] == 12 and len(page["results"]) == 12 and page["previous"] is None


def _two_exports(response: TestResponse) -> None:
    page = response.get_json()
    assert len(page["results"]) == 2 and "limit=2" in page["next"]


def _empty_body(response: TestResponse) -> None:
    assert response.data == b""


def _allow_for_detail(response: TestResponse) -> None:
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def _round_trips(field_name: str, value: str) -> Callable[[TestResponse], None]:
    def check(response: TestResponse) -> None:
        assert response.get_json()[field_name] == value
        assert value.encode() in response.data  # UTF-8, not \\u escapes

    return check


def _warns(escaped: str) -> Callable[[TestResponse], None]:
    """The unknown-field warning travels, ASCII-escaped, in its header: nothing dropped."""

    def check(response: TestResponse) -> None:
        assert escaped in response.headers["X-Mockhog-Warning"]

    return check


def _journal_cuts_deep_nesting(response: TestResponse) -> None:
    entry = response.journal[-1]
    assert entry.status == response.status_code and TOO_DEEP in json.dumps(entry.body)


def _multipart(*parts: tuple[str | None, str]) -> bytes:
    """A multipart body; a part whose name is None has a Content-Disposition without one."""
    lines = []
    for name, value in parts:
        disposition = "form-data" if name is None else f'form-data; name="{name}"'
        lines += ["--x", f"Content-Disposition: {disposition}", "", value]
    return "\r\n".join([*lines, "--x--", ""]).encode()


def _write_an_export(client: Any) -> None:
    assert client.post(f"{P}/exports/", json=EXPORT).status_code == 201


def _add_catastrophic_rule(client: Any) -> None:
    rule = client.post("/_mockhog/faults", json={"path": "(a+)+$", "status": 503})
    assert rule.status_code == 201, rule.get_json()


def _reset_answer(response: TestResponse) -> None:
    assert response.get_json() == {"status": "reset", "seed": 0}


MULTIPART = "multipart/form-data; boundary=x"
PROJECT_NOT_FOUND = {**NOT_FOUND, "detail": "Project not found."}
CROSS_SITE = {"type": "authentication_error", "code": "permission_denied", "attr": None,
              "_detail_start": "The control plane refuses cross-site requests"}  # fmt: skip


CASES: list[Case] = [
    # -- bodies that are not JSON, or not the JSON an object needs ---------
    Case(
        "malformed-json", "POST", f"{P}/exports/", 400, parse_error(), data='{"insight": ', content_type=JSON
    ),
    Case(
        "single-quoted-json",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data="{'insight': 1}",
        content_type=JSON,
    ),
    Case(
        "trailing-garbage",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data='{"insight": 1} x',
        content_type=JSON,
    ),
    Case(
        "json-array",
        "POST",
        f"{P}/exports/",
        400,
        validation("invalid_input", NOT_A_DICT.format("list"), None),
        json_body=[EXPORT],
    ),
    Case(
        "json-integer",
        "POST",
        f"{P}/file_system/",
        400,
        validation("invalid_input", NOT_A_DICT.format("int"), None),
        data="5",
        content_type=JSON,
    ),
    Case(
        "json-string",
        "POST",
        f"{P}/persisted_folder/",
        400,
        validation("invalid_input", NOT_A_DICT.format("str"), None),
        data='"home"',
        content_type=JSON,
    ),
    Case(
        "json-boolean",
        "POST",
        f"{P}/project_secret_api_keys/",
        400,
        validation("invalid_input", NOT_A_DICT.format("bool"), None),
        data="true",
        content_type=JSON,
    ),
    # DRF: a null body reaches Serializer.run_validation(None) -> validate_empty_values -> "null".
    Case(
        "json-null",
        "POST",
        f"{P}/exports/",
        400,
        validation("null", "This field may not be null.", None),
        data="null",
        content_type=JSON,
    ),
    Case(
        "json-array-on-patch",
        "PATCH",
        f"{P}/project_secret_api_keys/{{secret_key_id}}/",
        400,
        validation("invalid_input", NOT_A_DICT.format("list"), None),
        json_body=[{"label": "x"}],
    ),
    Case(
        "empty-json-body",
        "POST",
        f"{P}/exports/",
        400,
        validation("required", "This field is required.", "export_format"),
        data="",
        content_type=JSON,
    ),
    # -- content types ---------
    Case(
        "text-plain",
        "POST",
        f"{P}/exports/",
        415,
        {
            "type": "invalid_request",
            "code": "unsupported_media_type",
            "detail": 'Unsupported media type "text/plain" in request.',
            "attr": None,
        },
        data=json.dumps(EXPORT),
        content_type="text/plain",
    ),
    Case(
        "xml",
        "POST",
        f"{P}/file_system/",
        415,
        {
            "type": "invalid_request",
            "code": "unsupported_media_type",
            "detail": 'Unsupported media type "application/xml" in request.',
            "attr": None,
        },
        data="<path>x</path>",
        content_type="application/xml",
    ),
    Case(
        "unknown-charset",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data=json.dumps(EXPORT),
        content_type="application/json; charset=no-such-charset",
    ),
    Case(
        "form-encoded-create",
        "POST",
        f"{P}/exports/",
        201,
        {"insight": 2, "export_format": "text/csv"},
        data={"insight": "2", "export_format": "text/csv"},
        writes=True,
    ),
    # DRF's ListField.get_value reads a form's list as QueryDict.getlist: one value is a list of one
    Case(
        "form-encoded-list-field",
        "POST",
        f"{P}/project_secret_api_keys/",
        201,
        {"label": "form", "scopes": ["endpoint:read"]},
        data={"label": "form", "scopes": "endpoint:read"},
        writes=True,
    ),
    Case(
        "multipart-create",
        "POST",
        f"{P}/file_system/",
        201,
        {"path": "Hostile/multipart", "depth": 2},
        data={"path": "Hostile/multipart"},
        content_type="multipart/form-data",
        writes=True,
    ),
    # -- sizes and depth ---------
    Case(
        "oversized-body",
        "POST",
        f"{P}/exports/",
        413,
        {"type": "invalid_request", "code": "request_too_large", "attr": None},
        data=b'{"export_format": "text/csv", "export_context": {"path": "' + b"a" * MAX_BODY + b'"}}',
        content_type=JSON,
    ),
    Case(
        "one-mebibyte-body",
        "POST",
        f"{P}/exports/",
        201,
        {"export_format": "text/csv"},
        json_body={"export_format": "text/csv", "export_context": {"path": "b" * 2**20}},
        writes=True,
    ),
    Case(
        "nested-10000-levels",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data=_deep(10_000),
        content_type=JSON,
    ),
    Case(
        "nested-100000-levels",
        "POST",
        f"{P}/file_system/",
        400,
        parse_error(),
        data='{"path": "x", "meta": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}",
        content_type=JSON,
    ),
    # -- encodings and JSON corner cases ---------
    Case(
        "invalid-utf8",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data=b'{"export_format": "text/csv", "export_context": {"path": "\xff\xfe\xc3"}}',
        content_type=JSON,
    ),
    Case(
        "nan",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data='{"insight": NaN, "export_format": "text/csv"}',
        content_type=JSON,
    ),
    Case(
        "infinity",
        "POST",
        f"{P}/exports/",
        400,
        parse_error(),
        data='{"export_format": "text/csv", "export_context": {"x": Infinity}}',
        content_type=JSON,
    ),
    Case(
        "minus-infinity",
        "POST",
        f"{P}/groups/",
        400,
        parse_error(),
        data='{"group_type_index": -Infinity, "group_key": "k"}',
        content_type=JSON,
    ),
    # Python's json (DRF's parser) keeps the last of duplicate keys.
    Case(
        "duplicate-keys-last-wins",
        "POST",
        f"{P}/exports/",
        201,
        {"export_format": "text/csv", "insight": 1},
        data='{"export_format": "image/png", "insight": 1, "export_format": "text/csv"}',
        content_type=JSON,
        writes=True,
    ),
    # A lone surrogate is valid JSON text but cannot be stored or sent back as UTF-8.
    Case(
        "lone-surrogate",
        "POST",
        f"{P}/file_system/",
        400,
        None,  # parse_error or a validation error on path: any clear 400
        data='{"path": "Hostile/\\ud800"}',
        content_type=JSON,
    ),
    # DRF's CharField refuses NUL characters (ProhibitNullCharactersValidator).
    Case(
        "nul-character",
        "POST",
        f"{P}/file_system/",
        400,
        validation("null_characters_not_allowed", "Null characters are not allowed.", "path"),
        json_body={"path": "Hostile/a\u0000b"},
    ),
    # -- strings ---------
    Case(
        "unicode-and-emoji-path",
        "POST",
        f"{P}/file_system/",
        201,
        {"depth": 2},
        json_body={"path": "Hôstile/ünïcødé 🦔 日本語"},
        writes=True,
        check=_round_trips("path", "Hôstile/ünïcødé 🦔 日本語"),
    ),
    Case(
        "emoji-label",
        "POST",
        f"{P}/project_secret_api_keys/",
        201,
        {"scopes": ["endpoint:read"]},
        json_body={"label": "🦔 clé", "scopes": ["endpoint:read"]},
        writes=True,
        check=_round_trips("label", "🦔 clé"),
    ),
    Case(
        "empty-path",
        "POST",
        f"{P}/file_system/",
        400,
        validation("blank", "This field may not be blank.", "path"),
        json_body={"path": ""},
    ),
    Case(
        "blank-path",
        "POST",
        f"{P}/file_system/",
        400,
        validation("blank", "This field may not be blank.", "path"),
        json_body={"path": "   "},
    ),
    Case(
        "empty-label",
        "POST",
        f"{P}/project_secret_api_keys/",
        400,
        validation("blank", "This field may not be blank.", "label"),
        json_body={"label": "", "scopes": []},
    ),
    Case(
        "empty-group-key",
        "POST",
        f"{P}/groups/",
        400,
        validation("blank", "This field may not be blank.", "group_key"),
        json_body={"group_type_index": 0, "group_key": ""},
    ),
    Case(
        "empty-choice",
        "POST",
        f"{P}/persisted_folder/",
        400,
        validation("invalid_choice", '"" is not a valid choice.', "type"),
        json_body={"type": ""},
    ),
    Case(
        "label-too-long",
        "POST",
        f"{P}/project_secret_api_keys/",
        400,
        validation("max_length", "Ensure this field has no more than 40 characters.", "label"),
        json_body={"label": "x" * 41, "scopes": ["endpoint:read"]},
    ),
    Case(
        "wrong-type-list-as-object",
        "POST",
        f"{P}/project_secret_api_keys/",
        400,
        validation("not_a_list", 'Expected a list of items but got type "dict".', "scopes"),
        json_body={"label": "x", "scopes": {"endpoint:read": True}},
    ),
    Case(
        "huge-group-type-index",
        "POST",
        f"{P}/groups/",
        400,
        validation("max_value", "Ensure this value is less than or equal to 2147483647.", "group_type_index"),
        json_body={"group_type_index": 10**30, "group_key": "k"},
    ),
    # -- what an HTTP header cannot carry: the warning is escaped, the write and its journal kept ---------
    Case(
        "non-latin1-unknown-field",
        "POST",
        f"{P}/exports/",
        201,
        {"export_format": "image/png", "insight": 1},
        json_body={"export_format": "image/png", "insight": 1, "ü€": 1},
        writes=True,
        check=_warns("\\xfc\\u20ac"),
    ),
    Case(
        "newline-in-field-name",
        "POST",
        f"{P}/file_system/",
        201,
        {"path": "S/B", "type": "folder"},
        json_body={"path": "S/B", "type": "folder", "x\ny": 1},
        writes=True,
        check=_warns("x\\ny"),
    ),
    Case(
        "crlf-in-field-name",
        "POST",
        f"{P}/file_system/",
        201,
        {"path": "S/C"},
        json_body={"path": "S/C", "type": "folder", "x\r\nSet-Cookie: a=b": 1},
        writes=True,
        check=_warns("x\\r\\nSet-Cookie: a=b"),
    ),
    # -- deep nesting that JSON parses: stored, answered, and journalled with the depth cut ---------
    Case(
        "nested-495-levels",
        "POST",
        f"{P}/exports/",
        201,
        {"export_format": "text/csv"},
        data=_deep(495),
        content_type=JSON,
        writes=True,
        check=_journal_cuts_deep_nesting,
    ),
    Case(
        "nested-700-levels",
        "POST",
        f"{P}/exports/",
        201,
        {"export_format": "text/csv"},
        data=_deep(700),
        content_type=JSON,
        writes=True,
        check=_journal_cuts_deep_nesting,
    ),
    # -- multipart parts without a name: Django's parser skips them ---------
    Case(
        "multipart-part-without-name",
        "POST",
        f"{P}/file_system/",
        400,
        validation("required", "This field is required.", "path"),
        data=_multipart((None, "Hostile/nameless")),
        content_type=MULTIPART,
    ),
    Case(
        "multipart-nameless-part-beside-named",
        "POST",
        f"{P}/file_system/",
        201,
        {"path": "Hostile/named"},
        data=_multipart((None, "ignored"), ("path", "Hostile/named")),
        content_type=MULTIPART,
        writes=True,
    ),
    # -- ids in Unicode digits: only ASCII digits are an integer ---------
    Case("superscript-project-id", "GET", "/api/projects/%C2%B9/exports/", 404, PROJECT_NOT_FOUND),
    Case("superscript-id", "GET", f"{P}/exports/%C2%B2/", 404, NOT_FOUND),
    Case(
        "arabic-indic-project-id-list", "GET", "/api/projects/%D9%A1/exports/?limit=1", 404, PROJECT_NOT_FOUND
    ),
    Case("arabic-indic-id", "GET", f"{P}/exports/%D9%A1/", 404, NOT_FOUND),
    Case("fullwidth-id-delete", "DELETE", f"{P}/file_system/%EF%BC%91/", 404, NOT_FOUND),
    Case("space-padded-project-id", "GET", "/api/projects/%201/exports/", 404, PROJECT_NOT_FOUND),
    Case("underscore-in-id", "GET", f"{P}/exports/1_0/", 404, NOT_FOUND),
    # -- fault rules are checked when they are made ---------
    Case(
        "fault-latency-null",
        "POST",
        "/_mockhog/faults",
        400,
        validation("null", "This field may not be null.", "latency_ms"),
        json_body={"latency_ms": None, "status": 500},
    ),
    Case(
        "fault-latency-1e300",
        "POST",
        "/_mockhog/faults",
        400,
        validation("max_value", "Ensure this value is less than or equal to 3600000.", "latency_ms"),
        json_body={"latency_ms": 1e300},
    ),
    Case(
        "fault-latency-infinity",
        "POST",
        "/_mockhog/faults",
        400,
        parse_error(),
        data='{"latency_ms": Infinity}',
        content_type=JSON,
    ),
    Case(
        "fault-negative-jitter",
        "POST",
        "/_mockhog/faults",
        400,
        validation("min_value", "Ensure this value is greater than or equal to 0.", "jitter_ms"),
        json_body={"latency_ms": 10, "jitter_ms": -5},
    ),
    Case(
        "fault-status-100",
        "POST",
        "/_mockhog/faults",
        400,
        validation("min_value", "Ensure this value is greater than or equal to 200.", "status"),
        json_body={"status": 100},
    ),
    Case(
        "fault-status-600",
        "POST",
        "/_mockhog/faults",
        400,
        validation("max_value", "Ensure this value is less than or equal to 599.", "status"),
        json_body={"status": 600},
    ),
    Case(
        "fault-status-null-alone",
        "POST",
        "/_mockhog/faults",
        400,
        validation("invalid_input", "A rule needs 'status', 'latency_ms' or 'drop'.", None),
        json_body={"status": None},
    ),
    Case(
        "fault-status-float",
        "POST",
        "/_mockhog/faults",
        400,
        validation("invalid_input", "A valid integer is required.", "status"),
        json_body={"status": 500.5},
    ),
    Case(
        "fault-probability-null",
        "POST",
        "/_mockhog/faults",
        400,
        validation("null", "This field may not be null.", "probability"),
        json_body={"status": 500, "probability": None},
    ),
    Case(
        "fault-probability-above-one",
        "POST",
        "/_mockhog/faults",
        400,
        validation("max_value", "Ensure this value is less than or equal to 1.", "probability"),
        json_body={"status": 500, "probability": 1.5},
    ),
    Case(
        "fault-drop-string",
        "POST",
        "/_mockhog/faults",
        400,
        validation("invalid_input", "Must be a valid boolean.", "drop"),
        json_body={"drop": "yes"},
    ),
    Case(
        "fault-header-list",
        "POST",
        "/_mockhog/faults",
        400,
        validation("invalid_input", 'Expected a dictionary of items but got type "list".', "header"),
        json_body={"status": 500, "header": ["X-Test"]},
    ),
    Case(
        "fault-backreference-path",
        "POST",
        "/_mockhog/faults",
        400,
        {"type": "validation_error", "code": "invalid_input", "attr": "path"},
        json_body={"path": "(a)\\1", "status": 500},
    ),
    Case(
        "fault-rule-list",
        "POST",
        "/_mockhog/faults",
        400,
        validation("invalid_input", NOT_A_DICT.format("list"), None),
        json_body=[{"status": 500}],
    ),
    # A pattern that makes a backtracking engine take minutes: RE2 answers at once.
    Case(
        "catastrophic-fault-pattern",
        "GET",
        f"{P}/exports/{'a' * 26}!/",
        404,
        NOT_FOUND,
        setup=_add_catastrophic_rule,
    ),
    # -- live fixtures of the wrong shape ---------
    Case(
        "fixtures-records-list",
        "POST",
        "/_mockhog/fixtures",
        400,
        validation("invalid_input", "Expected an object of projects, but got list.", "records"),
        json_body={"records": []},
    ),
    Case(
        "fixtures-table-not-list",
        "POST",
        "/_mockhog/fixtures",
        400,
        validation("invalid_input", "Expected a list of records, but got dict.", "records__1__insights"),
        json_body={"records": {"1": {"insights": {"id": 1}}}},
    ),
    Case(
        "fixtures-record-not-object",
        "POST",
        "/_mockhog/fixtures",
        400,
        validation("invalid_input", "Expected a record object, but got int.", "records__1__insights__0"),
        json_body={"records": {"1": {"insights": [1]}}},
    ),
    Case(
        "fixtures-keys-not-list",
        "POST",
        "/_mockhog/fixtures",
        400,
        validation("invalid_input", "Expected a list of keys, but got str.", "personal_api_keys"),
        json_body={"personal_api_keys": "phx_x"},
    ),
    Case(
        "admin-token-non-ascii",
        "POST",
        "/_mockhog/reset",
        403,
        {"type": "authentication_error", "code": "permission_denied", "attr": None},
        json_body={},
        headers={"X-Mockhog-Admin-Token": "tökén€"},
        admin_token="s3cret",
        setup=_write_an_export,
    ),
    # -- what a web page on another site could send the control plane ---------
    Case(
        "cross-site-text-plain-reset",
        "POST",
        "/_mockhog/reset",
        403,
        CROSS_SITE,
        data="",
        content_type="text/plain",
        headers={"Origin": "http://evil.example"},
        setup=_write_an_export,
    ),
    Case(
        "cross-site-json-reset",
        "POST",
        "/_mockhog/reset",
        403,
        CROSS_SITE,
        json_body={},
        headers={"Origin": "https://evil.example"},
        setup=_write_an_export,
    ),
    Case(
        "null-origin-reset",
        "POST",
        "/_mockhog/reset",
        403,
        CROSS_SITE,
        json_body={},
        headers={"Origin": "null"},
        setup=_write_an_export,
    ),
    Case(
        "localhost-lookalike-origin",
        "DELETE",
        "/_mockhog/faults",
        403,
        CROSS_SITE,
        headers={"Origin": "http://localhost.evil.example"},
        setup=_add_catastrophic_rule,
    ),
    Case(
        "fetch-metadata-cross-site",
        "POST",
        "/_mockhog/reset",
        403,
        CROSS_SITE,
        json_body={},
        headers={"Sec-Fetch-Site": "cross-site"},
        setup=_write_an_export,
    ),
    Case(
        "loopback-page-on-another-port",
        "POST",
        "/_mockhog/reset",
        200,
        json_body={},
        headers={"Origin": "http://localhost:3000", "Sec-Fetch-Site": "cross-site"},
        setup=_write_an_export,
        writes=True,
        check=_reset_answer,
    ),
    Case(
        "cross-site-journal-read",
        "GET",
        "/_mockhog/journal",
        403,
        CROSS_SITE,
        headers={"Origin": "http://evil.example"},
    ),
    # -- control-plane integers: str.isdigit() takes "²" and "١", int() or the filter would not ---------
    *[
        Case(
            f"journal-{name}-{label}",
            "GET",
            f"/_mockhog/journal{suffix}?{name}={value}",
            400,
            validation("invalid_input", "A valid integer is required.", name),
        )
        for name, suffix in (("status", ""), ("since", ""), ("limit", ""), ("status", "/count"))
        for label, value in (("superscript-two", "%C2%B2"), ("arabic-digit", "%D9%A1"), ("word", "abc"))
    ],
    Case(
        "text-plain-body-reset",
        "POST",
        "/_mockhog/reset",
        415,
        {"type": "invalid_request", "code": "unsupported_media_type"},
        data="{}",
        content_type="text/plain",
        setup=_write_an_export,
    ),
    Case(
        "form-fault-rule",
        "POST",
        "/_mockhog/faults",
        415,
        {"type": "invalid_request", "code": "unsupported_media_type"},
        data={"status": "500"},
    ),
    Case(
        "loopback-origin-reset",
        "POST",
        "/_mockhog/reset",
        200,
        json_body={},
        headers={"Origin": "http://127.0.0.1:8010"},
        setup=_write_an_export,
        writes=True,
        check=_reset_answer,
    ),
    Case(
        "localhost-origin-reset",
        "POST",
        "/_mockhog/reset",
        200,
        headers={"Origin": "http://localhost:3000"},
        setup=_write_an_export,
        writes=True,
        check=_reset_answer,
    ),
    # -- limit and offset (DRF falls back to its defaults) ---------
    Case("huge-limit", "GET", f"{P}/exports/?limit={10**30}", 200, check=_all_twelve_exports),
    Case(
        "negative-limit-and-offset",
        "GET",
        f"{P}/exports/?limit=-5&offset=-7",
        200,
        check=_default_page_of_exports,
    ),
    Case(
        "non-numeric-limit-and-offset",
        "GET",
        f"{P}/exports/?limit=ten&offset=1e3",
        200,
        check=_default_page_of_exports,
    ),
    Case("huge-offset", "GET", f"{P}/exports/?offset={10**30}", 200, {"count": 12, "results": []}),
    # -- ids ---------
    Case("non-numeric-id", "GET", f"{P}/exports/abc/", 404, NOT_FOUND),
    Case("oversized-id", "GET", f"{P}/exports/{'9' * 40}/", 404, NOT_FOUND),
    Case("negative-id", "GET", f"{P}/exports/-1/", 404, NOT_FOUND),
    Case("non-uuid-id", "PATCH", f"{P}/file_system/not-a-uuid/", 404, NOT_FOUND, json_body={"path": "x"}),
    Case("oversized-string-id", "DELETE", f"{P}/project_secret_api_keys/{'k' * 5000}/", 404, NOT_FOUND),
    Case("path-traversal-id", "GET", f"{P}/file_system/..%2F..%2Fetc/", 404, ENDPOINT_NOT_FOUND),
    Case(
        "path-traversal-encoded-dots", "DELETE", f"{P}/persisted_folder/%2e%2e%2f%2e%2e%2fetc%2fpasswd/", 404
    ),
    Case("path-traversal-project", "GET", "/api/projects/..%2F..%2F1/exports/", 404),
    # -- query strings ---------
    Case(
        "extra-query-parameters",
        "GET",
        f"{P}/exports/?colour=blue&__proto__=x&limit=100",
        200,
        check=_all_twelve_exports,
    ),
    Case(
        "repeated-query-parameter-last-wins", "GET", f"{P}/exports/?limit=7&limit=2", 200, check=_two_exports
    ),
    Case(
        "extra-query-on-create",
        "POST",
        f"{P}/exports/?debug=1&export_format=image/png",
        201,
        {"export_format": "text/csv"},
        json_body=EXPORT,
        writes=True,
    ),
    # -- methods ---------
    Case("head-list", "HEAD", f"{P}/exports/", 200, check=_empty_body),
    Case("head-unknown-id", "HEAD", f"{P}/exports/9999/", 404, check=_empty_body),
    Case(
        "options-detail",
        "OPTIONS",
        f"{P}/exports/1/",
        200,
        {"renders": [JSON], "parses": [JSON]},
        check=_allow_for_detail,
    ),
    Case("options-unknown-path", "OPTIONS", f"{P}/nothing/", 404, ENDPOINT_NOT_FOUND),
    Case(
        "trace",
        "TRACE",
        f"{P}/exports/",
        405,
        {"type": "invalid_request", "code": "method_not_allowed", "detail": 'Method "TRACE" not allowed.'},
    ),
    Case(
        "delete-on-list",
        "DELETE",
        f"{P}/file_system/",
        405,
        {"type": "invalid_request", "code": "method_not_allowed", "detail": 'Method "DELETE" not allowed.'},
    ),
]


# -- null for every non-nullable field of a create body, from the request schemas ---------------------------
VALID_CREATE = {
    "file_system": {"path": "Hostile/null", "type": "folder", "ref": "r", "href": "/h", "shortcut": False},
    "persisted_folder": {"type": "custom_products", "protocol": "products://", "path": "p"},
    "project_secret_api_keys": {"label": "null-test", "scopes": ["endpoint:read"]},
    "groups": {"group_type_index": 0, "group_key": "null-test", "group_properties": {}},
    "exports": {"insight": 1, "export_format": "text/csv", "export_context": {"path": "/p"}},
}
CREATE_REQUEST = {
    "file_system": "FileSystemRequest",
    "persisted_folder": "PersistedFolderRequest",
    "project_secret_api_keys": "ProjectSecretAPIKeyRequest",
    "groups": "GroupRequest",
    "exports": "ExportedAssetRequest",
}


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target, _, name = node["$ref"].partition("#/$defs/")
        source = json.loads((SCHEMAS / target).read_text()) if target else document
        node = {**source["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _accepts_null(prop: dict[str, Any]) -> bool:
    if "enum" in prop:
        return None in prop["enum"]
    declared = prop.get("type")
    if declared is None:
        return True  # an untyped (any) field such as meta or export_context
    return "null" in ([declared] if isinstance(declared, str) else declared)


def _null_cases() -> list[Case]:
    cases = []
    for resource, request_name in CREATE_REQUEST.items():
        document = json.loads((SCHEMAS / f"{resource}.json").read_text())
        properties = document["$defs"][request_name]["properties"]
        for name, prop in properties.items():
            if prop.get("readOnly") or _accepts_null(_resolve(document, prop)):
                continue
            body = {**VALID_CREATE[resource], name: None}
            cases.append(
                Case(
                    f"null-{resource}-{name}",
                    "POST",
                    f"{P}/{resource}/",
                    400,
                    validation("null", "This field may not be null.", name),
                    json_body=body,
                )
            )
    return cases


NULL_CASES = _null_cases()


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 25
    assert len(NULL_CASES) >= 8  # path, type, label, scopes, group_type_index, group_key, export_format...


def _send(client: Any, case: Case, secret_key_id: str) -> TestResponse:
    kwargs: dict[str, Any] = {"method": case.method, "headers": case.headers}
    if case.json_body is not None:
        kwargs["json"] = case.json_body
    if case.data is not None:
        kwargs["data"] = case.data
    if case.content_type is not None:
        kwargs["content_type"] = case.content_type
    return client.open(case.path.format(secret_key_id=secret_key_id), **kwargs)


_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _check_answer(case: Case, response: TestResponse) -> None:
    assert response.status_code < 500, response.data[:500]
    assert response.status_code == case.status, response.data[:500]
    for name, value in response.headers.items():
        assert _PRINTABLE_ASCII.fullmatch(value), f"{name}: {value!r} cannot travel in a header"
    if case.path.startswith("/api/"):
        assert response.journal and response.journal[-1].status == response.status_code
    if case.method != "HEAD" and (case.status >= 400 or case.body is not None):
        answer = response.get_json()
        assert isinstance(answer, dict), response.data[:500]
        if case.status >= 400 and case.body is not None and "type" in case.body:
            # PostHog's envelope, with a message a person can act on.
            assert set(answer) == ENVELOPE_KEYS, answer
        if case.status >= 400:
            assert isinstance(answer.get("detail"), str) and answer["detail"].strip(), answer
        expected = dict(case.body or {})
        detail_start = expected.pop("_detail_start", None)
        assert {key: answer.get(key) for key in expected} == expected
        if detail_start is not None:
            assert answer["detail"].startswith(detail_start), answer["detail"]
    if case.check is not None:
        case.check(response)


def _state(backend: Any) -> bytes:
    """The store and the fault rules, as bytes: a refused request must leave them identical."""
    rules = [rule.to_json() for rule in backend.faults.rules]
    return orjson.dumps([backend.store.dump(), rules], option=orjson.OPT_NON_STR_KEYS)


def _client_for(case: Case, client: Any, backend: Any) -> Any:
    if case.admin_token is None:
        return client
    guarded = create_app(backend=backend, admin_token=case.admin_token).test_client()
    guarded.environ_base.update(client.environ_base)
    return guarded


@pytest.mark.parametrize("case", CASES + NULL_CASES, ids=lambda case: case.id)
def test_hostile_request(client: Any, backend: Any, case: Case) -> None:
    secret_key_id = backend.store.dump(1)[1]["project_secret_api_keys"][0]["id"]
    if case.setup is not None:
        case.setup(client)
    before = _state(backend)
    response = _send(_client_for(case, client, backend), case, secret_key_id)
    response.journal = backend.journal.entries()
    unchanged = case.writes or _state(backend) == before
    try:
        _check_answer(case, response)
    finally:
        assert unchanged, (
            f"answered {response.status_code}, and a request that must not write changed the store"
        )


def test_a_rejected_folder_delete_restores_the_tree_exactly(client: Any, backend: Any) -> None:
    """Deleting a folder whose content PostHog cannot delete is a 400 that changes nothing, not even the
    order of the rows (the delete removed the first child before it met the undeletable one)."""
    for path, kind in (("Hostile/a", "folder"), ("Hostile/b", "widget")):
        assert client.post(f"{P}/file_system/", json={"path": path, "type": kind}).status_code == 201
    folder = next(row for row in backend.store.dump(1)[1]["file_system"] if row["path"] == "Hostile")
    before = backend.store.dump()
    response = client.delete(f"{P}/file_system/{folder['id']}/")
    assert response.status_code == 400
    assert response.get_json() == validation(
        "invalid_input", "Cannot delete resources with type 'widget'.", "detail"
    )
    assert backend.store.dump() == before


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.writes and case.path.startswith("/api/")],
    ids=lambda case: case.id,
)
def test_writing_cases_leave_everything_else_alone(client: Any, backend: Any, case: Case) -> None:
    """A legitimate write changes only its own table: every other table is unchanged."""
    secret_key_id = backend.store.dump(1)[1]["project_secret_api_keys"][0]["id"]
    before = backend.store.dump(1)[1]
    response = _send(client, case, secret_key_id)
    assert response.status_code == case.status
    table = case.path.split("/")[4]
    after = backend.store.dump(1)[1]
    assert {k: v for k, v in after.items() if k != table} == {k: v for k, v in before.items() if k != table}
