"""The LiveLike service: rewards engine throughput and source outbox drain rate.

``segment-events`` requests go straight to a served LiveLike app (one event each,
as Segment's destination sends them, over a kept-alive connection); then the
source sender drains the outbox those requests filled into a stand-in Segment
endpoint that answers 200.  No target: the issue asks for none; the figures show
what a test suite can expect.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from flask import Flask, jsonify

from bench.figures import Figure
from emulator.config import load_config
from emulator.livelike import source
from emulator.livelike.app import create_app
from emulator.store import Database
from emulator.web.server import ServiceServer

REQUESTS = 1000
AUTH = {"Authorization": "Bearer demo-producer-token"}
PATH = "/api/v1/applications/demo-client-id/segment-events/"


def _sink() -> ServiceServer:
    app = Flask("segment-sink")

    @app.post("/v1/batch")
    def batch():
        return jsonify({"success": True})

    return ServiceServer("sink", app, threads=4).start()


def run() -> list[Figure]:
    config = load_config()
    db = Database()
    livelike = ServiceServer("livelike", create_app(config, db), threads=4).start()
    sink = _sink()
    try:
        session = requests.Session()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        latencies = []
        started = time.perf_counter()
        for index in range(REQUESTS):
            body = {
                "events": [
                    {
                        "event_name": "Poll Voted" if index % 3 else "Article Read",
                        "event_type": "track",
                        "segment_user_id": f"fan-{index % 100}",
                        "timestamp": (start + timedelta(seconds=index)).isoformat(),
                        "properties": {"poll_id": f"p{index}"},
                    }
                ]
            }
            sent = time.perf_counter()
            response = session.post(livelike.url + PATH, json=body, headers=AUTH)
            latencies.append(time.perf_counter() - sent)
            assert response.status_code == 202, response.text
        ingest_seconds = time.perf_counter() - started

        queued = len(source.pending(db))
        sender = source.SourceSender(config, db, segment_url=sink.url)
        started = time.perf_counter()
        sender.start()
        drained = db.wait_for(lambda: not source.pending(db), timeout=120, interval=0.5)
        drain_seconds = time.perf_counter() - started
        sender.stop()
    finally:
        livelike.stop()
        sink.stop()
        db.close()

    latencies.sort()
    return [
        Figure("segment-events requests", REQUESTS / ingest_seconds, "req/s"),
        Figure(
            "segment-events p95 latency",
            latencies[int(len(latencies) * 0.95)] * 1e3,
            "ms",
            higher_is_better=False,
        ),
        Figure(
            "source outbox drain",
            queued / drain_seconds if drained else 0.0,
            "events/s",
            note=f"{queued} events, batches of {config.livelike.source.batch_size}",
        ),
    ]
