"""Evaluation of a parsed subscription against one event (``validate`` upstream)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.fql.parser import Condition, Group
from emulator.actions.jsvalues import UNDEFINED


class EvaluationError(Exception):
    """Where the real evaluator throws a TypeError instead of answering."""


_TOP_LEVEL = {"event-type": "type", "event": "event", "name": "name"}
_TOP_LEVEL["userId"] = "userId"
_NESTED = {"event-property": "properties", "event-trait": "traits"}
_NESTED["event-context"] = "context"
_PATH_PIECE = re.compile(r"[^\[.\]]+")


def get_path(obj: Any, path: str | None) -> Any:
    """The subscriptions package's own ``get``: split on ``.``, ``[`` and ``]``."""
    if not path:
        return UNDEFINED
    pieces = _PATH_PIECE.findall(path)
    if not pieces:
        raise EvaluationError("Cannot read properties of null (reading 'reduce')")
    return jsvalues.walk(obj, pieces)


def _member(event: Any, key: str) -> Any:
    if event is None:
        raise EvaluationError(f"Cannot read properties of null (reading '{key}')")
    if not jsvalues.truthy(event):
        return UNDEFINED
    return jsvalues.get_property(event, key)


def field_of(condition: Condition) -> str:
    """The event field a condition reads, in FQL spelling."""
    if condition.type in _TOP_LEVEL:
        return _TOP_LEVEL[condition.type]
    return f"{_NESTED[condition.type]}.{condition.name}"


def actual_value(condition: Condition, event: Any) -> Any:
    if condition.type in _TOP_LEVEL:
        return _member(event, _TOP_LEVEL[condition.type])
    if condition.type in _NESTED:
        return get_path(_member(event, _NESTED[condition.type]), condition.name)
    return UNDEFINED


def compare(actual: Any, operator: str, expected: Any) -> bool:
    """``validateValue``: strict types, no string-to-number coercion of the event."""
    number = jsvalues.is_number(actual)
    text = isinstance(actual, str)

    if operator == "=":
        return text and actual == jsvalues.to_string(expected)
    if operator == "!=":
        return not (text and actual == jsvalues.to_string(expected))
    if operator in ("number_equals", "number_not_equals"):
        if not number:
            return False
        equal = jsvalues.as_float(actual) == jsvalues.to_number(expected)
        return equal if operator == "number_equals" else not equal
    if operator in ("<", "<=", ">", ">="):
        if not number:
            return False
        left, right = jsvalues.as_float(actual), jsvalues.to_number(expected)
        if math.isnan(left) or math.isnan(right):
            return False
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[operator]
    if operator in _STRING_TESTS:
        if not text:
            return False
        negate, test = _STRING_TESTS[operator]
        result = test(actual, jsvalues.to_string(expected))
        return not result if negate else result
    if operator == "exists":
        return actual is not UNDEFINED and actual is not None
    if operator == "not_exists":
        return actual is UNDEFINED or actual is None
    if operator == "is_true":
        return actual is True
    if operator == "is_false":
        return actual is False
    return False


_STRING_TESTS = {
    "contains": (False, lambda a, v: v in a),
    "not_contains": (True, lambda a, v: v in a),
    "starts_with": (False, str.startswith),
    "not_starts_with": (True, str.startswith),
    "ends_with": (False, str.endswith),
    "not_ends_with": (True, str.endswith),
}


@dataclass
class Trace:
    """One evaluated node, for ``explain``."""

    node: Condition | Group | None
    result: bool
    actual: Any = UNDEFINED
    children: list[Trace] = field(default_factory=list)
    skipped: int = 0


def evaluate(group: Group, event: Any, trace: list[Trace] | None = None) -> bool:
    """``validate(ast, event)``; ``trace`` collects what was looked at."""
    if event is UNDEFINED:
        return False
    return _group(group, event, trace)


def _group(group: Group, event: Any, trace: list[Trace] | None) -> bool:
    children: list[Trace] | None = [] if trace is not None else None
    result = False
    evaluated = 0

    if group.operator in ("and", "or"):
        want_all = group.operator == "and"
        result = want_all
        for child in group.children:
            evaluated += 1
            value = _node(child, event, children)
            if want_all and not value:
                result = False
                break
            if not want_all and value:
                result = True
                break

    if trace is not None:
        skipped = len(group.children) - evaluated
        trace.append(Trace(group, result, children=children or [], skipped=skipped))
    return result


def _node(node: Condition | Group | None, event: Any, trace: list[Trace] | None):
    if node is None:
        raise EvaluationError("Cannot read properties of undefined (reading 'type')")
    if isinstance(node, Group):
        return _group(node, event, trace)

    actual = actual_value(node, event)
    result = compare(actual, node.operator, node.value)
    if trace is not None:
        trace.append(Trace(node, result, actual))
    return result
