"""Groups: PostHog's GroupsViewSet (list, create, find, property edits, activity, property stats).

Groups are keyed by (group_type_index, group_key); PostHog's row id never leaves the server except
as the activity log's ``item_id``, so it is kept as the private ``_pk``. Each group's ActivityLog
entries (scope "Group") live on the group record as ``_activity``, newest last.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlencode

from .. import errors
from ..store import Record
from .base import Call, Resource, parse_time, quirk

LIST_GROUP_TYPE_REQUIRED = (
    "You must pass ?group_type_index= in this URL. To get a list of valid group types, "
    "call /api/:project_id/groups_types/."
)
PARAM_REQUIRED = "This query parameter is required."
GROUPS_PAGE = 100  # list_groups' limit
PROPERTY_VALUES_LIMIT = 20


class Groups(Resource):
    key_field = "_pk"

    @property
    def group_types(self) -> dict[int, str]:
        """The project's group type mapping; groups of other indexes cannot be created."""
        return {t["index"]: t["name"] for t in self.profile["groups"]["types"]}

    # -- lookups -----------------------------------------------------------------------------
    @quirk("groups_list")
    def list(self, call: Call) -> dict[str, Any]:
        """GroupsViewSet.list over list_groups: newest first (created_at, then group_key, both
        descending), 100 a page, forward-only keyset pages whose cursor is the last row's
        (created_at in microseconds, group_key); ``previous`` is always null."""
        raw = (call.query_lists.get("group_type_index") or [""])[-1]
        if not raw:
            raise errors.validation_error(LIST_GROUP_TYPE_REQUIRED, "group_type_index")
        try:
            index = int(raw)
        except ValueError:
            raise errors.validation_error("A valid integer is required.", "group_type_index") from None
        call.query["group_type_index"] = index
        rows = sorted(
            self.filter(call, self.listed(call)),
            key=lambda row: (_microseconds(row["created_at"]), row["group_key"]),
            reverse=True,
        )
        after = _decode_cursor(call.query.get("cursor") or "")
        if after[0] > 0:
            rows = [row for row in rows if (_microseconds(row["created_at"]), row["group_key"]) < after]
        page, more = rows[:GROUPS_PAGE], len(rows) > GROUPS_PAGE
        next_url = None
        if more:
            last = page[-1]
            params: dict[str, Any] = {"group_type_index": index, "cursor": _encode_cursor(last)}
            for name in ("search", "group_key"):
                if call.query.get(name):
                    params[name] = call.query[name]
            next_url = f"{call.url.base}?{urlencode(params)}"
        return {"next": next_url, "previous": None, "results": [self.serialize(call, row) for row in page]}

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        index = call.query["group_type_index"]
        needle = call.query.get("group_key", "").lower()
        rows = [r for r in rows if r["group_type_index"] == index and needle in r["group_key"].lower()]
        search = call.query.get("search")
        if search is not None:
            # group_properties__icontains compares against the JSON text of the properties.
            text = search.lower()
            rows = [
                r for r in rows if text in _json_text(r["group_properties"]) or r["group_key"].lower() == text
            ]
        return rows

    def query_params(self, call: Call, require_key: bool = True) -> tuple[int, str | None]:
        """``_safely_get_query_params``: group_type_index first, then (when asked) group_key."""
        index = call.query.get("group_type_index")
        if index is None:
            raise errors.validation_error(PARAM_REQUIRED, "group_type_index")
        key = call.query.get("group_key")
        if require_key and not key:
            raise errors.validation_error(PARAM_REQUIRED, "group_key")
        return index, key

    def find_group(self, call: Call, index: int, key: str) -> Record | None:
        return self.table(call).find("group", (index, key))

    def get(self, call: Call, key: Any = None) -> Record:
        index, group_key = self.query_params(call)
        record = self.find_group(call, index, group_key or "")
        if record is None:
            raise errors.not_found()
        return record

    # -- create ------------------------------------------------------------------------------
    @quirk("groups_create")
    def create(self, call: Call) -> Any:
        body = call.body
        index, key = body["group_type_index"], body["group_key"]
        properties = body.get("group_properties") or {}
        if self.find_group(call, index, key) is not None:
            raise errors.validation_error("A group with this key already exists", "detail")
        if index not in self.group_types:
            raise errors.not_found()  # the $groupidentify capture needs a known group type
        record = {
            "_pk": self.table(call).allocate_id(),
            "group_type_index": index,
            "group_key": key,
            "group_properties": properties,
            "created_at": call.timestamp(),
        }
        # One "create_group" entry per property, as PostHog logs them.
        entries = [
            _activity(call, record, "create_group", name, "created", None, value)
            for name, value in properties.items()
        ]
        return self.serialize(call, self.save(call, {**record, "_activity": entries}))

    # -- custom actions ------------------------------------------------------------------------
    @quirk("groups_find_retrieve")
    def find(self, call: Call) -> dict[str, Any]:
        return {**self.serialize(call, self.get(call)), "notebook": None}

    @quirk("groups_update_property_create")
    def update_property(self, call: Call) -> dict[str, Any]:
        group = self.get(call)
        key, value = call.body.get("key"), call.body.get("value")
        if not key:
            raise errors.validation_error("This field is required.", "key")
        if not isinstance(key, str | int | float):
            # a list or object names no property (PostHog's dict lookup fails on it: a 500); the
            # published key is text, a number or a flag
            raise errors.validation_error("Not a valid string.", "key")
        if value is None:
            raise errors.validation_error("This field is required.", "value")
        key = str(key)
        properties = group["group_properties"]
        existed = key in properties
        activity = "update_property" if existed else "create_property"
        entry = _activity(
            call, group, activity, key, "changed" if existed else "created", properties.get(key), value
        )
        changed = {
            **group,
            "group_properties": {**properties, key: value},
            "_activity": [*_log(group), entry],
        }
        return self.serialize(call, self.save(call, changed))

    @quirk("groups_delete_property_create")
    def delete_property(self, call: Call) -> dict[str, Any]:
        group = self.get(call)
        key = call.body.get("$unset")
        if isinstance(key, int | float) and not isinstance(key, bool):
            key = str(
                key
            )  # a property name is text; a number names the property it spells, as DRF's text does
        if not isinstance(key, str):
            raise errors.validation_error(
                "This field is required and must be a string (the property name to delete).", "$unset"
            )
        properties = group["group_properties"]
        if key not in properties:
            raise errors.validation_error(f"Property '{key}' does not exist on this group.", "$unset")
        entry = _activity(call, group, "update_property", key, "deleted", properties[key], None)
        remaining = {name: value for name, value in properties.items() if name != key}
        changed = {**group, "group_properties": remaining, "_activity": [*_log(group), entry]}
        return self.serialize(call, self.save(call, changed))

    @quirk("groups_activity_retrieve")
    def activity(self, call: Call) -> dict[str, Any]:
        """``load_activity`` + ``activity_page_response``: newest first, page-number links."""
        group = self.get(call)
        limit, page = call.query.get("limit", 10), call.query.get("page", 1)
        entries = sorted(_log(group), key=lambda entry: entry["created_at"], reverse=True)
        total = len(entries)
        start = (page - 1) * limit
        return {
            "results": entries[start : start + limit],
            "next": _page_link(call, page + 1, limit) if start + limit < total else None,
            "previous": _page_link(call, page - 1, limit) if page > 1 else None,
            "total_count": total,
        }

    @quirk("groups_property_definitions_retrieve")
    def property_definitions(self, call: Call) -> dict[str, list[dict[str, Any]]]:
        counts: dict[int, Counter[str]] = defaultdict(Counter)
        for row in self.rows(call):
            counts[row["group_type_index"]].update(row["group_properties"].keys())
        return {
            str(index): [
                {"name": name, "count": n} for name, n in sorted(counts[index].items(), key=_by_count)
            ]
            for index in sorted(counts)
        }

    @quirk("groups_property_values_retrieve")
    def property_values(self, call: Call) -> dict[str, Any]:
        index = call.query.get("group_type_index")
        if index is None:
            raise errors.validation_error(PARAM_REQUIRED, "group_type_index")
        key = call.query.get("key")
        if not key:
            raise errors.validation_error(PARAM_REQUIRED, "key")
        wanted = (call.query.get("value") or "").lower()
        values: Counter[str] = Counter()
        for row in self.rows(call):
            properties = row["group_properties"]
            if row["group_type_index"] == index and key in properties:
                text = _value_text(properties[key])
                if wanted in text.lower():
                    values[text] += 1
        ranked = sorted(values.items(), key=_by_count)[:PROPERTY_VALUES_LIMIT]
        return {"results": [{"name": name, "count": n} for name, n in ranked], "refreshing": False}

    # -- seed ----------------------------------------------------------------------------------
    def seed(self, ctx: Any) -> list[Record]:
        records: list[Record] = []
        for group_type in ctx.profile["groups"]["types"]:
            for _ in range(group_type["count"]):
                pk = len(records) + 1
                key, properties = SEED_MAKERS.get(group_type["name"], _organization)(ctx)
                record = {
                    "_pk": pk,
                    "group_type_index": group_type["index"],
                    "group_key": key,
                    "group_properties": properties,
                    "created_at": ctx.moment(365, 2),
                }
                records.append({**record, "_activity": _seed_activity(ctx, record)})
        return records


