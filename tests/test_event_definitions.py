"""Event definitions: list filters and order, PATCH/PUT rules, delete, by_name, metrics, code generators."""

import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
import types
from typing import TypedDict

import pytest
from seeded import USER

BASE = "/api/projects/1/event_definitions/"
ENV_BASE = "/api/environments/1/event_definitions/"
ALWAYS = [
    "id", "name", "owner", "description", "tags", "created_at", "updated_at", "updated_by", "last_seen_at",
    "verified", "verified_at", "verified_by", "hidden", "enforcement_mode", "is_action", "post_to_slack",
    "default_columns", "media_preview_urls", "primary_property",
]  # fmt: skip


def _all(client, query=""):
    return client.get(f"{BASE}?limit=500{query}").get_json()["results"]


def _by_name(client, name):
    return client.get(f"{BASE}by_name/?name={name}").get_json()


def _verified_custom(client):
    return next(d for d in _all(client) if d["verified"] and not d["name"].startswith("$"))


def test_list_has_every_seeded_event_in_posthog_order(client):
    page = client.get(BASE).get_json()
    assert page["count"] == 22 and page["next"] is None and page["previous"] is None
    names = [d["name"] for d in page["results"]]
    assert {"$pageview", "$exception", "signed_up", "search_performed"} <= set(names)
    assert all(list(d) == ALWAYS for d in page["results"])
    # -last_seen_at::date (nulls last), then name
    keys = [((d["last_seen_at"] or "")[:10], d["name"]) for d in page["results"]]
    assert keys == sorted(keys, key=lambda k: (-int(k[0].replace("-", "") or 0), k[1]))
    assert page["results"][0]["is_action"] is False and page["results"][0]["post_to_slack"] is False


def test_limit_offset_pages_are_disjoint(client):
    seen, url = [], f"{BASE}?limit=5"
    while url:
        page = client.get(url).get_json()
        seen += [d["id"] for d in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 22
    assert [d["id"] for d in _all(client)] == seen


def test_search_matches_every_term_and_puts_short_names_first(client):
    assert [d["name"] for d in _all(client, "&search=file")] == ["file_shared", "file_uploaded"]
    assert [d["name"] for d in _all(client, "&search=FILE%20up")] == ["file_uploaded"]
    names = [d["name"] for d in _all(client, "&search=page")]
    assert names == ["$pageview", "$pageleave"]  # shortest name first when searching
    assert _all(client, "&search=nothing-like-this") == []


def test_event_type_names_tags_verified_hidden_filters(client):
    custom = _all(client, "&event_type=event_custom")
    posthog = _all(client, "&event_type=event_posthog")
    assert len(custom) == 12 and not any(d["name"].startswith("$") for d in custom)
    assert len(posthog) == 10 and all(d["name"].startswith("$") for d in posthog)
    picked = _all(client, "&names=signed_up,file_shared&names=$pageview")
    assert sorted(d["name"] for d in picked) == ["$pageview", "file_shared", "signed_up"]
    tagged = next(d for d in custom if d["tags"])
    with_tag = _all(client, f"&tags=%5B%22{tagged['tags'][0]}%22%5D")
    assert tagged["name"] in {d["name"] for d in with_tag}
    assert all(tagged["tags"][0] in d["tags"] for d in with_tag)
    # every seeded "$" event is a core (taxonomy) event, and those count as verified
    verified = {d["name"] for d in _all(client, "&verified=true")}
    unverified = {d["name"] for d in _all(client, "&verified=false")}
    assert verified == {d["name"] for d in _all(client) if d["verified"] or d["name"].startswith("$")}
    assert unverified == {d["name"] for d in _all(client)} - verified and unverified
    hidden = [d for d in _all(client) if d["hidden"]]
    assert hidden, "the seed hides a few definitions"
    visible = _all(client, "&exclude_hidden=true")
    assert len(visible) == 22 - len(hidden) and not any(d["hidden"] for d in visible)
    excluded = _all(client, "&excluded_properties=%5B%22signed_up%22%5D")
    assert "signed_up" not in {d["name"] for d in excluded} and len(excluded) == 21


def test_exclude_stale_and_explicit_ordering(client):
    fresh = _all(client, "&exclude_stale=true")
    assert 0 < len(fresh) < 22
    assert all(d["last_seen_at"] >= "2025-05-03" for d in fresh)
    by_name = [d["name"] for d in _all(client, "&ordering=name")]
    assert by_name == sorted(by_name)
    newest_created = [d["created_at"] for d in _all(client, "&ordering=-created_at")]
    assert newest_created == sorted(newest_created, reverse=True)


def test_invalid_event_type_is_a_validation_error(client):
    response = client.get(f"{BASE}?event_type=actions")
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Not a valid event type. Use one of: event, event_custom, event_posthog.",
        "attr": "event_type",
    }


