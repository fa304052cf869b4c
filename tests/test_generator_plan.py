"""Driven by a tracking plan: planned events and properties only, values that fit."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from emulator.contracts import check, load_plan
from emulator.generator import EventFactory
from emulator.generator.plan import PlanError, load_rules

PROPERTIES = {
    "Poll Voted": {
        "properties": {
            "poll_id": {"type": "string", "format": "uuid"},
            "option_id": {"type": "string"},
            "points": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["poll_id", "option_id", "points"],
    },
    "Order Completed": {
        "properties": {
            "order_id": {"type": "string", "pattern": "^ord-"},
            "total": {"type": "number", "minimum": 0},
            "currency": {"enum": ["USD", "EUR"]},
            "products": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"product_id": {"type": "string"}},
                    "required": ["product_id"],
                },
            },
        },
        "required": ["order_id", "total", "currency"],
    },
    "Article Read": {
        "properties": {
            "article_id": {"type": "string"},
            "percent_read": {"type": "integer", "maximum": 100},
            "channel": {"type": "string", "enum": ["web", "app"]},
        },
        "required": ["article_id", "channel"],
    },
    "Prediction Made": {  # no journey makes it: generated from the rule
        "properties": {
            "prediction_id": {"type": "string", "minLength": 8},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["prediction_id", "confidence", "tags"],
    },
}
TRAITS = {
    "properties": {
        "email": {"type": "string", "format": "email"},
        "plan": {"type": "string", "enum": ["free", "plus", "season-pass"]},
    },
    "required": ["email"],
}
# The project's plan format (emulator.contracts.plans).
PLAN = {
    "name": "fan-app",
    "events": {
        name: {"properties": {"type": "object", **schema}}
        for name, schema in PROPERTIES.items()
    },
    "identify": {"traits": {"type": "object", **TRAITS}},
}


def public_api_form() -> dict:
    """The same plan as Segment's Public API rules (whole-message schemas)."""
    rules = [
        {
            "type": "TRACK",
            "key": name,
            "version": 1,
            "jsonSchema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"properties": {"type": "object", **schema}},
            },
        }
        for name, schema in PROPERTIES.items()
    ]
    rules.append(
        {
            "type": "IDENTIFY",
            "key": None,
            "jsonSchema": {"properties": {"traits": {"type": "object", **TRAITS}}},
        }
    )
    return {"name": "fan-app", "rules": rules}


@pytest.fixture(params=["short.yaml", "public-api.json"])
def plan_file(request, tmp_path):
    path = tmp_path / request.param
    if request.param.endswith(".yaml"):
        path.write_text(yaml.safe_dump(PLAN))
    else:
        path.write_text(json.dumps(public_api_form()))
    return path


def test_every_track_and_identify_satisfies_the_plan(plan_file):
    factory = EventFactory(41, users=30, plan=plan_file)
    compiled = load_plan(plan_file) if plan_file.suffix == ".yaml" else None
    seen = set()
    for message in factory.messages(2500):
        if message["type"] == "track":
            rule = PROPERTIES[message["event"]]
            bag = message["properties"]
        elif message["type"] == "identify":
            rule = TRAITS
            bag = message["traits"]
        else:
            continue
        seen.add(message.get("event", "identify"))
        jsonschema.validate(bag, {"type": "object", **rule})
        if compiled is not None:
            check(message, contract=None, plan=compiled)
        assert set(bag) <= set(rule["properties"]), "no unplanned properties"

    assert seen == {
        "Poll Voted",
        "Order Completed",
        "Article Read",
        "Prediction Made",
        "identify",
    }


def test_journey_values_are_kept_where_the_plan_accepts_them(plan_file):
    factory = EventFactory(42, users=20, plan=plan_file)
    votes = [m for m in factory.messages(2500) if m.get("event") == "Poll Voted"]
    poll_ids = {poll.id for poll in factory.catalog.polls}

    assert sum(m["properties"]["poll_id"] in poll_ids for m in votes) > len(votes) / 4


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("unplanned_event", "Unplanned Event"),
        ("unplanned_property", "Unplanned Property"),
        ("missing_required", "Required"),
        ("wrong_type", "Invalid Type"),
    ],
)
def test_plan_near_misses_carry_the_violation_they_cause(plan_file, kind, reason):
    factory = EventFactory(43, users=20, plan=plan_file)
    conformer = factory.conformer
    good = next(m for m in factory.messages(500) if m.get("event") == "Order Completed")

    bad, expect = conformer.violation(good, kind)

    assert (expect.kind, expect.outcome, expect.reason) == (kind, "violation", reason)
    if plan_file.suffix == ".yaml":  # the project's own verdict, exactly one
        [violation] = load_plan(plan_file).check(bad).all
        assert violation.type == reason
        if expect.field:
            assert violation.field == expect.field
    rule = {"type": "object", **PROPERTIES["Order Completed"]}
    if kind == "unplanned_event":
        assert bad["event"] not in PLAN["events"]
        return
    name = expect.field.split(".", 1)[1]
    if kind == "unplanned_property":
        assert name not in rule["properties"] and name in bad["properties"]
    elif kind == "missing_required":
        assert name in rule["required"] and name not in bad["properties"]
    else:
        with pytest.raises(jsonschema.ValidationError) as caught:
            jsonschema.validate(bad["properties"], rule)
        assert caught.value.validator in ("type", "enum")
        assert list(caught.value.path) == [name]


def test_an_unreadable_plan_is_a_clear_error(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("events: [unclosed")

    with pytest.raises(PlanError, match="not valid YAML"):
        load_rules(path)
    with pytest.raises(PlanError, match="no tracking plan file at"):
        load_rules(tmp_path / "missing.yaml")


def test_a_plan_the_project_parser_refuses_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(
        "events:\n  Poll Voted: {properties: {type: object}, colour: red}\n"
    )

    with pytest.raises(PlanError, match="unknown rule key.*colour"):
        load_rules(path)


@pytest.mark.parametrize("name", ["video", "ecommerce-v2"])
def test_shipped_plans_by_name_and_the_plan_agrees(name):
    factory = EventFactory(44, users=30, plan=name)
    compiled = load_plan(name)
    tracks = 0
    for message in factory.messages(1500):
        check(message, contract=None, plan=compiled)  # raises on any violation
        tracks += message["type"] == "track"
    assert tracks > 100
