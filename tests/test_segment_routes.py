"""The Tracking API's wire contract: routes, write keys, bodies, limits, CORS."""

from __future__ import annotations

import gzip
import json
import logging

import pytest
import requests
from segment_helpers import (  # noqa: F401  (fixtures)
    OTHER_KEY,
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

from emulator.segment.app import create_app

SINGLE_ROUTES = [
    ("/v1/identify", "identify"),
    ("/v1/track", "track"),
    ("/v1/page", "page"),
    ("/v1/screen", "screen"),
    ("/v1/group", "group"),
    ("/v1/alias", "alias"),
    ("/v1/i", "identify"),
    ("/v1/t", "track"),
    ("/v1/p", "page"),
    ("/v1/s", "screen"),
    ("/v1/g", "group"),
    ("/v1/a", "alias"),
]
BATCH_ROUTES = ["/v1/batch", "/v1/import", "/v1/import/", "/v1/b"]
VALID = {
    "identify": {"userId": "u", "traits": {"plan": "pro"}},
    "track": {"userId": "u", "event": "Song Played"},
    "page": {"userId": "u", "name": "Home"},
    "screen": {"userId": "u", "name": "Home"},
    "group": {"userId": "u", "groupId": "g"},
    "alias": {"userId": "u", "previousId": "anon"},
}


@pytest.mark.parametrize("path, call_type", SINGLE_ROUTES)
def test_single_routes_take_their_type_from_the_path(client, path, call_type):
    body = dict(VALID[call_type], type="track" if call_type != "track" else "page")

    response = client.post(path, json=body, headers=basic())

    assert response.status_code == 200
    assert response.json == {"success": True}
    [item] = stored(client)
    assert item["status"] == "accepted", item
    assert item["message"]["type"] == call_type
    assert item["route"] == path


@pytest.mark.parametrize("path", BATCH_ROUTES)
def test_batch_routes_store_every_item(server, path):
    body = {"batch": [dict(VALID[t], type=t) for t in VALID], "writeKey": WRITE_KEY}

    response = requests.post(server.url + path, json=body, timeout=5)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    items = requests.get(server.url + "/_emulator/messages", timeout=5).json()["items"]
    assert [item["message"]["type"] for item in items] == list(VALID)
    assert {item["status"] for item in items} == {"accepted"}
    assert {item["route"] for item in items} == {path}


@pytest.mark.parametrize(
    "path", ["/v1/track/", "//v1/track", "//v1/batch", "/v1/batch/", "//v1/t/"]
)
def test_paths_tolerate_a_trailing_slash_and_a_leading_double_slash(server, path):
    body = track() if "batch" not in path else {"batch": [track()]}

    response = requests.post(
        server.url + path, json=body, headers=basic(), timeout=5, allow_redirects=False
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


def test_metrics_route_accepts_and_ignores(client):
    body = {"series": [{"type": "Counter", "metric": "analytics_js.x", "value": 1}]}

    response = client.post("/v1/m", data=json.dumps(body), content_type="text/plain")

    assert response.status_code == 200
    assert response.json == {"success": True}
    assert stored(client) == []
    assert client.get("/_emulator/stats").json["requests"]["by_route"] == {"/v1/m": 1}


@pytest.mark.parametrize(
    "headers",
    [basic(), basic(colon=False), {"Authorization": "Bearer some.oauth.token"}],
    ids=["basic", "basic-without-colon", "bearer-plus-body-key"],
)
def test_write_key_from_basic_or_body(client, headers):
    body = track(writeKey=WRITE_KEY) if "Bearer" in str(headers) else track()

    response = client.post("/v1/track", json=body, headers=headers)

    assert response.status_code == 200
    [item] = stored(client)
    assert item["source"] == "demo-app"
    assert "writeKey" not in item["message"]


def test_basic_auth_wins_over_the_body_key(client):
    client.post("/v1/track", json=track(writeKey=OTHER_KEY), headers=basic())

    assert [item["source"] for item in stored(client)] == ["demo-app"]


def test_write_key_from_the_first_batch_item(client):
    body = {"batch": [track(writeKey=WRITE_KEY), track()]}

    response = client.post("/v1/b", json=body)

    assert response.status_code == 200
    assert [item["source"] for item in stored(client)] == ["demo-app", "demo-app"]


@pytest.mark.parametrize(
    "body, headers, code",
    [
        (track(), {}, "missing_write_key"),
        (track(writeKey=None), {}, "missing_write_key"),
        (track(writeKey=42), {}, "invalid_write_key"),
        (track(writeKey="abc123"), {}, "invalid_write_key"),
        (track(), basic("abc123"), "invalid_write_key"),
        (track(), {"Authorization": "Basic %%%not-base64"}, "invalid_authorization"),
    ],
)
def test_missing_or_malformed_write_key_is_a_400(client, body, headers, code):
    response = client.post("/v1/track", json=body, headers=headers)

    assert response.status_code == 400
    assert response.json["code"] == code
    assert response.json["message"]
    assert stored(client) == []


def test_unknown_write_key_is_200_and_dropped(client):
    response = client.post(
        "/v1/batch",
        json={"batch": [track(), track()]},
        headers=basic("seglike-unknown-key-000000000001"),
    )

    assert response.status_code == 200
    assert response.json == {"success": True}
    items = stored(client)
    assert [(i["status"], i["reasons"], i["source"]) for i in items] == [
        ("dropped", ["unknown_source"], None)
    ] * 2


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_json_under_any_content_type(client, content_type):
    headers = basic()
    if content_type:
        headers["Content-Type"] = content_type

    response = client.post("/v1/track", data=json.dumps(track()), headers=headers)

    assert response.status_code == 200
    assert len(stored(client)) == 1


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"{not json", "line 1 column 2"),
        (b"", "empty"),
        (b'{"userId": NaN}', "NaN"),
        (b"\xff\xfe\x00garbage", "not"),
    ],
)
def test_bad_json_is_a_400_with_the_reason(client, data, needle):
    response = client.post("/v1/track", data=data, headers=basic())

    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"
    assert needle in response.json["message"]
    stats = client.get("/_emulator/stats").json
    assert stats["requests"]["by_status"] == {"400": 1}
    assert stats["messages"]["by_reason"] == {"invalid_json": 1}


