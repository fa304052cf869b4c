"""Each message looks like what its SDK sends (segment-contract §3.5, §5.4, §5.6)."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from emulator.generator import generate

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
MILLIS_Z = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def by_library() -> dict[str, list[dict]]:
    groups = defaultdict(list)
    for message in generate(4000, seed=11):
        groups[message["context"]["library"]["name"]].append(message)
    return groups


def test_every_sdk_appears(by_library):
    assert set(by_library) == {
        "analytics.js",
        "analytics-swift",
        "analytics-kotlin",
        "analytics-python",
    }


def test_analytics_js_messages(by_library):
    for message in by_library["analytics.js"]:
        context = message["context"]
        assert context["library"]["version"].startswith("npm:next-")
        assert re.fullmatch(rf"ajs-next-\d{{13}}-{UUID}", message["messageId"])
        assert re.fullmatch(MILLIS_Z, message["timestamp"])
        assert context["userAgent"].startswith("Mozilla/5.0")
        assert context["page"]["url"].startswith("https://")
        assert context["page"]["url"].endswith(
            context["page"]["path"] + context["page"]["search"]
        )
        assert re.fullmatch(r"[a-z]{2}-[A-Z]{2}", context["locale"])
        assert "/" in context["timezone"]
        assert "device" not in context and "app" not in context
    pages = [m for m in by_library["analytics.js"] if m["type"] == "page"]
    assert pages and all(m["properties"]["path"] for m in pages)
    assert any("campaign" in m["context"] for m in by_library["analytics.js"])


@pytest.mark.parametrize(
    ("library", "os_name", "device_type"),
    [("analytics-swift", "iOS", "ios"), ("analytics-kotlin", "Android", "android")],
)
def test_mobile_messages(by_library, library, os_name, device_type):
    for message in by_library[library]:
        context = message["context"]
        assert context["os"]["name"] == os_name
        assert context["device"]["type"] == device_type
        assert context["app"]["name"] == "Fan Zone"
        assert {"width", "height"} <= set(context["screen"])
        assert isinstance(context["network"]["wifi"], bool)
        assert re.fullmatch(MILLIS_Z, message["timestamp"])
        assert "page" not in context
        uuid = message["messageId"]
        if library == "analytics-swift":
            assert re.fullmatch(UUID, uuid.lower()) and uuid == uuid.upper()
        else:
            assert re.fullmatch(UUID, uuid)
    assert any(m["type"] == "screen" for m in by_library[library])
    events = {m.get("event") for m in by_library[library]}
    assert {"Application Opened", "Application Backgrounded"} <= events


def test_a_device_keeps_its_context_across_sessions(by_library):
    devices = defaultdict(set)
    for message in by_library["analytics-kotlin"]:
        context = message["context"]
        devices[message["anonymousId"]].add(
            (
                context["device"]["id"],
                context["device"]["model"],
                context["os"]["version"],
            )
        )
    assert all(len(seen) == 1 for seen in devices.values())


def test_analytics_python_sends_only_the_library_and_a_user_id(by_library):
    server = by_library["analytics-python"]
    assert server
    for message in server:
        assert message["context"] == {
            "library": {"name": "analytics-python", "version": "2.4.0"}
        }
        assert re.fullmatch(UUID, message["messageId"])
        assert re.fullmatch(r".*\.\d{3}\+00:00", message["timestamp"])
        assert "anonymousId" not in message and message["userId"].startswith("fan-")
