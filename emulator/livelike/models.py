"""The LiveLike service's state in the shared store.

The rewards set-up (items, tables, badges, quests, leaderboards, groups) is
configuration and lives in :mod:`emulator.livelike.config`; these tables hold only
what happens: profiles, invoked actions, transactions, balances, earned badges,
user quests, leaderboard scores, group memberships, the requests received and the
source outbox.  Profiles named in the configuration are marked ``seeded`` so that
:func:`reset` can forget everything else and keep them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from emulator import jsontext
from emulator.store.database import Database, register_schema

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS ll_profile (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    custom_id TEXT,
    nickname TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seeded INTEGER NOT NULL DEFAULT 0,
    UNIQUE (client_id, custom_id)
);
CREATE TABLE IF NOT EXISTS ll_reward_action (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (client_id, key)
);
CREATE TABLE IF NOT EXISTS ll_invoked_action (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    reward_action_key TEXT NOT NULL,
    code TEXT NOT NULL,
    attributes TEXT NOT NULL,
    rewards TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    UNIQUE (client_id, profile_id, reward_action_key, code)
);
CREATE TABLE IF NOT EXISTS ll_transaction (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    reward_item_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    source TEXT NOT NULL,
    reward_action_key TEXT,
    invoked_action_id TEXT,
    invoked_action_code TEXT,
    reward_table_entry_id TEXT,
    user_quest_id TEXT,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ll_transaction_entry
    ON ll_transaction (profile_id, reward_table_entry_id, created_ts);
CREATE TABLE IF NOT EXISTS ll_balance (
    profile_id TEXT NOT NULL,
    reward_item_id TEXT NOT NULL,
    balance INTEGER NOT NULL,
    PRIMARY KEY (profile_id, reward_item_id)
);
CREATE TABLE IF NOT EXISTS ll_earned_badge (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    badge_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    source TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    UNIQUE (badge_id, profile_id)
);
CREATE TABLE IF NOT EXISTS ll_user_quest (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    quest_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'incomplete',
    completed_at TEXT,
    rewards_status TEXT NOT NULL DEFAULT 'unclaimed',
    rewards_claimed_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (profile_id, quest_id)
);
CREATE TABLE IF NOT EXISTS ll_user_quest_task (
    id TEXT PRIMARY KEY,
    user_quest_id TEXT NOT NULL,
    quest_task_id TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'incomplete',
    completed_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (user_quest_id, quest_task_id)
);
CREATE TABLE IF NOT EXISTS ll_leaderboard_entry (
    leaderboard_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    score INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (leaderboard_id, profile_id)
);
CREATE TABLE IF NOT EXISTS ll_membership (
    group_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (group_id, profile_id)
);
CREATE TABLE IF NOT EXISTS ll_audience_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    audience_name TEXT,
    action INTEGER NOT NULL,
    profile_id TEXT,
    outcome TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ll_request (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    client_id TEXT,
    status INTEGER NOT NULL,
    body TEXT,
    fault_rule TEXT
);
CREATE TABLE IF NOT EXISTS ll_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts REAL NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    failed_at TEXT
);
CREATE INDEX IF NOT EXISTS ll_outbox_pending
    ON ll_outbox (delivered_at, next_attempt_ts);
"""

register_schema("livelike", SCHEMA)

# Columns added after the first release; a store file made before gets them.
ADDED_COLUMNS = (
    ("ll_request", "fault_rule", "TEXT"),
    ("ll_outbox", "failed_at", "TEXT"),
)


def upgrade_schema(db: Database) -> None:
    """Add the columns an older store file lacks (``CREATE IF NOT EXISTS`` won't)."""
    with db.transaction() as conn:
        for table, column, kind in ADDED_COLUMNS:
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                log.info("store upgraded table=%s column=%s", table, column)


