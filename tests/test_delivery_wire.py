"""The bytes the pipeline puts on the wire are the ones Segment's Node client sends."""

from __future__ import annotations

from emulator.actions.destination import OutgoingRequest


def test_body_is_compact_utf8_json_as_javascript_writes_it():
    request = OutgoingRequest(
        method="POST",
        url="http://127.0.0.1:1/x",
        headers={},
        json={"events": [{"event_name": "Café", "ratio": 1e-7, "count": 2.0}]},
    )

    assert request.body_bytes() == (
        '{"events":[{"event_name":"Café","ratio":1e-7,"count":2}]}'.encode()
    )


def test_a_request_without_body_sends_none():
    request = OutgoingRequest(method="GET", url="http://127.0.0.1:1/x", headers={})

    assert request.body_bytes() is None
