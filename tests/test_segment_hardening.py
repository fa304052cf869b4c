"""Findings of the QA round on the Segment service: each a regression test."""

from __future__ import annotations

import gzip
import json
import logging
import threading

import pytest
import requests
from flask import Response, g, request
from segment_helpers import (  # noqa: F401  (fixtures)
    WRITE_KEY,
    app_fixture,
    basic,
    client_fixture,
    db_fixture,
    make_config,
    server_fixture,
    stored,
    track,
)

from emulator import jsontext
from emulator.config import ConfigError, load_config, parse_config
from emulator.segment import messages
from emulator.segment.app import create_app
from emulator.segment.ingest import Ingestor
from emulator.segment.normalize import InvalidTimestamp, parse_timestamp
from emulator.web.app import create_service_app


def _requests(client, **query):
    response = client.get("/_emulator/requests", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


# -- 3, 22: numbers JSON cannot hold ------------------------------------------


def test_an_infinite_number_is_refused_and_the_store_stays_readable(client):
    body = b'{"type":"track","userId":"u","event":"e","properties":{"x":1e999}}'
    client.post("/v1/track", json=track(properties={"x": 1}), headers=basic())

    response = client.post("/v1/track", data=body, headers=basic())

    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"
    listed = client.get("/_emulator/messages?where=properties.x:1")
    assert listed.status_code == 200
    assert len(jsontext.loads(listed.data)["items"]) == 1


def test_the_store_refuses_to_write_a_non_finite_number(db):
    row = messages.MessageRow(
        source="demo-app",
        route="/v1/track",
        status="accepted",
        reasons=[],
        raw={},
        message={"properties": {"x": float("inf")}},
        received_at="2024-01-01T00:00:00.000Z",
        received_ms=0,
    )
    request = messages.RequestRecord("2024-01-01T00:00:00.000Z", 0, "POST", "/", 200)

    with pytest.raises(ValueError), db.transaction() as conn:
        messages.store_request(conn, request, [row])


def test_a_five_thousand_digit_integer_gets_a_plain_sentence(client):
    body = '{"type":"track","userId":"u","event":"e","n":' + "9" * 5000 + "}"

    response = client.post("/v1/track", data=body, headers=basic())

    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"
    assert "too many digits" in response.json["message"]
    assert "set_int_max_str_digits" not in response.json["message"]


# -- 4, 13, 14: timestamps ------------------------------------------------------


@pytest.mark.parametrize("field", ["timestamp", "originalTimestamp", "sentAt"])
@pytest.mark.parametrize("offset", ["+24:00", "-99:00", "+05:60"])
def test_an_offset_of_a_day_or_more_drops_the_message(client, field, offset):
    fields = {field: f"2024-01-01T00:00:00{offset}"}

    response = client.post("/v1/track", json=track(**fields), headers=basic())

    assert response.status_code == 200
    [item] = stored(client)
    assert item["reasons"] == ["invalid_timestamp"]
    assert item["details"][0]["path"] == f"$.{field}"


def test_the_largest_offsets_still_parse():
    moment = parse_timestamp("2024-01-01T00:00:00+23:59")

    assert moment.isoformat() == "2023-12-31T00:01:00+00:00"


@pytest.mark.parametrize("field", ["timestamp", "originalTimestamp", "sentAt"])
@pytest.mark.parametrize("value", [0, "", False, 5, "0", [], {}])
def test_every_present_bad_timestamp_drops_alike(client, field, value):
    response = client.post("/v1/track", json=track(**{field: value}), headers=basic())

    assert response.status_code == 200
    assert stored(client)[0]["reasons"] == ["invalid_timestamp"]


def test_a_null_timestamp_is_absent(client):
    client.post("/v1/track", json=track(timestamp=None), headers=basic())

    [item] = stored(client)
    assert item["status"] == "accepted"
    assert item["message"]["timestamp"] == item["message"]["receivedAt"]


@pytest.mark.parametrize(
    "text",
    [
        "2024-W01-1",
        "2024-001",
        "20240101T000000Z",
        "2024-01-01T00:00:00\u00a0Z",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z ",
        "\u0662\u0660\u0662\u0664-01-01T00:00:00Z",
        "2024-01-01T00:00:00+0",
        "2024-01-01T00Z",
        "2024-01-01Z",
    ],
)
def test_only_extended_iso_date_times_are_timestamps(text):
    with pytest.raises(InvalidTimestamp):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123456+00:00"),
        ("2024-01-01t00:00:00z", "2024-01-01T00:00:00+00:00"),
        ("2024-01-01T02:00:00+02", "2024-01-01T00:00:00+00:00"),
    ],
)
def test_sdk_timestamp_forms_parse(text, expected):
    assert parse_timestamp(text).isoformat() == expected


