"""The fixture's SDK helpers (captured, assert_captured, set_flag) and the control call for captures."""

import pytest

from mockhog.resources.identity import api_token


@pytest.fixture
def send(anonymous, backend):
    token = api_token(backend.seed, backend.projects[1])

    def post(*events):
        assert anonymous.post("/batch/", json={"api_key": token, "batch": list(events)}).status_code == 200

    return post


def test_control_lists_and_clears_captured_events(anonymous, send):
    send(
        {"event": "signed_up", "distinct_id": "a", "properties": {"plan": "pro"}},
        {"event": "x", "distinct_id": "b"},
    )
    listed = anonymous.get("/_mockhog/captured?event=signed_up").get_json()
    assert listed["count"] == 1
    assert listed["results"][0]["distinct_id"] == "a" and listed["results"][0]["project"] == 1
    assert listed["results"][0]["properties"] == {"plan": "pro"}
    assert anonymous.get("/_mockhog/captured").get_json()["count"] == 2
    assert anonymous.delete("/_mockhog/captured").get_json() == {"deleted": 2}
    assert anonymous.get("/_mockhog/captured").get_json() == {"count": 0, "results": []}
    # the persons the events made stay: clearing captures is not a reset
    auth = {"Authorization": "Bearer phx_mockhog_default_key"}
    assert anonymous.get("/api/projects/1/persons/?distinct_id=a", headers=auth).get_json()["results"]


def test_assert_captured_says_what_it_saw(mockhog):
    expected = r"0 captured events matched event='signed_up', expected any; captured: nothing"
    with pytest.raises(AssertionError, match=expected):
        mockhog.assert_captured("signed_up")


def test_set_flag_shapes(mockhog):
    on = mockhog.set_flag("a-flag")
    assert on["filters"]["groups"] == [{"properties": [], "rollout_percentage": 100}] and on["active"]
    split = mockhog.set_flag("split", variants={"control": 50, "test": 50}, payload={"test": {"x": 1}})
    assert [v["key"] for v in split["filters"]["multivariate"]["variants"]] == ["control", "test"]
    assert split["filters"]["payloads"] == {"test": '{"x": 1}'}
    again = mockhog.set_flag("a-flag", False)
    assert again["id"] == on["id"] and again["active"] is False and again["version"] == on["version"] + 1
    with pytest.raises(ValueError, match="must sum to 100"):
        mockhog.set_flag("bad", variants={"a": 10})
