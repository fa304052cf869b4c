"""``@template`` rendering: ``{{path}}`` placeholders with JS string coercion.

No HTML escaping; triple braces are replaced first, then double braces, so a
value that itself contains ``{{x}}`` is rendered again by the second pass, as
in the real kit.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.jsvalues import UNDEFINED
from emulator.actions.mapping.paths import get

_TRIPLE = re.compile(r"\{\{\{([^}]+)\}\}\}")
_DOUBLE = re.compile(r"\{\{([^}]+)\}\}")


def _replacer(width: int, data: Any):
    def replace(match: re.Match[str]) -> str:
        expression = match.group(0)[width:-width].strip(jsvalues.JS_WHITESPACE)
        value = get(data, expression)
        if value is UNDEFINED or value is None:
            return ""
        return jsvalues.to_string(value)

    return replace


def render(template: str, data: Any) -> str:
    text = _TRIPLE.sub(_replacer(3, data), template)
    return _DOUBLE.sub(_replacer(2, data), text)


def placeholders(template: str) -> list[str]:
    """The paths a template reads (untrimmed, as ``getFieldValueKeys`` lists them)."""
    return [m.group(1) for m in _DOUBLE.finditer(template)]
