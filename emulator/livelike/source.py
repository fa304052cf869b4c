"""The LiveLike source: sends the outbox back into Segment, and signed webhooks.

The rewards engine writes each source event into ``ll_outbox`` in the same
transaction as the change it reports.  This worker delivers the rows: Segment
messages as one ``POST {segment_url}/v1/batch`` per batch (HTTP Basic auth with the
source's write key, as LiveLike's real source does), webhooks one ``POST`` each
with ``X-Webhook-Signature`` (hex HMAC-SHA1 of the body with the app's secret),
each channel on its own thread.

A row is marked delivered only after a 2xx, so a crash or a stop in between
sends it again on the next start (at least once; Segment dedupes on
``messageId``).  Network errors, 408, 429 and 5xx back off exponentially per
row; any other 4xx is permanent: the row ends ``failed`` (``failed_at``, with
the status and reason) and is never sent again, and a refused Segment batch is
halved until only the rows Segment refuses are left.  The worker sleeps on
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
# Rows still to send: neither delivered nor refused for good.
WAITING = "delivered_at IS NULL AND failed_at IS NULL"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Webhook-Signature`` of *body*: hex HMAC-SHA1 keyed by *secret*."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def backoff_seconds(attempts: int, cap: float) -> float:
    return min(cap, FIRST_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


def is_permanent(status: int | None) -> bool:
    """A 4xx other than 408/429 says the request itself is wrong: resending fails."""
    return status is not None and 400 <= status < 500 and status not in (408, 429)


class SourceSender:
    """The worker threads of the LiveLike source (one per channel, per stack).

    Segment batches and webhooks go out on separate threads, so a slow webhook
    endpoint never holds back the events Segment is waiting for.
    """

    def __init__(self, config: StackConfig, db: Database, *, segment_url: str) -> None:
        self.segment_url = segment_url.rstrip("/")
        self.settings: LiveLikeConfig = config.livelike or LiveLikeConfig()
        self.db = db
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sessions: dict[str, requests.Session] = {}

    def start(self) -> None:
        self.db.ensure_schema()
        models.upgrade_schema(self.db)
        self._stop.clear()
        self._threads = []
        for channel in (SEGMENT, WEBHOOK):
            session = requests.Session()  # a stopped sender closed the old ones
            session.headers["User-Agent"] = USER_AGENT
            self._sessions[channel] = session
            thread = threading.Thread(
                target=self._run,
                args=(channel,),
                name=f"seglike-livelike-source-{channel}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        log.info("source sender started segment_url=%s", self.segment_url)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        try:
            self.db.notify()
        except Exception:  # a closed store has nobody left to wake
            pass
        for thread in self._threads:
            thread.join(timeout)
        for session in self._sessions.values():
            session.close()
        log.info("source sender stopped")

    # --- the loop ---------------------------------------------------------------

    def _run(self, channel: str) -> None:
        while not self._stop.is_set():
            try:
                if self.send_due(channel):
                    continue
                self._wait(channel)
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("source sender loop failed channel=%s", channel)
                self._stop.wait(FIRST_BACKOFF_SECONDS)

    def _wait(self, channel: str) -> None:
        """Sleep until a commit brings a due row, the next retry is due, or stop."""
        next_due = self._next_due(channel)
        timeout = 3600.0 if next_due is None else max(0.0, next_due - time.time())
        self.db.wait_for(
            lambda: self._stop.is_set() or self._has_due(channel),
            timeout=min(timeout, 3600.0),
            interval=5.0,
        )

    def _has_due(self, channel: str) -> bool:
        row = self.db.query(
            f"SELECT 1 FROM ll_outbox WHERE {WAITING} AND channel = ?"
            " AND next_attempt_ts <= ? LIMIT 1",
            (channel, time.time()),
        )
        return bool(row)

    def _next_due(self, channel: str) -> float | None:
        row = self.db.query(
            f"SELECT MIN(next_attempt_ts) AS due FROM ll_outbox WHERE {WAITING}"
            " AND channel = ?",
            (channel,),
        )
        return row[0]["due"] if row and row[0]["due"] is not None else None

    # --- delivery ---------------------------------------------------------------

    def send_due(self, channel: str = SEGMENT) -> int:
        """Deliver what is due now on *channel*; return how many rows were tried.

        Each send holds the channel's :data:`outbox.IN_FLIGHT` lock, so a reset of
        the LiveLike service waits for it: once the reset answers, no event from
        before it is still on its way.
        """
        if channel == SEGMENT:
            with outbox.IN_FLIGHT[SEGMENT]:
                rows = self._due(SEGMENT, self.settings.source.batch_size)
                if rows:
                    self._send_segment(rows)
                return len(rows)

        rows = self._due(WEBHOOK, self.settings.source.batch_size)
        for row in rows:  # one at a time, so a reset waits for one webhook at most
            if self._stop.is_set():
                break
            with outbox.IN_FLIGHT[WEBHOOK]:
                if self._still_waiting(row["seq"]):
                    self._send_webhook(row)
        return len(rows)

    def _due(self, channel: str, limit: int) -> list:
        return self.db.query(
            f"SELECT * FROM ll_outbox WHERE {WAITING} AND channel = ?"
            " AND next_attempt_ts <= ? ORDER BY seq LIMIT ?",
            (channel, time.time(), limit),
        )

    def _still_waiting(self, seq: int) -> bool:
        """False once a reset has removed the row read before it."""
        return bool(
            self.db.query(
                f"SELECT 1 FROM ll_outbox WHERE seq = ? AND {WAITING}", (seq,)
            )
        )

    def _send_segment(self, rows: list) -> None:
        """POST one batch; a permanent refusal is narrowed down to the bad rows.

        Segment refuses a whole batch for one bad message (``400`` with the
        message's path), so resending the batch would fail forever and hold back
        every other event.  Halving it isolates the rows Segment will never take:
        they end ``failed`` with the status and reason, the rest go through.
        """
        write_key = self.settings.source.write_key
        batch = [models.loads(r["payload"]) for r in rows]
        try:
            response = self._sessions[SEGMENT].post(
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
        elif is_permanent(response.status_code) and len(rows) > 1:
            log.info(
                "source batch refused status=%s count=%d; splitting",
                response.status_code,
                len(rows),
            )
            middle = len(rows) // 2
            for half in (rows[:middle], rows[middle:]):
                if not self._stop.is_set():
                    self._send_segment(half)
        else:
            self._failed(rows, response.status_code, response.text[:500])

    def _send_webhook(self, row) -> None:
        app = self.settings.application(row["client_id"])
        if app is None or app.webhook is None:
            self._delivered([row], None, note="webhook no longer configured")
            return
        body = row["payload"].encode()
        try:
            response = self._sessions[WEBHOOK].post(
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
            models.trim_delivered_outbox(conn)
        log.info(
            "source delivered channel=%s count=%d status=%s",
            rows[0]["channel"],
            len(rows),
            status,
        )

    def _failed(self, rows: list, status: int | None, error: str) -> None:
        """Retry later with backoff, or give up for good on a permanent refusal."""
        if is_permanent(status):
            self._gave_up(rows, status, error)
            return
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

    def _gave_up(self, rows: list, status: int | None, error: str) -> None:
        stamp = models.iso(datetime.now(UTC))
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE ll_outbox SET attempts = attempts + 1, last_status = ?,"
                " last_error = ?, failed_at = ? WHERE seq = ?",
                [(status, error, stamp, r["seq"]) for r in rows],
            )
        log.warning(
            "source delivery refused for good channel=%s count=%d status=%s error=%s",
            rows[0]["channel"],
            len(rows),
            status,
            error[:120],
        )


def pending(db: Database) -> list[dict[str, Any]]:
    """Rows still to deliver (not delivered, not failed), oldest first."""
    return [
        {"seq": r["seq"], "channel": r["channel"], "event": r["event"]}
        for r in db.query(
            f"SELECT seq, channel, event FROM ll_outbox WHERE {WAITING} ORDER BY seq"
        )
    ]
