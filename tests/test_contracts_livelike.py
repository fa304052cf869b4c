"""The LiveLike destination requests and the LiveLike source events."""

from __future__ import annotations

import copy

import pytest

from emulator.contracts import validate_message

PROFILE = "5f724202-246d-439b-8250-527bed44b6c9"
SOURCE_EVENTS = {
    "Badge Rewarded": {
        "badge_id": "b-1",
        "badge_title": "Super Fan",
        "description": None,
        "earned_badge_id": "eb-1",
        "image_url": "https://cdn.example.com/badge.png",
        "reward_item_id": "ri-1",
        "reward_item_name": "Points",
        "reward_item_threshold": 100,
        "source": "reward_transaction",
    },
    "Quest Task Completed": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "quest_task_id": "qt-1",
        "quest_task_name": "Vote in a poll",
        "user_quest_id": "uq-1",
        "user_quest_task_id": "uqt-1",
    },
    "Quest Reward Awarded": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "reward_item_name": "Points",
        "reward_item_amount": 50,
        "reward_item_balance": 310,
        "reward_item_id": "ri-1",
        "reward_item_transaction_id": "tx-2",
    },
    "Reward Item Rewarded": {
        "reward_item_name": "Points",
        "reward_item_amount": 100,
        "reward_item_balance": 260,
        "reward_item_id": "ri-1",
        "reward_item_transaction_id": "tx-1",
    },
    "User Quest Task Progressed": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "quest_task_id": "qt-1",
        "quest_task_name": "Vote in a poll",
        "quest_task_target_value": 3,
        "user_quest_id": "uq-1",
        "user_quest_task_id": "uqt-1",
        "user_quest_task_progress": 1.5,
    },
    "User Quest Completed": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "user_quest_id": "uq-1",
        "variant_id": "v-a",
        "variant_name": "A",
    },
    "Quest Published": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "quest_start_at": "2025-07-01T00:00:00Z",
        "quest_end_at": None,
        "rewards": [{"id": "ri-1", "name": "Points", "amount": 50}],
        "badges": [{"id": "b-1", "name": "Super Fan", "test_variant_ids": []}],
    },
    "A/B Test Variant Assigned": {
        "quest_id": "q-1",
        "quest_name": "Matchday",
        "variant_id": "v-a",
        "variant_name": "A",
    },
    "Streak Progressed": {"user_streak_id": "us-1", "streak_id": "s-1"},
}


def _event(name, **changes):
    message = {
        "type": "track",
        "event": name,
        "userId": "cust-900",
        "messageId": "m-1",
        "timestamp": "2025-07-02T16:27:00.000Z",
        "properties": {"livelike_profile_id": PROFILE, **SOURCE_EVENTS[name]},
    }
    message.update(changes)
    return message


@pytest.mark.parametrize("name", list(SOURCE_EVENTS))
def test_source_event_validates_by_name_and_alone(name):
    slug = name.lower().replace("/", "-").replace(" ", "-")

    assert validate_message(_event(name), "livelike/source/event") == []
    assert validate_message(_event(name), f"livelike/source/{slug}") == []


def test_the_six_documented_events_have_their_own_contract():
    for name in list(SOURCE_EVENTS)[:6]:
        slug = name.lower().replace(" ", "-")
        assert validate_message(_event(name), f"livelike/source/{slug}") == []


def _broken(name, mutate):
    message = copy.deepcopy(_event(name))
    mutate(message)
    return message


MISTAKES = [
    # (event, mutation, violation type, path)
    (
        "Reward Item Rewarded",
        lambda m: m["properties"].update(reward_item_amount="100"),
        "Invalid Type",
        "$.properties.reward_item_amount",
    ),
    (
        "Reward Item Rewarded",
        lambda m: m["properties"].pop("livelike_profile_id"),
        "Required",
        "$.properties.livelike_profile_id",
    ),
    (
        "Quest Reward Awarded",
        lambda m: m["properties"].update(reward_item_balance=12.5),
        "Invalid Type",
        "$.properties.reward_item_balance",
    ),
    (
        "User Quest Task Progressed",
        lambda m: m["properties"].update(user_quest_task_progress=-1),
        "Out of Range",
        "$.properties.user_quest_task_progress",
    ),
    (
        "Badge Rewarded",
        lambda m: m["properties"].pop("reward_item_threshold"),
        "Required",
        "$.properties.reward_item_threshold",
    ),
    (
        "Quest Task Completed",
        lambda m: m["properties"].update(quest_task_id=""),
        "Invalid Length",
        "$.properties.quest_task_id",
    ),
    ("User Quest Completed", lambda m: m.pop("userId"), "Required", "$.userId"),
    (
        "User Quest Completed",
        lambda m: m.update(properties="uq-1"),
        "Invalid Type",
        "$.properties",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "kind", "path"), MISTAKES)
