"""Delivery to a LiveLike stand-in under faults: statuses, Retry-After,
timeouts, give-up bounds, batching, the integrations object."""

from __future__ import annotations

import pytest

from emulator.actions.config import DeliverySettings
from emulator.actions.pipeline import Pipeline
from emulator.config import parse_config
from emulator.store.database import Database
from tests.delivery_helpers import (
    LiveLikeStandIn,
    Reply,
    accept,
    read_accepted,
    settled,
)

SOURCE = "demo-app"
TIMESTAMP = "2026-07-02T16:26:57.511Z"
FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05}


def stack_config(**destination):
    destination = {
        "destination": "livelike-cloud",
        "settings": {"clientId": "demo-client-id", "producerToken": "tok"},
        **destination,
    }
    return parse_config(
        {
            "sources": [
                {
                    "name": SOURCE,
                    "write_key": "seglike-demo-app-write-key-00001",
                    "destinations": [destination],
                }
            ]
        }
    )


def track(message_id: str = "m-1", **over) -> dict:
    return {
        "type": "track",
        "event": "Poll Voted",
        "userId": "user-1",
        "anonymousId": "anon-1",
        "messageId": message_id,
        "timestamp": TIMESTAMP,
        "properties": {"livelike_profile_id": "p-1"},
        **over,
    }


def identify(message_id: str, member: bool) -> dict:
    return {
        "type": "identify",
        "userId": f"user-{message_id}",
        "messageId": message_id,
        "timestamp": TIMESTAMP,
        "traits": {"fans": member},
        "context": {"personas": {"computation_id": "aud_1", "computation_key": "fans"}},
    }


@pytest.fixture
def db():
    database = Database(":memory:")
    database.ensure_schema()
    yield database
    database.close()


@pytest.fixture
def run(db):
    started = []

    def start(standin, config=None, **settings):
        pipeline = Pipeline(
            config or stack_config(),
            db,
            livelike_url=standin.url,
            settings=DeliverySettings(**{**FAST, **settings}),
            reader=read_accepted,
        )
        started.append(pipeline.start())
        if isinstance(standin, LiveLikeStandIn):
            standin.before_stop.append(pipeline.stop)
        return pipeline

    yield start
    for pipeline in started:
        pipeline.stop()


def test_delivered_with_the_request_recorded(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "delivered"
    assert (delivery["destination"], delivery["action"]) == ("LiveLike", "trackEvent")
    assert delivery["subscription"] == "Track User Actions"
    assert delivery["messageId"] == "m-1"
    (attempt,) = delivery["attempts"]
    assert attempt["response"]["status"] == 202
    assert attempt["durationMs"] >= 0
    assert attempt["request"]["url"] == (
        f"{standin.url}/api/v1/applications/demo-client-id/segment-events/"
    )
    (received,) = standin.received
    assert received.path == "/api/v1/applications/demo-client-id/segment-events/"
    assert received.headers["Authorization"] == "Bearer tok"
    assert received.headers["User-Agent"] == "Segment (Actions)"
    assert received.body["events"][0]["event_name"] == "Poll Voted"


def test_track_events_are_never_batched(db, run):
    accept(db, SOURCE, track("m-1"), track("m-2"), track("m-3"))

    with LiveLikeStandIn() as standin:
        run(standin)
        settled(db, 3)

    assert [len(r.body["events"]) for r in standin.received] == [1, 1, 1]


def test_500_is_retried_until_delivered(db, run):
    with LiveLikeStandIn(Reply(500), Reply(503)) as standin:
        run(standin)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "delivered"
    assert [a["response"]["status"] for a in delivery["attempts"]] == [500, 503, 202]
    assert [a["outcome"] for a in delivery["attempts"]] == [
        "retry",
        "retry",
        "delivered",
    ]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]


def test_retry_after_sets_the_next_attempt(db, run):
    with LiveLikeStandIn(Reply(429, headers={"Retry-After": "1"})) as standin:
        run(standin)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)
        first, second = standin.received

    assert delivery["status"] == "delivered"
    # Backoff alone would retry after 0.01 s; Retry-After asked for 1 s.
    assert second.at - first.at >= 0.9


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (400, "HTTP 400 is not retried"),
        (401, "rejected the credentials"),
        (404, "HTTP 404 is not retried"),
        (501, "501 Not Implemented is never retried"),
    ],
)
def test_non_retried_statuses_fail_at_once(db, run, status, why):
    with LiveLikeStandIn(Reply(status, body={"detail": "no"})) as standin:
        run(standin)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "failed"
    assert why in delivery["reason"]
    (attempt,) = delivery["attempts"]
    assert attempt["response"]["body"] == '{"detail": "no"}'
    assert len(standin.received) == 1


def test_gives_up_after_max_attempts(db, run):
    with LiveLikeStandIn(*[Reply(500)] * 5) as standin:
        run(standin, max_attempts=3)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "discarded"
    assert delivery["reason"] == "gave up after 3 attempts; last: HTTP 500"
    assert len(delivery["attempts"]) == 3
    assert len(standin.received) == 3


def test_gives_up_when_the_retry_window_closes(db, run):
    with LiveLikeStandIn(Reply(503, headers={"Retry-After": "30"})) as standin:
        run(standin, max_age_seconds=5)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "discarded"
    assert "retry window" in delivery["reason"]
    assert len(standin.received) == 1


def test_a_timeout_is_retried(db, run):
    with LiveLikeStandIn(Reply(202, delay=1.0)) as standin:
        run(standin, timeout_seconds=0.2)
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    first, second = delivery["attempts"]
    assert first["response"] is None
    assert first["error"] == "no response within 0.2 s (timeout)"
    assert second["outcome"] == "delivered"


