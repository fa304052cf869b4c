"""Each rule of the rewards engine, through the destination API."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from tests.livelike_helpers import (
    ADA,
    AUDIENCE,
    AUTH,
    GRACE,
    SMALL_APP,
    event,
    make_livelike,
    stack_config,
)


@pytest.fixture
def ll():
    return make_livelike()


def _freeze(ll, moment: datetime) -> list[datetime]:
    """Drive the engine's clock from a list a test can move forward."""
    now = [moment]
    ll.app.extensions["seglike.livelike"].clock = lambda: now[0]
    return now


# --- profiles -------------------------------------------------------------------


def test_a_configured_livelike_profile_id_is_used_as_is(ll):
    ll.send(event(user="someone-else", livelike_profile_id=ADA))

    assert ll.balance(ADA) == 10
    assert ll.count("SELECT COUNT(*) FROM ll_profile WHERE seeded = 0") == 0


def test_custom_id_comes_before_the_segment_user_id(ll):
    ll.send(event(user="segment-user", custom_id="fan-0001"))

    assert ll.balance(ADA) == 10
    assert ll.count("SELECT COUNT(*) FROM ll_profile WHERE seeded = 0") == 0


def test_an_unknown_user_id_creates_one_profile_with_that_custom_id(ll):
    ll.send(event(user="new-fan"))
    ll.send(event(user="new-fan"))

    profile_id = ll.profile_id("new-fan")
    assert ll.balance(profile_id) == 20
    assert ll.count("SELECT COUNT(*) FROM ll_profile WHERE custom_id = 'new-fan'") == 1


# --- reward actions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_name", "key"),
    [
        ("Poll Voted", "poll-voted"),
        ("poll-voted", "poll-voted"),
        ("Article Read", "article-read"),
    ],
)
def test_event_names_match_configured_actions_by_key_slug_or_name(ll, event_name, key):
    ll.send(event(event_name))

    invoked = ll.get("/api/v1/invoked-actions/")["results"]
    assert [i["reward_action_key"] for i in invoked] == [key]
    assert ll.count("SELECT COUNT(*) FROM ll_reward_action") == 0


def test_an_unknown_event_name_creates_a_custom_action_once(ll):
    ll.send(event("Shared A Clip!"))
    ll.send(event("Shared A Clip!"))

    actions = ll.get("/api/v1/reward-actions/")["results"]
    created = [a for a in actions if a["key"] == "shared-a-clip"]
    assert created == [
        {
            "id": created[0]["id"],
            "client_id": "demo-client-id",
            "key": "shared-a-clip",
            "name": "Shared A Clip!",
            "description": None,
            "type": "custom",
        }
    ]
    assert ll.balance(ll.profile_id("user-1")) == 0


def test_properties_become_invoked_action_attributes(ll):
    ll.send(event(properties={"poll_id": 42, "long": "x" * 300, "nested": {"a": 1}}))

    invoked = ll.get("/api/v1/invoked-actions/")["results"][0]
    assert invoked["attributes"] == [
        {"key": "poll_id", "value": "42"},
        {"key": "long", "value": "x" * 200},
        {"key": "event_type", "value": "track"},
    ]
    assert invoked["rewards"][0]["reward_item_amount"] == 10


def test_a_redelivered_event_is_applied_once(ll):
    same = event(timestamp="2025-01-01T00:00:00.000Z")

    ll.send(same)
    ll.send(same)

    assert ll.balance(ll.profile_id("user-1")) == 10
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 1
    assert len(ll.source_events("Reward Item Rewarded")) == 2  # Points and Coins


# --- reward tables, transactions, balances --------------------------------------


def test_every_matching_table_entry_pays_and_is_recorded(ll):
    ll.send(event())

    profile_id = ll.profile_id("user-1")
    assert ll.balance(profile_id, "Points") == 10
    assert ll.balance(profile_id, "Coins") == 1
    transactions = ll.get("/api/v1/reward-transactions/", profile_id=profile_id)
    assert sorted(t["reward_item_amount"] for t in transactions["results"]) == [1, 10]
    assert {t["source"] for t in transactions["results"]} == {"reward-table"}
    assert {t["reward_action_key"] for t in transactions["results"]} == {"poll-voted"}