def test_retrieve_and_by_name_give_the_same_definition(client):
    listed = _all(client)[3]
    assert client.get(f"{BASE}{listed['id']}/").get_json() == listed
    assert _by_name(client, listed["name"]) == listed
    assert client.get(f"{BASE}by_name/?name=%24pageview").get_json()["name"] == "$pageview"


@pytest.mark.parametrize(
    "query, status, body",
    [
        ("", 400, {"detail": "Query parameter 'name' is required"}),
        ("?name=", 400, {"detail": "Query parameter 'name' is required"}),
        ("?name=Signed_Up", 404, {"detail": "Event definition with name 'Signed_Up' not found"}),
    ],
)
def test_by_name_errors_are_bare_details(client, query, status, body):
    response = client.get(f"{BASE}by_name/{query}")
    assert response.status_code == status and response.get_json() == body


def test_unknown_or_malformed_ids_are_404(client):
    unknown = client.get(f"{BASE}00000000-0000-4000-8000-000000000000/")
    assert unknown.status_code == 404 and unknown.get_json()["detail"] == "Not found."
    malformed = client.get(f"{BASE}undefined/")
    assert malformed.status_code == 404
    assert malformed.get_json() == {
        "type": "invalid_request", "code": "not_found", "detail": "Event definition not found.", "attr": None,
    }  # fmt: skip


def test_patch_updates_and_stamps_the_editor(client):
    target = next(d for d in _all(client) if d["updated_by"] is None and d["owner"] is None)
    response = client.patch(
        f"{BASE}{target['id']}/",
        json={"description": "Clicks and form submits", "owner": 1, "tags": [" Core ", "core", "Web"],
              "default_columns": ["event", "person"], "name": "renamed", "post_to_slack": True},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == target["name"]  # name is read-only on update
    assert body["description"] == "Clicks and form submits" and body["owner"] == USER
    assert body["tags"] == ["core", "web"] and body["default_columns"] == ["event", "person"]
    assert body["updated_by"] == USER and body["updated_at"] > target["updated_at"]
    assert body["post_to_slack"] is True  # echoed, not stored
    again = client.get(f"{BASE}{target['id']}/").get_json()
    assert again == {**body, "post_to_slack": False}
    assert client.patch(f"{BASE}{target['id']}/", json={"owner": None}).get_json()["owner"] is None


def test_verify_unverify_and_hide(client):
    target = _by_name(client, "$identify")
    url = f"{BASE}{target['id']}/"
    verified = client.patch(url, json={"verified": True}).get_json()
    assert verified["verified"] is True and verified["verified_by"] == USER and verified["verified_at"]
    assert verified["hidden"] is False
    again = client.patch(url, json={"verified": True}).get_json()
    assert again["verified_at"] == verified["verified_at"]  # re-verifying changes nothing
    hidden = client.patch(url, json={"hidden": True}).get_json()
    assert hidden["hidden"] is True and hidden["verified"] is False
    assert hidden["verified_by"] is None and hidden["verified_at"] is None
    shown = client.patch(url, json={"verified": True}).get_json()
    assert shown["hidden"] is False and shown["verified"] is True
    unverified = client.patch(url, json={"verified": False}).get_json()
    assert unverified["verified"] is False and unverified["verified_by"] is None


def test_put_on_the_environments_path(client):
    target = _verified_custom(client)
    body = {"description": "Put", "enforcement_mode": "reject"}
    response = client.put(f"{ENV_BASE}{target['id']}/", json=body)
    assert response.status_code == 200 and response.headers["Deprecation"] == "true"
    body = response.get_json()
    assert body["description"] == "Put" and body["enforcement_mode"] == "reject"
    assert body["verified_at"] == target["verified_at"] and body["tags"] == target["tags"]
    assert client.get(f"{BASE}{target['id']}/").get_json() == body


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({"hidden": True, "verified": True}, "invalid_input", None,
         "An event cannot be both hidden and verified"),
        ({"owner": 99, "hidden": True, "verified": True}, "does_not_exist", "owner",
         'Invalid pk "99" - object does not exist.'),
        ({"enforcement_mode": "block"}, "invalid_choice", "enforcement_mode",
         '"block" is not a valid choice.'),
        ({"verified": "maybe"}, "invalid_input", "verified", "Must be a valid boolean."),
        ({"tags": "core"}, "not_a_list", "tags", 'Expected a list of items but got type "str".'),
    ],
)  # fmt: skip
def test_update_errors_change_nothing(client, backend, body, code, attr, detail):
    target = _by_name(client, "signed_up")
    before = backend.store.dump()
    response = client.patch(f"{BASE}{target['id']}/", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"type": "validation_error", "code": code, "detail": detail, "attr": attr}
    assert backend.store.dump() == before


