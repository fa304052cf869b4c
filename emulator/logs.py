"""Log lines that stay one line each, whatever the clients send.

User ids, event names and paths come from the network; a newline in one of
them must not start a fake log line, and a NUL must not turn the log binary.
"""

from __future__ import annotations

import logging
import re

# C0, DEL, C1 and the Unicode line separators: each could forge or split a line
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

FORMAT = "%(asctime)s %(name)s %(message)s"


def log_safe(text: str) -> str:
    """*text* with control characters backslash-escaped, fit for one log line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


class OneLineFormatter(logging.Formatter):
    """Escape control characters in every message; tracebacks keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        record.message = log_safe(record.message)
        return super().formatMessage(record)


def configure(level: int = logging.INFO) -> None:
    """Send the emulator's logs to stderr, one escaped line per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
