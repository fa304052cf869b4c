"""Strict JSON reading shared by every service and command.

Python's ``json`` accepts what no real service does (``NaN``, ``Infinity``,
``1e999`` read as infinity, lone UTF-16 surrogates) and fails with exceptions
other than ``JSONDecodeError`` on hostile input (deep nesting, huge integers).
Everything the emulator reads from outside goes through :func:`loads`, which
turns all of it into one :class:`JSONTextError` that says where and why.
"""

from __future__ import annotations

import json
import math
from typing import Any


class JSONTextError(ValueError):
    """Text that is not JSON a real service would accept."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        self.reason = reason
        self.line = line
        self.column = column
        where = f" at line {line} column {column}" if line is not None else ""
        super().__init__(f"{reason}{where}")


def loads(data: bytes | str) -> Any:
    """Parse UTF-8 JSON text strictly; lone surrogates become U+FFFD, as in Go."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JSONTextError(
                f"not UTF-8 ({error.reason} at byte {error.start})"
            ) from None
    else:
        text = data

    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as error:
        raise JSONTextError(error.msg, error.lineno, error.colno) from None
    except _NotJSON as error:
        raise JSONTextError(str(error)) from None
    except ValueError:  # an integer with more digits than Python will convert
        raise JSONTextError("a number has too many digits to read") from None
    except RecursionError:
        raise JSONTextError("arrays or objects are nested too deeply") from None

    if "\\ud" in text or "\\uD" in text:
        value = _replace_lone_surrogates(value)
    return value


class _NotJSON(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotJSON(f"the number {text[:40]} is out of range")
    return number


def _replace_lone_surrogates(value: Any) -> Any:
    """``"\\ud800"`` is valid JSON but not Unicode; store U+FFFD instead."""
    if isinstance(value, str):
        if not any("\ud800" <= char <= "\udfff" for char in value):
            return value
        return "".join(
            "\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value
        )
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _replace_lone_surrogates(key): _replace_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``["batch", 3, "event"]`` → ``$.batch[3].event``; odd keys are quoted."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out
