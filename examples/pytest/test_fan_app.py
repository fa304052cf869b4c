"""The fan app's integration tests, written against the emulator's fixtures.

``segment`` and ``livelike`` come from the emulator's pytest plugin: a local
Segment and LiveLike, emptied before each test. The app sends with the real
Segment SDK; the tests check what Segment received and what LiveLike rewarded.
"""

from __future__ import annotations

import pytest
from fan_app import FanApp
from segment.analytics import Client


@pytest.fixture
def analytics(segment):
    client = Client(segment.write_key, host=segment.url)
    yield client
    client.shutdown()


def test_a_vote_reaches_segment_and_earns_points(segment, livelike, analytics):
    app = FanApp(analytics)

    app.vote("fan-0001", poll_id="poll-7", choice="A")
    analytics.flush()

    segment.assert_received(
        type="track",
        event="Poll Voted",
        userId="fan-0001",
        properties={"poll_id": "poll-7"},
    )
    livelike.assert_received(event_name="Poll Voted", segment_user_id="fan-0001")
    livelike.assert_rewarded(user_id="fan-0001", item="Points", amount=10)


def test_twenty_points_earn_the_rookie_badge(segment, livelike, analytics):
    app = FanApp(analytics)

    app.vote("fan-0001", poll_id="poll-1", choice="A")
    app.read_article("fan-0001", article_id="match-preview")
    analytics.flush()

    livelike.assert_rewarded(user_id="fan-0001", badge="Rookie Fan")
    assert livelike.balance(user_id="fan-0001") == 25
    # LiveLike's source reports the badge back into Segment.
    segment.assert_received(event="Badge Rewarded", userId="fan-0001")


def test_signing_in_is_not_a_reward_action(segment, livelike, analytics):
    app = FanApp(analytics)

    app.sign_in("fan-0001", "ada@example.com")
    analytics.flush()

    segment.assert_received(type="identify", traits={"email": "ada@example.com"})
    segment.assert_not_received(type="track")
    assert livelike.transactions(user_id="fan-0001") == []


def test_points_survive_a_livelike_outage(segment, livelike, analytics):
    livelike.fault(path="*/segment-events/", status=503, times=2)
    app = FanApp(analytics)

    app.read_article("fan-0001", article_id="match-report")
    analytics.flush()

    # Segment's delivery retries the 503s with backoff; the third attempt lands.
    livelike.assert_rewarded(user_id="fan-0001", item="Points", amount=15, timeout=30)
    [outage] = livelike.faults()
    assert outage["applied"] == 2
