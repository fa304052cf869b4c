"""The delivery tables: a durable cursor over accepted messages, one row per
(message, subscription), and every HTTP attempt made for it.

The cursor moves in the same transaction that records a message's deliveries,
and an attempt is committed as ``sending`` before its request leaves, so a
crash at any point loses nothing: after a restart, an attempt still marked
``sending`` becomes ``interrupted`` and its request is sent again as a
redelivery (the receiver may have seen it once already).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from emulator.store.database import Database, register_schema

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
DISCARDED = "discarded"
FILTERED = "filtered"
STATUSES = (PENDING, DELIVERED, FAILED, DISCARDED, FILTERED)

SENDING = "sending"
INTERRUPTED = "interrupted"
RETRY = "retry"

CURSOR = "pipeline"

register_schema(
    "actions",
    """
    CREATE TABLE IF NOT EXISTS actions_cursor (
        name TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS actions_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        seq INTEGER NOT NULL,
        message_id TEXT,
        source TEXT NOT NULL,
        destination TEXT NOT NULL,
        subscription TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        error TEXT,
        payload TEXT,
        batch_size INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0,
        redeliver INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        next_attempt_at REAL
    );
    CREATE INDEX IF NOT EXISTS actions_deliveries_due
        ON actions_deliveries (status, next_attempt_at);
    CREATE INDEX IF NOT EXISTS actions_deliveries_message
        ON actions_deliveries (message_id);
    CREATE TABLE IF NOT EXISTS actions_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id INTEGER NOT NULL
            REFERENCES actions_deliveries (id) ON DELETE CASCADE,
        request_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        redelivery INTEGER NOT NULL DEFAULT 0,
        started_at REAL NOT NULL,
        duration_ms REAL,
        request TEXT NOT NULL,
        response_status INTEGER,
        response_headers TEXT,
        response_body TEXT,
        error TEXT,
        outcome TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS actions_attempts_delivery
        ON actions_attempts (delivery_id);
    """,
)


@dataclass
class Delivery:
    """One message on its way to one action of one destination."""

    id: int
    seq: int
    message_id: str | None
    source: str
    destination: str
    subscription: str
    action: str
    status: str
    reason: str | None
    error: dict[str, Any] | None
    payload: dict[str, Any] | None
    batch_size: int
    attempts: int
    redeliver: bool
    created_at: float
    updated_at: float
    next_attempt_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Delivery:
        return cls(
            id=row["id"],
            seq=row["seq"],
            message_id=row["message_id"],
            source=row["source"],
            destination=row["destination"],
            subscription=row["subscription"],
            action=row["action"],
            status=row["status"],
            reason=row["reason"],
            error=_loads(row["error"]),
            payload=_loads(row["payload"]),
            batch_size=row["batch_size"],
            attempts=row["attempts"],
            redeliver=bool(row["redeliver"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            next_attempt_at=row["next_attempt_at"],
        )


@dataclass
class NewDelivery:
    """What the router decided for one (message, subscription)."""

    seq: int
    message_id: str | None
    source: str
    destination: str
    subscription: str
    action: str
    status: str
    payload: dict[str, Any] | None = None
    reason: str | None = None
    error: dict[str, Any] | None = None
    batch_size: int = 1


def reset(db: Database) -> None:
    """Forget every delivery, attempt and the cursor (the pytest plugin's reset)."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM actions_attempts")
        conn.execute("DELETE FROM actions_deliveries")
        conn.execute("DELETE FROM actions_cursor")


def read_cursor(db: Database) -> int:
    rows = db.query("SELECT seq FROM actions_cursor WHERE name = ?", (CURSOR,))
    return rows[0]["seq"] if rows else 0


def record_routed(db: Database, up_to_seq: int, deliveries: list[NewDelivery]) -> None:
    """Store the deliveries of a run of messages and move the cursor past them."""
    now = time.time()
    with db.transaction() as conn:
        conn.executemany(
            """
            INSERT INTO actions_deliveries (seq, message_id, source, destination,
                subscription, action, status, reason, error, payload, batch_size,
                created_at, updated_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                (
                    d.seq,
                    d.message_id,
                    d.source,
                    d.destination,
                    d.subscription,
                    d.action,
                    d.status,
                    d.reason,
                    _dumps(d.error),
                    _dumps(d.payload),
                    d.batch_size,
                    now,
                    now,
                    now if d.status == PENDING else None,
                )
                for d in deliveries
            ],
        )
        conn.execute(
            "INSERT INTO actions_cursor (name, seq) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            (CURSOR, up_to_seq),
        )


def due(db: Database, now: float, limit: int = 1000) -> list[Delivery]:
    rows = db.query(
        "SELECT * FROM actions_deliveries WHERE status = ? AND next_attempt_at <= ?"
        " ORDER BY id LIMIT ?",
        (PENDING, now, limit),
    )
    return [Delivery.from_row(row) for row in rows]


def next_due_at(db: Database) -> float | None:
    rows = db.query(
        "SELECT MIN(next_attempt_at) AS at FROM actions_deliveries WHERE status = ?",
        (PENDING,),
    )
    return rows[0]["at"] if rows else None


def recover_interrupted(db: Database) -> int:
    """Mark attempts cut short by a stop or crash; their deliveries go again."""
    now = time.time()
    with db.transaction() as conn:
        ids = [
            row["delivery_id"]
            for row in conn.execute(
                "SELECT delivery_id FROM actions_attempts WHERE outcome = ?", (SENDING,)
            )
        ]
        conn.execute(
            "UPDATE actions_attempts SET outcome = ?,"
            " error = 'the emulator stopped before the response was recorded'"
            " WHERE outcome = ?",
            (INTERRUPTED, SENDING),
        )
        conn.executemany(
            "UPDATE actions_deliveries SET status = ?, redeliver = 1,"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?",
            [(PENDING, now, now, delivery_id) for delivery_id in ids],
        )
    if ids:
        log.warning("deliveries interrupted count=%d, sending again", len(ids))
    return len(ids)


def begin_attempt(
    db: Database, deliveries: list[Delivery], request_id: str, request: dict[str, Any]
) -> list[int]:
    """Commit the attempt before the request leaves; returns the attempt ids.

    A delivery deleted since it was read (a reset while it was due) has nowhere
    to hang an attempt; then nothing is recorded and ``[]`` is returned, so the
    request is not sent and the rest of the group goes again at the next step.
    """
    now = time.time()
    body = _dumps(request)
    ids: list[int] = []
    with db.transaction() as conn:
        wanted = [d.id for d in deliveries]
        marks = ",".join("?" * len(wanted))
        present = {
            row["id"]
            for row in conn.execute(
                f"SELECT id FROM actions_deliveries WHERE id IN ({marks})", wanted
            )
        }
        gone = [delivery_id for delivery_id in wanted if delivery_id not in present]
        if gone:
            log.warning("attempt skipped, deliveries gone ids=%s", gone)
            return []

        for delivery in deliveries:
            delivery.attempts += 1
            cursor = conn.execute(
                """
                INSERT INTO actions_attempts (delivery_id, request_id, number,
                    redelivery, started_at, request, outcome)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    delivery.id,
                    request_id,
                    delivery.attempts,
                    int(delivery.redeliver),
                    now,
                    body,
                    SENDING,
                ),
            )
            ids.append(cursor.lastrowid)
            conn.execute(
                "UPDATE actions_deliveries SET attempts = ?, redeliver = 0,"
                " updated_at = ? WHERE id = ?",
                (delivery.attempts, now, delivery.id),
            )
    return ids


