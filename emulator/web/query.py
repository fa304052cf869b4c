"""Integer query parameters of the control and read routes, checked one way.

A value that is not a plain decimal integer, or lies outside its range (SQLite
holds 64 bits), is a 400 that names the parameter; never a 500 further down.
"""

from __future__ import annotations

import re

from flask import request

from emulator.web.errors import APIError

MAX_INTEGER = 2**63 - 1  # SQLite's largest integer; no row id is larger

# The paging parameter of every control route: ``cursor``, or its older names
# ``after`` and ``next``; the first one given wins.
CURSOR_NAMES = ("cursor", "after", "next")

_INTEGER = re.compile(r"-?[0-9]{1,40}")  # not int(): it takes "1_0", " 7", "٣"


def integer_arg(
    name: str,
    default: int,
    low: int = 0,
    high: int = MAX_INTEGER,
    *,
    code: str = "invalid_query",
    path_prefix: str = "",
) -> int:
    """Query parameter *name* as an integer from *low* to *high*.

    The error's ``path`` is *path_prefix* + *name*: each service keeps the form
    its clients already read (``limit`` or ``$.query.limit``).
    """
    raw = request.args.get(name)
    if raw is None:
        return default

    path = f"{path_prefix}{name}"
    if not _INTEGER.fullmatch(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise APIError(
            f"Query parameter {name} must be an integer, not {shown!r}.",
            code=code,
            path=path,
        )

    value = int(raw)
    if low <= value <= high:
        return value
    if high < MAX_INTEGER:
        bound = f"from {low} to {high}"
    elif value < low:
        bound = f"at least {low}"
    else:
        bound = f"at most {high} (the largest id)"
    raise APIError(
        f"Query parameter {name} must be {bound}, not {value}.", code=code, path=path
    )


def cursor_arg(
    high: int = MAX_INTEGER, *, code: str = "invalid_query", path_prefix: str = ""
) -> int:
    """The page cursor, under whichever of :data:`CURSOR_NAMES` comes first."""
    for name in CURSOR_NAMES:
        if name in request.args:
            return integer_arg(name, 0, 0, high, code=code, path_prefix=path_prefix)
    return 0
