"""Control routes: one paging rule, a bound on open waits, resets that refuse typos."""

from __future__ import annotations

import pytest
from segment_helpers import (  # noqa: F401  (fixtures)
    WRITE_KEY,
    app_fixture,
    basic,
    client_fixture,
    db_fixture,
    track,
)

from emulator.actions import control as actions_control
from emulator.actions import deliveries
from emulator.actions.deliveries import NewDelivery
from emulator.livelike import control as livelike_control
from emulator.segment import control as segment_control
from emulator.store import Database
from emulator.web.app import create_service_app
from tests.livelike_helpers import event, make_livelike

CURSOR_NAMES = ["cursor", "after", "next"]


def send(client, count: int) -> None:
    batch = [track(messageId=f"m-{n}", event=f"E{n}") for n in range(count)]
    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(WRITE_KEY))
    assert response.status_code == 200, response.json


@pytest.fixture
def ll():
    return make_livelike()


@pytest.fixture
def deliveries_client():
    db = Database(":memory:")
    db.ensure_schema()
    rows = [
        NewDelivery(
            seq=seq,
            message_id=f"m-{seq}",
            source="demo-app",
            destination="LiveLike",
            subscription="Track",
            action="trackEvent",
            status="pending",
        )
        for seq in (1, 2, 3)
    ]
    deliveries.record_routed(db, 3, rows)
    app = create_service_app("segment")
    app.register_blueprint(actions_control.create_blueprint(db))
    yield app.test_client()
    db.close()


def _hold_every_wait_slot(semaphore) -> int:
    held = 0
    while semaphore.acquire(blocking=False):
        held += 1
    return held


def _release(semaphore, held: int) -> None:
    for _ in range(held):
        semaphore.release()


# --- 1. cursor, after and next are one parameter on every control route ---


@pytest.mark.parametrize("route", ["/_emulator/messages", "/_emulator/requests"])
@pytest.mark.parametrize("name", CURSOR_NAMES)
def test_segment_pages_with_any_name_of_the_cursor(client, route, name):
    send(client, 3)
    send(client, 3)
    first = client.get(f"{route}?limit=1").json

    following = client.get(f"{route}?limit=1&{name}={first['next']}").json

    assert following["items"] != first["items"]
    assert following["items"][0]["id" if "requests" in route else "seq"] > first["next"]


@pytest.mark.parametrize("route", ["/_emulator/messages", "/_emulator/requests"])
@pytest.mark.parametrize("name", CURSOR_NAMES)
@pytest.mark.parametrize("value", ["abc", "-1", str(2**64)])
def test_segment_refuses_a_bad_cursor_under_any_name(client, route, name, value):
    response = client.get(f"{route}?{name}={value}")

    assert response.status_code == 400
    assert response.json["code"] == "invalid_query"
    assert response.json["path"] == name


@pytest.mark.parametrize("name", CURSOR_NAMES)
def test_deliveries_page_with_any_name_of_the_cursor(deliveries_client, name):
    page = deliveries_client.get(f"/_emulator/deliveries?{name}=2").json

    assert [item["seq"] for item in page["deliveries"]] == [3]


@pytest.mark.parametrize("name", CURSOR_NAMES)
def test_deliveries_refuse_a_bad_cursor_under_any_name(deliveries_client, name):
    response = deliveries_client.get(f"/_emulator/deliveries?{name}=abc")

    assert response.status_code == 400
    assert response.json["message"].startswith(f"Query parameter {name} must be")


@pytest.mark.parametrize("route", ["/_emulator/requests", "/_emulator/outbox"])
@pytest.mark.parametrize("name", CURSOR_NAMES)
def test_livelike_pages_with_any_name_of_the_cursor(ll, route, name):
    ll.send(event(user="a"))
    ll.send(event(user="b"))
    key = route.rsplit("/", 1)[1]
    everything = ll.client.get(route).get_json()[key]

    after_first = ll.client.get(f"{route}?{name}={everything[0]['seq']}").get_json()

    assert after_first[key] == everything[1:]
    bad = ll.client.get(f"{route}?{name}=abc")
    assert bad.status_code == 400
    assert bad.get_json()["path"] == f"$.query.{name}"


# --- 2. open waits are bounded so that ingestion keeps its threads ---


def test_segment_refuses_a_wait_beyond_the_bound_with_429(client):
    held = _hold_every_wait_slot(segment_control.WAITERS)
    try:
        refused = client.get("/_emulator/messages/wait?timeout=8")
    finally:
        _release(segment_control.WAITERS, held)
    freed = client.get("/_emulator/messages/wait?timeout=0")

    assert held == segment_control.MAX_WAITERS == 16
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json["code"] == "too_many_waits"
    assert "16 waits are already open" in refused.json["message"]
    assert freed.status_code == 408  # the slot came back after the wait
    assert _hold_every_wait_slot(segment_control.WAITERS) == 16
    _release(segment_control.WAITERS, 16)


def test_livelike_refuses_a_wait_beyond_the_bound_with_429(ll):
    ll.send(event(user="a"))
    held = _hold_every_wait_slot(livelike_control.WAITERS)
    try:
        refused = ll.client.get("/_emulator/requests?wait=8")
        without_wait = ll.client.get("/_emulator/requests")
    finally:
        _release(livelike_control.WAITERS, held)
    waited = ll.client.get("/_emulator/requests?wait=1")

    assert held == livelike_control.MAX_WAITERS == 16
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json()["code"] == "too_many_waits"
    assert without_wait.status_code == 200  # a plain read needs no slot
    assert waited.status_code == 200 and len(waited.get_json()["requests"]) == 1
    assert _hold_every_wait_slot(livelike_control.WAITERS) == 16
    _release(livelike_control.WAITERS, 16)


def test_livelike_caps_wait_at_30_seconds_like_segment(ll):
    ll.send(event(user="a"))

    over = ll.client.get("/_emulator/requests?wait=31")
    at_cap = ll.client.get("/_emulator/requests?wait=30")

    assert over.status_code == 400
    assert over.get_json()["path"] == "$.query.wait"
    assert "from 0 to 30" in over.get_json()["message"]
    assert "capped" in over.get_json()["message"]
    assert at_cap.status_code == 200


# --- 3. resets refuse what they cannot read instead of wiping everything ---


def test_segment_reset_refuses_an_unknown_key_and_keeps_every_source(client):
    send(client, 2)

    response = client.post("/_emulator/reset", json={"sorce": "demo-app"})

    assert response.status_code == 400
    assert response.json["code"] == "invalid_body"
    assert response.json["path"] == "$.sorce"
    assert "'sorce'" in response.json["message"]
    assert client.get("/_emulator/messages").json["count"] == 2


@pytest.mark.parametrize(
    "body", [b"NaN", b"\xff\xfe", b"[]", b"1", b'"x"', b"null", b"{"]
)
def test_livelike_reset_refuses_a_body_that_is_not_a_json_object(ll, body):
    ll.send(event(user="a"))

    response = ll.client.post(
        "/_emulator/reset", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert len(ll.client.get("/_emulator/requests").get_json()["requests"]) == 1


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}"])
def test_livelike_reset_takes_an_empty_body_or_an_object(ll, body):
    ll.send(event(user="a"))

    response = ll.client.post("/_emulator/reset", data=body)

    assert response.status_code == 200
    assert ll.client.get("/_emulator/requests").get_json()["requests"] == []
