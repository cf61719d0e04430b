"""File system: PostHog's project tree of folders and the objects filed in them.

Rows are paths of segments (``a/b\\/c`` has two segments, ``a`` and ``b/c``). Creating a row
creates its missing parent folders; deleting a folder deletes everything under it, and deleting
the last row of an insight or dashboard soft-deletes the object itself (undoable). Views are
logged per user and show up as ``last_viewed_at`` on every row of the viewed object.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..errors import BareError
from ..store import Record
from .base import Call, Reply, Resource, iso, public, quirk

VIEW_LOG_TABLE = "file_system_view_logs"
PREVIEW_LIMIT = 200  # entries returned by count / count_by_path
RECENTS_LIMIT, RECENTS_MAX = 100, 1000
UNDO_DELETE_REFUSED = "Couldn't restore this. It may already be restored, or you may not have access to it."
# posthog/api/file_system/file_system.py: caller-supplied paths and meta are bounded.
MAX_PATH_LENGTH = 4000
MAX_PATH_SEGMENTS = 50
MAX_META_BYTES = 1_000_000
# Entry types with access controls (ACCESS_CONTROL_RESOURCES and RESOURCE_INHERITANCE_MAP in
# posthog/rbac/user_access_control.py): only these resolve a user_access_level.
ACCESS_CONTROLLED_TYPES = frozenset(
    {
        "action", "customer_analytics", "dashboard", "early_access_feature", "endpoint", "experiment",
        "export", "external_data_source", "warehouse_objects", "feature_flag", "heatmap", "hog_flow",
        "insight", "llm_analytics", "evaluation", "tagger", "llm_skill", "ai_observability_clusters",
        "notebook", "revenue_analytics", "session_recording", "sharing_configuration", "survey", "ticket",
        "web_analytics", "activity_log", "error_tracking", "logs", "mcp_analytics", "metrics", "tracing",
        "replay_scanner", "toolbar", "llm_playground", "session_recording_playlist", "warehouse_table",
        "warehouse_view", "dataset", "llm_provider_key", "llm_prompt", "account", "customer_journey",
        "experiment_saved_metric", "experiment_holdout", "dashboard_template", "marketing_analytics",
        "vision_action", "vision_alert",
    }
)  # fmt: skip


def _access_level(record: Record) -> str | None:
    """The mock user is an organization admin: every access-controlled object is "manager" to it."""
    access_controlled = record.get("ref") and record.get("type") in ACCESS_CONTROLLED_TYPES
    return "manager" if access_controlled else None


def check_path(path: Any, attr: str | None) -> None:
    """PostHog's validate_file_system_path: a string of at most 4000 characters and 50 segments."""
    if not isinstance(path, str):
        raise errors.validation_error("Path must be a string.", attr)
    if len(path) > MAX_PATH_LENGTH:
        raise errors.validation_error(f"Path must be {MAX_PATH_LENGTH} characters or fewer.", attr)
    if len(split_path(path)) > MAX_PATH_SEGMENTS:
        raise errors.validation_error(f"Path can be at most {MAX_PATH_SEGMENTS} levels deep.", attr)


def check_meta(meta: Any) -> None:
    """FileSystemSerializer.validate_meta: an object (null too is refused) under 1 MB of JSON."""
    if not isinstance(meta, dict):
        raise errors.validation_error("Meta must be an object.", "meta")
    if len(json.dumps(meta, default=str).encode()) > MAX_META_BYTES:
        raise errors.validation_error(f"Meta must be smaller than {MAX_META_BYTES / 1_000_000:g} MB.", "meta")


HOG_FUNCTION_KINDS = frozenset(
    {
        "broadcast",
        "campaign",
        "destination",
        "internal_destination",
        "site_app",
        "site_destination",
        "source",
        "source_webhook",
        "transformation",
    }
)


def _undo_message(plural: str) -> str:
    return f"Send PATCH /api/projects/@current/{plural}/{{id}} with deleted=false."


# Types PostHog registers for deletion through the tree, with the undo hint it answers.
REGISTERED_TYPES = {
    "action": _undo_message("actions"),
    "dashboard": _undo_message("dashboards"),
    "feature_flag": _undo_message("feature_flags"),
    "experiment": _undo_message("experiments"),
    "insight": _undo_message("insights"),
    "session_recording_playlist": _undo_message("session_recordings/playlists"),
    "cohort": _undo_message("cohorts"),
    **{f"hog_function/{kind}": _undo_message("hog_functions") for kind in HOG_FUNCTION_KINDS},
}