# -- 5, 7: control routes --------------------------------------------------------


def test_a_deeply_nested_reset_body_is_a_400(client):
    response = client.post("/_emulator/reset", data="[" * 100_000)

    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"


_INTEGER_PARAMETERS = [
    (route, name)
    for route, names in {
        "/_emulator/messages": ["limit", "after", "cursor", "since", "until"],
        "/_emulator/messages/wait": ["limit", "cursor", "count", "since", "timeout"],
        "/_emulator/requests": ["limit", "after", "cursor", "status"],
    }.items()
    for name in names
]


@pytest.mark.parametrize("route, name", _INTEGER_PARAMETERS)
@pytest.mark.parametrize("digits", [20, 5000])
def test_integers_beyond_64_bits_are_a_400(client, route, name, digits):
    query = {"timeout": "0", name: "9" * digits}

    response = client.get(route, query_string=query)

    assert response.status_code == 400, response.json
    assert response.json["code"] == "invalid_query"
    assert response.json["path"] == name


def test_a_where_index_beyond_64_bits_is_not_a_500(client):
    response = client.get(f"/_emulator/messages?where=properties.{'9' * 30}:1")

    assert response.status_code in (200, 400)


# -- 9: long polls do not starve ingestion ------------------------------------------


def test_wait_timeout_is_capped_and_says_why(client):
    response = client.get("/_emulator/messages/wait?timeout=31")

    assert response.status_code == 400
    assert "capped" in response.json["message"]
    assert "30" in response.json["message"]


def test_a_dozen_waiters_leave_threads_for_ingestion(server):
    url = f"{server.url}/_emulator/messages/wait?event=Later&timeout=4"
    answers: list[int] = []
    waiters = [
        threading.Thread(target=lambda: answers.append(requests.get(url).status_code))
        for _ in range(12)
    ]
    for waiter in waiters:
        waiter.start()

    sent = requests.post(
        f"{server.url}/v1/track", json=track(event="Later"), headers=basic(), timeout=8
    )
    for waiter in waiters:
        waiter.join(timeout=10)

    assert sent.status_code == 200
    assert answers == [200] * 12


# -- 11: message size in UTF-8 ----------------------------------------------------


def test_batch_items_are_measured_in_utf8_bytes(db):
    client = create_app(make_config(limits={"message_bytes": 400}), db).test_client()
    item = track(properties={"title": "音" * 100})  # 300 bytes, 600 as \\u escapes

    response = client.post("/v1/batch", json={"batch": [item, item]}, headers=basic())

    assert response.status_code == 200, response.json
    assert [i["status"] for i in stored(client)] == ["accepted", "accepted"]


# -- 16: paths and redirects -------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1//track", "//v1/import//", "/v1//track/", "//v1//t", "/v1///batch"]
)
def test_doubled_slashes_reach_the_route(server, client, path):
    batch = "batch" in path or "import" in path
    body = {"batch": [track()]} if batch else track()

    response = requests.post(
        server.url + path, json=body, headers=basic(), timeout=5, allow_redirects=False
    )

    assert response.status_code == 200, response.text
    [item] = stored(client)
    assert item["status"] == "accepted"
    assert item["route"].strip("/") == path.strip("/")  # as sent, save the lead


def test_a_werkzeug_redirect_is_answered_in_json():
    app = create_service_app("redirects")
    app.add_url_rule("/things/", "things", lambda: "[]")

    response = app.test_client().get("/things")

    assert response.status_code == 308
    assert response.headers["Location"].endswith("/things/")
    assert response.json["code"] == "redirect"
    assert "/things/" in response.json["message"]


