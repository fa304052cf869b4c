"""Acceptance: app → Segment → LiveLike → rewards → Segment, on a real stack.

The real ``segment-analytics-python`` client sends ``track`` calls to the stack's
Segment service; the pipeline delivers them to the LiveLike service, whose rewards
engine credits points and badges; the LiveLike source sends ``Reward Item
Rewarded`` and ``Badge Rewarded`` back into Segment.  Every step is observed by
waiting on the store's commit notifications, never by sleeping.
"""

from __future__ import annotations

import pytest
from segment.analytics import Client

from emulator.config import load_config
from emulator.livelike import models
from emulator.segment.messages import read_accepted
from emulator.stack import Stack

APP_WRITE_KEY = "seglike-demo-app-write-key-00001"
ADA = "5f724202-246d-439b-8250-527bed44b6c9"  # fixtures/stack.yaml, custom id fan-0001
TIMEOUT = 20


@pytest.fixture
def stack():
    running = Stack(load_config(), store=":memory:").start()
    yield running
    running.stop()


@pytest.fixture
def analytics(stack):
    # sync_mode: each call is one request, answered before track() returns
    return Client(APP_WRITE_KEY, host=stack.segment_url, sync_mode=True, max_retries=1)


def _livelike_events(stack: Stack, name: str, profile_id: str) -> list[dict]:
    return [
        stored.message
        for stored in read_accepted(stack.db, after_seq=0, limit=10_000)
        if stored.source == "livelike"
        and stored.message.get("event") == name
        and stored.message.get("properties", {}).get("livelike_profile_id")
        == profile_id
    ]


def _wait(stack: Stack, probe):
    found = stack.db.wait_for(probe, timeout=TIMEOUT, interval=0.5)
    assert found, f"gave up after {TIMEOUT}s waiting for {probe.__name__}"
    return found


def _balance(stack: Stack, profile_id: str) -> int:
    with stack.db.reading() as conn:
        return conn.execute(
            "SELECT COALESCE(SUM(balance), 0) FROM ll_balance WHERE profile_id = ?",
            (profile_id,),
        ).fetchone()[0]


def test_a_user_known_only_by_user_id_earns_points_and_a_badge(stack, analytics):
    for poll in ("p1", "p2"):
        analytics.track("roundtrip-fan", "Poll Voted", {"poll_id": poll})

    def delivered_twice():
        return (
            len(
                models.received_requests(
                    stack.db, path_contains="segment-events", status=202
                )
            )
            >= 2
        )

    _wait(stack, delivered_twice)
    profile = stack.db.query(
        "SELECT id FROM ll_profile WHERE custom_id = 'roundtrip-fan'"
    )[0]["id"]

    def rewarded_and_badged():
        rewarded = _livelike_events(stack, "Reward Item Rewarded", profile)
        badged = _livelike_events(stack, "Badge Rewarded", profile)
        return (rewarded, badged) if len(rewarded) >= 2 and badged else None

    rewarded, badged = _wait(stack, rewarded_and_badged)

    assert _balance(stack, profile) == 20
    assert sorted(e["properties"]["reward_item_balance"] for e in rewarded) == [10, 20]
    assert all(e["userId"] == "roundtrip-fan" for e in rewarded + badged)
    assert badged[0]["properties"]["badge_title"] == "Rookie Fan"
    assert badged[0]["properties"]["reward_item_threshold"] == 20


def test_a_configured_livelike_profile_id_is_credited(stack, analytics):
    analytics.track(
        "someone", "Quiz Correct", {"livelike_profile_id": ADA, "quiz_id": "q1"}
    )

    def rewarded():
        return _livelike_events(stack, "Reward Item Rewarded", ADA)

    events = _wait(stack, rewarded)
    badges = _wait(stack, lambda: _livelike_events(stack, "Badge Rewarded", ADA))

    assert _balance(stack, ADA) == 20
    assert events[0]["userId"] == "fan-0001"
    assert events[0]["properties"]["reward_item_amount"] == 20
    assert badges[0]["properties"]["badge_title"] == "Rookie Fan"


def test_the_loop_still_runs_after_a_stack_reset(stack, analytics):
    analytics.track("before-reset", "Quiz Correct", {})
    _wait(stack, lambda: models.received_requests(stack.db, status=202))

    stack.reset()
    analytics.track("after-reset", "Quiz Correct", {})

    def rewarded_after_reset():
        profiles = stack.db.query(
            "SELECT id FROM ll_profile WHERE custom_id = 'after-reset'"
        )
        if not profiles:
            return None
        return _livelike_events(stack, "Reward Item Rewarded", profiles[0]["id"])

    events = _wait(stack, rewarded_after_reset)

    assert events[0]["userId"] == "after-reset"
    assert (
        stack.db.query(
            "SELECT COUNT(*) FROM ll_profile WHERE custom_id = 'before-reset'"
        )[0][0]
        == 0
    )
