"""The LiveLike source: sends the outbox back into Segment, and signed webhooks.

The rewards engine writes each source event into ``ll_outbox`` in the same
transaction as the change it reports.  This worker delivers the rows: Segment
messages as one ``POST {segment_url}/v1/batch`` per batch (HTTP Basic auth with the
source's write key, as LiveLike's real source does), webhooks one ``POST`` each
with ``X-Webhook-Signature`` (hex HMAC-SHA1 of the body with the app's secret).

A row is marked delivered only after a 2xx, so a crash or a stop in between
sends it again on the next start (at least once; Segment dedupes on
``messageId``).  Failures back off exponentially per row.  The worker sleeps on
the store's commit notifications, bounded by the next retry time, never on a
fixed interval.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests

from emulator.config import StackConfig
from emulator.livelike import models, outbox
from emulator.livelike.config import LiveLikeConfig
from emulator.livelike.outbox import SEGMENT, WEBHOOK
from emulator.store import Database

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
FIRST_BACKOFF_SECONDS = 0.5
SIGNATURE_HEADER = "X-Webhook-Signature"
USER_AGENT = "LiveLike-Source (seglike emulator)"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Webhook-Signature`` of *body*: hex HMAC-SHA1 keyed by *secret*."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def backoff_seconds(attempts: int, cap: float) -> float:
    return min(cap, FIRST_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


class SourceSender:
    """The worker thread of the LiveLike source (one per stack)."""

    def __init__(self, config: StackConfig, db: Database, *, segment_url: str) -> None:
        self.segment_url = segment_url.rstrip("/")
        self.settings: LiveLikeConfig = config.livelike or LiveLikeConfig()
        self.db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def start(self) -> None:
        self.db.ensure_schema()
        models.upgrade_schema(self.db)
        self._stop.clear()
        self._session = requests.Session()  # a stopped sender closed the old one
        self._session.headers["User-Agent"] = USER_AGENT
        self._thread = threading.Thread(
            target=self._run, name="seglike-livelike-source", daemon=True
        )
        self._thread.start()
        log.info("source sender started segment_url=%s", self.segment_url)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        try:
            self.db.notify()
        except Exception:  # a closed store has nobody left to wake
            pass
        if self._thread is not None:
            self._thread.join(timeout)
        self._session.close()
        log.info("source sender stopped")

    # --- the loop ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.send_due():
                    continue
                self._wait()
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("source sender loop failed; retrying")
                self._stop.wait(FIRST_BACKOFF_SECONDS)

    def _wait(self) -> None:
        """Sleep until a commit brings a due row, the next retry is due, or stop."""
        next_due = self._next_due()
        timeout = 3600.0 if next_due is None else max(0.0, next_due - time.time())
        self.db.wait_for(
            lambda: self._stop.is_set() or self._has_due(),
            timeout=timeout,
            interval=5.0,
        )

    def _has_due(self) -> bool:
        row = self.db.query(
            "SELECT 1 FROM ll_outbox WHERE delivered_at IS NULL"
            " AND next_attempt_ts <= ? LIMIT 1",
            (time.time(),),
        )
        return bool(row)

    def _next_due(self) -> float | None:
        row = self.db.query(
            "SELECT MIN(next_attempt_ts) AS due FROM ll_outbox"
            " WHERE delivered_at IS NULL"
        )
        return row[0]["due"] if row and row[0]["due"] is not None else None

    # --- delivery ---------------------------------------------------------------

    def send_due(self) -> int:
        """Deliver what is due now; return how many rows were attempted.

        The whole read-send-mark step holds :data:`outbox.IN_FLIGHT`, so a reset
        of the LiveLike service waits for it: once the reset answers, no event
        from before it is still on its way to Segment.
        """
        with outbox.IN_FLIGHT:
            return self._send_due()

    def _send_due(self) -> int:
        rows = self.db.query(
            "SELECT * FROM ll_outbox WHERE delivered_at IS NULL"
            " AND next_attempt_ts <= ? ORDER BY seq LIMIT ?",
            (time.time(), self.settings.source.batch_size),
        )
        if not rows:
            return 0

        segment_rows = [r for r in rows if r["channel"] == SEGMENT]
        if segment_rows:
            self._send_segment(segment_rows)
        # TODO(livelike): webhooks go one by one on this thread, so a slow webhook
        # endpoint delays Segment deliveries behind it (by REQUEST_TIMEOUT at most).
        for row in rows:
            if row["channel"] == WEBHOOK and not self._stop.is_set():
                self._send_webhook(row)
        return len(rows)

    def _send_segment(self, rows: list) -> None:
        write_key = self.settings.source.write_key
        batch = [models.loads(r["payload"]) for r in rows]
        try:
            response = self._session.post(
                f"{self.segment_url}/v1/batch",
                json={"batch": batch, "sentAt": models.iso(datetime.now(UTC))},
                auth=(write_key or "", ""),
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            self._failed(rows, None, f"{type(error).__name__}: {error}")
            return
        if 200 <= response.status_code < 300:
            self._delivered(rows, response.status_code)
        else:
            self._failed(rows, response.status_code, response.text[:500])

    def _send_webhook(self, row) -> None:
        app = self.settings.application(row["client_id"])
        if app is None or app.webhook is None:
            self._delivered([row], None, note="webhook no longer configured")
            return
        body = row["payload"].encode()
        try:
            response = self._session.post(
                app.webhook.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(body, app.webhook.secret),
                },
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            self._failed([row], None, f"{type(error).__name__}: {error}")
            return
        if 200 <= response.status_code < 300:
            self._delivered([row], response.status_code)
        else:
            self._failed([row], response.status_code, response.text[:500])

    def _delivered(
        self, rows: list, status: int | None, note: str | None = None
    ) -> None:
        stamp = models.iso(datetime.now(UTC))
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE ll_outbox SET delivered_at = ?, attempts = attempts + 1,"
                " last_status = ?, last_error = ? WHERE seq = ?",
                [(stamp, status, note, r["seq"]) for r in rows],
            )
        log.info(
            "source delivered channel=%s count=%d status=%s",
            rows[0]["channel"],
            len(rows),
            status,
        )

    def _failed(self, rows: list, status: int | None, error: str) -> None:
        cap = self.settings.source.max_backoff_seconds
        now = time.time()
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE ll_outbox SET attempts = attempts + 1, last_status = ?,"
                " last_error = ?, next_attempt_ts = ? WHERE seq = ?",
                [
                    (
                        status,
                        error,
                        now + backoff_seconds(r["attempts"] + 1, cap),
                        r["seq"],
                    )
                    for r in rows
                ],
            )
        log.warning(
            "source delivery failed channel=%s count=%d status=%s error=%s",
            rows[0]["channel"],
            len(rows),
            status,
            error[:120],
        )


def pending(db: Database) -> list[dict[str, Any]]:
    """Undelivered outbox rows, oldest first (for tests and the CLI)."""
    return [
        {"seq": r["seq"], "channel": r["channel"], "event": r["event"]}
        for r in db.query(
            "SELECT seq, channel, event FROM ll_outbox WHERE delivered_at IS NULL"
            " ORDER BY seq"
        )
    ]