# -- 17: configuration ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, path, words",
    [
        ({"segment": {"mesage_bytes": 10}}, "$.segment.mesage_bytes", "max_messages"),
        (
            {"segment": {"limits": {"mesage_bytes": 10}}},
            "$.segment.limits.mesage_bytes",
            "message_bytes",
        ),
        (
            {"sources": [{"name": "a", "write_key": "k" * 32, "stric": True}]},
            "$.sources[0].stric",
            "strict",
        ),
        ({"sources": [{"name": "a", "write_key": "short"}]}, "$.sources[0]", "8"),
        ({"sources": 5}, "$.sources", "list"),
        ({"sources": {"name": "a"}}, "$.sources", "list"),
    ],
)
def test_bad_segment_configuration_is_a_config_error(raw, path, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)

    assert caught.value.path.startswith(path)
    assert words in caught.value.reason


def test_a_binary_config_file_is_a_config_error(tmp_path):
    file = tmp_path / "stack.yaml"
    file.write_bytes(b"segment:\n  limits: {}\n\xff\xfe\x00\x89PNG")

    with pytest.raises(ConfigError) as caught:
        load_config(file)

    assert "UTF-8" in str(caught.value)


# -- 20, 21: secrets and forged lines in logs ----------------------------------------


def test_a_rejected_body_preview_masks_the_write_key(client):
    body = json.dumps({"writeKey": WRITE_KEY, "batch": [track()]})[:-1]  # cut short

    client.post("/v1/batch", data=body)

    [logged] = _requests(client)
    assert logged["status"] == 400
    assert WRITE_KEY not in logged["bodyPreview"]
    assert "segl****0001" in logged["bodyPreview"]


@pytest.mark.parametrize(
    "path", [f"/v1/PROJECTS/{WRITE_KEY}/settings", f"/v1/projects//{WRITE_KEY}/x"]
)
def test_logged_paths_mask_write_keys(client, caplog, path):
    with caplog.at_level(logging.INFO, logger="emulator.segment.access"):
        client.get(path)

    assert caplog.records
    assert WRITE_KEY not in caplog.text


def test_control_characters_are_escaped_in_log_lines(client, caplog):
    with caplog.at_level(logging.DEBUG, logger="emulator.segment"):
        client.post(
            "/v1/track%0A2024 GET /forged 200%00", json=track(), headers=basic()
        )

    lines = [record.getMessage() for record in caplog.records]
    assert lines
    assert not any("\n" in line or "\x00" in line for line in lines)
    assert any("\\n2024 GET /forged" in line for line in lines)


# -- 22: gzip --------------------------------------------------------------------


def test_a_gzip_bomb_message_is_a_sentence(db):
    client = create_app(make_config(limits={"request_bytes": 1000}), db).test_client()
    bomb = gzip.compress(b" " * 100_000)

    response = client.post(
        "/v1/track",
        data=bomb,
        headers={**basic(), "Content-Encoding": "gzip"},
    )

    assert response.status_code == 400
    assert response.json["message"] == (
        "The request body, once inflated, is larger than the limit of 1000 bytes."
    )


