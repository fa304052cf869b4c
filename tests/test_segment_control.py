"""The control API of the Segment service, the store cap and durability."""

from __future__ import annotations

import threading

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

from emulator.segment import messages
from emulator.segment.app import create_app
from emulator.store import Database


def send(client, *items, key=WRITE_KEY):
    response = client.post("/v1/batch", json={"batch": list(items)}, headers=basic(key))
    assert response.status_code == 200, response.json


@pytest.fixture(name="filled")
def filled_fixture(client):
    send(
        client,
        track(event="Song Played", properties={"plan": "pro", "n": 3, "ok": True}),
        track(event="Song Skipped", userId="u2", properties={"plan": "free"}),
        {"type": "identify", "anonymousId": "anon-1", "traits": {"plan": "pro"}},
        {"type": "track", "anonymousId": "anon-1"},  # dropped
    )
    send(
        client, track(messageId="from-other", userId="u3", event="Other"), key=OTHER_KEY
    )
    return client


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({}, 5),
        ({"type": "track"}, 4),
        ({"event": "Song Played"}, 1),
        ({"userId": "u2"}, 1),
        ({"anonymousId": "anon-1"}, 2),
        ({"messageId": "from-other"}, 1),
        ({"source": "other-app"}, 1),
        ({"status": "dropped"}, 1),
        ({"status": "accepted", "type": "track"}, 3),
        ({"where": "properties.plan:pro"}, 1),
        ({"where": "traits.plan:pro"}, 1),
        ({"where": "properties.n:3"}, 1),
        ({"where": "properties.ok:true"}, 1),
        ({"where": "properties.plan"}, 2),
        ({"where": ["properties.plan:pro", "userId:user-1"]}, 1),
        ({"where": ["properties.plan:pro", "userId:u2"]}, 0),
        ({"where": "context.library.name:nothing"}, 0),
    ],
)
def test_message_filters(filled, filters, expected):
    items = stored(filled, **filters)

    assert len(items) == expected


def test_items_carry_message_status_reasons_and_source(filled):
    item = stored(filled, status="dropped")[0]

    assert item["source"] == "demo-app"
    assert item["reasons"] == ["event_not_defined"]
    assert item["message"]["anonymousId"] == "anon-1"
    assert set(item) >= {"seq", "message", "status", "reasons", "source", "route"}


def test_cursor_pages_through_every_message(filled):
    seen, after = [], 0
    while True:
        page = filled.get(f"/_emulator/messages?limit=2&after={after}").json
        seen += [item["seq"] for item in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]

    assert seen == sorted(seen)
    assert len(seen) == 5


def test_time_range_filters(filled):
    received = stored(filled)[0]["receivedAt"]

    assert len(stored(filled, since=received)) == 5
    assert stored(filled, until="2000-01-01T00:00:00Z") == []
    assert stored(filled, since="2999-01-01T00:00:00Z") == []
    assert len(stored(filled, until="4102444800000")) == 5


@pytest.mark.parametrize(
    "query, name",
    [
        ("status=nope", "status"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("after=-1", "after"),
        ("after=99999999999999999999999", "after"),
        ("since=soon", "since"),
        ("where=.plan:pro", "where"),
        ('where=properties."x:1', "where"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(client, query, name):
    response = client.get(f"/_emulator/messages?{query}")

    assert response.status_code == 400
    assert (response.json["code"], response.json["path"]) == ("invalid_query", name)


def test_wait_returns_as_soon_as_a_match_is_committed(server):
    answers = []
    url = f"{server.url}/_emulator/messages/wait?event=Later&timeout=30"
    waiter = threading.Thread(
        target=lambda: answers.append(requests.get(url, timeout=60))
    )
    waiter.start()

    requests.post(
        f"{server.url}/v1/track",
        json=track(event="Later"),
        headers=basic(),
        timeout=5,
    )
    waiter.join(timeout=30)

    [answer] = answers
    assert answer.status_code == 200
    assert [i["message"]["event"] for i in answer.json()["items"]] == ["Later"]


def test_wait_for_a_count(filled):
    response = filled.get("/_emulator/messages/wait?type=track&count=4&timeout=1")

    assert response.status_code == 200
    assert response.json["count"] == 4


def test_wait_times_out_with_408(client):
    response = client.get("/_emulator/messages/wait?event=Never&timeout=0.05")

    assert response.status_code == 408
    assert response.json["code"] == "timeout"


@pytest.mark.parametrize("query", ["timeout=61", "timeout=-1", "count=0"])
def test_wait_bounds(client, query):
    assert client.get(f"/_emulator/messages/wait?{query}").status_code == 400


def test_sources_list_the_configured_write_keys(filled):
    body = filled.get("/_emulator/sources").json

    names = {s["name"]: s for s in body["sources"]}
    assert names["demo-app"]["write_key"] == WRITE_KEY
    assert names["demo-app"]["messages"] == 4
    assert names["strict-app"]["strict"] is True
    assert body["unknown_source_messages"] == 0


def test_stats_count_by_status_reason_and_route(filled, app):
    filled.post("/v1/t", data=b"{", headers=basic())
    app.extensions["seglike.stats"].append(lambda: {"deliveries": {"ok": 2}})

    stats = filled.get("/_emulator/stats").json

    assert stats["messages"]["by_status"] == {
        "accepted": 4,
        "dropped": 1,
        "duplicate": 0,
        "blocked": 0,
        "rejected": 0,
    }
    assert stats["messages"]["by_reason"] == {
        "event_not_defined": 1,
        "invalid_json": 1,
    }
    assert stats["requests"]["by_route"] == {"/v1/batch": 2, "/v1/t": 1}
    assert stats["requests"]["by_status"] == {"200": 2, "400": 1}
    assert stats["deliveries"] == {"ok": 2}


def test_reset_one_source_then_everything(filled):
    one = filled.post("/_emulator/reset", json={"source": "other-app"})

    assert one.json == {"reset": True, "source": "other-app", "deleted_messages": 1}
    assert {i["source"] for i in stored(filled)} == {"demo-app"}

    everything = filled.post("/_emulator/reset")

    assert everything.json["deleted_messages"] == 4
    assert stored(filled) == []
    assert filled.get("/_emulator/stats").json["requests"]["total"] == 0


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"json": {"source": "nobody"}}, 404),
        ({"query_string": {"source": "nobody"}}, 404),
        ({"data": b"{oops"}, 400),
        ({"json": ["demo-app"]}, 400),
    ],
)
def test_reset_refuses_what_it_cannot_do_and_keeps_the_data(filled, kwargs, status):
    response = filled.post("/_emulator/reset", **kwargs)

    assert response.status_code == status
    assert len(stored(filled)) == 5


