"""The pytest fixture's SDK helpers: the project token, captured events, declared flags.

Kept apart from :mod:`mockhog.testing` so the fixture's own module stays about serving and the
journal; :class:`mockhog.testing.MockHog` mixes these in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import Backend


class SdkHelpers:
    """What a test of code that uses PostHog's SDKs needs: the project token, the events the SDK
    captured, and flags declared in one line. Mixed into :class:`MockHog`."""

    backend: Backend
    url: str

    @property
    def project_token(self) -> str:
        """Project 1's public token: pass it to ``Posthog(...)`` / ``new PostHog(...)``."""
        from .resources.identity import api_token

        return api_token(self.backend.seed, self.backend.projects[min(self.backend.projects)])

    def captured(
        self,
        event: str | None = None,
        distinct_id: str | None = None,
        properties: dict[str, Any] | None = None,
        project: int | None = None,
    ) -> list[dict[str, Any]]:
        """Events captured through the SDK endpoints, oldest first; ``properties`` must be a subset."""
        from .ingestion import find_captured

        return find_captured(self.backend, event, distinct_id, properties, project)

    def assert_captured(
        self,
        event: str | None = None,
        distinct_id: str | None = None,
        properties: dict[str, Any] | None = None,
        times: int | None = None,
        project: int | None = None,
    ) -> list[dict[str, Any]]:
        """Fail unless matching events were captured (exactly ``times`` of them, when given)."""
        found = self.captured(event, distinct_id, properties, project)
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = ", ".join(
            f"{name}={value!r}"
            for name, value in (("event", event), ("distinct_id", distinct_id), ("properties", properties))
            if value is not None
        )
        seen = [f"{e['event']} by {e['distinct_id']}" for e in self.captured(project=project)]
        expected = "any" if times is None else str(times)
        raise AssertionError(
            f"mockhog: {len(found)} captured events matched {wanted or 'anything'}, expected {expected}; "
            f"captured: {seen[-20:] or 'nothing'}"
        )

    def recordings(self, session_id: str | None = None, project: int | None = None) -> list[dict[str, Any]]:
        """Session replay batches posthog-js sent to ``/s/`` (of one session), oldest first: each
        has ``session_id``, ``window_id``, ``distinct_id`` and its ``snapshot_items``."""
        from .ingestion import recordings

        return recordings(self.backend, session_id, project)

    def clear_captured(self) -> int:
        from .ingestion import clear_captured

        return clear_captured(self.backend)

    def set_flag(
        self,
        key: str,
        value: bool | str = True,
        *,
        rollout: int = 100,
        variants: dict[str, int] | None = None,
        payload: Any = None,
        person_properties: dict[str, Any] | None = None,
        project: int | None = None,
    ) -> dict[str, Any]:
        """Declare a feature flag for the SDKs (and the REST API): see ``declare_flag``."""
        from .resources.feature_flags import declare_flag

        project_id = project if project is not None else min(self.backend.projects)
        with self.backend.store.transaction():
            return declare_flag(
                self.backend, project_id, key, value, rollout, variants, payload, person_properties
            )
