"""Protocols enforcement per source: block, omit, record, forward."""

from __future__ import annotations

import copy
import os

import pytest

from emulator.config import ConfigError, parse_config
from emulator.contracts.protocols import (
    VIOLATION_EVENT,
    Controls,
    enforce,
    parse_controls,
)
from emulator.segment.config import SourceConfig

PLAN = """
name: Shop
events:
  Order Completed:
    properties:
      type: object
      required: [order_id]
      properties: {order_id: {type: string}, total: {type: number}}
identify:
  traits:
    type: object
    properties: {email: {type: string}}
common:
  context:
    type: object
    properties: {app: {type: object, properties: {version: {type: string}}}}
"""


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(PLAN)
    return str(path)


def _source(plan_file, **controls):
    return SourceConfig(
        name="shop-web",
        write_key="k",
        tracking_plan=plan_file,
        protocols=parse_controls(controls),
    )


def _order(**properties):
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": "u-1",
        "messageId": "api-1",
        "timestamp": "2024-05-01T10:00:00.000Z",
        "context": {"app": {"version": "1.2"}, "library": {"name": "analytics-python"}},
        "properties": {"order_id": "o-1", **properties},
    }


def test_a_source_without_a_plan_lets_everything_through():
    message = _order(total="x")

    result = enforce(message, SourceConfig(name="s", write_key="k"))

    assert result.message is message
    assert (result.blocked, result.violations, result.forwarded) == (False, [], [])


def test_a_message_that_meets_the_plan_is_untouched(plan_file):
    message = _order(total=12.5)

    result = enforce(message, _source(plan_file, unplanned_events="block"))

    assert result.message == message
    assert "protocols" not in result.message["context"]


@pytest.mark.parametrize(
    ("controls", "message", "reason"),
    [
        (
            {"unplanned_events": "block"},
            {**_order(), "event": "Order Done"},
            "unplanned",
        ),
        ({"violations": "block"}, _order(total="12"), "schema_violation"),
        ({"violations": "block"}, {**_order(), "properties": {}}, "schema_violation"),
        (
            {"common_violations": "block"},
            {**_order(), "context": {"app": {"version": 2}}},
            "common_schema_violation",
        ),
        (
            {"unplanned_events": "block", "common_violations": "block"},
            {**_order(), "event": "X", "context": {"app": {"version": 2}}},
            "unplanned_and_schema_violation",
        ),
        ({"identify": {"violations": "block"}}, _order(total="12"), None),
        (
            {"identify": {"violations": "block"}},
            {"type": "identify", "userId": "u", "traits": {"email": 5}},
            "schema_violation",
        ),
        ({}, {**_order(), "event": "Order Done"}, None),
        ({"unplanned_properties": "omit"}, _order(gift=True), None),
    ],
)
def test_block_controls(plan_file, controls, message, reason):
    result = enforce(message, _source(plan_file, **controls))

    assert (result.blocked, result.reason) == (reason is not None, reason)
    assert result.violations, "a checked message records its violations"


def test_page_and_screen_are_never_blocked(plan_file):
    page = {"type": "page", "userId": "u", "context": {"app": {"version": 1}}}

    result = enforce(page, _source(plan_file, common_violations="block"))

    assert not result.blocked
    assert result.message["context"]["protocols"]["violations"][0]["field"] == (
        "context.app.version"
    )


def test_omit_records_what_was_removed_in_context_protocols(plan_file):
    message = _order(total="12", gift=True, note="hi")
    before = copy.deepcopy(message)
    source = _source(plan_file, unplanned_properties="omit", violations="omit")

    result = enforce(message, source)

    assert result.message["properties"] == {"order_id": "o-1"}
    protocols = result.message["context"]["protocols"]
    assert protocols["omitted"] == ["properties.gift", "properties.note"]
    assert protocols["omitted_on_violation"] == ["properties.total"]
    assert protocols["sourceId"] == "shop-web"
    assert {"type", "field", "description"} == set(protocols["violations"][0])
    assert message == before, "the caller's message is not changed"


def test_allow_keeps_the_properties_and_still_records(plan_file):
    result = enforce(_order(total="12", gift=True), _source(plan_file))

    assert result.message["properties"]["gift"] is True
    assert result.message["properties"]["total"] == "12"
    assert [v["type"] for v in result.violations] == [
        "Invalid Type",
        "Unplanned Property",
    ]
    assert "omitted" not in result.message["context"]["protocols"]