def test_the_cap_drops_the_oldest_and_counts_them(db):
    client = create_app(make_config(max_messages=5), db).test_client()
    for n in range(4):
        send(client, track(messageId=f"a{n}"), track(messageId=f"b{n}"))

    items = stored(client)
    stats = client.get("/_emulator/stats").json["messages"]
    assert [i["message"]["messageId"] for i in items] == ["b1", "a2", "b2", "a3", "b3"]
    assert stats["evicted"] == 3
    assert stats["total"] == 5


def test_read_accepted_for_the_pipeline(filled, db):
    first = messages.read_accepted(db, after_seq=0, limit=2)
    rest = messages.read_accepted(db, after_seq=first[-1].seq, limit=100)

    assert [m.status for m in first + rest] == ["accepted"] * 4
    assert [m.source for m in first + rest] == ["demo-app"] * 3 + ["other-app"]
    assert first[0].message["event"] == "Song Played"
    assert first[0].reasons == []


def test_a_200_means_the_message_survives_a_restart(tmp_path):
    path = tmp_path / "store.sqlite3"
    database = Database(path)
    client = create_app(make_config(), database).test_client()
    send(client, track(messageId="durable"))
    database.close()

    reopened = Database(path)
    again = create_app(make_config(), reopened).test_client()
    try:
        [item] = stored(again)
        assert item["message"]["messageId"] == "durable"
        send(again, track(messageId="durable"))
        assert stored(again)[-1]["status"] == "duplicate"
    finally:
        reopened.close()


def test_openapi_document_is_served(client):
    document = client.get("/_emulator/openapi.json").json

    assert document["openapi"].startswith("3.1")
    for path in ("/v1/batch", "/v1/import/", "/v1/t", "/_emulator/messages/wait"):
        assert path in document["paths"]


@pytest.mark.parametrize(
    "query, name",
    [("since=%C2%B3", "since"), ("raw=AAA", "raw"), ("limit=%C2%B3", "limit")],
)
def test_unicode_digits_and_bad_flags_are_a_400(client, query, name):
    response = client.get(f"/_emulator/messages?{query}")

    assert (response.status_code, response.json["path"]) == (400, name)


def test_where_with_a_unicode_digit_segment_is_a_key(filled):
    assert stored(filled, where="properties.\u00b3:x") == []


def test_reset_calls_the_hooks_of_other_components(client, app):
    calls = []
    app.extensions["seglike.reset"].append(
        lambda source: calls.append(source) or {"deleted_deliveries": 3}
    )

    everything = client.post("/_emulator/reset").json
    one = client.post("/_emulator/reset?source=demo-app").json

    assert calls == [None, "demo-app"]
    assert everything["deleted_deliveries"] == 3
    assert one["source"] == "demo-app"


def test_request_log_shows_what_each_request_got(client):
    client.post("/v1/t", data=b"{oops", headers={**basic(), "X-Retry-Count": "2"})
    send(client, track())

    log = client.get("/_emulator/requests").json["items"]
    failed = client.get("/_emulator/requests?status=400").json["items"]

    assert [(r["route"], r["status"]) for r in log] == [
        ("/v1/t", 400),
        ("/v1/batch", 200),
    ]
    assert failed[0]["code"] == "invalid_json"
    assert failed[0]["bodyPreview"] == "{oops"
    assert failed[0]["retryCount"] == 2
    assert failed[0]["writeKey"] == "segl****0001"
    assert log[1]["messageCount"] == 1


@pytest.mark.parametrize("query", ["status=999", "limit=0", "after=x"])
def test_request_log_bad_filters_are_a_400(client, query):
    assert client.get(f"/_emulator/requests?{query}").status_code == 400
