"""Hostile bodies and query strings get a specific 400 from LiveLike, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.livelike_helpers import (
    AUDIENCE,
    AUTH,
    CLIENT_ID,
    EVENTS,
    event,
    make_livelike,
)

JSON = {**AUTH, "Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED_EVENTS = b'{"events": ' + DEEP + b"}"


@pytest.fixture
def ll():
    return make_livelike()


def _user_quest_id(ll) -> str:
    ll.send(event("Poll Voted"))
    quests = ll.get("/api/v1/user-quests/", client_id=CLIENT_ID)["results"]
    return quests[0]["id"]


@pytest.mark.parametrize("body", [DEEP, NESTED_EVENTS])
@pytest.mark.parametrize("path", [EVENTS, AUDIENCE])
def test_deeply_nested_json_is_a_400(ll, path, body):
    response = ll.client.post(path, data=body, headers=JSON)

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert "nested too deeply" in response.get_json()["message"]


def test_deeply_nested_json_on_the_user_quest_patch_is_a_400(ll):
    quest = _user_quest_id(ll)

    response = ll.client.patch(f"/api/v1/user-quests/{quest}/", data=DEEP, headers=JSON)

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_a_400_and_change_nothing(ll, constant):
    text = json.dumps({"events": [event(properties={"score": 1})]})
    text = text.replace('"score": 1', f'"score": {constant}')

    response = ll.client.post(EVENTS, data=text, headers=JSON)

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0


@pytest.mark.parametrize("key", ["event_name", "segment_user_id"])
def test_a_lone_surrogate_in_an_event_becomes_the_replacement_character(ll, key):
    text = json.dumps({"events": [event(**{key: "x"})]})
    text = text.replace('"x"', '"a\\ud800b"')

    response = ll.client.post(EVENTS, data=text, headers=JSON)

    assert response.status_code == 202
    if key == "segment_user_id":
        assert ll.profile_id("a\ufffdb")
    else:
        names = ll.db.query("SELECT name FROM ll_reward_action")
        assert [row["name"] for row in names] == ["a\ufffdb"]


def test_a_lone_surrogate_in_an_audience_user_id_becomes_the_replacement_character(
    ll,
):
    item = {
        "audience_id": "aud_vip",
        "audience_name": "vip",
        "action": True,
        "timestamp": "2024-05-01T10:00:00Z",
        "user_id": "x",
    }
    text = json.dumps([item]).replace('"x"', '"fan\\udfff"')

    response = ll.client.post(AUDIENCE, data=text, headers=JSON)

    assert response.status_code == 200
    assert ll.profile_id("fan\ufffd")


@pytest.mark.parametrize("key", ["segment_user_id", "custom_id"])
def test_a_custom_id_longer_than_livelike_stores_is_refused(ll, key):
    fields = {"user": None, key: "u" * 40_000}

    response = ll.client.post(EVENTS, json={"events": [event(**fields)]}, headers=AUTH)

    assert response.status_code == 400
    assert response.get_json()["path"] == f"$.events[0].{key}"
    assert "at most 255 characters" in response.get_json()["message"]
    assert ll.count("SELECT COUNT(*) FROM ll_outbox") == 0


def test_a_custom_id_of_255_characters_is_accepted(ll):
    ll.send(event(user="u" * 255))

    assert ll.profile_id("u" * 255)


HUGE = str(2**64)


@pytest.mark.parametrize(
    "url",
    [
        f"/_emulator/requests?after={HUGE}",
        f"/_emulator/requests?limit={HUGE}",
        f"/_emulator/requests?status={HUGE}",
        f"/_emulator/outbox?after={HUGE}",
        f"/_emulator/outbox?limit=-{HUGE}",
        f"/_emulator/audience-log?limit={HUGE}",
        f"/api/v1/reward-items/?page={HUGE}",
        f"/api/v1/reward-items/?page_size={HUGE}",
        f"/api/v1/earned-badges/?page={HUGE}0",
        "/api/v1/reward-items/?page=" + "9" * 5000,
    ],
)
def test_integer_query_parameters_beyond_64_bits_are_a_400(ll, url):
    response = ll.client.get(url, headers=AUTH)

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_query"
    assert response.get_json()["path"].startswith("$.query.")
