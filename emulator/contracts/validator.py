"""Fast validation with reports a developer can act on.

A valid message costs one ``is_valid`` pass of a compiled validator; only an invalid
one pays for collecting every error and turning each into a :class:`Violation` that
says which value is wrong, where it is in the data, where the rule is in the schema
(across ``$ref``s, as ``segment/common.json#/$defs/id/type``) and what was expected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import jsonschema_rs

from emulator.contracts import schemas
from emulator.contracts.violations import (
    ADDITIONAL_PROPERTY,
    REQUIRED,
    Violation,
    describe,
    dotted,
    violation_type,
)
from emulator.jsontext import json_path

log = logging.getLogger(__name__)

# Contracts whose instances are Segment messages: ingestion treats a JSON null as
# an absent field, so top-level nulls are dropped before these are validated.
_MESSAGE_PREFIXES = ("segment/", "livelike/source/")
_NOT_MESSAGES = {"segment/batch", "segment/context", "segment/common"}

Locator = Callable[[str], str]


def is_message_contract(contract: str) -> bool:
    name = contract.removesuffix(".json")
    return name.startswith(_MESSAGE_PREFIXES) and name not in _NOT_MESSAGES


def without_nulls(message: Any) -> Any:
    """The message as ingestion sees it: top-level ``null`` fields are absent."""
    if isinstance(message, dict) and None in message.values():
        return {key: value for key, value in message.items() if value is not None}
    return message


def as_ingested(instance: Any, contract: str) -> Any:
    """Drop the nulls ingestion ignores, for message contracts and batch items."""
    if is_message_contract(contract):
        return without_nulls(instance)
    if contract.startswith("segment/batch") and isinstance(instance, dict):
        items = instance.get("batch")
        if isinstance(items, list):
            return {**instance, "batch": [without_nulls(item) for item in items]}
    return instance


def is_valid(instance: Any, contract: str) -> bool:
    """True when *instance* meets *contract*; the cheapest check there is."""
    validator = schemas.compiled(contract.removesuffix(".json"))
    return validator.is_valid(as_ingested(instance, contract))


def validate(instance: Any, contract: str) -> list[Violation]:
    """Every violation of *instance* against the shipped *contract*; [] if valid."""
    validator = schemas.compiled(contract.removesuffix(".json"))
    instance = as_ingested(instance, contract)
    if validator.is_valid(instance):
        return []
    return report(validator.iter_errors(instance))


def validate_with(
    validator: jsonschema_rs.Validator,
    instance: Any,
    *,
    locate: Locator | None = None,
) -> list[Violation]:
    """Validate against a compiled schema that is not a shipped contract (a rule).

    *locate* rewrites an absolute keyword location into the schema path shown to
    people (``plans/video.yaml#/events/...``).
    """
    if validator.is_valid(instance):
        return []
    return report(validator.iter_errors(instance), locate=locate)


def report(
    errors: Iterable[jsonschema_rs.ValidationError],
    *,
    locate: Locator | None = None,
    prefix: tuple[str | int, ...] = (),
) -> list[Violation]:
    """Turn validation errors into violations, one per offending value."""
    found: dict[tuple[str, str, str], Violation] = {}
    for error in errors:
        for violation in _violations(error, locate, prefix):
            key = (violation.path, violation.type, violation.description)
            found.setdefault(key, violation)
    return sorted(found.values(), key=lambda v: (v.path, v.type))


def _location(error: jsonschema_rs.ValidationError, locate: Locator | None) -> str:
    location = error.absolute_keyword_location
    if not location:
        return "#/" + "/".join(str(token) for token in error.schema_path)
    if locate is not None:
        return locate(location)
    return schemas.short_uri(location)


def _drop_reason(location: str | None, keyword: str) -> str | None:
    if not location:
        return None
    parent = schemas.node_at(location.rsplit("/", 1)[0])
    if not isinstance(parent, dict):
        return None
    reason = parent.get("x-drop-reason")
    if isinstance(reason, dict):
        return reason.get(keyword)
    return reason


def _violations(
    error: jsonschema_rs.ValidationError,
    locate: Locator | None,
    prefix: tuple[str | int, ...],
) -> list[Violation]:
    kind = error.kind
    keyword = kind.name
    where = [*prefix, *error.instance_path]
    location = _location(error, locate)
    reason = _drop_reason(error.absolute_keyword_location, keyword)
    common = {"schema_path": location, "reason": reason}

    if keyword == "required":
        name = kind.property
        return [
            Violation(
                type=REQUIRED,
                field=dotted([*where, name]),
                description=f"{dotted([*where, name])} is required",
                path=json_path([*where, name]),
                expected="present",
                parts=(*where, name),
                **common,
            )
        ]

    if keyword == "anyOf":
        branches = schemas.node_at(error.absolute_keyword_location)
        if _only_required(branches):
            names = [name for branch in branches for name in branch["required"]]
            first = [*where, names[0]]
            either = " or ".join(dotted([*where, name]) for name in names)
            return [
                Violation(
                    type=REQUIRED,
                    field=dotted(first),
                    description=f"{either} is required",
                    path=json_path(first),
                    expected=f"{either} present",
                    parts=tuple(first),
                    **common,
                )
            ]

    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        return [
            Violation(
                type=ADDITIONAL_PROPERTY,
                field=dotted([*where, key]),
                description=f"Additional property {key} is not allowed",
                path=json_path([*where, key]),
                expected="no other properties",
                value=error.instance.get(key),
                parts=(*where, key),
                **common,
            )
            for key in kind.unexpected
        ]

    field_name = dotted(where)
    expected_value = _keyword_value(error, keyword)
    description, expected = describe(
        keyword, expected_value, error.instance, field_name
    )
    if keyword in ("anyOf", "oneOf"):
        options = sorted(
            {
                _short_expectation(sub)
                for branch in getattr(kind, "context", None) or []
                for sub in branch
            }
            - {""}
        )
        expected = " | ".join(options) or expected
    return [
        Violation(
            type=violation_type(keyword),
            field=field_name,
            description=description or error.message,
            path=json_path(where),
            expected=expected,
            value=error.instance,
            parts=tuple(where),
            **common,
        )
    ]


def _keyword_value(error: jsonschema_rs.ValidationError, keyword: str) -> Any:
    kind = error.kind
    if keyword == "type":
        return list(kind.types) if len(kind.types) != 1 else kind.types[0]
    if keyword == "enum":
        return kind.options
    if keyword == "const":
        return kind.expected_value
    if keyword == "format":
        return kind.format
    value = schemas.node_at(error.absolute_keyword_location)
    return value if value is not None else getattr(kind, "value", None)


def _short_expectation(error: jsonschema_rs.ValidationError) -> str:
    keyword = error.kind.name
    _, expected = describe(keyword, _keyword_value(error, keyword), error.instance, "")
    return expected


def _only_required(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(branch, dict)
        and "required" in branch
        and set(branch) <= {"required", "properties", "x-drop-reason"}
        for branch in branches
    )
