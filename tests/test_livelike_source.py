"""The LiveLike source: outbox delivery to Segment, retries, restarts, webhooks."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import threading

import pytest
from flask import Flask, jsonify, request

from emulator.livelike.source import SourceSender, pending, sign
from emulator.store import Database
from emulator.web.server import ServiceServer
from tests.livelike_helpers import SMALL_APP, event, make_livelike, stack_config

WRITE_KEY = "seglike-livelike-source-key-0001"


class Receiver:
    """A stand-in HTTP endpoint that records requests and can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/<path:path>")
        def receive(path: str):
            with self._lock:
                self.requests.append(
                    {
                        "path": "/" + path,
                        "headers": dict(request.headers),
                        "raw": request.get_data(),
                        "json": request.get_json(silent=True),
                    }
                )
                if len(self.requests) <= self.fail_first:
                    return jsonify({"error": "down"}), 503
            return jsonify({"success": True})

        self.server = ServiceServer("receiver", app, threads=2)

    def __enter__(self) -> Receiver:
        self.server.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def messages(self) -> list[dict]:
        with self._lock:
            return [
                m
                for r in self.requests
                if r["path"] == "/v1/batch" and r["json"]
                for m in r["json"]["batch"]
            ]


def _all_delivered(db: Database, timeout: float = 15) -> bool:
    return bool(db.wait_for(lambda: not pending(db), timeout=timeout, interval=0.2))


def test_source_events_are_posted_as_a_batch_with_the_write_key():
    ll = make_livelike()
    ll.send(event(user="fan-9"))
    queued = [r["payload"] for r in ll.outbox()]

    with Receiver() as segment:
        sender = SourceSender(ll.config, ll.db, segment_url=segment.url)
        sender.start()
        try:
            assert _all_delivered(ll.db)
        finally:
            sender.stop()

    first = segment.requests[0]
    expected_auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    assert first["path"] == "/v1/batch"
    assert first["headers"]["Authorization"] == expected_auth
    assert segment.messages() == queued
    assert {m["event"] for m in segment.messages()} >= {"Reward Item Rewarded"}
    assert all(m["userId"] == "fan-9" for m in segment.messages())


def test_failed_deliveries_are_retried_with_backoff_until_accepted():
    ll = make_livelike()
    ll.send(event())

    with Receiver(fail_first=2) as segment:
        sender = SourceSender(ll.config, ll.db, segment_url=segment.url)
        sender.start()
        try:
            assert _all_delivered(ll.db)
        finally:
            sender.stop()

    rows = ll.outbox()
    assert len(segment.requests) == 3
    assert {r["attempts"] for r in rows} == {3}
    assert {r["last_status"] for r in rows} == {200}
    # the same messages (same messageIds) went out every time
    bodies = [r["json"]["batch"] for r in segment.requests]
    assert bodies[0] == bodies[1] == bodies[2]


def test_nothing_is_lost_across_a_restart_of_a_file_store(tmp_path):
    path = tmp_path / "store.sqlite3"
    config = stack_config()
    ll = make_livelike(config, Database(path))
    ll.send(event(user="durable"))
    with Receiver(fail_first=10**6) as down:  # Segment refuses everything
        sender = SourceSender(config, ll.db, segment_url=down.url)
        sender.start()
        ll.db.wait_for(lambda: down.requests, timeout=10, interval=0.2)
        sender.stop()
    queued = len(pending(ll.db))
    ll.db.close()

    reopened = Database(path)
    reopened.ensure_schema()
    with Receiver() as segment:
        sender = SourceSender(config, reopened, segment_url=segment.url)
        sender.start()
        try:
            assert _all_delivered(reopened)
        finally:
            sender.stop()
    reopened.close()

    assert queued > 0
    assert len(segment.messages()) == queued
    assert {m["userId"] for m in segment.messages()} == {"durable"}


def test_webhooks_are_signed_with_hmac_sha1_of_the_body():
    with Receiver() as hooks:
        app = copy.deepcopy(SMALL_APP)
        app["webhook"] = {"url": f"{hooks.url}/hooks", "secret": "s3cret"}
        config = stack_config(app, source={})  # webhooks only, no Segment source
        ll = make_livelike(config)
        ll.send(event(user="hooked"))
        sender = SourceSender(config, ll.db, segment_url="http://127.0.0.1:9")
        sender.start()
        try:
            assert _all_delivered(ll.db)
        finally:
            sender.stop()

    assert ll.outbox("segment") == []
    assert hooks.requests
    for received in hooks.requests:
        expected = hmac.new(b"s3cret", received["raw"], hashlib.sha1).hexdigest()
        assert received["headers"]["X-Webhook-Signature"] == expected
    events = [r["json"]["event"] for r in hooks.requests]
    assert "reward-table-rewards-awarded" in events
    data = hooks.requests[0]["json"]["data"]
    assert data["profile_custom_id"] == "hooked"
    assert data["client_id"] == "demo-client-id"


@pytest.mark.parametrize(
    ("body", "secret", "digest"),
    [(b"{}", "k", hmac.new(b"k", b"{}", hashlib.sha1).hexdigest())],
)
def test_sign_is_hex_hmac_sha1(body, secret, digest):
    assert sign(body, secret) == digest