def test_forward_violations_as_violation_generated_tracks(plan_file):
    source = _source(plan_file, forward_violations=True)

    result = enforce(_order(total="12"), source)

    [forwarded] = result.forwarded
    assert forwarded["type"] == "track"
    assert forwarded["event"] == VIOLATION_EVENT
    assert forwarded["userId"] == "schema-violations"
    assert forwarded["messageId"].startswith("sch-")
    assert forwarded["forwardedFromProject"] == "shop-web"
    assert forwarded["context"] == {
        "app": {"version": "1.2"},
        "library": {"name": "analytics-python"},
    }
    properties = forwarded["properties"]
    assert properties["eventName"] == "Order Completed"
    assert properties["eventMessageID"] == "api-1"
    assert properties["violationType"] == "Invalid Type"
    assert properties["violationField"] == "properties.total"
    assert properties["trackingPlanName"] == "Shop"
    assert properties["appVersion"] == "1.2"

    # Fed back to ingestion, it is exempt from the plan.
    again = enforce(forwarded, _source(plan_file, unplanned_events="block"))
    assert not again.blocked and again.violations == []


def test_forward_blocked_hands_the_message_to_another_source(plan_file):
    message = {**_order(), "event": "Order Done"}
    source = _source(plan_file, unplanned_events="block", forward_blocked="quarantine")

    result = enforce(message, source)

    assert result.blocked
    assert result.forwarded == [{"source": "quarantine", "message": message}]


def test_plan_is_read_again_when_its_file_changes(plan_file, tmp_path):
    source = _source(plan_file, unplanned_events="block")
    assert enforce({**_order(), "event": "Refunded"}, source).blocked

    text = PLAN.replace("  Order Completed:", "  Refunded: {}\n  Order Completed:")
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))

    assert not enforce({**_order(), "event": "Refunded"}, source).blocked


def test_controls_per_call_type():
    controls = parse_controls(
        {
            "violations": "omit",
            "identify": {"unplanned_traits": "omit", "violations": "block"},
        }
    )

    assert controls.for_type("track").violations == "omit"
    assert controls.for_type("identify").violations == "block"
    assert controls.for_type("identify").unplanned_properties == "omit"
    assert parse_controls(None) == Controls()


@pytest.mark.parametrize(
    ("protocols", "path", "text"),
    [
        (
            {"violations": "drop"},
            "$.sources[0].protocols.violations",
            "allow, block, omit",
        ),
        (
            {"unplanned_events": "omit"},
            "$.sources[0].protocols.unplanned_events",
            "allow, block",
        ),
        ({"unplaned_events": "block"}, "$.sources[0].protocols", "unknown control"),
        (
            {"identify": {"unplanned_events": "block"}},
            "$.sources[0].protocols.identify",
            "unknown control",
        ),
        (
            {"forward_violations": "yes"},
            "$.sources[0].protocols.forward_violations",
            "true or false",
        ),
        ("strict", "$.sources[0].protocols", "mapping"),
    ],
)
def test_bad_controls_fail_the_configuration(protocols, path, text):
    raw = {"sources": [{"name": "s", "write_key": "k" * 16, "protocols": protocols}]}

    with pytest.raises(ConfigError) as caught:
        parse_config(raw)

    assert caught.value.path == path
    assert text in caught.value.reason


def test_a_missing_plan_fails_the_configuration(tmp_path):
    raw = {
        "sources": [
            {
                "name": "s",
                "write_key": "k" * 16,
                "tracking_plan": str(tmp_path / "no.yaml"),
            }
        ]
    }

    with pytest.raises(ConfigError) as caught:
        parse_config(raw)

    assert caught.value.path == "$.sources[0].tracking_plan"
    assert "no tracking plan file" in caught.value.reason


def test_configured_source_carries_plan_and_controls():
    raw = {
        "sources": [
            {
                "name": "s",
                "write_key": "k" * 16,
                "tracking_plan": "video",
                "protocols": {"unplanned_events": "block"},
            }
        ]
    }

    [source] = parse_config(raw).segment.sources

    assert source.tracking_plan == "video"
    assert source.protocols.unplanned_events == "block"
    result = enforce({"type": "track", "event": "Video Paused", "userId": "u"}, source)
    assert (result.blocked, result.reason) == (True, "unplanned")
