"""The environments viewset and the organization's projects (generic tier): what their views refuse.

Sources (PostHog/posthog): posthog/models/team/team.py (Team's fields), posthog/api/team.py
(TeamSerializer, TeamViewSet), posthog/api/project.py (ProjectViewSet), DRF's fields.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", [0, "0", "25:00", "noon"])
def test_a_recalculation_time_is_a_time_of_day(client, value):
    """Team.experiment_recalculation_time is a models.TimeField (posthog/models/team/team.py), so
    TeamSerializer's field is DRF's TimeField: django's parse_time, else its invalid message."""
    response = client.patch("/api/projects/1/environments/1/", json={"experiment_recalculation_time": value})
    assert response.status_code == 400
    assert response.get_json()["attr"] == "experiment_recalculation_time"
    assert response.get_json()["detail"] == (
        "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."
    )


@pytest.mark.parametrize("value", ["10:00", "4:5:6.1", "10:00:00Z", "23:59:59.999999", None])
def test_a_recalculation_time_takes_what_parse_time_reads(client, value):
    """django.utils.dateparse.parse_time: time.fromisoformat, else H:M[:S[.f]] of 1-2 digits."""
    response = client.patch("/api/projects/1/environments/1/", json={"experiment_recalculation_time": value})
    assert response.status_code == 200, response.get_json()