STATE_TABLES = (
    "ll_reward_action",
    "ll_invoked_action",
    "ll_transaction",
    "ll_balance",
    "ll_earned_badge",
    "ll_user_quest",
    "ll_user_quest_task",
    "ll_leaderboard_entry",
    "ll_membership",
    "ll_audience_log",
    "ll_request",
    "ll_outbox",
)


RESET_WAIT_SECONDS = 15.0


def reset(db: Database) -> None:
    """Forget every request and its effects; configured profiles stay.

    Waits (bounded) for a source send in flight, so nothing sent before the
    reset reaches Segment after it.
    """
    from emulator.livelike.outbox import IN_FLIGHT

    held = []
    for lock in IN_FLIGHT.values():  # one per channel: Segment, webhooks
        if lock.acquire(timeout=RESET_WAIT_SECONDS):
            held.append(lock)
        else:
            log.warning("livelike reset without waiting for a source send")
    try:
        with db.transaction() as conn:
            for table in STATE_TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM ll_profile WHERE seeded = 0")
    finally:
        for lock in held:
            lock.release()
    log.info("livelike reset")


def iso(moment: datetime) -> str:
    """LiveLike's timestamp format: ISO-8601 in UTC with a ``Z``."""
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def new_id() -> str:
    return str(uuid.uuid4())


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=False)


# --- profiles -------------------------------------------------------------------


def seed_profiles(db: Database, applications: list) -> None:
    """Create the configured profiles once; a restart keeps their state."""
    now = iso(datetime.now(UTC))
    with db.transaction() as conn:
        for app in applications:
            for profile in app.profiles:
                conn.execute(
                    "INSERT INTO ll_profile (id, client_id, custom_id, nickname,"
                    " created_at, seeded) VALUES (?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT DO NOTHING",
                    (
                        profile.id,
                        app.client_id,
                        profile.custom_id,
                        profile.nickname or nickname_for(profile.id),
                        now,
                    ),
                )


def nickname_for(profile_id: str) -> str:
    return f"fan-{profile_id[:8]}"


def profile(conn: sqlite3.Connection, profile_id: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM ll_profile WHERE id = ?", (profile_id,)
    ).fetchone()


def profile_by_custom_id(
    conn: sqlite3.Connection, client_id: str, custom_id: str
) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM ll_profile WHERE client_id = ? AND custom_id = ?",
        (client_id, custom_id),
    ).fetchone()


def create_profile(
    conn: sqlite3.Connection, client_id: str, custom_id: str | None, now: str
) -> sqlite3.Row:
    profile_id = new_id()
    conn.execute(
        "INSERT INTO ll_profile (id, client_id, custom_id, nickname, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (profile_id, client_id, custom_id, nickname_for(profile_id), now),
    )
    log.info("profile created client_id=%s custom_id=%s", client_id, custom_id)
    return profile(conn, profile_id)


# --- balances -------------------------------------------------------------------


def balance(conn: sqlite3.Connection, profile_id: str, item_id: str) -> int:
    row = conn.execute(
        "SELECT balance FROM ll_balance WHERE profile_id = ? AND reward_item_id = ?",
        (profile_id, item_id),
    ).fetchone()
    return row["balance"] if row else 0


def add_to_balance(
    conn: sqlite3.Connection, profile_id: str, item_id: str, amount: int
) -> int:
    conn.execute(
        "INSERT INTO ll_balance (profile_id, reward_item_id, balance) VALUES (?, ?, ?)"
        " ON CONFLICT (profile_id, reward_item_id)"
        " DO UPDATE SET balance = balance + excluded.balance",
        (profile_id, item_id, amount),
    )
    return balance(conn, profile_id, item_id)


# --- requests log ---------------------------------------------------------------


#: The request log and the delivered outbox rows keep this many of their newest
#: rows, like the Segment store's cap, so a long session on a file store stays
#: bounded. Rows still to be sent are never trimmed.
KEEP_ROWS = 100_000


