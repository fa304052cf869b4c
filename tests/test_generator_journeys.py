"""Journeys: realistic proportions, video and shop specs, sessions, late events."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pytest

from emulator.generator import EventFactory


@pytest.fixture(scope="module")
def events():
    return list(EventFactory(21, users=60).stream(8000))


def when(message: dict) -> float:
    return datetime.fromisoformat(
        message["timestamp"].replace("Z", "+00:00")
    ).timestamp()


def test_every_call_type_in_realistic_proportions(events):
    types = Counter(e.message["type"] for e in events)
    share = {kind: count / len(events) for kind, count in types.items()}

    assert set(types) == {"track", "page", "screen", "identify", "alias", "group"}
    assert 0.6 < share["track"] < 0.85
    assert 0.1 < share["page"] + share["screen"] < 0.35
    assert share["alias"] < share["identify"] < 0.05


def test_fan_engagement_events_are_all_there(events):
    names = {e.message.get("event") for e in events}

    assert {
        "Application Opened",
        "Signed Up",
        "Poll Voted",
        "Quiz Answered",
        "Article Read",
        "Video Playback Started",
        "Video Content Playing",
        "Product Viewed",
        "Order Completed",
        "Fan Club Joined",
    } <= names


def test_video_sessions_follow_the_video_spec(events):
    sessions = defaultdict(list)
    for e in events:
        props = e.message.get("properties") or {}
        if e.message.get("event", "").startswith("Video") and "session_id" in props:
            sessions[props["session_id"]].append(e.message)

    assert len(sessions) > 20
    ended = 0
    for messages in sessions.values():
        messages.sort(key=when)
        if messages[0]["event"] != "Video Playback Started":
            # Only possible when its start was delivered late, after the stream ended.
            assert not any(m["event"] == "Video Playback Started" for m in messages)
            continue
        names = [m["event"] for m in messages]
        assert names[0] == "Video Playback Started"
        assert names[1] == "Video Content Started"
        ended += names[-1] in {"Video Playback Completed", "Video Playback Exited"}
        heartbeats = [m for m in messages if m["event"] == "Video Content Playing"]
        positions = [m["properties"]["position"] for m in heartbeats]
        assert positions == sorted(positions)
        assert all(p % 10 == 0 for p in positions)
    # Only videos still playing when the stream stops have no end event.
    assert ended > 0.9 * len(sessions)


def test_completed_orders_add_up(events):
    orders = [e.message for e in events if e.message.get("event") == "Order Completed"]
    assert orders
    for order in orders:
        props = order["properties"]
        subtotal = sum(p["price"] * p["quantity"] for p in props["products"])
        assert props["subtotal"] == pytest.approx(subtotal)
        expected = subtotal - props["discount"] + props["shipping"] + props["tax"]
        assert props["total"] == pytest.approx(expected, abs=0.011)
        assert props["currency"] == "USD"


def test_funnel_narrows_from_view_to_order(events):
    names = Counter(e.message.get("event") for e in events)

    assert (
        names["Product Viewed"]
        > names["Product Added"]
        > names["Checkout Started"]
        > names["Order Completed"]
        > 0
    )


def test_sessions_pauses_and_a_few_late_events(events):
    per_user = defaultdict(list)
    for e in events:
        per_user[e.user].append(when(e.message))

    gaps = [
        b - a
        for times in per_user.values()
        for a, b in zip(times, times[1:], strict=False)
    ]
    assert min(g for g in gaps if g > 0) < 60  # events within a session
    assert sum(g > 20 * 60 for g in gaps) > 60  # sessions apart

    late = sum(g < 0 for g in gaps)
    assert 0 < late < 0.05 * len(gaps)


def test_group_calls_carry_reserved_group_traits(events):
    groups = [e.message for e in events if e.message["type"] == "group"]
    assert groups
    for message in groups:
        assert message["groupId"].startswith("club-")
        assert {"name", "industry", "plan", "employees"} <= set(message["traits"])
