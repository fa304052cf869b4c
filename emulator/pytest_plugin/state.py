"""What the plugin keeps for a pytest run: the stack, collected errors, blocks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from emulator.pytest_plugin.errors import ErrorCollector, ServerError
from emulator.pytest_plugin.guard import RealServiceBlocked

log = logging.getLogger(__name__)


class PluginState:
    """Lives in ``config.stash``: one per pytest process (so one per xdist worker)."""

    def __init__(self) -> None:
        self.session = None  # EmulatorSession, imported lazily
        self.collector: ErrorCollector | None = None
        self.blocked: list[RealServiceBlocked] = []

    def open_session(
        self,
        *,
        url: str | None,
        livelike_url: str | None,
        config_file: str | Path | None,
        host: str,
        xdist_worker: bool = False,
    ):
        from emulator.pytest_plugin.session import EmulatorSession

        if self.session is not None:
            return self.session

        if url:
            if xdist_worker:
                raise pytest.UsageError(
                    f"--emulator-url {url} cannot be shared by pytest-xdist "
                    "workers: each test resets the whole stack. Drop -n, or drop "
                    "--emulator-url to give each worker its own in-process stack."
                )
            # TODO(plugin): errors inside another process's threads cannot be
            # collected; only the 500s its clients see tell of them.
            self.session = EmulatorSession.connect(url, livelike_url, config_file)
        else:
            self.collector = ErrorCollector().install()
            self.session = EmulatorSession.start(config_file, host=host)
        return self.session

    def before_test(self) -> None:
        """Forget what happened between tests, then reset the stack."""
        assert self.session is not None
        self.session.reset()
        if self.collector is not None:
            self.collector.take()

    def after_test(self, item: pytest.Item) -> list[BaseException]:
        """The problems to raise in *item*'s test thread, most important first."""
        problems: list[BaseException] = []
        if self.blocked:
            # A fresh error: the original's traceback belongs to another thread.
            problems.append(RealServiceBlocked(self.blocked[0].host))
            self.blocked.clear()

        if "emulator" not in getattr(item, "fixturenames", ()):
            return problems

        if self.collector is not None:
            errors = self.collector.take()
            if errors:
                error = ServerError(errors)
                error.__cause__ = errors[0].exception
                problems.insert(0, error)

        handle = getattr(item, "funcargs", {}).get("segment")
        if handle is not None and handle.strict:
            violation = handle.strict_violation()
            if violation is not None:
                problems.append(violation)
        return problems

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.collector is not None:
            self.collector.uninstall()
            self.collector = None


STATE_KEY = pytest.StashKey[PluginState]()
