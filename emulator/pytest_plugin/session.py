"""The stack a test session talks to: started in-process, or already running.

Both kinds look the same to the handles: two base URLs, the stack configuration,
a reset and a way to wait for the next change. In-process, waiting parks on the
store's commit notifications; against a stack in another process (``--emulator-url``)
the only signal is the HTTP API, so it re-checks with a short pause until a deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import requests

    from emulator.config import StackConfig
    from emulator.stack import Stack

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest park between two checks; a commit normally wakes the waiter first.
_WAKE_INTERVAL = 0.1
#: Pause between two checks against a stack in another process.
_REMOTE_POLL = 0.02


class EmulatorSession:
    """One emulator stack shared by the tests of a session (or an xdist worker)."""

    def __init__(
        self,
        *,
        segment_url: str,
        livelike_url: str,
        config: StackConfig,
        stack: Stack | None = None,
    ) -> None:
        import requests

        self.segment_url = segment_url.rstrip("/")
        self.livelike_url = livelike_url.rstrip("/")
        self.config = config
        self.stack = stack
        self.http: requests.Session = requests.Session()

    @property
    def in_process(self) -> bool:
        return self.stack is not None

    @classmethod
    def start(
        cls, config_file: str | Path | None, host: str = "127.0.0.1"
    ) -> EmulatorSession:
        """Start a stack in this process on free ports with an in-memory store."""
        from emulator.config import load_config
        from emulator.stack import Stack, StackAddress

        config = load_config(config_file)
        stack = Stack(config, store=":memory:", address=StackAddress(host=host))
        stack.start()
        log.info("session stack started segment=%s", stack.segment_url)
        return cls(
            segment_url=stack.segment_url,
            livelike_url=stack.livelike_url,
            config=config,
            stack=stack,
        )

    @classmethod
    def connect(
        cls,
        segment_url: str,
        livelike_url: str | None,
        config_file: str | Path | None,
    ) -> EmulatorSession:
        """Use a stack already running elsewhere (``make emulate``)."""
        from emulator.config import load_config

        session = cls(
            segment_url=segment_url,
            livelike_url=livelike_url or _sibling_url(segment_url),
            config=load_config(config_file),
        )
        for url in (session.segment_url, session.livelike_url):
            session._check_ready(url)
        return session

    def _check_ready(self, url: str) -> None:
        import requests

        try:
            response = self.http.get(f"{url}/_emulator/ready", timeout=5)
        except requests.RequestException as error:
            raise RuntimeError(
                f"No emulator answers at {url!r} ({error}). Start it with "
                "`make emulate` or drop --emulator-url to run one in-process."
            ) from None
        if response.status_code != 200:
            raise RuntimeError(
                f"The emulator at {url!r} is not ready: "
                f"{response.status_code} {response.text[:200]}"
            )

    def reset(self) -> None:
        """Clear everything the services received and did before a test."""
        if self.stack is not None:
            self.stack.reset()
            return

        response = self.http.post(
            f"{self.segment_url}/_emulator/stack/reset", timeout=10
        )
        if response.status_code == 200:
            return

        # Not a whole stack (e.g. services started apart): reset each in turn.
        for url in (self.segment_url, self.livelike_url):
            response = self.http.post(f"{url}/_emulator/reset", timeout=10)
            if response.status_code < 300:
                response = self.http.delete(f"{url}/_emulator/faults", timeout=10)
            if response.status_code >= 300:
                raise RuntimeError(
                    f"Resetting the emulator at {url!r} failed: "
                    f"{response.status_code} {response.text[:200]}"
                )

    def wait_until(self, check: Callable[[], T], timeout: float) -> T | None:
        """Return the first truthy result of *check*, re-run after each change."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result

            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._wait_for_change(remaining)

    def _wait_for_change(self, remaining: float) -> None:
        if self.stack is None:
            # Another process: its HTTP API is the only signal there is.
            time.sleep(min(_REMOTE_POLL, remaining))
            return

        # The probe runs under the store's lock, so it must not call the
        # services; it only returns after the first wake-up (a commit).
        calls: list[None] = []

        def woken() -> bool:
            calls.append(None)
            return len(calls) > 1

        self.stack.db.wait_for(woken, timeout=remaining, interval=_WAKE_INTERVAL)

    def close(self) -> None:
        self.http.close()
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
            log.info("session stack stopped")


def _sibling_url(segment_url: str) -> str:
    """LiveLike's URL beside a Segment URL, as ``make emulate`` lays them out."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(segment_url)
    port = (parts.port or 80) + 1
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, f"{host}:{port}", "", "", ""))
