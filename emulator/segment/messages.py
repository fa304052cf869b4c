"""The Segment service's tables: every request and every message it received.

A message is stored with its raw form (as the client sent it), its normalised
form (as Segment would hold it), a status (``accepted``, ``dropped``,
``duplicate``, ``blocked``, ``rejected``) and the reasons for that status. The
table is capped: when it grows past ``max_messages`` the oldest rows go first
and are counted, so a long-running emulator stays small.

The pipeline reads accepted messages through :func:`read_accepted` only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.store.database import Database, register_schema

log = logging.getLogger(__name__)

STATUSES = ("accepted", "dropped", "duplicate", "blocked", "rejected")

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    source TEXT,
    write_key TEXT,
    status INTEGER NOT NULL,
    code TEXT,
    reasons TEXT NOT NULL DEFAULT '[]',
    bytes INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    user_agent TEXT,
    retry_count INTEGER,
    body_preview TEXT,
    fault TEXT
);
CREATE TABLE IF NOT EXISTS segment_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER,
    source TEXT,
    route TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    details TEXT,
    violations TEXT,
    type TEXT,
    event TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    message_id TEXT,
    received_at TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    raw TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_messages_accepted
    ON segment_messages (seq) WHERE status = 'accepted';
CREATE INDEX IF NOT EXISTS segment_messages_source ON segment_messages (source);
CREATE INDEX IF NOT EXISTS segment_messages_message_id
    ON segment_messages (message_id);
CREATE INDEX IF NOT EXISTS segment_messages_user_id ON segment_messages (user_id);
CREATE INDEX IF NOT EXISTS segment_messages_anonymous_id
    ON segment_messages (anonymous_id);
CREATE INDEX IF NOT EXISTS segment_messages_event ON segment_messages (event);
CREATE TABLE IF NOT EXISTS segment_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

register_schema("segment", SCHEMA)


@dataclass
class StoredMessage:
    """One stored message as the pipeline and the control API see it."""

    seq: int
    source: str | None
    message: dict[str, Any]
    status: str
    reasons: list[str]
    route: str = ""
    received_at: str = ""
    violations: list[dict[str, Any]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    raw: Any = None

    def as_item(self, with_raw: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {
            "seq": self.seq,
            "source": self.source,
            "status": self.status,
            "reasons": self.reasons,
            "route": self.route,
            "receivedAt": self.received_at,
            "message": self.message,
        }
        if self.details:
            item["details"] = self.details
        if self.violations:
            item["violations"] = self.violations
        if with_raw:
            item["raw"] = self.raw
        return item


@dataclass
class RequestRecord:
    """One HTTP request to a tracking route, whatever its outcome."""

    received_at: str
    received_ms: int
    method: str
    route: str
    status: int
    source: str | None = None
    write_key: str | None = None
    code: str | None = None
    reasons: list[str] = field(default_factory=list)
    bytes: int = 0
    message_count: int = 0
    user_agent: str | None = None
    retry_count: int | None = None
    body_preview: str | None = None
    fault: str | None = None  # the id of the fault rule that answered


@dataclass
class MessageRow:
    """A message ready to insert (see :func:`store_request`)."""

    source: str | None
    route: str
    status: str
    reasons: list[str]
    raw: Any
    message: dict[str, Any]
    received_at: str
    received_ms: int
    details: list[dict[str, Any]] | None = None
    violations: list[dict[str, Any]] | None = None


# One encoder for every row: json.dumps with options builds a new one per call.
# allow_nan=False: NaN or Infinity stored once would break every where= query
# (SQLite's JSON functions refuse the whole row), so it is a bug to fail loudly.
_dumps = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def store_request(
    conn: sqlite3.Connection,
    request: RequestRecord,
    rows: Sequence[MessageRow] = (),
    max_messages: int | None = None,
) -> int:
    """Insert one request and its messages inside the caller's transaction."""
    cursor = conn.execute(
        "INSERT INTO segment_requests (received_at, received_ms, method, route,"
        " source, write_key, status, code, reasons, bytes, message_count,"
        " user_agent, retry_count, body_preview, fault)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            request.received_at,
            request.received_ms,
            request.method,
            request.route,
            request.source,
            request.write_key,
            request.status,
            request.code,
            _dumps(request.reasons),
            request.bytes,
            request.message_count,
            request.user_agent,
            request.retry_count,
            request.body_preview,
            request.fault,
        ),
    )
    request_id = cursor.lastrowid

    if rows:
        conn.executemany(
            "INSERT INTO segment_messages (request_id, source, route, status,"
            " reasons, details, violations, type, event, user_id, anonymous_id,"
            " message_id, received_at, received_ms, raw, message)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_message_params(request_id, row) for row in rows],
        )

    if max_messages is not None:
        _apply_cap(conn, request_id, max_messages)
    return request_id


