"""Partial matching of received messages, with reasons for every miss.

An expectation is a mapping of fields to wanted values. Nested mappings match
partially (``properties={"plan": "pro"}`` ignores the other properties), other
values must be equal, and a callable is a predicate. Every comparison yields the
list of differences, so a failed assertion can show the nearest misses instead of
only saying that nothing matched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_MISSING = object()


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Return why *actual* does not match *expected* (empty when it matches)."""
    if callable(expected) and not isinstance(expected, type):
        if _predicate_holds(expected, actual):
            return []
        return [f"{path or '$'}: {_short(actual)} fails {_name(expected)}"]

    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or '$'}: expected an object, got {_short(actual)}"]
        found: list[str] = []
        for key, wanted in expected.items():
            where = f"{path}.{key}" if path else str(key)
            value = actual.get(key, _MISSING)
            if value is _MISSING:
                found.append(f"{where}: missing (expected {_short(wanted)})")
            else:
                found.extend(differences(value, wanted, where))
        return found

    if actual != expected or (isinstance(actual, bool) != isinstance(expected, bool)):
        return [f"{path or '$'}: expected {_short(expected)}, got {_short(actual)}"]
    return []


def nearest_misses(
    candidates: Iterable[Mapping[str, Any]],
    expected: Mapping[str, Any],
    describe: Callable[[Mapping[str, Any]], str],
    limit: int = 3,
) -> list[str]:
    """Describe the *limit* candidates closest to *expected*, closest first."""
    scored = []
    for index, candidate in enumerate(candidates):
        missed = differences(candidate, expected)
        if missed:
            scored.append((len(missed), index, candidate, missed))
    scored.sort(key=lambda item: (item[0], item[1]))

    lines = []
    for _, _, candidate, missed in scored[:limit]:
        lines.append(f"  - {describe(candidate)}")
        lines.extend(f"      {reason}" for reason in missed)
    return lines


def render_expectation(expected: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_short(value)}" for key, value in expected.items())


def _predicate_holds(predicate: Callable[[Any], Any], value: Any) -> bool:
    try:
        return bool(predicate(value))
    except Exception:
        return False


def _name(predicate: Callable[..., Any]) -> str:
    return getattr(predicate, "__name__", repr(predicate))


def _short(value: Any, width: int = 80) -> str:
    if callable(value) and not isinstance(value, type):
        return _name(value)
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