def test_reward_item_rewarded_reports_amount_balance_and_transaction(ll):
    ll.send(event())
    ll.send(event())

    points = [
        e
        for e in ll.source_events("Reward Item Rewarded")
        if e["properties"]["reward_item_name"] == "Points"
    ]
    transactions = {t["id"] for t in ll.get("/api/v1/reward-transactions/")["results"]}
    assert [e["properties"]["reward_item_balance"] for e in points] == [10, 20]
    assert [e["properties"]["reward_item_amount"] for e in points] == [10, 10]
    assert {
        e["properties"]["reward_item_transaction_id"] for e in points
    } <= transactions


def test_a_reward_limit_caps_rewards_per_calendar_day(ll):
    now = _freeze(ll, datetime(2025, 5, 1, 23, 0, tzinfo=UTC))

    for _ in range(3):
        ll.send(event("Article Read"))
    capped = ll.balance(ll.profile_id("user-1"))
    now[0] += timedelta(hours=2)  # the next day
    ll.send(event("Article Read"))

    assert capped == 10
    assert ll.balance(ll.profile_id("user-1")) == 15
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 4


def test_a_rate_limit_caps_rewards_in_a_sliding_window(ll):
    now = _freeze(ll, datetime(2025, 5, 1, 12, 0, 30, tzinfo=UTC))

    ll.send(event("Quiz Correct"))
    now[0] += timedelta(seconds=45)
    ll.send(event("Quiz Correct"))
    now[0] += timedelta(seconds=20)
    ll.send(event("Quiz Correct"))

    assert ll.balance(ll.profile_id("user-1")) == 14


# --- badges ---------------------------------------------------------------------


def test_a_badge_is_earned_once_when_the_threshold_is_crossed(ll):
    ll.send(event())
    before = ll.source_events("Badge Rewarded")
    ll.send(event())
    ll.send(event())

    profile_id = ll.profile_id("user-1")
    badges = ll.source_events("Badge Rewarded")
    earned = ll.get("/api/v1/earned-badges/", profile_id=profile_id)["results"]
    assert before == []
    assert [b["properties"]["badge_title"] for b in badges] == ["Twenty"]
    assert badges[0]["properties"]["reward_item_threshold"] == 20
    assert badges[0]["properties"]["source"] == "reward_transaction"
    assert badges[0]["properties"]["earned_badge_id"] == earned[0]["id"]
    assert [e["badge"]["name"] for e in earned] == ["Twenty"]


# --- quests ---------------------------------------------------------------------


def test_quest_tasks_progress_complete_and_pay_once(ll):
    ll.send(event("Poll Voted"))
    ll.send(event("Poll Voted"))
    ll.send(event("Poll Voted"))  # the task is done: no more progress
    ll.send(event("Article Read"))
    ll.send(event("Article Read"))  # the quest is done: nothing more

    names = [e["event"] for e in ll.source_events()]
    progressed = ll.source_events("User Quest Task Progressed")
    quests = ll.get("/api/v1/user-quests/")["results"]
    assert [p["properties"]["user_quest_task_progress"] for p in progressed] == [
        1,
        2,
        1,
    ]
    assert names.count("Quest Task Completed") == 2
    assert names.count("User Quest Completed") == 1
    assert names.count("Quest Reward Awarded") == 1
    assert quests[0]["status"] == "completed"
    assert quests[0]["rewards_status"] == "claimed"
    # 3 polls x 10 + 2 articles x 5 + the quest's 100
    assert ll.balance(ll.profile_id("user-1")) == 140
    awarded = ll.source_events("Quest Reward Awarded")[0]["properties"]
    assert awarded["reward_item_amount"] == 100
    assert awarded["reward_item_balance"] == 135  # 3 polls and 1 article before


