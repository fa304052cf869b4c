"""``@liquid``: Liquid templates with the real kit's restrictions (python-liquid).

Segment renders with liquidjs and disables loops, includes and a list of
filters; the emulator disables the same ones with the same messages and makes
numbers and objects print the way JavaScript prints them.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError
from liquid.tag import Tag

from emulator.actions import jsvalues
from emulator.actions.mapping.errors import MappingError

log = logging.getLogger(__name__)

MAX_TEMPLATE_LENGTH = 1000

DISABLED_TAGS = ("case", "for", "include", "layout", "render", "tablerow")
DISABLED_FILTERS = (
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
)


class _Disabled(Exception):
    """A disabled tag or filter; carries the real kit's message."""


class JSNumber(float):
    """A number that prints as JavaScript prints it (``3`` not ``3.0``)."""

    def __str__(self) -> str:
        return jsvalues.number_to_string(float(self))


class JSObject(dict):
    """A plain object that prints as ``[object Object]``, as in liquidjs."""

    def __str__(self) -> str:
        return "[object Object]"


def _disabled_tag(tag_name: str) -> type[Tag]:
    class DisabledTag(Tag):
        name = tag_name
        block = False

        def parse(self, stream: Any) -> Any:
            raise _Disabled(f'tag "{tag_name}" is disabled')

    return DisabledTag


def _disabled_filter(filter_name: str):
    def disabled(*_args: Any, **_kwargs: Any) -> Any:
        raise _Disabled(f'filter "{filter_name}" is disabled')

    return disabled


def _arithmetic(operation):
    def apply(left: Any, right: Any = None) -> JSNumber:
        return JSNumber(operation(jsvalues.to_number(left), jsvalues.to_number(right)))

    return apply


def _divide(a: float, b: float) -> float:
    if b == 0:
        return (
            math.nan
            if a == 0 or math.isnan(a)
            else math.copysign(math.inf, a) * (math.copysign(1, b))
        )
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _environment() -> Environment:
    # liquidjs ignores unknown filters (strictFilters is off by default).
    env = Environment(strict_filters=False)
    for tag_name in DISABLED_TAGS:
        env.add_tag(_disabled_tag(tag_name))
    for filter_name in DISABLED_FILTERS:
        env.add_filter(filter_name, _disabled_filter(filter_name))
    # liquidjs does JS arithmetic: 7 | divided_by: 2 is 3.5, not 3.
    env.add_filter("plus", _arithmetic(lambda a, b: a + b))
    env.add_filter("minus", _arithmetic(lambda a, b: a - b))
    env.add_filter("times", _arithmetic(lambda a, b: a * b))
    env.add_filter("divided_by", _arithmetic(_divide))
    env.add_filter("modulo", _arithmetic(_modulo))
    return env


_ENV = _environment()


def _js_data(value: Any) -> Any:
    if isinstance(value, dict):
        return JSObject({key: _js_data(value[key]) for key in jsvalues.js_keys(value)})
    if isinstance(value, list | tuple):
        return [_js_data(item) for item in value]
    if isinstance(value, float):
        return JSNumber(value)
    return value


def evaluate(template: Any, payload: Any) -> str:
    """Render ``template`` against ``payload``; the real kit's errors otherwise."""
    if not isinstance(template, str):
        raise MappingError("liquid template value must be a string")
    if template == "":
        return ""
    if jsvalues.string_length(template) > MAX_TEMPLATE_LENGTH:
        raise MappingError(
            f"liquid template values are limited to {MAX_TEMPLATE_LENGTH} characters"
        )

    data = _js_data(payload) if isinstance(payload, dict) else {}
    # TODO(liquid): python-liquid, not liquidjs, renders the template; filters
    # other than arithmetic (dates, rounding) may format differently.
    try:
        return _ENV.from_string(template).render(data)
    except _Disabled as exc:
        raise MappingError(str(exc)) from None
    except LiquidError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, _Disabled):
            raise MappingError(str(cause)) from None
        log.debug("liquid failed template=%r error=%s", template, exc)
        raise MappingError(str(exc.message)) from None
    except Exception as exc:  # a filter tripping over odd data must not crash
        log.debug("liquid raised template=%r error=%r", template, exc)
        raise MappingError(f"liquid template failed: {exc}") from None