def test_delete_is_hard(client):
    target = _by_name(client, "invite_sent")
    assert client.delete(f"{BASE}{target['id']}/").status_code == 204
    assert client.get(f"{BASE}{target['id']}/").status_code == 404
    assert client.get(f"{BASE}by_name/?name=invite_sent").status_code == 404
    assert client.get(BASE).get_json()["count"] == 21
    assert client.delete(f"{BASE}{target['id']}/").status_code == 404


def test_create_makes_a_definition_no_event_has_reached_yet(client):
    """POST event_definitions/ (PostHog's CLI event-definition-create): EventDefinitionViewSet takes
    CreateModelMixin, and EnterpriseEventDefinitionSerializer makes name writable on POST and
    leaves created_at and last_seen_at null until ingestion sees the event
    (posthog/api/event_definition.py, ee/api/ee_event_definition.py)."""
    response = client.post(BASE, json={"name": " user_signed_up ", "description": "Signup", "verified": True})
    assert response.status_code == 201
    made = response.get_json()
    assert list(made) == ALWAYS
    assert made == {
        "id": made["id"], "name": "user_signed_up", "owner": None, "description": "Signup", "tags": [],
        "created_at": None, "updated_at": made["updated_at"], "updated_by": USER, "last_seen_at": None,
        "verified": True, "verified_at": made["updated_at"], "verified_by": USER, "hidden": False,
        "enforcement_mode": "allow", "is_action": False, "post_to_slack": False, "default_columns": [],
        "media_preview_urls": [], "primary_property": None,
    }  # fmt: skip
    assert client.get(f"{BASE}{made['id']}/").get_json() == made
    assert _by_name(client, "user_signed_up")["id"] == made["id"]
    assert client.get(BASE).get_json()["count"] == 23


def test_create_hidden_is_never_verified(client):
    """ee/api/ee_event_definition.py (create): a hidden definition is stored unverified, and
    hidden with verified together is refused."""
    made = client.post(BASE, json={"name": "old_event", "hidden": True}).get_json()
    assert made["hidden"] is True and made["verified"] is False and made["verified_by"] is None
    response = client.post(BASE, json={"name": "both", "hidden": True, "verified": True})
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "validation_error", "code": "invalid_input", "attr": None,
        "detail": "An event cannot be both hidden and verified",
    }  # fmt: skip
    # the published body says so (1 is true to DRF's BooleanField)
    assert client.post(BASE, json={"name": "both", "hidden": 1, "verified": True}).status_code == 400
    published = client.get("/api/schema/").get_json()["components"]["schemas"]["EventDefinitionCreate"]
    assert published["not"]["properties"]["hidden"] == {"enum": [True, 1]}