def test_quest_events_come_in_causal_order(ll):
    ll.send(event("Poll Voted"))
    ll.send(event("Article Read"))
    ll.send(event("Poll Voted"))

    last_request = [e["event"] for e in ll.source_events()][-8:]
    assert last_request == [
        "Reward Item Rewarded",  # Points: 25
        "Badge Rewarded",  # Twenty, crossed by that reward
        "Reward Item Rewarded",  # Coins
        "User Quest Task Progressed",
        "Quest Task Completed",
        "User Quest Completed",
        "Quest Reward Awarded",
        "Badge Rewarded",  # Quester: the quest's own badge
    ]
    quest_badge = ll.source_events("Badge Rewarded")[-1]["properties"]
    assert quest_badge["source"] == "quest"
    assert quest_badge["quest_name"] == "Reader"


def test_without_auto_claim_rewards_are_claimed_once_through_the_api():
    app = copy.deepcopy(SMALL_APP)
    app["auto_claim_quest_rewards"] = False
    ll = make_livelike(stack_config(app))
    ll.send(event("Poll Voted"), event("Poll Voted"), event("Article Read"))
    user_quest = ll.get("/api/v1/user-quests/")["results"][0]
    before = ll.balance(ll.profile_id("user-1"))

    first = ll.client.patch(
        f"/api/v1/user-quests/{user_quest['id']}/",
        json={"rewards_status": "claimed"},
        headers=AUTH,
    )
    second = ll.client.patch(
        f"/api/v1/user-quests/{user_quest['id']}/",
        json={"rewards_status": "claimed"},
        headers=AUTH,
    )

    assert user_quest["rewards_status"] == "unclaimed"
    assert first.status_code == second.status_code == 200
    assert first.get_json()["rewards_status"] == "claimed"
    assert ll.balance(ll.profile_id("user-1")) == before + 100
    assert len(ll.source_events("Quest Reward Awarded")) == 1


def test_quests_do_not_move_without_auto_quest_processing():
    app = copy.deepcopy(SMALL_APP)
    app["auto_quest_processing"] = False
    ll = make_livelike(stack_config(app))

    ll.send(event("Poll Voted"))

    assert ll.get("/api/v1/user-quests/")["count"] == 0
    assert ll.balance(ll.profile_id("user-1")) == 10


def test_a_quest_limited_to_a_group_waits_for_the_audience_sync():
    app = copy.deepcopy(SMALL_APP)
    app["quests"][0]["profile_groups"] = ["VIP"]
    ll = make_livelike(stack_config(app))

    ll.send(event("Poll Voted", user=None, livelike_profile_id=ADA))
    outside = ll.get("/api/v1/user-quests/")["count"]
    ll.client.post(
        AUDIENCE,
        json=[
            {
                "audience_id": "aud_vip",
                "audience_name": "vip",
                "action": True,
                "timestamp": "2025-07-02T16:26:57.511Z",
                "livelike_profile_id": ADA,
            }
        ],
        headers=AUTH,
    )
    ll.send(event("Poll Voted", user=None, livelike_profile_id=ADA))

    assert outside == 0
    assert ll.get("/api/v1/user-quests/")["count"] == 1


# --- leaderboards ---------------------------------------------------------------


def test_leaderboards_rank_earnings_and_locked_boards_stay_still(ll):
    ll.send(event(user="a"))
    ll.send(event(user="b"), event(user="b"))

    entries = ll.get(f"/api/v1/leaderboards/{ll.board_id('Points Board')}/entries/")
    locked = ll.get(f"/api/v1/leaderboards/{ll.board_id('Locked Board')}/entries/")
    assert [(e["rank"], e["score"]) for e in entries["results"]] == [(1, 20), (2, 10)]
    assert entries["results"][0]["profile_id"] == ll.profile_id("b")
    assert locked["count"] == 0


def test_a_leaderboard_score_never_goes_down(ll):
    ll.send(event(user="a"))
    profile_id = ll.profile_id("a")
    with ll.db.transaction() as conn:  # spending lowers the balance only
        conn.execute(
            "UPDATE ll_balance SET balance = balance - 10 WHERE profile_id = ?",
            (profile_id,),
        )
    ll.send(event(user="a"))

    entries = ll.get(f"/api/v1/leaderboards/{ll.board_id('Points Board')}/entries/")
    assert entries["results"][0]["score"] == 20
    assert ll.balance(profile_id) == 10


