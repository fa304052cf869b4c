"""Generation speed, and how fast ``seglike send`` pushes compared with ingestion.

``send`` is measured twice against servers in a separate process (so the client
and the server do not share one GIL): a bare sink that only parses the JSON, which
shows what ``send`` itself can push, and the Segment service, which shows what
ingestion accepts. ``send`` keeps up when the first is at least the second.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.figures import Figure
from emulator.cli.send import send_messages
from emulator.generator import generate

GENERATE_COUNT = 50_000
SEND_COUNT = 20_000

SERVER = r"""
import sys
from flask import Flask, jsonify, request
from emulator.web.server import ServiceServer

if sys.argv[1] == "sink":
    app = Flask("sink")

    @app.post("/v1/batch")
    def batch():
        request.get_json(force=True)
        return jsonify({"success": True})
else:
    from emulator.config import load_config
    from emulator.segment.app import create_app
    from emulator.store import open_database

    app = create_app(load_config(), open_database(":memory:"))

server = ServiceServer(sys.argv[1], app).start()
print(server.url, flush=True)
sys.stdin.read()  # run until the parent closes stdin
server.stop()
"""


def _generation() -> Figure:
    # CPU time of this process: generation is single-threaded, and the figure
    # must not depend on what else the machine runs at the same moment.
    started = time.process_time()
    count = sum(1 for _ in generate(GENERATE_COUNT, seed=1))
    elapsed = time.process_time() - started
    return Figure(
        "generate events/s (one core)",
        count / elapsed,
        "events/s",
        target=20_000,
        note=f"{count} events incl. population, seed 1, CPU time",
    )


def _send_rate(kind: str, messages: list[dict]) -> float:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"The {kind} server did not start (got {url!r}).")
        report = send_messages(
            [dict(message) for message in messages], url=url, batch_size=100
        )
        if report.failed:
            raise RuntimeError(f"send to the {kind} failed: {dict(report.failures)}")
        return report.sent / report.seconds
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def run() -> list[Figure]:
    figures = [_generation()]

    messages = list(generate(SEND_COUNT, seed=2))
    sink = _send_rate("sink", messages)
    segment = _send_rate("segment", messages)
    figures += [
        Figure(
            "send -> bare sink",
            sink,
            "events/s",
            note="what send itself pushes (100/batch, 4 in flight)",
        ),
        Figure(
            "send -> Segment service",
            segment,
            "events/s",
            note="what ingestion accepts from send",
        ),
        Figure(
            "send headroom (sink / Segment)",
            sink / segment,
            "x",
            target=1.0,
            note="send keeps up with ingestion when >= 1",
        ),
    ]
    return figures
