"""Long-polling control routes ("wait until it is stored") without starving a server.

A wait holds one of the server's threads for up to its timeout. Each service bounds
how many may be open at once; one more is answered 429 at once, so the emulated
routes always keep threads to serve the traffic being waited for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from emulator.store import Database
from emulator.web.errors import APIError

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WAITERS = 16


def wait_slots() -> threading.BoundedSemaphore:
    """The open-wait slots of one service."""
    return threading.BoundedSemaphore(MAX_WAITERS)


def wait_in_a_slot(
    slots: threading.BoundedSemaphore,
    db: Database,
    probe: Callable[[], T],
    timeout: float,
    *,
    instead: str,
) -> T | None:
    """:meth:`Database.wait_for` while holding a slot; 429 when none is free.

    *instead* ends the 429's message: what the caller can do rather than wait.
    """
    if not slots.acquire(blocking=False):
        log.warning("wait refused waiters=%d", MAX_WAITERS)
        raise APIError(
            f"{MAX_WAITERS} waits are already open on this server, the most it "
            "allows so that the emulated routes keep their threads; retry in a "
            f"second or {instead}.",
            status=429,
            code="too_many_waits",
            headers={"Retry-After": "1"},
        )
    try:
        return db.wait_for(probe, timeout=timeout)
    finally:
        slots.release()
