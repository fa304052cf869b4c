"""Violations have Segment's shape and reports start from the offending value."""

from __future__ import annotations

import pytest

from emulator.contracts import ContractViolation, Violation, check, validate_message
from emulator.contracts.violations import dotted, json_type
from emulator.jsontext import json_path

TRACK = {"type": "track", "event": "Signed Up", "userId": "u-1"}


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (1, "integer"),
        (1.0, "integer"),
        (1.5, "number"),
        ("1", "string"),
        (True, "boolean"),
        (None, "null"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_json_type_names_like_gojsonschema(value, name):
    assert json_type(value) == name


def test_paths_in_both_notations():
    assert json_path(["batch", 3, "properties", "plan type"]) == (
        '$.batch[3].properties["plan type"]'
    )
    assert dotted(["properties", "products", 0, "price"]) == (
        "properties.products.0.price"
    )
    assert dotted([]) == "(root)"


def test_invalid_type_has_segments_description_and_locations():
    message = {**TRACK, "context": {"app": {"version": 545}}}

    [violation] = validate_message(message, "segment/track")

    assert violation.segment_dict() == {
        "type": "Invalid Type",
        "field": "context.app.version",
        "description": "Invalid type. Expected: string, given: integer",
    }
    assert violation.path == "$.context.app.version"
    assert (
        violation.schema_path
        == "segment/context.json#/$defs/app/properties/version/type"
    )
    assert violation.expected == "string"
    assert str(violation).startswith("545 at $.context.app.version: Invalid type.")


def test_required_names_the_missing_field():
    [violation] = validate_message({"type": "group", "userId": "u"}, "segment/group")

    assert violation.type == "Required"
    assert violation.field == "groupId"
    assert violation.description == "groupId is required"
    assert violation.missing
    assert "value" not in violation.to_dict()
    assert str(violation).startswith("(missing) at $.groupId")


@pytest.mark.parametrize(
    ("body", "kind", "description"),
    [
        (
            {
                "events": [
                    {
                        "event_name": "E",
                        "event_type": "track",
                        "timestamp": "x",
                        "custom_id": "c",
                    }
                ]
            },
            "Invalid Format",
            "Does not match format 'date-time'",
        ),
        (
            {
                "events": [
                    {
                        "event_name": "E",
                        "event_type": "track",
                        "timestamp": "2024-01-01T00:00:00Z",
                        "custom_id": "c",
                        "user_id": "u",
                    }
                ]
            },
            "Additional Property",
            "Additional property user_id is not allowed",
        ),
        ({"events": []}, "Invalid Length", "Array must have at least 1 items"),
    ],
)
def test_other_kinds_of_violation(body, kind, description):
    violations = validate_message(body, "livelike/segment-events")

    assert [(v.type, v.description) for v in violations] == [(kind, description)]


def test_enum_description_lists_the_allowed_values():
    [violation] = validate_message({**TRACK, "type": "trak"}, "segment/message")

    assert violation.description.startswith("type must be one of the following: ")
    assert '"identify", "track"' in violation.description


def test_contract_violation_is_an_assertion_error_with_the_violations():
    with pytest.raises(AssertionError) as caught:
        check({**TRACK, "event": 3}, "segment/track")

    error = caught.value
    assert isinstance(error, ContractViolation)
    assert [v.field for v in error.violations] == ["event"]
    assert "3 at $.event: Invalid type. Expected: string, given: integer" in str(error)
    assert error.to_list()[0]["reason"] == "event_not_string"


def test_check_passes_silently_on_a_valid_message():
    assert check(TRACK, "segment/accepted/track") is None


def test_violation_to_dict_is_json_friendly():
    violation = Violation(type="Required", field="a", description="a is required")

    assert violation.to_dict() == {
        "type": "Required",
        "field": "a",
        "description": "a is required",
        "path": "$",
        "schema_path": "",
        "expected": "",
    }


@pytest.mark.parametrize(
    ("message", "headline"),
    [
        (
            {**TRACK, "event": "Order Finished"},
            "The message breaks its contract against the tracking plan "
            "'E-commerce v2' (version 1) (1 violation):",
        ),
        (
            {**TRACK, "event": 3},
            "The message breaks its contract against segment/track and the "
            "tracking plan 'E-commerce v2' (version 1) (2 violations):",
        ),
    ],
)
def test_check_names_the_plan_that_raised(message, headline):
    with pytest.raises(ContractViolation) as caught:
        check(message, "segment/track", plan="ecommerce-v2")

    assert str(caught.value).splitlines()[0] == headline
    assert caught.value.plan is not None
