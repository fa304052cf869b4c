"""Tracking plan files: loading, rules, versions, unplanned events and properties."""

from __future__ import annotations

import json

import pytest

from emulator.contracts import load_plan
from emulator.contracts.plans import PlanError, parse_plan, shipped_plans

PLAN = """
name: Shop
version: 3
x-anchors:
  id: &id {type: string, minLength: 1}
events:
  Order Completed:
    versions:
      1:
        properties:
          type: object
          required: [order_id]
          properties: {order_id: *id, total: {type: number}}
      2:
        properties:
          type: object
          required: [order_id, currency]
          properties: {order_id: *id, total: {type: number}, currency: {type: string}}
  Signed Up:
    description: No properties planned.
  Coupon Applied:
    properties:
      type: object
      properties: {coupon_id: *id}
      additionalProperties: false
identify:
  traits:
    type: object
    properties: {email: {type: string, format: email}, plan: {enum: [free, pro]}}
page:
  properties: {type: object, properties: {url: {type: string}}}
common:
  context:
    type: object
    required: [app]
    properties: {app: {type: object}}
"""


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(PLAN)
    return load_plan(path)


def _track(event, properties=None, version=None, **extra):
    message = {"type": "track", "event": event, "userId": "u", "context": {"app": {}}}
    if properties is not None:
        message["properties"] = properties
    if version is not None:
        message["context"]["protocols"] = {"event_version": version}
    message.update(extra)
    return message


def test_plan_metadata(plan):
    assert (plan.name, plan.version, plan.label) == ("Shop", 3, "shop.yaml")
    assert plan.event_names == ["Coupon Applied", "Order Completed", "Signed Up"]


def test_a_planned_valid_event_has_nothing_to_say(plan):
    report = plan.check(_track("Order Completed", {"order_id": "o-1", "total": 3}))

    assert report.ok
    assert report.rule.version == 1


@pytest.mark.parametrize(
    ("version", "chosen", "violations"),
    [
        (None, 1, []),
        (1, 1, []),
        (2, 2, ["properties.currency"]),
        (7, 1, []),  # an unknown version falls back to the oldest
        ("2", 1, []),  # so does one that is not an integer
    ],
)
def test_event_version_selects_the_rule(plan, version, chosen, violations):
    report = plan.check(_track("Order Completed", {"order_id": "o-1"}, version))

    assert report.rule.version == chosen
    assert [v.field for v in report.violations] == violations


def test_violations_point_into_the_plan_file(plan):
    report = plan.check(_track("Order Completed", {"total": "3"}, 2))

    by_field = {v.field: v for v in report.violations}
    assert by_field["properties.total"].description == (
        "Invalid type. Expected: number, given: string"
    )
    assert by_field["properties.total"].schema_path == (
        "shop.yaml#/events/Order Completed/versions/2/properties/properties/total/type"
    )
    assert by_field["properties.order_id"].type == "Required"


def test_unplanned_event(plan):
    report = plan.check(_track("Order Complete"))

    violation = report.unplanned_event
    assert (violation.type, violation.field, violation.path) == (
        "Unplanned Event",
        "event",
        "$.event",
    )
    assert violation.value == "Order Complete"
    assert report.rule is None


def test_unplanned_properties_and_an_event_that_plans_none(plan):
    report = plan.check(_track("Order Completed", {"order_id": "o", "gift": True}))
    assert [(v.type, v.field) for v in report.unplanned] == [
        ("Unplanned Property", "properties.gift")
    ]

    report = plan.check(_track("Signed Up", {"plan": "pro"}))
    assert [v.field for v in report.unplanned] == ["properties.plan"]


def test_additional_properties_false_is_a_violation_not_unplanned(plan):
    report = plan.check(_track("Coupon Applied", {"coupon_id": "c", "x": 1}))

    assert report.unplanned == []
    assert [(v.type, v.field) for v in report.violations] == [
        ("Additional Property", "properties.x")
    ]


def test_identify_traits_with_formats_and_enums(plan):
    message = {
        "type": "identify",
        "userId": "u",
        "context": {"app": {}},
        "traits": {"email": "not-an-email", "plan": "gold", "age": 3},
    }

    report = plan.check(message)

    assert sorted((v.type, v.field) for v in report.violations) == [
        ("Invalid Format", "traits.email"),
        ("Invalid Value", "traits.plan"),
    ]
    assert [v.field for v in report.unplanned] == ["traits.age"]


def test_common_rule_applies_to_every_message(plan):
    page = {"type": "page", "userId": "u", "context": {}, "properties": {"url": "/"}}

    report = plan.check(page)

    assert [(v.type, v.field) for v in report.common] == [("Required", "context.app")]
    assert report.common[0].schema_path == "shop.yaml#/common/context/required"


def test_calls_without_a_rule_are_not_checked(plan):
    assert plan.check({"type": "group", "userId": "u", "groupId": "g"}).all == (
        plan.check({"type": "alias", "userId": "u", "previousId": "p"}).all
    )


def test_json_plans_load_too(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"name": "J", "events": {"Clicked": {}}}))

    plan = load_plan(path)

    assert plan.events["Clicked"][1].planned == frozenset()


@pytest.mark.parametrize(
    ("raw", "message", "path"),
    [
        ({"events": {"A": {}}, "evnts": {}}, "unknown key(s) 'evnts'", "/"),
        (
            {"events": {"A": {"propertys": {}}}},
            "unknown rule key(s) 'propertys'",
            "/events/A",
        ),
        (
            {"events": {"A": {"properties": {"type": "objet"}}}},
            "not a valid JSON Schema",
            "/events/A",
        ),
        (
            {"events": {"A": {"versions": {"one": {}}}}},
            "positive integer",
            "/events/A/versions/one",
        ),
        ({"version": 0}, "positive integer", "/version"),
        ({"events": ["A"]}, "'events' must map", "/events"),
        (
            {"identify": {"traits": "email"}},
            "must be a JSON Schema",
            "/identify/traits",
        ),
        (["not", "a", "plan"], "must be a mapping", "/"),
    ],
)
def test_plan_errors_say_where(raw, message, path):
    with pytest.raises(PlanError) as caught:
        parse_plan(raw)

    assert message in caught.value.reason
    assert caught.value.path == path


def test_unreadable_and_broken_files(tmp_path):
    with pytest.raises(PlanError, match="no tracking plan file at"):
        load_plan(tmp_path / "missing.yaml")

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nevents: {A: [\n")
    with pytest.raises(PlanError, match=r"not valid YAML: .*\(line 3"):
        load_plan(broken)

    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"name": "x",\n "events": }')
    with pytest.raises(PlanError, match=r"not valid JSON: .*line 2"):
        load_plan(broken_json)


def test_shipped_plans_load_by_name():
    assert set(shipped_plans()) >= {"ecommerce-v2", "video"}

    ecommerce = load_plan("ecommerce-v2")
    video = load_plan("video")

    assert len(ecommerce.events) >= 25
    assert "Order Completed" in ecommerce.events
    assert len(video.events) == 17
    assert "Video Content Playing" in video.events