# -- paths ------------------------------------------------------------------------------------
def split_path(path: str) -> list[str]:
    """The non-empty segments of a path; ``\\/`` and ``\\\\`` are an escaped slash and backslash."""
    if "\\" not in path:  # nothing escaped (the usual path): a plain split says the same
        return [segment for segment in path.split("/") if segment]
    segments, current, index = [], "", 0
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path) and path[index + 1] in "/\\":
            current += path[index + 1]
            index += 2
            continue
        if char == "/":
            segments.append(current)
            current = ""
        else:
            current += char
        index += 1
    segments.append(current)
    return [segment for segment in segments if segment]


def escape_path(name: str) -> str:
    return name.replace("\\", "\\\\").replace("/", "\\/")


def join_path(segments: list[str]) -> str:
    return "/".join(escape_path(segment) for segment in segments)


def depth_of(path: str) -> int:
    return len(split_path(path))


def parse_moment(text: str) -> datetime | None:
    """A datetime from ISO text (a bare date is midnight, a naive time is UTC), or None."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short_id(insight_id: int) -> str:
    """A stable 8-character short id like PostHog's, derived from the insight's id."""
    alphabet = string.ascii_letters + string.digits
    number = int.from_bytes(hashlib.sha256(f"insight:{insight_id}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return "".join(chars)


# -- objects that live in the tree ------------------------------------------------------------
@dataclass(frozen=True)
class BackingKind:
    """An object type the tree files from a reference table (insights, dashboards)."""

    type: str
    table: str
    base_folder: str
    href: Callable[[Record], str]
    # What the row's ``ref`` names the object by (get_file_system_representation's ref)
    ref: Callable[[Record], str] = lambda obj: str(obj["id"])

    def row(self, obj: Record, folder: str, row_id: str, creator: int) -> Record:
        """The tree row PostHog's file-system sync writes for ``obj`` inside ``folder``."""
        created = parse_moment(obj["created_at"]) or obj["created_at"]
        path = f"{folder}/{escape_path(obj.get('name') or 'Untitled')}"
        return {
            "id": row_id,
            "path": path,
            "depth": depth_of(path),
            "type": self.type,
            "ref": self.ref(obj),
            "href": self.href(obj),
            # PostHog writes str(datetime) here, not ISO with a T.
            "meta": {"created_at": str(created), "created_by": creator},
            "shortcut": False,
            "created_at": obj["created_at"],
            "last_viewed_at": None,
            "_created_by": creator,
        }


def insight_ref(obj: Record) -> str:
    """An insight's tree entry names it by its short_id (its href too), as PostHog's does."""
    return obj.get("short_id") or short_id(obj["id"])


BACKING = {
    "insight": BackingKind(
        "insight", "insights", "Unfiled/Insights", lambda obj: f"/insights/{insight_ref(obj)}", insight_ref
    ),
    "dashboard": BackingKind(
        "dashboard", "dashboards", "Unfiled/Dashboards", lambda obj: f"/dashboard/{obj['id']}"
    ),
}


# -- search -----------------------------------------------------------------------------------
_SEGMENT_CHARS = r"(?:[^/\\]|\\.)*"
Predicate = Callable[[Record], bool]


