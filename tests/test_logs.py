"""Every log line of ``seglike up`` stays one line, whatever clients send."""

from __future__ import annotations

import logging

from emulator.logs import OneLineFormatter


def format_record(message: str, *args) -> str:
    record = logging.LogRecord(
        "emulator.test", logging.INFO, __file__, 1, message, args, None
    )
    return OneLineFormatter("%(name)s %(message)s").format(record)


def test_a_newline_in_an_argument_cannot_start_a_fake_line():
    line = format_record("profile created custom_id=%s", "u\nFORGED 2026 emulator.x")

    assert line == "emulator.test profile created custom_id=u\\nFORGED 2026 emulator.x"
    assert "\n" not in line


def test_nul_carriage_return_and_line_separators_are_escaped():
    line = format_record("event=%s", "a\x00b\rc\u2028d")

    assert line == "emulator.test event=a\\x00b\\rc\\u2028d"


def test_a_traceback_keeps_its_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "emulator.test",
            logging.ERROR,
            __file__,
            1,
            "failed id=%s",
            ("x\ny",),
            sys.exc_info(),
        )
    text = OneLineFormatter("%(message)s").format(record)

    first, *rest = text.split("\n")
    assert first == "failed id=x\\ny"
    assert rest[0] == "Traceback (most recent call last):"