def _log(group: Record) -> list[dict[str, Any]]:
    return list(group.get("_activity") or [])


def _activity(
    call: Call, group: Record, activity: str, name: str, action: str, before: Any, after: Any
) -> dict[str, Any]:
    """One ActivityLogEntry, serialized as ActivityLogSerializer shows it."""
    return _entry(call.new_uuid(), call.user, group, activity, name, action, before, after, call.timestamp())


def _entry(
    entry_id: str,
    user: dict[str, Any],
    group: Record,
    activity: str,
    name: str,
    action: str,
    before: Any,
    after: Any,
    created_at: str,
) -> dict[str, Any]:
    change = {"type": "Group", "action": action, "field": None, "before": before, "after": after}
    return {
        "id": entry_id,
        "user": {"first_name": user["first_name"], "email": user["email"]},
        "activity": activity,
        "scope": "Group",
        "item_id": str(group["_pk"]),
        "detail": {
            "changes": [change],
            "merge": None,
            "trigger": None,
            "name": name,
            "short_id": None,
            "type": None,
        },
        "created_at": created_at,
    }


def _page_link(call: Call, page: int, limit: int) -> str:
    """PostHog's ``format_query_params_absolute_url``: replace page/limit in place, else append them."""
    url = f"{call.url.base}?{call.url.query}" if call.url.query else call.url.base
    for name, value in (("page", page), ("limit", limit)):
        if not value:
            continue  # a falsy value leaves the URL as it is (page 0 is never linked)
        pattern = re.compile(rf"([&?]{name}=)(\d+)")
        if pattern.search(url):
            url = pattern.sub(rf"\g<1>{value}", url)
        else:
            url += ("&" if "?" in url else "?") + f"{name}={value}"
    return url


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).lower()


