"""Normalisation: what Segment adds and corrects on every message it receives."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from segment_helpers import (  # noqa: F401  (fixtures)
    app_fixture,
    basic,
    client_fixture,
    db_fixture,
    stored,
    track,
)

from emulator.segment.normalize import (
    InvalidTimestamp,
    deep_merge,
    format_timestamp,
    new_message_id,
    normalize,
    parse_timestamp,
)

RECEIVED = datetime(2024, 5, 1, 19, 11, 1, 266000, tzinfo=UTC)


def run(item, envelope=None, call_type=None, **kwargs):
    return normalize(
        item,
        call_type=call_type,
        envelope=envelope or {},
        received_at=RECEIVED,
        received_at_text=format_timestamp(RECEIVED),
        **kwargs,
    )


def test_clock_skew_formula_matches_segments_worked_example():
    message = run(
        track(
            timestamp="2024-05-01T19:11:01.152Z",
            sentAt="2024-05-01T19:11:01.169Z",
        )
    )

    assert message["originalTimestamp"] == "2024-05-01T19:11:01.152Z"
    assert message["sentAt"] == "2024-05-01T19:11:01.169Z"
    assert message["receivedAt"] == "2024-05-01T19:11:01.266Z"
    assert message["timestamp"] == "2024-05-01T19:11:01.249Z"


def test_a_slow_client_clock_is_corrected():
    message = run(
        track(timestamp="2024-05-01T18:00:00.000Z"),
        envelope={"sentAt": "2024-05-01T18:00:05.000Z"},
    )

    assert message["timestamp"] == "2024-05-01T19:10:56.266Z"


def test_without_a_client_timestamp_the_server_stamps_it():
    message = run(track(sentAt="2020-01-01T00:00:00Z"))

    assert message["timestamp"] == "2024-05-01T19:11:01.266Z"
    assert "originalTimestamp" not in message


def test_without_sent_at_there_is_no_correction():
    message = run(track(timestamp="2024-05-01T10:00:00+02:00"))

    assert message["timestamp"] == "2024-05-01T08:00:00.000Z"
    assert message["originalTimestamp"] == "2024-05-01T08:00:00.000Z"
    assert "sentAt" not in message


def test_client_original_timestamp_counts_as_the_device_time():
    message = run(
        track(originalTimestamp="2024-05-01T19:11:00Z", sentAt="2024-05-01T19:11:01Z")
    )

    assert message["timestamp"] == "2024-05-01T19:11:00.266Z"


def test_message_sent_at_wins_over_the_envelope():
    message = run(
        track(timestamp="2024-05-01T19:00:00Z", sentAt="2024-05-01T19:00:01Z"),
        envelope={"sentAt": "2024-05-01T19:00:30Z"},
    )

    assert message["timestamp"] == "2024-05-01T19:11:00.266Z"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2015-2-02T00:30:08.276Z", "2015-02-02T00:30:08.276Z"),
        ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123Z"),
        ("2024-01-01T01:00:00.5+01:00", "2024-01-01T00:00:00.500Z"),
        ("2024-01-01T00:00:00.999999-0530", "2024-01-01T05:30:00.999Z"),
        ("2024-01-01 12:00:00", "2024-01-01T12:00:00.000Z"),
        ("2024-01-01", "2024-01-01T00:00:00.000Z"),
        ("2024-1-1T1:2:3,5Z", "2024-01-01T01:02:03.500Z"),
    ],
)
def test_timestamps_parse_leniently_and_render_in_utc_millis(text, expected):
    assert format_timestamp(parse_timestamp(text)) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2024-02-30T00:00:00Z", 12, None])
def test_unparsable_timestamps_are_refused(text):
    with pytest.raises(InvalidTimestamp):
        parse_timestamp(text)


def test_envelope_context_and_integrations_merge_with_item_values_winning():
    envelope = {
        "context": {"library": {"name": "analytics-go", "version": "3"}, "ip": "1"},
        "integrations": {"All": False, "Mixpanel": True},
    }
    item = track(
        context={"library": {"version": "4"}, "locale": "fr"},
        integrations={"All": True},
    )

    message = run(item, envelope=envelope)

    assert message["context"] == {
        "library": {"name": "analytics-go", "version": "4"},
        "ip": "1",
        "locale": "fr",
    }
    assert message["integrations"] == {"All": True, "Mixpanel": True}
    assert envelope["context"]["library"]["version"] == "3"  # not mutated


def test_envelope_context_fills_a_message_without_one():
    message = run(track(context=None), envelope={"context": {"library": {"n": 1}}})

    assert message["context"] == {"library": {"n": 1}}


def test_nulls_are_absent_and_the_write_key_is_stripped():
    message = run(
        track(anonymousId=None, name=None, writeKey="k", messageId=None),
        call_type="track",
    )

    assert "anonymousId" not in message
    assert "name" not in message
    assert "writeKey" not in message
    assert re.fullmatch(r"api-[A-Za-z0-9]{32}", message["messageId"])


def test_client_message_ids_are_kept_and_generated_ids_differ():
    assert run(track(messageId="mine"))["messageId"] == "mine"
    assert new_message_id() != new_message_id()


def test_the_route_decides_the_type():
    assert run({"type": "page", "userId": "u"}, call_type="identify")["type"] == (
        "identify"
    )


def test_client_ip_only_when_collected_and_never_over_a_given_one():
    assert "context" not in run(track(), client_ip="10.0.0.1")
    assert run(track(), client_ip="10.0.0.1", collect_ip=True)["context"] == {
        "ip": "10.0.0.1"
    }
    given = run(track(context={"ip": "9.9.9.9"}), client_ip="1.1.1.1", collect_ip=True)
    assert given["context"]["ip"] == "9.9.9.9"


def test_deep_merge_does_not_share_nested_dicts():
    base = {"a": {"b": 1}}

    merged = deep_merge(base, {"a": {"c": 2}})

    assert merged == {"a": {"b": 1, "c": 2}}
    assert base == {"a": {"b": 1}}


def test_messages_of_one_request_share_received_at(client):
    batch = [track(messageId=f"m{n}") for n in range(5)]

    client.post("/v1/batch", json={"batch": batch}, headers=basic())

    items = stored(client)
    assert len({item["message"]["receivedAt"] for item in items}) == 1
    assert items[0]["receivedAt"] == items[0]["message"]["receivedAt"]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", items[0]["message"]["receivedAt"]
    )


def test_raw_form_is_kept_beside_the_normalised_one(client):
    item = track(userId="u", anonymousId=None, writeKey=None)

    client.post("/v1/batch", json={"batch": [item]}, headers=basic())

    [stored_item] = client.get("/_emulator/messages?raw=true").json["items"]
    assert stored_item["raw"] == item
    assert "anonymousId" not in stored_item["message"]