@pytest.mark.parametrize(
    "body, code, attr, detail",
    [
        ({}, "required", "name", "This field is required."),
        ({"name": "  "}, "blank", "name", "This field may not be blank."),
        ({"name": "x" * 401}, "max_length", "name", "Ensure this field has no more than 400 characters."),
        (
            {"name": "signed_up"},
            "invalid_input",
            "name",
            "Event definition with name 'signed_up' already exists",
        ),
    ],
)
def test_create_refusals(refused, body, code, attr, detail):
    """The model's name is a required CharField(max_length=400), unique per project
    (posthog/models/event_definition.py); the duplicate message is the one
    posthog/api/event_definition.py's serializer gives (the enterprise path would hit the index)."""
    refused("post", BASE, body, code, attr, detail)


def test_metrics_are_a_stable_count(client):
    target = _by_name(client, "file_shared")
    first = client.get(f"{BASE}{target['id']}/metrics/").get_json()
    assert list(first) == ["query_usage_30_day"] and isinstance(first["query_usage_30_day"], int)
    assert client.get(f"{BASE}{target['id']}/metrics").get_json() == first
    counts = {client.get(f"{BASE}{d['id']}/metrics/").get_json()["query_usage_30_day"] for d in _all(client)}
    assert len(counts) > 5  # per definition, not one constant
    assert client.get(f"{BASE}00000000-0000-4000-8000-000000000000/metrics/").status_code == 404


# -- code generators --------------------------------------------------------------------------
GENERATED_EVENTS = sorted(
    ["$pageview", "$pageleave", "$screen", "signed_up", "file_uploaded", "file_shared", "folder_created",
     "plan_upgraded", "plan_downgraded", "invite_sent", "invite_accepted", "download_started",
     "payment_failed", "onboarding_completed", "search_performed"]
)  # fmt: skip


def _generated(client, language):
    response = client.get(f"{BASE}{language}/")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["content", "event_count", "schema_hash", "generator_version"]
    assert body["event_count"] == len(GENERATED_EVENTS) and body["generator_version"] == "1.0.0"
    assert re.fullmatch(r"[0-9a-f]{32}", body["schema_hash"])
    return body


LANGUAGES = [("typescript", "TypeScript"), ("python", "Python"), ("golang", "Go")]


@pytest.mark.parametrize("language, name", LANGUAGES)
def test_schema_hash_is_posthogs(client, backend, language, name):
    rows = backend.store.table(1, "event_definitions").values()
    schemas = sorted(
        [row["name"], sorted([p["name"], p["type"], p["required"]] for p in row["_properties"])]
        for row in rows
        if row["name"] in GENERATED_EVENTS
    )
    payload = json.dumps({"language": name, "version": "1.0.0", "schemas": schemas}, sort_keys=True,
                         separators=(",", ":"))  # fmt: skip
    expected = hashlib.sha256(payload.encode()).hexdigest()[:32]
    assert _generated(client, language)["schema_hash"] == expected
    client.delete(f"{BASE}{_by_name(client, 'signed_up')['id']}/")
    after = client.get(f"{BASE}{language}/").get_json()
    assert after["event_count"] == len(GENERATED_EVENTS) - 1 and after["schema_hash"] != expected


