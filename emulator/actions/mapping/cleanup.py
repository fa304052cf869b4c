"""Removal of undefined values after resolution (``removeUndefined``).

Object keys that resolved to undefined are deleted; ``null`` and empty objects
stay.  Undefined array items stay in place (JSON shows them as ``null``).
Objects are rebuilt in JS key order so the output serialises as the real one.
"""

from __future__ import annotations

from typing import Any

from emulator.actions import jsvalues
from emulator.actions.jsvalues import UNDEFINED


def remove_undefined(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [remove_undefined(item) for item in value]
    if isinstance(value, dict):
        return {
            key: remove_undefined(value[key])
            for key in jsvalues.js_keys(value)
            if value[key] is not UNDEFINED
        }
    return value


def to_json(value: Any) -> Any:
    """What ``JSON.parse(JSON.stringify(v))`` keeps: undefined array items as null.

    Integral floats become ints, as JavaScript has one number type: ``2.0``
    from the event is sent as ``2``, like the real destination sends it.
    """
    if value is UNDEFINED:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if v is not UNDEFINED}
    return value