# --- profile groups -------------------------------------------------------------


def _item(action: bool, **identity: str) -> dict:
    return {
        "audience_id": "aud_vip",
        "audience_name": "vip",
        "action": action,
        "timestamp": "2025-07-02T16:26:57.511Z",
        **identity,
    }


def test_audience_sync_adds_and_removes_members_in_order(ll):
    group_id = ll.application.profile_groups[0].id
    members = f"/api/v1/applications/demo-client-id/profile-groups/{group_id}/members/"

    ll.client.post(
        AUDIENCE,
        json=[
            _item(True, livelike_profile_id=ADA),
            _item(True, user_id="900"),
            _item(True, livelike_profile_id=GRACE),
            _item(False, livelike_profile_id=GRACE),
            _item(True, livelike_profile_id=ADA),
        ],
        headers=AUTH,
    )

    listed = ll.get(members)["results"]
    assert sorted(m["custom_id"] or "" for m in listed) == ["900", "fan-0001"]
    outcomes = [
        i["outcome"]
        for i in ll.client.get("/_emulator/audience-log").get_json()["items"]
    ]
    assert outcomes == ["added", "added", "added", "removed", "already_added"]


def test_audience_items_for_unknown_groups_are_logged_not_applied(ll):
    ll.client.post(
        AUDIENCE,
        json=[{**_item(True, user_id="1"), "audience_id": "aud_unknown"}],
        headers=AUTH,
    )

    items = ll.client.get("/_emulator/audience-log").get_json()["items"]
    assert [i["outcome"] for i in items] == ["no_group"]
    assert ll.count("SELECT COUNT(*) FROM ll_membership") == 0


# --- the source events' identity ------------------------------------------------


def test_source_events_carry_user_id_when_known_else_anonymous_id(ll):
    ll.send(event(user=None, livelike_profile_id=ADA))
    ll.send(event(user=None, livelike_profile_id=GRACE))

    ada, _, grace, _ = ll.source_events("Reward Item Rewarded")
    assert ada["userId"] == "fan-0001"
    assert "anonymousId" not in ada
    assert grace["anonymousId"] == GRACE
    assert "userId" not in grace
    assert ada["properties"]["livelike_profile_id"] == ADA
    assert grace["properties"]["livelike_profile_id"] == GRACE
    assert ada["type"] == "track"
    assert ada["messageId"] != grace["messageId"]


def test_every_source_event_meets_its_contract(ll):
    from emulator.contracts import validate_message

    for name in ("Poll Voted", "Poll Voted", "Article Read", "Poll Voted"):
        ll.send(event(name))
    ll.send(
        event(user=None, livelike_profile_id="8a3c1c1e-9a57-4a8c-9f8e-0d3b8e1f2a77")
    )

    messages = ll.source_events()
    assert {m["event"] for m in messages} == {
        "Reward Item Rewarded",
        "Badge Rewarded",
        "User Quest Task Progressed",
        "Quest Task Completed",
        "User Quest Completed",
        "Quest Reward Awarded",
    }
    for message in messages:
        assert validate_message(message, contract="livelike/source/event") == [], (
            message
        )


@pytest.mark.parametrize(
    ("window", "moves"),
    [
        ({"started_at": "2025-05-02T00:00:00Z"}, False),  # not started yet
        ({"stopped_at": datetime(2025, 5, 1, 11, 0, tzinfo=UTC)}, False),  # over
        ({"started_at": "2025-05-01", "stopped_at": "2025-05-02T00:00:00+02:00"}, True),
    ],
)
def test_quests_only_move_inside_their_time_window(window, moves):
    app = copy.deepcopy(SMALL_APP)
    app["quests"][0].update(window)
    ll = make_livelike(stack_config(app))
    _freeze(ll, datetime(2025, 5, 1, 12, 0, tzinfo=UTC))

    ll.send(event("Poll Voted"))

    assert (ll.get("/api/v1/user-quests/")["count"] == 1) is moves