def test_unreachable_destination_is_retried_then_discarded(db, run):
    with LiveLikeStandIn() as standin:
        url = standin.url
    gone = type("Gone", (), {"url": url})()

    run(gone, max_attempts=2)
    accept(db, SOURCE, track())

    (delivery,) = settled(db, 1)
    assert delivery["status"] == "discarded"
    assert delivery["attempts"][0]["error"].startswith(
        "request failed: ConnectionError"
    )


def test_identity_failure_is_recorded_without_a_request(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, track(userId=None, properties={}))

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "failed"
    assert delivery["reason"] == (
        "`livelike_profile_id` or `custom_id` or `user_id` is required."
    )
    assert delivery["error"]["code"] == "Missing required fields"
    assert delivery["attempts"] == []
    assert standin.received == []


def test_validation_failure_is_recorded_without_a_request(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, {"type": "page", "userId": "u", "timestamp": TIMESTAMP})

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "failed"
    assert delivery["subscription"] == "Page Calls"
    assert delivery["reason"] == (
        "The root value is missing the required field 'event_name'."
    )
    assert standin.received == []


def test_missing_settings_fail_every_event_with_segments_text(db, run):
    with LiveLikeStandIn() as standin:
        run(standin, stack_config(settings={}))
        accept(db, SOURCE, track())

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "failed"
    assert delivery["reason"] == (
        "The root value is missing the required field 'clientId'. "
        "The root value is missing the required field 'producerToken'."
    )


def test_integrations_false_filters_the_message(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(
            db,
            SOURCE,
            track("m-off", integrations={"LiveLike": False}),
            track("m-on", integrations={"All": False, "LiveLike": True}),
        )

        off, on = settled(db, 2)

    assert (off["status"], off["reason"]) == (
        "filtered",
        "integrations['LiveLike'] is false",
    )
    assert on["status"] == "delivered"
    assert len(standin.received) == 1


def test_unsubscribed_messages_make_no_delivery(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, {"type": "alias", "userId": "u", "previousId": "a"})
        accept(db, SOURCE, track("m-2"))

        (delivery,) = settled(db, 1)

    assert delivery["messageId"] == "m-2"


SYNC = {"name": "Fans", "action": "syncToUserGroup"}


@pytest.mark.parametrize(
    ("batch_size", "request_sizes"),
    [(None, [5]), (2, [2, 2, 1]), (1, [1, 1, 1, 1, 1])],
)
def test_audience_sync_batches_up_to_batch_size(db, run, batch_size, request_sizes):
    subscription = dict(SYNC)
    if batch_size is not None:
        subscription["mapping"] = {"batch_size": batch_size}
    config = stack_config(presets=[], subscriptions=[subscription])
    accept(db, SOURCE, *[identify(f"m{i}", member=i % 2 == 0) for i in range(5)])

    with LiveLikeStandIn() as standin:
        run(standin, config)
        items = settled(db, 5)

    assert [d["status"] for d in items] == ["delivered"] * 5
    assert [len(r.body) for r in standin.received] == request_sizes
    sent = [item for r in standin.received for item in r.body]
    assert [item["action"] for item in sent] == [True, False, True, False, True]
    assert standin.received[0].path.endswith("/segment-audience-sync/")


def test_disabling_batching_sends_one_user_per_request(db, run):
    subscription = {**SYNC, "mapping": {"enable_batching": False}}
    config = stack_config(presets=[], subscriptions=[subscription])
    accept(db, SOURCE, identify("a", True), identify("b", False))

    with LiveLikeStandIn() as standin:
        run(standin, config)
        settled(db, 2)

    assert [len(r.body) for r in standin.received] == [1, 1]


def test_one_bad_audience_item_fails_its_whole_batch(db, run):
    config = stack_config(presets=[], subscriptions=[SYNC])
    bad = identify("bad", True)
    bad["traits"] = {"fans": "maybe"}
    accept(db, SOURCE, identify("good", True), bad)

    with LiveLikeStandIn() as standin:
        run(standin, config)
        items = settled(db, 2)

    assert [d["status"] for d in items] == ["failed", "failed"]
    assert items[0]["reason"].startswith("Action must be a boolean value")
    assert standin.received == []


def test_a_batch_retries_and_records_each_delivery(db, run):
    config = stack_config(presets=[], subscriptions=[SYNC])
    accept(db, SOURCE, identify("a", True), identify("b", False))

    with LiveLikeStandIn(Reply(500)) as standin:
        run(standin, config)
        items = settled(db, 2)

    assert [d["status"] for d in items] == ["delivered", "delivered"]
    for item in items:
        assert [a["response"]["status"] for a in item["attempts"]] == [500, 200 + 2]
    assert items[0]["attempts"][0]["requestId"] == items[1]["attempts"][0]["requestId"]


def test_an_emulator_bug_fails_the_delivery_and_the_worker_goes_on(
    db, run, monkeypatch
):
    from emulator.actions.livelike_cloud import TRACK_EVENT

    def broken(payloads, settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(TRACK_EVENT, "perform", broken)
    accept(db, SOURCE, track("m-1"))

    with LiveLikeStandIn() as standin:
        run(standin)
        (delivery,) = settled(db, 1)
        monkeypatch.undo()
        accept(db, SOURCE, track("m-2"))
        _, after = settled(db, 2)

    assert delivery["status"] == "failed"
    assert delivery["reason"] == (
        "The emulator failed to build the request: RuntimeError('boom')"
    )
    assert delivery["error"]["code"] == "EMULATOR_ERROR"
    assert after["status"] == "delivered"
