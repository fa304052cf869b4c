"""Delivery throughput and latency through the real stack.

Events go in through the Segment service's ``/v1/batch`` and out through the
pipeline to the LiveLike emulator, one ``segment-events`` request each, as
Segment's LiveLike destination sends them.
"""

from __future__ import annotations

import time

import requests

from bench.figures import Figure
from emulator.actions import deliveries
from emulator.config import load_config
from emulator.stack import Stack

WRITE_KEY = "seglike-demo-app-write-key-00001"
EVENTS = 1000


def run() -> list[Figure]:
    with Stack(load_config(), store=":memory:") as stack:
        batch = [
            {
                "type": "track",
                "event": "Poll Voted",
                "userId": f"fan-{index % 50}",
                "messageId": f"bench-{index}",
                "properties": {"poll": "p1"},
            }
            for index in range(EVENTS)
        ]
        started = time.perf_counter()
        for offset in range(0, EVENTS, 250):
            response = requests.post(
                f"{stack.segment_url}/v1/batch",
                json={"batch": batch[offset : offset + 250]},
                auth=(WRITE_KEY, ""),
                timeout=30,
            )
            response.raise_for_status()

        def all_delivered():
            counts = deliveries.stats(stack.db).get("LiveLike", {}).get("trackEvent")
            return counts and counts["delivered"] + counts["failed"] >= EVENTS

        stack.db.wait_for(all_delivered, timeout=300)
        elapsed = time.perf_counter() - started
        items = deliveries.list_deliveries(stack.db, limit=EVENTS)

    durations = sorted(a["durationMs"] for d in items for a in d["attempts"])
    delivered = sum(d["status"] == "delivered" for d in items)
    return [
        Figure("delivered", delivered, "events", target=EVENTS),
        Figure("end-to-end throughput", EVENTS / elapsed, "events/s"),
        Figure(
            "request to LiveLike, median",
            durations[len(durations) // 2],
            "ms",
            higher_is_better=False,
        ),
    ]
