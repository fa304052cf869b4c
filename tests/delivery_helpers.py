"""Test doubles for delivery tests: a scripted LiveLike stand-in and a message
table standing in for the Segment service's store.

The pipeline takes its message reader as an argument, so these tests exercise
delivery without depending on the Segment ingestion component.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from emulator.actions import deliveries
from emulator.store.database import Database, register_schema
from emulator.web.server import ServiceServer

register_schema(
    "tests.messages",
    """
    CREATE TABLE IF NOT EXISTS test_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        message TEXT NOT NULL
    );
    """,
)


@dataclass
class StoredMessage:
    seq: int
    source: str
    message: dict[str, Any]
    status: str = "accepted"
    reasons: list[str] = field(default_factory=list)


def accept(db: Database, source: str, *messages: dict[str, Any]) -> None:
    """Store accepted messages in one commit, as ingestion of a batch would."""
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO test_messages (source, message) VALUES (?, ?)",
            [(source, json.dumps(m)) for m in messages],
        )


def read_accepted(db: Database, after_seq: int, limit: int) -> list[StoredMessage]:
    rows = db.query(
        "SELECT * FROM test_messages WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit),
    )
    return [
        StoredMessage(row["seq"], row["source"], json.loads(row["message"]))
        for row in rows
    ]


@dataclass
class Reply:
    status: int = 202
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class LiveLikeStandIn:
    """Answers what a test scripts, in order; 202 ``{}`` once the script is done.

    ``hold`` makes every request wait until ``release()`` so that a test can act
    while a request is in flight.
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._released.set()
        self.before_stop: list = []
        self.app = self._build()
        self.server = ServiceServer("livelike-stand-in", self.app)

    def _build(self) -> Flask:
        import time

        app = Flask("livelike-stand-in")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def anything(path: str):
            with self._changed:
                self.received.append(
                    Received(
                        request.method,
                        "/" + path,
                        dict(request.headers),
                        request.get_json(silent=True),
                        time.monotonic(),
                    )
                )
                reply = self.replies.pop(0) if self.replies else Reply()
                self._changed.notify_all()

            self._released.wait(30)
            if reply.delay:
                # The stand-in is slow on purpose: this is the fault, not a wait.
                threading.Event().wait(reply.delay)
            return Response(
                json.dumps(reply.body) if reply.body is not None else "",
                status=reply.status,
                headers=reply.headers,
                mimetype="application/json",
            )

        return app

    def __enter__(self) -> LiveLikeStandIn:
        self.server.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._released.set()
        for stop in self.before_stop:
            stop()
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


def settled(db: Database, count: int, timeout: float = 10.0) -> list[dict]:
    """Wait until *count* deliveries exist and none is pending; return them."""

    def probe():
        items = deliveries.list_deliveries(db)
        done = len(items) >= count and all(d["status"] != "pending" for d in items)
        return items if done else None

    items = db.wait_for(probe, timeout=timeout)
    assert items is not None, deliveries.list_deliveries(db)
    return items
