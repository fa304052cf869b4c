"""End to end in the real stack: an SDK call reaches the LiveLike emulator
through the pipeline, and the control API shows the delivery."""

from __future__ import annotations

import pytest
import requests

from emulator.actions import deliveries
from emulator.config import load_config
from emulator.stack import Stack

WRITE_KEY = "seglike-demo-app-write-key-00001"


@pytest.fixture
def stack():
    with Stack(load_config(), store=":memory:") as running:
        yield running


def delivered(stack: Stack, count: int) -> list[dict]:
    def probe():
        items = deliveries.list_deliveries(stack.db)
        done = len(items) >= count and all(d["status"] != "pending" for d in items)
        return items if done else None

    items = stack.db.wait_for(probe, timeout=15)
    assert items is not None, deliveries.list_deliveries(stack.db)
    return items


def test_a_track_call_is_delivered_to_the_livelike_emulator(stack):
    response = requests.post(
        f"{stack.segment_url}/v1/track",
        json={
            "event": "Poll Voted",
            "userId": "fan-1",
            "messageId": "m-e2e-1",
            "properties": {"poll": "p1"},
        },
        auth=(WRITE_KEY, ""),
        timeout=10,
    )
    assert response.status_code == 200

    (delivery,) = delivered(stack, 1)

    assert delivery["status"] == "delivered", delivery
    (attempt,) = delivery["attempts"]
    assert attempt["request"]["url"] == (
        f"{stack.livelike_url}/api/v1/applications/demo-client-id/segment-events/"
    )
    assert attempt["response"]["status"] == 202

    listed = requests.get(
        f"{stack.segment_url}/_emulator/deliveries",
        params={"messageId": "m-e2e-1"},
        timeout=10,
    ).json()
    assert [d["id"] for d in listed["deliveries"]] == [delivery["id"]]

    stats = requests.get(f"{stack.segment_url}/_emulator/stats", timeout=10).json()
    assert stats["deliveries"]["LiveLike"]["trackEvent"]["delivered"] == 1


def test_reset_restarts_the_pipeline_with_a_clean_slate(stack):
    call = {"event": "Poll Voted", "userId": "fan-1", "messageId": "m-before"}
    requests.post(
        f"{stack.segment_url}/v1/track", json=call, auth=(WRITE_KEY, ""), timeout=10
    )
    delivered(stack, 1)

    stack.reset()
    call["messageId"] = "m-after"
    requests.post(
        f"{stack.segment_url}/v1/track", json=call, auth=(WRITE_KEY, ""), timeout=10
    )

    (delivery,) = delivered(stack, 1)
    assert (delivery["messageId"], delivery["status"]) == ("m-after", "delivered")
