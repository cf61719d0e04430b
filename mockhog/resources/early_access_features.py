"""What the SDKs load of early access features (``/api/early_access_features/``). No HTTP.

The REST viewset is served by the generic tier (table ``early_access_feature``); this reads its
stored rows the way PostHog's public view does (products/early_access_features/backend/api.py:
``early_access_features`` over MinimalEarlyAccessFeatureSerializer): the project's features whose
stage is one of those asked for (``beta`` when none is), each as posthog-js's FeaturePreview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backend import Backend

TABLE = "early_access_feature"
DEFAULT_STAGES = ("beta",)  # EarlyAccessFeature.Stage.BETA


def sdk_features(backend: Backend, project_id: int, stages: list[str]) -> dict[str, Any]:
    """``{"earlyAccessFeatures": [...]}``: the rows whose stage is in ``stages``. PostHog's query
    has no ORDER BY (nor the model an ordering); mockhog answers in creation order."""
    wanted = set(stages or DEFAULT_STAGES)
    rows = [row for row in backend.store.table(project_id, TABLE).values() if row.get("stage") in wanted]
    rows.sort(key=lambda row: (str(row.get("created_at") or ""), str(row.get("id"))))
    features = [_feature(backend, project_id, row) for row in rows]
    return {"earlyAccessFeatures": features}


def _feature(backend: Backend, project_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """MinimalEarlyAccessFeatureSerializer: id, name, description, stage, documentationUrl,
    flagKey (null without a flag), payload ({} when empty), assignee (a display name or null)."""
    return {
        "id": row.get("id"),
        "name": row.get("name"),
        "description": row.get("description"),
        "stage": row.get("stage"),
        "documentationUrl": row.get("documentation_url"),
        "flagKey": _flag_key(backend, project_id, row.get("feature_flag", row.get("feature_flag_id"))),
        "payload": row.get("payload") or {},
        "assignee": _assignee(backend, row.get("assignee")),
    }


def _flag_key(backend: Backend, project_id: int, flag: Any) -> str | None:
    """The linked flag's key: a generic row embeds the flag (MinimalFeatureFlagSerializer) or
    names one of the project's flags by id."""
    if isinstance(flag, dict):
        return flag.get("key")
    if flag is None:
        return None
    found = backend.store.table(project_id, "feature_flags").get(flag)
    return found["key"] if found is not None else None


def _assignee(backend: Backend, assignee: Any) -> dict[str, str] | None:
    """get_assignee: only a display name, ``{"type": "user" | "role", "name"}``. The stored row says
    ``{"type", "id"}`` (EarlyAccessFeatureSerializer); a user is named from mockhog's user when the
    id is theirs, first and last name (a user with neither counts as unassigned); mockhog has no
    roles, so a role is unassigned too."""
    if not isinstance(assignee, dict) or assignee.get("type") != "user":
        return None
    user = backend.user
    if assignee.get("id") != user.get("id"):
        return None
    name = f"{user.get('first_name') or ''} {user.get('last_name') or ''}".strip()
    return {"type": "user", "name": name} if name else None
