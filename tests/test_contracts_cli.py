"""`seglike validate`: inputs, report text, JSON output and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from emulator.cli import main

GOOD = {"type": "track", "event": "Order Completed", "userId": "u-1"}
BAD = {"type": "track", "event": 7, "userId": "u-1"}


def _run(*args, stdin=None):
    return CliRunner().invoke(main, ["validate", *map(str, args)], input=stdin)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_all_valid_exits_0(tmp_path):
    path = _write(tmp_path, "ok.json", json.dumps(GOOD))

    result = _run(path)

    assert result.exit_code == 0, result.output
    assert "1 message checked against segment/accepted/message: 1 valid, 0 invalid" in (
        result.output
    )


def test_an_invalid_message_exits_1_and_starts_from_the_value(tmp_path):
    path = _write(
        tmp_path, "events.ndjson", f"{json.dumps(GOOD)}\n\n{json.dumps(BAD)}\n"
    )

    result = _run(path)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{path}:3  track 7  1 violation"
    assert lines[1] == (
        "  7 at $.event: Invalid type. Expected: string, given: integer "
        "[segment/track.json#/properties/event/type]"
    )
    assert lines[-1].endswith("1 valid, 1 invalid (1 violation)")


def test_a_file_that_is_not_json_exits_2_naming_the_line(tmp_path):
    path = _write(
        tmp_path, "broken.ndjson", f"{json.dumps(GOOD)}\n{{'type': 'track'}}\n"
    )

    result = _run(path)

    assert result.exit_code == 2
    assert f"{path}:2: not JSON: Expecting property name enclosed in double quotes" in (
        result.output
    )


def test_a_pretty_json_document_broken_further_down_names_that_line(tmp_path):
    path = _write(
        tmp_path,
        "pretty.json",
        '{\n  "type": "track",\n  "event": "x"\n  "userId": "u"\n}\n',
    )

    result = _run(path)

    assert result.exit_code == 2
    assert f"{path}:4: not JSON: Expecting ',' delimiter" in result.output


def test_an_empty_file_is_reported_and_is_not_an_error(tmp_path):
    path = _write(tmp_path, "empty.ndjson", "\n")

    result = _run(path)

    assert result.exit_code == 0
    assert f"{path}: no messages (empty input)" in result.output
    assert "0 messages checked" in result.output


def test_unreadable_file_exits_2(tmp_path):
    result = _run(tmp_path / "nope.json")

    assert result.exit_code == 2
    assert "nope.json: cannot read the file: No such file or directory" in result.output


def test_invalid_beats_nothing_but_unusable_beats_invalid(tmp_path):
    bad = _write(tmp_path, "bad.json", json.dumps(BAD))
    broken = _write(tmp_path, "broken.json", "{")

    result = _run(bad, broken)

    assert result.exit_code == 2
    assert "1 invalid" in result.output
    assert "1 input unusable" in result.output


def test_stdin_and_arrays_and_batch_envelopes():
    batch = {"batch": [GOOD, BAD]}
    text = json.dumps([GOOD, batch])

    result = _run("-", stdin=text)

    assert result.exit_code == 1
    assert "<stdin> [1]batch[1]  track 7  1 violation" in result.output
    assert "3 messages checked" in result.output


def test_json_format(tmp_path):
    path = _write(tmp_path, "events.ndjson", f"{json.dumps(GOOD)}\n{json.dumps(BAD)}\n")

    result = _run("--format", "json", path)

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["summary"]["messages"] == 2
    assert report["summary"]["invalid"] == 1
    [entry] = report["invalid"]
    assert (entry["file"], entry["line"]) == (str(path), 2)
    assert entry["violations"][0]["type"] == "Invalid Type"
    assert entry["violations"][0]["reason"] == "event_not_string"


def test_plan_adds_unplanned_events_and_plan_violations(tmp_path):
    messages = [
        {**GOOD, "properties": {"order_id": "o-1", "total": 10}},
        {**GOOD, "properties": {"total": "10"}},
        {**GOOD, "event": "Order Finished"},
    ]
    path = _write(tmp_path, "shop.ndjson", "\n".join(map(json.dumps, messages)))

    result = _run("--plan", "ecommerce-v2", path)

    assert result.exit_code == 1
    assert "(missing) at $.properties.order_id: properties.order_id is required" in (
        result.output
    )
    assert (
        '"Order Finished" at $.event: Event "Order Finished" is not in the '
        "tracking plan" in result.output
    )
    assert "and plan 'E-commerce v2': 1 valid, 2 invalid" in result.output


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--contract", "segment/trak"], "Unknown contract 'segment/trak'"),
        (["--plan", "no-such-plan"], "no tracking plan file at 'no-such-plan'"),
    ],
)
def test_unusable_options_exit_2(tmp_path, args, text):
    path = _write(tmp_path, "ok.json", json.dumps(GOOD))

    result = _run(*args, path)

    assert result.exit_code == 2
    assert text in result.output


def test_contract_option_checks_livelike_bodies(tmp_path):
    body = {
        "events": [
            {
                "event_name": "Test Event",
                "event_type": "track",
                "timestamp": "2021-08-17T15:21:15.449Z",
            }
        ]
    }
    path = _write(tmp_path, "body.json", json.dumps(body))

    result = _run("--contract", "livelike/segment-events", path)

    assert result.exit_code == 1
    assert "is required" in result.output
    assert "livelike/segment-events" in result.output


def test_help_names_the_exit_codes():
    result = _run("--help")

    assert result.exit_code == 0
    assert "Exits 0 when every message is valid, 1 when any is invalid" in result.output


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        (
            json.dumps(GOOD) + '\n{"type": "track", "x": NaN}\n',
            ":2:",
            "NaN is not a JSON value",
        ),
        ('{"type": "track", "n": 1e999}', ":1:", "the number 1e999 is out of range"),
        (
            "[" * 100_000 + "]" * 100_000,
            ":1:",
            "arrays or objects are nested too deeply",
        ),
        ('{"n": ' + "9" * 5000 + "}", ":1:", "a number has too many digits to read"),
        ('{\n  "type": "track",\n  "x": Infinity\n}\n', ":", "Infinity is not"),
    ],
    ids=["nan-line", "huge-float", "deep", "huge-int", "pretty-infinity"],
)
def test_what_ingestion_refuses_validate_refuses_too(tmp_path, text, where, reason):
    path = _write(tmp_path, "in.json", text)

    result = _run(path)

    assert result.exit_code == 2, result.output
    assert f"{path}{where} not JSON: {reason}" in result.output
    assert "Traceback" not in result.output


def test_a_binary_input_exits_2_naming_the_line(tmp_path):
    path = tmp_path / "bin.dat"
    path.write_bytes(json.dumps(GOOD).encode() + b'\n{"a": "\xff\xfe"}\n')

    result = _run(path)

    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8 text: invalid start byte (column 8)" in result.output


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8 text (invalid start byte at byte 0)"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
)
def test_an_unusable_plan_file_exits_2_with_one_line(tmp_path, content, text):
    plan = tmp_path / "bin.dat"
    plan.write_bytes(content)
    path = _write(tmp_path, "ok.json", json.dumps(GOOD))

    result = _run("--plan", plan, path)

    assert result.exit_code == 2
    assert text in result.output
    assert "Traceback" not in result.output