def tokenize_search(search: str) -> list[str]:
    """Shell-like tokens; an unmatched quote is retried as a literal, then plain whitespace split."""
    for single_quotes in (True, False):
        lexer = shlex.shlex(search, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        if not single_quotes:
            lexer.quotes = '"'
            lexer.wordchars += "'"
        try:
            return list(lexer)
        except ValueError:
            continue
    return search.split()


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _path_matches(pattern: str) -> Predicate:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda row: compiled.search(row["path"]) is not None


def _basename_contains(value: str) -> Predicate:
    return _path_matches(rf"(?:^|(?<!\\)/){_SEGMENT_CHARS}{re.escape(value)}{_SEGMENT_CHARS}$")


def _path_or_type_contains(value: str) -> Predicate:
    needle = value.lower()
    return lambda row: needle in row["path"].lower() or needle in (row.get("type") or "").lower()


class FileSystem(Resource):
    query_ordering = True  # ?order_by= / ?ordering= / ?search= change the order

    # -- reading -----------------------------------------------------------------------------
    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        body = super().serialize(call, record)
        body["last_viewed_at"] = self._last_viewed(call, record) or record.get("last_viewed_at")
        body["created_by"] = self._user_basic(call) if record.get("_created_by") == call.user["id"] else None
        body["user_access_level"] = _access_level(record)
        return body

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return {**public(record), "created_by": None, "user_access_level": _access_level(record)}

    @staticmethod
    def _user_basic(call: Call) -> dict[str, Any]:
        fields = call.backend.contract.schemas.field_order("common.json", "UserBasic")
        return {name: call.user.get(name) for name in fields}

    @quirk("file_system_list")
    def list(self, call: Call) -> Any:
        order_by = call.query.get("order_by")
        if order_by in ("last_viewed_at", "-last_viewed_at"):
            return self._recents(call, descending=order_by == "-last_viewed_at")
        page = super().list(call)
        page["users"] = self._creators(call, page["results"])
        return page

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        if "depth" in query:
            rows = [row for row in rows if row.get("depth") == query["depth"]]
        for field in ("path", "type", "ref"):
            if query.get(field):
                rows = [row for row in rows if row.get(field) == query[field]]
        if query.get("parent"):
            rows = [row for row in rows if row["path"].startswith(query["parent"] + "/")]
        if query.get("not_type"):
            rows = [row for row in rows if row.get("type") != query["not_type"]]
        if query.get("type__startswith"):
            rows = [row for row in rows if (row.get("type") or "").startswith(query["type__startswith"])]
        rows = self._created_between(rows, query.get("created_at__gt"), query.get("created_at__lt"))
        if query.get("search"):
            rows = self._search(call, rows, query["search"], _truthy(query.get("search_name_only")))
        return rows

    def order(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query
        if query.get("ref"):
            # ORDER BY shortcut: false, true, then NULL.
            return sorted(rows, key=lambda r: (_null_last(r.get("shortcut")), r["path"].lower(), r["id"]))
        order_by = query.get("order_by")
        if order_by:
            if order_by not in ("path", "-path", "created_at", "-created_at"):
                order_by = "-created_at"  # what PostHog does with any other value
            field = order_by.lstrip("-")
            return sorted(rows, key=lambda r: (r[field], r["id"]), reverse=order_by.startswith("-"))
        if "depth" in call.query_lists:
            return sorted(rows, key=lambda r: (r.get("type") != "folder", r["path"].lower(), r["id"]))
        return sorted(rows, key=lambda r: (r["path"].lower(), r["id"]))

    def _created_between(self, rows: list[Record], after: str | None, before: str | None) -> list[Record]:
        low = parse_moment(after) if after else None
        high = parse_moment(before) if before else None
        if low:
            rows = [row for row in rows if parse_moment(row["created_at"]) > low]
        if high:
            rows = [row for row in rows if parse_moment(row["created_at"]) < high]
        return rows

    def _search(self, call: Call, rows: list[Record], search: str, name_only: bool) -> list[Record]:
        """PostHog's token search: every token must match (or, negated with - or !, must not)."""
        tests: list[tuple[bool, Predicate]] = []
        for raw in tokenize_search(search):
            negated = raw.startswith(("-", "!"))
            token = _unquote(raw[1:] if negated else raw)
            if token:
                tests.append((negated, self._token_test(call, token, name_only)))
        return [row for row in rows if all(test(row) != negated for negated, test in tests)]

    def _token_test(self, call: Call, token: str, name_only: bool) -> Predicate:
        if ":" in token:
            field, value = token.split(":", 1)
            value = _unquote(value.strip())
            field = field.lower()
            if field == "path":
                # the value inside any parent segment (one followed by an unescaped slash)
                inner = f"{_SEGMENT_CHARS}{re.escape(value)}{_SEGMENT_CHARS}"
                return _path_matches(rf"(?:^|(?<!\\)/){inner}(?<!\\)/")
            if field == "name":
                return _basename_contains(value)
            if field in ("user", "author"):
                return self._created_by_test(call, value)
            if field == "type":
                if value.endswith("/"):
                    return lambda row: (row.get("type") or "").startswith(value)
                wanted = f"hog_function/{value}" if value in HOG_FUNCTION_KINDS else value
                return lambda row: row.get("type") == wanted
            if field == "ref":
                return lambda row: row.get("ref") == value
            return _path_or_type_contains(token)
        if name_only:
            return _basename_contains(token)
        if "/" in token:
            # a slash in the token matches a separator or an escaped slash inside a name
            pattern = r"(?:/|\\/)".join(re.escape(part) for part in token.split("/"))
            compiled = re.compile(pattern, re.IGNORECASE)
            return lambda row: bool(compiled.search(row["path"]) or compiled.search(row.get("type") or ""))
        return _path_or_type_contains(token)

    def _created_by_test(self, call: Call, value: str) -> Predicate:
        user = call.user
        if value.lower() == "me":
            return lambda row: row.get("_created_by") == user["id"]
        needle = value.lower()
        full_name = f"{user['first_name']} {user['last_name']}".lower()
        matches_user = needle in full_name or needle in user["email"].lower()
        # The only user mockhog knows is the requesting one; other creators have no name to match.
        return lambda row: matches_user and row.get("_created_by") == user["id"]

    def _creators(self, call: Call, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """UserBasic of every organization member named in the page's ``meta.created_by``."""
        ids = {
            (row.get("meta") or {}).get("created_by") for row in results if isinstance(row.get("meta"), dict)
        }
        if call.user["id"] not in ids:
            return []
        return [self._user_basic(call)]

    def _recents(self, call: Call, descending: bool) -> dict[str, Any]:
        """The Recents widget: viewed, non-shortcut rows by view time; one page, no links."""
        limit = max(1, min(call.query.get("limit", RECENTS_LIMIT), RECENTS_MAX))
        rows = [row for row in self.rows(call) if not row.get("shortcut")]
        if call.query.get("not_type"):
            rows = [row for row in rows if row.get("type") != call.query["not_type"]]
        if call.query.get("search"):
            rows = self._search(call, rows, call.query["search"], _truthy(call.query.get("search_name_only")))
        viewed = [(self._last_viewed(call, row), row) for row in rows]
        viewed = [(moment, row) for moment, row in viewed if moment]
        viewed.sort(key=lambda pair: (pair[0], pair[1]["id"]), reverse=descending)
        results = [self.serialize(call, row) for _, row in viewed[:limit]]
        return {
            "count": len(results),
            "next": None,
            "previous": None,
            "results": results,
            "users": self._creators(call, results),
        }

    # -- creating and changing ---------------------------------------------------------------
    def build(self, call: Call, data: dict[str, Any]) -> Record:
        self._check_entry(data)
        self._ensure_parents(call, data["path"], shortcut=False)
        record = super().build(call, data)
        return {
            **record,
            "depth": depth_of(record["path"]),
            "shortcut": bool(record.get("shortcut")),
            "last_viewed_at": None,
            "_created_by": call.user["id"],
        }

    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        self._check_entry(data)
        changed = {**record, **data}
        if "path" in data:
            changed["depth"] = depth_of(data["path"])
        return changed

    @staticmethod
    def _check_entry(data: dict[str, Any]) -> None:
        """The serializer's field checks, in its field order (path, then meta)."""
        if "path" in data:
            check_path(data["path"], "path")
        if "meta" in data:
            check_meta(data["meta"])

    def _ensure_parents(self, call: Call, path: str, shortcut: bool | None) -> None:
        """Create a folder for every missing parent of ``path`` (the create view stores
        ``shortcut: false`` on them, the move/link/undo helper leaves it null)."""
        segments = split_path(path)
        table = self.table(call)
        for depth in range(1, len(segments)):
            parent = join_path(segments[:depth])
            if not table.count("path", parent):
                self.save(call, self._folder(call, parent, shortcut))

    def _folder(self, call: Call, path: str, shortcut: bool | None) -> Record:
        return {
            **self.defaults,
            "id": call.new_uuid(),
            "path": path,
            "depth": depth_of(path),
            "type": "folder",
            "shortcut": shortcut,
            "created_at": call.timestamp(),
            "last_viewed_at": None,
            "_created_by": call.user["id"],
        }

    def _descendants(self, call: Call, folder_path: str) -> list[Record]:
        rows = self.table(call).lookup("under", folder_path)
        return sorted(rows, key=lambda row: (row.get("depth") or 0, row["path"]))

    @quirk("file_system_move_create")
    def move(self, call: Call) -> Any:
        instance = self.get(call)
        new_path = self._new_path(call, instance, "move")
        old_path = instance["path"]
        if instance["type"] != "folder":
            return self.serialize(call, self.save(call, self._at(instance, new_path)))
        for row in self._descendants(call, old_path):
            self.save(call, self._at(row, new_path + row["path"][len(old_path) :]))
        if self._folder_exists(call, new_path):
            # Moving onto a folder of the same name merges the two: this row goes away.
            self.table(call).delete(instance["id"])
            return {**self.serialize(call, instance), "id": None}
        return self.serialize(call, self.save(call, self._at(instance, new_path)))

    @quirk("file_system_link_create")
    def link(self, call: Call) -> Any:
        instance = self.get(call)
        new_path = self._new_path(call, instance, "link")
        old_path = instance["path"]
        if instance["type"] == "folder":
            for row in self._descendants(call, old_path):
                self.save(call, self._shortcut_copy(call, row, new_path + row["path"][len(old_path) :]))
            if self._folder_exists(call, new_path):
                return self.serialize(call, instance)
        return self.serialize(call, self.save(call, self._shortcut_copy(call, instance, new_path)))

    def _new_path(self, call: Call, instance: Record, verb: str) -> str:
        body = call.body if isinstance(call.body, dict) else {}
        new_path = body.get("new_path")
        if not new_path:
            raise BareError(400, {"detail": "new_path is required"})
        check_path(new_path, None)
        if instance["type"] == "folder" and new_path == instance["path"]:
            raise BareError(400, {"detail": f"Cannot {verb} folder into itself"})
        self._ensure_parents(call, new_path, shortcut=None)
        return new_path

    def _folder_exists(self, call: Call, path: str) -> bool:
        return any(row.get("type") == "folder" for row in self.table(call).lookup("path", path))

    @staticmethod
    def _at(row: Record, path: str) -> Record:
        return {**row, "path": path, "depth": depth_of(path)}

    def _shortcut_copy(self, call: Call, row: Record, path: str) -> Record:
        return {**self._at(row, path), "id": call.new_uuid(), "shortcut": True}

    # -- counting ----------------------------------------------------------------------------
    @quirk("file_system_count_create")
    def count(self, call: Call) -> Any:
        instance = self.get(call)
        if instance["type"] != "folder":
            raise BareError(400, {"detail": "Count can only be called on folders"})
        return self._count_under(call, instance["path"])

    @quirk("file_system_count_by_path_create")
    def count_by_path(self, call: Call) -> Any:
        path = call.query.get("path")
        if not path:
            raise BareError(400, {"detail": "path parameter is required"})
        return self._count_under(call, path)

    def _count_under(self, call: Call, path: str) -> dict[str, Any]:
        rows = self._descendants(call, path)
        entries = [self.serialize(call, row) for row in rows[:PREVIEW_LIMIT]]
        return {"count": len(rows), "entries": entries, "has_more": len(rows) > len(entries)}

    # -- deleting and restoring --------------------------------------------------------------
    @quirk("file_system_destroy")
    def destroy(self, call: Call) -> Any:
        entry = self.get(call)
        carries = self._last_references(call, entry)
        deleted = self._delete_entry(call, entry, carries, set())
        if entry["type"] == "folder":
            self._repair_leftovers(call, entry["path"])
        if deleted:
            return Reply(body={"deleted": deleted}, status=200)
        return None

    def _last_references(self, call: Call, entry: Record) -> dict[str, bool]:
        """Which leaf rows carry the delete through to their object: per (type, ref), exactly
        one row, and only when no other non-shortcut row outside this delete points at it."""
        leaves, stack, seen = [], [entry], set()
        while stack:
            current = stack.pop()
            if current["id"] in seen or current.get("shortcut"):
                continue
            seen.add(current["id"])
            if current["type"] == "folder":
                stack.extend(self._descendants(call, current["path"]))
            else:
                leaves.append(current)
        removing = {leaf["id"] for leaf in leaves}
        groups: dict[tuple[str, Any], list[Record]] = {}
        for leaf in leaves:
            groups.setdefault((leaf["type"], leaf.get("ref")), []).append(leaf)
        carries: dict[str, bool] = {}
        for (kind, ref), group in groups.items():
            others = [
                row
                for row in self.table(call).lookup("type_ref", (kind, ref))
                if row.get("shortcut") is False and row["id"] not in removing
            ]
            carries.update({leaf["id"]: False for leaf in group})
            carries[group[0]["id"]] = not others
            if kind in REGISTERED_TYPES and not others and not ref:
                raise errors.validation_error(f"Cannot delete type '{kind}' without a reference.", "detail")
        return carries

    def _delete_entry(
        self, call: Call, entry: Record, carries: dict[str, bool], done: set[str]
    ) -> list[dict[str, Any]]:
        if entry["id"] in done:
            return []
        done.add(entry["id"])
        if entry.get("shortcut"):
            self.table(call).delete(entry["id"])
            return []
        if entry["type"] == "folder":
            deleted = []
            for child in self._descendants(call, entry["path"]):
                deleted += self._delete_entry(call, child, carries, done)
            self.table(call).delete(entry["id"])
            return deleted
        if entry["type"] not in REGISTERED_TYPES:
            raise errors.validation_error(f"Cannot delete resources with type '{entry['type']}'.", "detail")
        self.table(call).delete(entry["id"])
        if not carries.get(entry["id"]):
            return []
        return [self._delete_backing_object(call, entry)]

    def _delete_backing_object(self, call: Call, entry: Record) -> dict[str, Any]:
        """Soft-delete the object behind ``entry``; a missing object leaves only the row gone."""
        obj = self._backing_object(call, entry["type"], entry["ref"])
        found = obj is not None
        if found:
            self._backing_table(call, entry["type"]).put(obj["id"], {**obj, "_deleted": True})
        return {
            "type": entry["type"],
            "ref": entry["ref"],
            "mode": "soft" if found else "hard",
            "undo": REGISTERED_TYPES[entry["type"]],
            "path": entry["path"],
            "can_undo": found,
        }

    def _repair_leftovers(self, call: Call, path: str) -> None:
        """Rows the delete skipped (a shortcut folder keeps its contents) get their folders back."""
        leftovers = self.table(call).lookup("under", path)
        if leftovers:
            self._ensure_parents(call, leftovers[0]["path"], shortcut=None)

    @quirk("file_system_undo_delete_create")
    def undo_delete(self, call: Call) -> Any:
        # UndoDeleteRequestSerializer checks every item's path before anything is restored.
        for index, item in enumerate(call.body["items"]):
            if item.get("path") is not None:
                check_path(item["path"], f"items__{index}__path")
        undone = []
        for item in call.body["items"]:
            kind = BACKING.get(item["type"])
            obj = self._backing_object(call, item["type"], item["ref"]) if kind else None
            if obj is None or not obj.get("_deleted"):
                raise errors.validation_error(UNDO_DELETE_REFUSED, "detail")
            restored = {key: value for key, value in obj.items() if key != "_deleted"}
            self._backing_table(call, kind.type).put(obj["id"], restored)
            self._refile(call, kind, restored, item.get("path"))
            undone.append({"type": item["type"], "ref": item["ref"]})
        return {"undone": undone}

    def _refile(self, call: Call, kind: BackingKind, obj: Record, path: str | None) -> None:
        """Put a restored object back in the tree: at ``path`` when given, else where PostHog's
        save hook files it (its old rows if any remain, else the Unfiled folder)."""
        rows = self.table(call).lookup("type_ref", (kind.type, kind.ref(obj)))
        if path is None:
            if any(row.get("shortcut") is False for row in rows):
                return
            folder = kind.base_folder
        else:
            self._ensure_parents(call, path, shortcut=None)
            if rows:
                for row in rows:
                    self.save(call, self._at(row, path))
                return
            segments = split_path(path)
            folder = join_path(segments[:-1]) or kind.base_folder
            if segments:
                obj = {**obj, "name": segments[-1]}
        row = kind.row(obj, folder, call.new_uuid(), call.user["id"])
        self._ensure_parents(call, row["path"], shortcut=None)
        self.save(call, row)

    def _backing_table(self, call: Call, kind: str) -> Any:
        return call.table(BACKING[kind].table)

    def _backing_object(self, call: Call, kind: str, ref: Any) -> Record | None:
        if kind not in BACKING or not isinstance(ref, str):
            return None
        if kind == "insight":
            return next(
                (obj for obj in self._backing_table(call, kind).values() if insight_ref(obj) == ref), None
            )
        if not (ref.isascii() and ref.isdigit()):
            return None
        return self._backing_table(call, kind).get(int(ref))

    # -- unfiled -----------------------------------------------------------------------------
    @quirk("file_system_unfiled_retrieve")
    def unfiled(self, call: Call) -> Any:
        """File every live insight/dashboard that has no row yet; answer how many were filed."""
        wanted = call.query.get("type")
        # No type files every kind; a blank or unknown type files nothing.
        kinds = [kind for kind in BACKING.values() if wanted is None or kind.type == wanted]
        filed = {(row.get("type"), row.get("ref")) for row in self.rows(call)}
        created = 0
        for kind in kinds:
            for obj in sorted(call.table(kind.table).values(), key=lambda o: o["id"]):
                if obj.get("_deleted") or (kind.type, kind.ref(obj)) in filed:
                    continue
                self.save(call, kind.row(obj, kind.base_folder, call.new_uuid(), call.user["id"]))
                created += 1
        self._fix_folders_and_depth(call)
        return {"count": created}

    def _fix_folders_and_depth(self, call: Call) -> None:
        for row in self.rows(call):
            if row.get("depth") != depth_of(row["path"]):
                self.save(call, self._at(row, row["path"]))
            self._ensure_parents(call, row["path"], shortcut=None)

    # -- views -------------------------------------------------------------------------------
    @quirk("file_system_log_view_retrieve")
    def log_views(self, call: Call) -> Any:
        """GET log_view: the requesting user's views, newest first."""
        views = [view for view in call.table(VIEW_LOG_TABLE).values() if view["_user"] == call.user["id"]]
        if call.query.get("type"):
            views = [view for view in views if view["type"] == call.query["type"]]
        views.sort(key=lambda view: view["viewed_at"], reverse=True)
        if "limit" in call.query:
            views = views[: call.query["limit"]]
        return [{"type": v["type"], "ref": v["ref"], "viewed_at": v["viewed_at"]} for v in views]

    @quirk("file_system_log_view_create")
    def log_view(self, call: Call) -> Any:
        """POST log_view: one row per (user, type, ref), its time moved to the latest view."""
        body = call.body
        viewed_at = parse_moment(body["viewed_at"]) if body.get("viewed_at") else call.now
        user_id = call.user["id"]
        view = {"type": body["type"], "ref": body["ref"], "viewed_at": iso(viewed_at), "_user": user_id}
        call.table(VIEW_LOG_TABLE).put(_view_key(user_id, body["type"], body["ref"]), view)
        return None

    def _last_viewed(self, call: Call, record: Record) -> str | None:
        if record.get("ref") is None:
            return None
        view = call.table(VIEW_LOG_TABLE).get(_view_key(call.user["id"], record.get("type"), record["ref"]))
        return view["viewed_at"] if view else None

    # -- seed --------------------------------------------------------------------------------
    seed_reads = tuple(kind.table for kind in BACKING.values())
    seed_writes = (VIEW_LOG_TABLE,)

    def seed(self, ctx: Any) -> list[Record]:
        """The profile's folders, with every insight and dashboard filed in one of them."""
        # The view log starts empty but present, so reads never create a table.
        ctx.tables.setdefault(VIEW_LOG_TABLE, {})
        creator = ctx.user["id"]
        records: list[Record] = []
        paths: set[str] = set()

        def add_folder(path: str) -> None:
            segments = split_path(path)
            for depth in range(1, len(segments) + 1):
                folder = join_path(segments[:depth])
                if folder not in paths:
                    paths.add(folder)
                    records.append(self._seed_folder(ctx, folder, creator))

        folders = ctx.profile["file_system"]["folders"]
        for folder in folders:
            add_folder(folder)
        filed_in = [f for f in folders if f.split("/")[0] != "Unfiled"]
        for kind in BACKING.values():
            for obj in sorted(ctx.tables[kind.table].values(), key=lambda o: o["id"]):
                folder = ctx.rng.choice([*filed_in, kind.base_folder])
                add_folder(folder)
                records.append(kind.row(obj, folder, ctx.uuid(), creator))
        return records

    def _seed_folder(self, ctx: Any, path: str, creator: int) -> Record:
        return {
            **self.defaults,
            "id": ctx.uuid(),
            "path": path,
            "depth": depth_of(path),
            "type": "folder",
            "shortcut": False,
            # deeper folders are younger than their parents
            "created_at": ctx.moment(540 - 30 * depth_of(path), 510 - 30 * depth_of(path)),
            "last_viewed_at": None,
            "_created_by": creator,
        }


def _view_key(user_id: int, kind: Any, ref: Any) -> str:
    return json.dumps([user_id, kind, ref])


def _truthy(value: Any) -> bool:
    return bool(value) and str(value).lower() in ("y", "yes", "t", "true", "on", "1")


def _null_last(value: bool | None) -> int:
    return 2 if value is None else int(value)