def trim_delivered_outbox(conn) -> None:
    """Forget delivered source events older than the newest :data:`KEEP_ROWS`."""
    (newest,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM ll_outbox").fetchone()
    conn.execute(
        "DELETE FROM ll_outbox WHERE seq <= ? AND delivered_at IS NOT NULL",
        (newest - KEEP_ROWS,),
    )


def record_request(
    db: Database,
    *,
    method: str,
    path: str,
    client_id: str | None,
    status: int,
    body: str | None,
    fault_rule: str | None = None,
) -> None:
    """Keep one request; *status* 0 means a fault rule dropped the connection."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO ll_request (received_at, method, path, client_id, status,"
            " body, fault_rule) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (iso(datetime.now(UTC)), method, path, client_id, status, body, fault_rule),
        )
        conn.execute(
            "DELETE FROM ll_request WHERE seq <= last_insert_rowid() - ?",
            (KEEP_ROWS,),
        )


def received_requests(
    db: Database,
    *,
    after: int = 0,
    limit: int = 100,
    path_contains: str | None = None,
    status: int | None = None,
    client_id: str | None = None,
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM ll_request WHERE seq > ?"
    params: list[Any] = [after]
    if path_contains:
        sql += " AND path LIKE ?"
        params.append(f"%{path_contains}%")
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if client_id:
        sql += " AND client_id = ?"
        params.append(client_id)
    sql += " ORDER BY seq LIMIT ?"
    params.append(limit)
    rows = db.query(sql, tuple(params))
    return [_request_dict(row) for row in rows]


def _request_dict(row: sqlite3.Row) -> dict[str, Any]:
    try:
        body = jsontext.loads(row["body"]) if row["body"] else None
    except jsontext.JSONTextError:  # kept as received: it was refused for it
        body = row["body"]
    return {
        "seq": row["seq"],
        "received_at": row["received_at"],
        "method": row["method"],
        "path": row["path"],
        "client_id": row["client_id"],
        "status": row["status"] or None,
        "body": body,
        "fault_rule": row["fault_rule"],
    }


def stats(db: Database) -> dict[str, Any]:
    """Counts a person or a test checks first when something looks wrong."""
    with db.reading() as conn:

        def count(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]

        by_route: dict[str, dict[str, int]] = {}
        for row in conn.execute(
            "SELECT path, status, COUNT(*) AS n FROM ll_request GROUP BY path, status"
        ):
            route = _route_of(row["path"])
            by_route.setdefault(route, {})
            key = str(row["status"])
            by_route[route][key] = by_route[route].get(key, 0) + row["n"]
        return {
            "requests": count("SELECT COUNT(*) FROM ll_request"),
            "requests_by_route": by_route,
            "profiles": count("SELECT COUNT(*) FROM ll_profile"),
            "invoked_actions": count("SELECT COUNT(*) FROM ll_invoked_action"),
            "reward_transactions": count("SELECT COUNT(*) FROM ll_transaction"),
            "earned_badges": count("SELECT COUNT(*) FROM ll_earned_badge"),
            "user_quests": count("SELECT COUNT(*) FROM ll_user_quest"),
            "completed_user_quests": count(
                "SELECT COUNT(*) FROM ll_user_quest WHERE status = 'completed'"
            ),
            "memberships": count("SELECT COUNT(*) FROM ll_membership"),
            "outbox": {
                "pending": count(
                    "SELECT COUNT(*) FROM ll_outbox"
                    " WHERE delivered_at IS NULL AND failed_at IS NULL"
                ),
                "failed": count(
                    "SELECT COUNT(*) FROM ll_outbox WHERE failed_at IS NOT NULL"
                ),
                "delivered": count(
                    "SELECT COUNT(*) FROM ll_outbox WHERE delivered_at IS NOT NULL"
                ),
                "retried": count("SELECT COUNT(*) FROM ll_outbox WHERE attempts > 1"),
            },
        }


def _route_of(path: str) -> str:
    for suffix in ("segment-events/", "segment-audience-sync/", "validate-app/"):
        if path.endswith(suffix):
            return suffix.rstrip("/")
    return "other"