def _load_python(content, captured):
    """Run the generated module against stand-ins for the posthog SDK."""
    posthog = types.ModuleType("posthog")
    posthog.capture = lambda **kwargs: captured.append(kwargs) or "event-uuid"
    args = types.ModuleType("posthog.args")
    fields = {"distinct_id": str, "properties": dict}
    args.OptionalCaptureArgs = TypedDict("OptionalCaptureArgs", fields, total=False)
    saved = {name: sys.modules.get(name) for name in ("posthog", "posthog.args")}
    sys.modules.update({"posthog": posthog, "posthog.args": args})
    try:
        namespace: dict = {}
        exec(compile(content, "posthog_typed.py", "exec"), namespace)
        return namespace
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def test_python_code_is_valid_and_typed(client):
    content = _generated(client, "python")["content"]
    tree = ast.parse(content)
    overloads = [
        node for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "capture" and node.decorator_list
    ]  # fmt: skip
    literals = [ast.literal_eval(o.args.args[0].annotation.slice) for o in overloads]
    assert literals == GENERATED_EVENTS
    captured: list = []
    module = _load_python(content, captured)
    assert module["EVENT_NAMES"] == tuple(GENERATED_EVENTS)
    props = module["PageviewProps"]
    assert "$current_url" in props.__required_keys__ and "$pathname" in props.__optional_keys__
    properties = {"signup_method": "google"}
    assert module["capture"]("signed_up", distinct_id="u1", properties=properties) == "event-uuid"
    assert captured == [{"event": "signed_up", "distinct_id": "u1", "properties": properties}]
    assert "from datetime import datetime" in content  # file_uploaded has a DateTime property


def _strip_typescript(source):
    """Turn the generated TypeScript into JavaScript: drop type-only statements and annotations.

    A type-only statement runs until its braces balance and no continuation line (``? ...``,
    ``: ...`` of a conditional type) follows.
    """
    lines, out, index = source.splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        if re.match(r"^(export )?(interface|type) |^import type ", line):
            depth = line.count("{") - line.count("}")
            index += 1
            while index < len(lines) and (depth > 0 or re.match(r"^\s+[?:] ", lines[index])):
                depth += lines[index].count("{") - lines[index].count("}")
                index += 1
            continue
        line = re.sub(r"^(export function \w+)<[^>]*>", r"\1", line)
        line = re.sub(r"^(\s+(?:\.\.\.)?\w+)\??: [^,]+(,?)$", r"\1\2", line)
        line = re.sub(r"^\): .* \{$", ") {", line)
        line = re.sub(r"^(export const \w+): [^=]+ =", r"\1 =", line)
        out.append(line)
        index += 1
    return "\n".join(out)


def test_typescript_code_declares_every_event(client, tmp_path):
    content = _generated(client, "typescript")["content"]
    mapping = re.search(r"export interface EventPropertiesMap \{\n(.*?)\n\}", content, re.S).group(1)
    assert [json.loads(line.split(":")[0]) for line in mapping.strip().splitlines()] == GENERATED_EVENTS
    assert "    $current_url: string" in content and '    "file-size"?: number' in content
    assert "export interface SignedUpProperties {" in content
    assert "export function capture<E extends EventName>(" in content
    assert content.count("{") == content.count("}")
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the syntax check needs it")
    script = tmp_path / "events.mjs"
    script.write_text(_strip_typescript(content))
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr + script.read_text()
    assert "interface" not in script.read_text() and "export function capture(" in script.read_text()


def test_go_code_has_constants_structs_and_builders(client, tmp_path):
    content = _generated(client, "golang")["content"]
    assert content.startswith("// Code generated by PostHog - DO NOT EDIT.")
    assert "package typed" in content and '"github.com/posthog/posthog-go"' in content and '"time"' in content
    constants = re.search(r"const \(\n(.*?)\n\)", content, re.S).group(1)
    assert [json.loads(line.split(" = ")[1]) for line in constants.splitlines()] == GENERATED_EVENTS
    assert "type SignedUpProperties struct {" in content and "func SignedUpCapture(" in content
    assert '\tReferralCode string `json:"referral_code"`' in content or "ReferralCode *string" in content
    assert "FileSize *float64" in content  # "file-size" becomes an exported field
    assert content.count("{") == content.count("}") and content.count("(") == content.count(")")
    if shutil.which("gofmt") is None:
        return  # no Go toolchain here: the structural checks above are what we can do
    source = tmp_path / "events.go"
    source.write_text(content)
    assert subprocess.run(["gofmt", "-e", str(source)], capture_output=True).returncode == 0