def test_typical_mistakes_are_caught(name, mutate, kind, path):
    violations = validate_message(_broken(name, mutate), "livelike/source/event")

    assert (kind, path) in [(v.type, v.path) for v in violations], [
        str(v) for v in violations
    ]


def test_an_event_livelike_never_sends_is_rejected():
    message = _event("User Quest Completed", event="User Quest Complete")

    [violation] = validate_message(message, "livelike/source/event")

    assert (violation.type, violation.path) == ("Invalid Value", "$.event")
    assert "User Quest Completed" in violation.description


TRACK_EVENT = {
    "event_name": "Test Event",
    "event_type": "track",
    "segment_user_id": "test123",
    "anonymous_id": "anon-1",
    "timestamp": "2021-08-17T15:21:15.449Z",
    "properties": {},
}


def test_segment_events_body_from_the_destination_tests():
    assert validate_message({"events": [TRACK_EVENT]}, "livelike/segment-events") == []
    # The array is a leftover of the batch design: N events are accepted.
    assert (
        validate_message(
            {"events": [TRACK_EVENT, TRACK_EVENT]}, "livelike/segment-events"
        )
        == []
    )


@pytest.mark.parametrize(
    ("event", "kind", "path"),
    [
        (
            {**TRACK_EVENT, "segment_user_id": ""},
            "Required",
            "$.events[0].livelike_profile_id",
        ),
        (
            {k: v for k, v in TRACK_EVENT.items() if k != "event_name"},
            "Required",
            "$.events[0].event_name",
        ),
        (
            {**TRACK_EVENT, "timestamp": 1629213675},
            "Invalid Type",
            "$.events[0].timestamp",
        ),
        ({**TRACK_EVENT, "properties": None}, "Invalid Type", "$.events[0].properties"),
        (
            {**TRACK_EVENT, "userId": "test123"},
            "Additional Property",
            "$.events[0].userId",
        ),
    ],
)
def test_segment_events_mistakes(event, kind, path):
    violations = validate_message({"events": [event]}, "livelike/segment-events")

    assert (kind, path) in [(v.type, v.path) for v in violations]


def test_identity_rule_quotes_the_destinations_three_keys():
    event = {k: v for k, v in TRACK_EVENT.items() if k != "segment_user_id"}

    [violation] = validate_message({"events": [event]}, "livelike/segment-events")

    assert violation.description == (
        "events.0.livelike_profile_id or events.0.custom_id or "
        "events.0.segment_user_id is required"
    )


SYNC_ITEM = {
    "audience_id": "aud_2zJkeVoLkrirhXup2uAPEsDLq4N",
    "audience_name": "test_audience",
    "action": True,
    "timestamp": "2025-07-02T16:26:57.511Z",
    "livelike_profile_id": "122",
    "user_id": "900",
    "email": "test@test.com",
}


def test_audience_sync_is_a_top_level_array_with_spread_traits():
    remove = {**SYNC_ITEM, "action": False, "custom_id": "c-1", "favourite_team": "x"}

    assert validate_message([SYNC_ITEM, remove], "livelike/segment-audience-sync") == []


@pytest.mark.parametrize(
    ("body", "kind", "path"),
    [
        ({"items": [SYNC_ITEM]}, "Invalid Type", "$"),
        ([{**SYNC_ITEM, "action": "true"}], "Invalid Type", "$[0].action"),
        (
            [{k: v for k, v in SYNC_ITEM.items() if k != "audience_id"}],
            "Required",
            "$[0].audience_id",
        ),
        ([], "Invalid Length", "$"),
    ],
)
def test_audience_sync_mistakes(body, kind, path):
    violations = validate_message(body, "livelike/segment-audience-sync")

    assert (kind, path) in [(v.type, v.path) for v in violations]


def test_validate_app_request():
    request = {
        "method": "GET",
        "path": "/api/v1/applications/demo-client-id/validate-app/",
        "headers": {"Authorization": "Bearer demo-producer-token"},
    }

    assert validate_message(request, "livelike/validate-app") == []
    broken = {**request, "headers": {"Authorization": "Token demo-producer-token"}}
    [violation] = validate_message(broken, "livelike/validate-app")
    assert violation.path == "$.headers.Authorization"
