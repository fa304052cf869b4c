"""Strict JSON: what no real service accepts is refused with a clear reason."""

from __future__ import annotations

import pytest

from emulator.jsontext import JSONTextError, loads


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"x": NaN}', "NaN is not a JSON value"),
        ('{"x": -Infinity}', "-Infinity is not a JSON value"),
        ('{"x": 1e999}', "the number 1e999 is out of range"),
        ('{"x": ' + "9" * 5000 + "}", "a number has too many digits to read"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b'{"x": "\xff"}', "not UTF-8 (invalid start byte at byte 7)"),
    ],
)
def test_hostile_json_is_refused_with_its_reason(text, reason):
    with pytest.raises(JSONTextError) as caught:
        loads(text)

    assert reason in str(caught.value)


def test_a_syntax_error_says_where():
    with pytest.raises(JSONTextError) as caught:
        loads('{\n  "x": }')

    assert (caught.value.line, caught.value.column) == (2, 8)
    assert str(caught.value) == "Expecting value at line 2 column 8"


def test_lone_surrogates_become_replacement_characters():
    assert loads('{"\\ud800k": ["a\\udfffb"]}') == {"\ufffdk": ["a\ufffdb"]}


def test_ordinary_json_is_read_as_is():
    assert loads(b'{"n": 1.5, "big": 12345678901234567890, "s": "\\u00e9"}') == {
        "n": 1.5,
        "big": 12345678901234567890,
        "s": "é",
    }
