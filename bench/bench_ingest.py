"""Ingestion throughput of the Segment service, beside a bare Flask app.

Two figures per WSGI server: events/s through ``/v1/batch`` (100 messages a
request) and requests/s on ``/v1/track``. Each runs against the emulator and
against a bare Flask app on the same server that only parses the JSON, in
the same run, so the ratio shows what ingestion itself costs. The server runs
in its own process; the clients are threads with one requests Session each,
bounded in number and in time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.figures import Figure

WRITE_KEY = "seglike-demo-app-write-key-00001"
CLIENT_THREADS = 4
SECONDS = 4.0
WARM_UP_SECONDS = 0.5
BATCH_SIZE = 100
TARGET_EVENTS_PER_SECOND = 10_000
SERVERS = ("waitress", "werkzeug")


def _message(n: int) -> dict:
    return {
        "type": "track",
        "userId": f"user-{n % 97}",
        "event": "Song Played",
        "messageId": f"RUNID-{n}",
        "timestamp": "2024-05-01T12:00:00.000Z",
        "properties": {"song": "Hey Jude", "plan": "pro", "position": n},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "integrations": {},
    }


def _bodies() -> dict[str, bytes]:
    batch = {
        "batch": [_message(n) for n in range(BATCH_SIZE)],
        "sentAt": "2024-05-01T12:00:00.100Z",
        "writeKey": WRITE_KEY,
    }
    single = dict(_message(0), writeKey=WRITE_KEY)
    return {
        "/v1/batch": json.dumps(batch).encode(),
        "/v1/track": json.dumps(single).encode(),
    }


class _ServerProcess:
    def __init__(self, kind: str, server: str, store: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest_server", kind, server, str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"bench server {kind}/{server} did not start")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _load(url: str, body: bytes) -> tuple[int, float]:
    """POST *body* from client threads for SECONDS; return (requests, seconds)."""
    stop = threading.Event()
    counts = [0] * CLIENT_THREADS
    failures: list[str] = []
    measuring = threading.Event()

    def client(index: int) -> None:
        session = requests.Session()
        session.headers["Content-Type"] = "application/json"
        run = 0
        while not stop.is_set():
            run += 1
            payload = body.replace(b"RUNID", f"{index}-{run}-{time.time_ns()}".encode())
            response = session.post(url, data=payload, timeout=30)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                return
            if measuring.is_set():
                counts[index] += 1

    threads = [
        threading.Thread(target=client, args=(i,), daemon=True)
        for i in range(CLIENT_THREADS)
    ]
    for thread in threads:
        thread.start()
    stop.wait(WARM_UP_SECONDS)
    measuring.set()
    started = time.perf_counter()
    stop.wait(SECONDS)
    measuring.clear()
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    if failures:
        raise RuntimeError(f"bench request failed: {failures[0]}")
    return sum(counts), elapsed


def _measure(kind: str, server: str, folder: Path) -> dict[str, float]:
    bodies = _bodies()
    rates = {}
    for path, body in bodies.items():
        store = folder / f"{kind}-{server}-{path.rsplit('/', 1)[1]}.sqlite3"
        running = _ServerProcess(kind, server, store)
        try:
            done, elapsed = _load(running.url + path, body)
        finally:
            running.close()
        per_request = BATCH_SIZE if path == "/v1/batch" else 1
        rates[path] = done * per_request / elapsed
    return rates


def run() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="seglike-bench-") as folder:
        for server in SERVERS:
            emulator = _measure("emulator", server, Path(folder))
            bare = _measure("bare", server, Path(folder))
            batch_ratio = emulator["/v1/batch"] / bare["/v1/batch"]
            track_ratio = emulator["/v1/track"] / bare["/v1/track"]
            figures += [
                Figure(
                    f"{server}: /v1/batch events/s (100 per request)",
                    emulator["/v1/batch"],
                    "events/s",
                    target=TARGET_EVENTS_PER_SECOND if server == SERVERS[0] else None,
                    note=f"bare Flask {bare['/v1/batch']:,.0f}; "
                    f"ratio {batch_ratio:.2f}",
                ),
                Figure(
                    f"{server}: /v1/track requests/s",
                    emulator["/v1/track"],
                    "requests/s",
                    note=f"bare Flask {bare['/v1/track']:,.0f}; "
                    f"ratio {track_ratio:.2f}",
                ),
            ]
    return figures