def migrate(db: Database) -> None:
    """Add columns newer than a store file written by an older emulator."""
    with db.transaction() as conn:
        columns = {
            row[1] for row in conn.execute("PRAGMA table_info(segment_requests)")
        }
        if "fault" not in columns:
            conn.execute("ALTER TABLE segment_requests ADD COLUMN fault TEXT")


def _message_params(request_id: int, row: MessageRow) -> tuple:
    message = row.message
    return (
        request_id,
        row.source,
        row.route,
        row.status,
        _dumps(row.reasons) if row.reasons else "[]",
        _dumps(row.details) if row.details else None,
        _dumps(row.violations) if row.violations else None,
        _text(message.get("type")),
        _text(message.get("event")),
        _text(message.get("userId")),
        _text(message.get("anonymousId")),
        _text(message.get("messageId")),
        row.received_at,
        row.received_ms,
        _dumps(row.raw),
        _dumps(message),
    )


def _apply_cap(conn: sqlite3.Connection, request_id: int, cap: int) -> None:
    """Delete the oldest rows beyond *cap* and count them.

    Sequence numbers only grow, so ``seq <= last - cap`` is exactly the set of
    oldest rows to go (fewer after a per-source reset, never more).
    """
    last = conn.execute(
        "SELECT seq FROM sqlite_sequence WHERE name = ?", ("segment_messages",)
    ).fetchone()
    if last is not None and last[0] > cap:
        evicted = conn.execute(
            "DELETE FROM segment_messages WHERE seq <= ?", (last[0] - cap,)
        ).rowcount
        if evicted > 0:
            _bump(conn, "evicted_messages", evicted)
            log.info("store cap reached evicted=%d cap=%d", evicted, cap)

    if request_id > cap:
        conn.execute("DELETE FROM segment_requests WHERE id <= ?", (request_id - cap,))


def _bump(conn: sqlite3.Connection, name: str, amount: int) -> None:
    conn.execute(
        "INSERT INTO segment_counters (name, value) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        (name, amount),
    )


