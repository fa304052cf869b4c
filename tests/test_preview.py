"""``preview()`` and ``seglike destinations preview``: the requests the
destinations would make, or the error, without sending anything."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from emulator.actions.preview import PreviewError, preview
from emulator.cli import main
from emulator.config import load_config

TIMESTAMP = "2026-07-02T16:26:57.511Z"
TRACK = {
    "type": "track",
    "event": "Poll Voted",
    "userId": "user-1",
    "messageId": "m-1",
    "timestamp": TIMESTAMP,
    "properties": {"points": 3},
}
PAGE = {
    "type": "page",
    "name": "Home",
    "anonymousId": "a-1",
    "messageId": "m-2",
    "timestamp": TIMESTAMP,
    "properties": {"custom_id": "c-1"},
}
NOBODY = {**TRACK, "messageId": "m-3", "userId": None}
IDENTIFY = {"type": "identify", "userId": "u", "messageId": "m-4", "traits": {}}


def test_one_result_per_event_in_order():
    results = preview([TRACK, PAGE, NOBODY, IDENTIFY], load_config())

    assert [r["messageId"] for r in results] == ["m-1", "m-2", "m-3", "m-4"]

    track, page, nobody, identify = results
    (request,) = track["requests"]
    assert request == {
        "method": "POST",
        "url": "http://127.0.0.1:8089/api/v1/applications/demo-client-id/"
        "segment-events/",
        "headers": {
            "user-agent": "Segment (Actions)",
            "content-type": "application/json",
            "authorization": "Bearer demo-producer-token",
        },
        "body": {
            "events": [
                {
                    "event_name": "Poll Voted",
                    "event_type": "track",
                    "segment_user_id": "user-1",
                    "timestamp": TIMESTAMP,
                    "properties": {"points": 3},
                }
            ]
        },
    }
    assert track["error"] is None
    assert page["requests"][0]["body"]["events"][0]["event_name"] == "Home"
    assert nobody == {
        "messageId": "m-3",
        "requests": [],
        "error": {
            "message": "`livelike_profile_id` or `custom_id` or `user_id` is required.",
            "status": 400,
        },
    }
    assert identify == {"messageId": "m-4", "requests": [], "error": None}


def test_livelike_url_moves_the_base_url():
    (result,) = preview([TRACK], load_config(), livelike_url="http://127.0.0.1:5000")

    assert result["requests"][0]["url"].startswith("http://127.0.0.1:5000/api/v1/")


def test_a_source_without_destinations_makes_no_requests():
    (result,) = preview([TRACK], load_config(), source="livelike")

    assert result == {"messageId": "m-1", "requests": [], "error": None}


def test_unknown_source_is_refused():
    with pytest.raises(PreviewError, match="Unknown source 'nope'"):
        preview([TRACK], load_config(), source="nope")


def test_a_non_object_event_gets_an_error_line():
    (result,) = preview([42], load_config())

    assert result["error"] == {
        "message": "An event must be a JSON object, not 42.",
        "status": 400,
    }


def cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["destinations", "preview", *args], input=stdin)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(TRACK) + "\n\n" + json.dumps(PAGE) + "\n",
        json.dumps([TRACK, PAGE], indent=2),
    ],
    ids=["ndjson", "json-array"],
)
def test_cli_reads_ndjson_or_an_array_from_stdin(text):
    result = cli("-", stdin=text)

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["messageId"] for line in lines] == ["m-1", "m-2"]
    assert all(line["error"] is None for line in lines)


def test_cli_reads_a_file_with_a_config_and_source(tmp_path):
    events = tmp_path / "events.ndjson"
    events.write_text(json.dumps(TRACK) + "\n")
    config = tmp_path / "stack.yaml"
    config.write_text(
        "sources:\n"
        "  - name: web\n"
        "    write_key: web-write-key-0000000000000001\n"
        "  - name: app\n"
        "    write_key: app-write-key-0000000000000001\n"
        "    destinations:\n"
        "      - destination: livelike-cloud\n"
        "        settings: {clientId: cid, producerToken: tok,"
        " baseUrl: 'https://ll.example/api/v1'}\n"
        "        presets: [Track User Actions]\n"
    )

    result = cli("--config", str(config), "--source", "app", str(events))

    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.output.splitlines()]
    assert line["requests"][0]["url"] == (
        "https://ll.example/api/v1/applications/cid/segment-events/"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["-"], '{"type": "track"\n', "line 1 is not valid JSON"),
        (["-"], "[1, 2", "not a valid JSON array"),
        (["--source", "nope", "-"], "{}", "Unknown source 'nope'"),
    ],
)
def test_cli_errors_are_one_sentence(args, stdin, message):
    result = cli(*args, stdin=stdin)

    assert result.exit_code == 2  # unusable input, as seglike validate
    assert message in result.output
    assert "Traceback" not in result.output