def test_every_gzip_member_is_read(client):
    text = json.dumps({"batch": [track(), track(event="Second")]}).encode()
    middle = len(text) // 2
    data = gzip.compress(text[:middle]) + gzip.compress(text[middle:])

    response = client.post(
        "/v1/batch", data=data, headers={**basic(), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 200, response.json
    assert len(stored(client)) == 2


@pytest.mark.parametrize("junk", [b"junk", b"\x00\x00", b"\x1f"])
def test_trailing_data_after_gzip_is_refused(client, junk):
    data = gzip.compress(json.dumps(track()).encode()) + junk

    response = client.post(
        "/v1/track", data=data, headers={**basic(), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 400
    assert response.json["code"] == "invalid_encoding"
    assert stored(client) == []


# -- user findings ----------------------------------------------------------------

PLANNED_KEY = "seglike-planned-strict-key-00001"


@pytest.fixture(name="planned")
def planned_fixture(db):
    raw = {
        "sources": [
            {
                "name": "shop",
                "write_key": PLANNED_KEY,
                "strict": True,
                "tracking_plan": "ecommerce-v2",
                "protocols": {"unplanned_events": "block"},
            }
        ]
    }
    return create_app(parse_config(raw), db).test_client()


def test_strict_mode_answers_400_for_a_message_the_plan_blocks(planned):
    order = {"type": "track", "userId": "fan-1", "event": "Order Finished"}

    response = planned.post(
        "/v1/batch", json={"batch": [order]}, headers=basic(PLANNED_KEY)
    )

    assert response.status_code == 400
    assert response.json["code"] == "strict_rejected"
    [error] = response.json["errors"]
    assert (error["code"], error["path"][:10]) == ("unplanned", "$.batch[0]")
    [item] = stored(planned)
    assert item["status"] == "rejected"
    assert item["reasons"] == ["unplanned"]


def test_strict_mode_still_accepts_what_the_plan_allows(planned):
    order = {
        "type": "track",
        "userId": "fan-1",
        "event": "Order Completed",
        "properties": {"order_id": "o-1"},
    }

    response = planned.post("/v1/track", json=order, headers=basic(PLANNED_KEY))

    assert response.status_code == 200, response.json


def test_a_request_a_fault_rule_answered_is_in_the_request_log(app, client):
    @app.before_request
    def _fault():  # what the faults hook does when a rule answers
        if request.path.startswith("/_emulator/"):
            return None
        g.fault_rule = "rule-7"
        return Response('{"code":"fault_injected"}', status=503)

    client.post("/v1/track", json=track(), headers=basic())

    [logged] = _requests(client)
    assert (logged["route"], logged["status"], logged["fault"]) == (
        "/v1/track",
        503,
        "rule-7",
    )
    assert logged["code"] == "fault_injected"


def test_a_request_that_ended_in_a_500_is_in_the_request_log(client, monkeypatch):
    def broken(self, submission):
        raise RuntimeError("bug")

    monkeypatch.setattr(Ingestor, "ingest", broken)

    response = client.post("/v1/batch", json={"batch": [track()]}, headers=basic())

    assert response.status_code == 500
    [logged] = _requests(client)
    assert (logged["route"], logged["status"], logged["code"]) == (
        "/v1/batch",
        500,
        "internal_error",
    )


def test_an_answered_request_is_logged_once(client):
    client.post("/v1/track", json=track(), headers=basic())
    client.post("/v1/track", data="{", headers=basic())

    assert [r["status"] for r in _requests(client)] == [200, 400]


@pytest.mark.parametrize("name", ["cursor", "after"])
def test_messages_page_by_cursor(client, name):
    for number in range(5):
        client.post("/v1/track", json=track(event=f"E{number}"), headers=basic())

    seen, cursor = [], 0
    while cursor is not None:
        page = client.get(f"/_emulator/messages?limit=2&{name}={cursor}").json
        seen += [item["message"]["event"] for item in page["items"]]
        assert page["cursor"] == page["next"]
        cursor = page["cursor"]

    assert seen == [f"E{number}" for number in range(5)]


def test_requests_page_by_cursor(client):
    for _ in range(3):
        client.post("/v1/track", json=track(), headers=basic())

    first = client.get("/_emulator/requests?limit=2").json
    rest = client.get(f"/_emulator/requests?limit=2&cursor={first['cursor']}").json

    assert len(first["items"]) == 2
    assert len(rest["items"]) == 1
    assert rest["cursor"] is None


@pytest.mark.parametrize(
    "rule, status",
    [({"status": 503}, 503), ({"status": 429, "retry_after": 1}, 429)],
)
def test_a_real_fault_rule_answer_is_in_the_request_log(client, rule, status):
    added = client.post("/_emulator/faults", json={"path": "/v1/track", **rule})
    assert added.status_code == 201, added.json

    response = client.post("/v1/track", json=track(), headers=basic())

    assert response.status_code == status
    [logged] = _requests(client)
    assert (logged["status"], logged["fault"]) == (status, added.json["id"])
    assert stored(client) == []


def test_a_dropped_connection_is_in_the_request_log(server, client):
    added = client.post("/_emulator/faults", json={"path": "/v1/track", "drop": True})
    assert added.status_code == 201, added.json

    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{server.url}/v1/track", json=track(), headers=basic(), timeout=5
        )

    [logged] = _requests(client)
    assert logged["fault"] == added.json["id"]
    assert logged["route"] == "/v1/track"


@pytest.mark.parametrize("sent_at", [0, "2024-01-01T00:00:00+24:00"])
def test_a_bad_batch_sent_at_is_blamed_on_the_batch(client, sent_at):
    body = {"batch": [track()], "sentAt": sent_at}

    client.post("/v1/batch", json=body, headers=basic())

    [item] = stored(client)
    assert item["reasons"] == ["invalid_timestamp"]
    assert item["details"][0]["path"] == "$.sentAt"