def seen_message_ids(
    conn: sqlite3.Connection,
    message_ids: Iterable[str],
    since_ms: int,
    source: str | None = None,
) -> set[str]:
    """Return which of *message_ids* were accepted (or blocked) since *since_ms*.

    Dedupe looks at the stored messages themselves, so a message evicted by
    the cap or removed by a reset is forgotten with it.
    """
    wanted = list(dict.fromkeys(message_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            f"SELECT message_id FROM segment_messages WHERE message_id IN ({marks})"
            " AND status IN ('accepted', 'blocked') AND received_ms >= ?"
        )
        params: list[Any] = [*chunk, since_ms]
        if source is not None:
            sql += " AND source = ?"
            params.append(source)
        found.update(row[0] for row in conn.execute(sql, params))
    return found


def _stored(row: sqlite3.Row, with_raw: bool = False) -> StoredMessage:
    return StoredMessage(
        seq=row["seq"],
        source=row["source"],
        message=json.loads(row["message"]),
        status=row["status"],
        reasons=json.loads(row["reasons"]),
        route=row["route"],
        received_at=row["received_at"],
        violations=json.loads(row["violations"]) if row["violations"] else [],
        details=json.loads(row["details"]) if row["details"] else [],
        raw=json.loads(row["raw"]) if with_raw else None,
    )


def read_accepted(db: Database, after_seq: int, limit: int) -> list[StoredMessage]:
    """Return up to *limit* accepted messages with ``seq > after_seq``, oldest first."""
    rows = db.query(
        "SELECT * FROM segment_messages WHERE status = 'accepted' AND seq > ?"
        " ORDER BY seq LIMIT ?",
        (after_seq, limit),
    )
    return [_stored(row) for row in rows]


@dataclass
class MessageQuery:
    """Filters of ``GET /_emulator/messages``; every given filter must match."""

    type: str | None = None
    event: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    message_id: str | None = None
    source: str | None = None
    status: str | None = None
    where: list[tuple[list[str | int], str | None]] = field(default_factory=list)
    since_ms: int | None = None
    until_ms: int | None = None
    after: int = 0
    limit: int = 100

    def sql(self) -> tuple[str, list[Any]]:
        clauses = ["seq > ?"]
        params: list[Any] = [self.after]
        for column, value in (
            ("type", self.type),
            ("event", self.event),
            ("user_id", self.user_id),
            ("anonymous_id", self.anonymous_id),
            ("message_id", self.message_id),
            ("source", self.source),
            ("status", self.status),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since_ms is not None:
            clauses.append("received_ms >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            clauses.append("received_ms <= ?")
            params.append(self.until_ms)

        for parts, value in self.where:
            path = _sqlite_path(parts)
            if value is None:
                clauses.append("json_type(message, ?) IS NOT NULL")
                params.append(path)
                continue
            clauses.append(
                "(CASE json_type(message, ?)"
                " WHEN 'text' THEN json_extract(message, ?)"
                " WHEN 'integer' THEN CAST(json_extract(message, ?) AS TEXT)"
                " WHEN 'real' THEN CAST(json_extract(message, ?) AS TEXT)"
                " WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
                " WHEN 'null' THEN 'null'"
                " ELSE json_extract(message, ?) END) = ?"
            )
            params.extend([path] * 5 + [value])

        sql = (
            "SELECT * FROM segment_messages WHERE "
            + " AND ".join(clauses)
            + " ORDER BY seq LIMIT ?"
        )
        params.append(self.limit)
        return sql, params


def _sqlite_path(parts: list[str | int]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += '."' + part + '"'
    return path


def find_messages(
    db: Database, query: MessageQuery, with_raw: bool = False
) -> list[StoredMessage]:
    sql, params = query.sql()
    try:
        rows = db.query(sql, tuple(params))
    except sqlite3.OperationalError as error:
        # a where path SQLite's JSON functions cannot follow
        raise ValueError(f"The query cannot run: {error}.") from None
    return [_stored(row, with_raw) for row in rows]


def find_requests(
    db: Database,
    *,
    route: str | None = None,
    status: int | None = None,
    source: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The request log, oldest first: what each HTTP request got, and why."""
    clauses, params = ["id > ?"], [after]
    for column, value in (("route", route), ("status", status), ("source", source)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    rows = db.query(
        "SELECT * FROM segment_requests WHERE "
        + " AND ".join(clauses)
        + " ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [
        {
            "id": row["id"],
            "receivedAt": row["received_at"],
            "method": row["method"],
            "route": row["route"],
            "source": row["source"],
            "writeKey": row["write_key"],
            "status": row["status"],
            "code": row["code"],
            "reasons": json.loads(row["reasons"]),
            "bytes": row["bytes"],
            "messageCount": row["message_count"],
            "userAgent": row["user_agent"],
            "retryCount": row["retry_count"],
            "bodyPreview": row["body_preview"],
            "fault": row["fault"],
        }
        for row in rows
    ]


def stats(db: Database) -> dict[str, Any]:
    """Counts by status, reason and route, for ``GET /_emulator/stats``."""
    with db.reading() as conn:
        by_status = dict(
            conn.execute(
                "SELECT status, count(*) FROM segment_messages GROUP BY status"
            ).fetchall()
        )
        by_type = dict(
            conn.execute(
                "SELECT coalesce(type, '(none)'), count(*) FROM segment_messages"
                " GROUP BY 1"
            ).fetchall()
        )
        by_reason: dict[str, int] = {}
        for reasons, count in conn.execute(
            "SELECT reasons, count(*) FROM segment_messages WHERE reasons != '[]'"
            " GROUP BY reasons"
        ):
            for reason in json.loads(reasons):
                by_reason[reason] = by_reason.get(reason, 0) + count
        for reasons, count in conn.execute(
            "SELECT reasons, count(*) FROM segment_requests"
            " WHERE reasons != '[]' AND message_count = 0 GROUP BY reasons"
        ):
            for reason in json.loads(reasons):
                by_reason[reason] = by_reason.get(reason, 0) + count
        by_route = dict(
            conn.execute(
                "SELECT route, count(*) FROM segment_requests GROUP BY route"
            ).fetchall()
        )
        by_http_status = {
            str(status): count
            for status, count in conn.execute(
                "SELECT status, count(*) FROM segment_requests GROUP BY status"
            )
        }
        counters = dict(
            conn.execute("SELECT name, value FROM segment_counters").fetchall()
        )

    return {
        "messages": {
            "total": sum(by_status.values()),
            "by_status": {status: by_status.get(status, 0) for status in STATUSES},
            "by_reason": dict(sorted(by_reason.items())),
            "by_type": by_type,
            "evicted": counters.get("evicted_messages", 0),
        },
        "requests": {
            "total": sum(by_route.values()),
            "by_route": by_route,
            "by_status": by_http_status,
        },
    }


def source_counts(db: Database) -> dict[str | None, int]:
    return dict(
        db.query("SELECT source, count(*) FROM segment_messages GROUP BY source")
    )


def reset(db: Database, source: str | None = None) -> int:
    """Forget everything (or one source's requests and messages); returns rows."""
    with db.transaction() as conn:
        if source is None:
            deleted = conn.execute("DELETE FROM segment_messages").rowcount
            conn.execute("DELETE FROM segment_requests")
            conn.execute("DELETE FROM segment_counters")
        else:
            deleted = conn.execute(
                "DELETE FROM segment_messages WHERE source = ?", (source,)
            ).rowcount
            conn.execute("DELETE FROM segment_requests WHERE source = ?", (source,))
    log.info("store reset source=%s messages=%d", source or "*", deleted)
    return deleted