@dataclass
class AttemptResult:
    duration_ms: float
    outcome: str
    status: int | None = None
    headers: dict[str, str] | None = None
    body: str | None = None
    error: str | None = None


def finish_attempt(
    db: Database,
    attempt_ids: list[int],
    deliveries: list[Delivery],
    result: AttemptResult,
    *,
    status: str,
    reason: str | None,
    next_attempt_at: float | None = None,
) -> None:
    """Record the response and move the deliveries to their next status."""
    now = time.time()
    with db.transaction() as conn:
        conn.executemany(
            """
            UPDATE actions_attempts SET duration_ms = ?, response_status = ?,
                response_headers = ?, response_body = ?, error = ?, outcome = ?
            WHERE id = ?
            """,
            [
                (
                    result.duration_ms,
                    result.status,
                    _dumps(result.headers),
                    result.body,
                    result.error,
                    result.outcome,
                    attempt_id,
                )
                for attempt_id in attempt_ids
            ],
        )
        _settle(conn, deliveries, status, reason, None, next_attempt_at, now)


def settle(
    db: Database,
    deliveries: list[Delivery],
    *,
    status: str,
    reason: str | None,
    error: dict[str, Any] | None = None,
) -> None:
    """Close deliveries that end without a request (the action refused them)."""
    with db.transaction() as conn:
        _settle(conn, deliveries, status, reason, error, None, time.time())


