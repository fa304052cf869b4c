"""Each labelled near-miss gets exactly its one reason from the real Segment service."""

from __future__ import annotations

import random

import pytest
import requests

from emulator.config import load_config
from emulator.generator import EventFactory, negatives
from emulator.segment.app import create_app
from emulator.store import open_database
from emulator.web.server import ServiceServer

WRITE_KEY = "seglike-demo-app-write-key-00001"


@pytest.fixture(scope="module")
def segment_url():
    db = open_database(":memory:")
    server = ServiceServer("segment", create_app(load_config(), db)).start()
    yield server.url
    server.stop()
    db.close()


@pytest.fixture(scope="module")
def samples() -> dict[str, dict]:
    """One good message of every call type."""
    found: dict[str, dict] = {}
    for message in EventFactory(31, users=40).messages(5000):
        found.setdefault(message["type"], message)
    assert set(found) == negatives.ALL_TYPES
    return found


def post(url: str, *messages: dict) -> requests.Response:
    return requests.post(
        f"{url}/v1/batch",
        json={"batch": list(messages)},
        auth=(WRITE_KEY, ""),
        timeout=10,
    )


def stored(url: str) -> list[dict]:
    response = requests.get(
        f"{url}/_emulator/messages", params={"limit": 50}, timeout=10
    )
    assert response.status_code == 200
    return response.json()["items"]


def cases() -> list[tuple[str, str]]:
    return [
        (name, sorted(types)[0])
        for name, (types, _, _) in sorted(negatives.KINDS.items())
    ]


@pytest.mark.parametrize(("kind", "call_type"), cases())
def test_near_miss_gets_exactly_its_labelled_reason(
    segment_url, samples, kind, call_type
):
    requests.post(f"{segment_url}/_emulator/reset", timeout=10)
    bad, expect = negatives.make(samples[call_type], random.Random(kind), kind)

    response = post(segment_url, bad)

    assert expect.kind == kind
    if expect.outcome == "rejected":
        assert response.status_code == expect.status == 400
        assert response.json()["code"] == expect.reason
        assert stored(segment_url) == []
        return
    assert response.status_code == 200
    assert response.json() == {"success": True}
    [item] = stored(segment_url)
    assert item["status"] == "dropped"
    assert item["reasons"] == [expect.reason]


@pytest.mark.parametrize("call_type", sorted(negatives.ALL_TYPES))
def test_the_untouched_sample_is_accepted(segment_url, samples, call_type):
    requests.post(f"{segment_url}/_emulator/reset", timeout=10)

    assert post(segment_url, samples[call_type]).status_code == 200
    [item] = stored(segment_url)
    assert (item["status"], item["reasons"]) == ("accepted", [])


def test_a_duplicate_is_dropped_as_duplicate(segment_url, samples):
    requests.post(f"{segment_url}/_emulator/reset", timeout=10)
    again, expect = negatives.duplicate(samples["track"])

    post(segment_url, samples["track"])
    post(segment_url, again)

    first, second = stored(segment_url)
    assert first["status"] == "accepted"
    assert second["status"] == expect.reason == "duplicate"


def test_the_stream_labels_every_near_miss_it_makes():
    events = list(EventFactory(32, users=30, invalid_rate=0.2).stream(3000))
    labelled = [e for e in events if e.expect is not None]
    kinds = {e.expect.kind for e in labelled}

    assert 450 < len(labelled) < 750
    assert {"missing_id", "empty_event", "duplicate", "id_not_string"} <= kinds
    assert all(e.expect.outcome in ("dropped", "rejected") for e in labelled)


def test_a_kind_that_does_not_fit_the_message_is_refused(samples):
    with pytest.raises(ValueError, match="does not apply to a 'identify' message"):
        negatives.make(samples["identify"], random.Random(0), "empty_event")
    with pytest.raises(ValueError, match="Unknown near-miss kind 'typo'"):
        negatives.make(samples["track"], random.Random(0), "typo")
