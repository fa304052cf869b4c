"""JavaScript value semantics that Segment's TypeScript code relies on.

The mapping kit and the subscription language are JavaScript; their quirks come
from JS coercions (``String(x)``, ``Number(x)``, truthiness, property access on
strings, the order of object keys).  Both packages use these helpers so that
the emulator reproduces the same results instead of Python's.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any


class _Undefined:
    """JS ``undefined``: distinct from ``None`` (JS ``null``) until the very end."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()

_MAX_ARRAY_INDEX = 2**32 - 2
_SAFE_INTEGER = 2**53


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_float(value: int | float) -> float:
    """The double JavaScript holds for a JSON number: an integer too big for a
    double is ``Infinity`` there, where Python's ``float()`` raises instead."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def type_of(value: Any) -> str:
    """``Object.prototype.toString`` tag, lower-cased, as ``realTypeOf`` gives it."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__.lower()


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False:
        return False
    if is_number(value):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def is_array_index(key: str) -> bool:
    """Whether JS would treat ``key`` as an array index (and order it first)."""
    if not key or not key.isdigit() or not key.isascii():
        return False
    if len(key) > 1 and key[0] == "0":
        return False
    return int(key) <= _MAX_ARRAY_INDEX


def js_keys(obj: dict) -> list[str]:
    """Own keys in JS order: array-index keys ascending, then insertion order."""
    keys = list(obj.keys())
    indices = [k for k in keys if isinstance(k, str) and is_array_index(k)]
    if not indices:
        return keys
    rest = [k for k in keys if not (isinstance(k, str) and is_array_index(k))]
    return sorted(indices, key=int) + rest


def number_to_string(value: float | int) -> str:
    """``Number.prototype.toString()``: ``42``, ``2.5``, ``1e+21``, ``1e-7``."""
    if isinstance(value, int) and abs(value) < _SAFE_INTEGER:
        return str(value)
    number = as_float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"

    sign = "-" if number < 0 else ""
    digits_tuple = Decimal(repr(abs(number))).as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits).rstrip("0") or "0"
    stripped = len("".join(str(d) for d in digits_tuple.digits)) - len(digits)
    exponent = int(digits_tuple.exponent) + stripped
    k = len(digits)
    n = k + exponent

    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    exp_text = ("+" if exp >= 0 else "-") + str(abs(exp))
    if k == 1:
        return sign + digits + "e" + exp_text
    return sign + digits[0] + "." + digits[1:] + "e" + exp_text


def to_string(value: Any) -> str:
    """JS ``String(value)``."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(
            "" if item is None or item is UNDEFINED else to_string(item)
            for item in value
        )
    return "[object Object]"


JS_WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_DECIMAL_LITERAL = re.compile(
    r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z"
)
_RADIX_LITERAL = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")


def to_number(value: Any) -> float:
    """JS ``Number(value)``; ``nan`` where JS gives ``NaN``."""
    if value is UNDEFINED:
        return math.nan
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if is_number(value):
        return as_float(value)
    if isinstance(value, list | tuple):
        return to_number(to_string(value))
    if not isinstance(value, str):
        return math.nan

    text = value.strip(JS_WHITESPACE)
    if text == "":
        return 0.0
    if _DECIMAL_LITERAL.match(text):
        return float(text.replace("Infinity", "inf"))
    radix = _RADIX_LITERAL.match(text)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
        try:
            return as_float(int(radix.group(2), base))
        except ValueError:
            return math.nan
    return math.nan


def loosely_equals_empty_string(value: Any) -> bool:
    """JS ``value == ''`` (used by ``@if`` ``blank``)."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, str):
        return value == ""
    if isinstance(value, bool) or is_number(value):
        return to_number(value) == 0
    if isinstance(value, list | tuple):
        return to_string(value) == ""
    return False


def _utf16_units(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def string_length(text: str) -> int:
    """JS ``.length``: UTF-16 code units, not code points."""
    if text.isascii():
        return len(text)
    return len(_utf16_units(text)) // 2


def string_units(text: str) -> list[str]:
    """The string split into UTF-16 code units, as JS indexes it."""
    if text.isascii():
        return list(text)
    raw = _utf16_units(text)
    return [
        raw[i : i + 2].decode("utf-16-le", "surrogatepass")
        for i in range(0, len(raw), 2)
    ]


def get_property(obj: Any, key: str) -> Any:
    """``obj[key]`` for a truthy JSON value (no prototype members but ``length``)."""
    if isinstance(obj, dict):
        return obj.get(key, UNDEFINED)
    if isinstance(obj, list | tuple):
        if key == "length":
            return len(obj)
        if is_array_index(key) and int(key) < len(obj):
            return obj[int(key)]
        return UNDEFINED
    if isinstance(obj, str):
        if key == "length":
            return string_length(obj)
        if is_array_index(key):
            units = string_units(obj)
            if int(key) < len(units):
                return units[int(key)]
        return UNDEFINED
    return UNDEFINED


def walk(obj: Any, keys: list[str]) -> Any:
    """``keys.reduce((o, k) => o && o[k], obj)``: a falsy step is returned as-is."""
    current = obj
    for key in keys:
        if not truthy(current):
            return current
        current = get_property(current, key)
    return current


def stringify(value: Any) -> Any:
    """``JSON.stringify(value)`` (compact); ``UNDEFINED`` where JS returns undefined."""
    if value is UNDEFINED:
        return UNDEFINED
    return _stringify(value)


def _stringify(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        if not math.isfinite(as_float(value)):
            return "null"
        return number_to_string(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        items = ["null" if item is UNDEFINED else _stringify(item) for item in value]
        return "[" + ",".join(items) + "]"
    if isinstance(value, dict):
        members = [
            json.dumps(str(key), ensure_ascii=False) + ":" + _stringify(value[key])
            for key in js_keys(value)
            if value[key] is not UNDEFINED
        ]
        return "{" + ",".join(members) + "}"
    return "null"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(text: str) -> int | float:
    number = int(text)
    return number if abs(number) < _SAFE_INTEGER else as_float(number)


def parse_json(text: str) -> Any:
    """``JSON.parse``; raises ``ValueError`` where JS throws a SyntaxError."""
    return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)


def ordered(value: Any) -> Any:
    """A copy with every object's keys in JS order (for byte-identical output)."""
    if isinstance(value, dict):
        return {key: ordered(value[key]) for key in js_keys(value)}
    if isinstance(value, list | tuple):
        return [ordered(item) for item in value]
    return value
