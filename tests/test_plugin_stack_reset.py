"""``Stack.reset()``: the per-test reset empties every component and keeps working."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from segment.analytics import Client

from emulator.pytest_plugin.session import EmulatorSession
from emulator.stack import Stack

WRITE_KEY = "seglike-demo-app-write-key-00001"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(store=":memory:") as running:
        yield running


def eventually(stack: Stack, check):
    """Re-run *check* after each commit of the store (it calls the services)."""
    session = EmulatorSession(
        segment_url=stack.segment_url,
        livelike_url=stack.livelike_url,
        config=stack.config,
        stack=stack,
    )
    return session.wait_until(check, timeout=10)


def vote(stack: Stack, user_id: str) -> None:
    client = Client(WRITE_KEY, host=stack.segment_url, sync_mode=True)
    client.track(user_id, "Poll Voted", {"poll_id": "p-1"})


def delivered(stack: Stack) -> list:
    response = requests.get(f"{stack.segment_url}/_emulator/deliveries", timeout=5)
    return [d for d in response.json()["deliveries"] if d["status"] == "delivered"]


def counts(stack: Stack) -> dict[str, int]:
    messages = requests.get(f"{stack.segment_url}/_emulator/messages", timeout=5)
    received = requests.get(f"{stack.livelike_url}/_emulator/requests", timeout=5)
    deliveries = requests.get(f"{stack.segment_url}/_emulator/deliveries", timeout=5)
    faults = requests.get(f"{stack.livelike_url}/_emulator/faults", timeout=5)
    return {
        "messages": len(messages.json()["items"]),
        "livelike requests": len(received.json()["requests"]),
        "deliveries": len(deliveries.json()["deliveries"]),
        "faults": len(faults.json()["faults"]),
    }


def test_reset_empties_every_component_and_clears_faults(stack):
    vote(stack, "fan-0001")
    assert eventually(stack, lambda: delivered(stack))
    requests.post(
        f"{stack.livelike_url}/_emulator/faults",
        json={"path": "/nowhere", "status": 500},
        timeout=5,
    )

    stack.reset()

    assert counts(stack) == {
        "messages": 0,
        "livelike requests": 0,
        "deliveries": 0,
        "faults": 0,
    }


def test_the_pipeline_delivers_again_after_a_reset(stack):
    stack.reset()

    vote(stack, "fan-0001")

    found = eventually(stack, lambda: delivered(stack))
    assert found and found[0]["payload"]["segment_user_id"] == "fan-0001"
