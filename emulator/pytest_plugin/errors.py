"""Errors raised in the emulator's threads, kept for the test that caused them.

The services and workers run on background threads: an exception there cannot
fail the test directly, and a client such as analytics-python swallows the 500 it
gets back. The collector keeps each such error (a bug in the emulator, or a
request the guard blocked) and the plugin raises them in the test thread when the
test body ends, as pytest-httpserver does with its handler errors.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Expected under injected faults and timeouts, so never collected.
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError)


class EmulatorError(Exception):
    """Base of the errors the pytest plugin raises."""


class ServerError(EmulatorError):
    """Raised in a test when an emulator thread failed while the test ran."""

    def __init__(self, errors: list[CollectedError]) -> None:
        self.errors = errors
        lines = [f"{len(errors)} error(s) in the emulator's threads during this test:"]
        for error in errors:
            lines.append(f"--- {error.where}: {error.summary}")
            lines.append(error.details.rstrip())
        super().__init__("\n".join(lines))


@dataclass
class CollectedError:
    where: str
    summary: str
    details: str
    exception: BaseException | None = None


class ErrorCollector(logging.Handler):
    """Collect unexpected exceptions logged or raised by the emulator's threads."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.errors: list[CollectedError] = []
        self._errors_lock = threading.Lock()
        self._previous_excepthook = None

    def install(self) -> ErrorCollector:
        logging.getLogger("emulator").addHandler(self)
        self._previous_excepthook = threading.excepthook
        threading.excepthook = self._thread_excepthook
        return self

    def uninstall(self) -> None:
        logging.getLogger("emulator").removeHandler(self)
        if self._previous_excepthook is not None:
            threading.excepthook = self._previous_excepthook
            self._previous_excepthook = None

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[1] is None:
            return
        if record.name.startswith("emulator.pytest_plugin"):
            return  # the test thread's own troubles surface by themselves
        exception = record.exc_info[1]
        if _is_network_error(exception):
            return

        details = "".join(traceback.format_exception(*record.exc_info))
        self.add(
            CollectedError(
                where=f"{record.threadName} ({record.name})",
                summary=record.getMessage(),
                details=details,
                exception=exception,
            )
        )

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "thread"
        if args.exc_value is not None and not _is_network_error(args.exc_value):
            details = "".join(
                traceback.format_exception(
                    args.exc_type, args.exc_value, args.exc_traceback
                )
            )
            self.add(
                CollectedError(
                    where=name,
                    summary=f"uncaught {args.exc_type.__name__} in thread",
                    details=details,
                    exception=args.exc_value,
                )
            )
        if self._previous_excepthook is not None:
            self._previous_excepthook(args)

    def add(self, error: CollectedError) -> None:
        with self._errors_lock:
            self.errors.append(error)

    def take(self) -> list[CollectedError]:
        """Return the errors collected so far and forget them."""
        with self._errors_lock:
            errors, self.errors = self.errors, []
        return errors

    def raise_collected(self) -> None:
        errors = self.take()
        if errors:
            raise ServerError(errors) from errors[0].exception


def _is_network_error(exception: BaseException) -> bool:
    if isinstance(exception, _NETWORK_ERRORS):
        return True

    try:
        from requests import RequestException
    except ImportError:  # pragma: no cover - requests is a dependency
        return False
    return isinstance(exception, RequestException)