def _value_text(value: Any) -> str:
    """A property value as ClickHouse's trimmed raw JSON shows it: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


# -- seed data ----------------------------------------------------------------------------------
INDUSTRIES = ["Software", "Fintech", "E-commerce", "Healthcare", "Education", "Media", "Logistics", "Gaming"]
PLANS = ["free", "startup", "scale", "enterprise"]
REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-southeast-1"]


def _organization(ctx: Any) -> tuple[str, dict[str, Any]]:
    company = ctx.faker.unique.company()
    domain = re.sub(r"[^a-z0-9]+", "", company.lower().split(",")[0]) + ctx.rng.choice([".com", ".io", ".co"])
    return ctx.uuid(), {
        "name": company,
        "domain": domain,
        "industry": ctx.rng.choice(INDUSTRIES),
        "employee_count": ctx.rng.choice([5, 12, 25, 48, 120, 350, 900, 2400]),
        "plan": ctx.rng.choice(PLANS),
        "country": ctx.faker.country_code(),
        "is_paying": ctx.rng.random() < 0.55,
    }


def _instance(ctx: Any) -> tuple[str, dict[str, Any]]:
    host = ctx.faker.unique.domain_word()
    url = f"https://{host}.hedgebox.net"
    return url, {
        "name": host.replace("-", " ").title(),
        "url": url,
        "region": ctx.rng.choice(REGIONS),
        "version": f"1.{ctx.rng.randint(38, 52)}.{ctx.rng.randint(0, 9)}",
        "deployment": ctx.rng.choice(["cloud", "self-hosted"]),
        "user_count": ctx.rng.randint(1, 400),
    }


SEED_MAKERS = {"organization": _organization, "instance": _instance}


def _seed_activity(ctx: Any, group: Record) -> list[dict[str, Any]]:
    """Some groups had properties added by hand in the UI after they were first seen."""
    if ctx.rng.random() >= 0.2:
        return []
    properties = group["group_properties"]
    names = ctx.rng.sample(sorted(properties), ctx.rng.randint(1, 3))
    return [
        _entry(
            ctx.uuid(),
            ctx.user,
            group,
            "create_property",
            name,
            "created",
            None,
            properties[name],
            ctx.moment(1),
        )
        for name in names
    ]


def _microseconds(moment: str) -> int:
    parsed = parse_time(moment)
    return round(parsed.timestamp() * 1_000_000) if parsed else 0


def _encode_cursor(row: Record) -> str:
    """_encode_groups_cursor: URL-safe base64 of {"c": created_at in microseconds, "k": group_key}."""
    payload = json.dumps({"c": _microseconds(row["created_at"]), "k": row["group_key"]})
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, str]:
    """_decode_groups_cursor: a cursor that does not decode, or an old one keyed by the row id
    (no "k"), starts from the first page; a timestamp in milliseconds is read as one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor))
        if "k" not in data:
            return 0, ""
        moment, key = int(data.get("c", 0)), str(data.get("k", ""))
    except Exception:  # PostHog's own catch-all: any bad cursor is no cursor
        return 0, ""
    return (moment * 1000 if 0 < moment < 1e15 else moment), key
