"""Violations in the shape Segment Protocols reports them.

Segment records a violation as ``type`` / ``field`` / ``description`` (its
descriptions follow the templates of the Go library gojsonschema, e.g. ``Invalid
type. Expected: integer, given: number``). We add where the value is in the data
(``path``, a JSON path) and in the schema (``schema_path``), the offending value and
what was expected, so a report starts from the value a developer has to fix.

Types: ``Required``, ``Invalid Type``, ``Invalid Value`` (enum, const),
``Invalid Format`` (format, pattern), ``Out of Range`` (minimum, maximum,
multipleOf), ``Invalid Length`` (min/max length, items, properties),
``Additional Property`` (additionalProperties, unevaluatedProperties,
propertyNames), ``Schema Mismatch`` (anyOf, oneOf, not, contains, uniqueItems), and
from tracking plans ``Unplanned Event`` and ``Unplanned Property``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

REQUIRED = "Required"
INVALID_TYPE = "Invalid Type"
INVALID_VALUE = "Invalid Value"
INVALID_FORMAT = "Invalid Format"
OUT_OF_RANGE = "Out of Range"
INVALID_LENGTH = "Invalid Length"
ADDITIONAL_PROPERTY = "Additional Property"
SCHEMA_MISMATCH = "Schema Mismatch"
UNPLANNED_EVENT = "Unplanned Event"
UNPLANNED_PROPERTY = "Unplanned Property"

_MISSING = object()


@dataclass
class Violation:
    """One way a value breaks a contract or a tracking plan."""

    type: str
    field: str  # Segment's dotted field: "properties.products.0.price", "(root)"
    description: str
    path: str = "$"  # JSON path in the data: "$.properties.products[0].price"
    schema_path: str = ""  # "segment/track.json#/properties/event/type"
    expected: str = ""
    value: Any = field(default=_MISSING, repr=False)
    reason: str | None = None  # the ingestion drop reason code, when one applies
    parts: tuple[str | int, ...] = field(default=(), repr=False, compare=False)

    @property
    def missing(self) -> bool:
        return self.value is _MISSING

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: Segment's three keys first, then ours."""
        data = asdict(self)
        del data["parts"]
        if self.missing:
            del data["value"]
        if self.reason is None:
            del data["reason"]
        return data

    def segment_dict(self) -> dict[str, str]:
        """Only Segment's keys, as stored in ``context.protocols.violations``."""
        return {"type": self.type, "field": self.field, "description": self.description}

    def __str__(self) -> str:
        shown = "(missing)" if self.missing else _show(self.value)
        text = f"{shown} at {self.path}: {self.description}"
        if self.type == SCHEMA_MISMATCH and self.expected:
            text += f"; expected {self.expected}"
        if self.schema_path:
            text += f" [{self.schema_path}]"
        return text


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dotted(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Segment's field notation: ``properties.products.0.price``; ``(root)``."""
    return ".".join(str(part) for part in parts) if parts else "(root)"


def json_type(value: Any) -> str:
    """The JSON type name gojsonschema gives a value (whole numbers are integers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _allowed(values: Any) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


_TYPES = {
    "required": REQUIRED,
    "dependentRequired": REQUIRED,
    "type": INVALID_TYPE,
    "enum": INVALID_VALUE,
    "const": INVALID_VALUE,
    "format": INVALID_FORMAT,
    "pattern": INVALID_FORMAT,
    "minimum": OUT_OF_RANGE,
    "maximum": OUT_OF_RANGE,
    "exclusiveMinimum": OUT_OF_RANGE,
    "exclusiveMaximum": OUT_OF_RANGE,
    "multipleOf": OUT_OF_RANGE,
    "minLength": INVALID_LENGTH,
    "maxLength": INVALID_LENGTH,
    "minItems": INVALID_LENGTH,
    "maxItems": INVALID_LENGTH,
    "minProperties": INVALID_LENGTH,
    "maxProperties": INVALID_LENGTH,
    "additionalProperties": ADDITIONAL_PROPERTY,
    "unevaluatedProperties": ADDITIONAL_PROPERTY,
    "propertyNames": ADDITIONAL_PROPERTY,
}


def describe(
    keyword: str, expected: Any, value: Any, field_name: str
) -> tuple[str, str]:
    """The gojsonschema-like description and the "expected" text of one failure."""
    if keyword == "type":
        want = "/".join(expected) if isinstance(expected, list) else str(expected)
        given = json_type(value)
        return f"Invalid type. Expected: {want}, given: {given}", want
    if keyword == "enum":
        allowed = _allowed(expected)
        return (
            f"{field_name} must be one of the following: {allowed}",
            f"one of {allowed}",
        )
    if keyword == "const":
        allowed = _allowed([expected])
        return f"{field_name} does not match: {allowed}", allowed
    if keyword == "pattern":
        return f"Does not match pattern '{expected}'", f"a match of /{expected}/"
    if keyword == "format":
        return f"Does not match format '{expected}'", f"a {expected}"
    if keyword == "minLength":
        text = f"String length must be greater than or equal to {expected}"
        return text, f"at least {expected} characters"
    if keyword == "maxLength":
        text = f"String length must be less than or equal to {expected}"
        return text, f"at most {expected} characters"
    if keyword == "minItems":
        return f"Array must have at least {expected} items", f">= {expected} items"
    if keyword == "maxItems":
        return f"Array must have at most {expected} items", f"<= {expected} items"
    if keyword == "minProperties":
        return f"Must have at least {expected} properties", f">= {expected} properties"
    if keyword == "maxProperties":
        return f"Must have at most {expected} properties", f"<= {expected} properties"
    if keyword == "minimum":
        return f"Must be greater than or equal to {expected}", f">= {expected}"
    if keyword == "exclusiveMinimum":
        return f"Must be greater than {expected}", f"> {expected}"
    if keyword == "maximum":
        return f"Must be less than or equal to {expected}", f"<= {expected}"
    if keyword == "exclusiveMaximum":
        return f"Must be less than {expected}", f"< {expected}"
    if keyword == "multipleOf":
        return f"Must be a multiple of {expected}", f"a multiple of {expected}"
    if keyword == "anyOf":
        return "Must validate at least one schema (anyOf)", "one of the schemas"
    if keyword == "oneOf":
        return "Must validate one and only one schema (oneOf)", "exactly one schema"
    if keyword == "not":
        return "Must not validate the schema (not)", "not the schema"
    if keyword == "contains":
        return "At least one of the items must match", "a matching item"
    if keyword == "uniqueItems":
        return "Array items must be unique", "unique items"
    return "", ""


def violation_type(keyword: str) -> str:
    return _TYPES.get(keyword, SCHEMA_MISMATCH)
