"""Path lookup (``get``) as the mapping kit does it, quirks included.

``a.b[0].c``, ``a.b.0.c`` and ``['a'].b`` all work; ``[txt]`` is part of a
key; a falsy value part-way is returned as-is (``$.count.extra`` with
``count: 0`` gives ``0``); strings answer ``length`` and indices.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.jsvalues import UNDEFINED

_SEPARATORS = re.compile(r"""\[(?=["'0-9])|\.|(?<=["'0-9])\]+""")
_QUOTES = re.compile(r"""['"]""")


def split_path(path: str) -> list[str]:
    pieces = [piece for piece in _SEPARATORS.split(path) if piece]
    return [_QUOTES.sub("", piece) for piece in pieces]


def get(obj: Any, path: Any) -> Any:
    """The value at ``path`` in ``obj``; ``UNDEFINED`` where JS gives undefined."""
    if path == "" or path == ".":
        return obj
    if path is None or path is UNDEFINED:
        return UNDEFINED
    return jsvalues.walk(obj, split_path(path))


def strip_root(path: str) -> str:
    """Remove the first ``$.`` anywhere in the path (JS ``replace('$.', '')``)."""
    return path.replace("$.", "", 1)
