"""One SQLite database shared by every component of the stack.

The emulator is a test tool: correctness and durability matter more than write
concurrency, so one connection guarded by a re-entrant lock serves every thread.
Writers commit through :meth:`Database.transaction`; each commit wakes the threads
parked in :meth:`Database.wait_for`, which is how the control API answers a
"wait until a message arrives" query without polling.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMORY = ":memory:"

_schemas: dict[str, str] = {}


def register_schema(component: str, ddl: str) -> None:
    """Declare the tables of *component*; they are created when a database opens.

    DDL must be idempotent (``CREATE TABLE IF NOT EXISTS``) because it runs on
    every start against a file that may already hold the tables.
    """
    _schemas[component] = ddl


class Database:
    """A locked SQLite connection with commit notifications."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._depth = 0
        self._closed = False

        with self._lock:
            if self.path != MEMORY:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            for component, ddl in _schemas.items():
                log.debug("store schema component=%s", component)
                self._conn.executescript(ddl)

    def ensure_schema(self) -> None:
        """Create tables registered after this database was opened."""
        with self._lock:
            for ddl in _schemas.values():
                self._conn.executescript(ddl)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block atomically; nested blocks join the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")
                self._changed.notify_all()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a consistent read of several queries."""
        with self._lock:
            yield self._conn

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def wait_for(
        self, probe: Callable[[], T], timeout: float, interval: float = 1.0
    ) -> T | None:
        """Return the first truthy result of *probe*, re-run after every commit.

        *interval* bounds each wait so that changes made outside
        :meth:`transaction` (there should be none) are still seen eventually.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = probe()
                if result:
                    return result

                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._changed.wait(min(remaining, interval))

    def notify(self) -> None:
        """Wake waiters after a change made without :meth:`transaction`."""
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()
            self._conn.close()


class StoreError(RuntimeError):
    """A store file that cannot be opened; says which file and why."""


def open_database(path: str | Path | None) -> Database:
    """Open the store at *path*; ``None`` or ``":memory:"`` keeps it in memory."""
    try:
        return Database(MEMORY if path in (None, MEMORY) else path)
    except (sqlite3.Error, OSError) as error:
        raise StoreError(f"Cannot open the store {str(path)!r}: {error}.") from None
