"""Plan near-misses sent to the Segment service of a source with that plan."""

from __future__ import annotations

import copy

import pytest
import requests
import yaml

from emulator.config import default_config_path, parse_config
from emulator.generator import EventFactory
from emulator.segment.app import create_app
from emulator.store import open_database
from emulator.web.server import ServiceServer

WRITE_KEY = "seglike-demo-app-write-key-00001"


@pytest.fixture(scope="module")
def segment_url():
    raw = yaml.safe_load(default_config_path().read_text())
    raw = copy.deepcopy(raw)
    raw["sources"][0]["tracking_plan"] = "video"  # the shipped Video Spec plan
    db = open_database(":memory:")
    server = ServiceServer("segment", create_app(parse_config(raw), db)).start()
    yield server.url
    server.stop()
    db.close()


@pytest.fixture(scope="module")
def factory():
    return EventFactory(51, users=20, plan="video")


def send_one(url: str, message: dict) -> dict:
    requests.post(f"{url}/_emulator/reset", timeout=10)
    response = requests.post(
        f"{url}/v1/batch", json={"batch": [message]}, auth=(WRITE_KEY, ""), timeout=10
    )
    assert response.status_code == 200
    [item] = requests.get(f"{url}/_emulator/messages", timeout=10).json()["items"]
    return item


def test_planned_events_arrive_without_violations(segment_url, factory):
    for message in list(factory.messages(40)):
        item = send_one(segment_url, message)
        assert (item["status"], item.get("violations", [])) == ("accepted", [])


@pytest.mark.parametrize(
    "kind", ["unplanned_event", "unplanned_property", "missing_required", "wrong_type"]
)
def test_each_plan_near_miss_arrives_with_its_one_violation(segment_url, factory, kind):
    good = next(
        m for m in factory.messages(200) if m.get("event") == "Video Playback Paused"
    )
    bad, expect = factory.conformer.violation(good, kind)

    item = send_one(segment_url, bad)

    [violation] = item["violations"]
    assert violation["type"] == expect.reason
    if expect.field:
        assert violation["field"] == expect.field