def _settle(conn, deliveries, status, reason, error, next_attempt_at, now) -> None:
    conn.executemany(
        "UPDATE actions_deliveries SET status = ?, reason = ?,"
        " error = COALESCE(?, error), next_attempt_at = ?, updated_at = ?"
        " WHERE id = ?",
        [
            (status, reason, _dumps(error), next_attempt_at, now, d.id)
            for d in deliveries
        ],
    )


# ------------------------------------------------------------------ control API

FILTERS = ("destination", "action", "status", "message_id", "source", "subscription")


def list_deliveries(
    db: Database, *, after: int = 0, limit: int = 100, **filters: str | None
) -> list[dict[str, Any]]:
    """Deliveries in id order after *after*, each with its attempts."""
    clauses = ["id > ?"]
    params: list[Any] = [after]
    for name in FILTERS:
        value = filters.get(name)
        if value is not None:
            clauses.append(f"{name} = ?")
            params.append(value)
    params.append(limit)

    with db.reading() as conn:
        rows = conn.execute(
            f"SELECT * FROM actions_deliveries WHERE {' AND '.join(clauses)}"
            " ORDER BY id LIMIT ?",
            params,
        ).fetchall()
        deliveries = [Delivery.from_row(row) for row in rows]
        attempts = _attempts_of(conn, [d.id for d in deliveries])
    return [_render(d, attempts.get(d.id, [])) for d in deliveries]


def get_delivery(db: Database, delivery_id: int) -> dict[str, Any] | None:
    with db.reading() as conn:
        row = conn.execute(
            "SELECT * FROM actions_deliveries WHERE id = ?", (delivery_id,)
        ).fetchone()
        if row is None:
            return None
        attempts = _attempts_of(conn, [delivery_id])
    return _render(Delivery.from_row(row), attempts.get(delivery_id, []))


def _attempts_of(conn, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return out
    marks = ",".join("?" * len(ids))
    for row in conn.execute(
        f"SELECT * FROM actions_attempts WHERE delivery_id IN ({marks}) ORDER BY id",
        ids,
    ):
        out.setdefault(row["delivery_id"], []).append(
            {
                "number": row["number"],
                "requestId": row["request_id"],
                "redelivery": bool(row["redelivery"]),
                "startedAt": _iso(row["started_at"]),
                "durationMs": row["duration_ms"],
                "outcome": row["outcome"],
                "request": _loads(row["request"]),
                "response": None
                if row["response_status"] is None
                else {
                    "status": row["response_status"],
                    "headers": _loads(row["response_headers"]),
                    "body": row["response_body"],
                },
                "error": row["error"],
            }
        )
    return out


def _render(delivery: Delivery, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "seq": delivery.seq,
        "messageId": delivery.message_id,
        "source": delivery.source,
        "destination": delivery.destination,
        "subscription": delivery.subscription,
        "action": delivery.action,
        "status": delivery.status,
        "reason": delivery.reason,
        "error": delivery.error,
        "payload": delivery.payload,
        "attempts": attempts,
        "createdAt": _iso(delivery.created_at),
        "updatedAt": _iso(delivery.updated_at),
        "nextAttemptAt": _iso(delivery.next_attempt_at)
        if delivery.status == PENDING
        else None,
    }


def stats(db: Database) -> dict[str, Any]:
    """Counts per destination, then per action, then per status."""
    out: dict[str, Any] = {}
    for row in db.query(
        "SELECT destination, action, status, COUNT(*) AS n FROM actions_deliveries"
        " GROUP BY destination, action, status ORDER BY destination, action, status"
    ):
        actions = out.setdefault(row["destination"], {})
        counts = actions.setdefault(row["action"], dict.fromkeys(STATUSES, 0))
        counts[row["status"]] = row["n"]
    return out


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import UTC, datetime

    return (
        datetime.fromtimestamp(epoch, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