@pytest.mark.parametrize(
    "path, body, code, where",
    [
        ("/v1/track", [track()], "invalid_body", "$"),
        ("/v1/batch", {"batch": {"a": 1}}, "invalid_batch", "$.batch"),
        ("/v1/batch", {"nobatch": []}, "invalid_batch", "$.batch"),
        ("/v1/batch", {"batch": [], "context": 3}, "context_not_object", "$.context"),
    ],
)
def test_malformed_shapes_are_a_400_with_a_path(client, path, body, code, where):
    response = client.post(path, json=body, headers=basic())

    assert response.status_code == 400
    assert (response.json["code"], response.json["path"]) == (code, where)


def test_gzip_bodies_are_inflated(client):
    body = gzip.compress(json.dumps({"batch": [track(), track()]}).encode())

    response = client.post(
        "/v1/batch", data=body, headers={**basic(), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert len(stored(client, status="accepted")) == 2


@pytest.mark.parametrize(
    "encoding, data, status, code",
    [
        ("gzip", b"not gzip at all", 400, "invalid_encoding"),
        ("gzip", gzip.compress(b'{"batch": []}')[:-12], 400, "invalid_encoding"),
        ("br", b"{}", 415, "unsupported_encoding"),
    ],
)
def test_bad_encodings_are_refused(client, encoding, data, status, code):
    response = client.post(
        "/v1/batch", data=data, headers={**basic(), "Content-Encoding": encoding}
    )

    assert (response.status_code, response.json["code"]) == (status, code)


def test_request_limit_applies_to_the_inflated_body(db):
    app = create_app(make_config(limits={"request_bytes": 2000}), db)
    small = app.test_client()
    batch = {"batch": [track(properties={"pad": "x" * 300}) for _ in range(20)]}
    compressed = gzip.compress(json.dumps(batch).encode())
    assert len(compressed) < 2000

    response = small.post(
        "/v1/batch", data=compressed, headers={**basic(), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 400
    assert response.json["code"] == "request_too_large"


def test_request_over_the_limit_is_a_400(client):
    body = {"batch": [track(properties={"pad": "x" * 30000}) for _ in range(20)]}

    response = client.post("/v1/batch", json=body, headers=basic())

    assert response.status_code == 400
    assert response.json["code"] == "request_too_large"
    assert stored(client) == []


def test_single_message_over_32_kb_is_a_400(client):
    response = client.post(
        "/v1/track", json=track(properties={"pad": "x" * 33000}), headers=basic()
    )

    assert response.status_code == 400
    assert response.json["code"] == "message_too_large"


def test_one_oversize_message_in_a_batch_fails_the_request(client):
    body = {"batch": [track(), track(properties={"pad": "x" * 33000})]}

    response = client.post("/v1/batch", json=body, headers=basic())

    assert response.status_code == 400
    assert response.json["code"] == "message_too_large"
    assert response.json["path"] == "$.batch[1]"
    assert stored(client) == []


def test_message_just_under_the_limit_is_accepted(client):
    body = {"batch": [track(properties={"pad": "x" * 32000}), track()]}

    response = client.post("/v1/batch", json=body, headers=basic())

    assert response.status_code == 200
    assert len(stored(client, status="accepted")) == 2


def test_limits_come_from_the_config(db):
    config = make_config(limits={"message_bytes": 200, "batch_messages": 2})
    small = create_app(config, db).test_client()

    too_big = small.post(
        "/v1/track", json=track(properties={"pad": "x" * 300}), headers=basic()
    )
    too_many = small.post("/v1/batch", json={"batch": [track()] * 3}, headers=basic())

    assert too_big.json["code"] == "message_too_large"
    assert too_many.status_code == 200
    assert {tuple(i["reasons"]) for i in stored(small)} == {("batch_too_many_events",)}


def test_wrong_method_and_unknown_path_answer_json(client):
    wrong = client.get("/v1/track")
    missing = client.post("/v1/nothing", json={})

    assert (wrong.status_code, wrong.json["code"]) == (405, "method_not_allowed")
    assert (missing.status_code, missing.json["code"]) == (404, "not_found")


@pytest.mark.parametrize("path", ["/v1/t", "/v1/batch", "/_emulator/messages"])
def test_cors_preflight_on_every_route(client, path):
    response = client.options(
        path,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 204
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    allowed = headers["Access-Control-Allow-Headers"]
    for name in ("authorization", "content-type", "x-retry-count"):
        assert name in allowed
    assert "POST" in headers["Access-Control-Allow-Methods"]


def test_cors_headers_on_answers_and_errors(client):
    ok = client.post("/v1/t", json=track(), headers=basic())
    bad = client.post("/v1/t", data=b"{", headers={"Origin": "http://a.test"})

    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    assert bad.headers["Access-Control-Allow-Origin"] == "http://a.test"


def test_settings_document_points_analytics_js_here(server):
    url = f"{server.url}/v1/projects/{WRITE_KEY}/settings"

    settings = requests.get(url, timeout=5).json()

    block = settings["integrations"]["Segment.io"]
    assert block["apiKey"] == WRITE_KEY
    assert block["apiHost"] == f"127.0.0.1:{server.port}/v1"
    assert block["protocol"] == "http"
    assert list(settings["integrations"]) == ["Segment.io"]
    assert settings["metrics"]["sampleRate"] == 0


def test_settings_for_an_unknown_key_is_a_404(client):
    response = client.get("/v1/projects/seglike-nobody-key-00000000000001/settings")

    assert response.status_code == 404
    assert response.json["code"] == "unknown_source"
    assert "seglike-nobody" not in response.json["message"]


def test_access_log_masks_write_keys(client, caplog):
    caplog.set_level(logging.INFO, logger="emulator.segment.access")

    client.get(f"/v1/projects/{WRITE_KEY}/settings")
    client.post("/v1/batch", json={"batch": [track()]}, headers=basic())

    text = caplog.text
    assert WRITE_KEY not in text
    assert "/v1/projects/segl****0001/settings 200" in text
    assert "POST /v1/batch 200 messages=1" in text


def test_browser_routes_collect_the_client_ip(client):
    client.post("/v1/t", json=track(), headers=basic())
    client.post("/v1/track", json=track(), headers=basic())
    client.post("/v1/track", json=track(context={"direct": True}), headers=basic())

    ips = [item["message"].get("context", {}).get("ip") for item in stored(client)]
    assert ips == ["127.0.0.1", None, "127.0.0.1"]


def test_lone_surrogates_are_stored_as_replacement_characters(client):
    body = b'{"userId": "\\udb51", "event": "x\\ud800y"}'

    response = client.post("/v1/track", data=body, headers=basic())

    assert response.status_code == 200
    [item] = stored(client)
    assert (item["message"]["userId"], item["message"]["event"]) == (
        "\ufffd",
        "x\ufffdy",
    )


def test_absurd_header_values_are_ignored(client):
    headers = {**basic(), "X-Retry-Count": "9" * 40}

    response = client.post("/v1/track", json=track(), headers=headers)

    assert response.status_code == 200


def test_an_empty_body_write_key_counts_as_missing(client):
    response = client.post("/v1/track", json=track(writeKey=""))

    assert response.json["code"] == "missing_write_key"
