"""The JavaScript coercions the mapping kit and FQL depend on."""

from __future__ import annotations

import math

import pytest

from emulator.actions import jsvalues
from emulator.actions.jsvalues import UNDEFINED


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (42, "42"),
        (2.5, "2.5"),
        (1.0, "1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1.5e-10, "1.5e-10"),
        (2**60, "1152921504606847000"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    assert jsvalues.number_to_string(number) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (UNDEFINED, "undefined"),
        (None, "null"),
        (True, "true"),
        ([1, None, [2, "a"], UNDEFINED], "1,,2,a,"),
        ({"a": 1}, "[object Object]"),
    ],
)
def test_to_string(value: object, text: str) -> None:
    assert jsvalues.to_string(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("", 0.0),
        ("  12 ", 12.0),
        ("0x1f", 31.0),
        ("1e3", 1000.0),
        ("-Infinity", -math.inf),
        (".5", 0.5),
        (True, 1.0),
        (None, 0.0),
        ([], 0.0),
        (["7"], 7.0),
    ],
)
def test_to_number(value: object, number: float) -> None:
    assert jsvalues.to_number(value) == number


@pytest.mark.parametrize("value", ["abc", "1,2", "-0x10", UNDEFINED, {}, "1e"])
def test_to_number_nan(value: object) -> None:
    assert math.isnan(jsvalues.to_number(value))


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        ("", True),
        (0, True),
        (False, True),
        ([], True),
        ([""], True),
        ([None], True),
        ("0", False),
        ("   ", False),
        ([0], False),
        ({}, False),
        (True, False),
        (None, False),
    ],
)
def test_loose_equality_with_the_empty_string(value: object, blank: bool) -> None:
    assert jsvalues.loosely_equals_empty_string(value) is blank


def test_stringify_matches_json_stringify() -> None:
    value = {"b": [1.0, UNDEFINED, math.nan], "a": UNDEFINED, "1": "é\n\u2028"}

    assert jsvalues.stringify(value) == '{"1":"é\\n\u2028","b":[1,null,null]}'
    assert jsvalues.stringify(UNDEFINED) is UNDEFINED


def test_parse_json_rejects_what_json_parse_rejects() -> None:
    with pytest.raises(ValueError):
        jsvalues.parse_json("NaN")

    assert jsvalues.parse_json("12345678901234567891") == 12345678901234567000.0


def test_strings_index_by_utf16_code_units() -> None:
    assert jsvalues.get_property("a😀", "length") == 3
    assert jsvalues.get_property("héllo", "1") == "é"
    assert jsvalues.walk({"s": ""}, ["s", "x"]) == ""
