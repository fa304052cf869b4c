"""Contract validation speed: a typical track message against the Segment contract
and a 20-event tracking plan (target: median <= 50 µs per message)."""

from __future__ import annotations

import statistics
import time

import yaml

from bench.figures import Figure
from emulator.contracts import validate_message
from emulator.contracts.plans import parse_plan, shipped_plans

ROUNDS = 400
PER_ROUND = 50
TARGET_US = 50.0


def _message(index: int) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{index}",
        "anonymousId": "6d9a7e2c-2f0a-4a4e-9d4b-1f1f6a2f9c11",
        "messageId": f"api-{index:032d}",
        "timestamp": "2024-05-01T10:00:00.000Z",
        "originalTimestamp": "2024-05-01T09:59:59.900Z",
        "sentAt": "2024-05-01T10:00:00.050Z",
        "receivedAt": "2024-05-01T10:00:00.120Z",
        "context": {
            "library": {"name": "analytics-python", "version": "2.4.0"},
            "ip": "203.0.113.7",
            "locale": "en-GB",
            "app": {"name": "Fan App", "version": "5.2.0", "build": "520"},
            "device": {"id": "d-1", "type": "ios", "model": "iPhone15,2"},
            "os": {"name": "iOS", "version": "17.4"},
        },
        "integrations": {"All": True},
        "properties": {
            "order_id": f"o-{index}",
            "checkout_id": "c-1",
            "total": 27.5,
            "revenue": 25.0,
            "shipping": 2.5,
            "tax": 0.0,
            "currency": "USD",
            "products": [
                {
                    "product_id": "p-1",
                    "sku": "S-1",
                    "name": "Scarf",
                    "price": 15.0,
                    "quantity": 1,
                    "category": "Merch",
                },
                {
                    "product_id": "p-2",
                    "sku": "S-2",
                    "name": "Cap",
                    "price": 10.0,
                    "quantity": 1,
                    "category": "Merch",
                },
            ],
        },
    }


def _plan_of_20_events():
    raw = yaml.safe_load(shipped_plans()["ecommerce-v2"].read_text())
    names = list(raw["events"])
    keep = ["Order Completed"] + [n for n in names if n != "Order Completed"][:19]
    raw["events"] = {name: raw["events"][name] for name in keep}
    return parse_plan(raw, name="bench-20")


def _median_us(work, messages) -> float:
    samples = []
    for round_ in range(ROUNDS):
        batch = messages[(round_ * PER_ROUND) % len(messages) :][:PER_ROUND]
        start = time.perf_counter_ns()
        for message in batch:
            work(message)
        samples.append((time.perf_counter_ns() - start) / len(batch) / 1000)
    return statistics.median(samples)


def run() -> list[Figure]:
    plan = _plan_of_20_events()
    assert len(plan.events) == 20
    messages = [_message(i) for i in range(1000)]
    assert validate_message(messages[0], "segment/accepted/track") == []
    assert plan.check(messages[0]).ok

    def both(message):
        validate_message(message, "segment/accepted/track")
        plan.check(message)

    broken = [
        {**m, "properties": {**m["properties"], "total": "27.5"}} for m in messages
    ]
    for work in (both,):  # warm the compiled validators and caches
        _median_us(work, messages[:PER_ROUND])

    return [
        Figure(
            "track message vs Segment contract + 20-event plan (median)",
            _median_us(both, messages),
            "µs",
            target=TARGET_US,
            higher_is_better=False,
        ),
        Figure(
            "Segment contract alone (median)",
            _median_us(
                lambda m: validate_message(m, "segment/accepted/track"), messages
            ),
            "µs",
        ),
        Figure(
            "20-event plan alone (median)",
            _median_us(plan.check, messages),
            "µs",
        ),
        Figure(
            "invalid message, full report (median)",
            _median_us(plan.check, broken),
            "µs",
            note="only invalid messages pay for collecting every violation",
        ),
    ]
