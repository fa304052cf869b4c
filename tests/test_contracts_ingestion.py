"""A source's tracking plan applied by the real Segment service, end to end."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from emulator.config import parse_config
from emulator.segment.app import create_app
from emulator.store import Database

KEY = "seglike-planned-source-key-00001"


@pytest.fixture(name="client")
def client_fixture() -> Iterator:
    raw = {
        "sources": [
            {
                "name": "shop",
                "write_key": KEY,
                "tracking_plan": "ecommerce-v2",
                "protocols": {
                    "unplanned_events": "block",
                    "unplanned_properties": "omit",
                    "forward_violations": True,
                },
            }
        ]
    }
    database = Database()
    yield create_app(parse_config(raw), database).test_client()
    database.close()


def _post(client, *messages):
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        json={"batch": list(messages)},
        headers={"Authorization": f"Basic {token}"},
    )
    assert response.status_code == 200, response.json


def _stored(client):
    response = client.get("/_emulator/messages")
    assert response.status_code == 200
    return response.json["items"]


def _order(**properties):
    return {
        "type": "track",
        "userId": "fan-1",
        "event": "Order Completed",
        "properties": {"order_id": "o-1", **properties},
    }


def test_an_unplanned_event_is_stored_blocked_with_its_violation(client):
    _post(client, {**_order(), "event": "Order Finished"})

    by_event = {item["message"]["event"]: item for item in _stored(client)}
    blocked = by_event["Order Finished"]
    assert (blocked["status"], blocked["reasons"]) == ("blocked", ["unplanned"])
    assert blocked["violations"][0]["type"] == "Unplanned Event"
    # The violation was forwarded as a track call of the same source.
    forwarded = by_event["Violation Generated"]
    assert forwarded["status"] == "accepted"
    assert forwarded["message"]["properties"]["violationType"] == "Unplanned Event"


def test_unplanned_properties_are_omitted_and_recorded(client):
    _post(client, _order(total=10, gift_wrap=True))

    [item] = [i for i in _stored(client) if i["message"]["event"] == "Order Completed"]
    assert item["status"] == "accepted"
    assert item["message"]["properties"] == {"order_id": "o-1", "total": 10}
    protocols = item["message"]["context"]["protocols"]
    assert protocols["omitted"] == ["properties.gift_wrap"]
    assert protocols["sourceId"] == "shop"


def test_a_planned_valid_event_is_accepted_untouched(client):
    _post(client, _order(total=10, currency="EUR"))

    [item] = _stored(client)
    assert item["status"] == "accepted"
    assert "protocols" not in item["message"].get("context", {})
    assert not item.get("violations")


PLAN = """\
name: Live Plan
version: 3
events:
  Order Completed:
    properties: {type: object, required: [order_id]}
"""


@pytest.mark.parametrize(
    "broken",
    [b"\xff\xfe not utf-8 \x80", b"events: [", b"events: 7"],
    ids=["not-utf8", "not-yaml", "not-a-plan"],
)
def test_a_plan_broken_while_running_keeps_the_last_good_one(tmp_path, caplog, broken):
    plan = tmp_path / "live.yaml"
    plan.write_text(PLAN)
    raw = {
        "sources": [
            {
                "name": "shop",
                "write_key": KEY,
                "tracking_plan": str(plan),
                "protocols": {"unplanned_events": "block"},
            }
        ]
    }
    database = Database()
    client = create_app(parse_config(raw), database).test_client()
    plan.write_bytes(broken)

    with caplog.at_level("WARNING", logger="emulator.contracts.plans"):
        _post(client, _order())
        _post(client, {**_order(), "event": "Order Finished"})
    statuses = {item["message"]["event"]: item["status"] for item in _stored(client)}
    database.close()

    assert statuses == {"Order Completed": "accepted", "Order Finished": "blocked"}
    warnings = [r for r in caplog.records if "keeping the last good" in r.message]
    assert len(warnings) == 1  # once per change of the file, not per request
    assert "plan=Live Plan version=3" in warnings[0].message
