"""Segment's own reset, under a stack, also forgets deliveries still retrying."""

from __future__ import annotations

import requests

from emulator.stack import Stack

WRITE_KEY = "seglike-demo-app-write-key-00001"


def retrying(db):
    rows = db.query(
        "SELECT id FROM actions_deliveries WHERE status = 'pending' AND attempts > 0"
    )
    return rows


def test_reset_of_every_source_drops_the_retrying_deliveries():
    with Stack(store=":memory:") as stack:
        outage = {"id": "outage", "path": "*/segment-events/", "status": 503}
        requests.post(
            f"{stack.livelike_url}/_emulator/faults", json=outage, timeout=5
        ).raise_for_status()
        requests.post(
            f"{stack.segment_url}/v1/track",
            auth=(WRITE_KEY, ""),
            json={"userId": "fan-9", "event": "Poll Voted", "messageId": "old-1"},
            timeout=5,
        ).raise_for_status()
        assert stack.db.wait_for(lambda: retrying(stack.db), timeout=10)

        body = requests.post(f"{stack.segment_url}/_emulator/reset", timeout=10).json()

        assert body["deliveries_reset"] is True
        assert stack.db.query("SELECT id FROM actions_deliveries") == []


def test_reset_of_one_source_leaves_the_queue_alone():
    with Stack(store=":memory:") as stack:
        body = requests.post(
            f"{stack.segment_url}/_emulator/reset",
            json={"source": "demo-app"},
            timeout=10,
        ).json()

        assert "deliveries_reset" not in body
