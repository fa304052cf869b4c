"""The real ``segment-analytics-python`` 2.4 pointed at the emulator with host=."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests
from segment.analytics import Client
from segment_helpers import (  # noqa: F401  (fixtures)
    WRITE_KEY,
    app_fixture,
    db_fixture,
    server_fixture,
)

MODES = {
    "batch": {},
    "sync": {"sync_mode": True},
    "gzip": {"gzip": True},
    "sync-gzip": {"sync_mode": True, "gzip": True},
}


def send_each_call(client: Client) -> None:
    stamp = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    client.identify("user-1", {"email": "fan@example.com", "plan": "pro"})
    client.track("user-1", "Song Played", {"song": "Hey"}, timestamp=stamp)
    client.page("user-1", "Docs", "Home", {"url": "http://x.test/"})
    client.screen("user-1", "Main", "Home")
    client.group("user-1", "team-1", {"name": "Team"})
    client.alias("anon-9", "user-1")


def wait_for(server, count: int) -> list[dict]:
    response = requests.get(
        f"{server.url}/_emulator/messages/wait",
        params={"count": count, "timeout": 20},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize("mode", MODES)
def test_every_call_type_arrives_normalised(server, mode):
    errors = []
    client = Client(
        WRITE_KEY,
        host=server.url,
        on_error=lambda error, batch: errors.append(error),
        max_retries=1,
        **MODES[mode],
    )

    send_each_call(client)
    client.flush()
    if not client.sync_mode:  # shutdown() of 2.4 fails without consumers
        client.shutdown()

    items = wait_for(server, 6)
    assert errors == []
    assert {item["status"] for item in items} == {"accepted"}
    assert {item["source"] for item in items} == {"demo-app"}
    by_type = {item["message"]["type"]: item["message"] for item in items}
    assert set(by_type) == {"identify", "track", "page", "screen", "group", "alias"}

    track = by_type["track"]
    assert track["event"] == "Song Played"
    assert track["properties"] == {"song": "Hey"}
    assert track["originalTimestamp"] == "2024-05-01T12:00:00.000Z"
    assert track["context"]["library"]["name"] == "analytics-python"
    assert "writeKey" not in track
    assert "anonymousId" not in track  # sent as null, stored as absent
    for key in ("timestamp", "sentAt", "receivedAt", "originalTimestamp"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", track[key])
    # the skew correction moves the device time by the (tiny) send delay
    corrected = datetime.fromisoformat(track["timestamp"])
    assert abs((corrected - datetime(2024, 5, 1, 12, tzinfo=UTC)).total_seconds()) < 5

    assert by_type["identify"]["traits"]["plan"] == "pro"
    assert (by_type["page"]["category"], by_type["page"]["name"]) == ("Docs", "Home")
    assert by_type["group"]["groupId"] == "team-1"
    assert by_type["alias"]["previousId"] == "anon-9"


def test_sync_mode_sends_one_request_per_call(server):
    client = Client(WRITE_KEY, host=server.url, sync_mode=True)

    send_each_call(client)

    stats = requests.get(f"{server.url}/_emulator/stats", timeout=5).json()
    assert stats["requests"]["by_route"] == {"/v1/batch": 6}
    assert stats["messages"]["by_status"]["accepted"] == 6


def test_a_python_client_with_an_unknown_key_sees_success(server):
    errors = []
    client = Client(
        "seglike-unknown-key-000000000001",
        host=server.url,
        sync_mode=True,
        on_error=lambda error, batch: errors.append(error),
    )

    client.track("user-1", "Song Played")

    assert errors == []
    [item] = wait_for(server, 1)
    assert (item["status"], item["reasons"]) == ("dropped", ["unknown_source"])


def test_the_client_retries_through_an_injected_fault(server):
    rule = {"method": "POST", "path": "/v1/batch", "status": 503, "times": 1}
    added = requests.post(f"{server.url}/_emulator/faults", json=rule, timeout=5)
    assert added.status_code == 201
    client = Client(WRITE_KEY, host=server.url, max_retries=3)

    client.track("user-1", "Song Played")
    client.flush()  # the consumer thread retries; sync_mode would raise instead
    client.shutdown()

    [item] = wait_for(server, 1)
    assert item["status"] == "accepted"
    faults = requests.get(f"{server.url}/_emulator/faults", timeout=5).json()
    assert faults["faults"][0]["applied"] == 1
