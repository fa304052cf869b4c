"""The outbox of LiveLike source events and webhooks.

A transition of the rewards engine and the event that reports it are written in
the same transaction, so an event can never be lost (a crash before the commit
loses both) nor describe something that did not happen.  The sender
(:mod:`emulator.livelike.source`) delivers the rows at least once; every Segment
message carries its ``messageId`` from the start, so Segment's dedupe absorbs the
repeats a retry may cause.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from typing import Any

from emulator.livelike.config import Application
from emulator.livelike.models import dumps, new_id

log = logging.getLogger(__name__)

SEGMENT = "segment"
WEBHOOK = "webhook"

# The LiveLike source events (Segment's names) and the webhook event of each.
WEBHOOK_EVENTS = {
    "Reward Item Rewarded": "reward-table-rewards-awarded",
    "Badge Rewarded": "badge-awarded",
    "User Quest Task Progressed": "user-quest-task-progressed",
    "Quest Task Completed": "user-quest-task-completed",
    "User Quest Completed": "user-quest-completed",
    "Quest Reward Awarded": "user-quest-reward-awarded",
}

LIBRARY = {"name": "livelike-source (seglike emulator)", "version": "1"}

# Held by the source sender's thread of each channel while rows are read, sent
# and marked; taken by ``models.reset`` so that a reset never races a send
# already on the wire.
IN_FLIGHT = {SEGMENT: threading.Lock(), WEBHOOK: threading.Lock()}

# Segment refuses a message over 32 KB with 400 ``message_too_large``; one that
# big would never be delivered, so it is stored as failed instead of queued.
MAX_MESSAGE_BYTES = 32 * 1024


def emit(
    conn: sqlite3.Connection,
    *,
    app: Application,
    source_enabled: bool,
    event: str,
    profile: sqlite3.Row,
    properties: dict[str, Any],
    now: str,
) -> None:
    """Queue *event* about *profile* for Segment (and the app's webhook)."""
    properties = {"livelike_profile_id": profile["id"], **properties}

    if source_enabled:
        message: dict[str, Any] = {
            "type": "track",
            "event": event,
            "properties": properties,
            "timestamp": now,
            "messageId": f"livelike-{uuid.uuid4()}",
            "context": {"library": LIBRARY},
        }
        if profile["custom_id"]:
            message["userId"] = profile["custom_id"]
        else:
            message["anonymousId"] = profile["id"]
        _insert(conn, app.client_id, SEGMENT, event, message, now)

    if app.webhook is not None:
        data = {k: v for k, v in properties.items() if k != "livelike_profile_id"}
        data.update(
            {
                "client_id": app.client_id,
                "profile_id": profile["id"],
                "profile_custom_id": profile["custom_id"],
                "nickname": profile["nickname"],
            }
        )
        envelope = {
            "id": new_id(),
            "event": WEBHOOK_EVENTS.get(event, event),
            "data": data,
            "created_at": now,
        }
        _insert(conn, app.client_id, WEBHOOK, event, envelope, now)


def _insert(
    conn: sqlite3.Connection,
    client_id: str,
    channel: str,
    event: str,
    payload: dict[str, Any],
    now: str,
) -> None:
    text = dumps(payload)
    size = len(text.encode())
    failed_at = error = None
    if channel == SEGMENT and size > MAX_MESSAGE_BYTES:
        failed_at = now
        error = (
            f"Not sent: the message is {size} bytes and Segment refuses messages"
            f" over {MAX_MESSAGE_BYTES} bytes (message_too_large)."
        )
        log.warning("outbox refused channel=%s event=%s bytes=%d", channel, event, size)
    conn.execute(
        "INSERT INTO ll_outbox (client_id, channel, event, payload, created_at,"
        " failed_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (client_id, channel, event, text, now, failed_at, error),
    )
    log.debug("outbox queued channel=%s event=%s", channel, event)