class PickySegment(Receiver):
    """Refuses a whole batch with 400 when one message in it is userId "poison"."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[dict] = []
        app = Flask("picky")

        @app.post("/v1/batch")
        def batch():
            messages = request.get_json()["batch"]
            with self._lock:
                self.requests.append({"path": "/v1/batch", "json": None})
                for index, message in enumerate(messages):
                    if message.get("userId") == "poison":
                        body = {
                            "code": "message_too_large",
                            "path": f"$.batch[{index}]",
                        }
                        return jsonify(body), 400
                self.accepted.extend(messages)
            return jsonify({"success": True})

        self.server = ServiceServer("picky", app, threads=2)


def _settled(db: Database, timeout: float = 15) -> bool:
    """Nothing left to send: every row delivered or failed for good."""
    return _all_delivered(db, timeout)


def test_a_message_segment_refuses_fails_alone_and_the_rest_are_delivered():
    ll = make_livelike()
    ll.send(event(user="fan-a"), event(user="poison"), event(user="fan-b"))

    with PickySegment() as segment:
        sender = SourceSender(ll.config, ll.db, segment_url=segment.url)
        sender.start()
        try:
            assert _settled(ll.db)
        finally:
            sender.stop()

    rows = ll.outbox()
    failed = [r for r in rows if r["state"] == "failed"]
    assert failed and {r["payload"]["userId"] for r in failed} == {"poison"}
    assert {r["last_status"] for r in failed} == {400}
    assert all("message_too_large" in r["last_error"] for r in failed)
    assert all(r["failed_at"] for r in failed)
    delivered = [r for r in rows if r["state"] == "delivered"]
    assert {r["payload"]["userId"] for r in delivered} == {"fan-a", "fan-b"}
    assert sorted(m["messageId"] for m in segment.accepted) == sorted(
        r["payload"]["messageId"] for r in delivered
    )
    listed = ll.client.get("/_emulator/outbox?state=failed").get_json()["outbox"]
    assert [r["seq"] for r in listed] == [r["seq"] for r in failed]
    assert ll.client.get("/_emulator/stats").get_json()["outbox"]["failed"] == len(
        failed
    )


@pytest.mark.parametrize(("status", "attempts"), [(400, 1), (404, 1), (429, 2)])
def test_a_webhook_refused_for_good_is_not_retried(status, attempts):
    calls: list[int] = []
    hook_app = Flask("hook")

    @hook_app.post("/hooks")
    def hook():
        calls.append(1)
        if len(calls) == 1:
            return jsonify({"error": "no"}), status
        return jsonify({})

    server = ServiceServer("hook", hook_app, threads=2).start()
    try:
        app = copy.deepcopy(SMALL_APP)
        app["webhook"] = {"url": f"{server.url}/hooks", "secret": "s"}
        app["reward_tables"][0]["entries"] = app["reward_tables"][0]["entries"][:1]
        app["badges"], app["quests"] = [], []
        config = stack_config(app, source={})
        ll = make_livelike(config)
        ll.send(event(user="hooked"))
        sender = SourceSender(config, ll.db, segment_url="http://127.0.0.1:9")
        sender.start()
        try:
            assert _settled(ll.db)
        finally:
            sender.stop()
    finally:
        server.stop()

    [row] = ll.outbox("webhook")
    assert row["attempts"] == attempts
    assert row["state"] == ("failed" if attempts == 1 else "delivered")
    assert row["last_status"] == (status if attempts == 1 else 200)


def test_a_slow_webhook_does_not_hold_back_segment_deliveries():
    release = threading.Event()
    held = threading.Event()
    hook_app = Flask("slow-hook")

    @hook_app.post("/hooks")
    def hook():
        held.set()
        release.wait(20)
        return jsonify({})

    hooks = ServiceServer("slow-hook", hook_app, threads=2).start()
    try:
        with Receiver() as segment:
            app = copy.deepcopy(SMALL_APP)
            app["webhook"] = {"url": f"{hooks.url}/hooks", "secret": "s"}
            config = stack_config(app)
            ll = make_livelike(config)
            ll.send(event(user="fan-1"))
            sender = SourceSender(config, ll.db, segment_url=segment.url)
            sender.start()
            try:
                assert held.wait(8)  # the first webhook is stuck on the endpoint
                ll.send(event(user="fan-2"))  # queued behind it
                segment_done = ll.db.wait_for(
                    lambda: all(r["delivered_at"] for r in ll.outbox("segment")),
                    timeout=8,
                    interval=0.1,
                )
                webhook_waiting = not any(
                    r["delivered_at"] for r in ll.outbox("webhook")
                )
                release.set()
                assert _settled(ll.db)
            finally:
                release.set()
                sender.stop()
    finally:
        hooks.stop()

    assert segment_done
    assert webhook_waiting
    assert {m["userId"] for m in segment.messages()} == {"fan-1", "fan-2"}


def test_a_source_event_too_large_for_segment_is_stored_failed_not_queued():
    app = copy.deepcopy(SMALL_APP)
    app["badges"][0]["description"] = "d" * 40_000
    ll = make_livelike(stack_config(app))

    ll.send(event(user="fan-1"), event(user="fan-1"))

    badge_rows = [r for r in ll.outbox() if r["event"] == "Badge Rewarded"]
    assert badge_rows and all(r["state"] == "failed" for r in badge_rows)
    assert "message_too_large" in badge_rows[0]["last_error"]
    assert all(r["seq"] not in {p["seq"] for p in pending(ll.db)} for r in badge_rows)
