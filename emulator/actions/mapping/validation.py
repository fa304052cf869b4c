"""Static validation of a mapping before it is resolved (the kit's ``validate.ts``).

Every message has the real form ``/<path> <text>.`` so that a user sees the
same complaint the real service gives.  Problems in the keys of one object are
collected and reported together; array contents are not validated at all,
exactly like the real kit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.mapping.errors import MappingError

MAX_PATTERN_LENGTH = 10
MAX_REPLACEMENT_LENGTH = 10

Stack = list[str]
Validator = Callable[[Any, Stack], None]


class _Invalid(Exception):
    """One problem (JS ``ValidationError``)."""

    def __init__(self, text: str, stack: Stack) -> None:
        self.message = f"/{'/'.join(stack)} {text}."
        super().__init__(self.message)


class _Several(Exception):
    """Problems of several keys (JS ``AggregateError``), already flattened."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors: list[_Invalid] = []
        for error in errors:
            if isinstance(error, _Several):
                self.errors.extend(error.errors)
            else:
                assert isinstance(error, _Invalid)
                self.errors.append(error)
        super().__init__("\n".join(e.message for e in self.errors))


def _article(type_name: str) -> str:
    return "an" if type_name[:1] in ("a", "e", "i", "o", "u") else "a"


def _a(type_name: str) -> str:
    return f"{_article(type_name)} {type_name}"


def type_or_directive(value: Any) -> str:
    kind = jsvalues.type_of(value)
    if kind == "object" and any(str(k).startswith("@") for k in value):
        return "directive"
    return kind


def is_directive(value: Any) -> bool:
    """The run-time definition: an ``@`` key and nothing else but ``_metadata``."""
    if not isinstance(value, dict):
        return False
    keys = list(value)
    if not any(k.startswith("@") for k in keys):
        return False
    return all(k.startswith("@") or k == "_metadata" for k in keys)


def _validate_directive(obj: Any, stack: Stack) -> None:
    if not is_directive(obj) and not isinstance(obj, dict):
        kind = jsvalues.type_of(obj)
        raise _Invalid(f"should be a directive object but it is {_a(kind)}", stack)

    keys = list(obj)
    directive_keys = [k for k in keys if k.startswith("@")]
    if len(directive_keys) > 1:
        raise _Invalid(
            "should only have one @-prefixed key but it has "
            f"{len(directive_keys)} keys",
            stack,
        )

    other_keys = [k for k in keys if not k.startswith("@") and k != "_metadata"]
    if other_keys:
        raise _Invalid(
            f"should only have one @-prefixed key but it has {len(keys)} keys", stack
        )

    name = directive_keys[0]
    validator = _DIRECTIVES.get(name)
    if validator is None:
        raise _Invalid(f"has an invalid directive: {name}", stack)
    validator(obj[name], [*stack, name])


def _directive_or_raw(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind not in ("object", "array", "boolean", "string", "number", "null"):
        raise _Invalid(
            f"should be a mapping directive or a JSON value but it is {_a(kind)}",
            stack,
        )


def _directive_or_string(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind != "string":
        raise _Invalid(
            f"should be a string or a mapping directive but it is {_a(kind)}", stack
        )


def _directive_or_object(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind == "object":
        _object(value, stack)
    else:
        # "a object" is the real kit's wording.
        raise _Invalid(
            f"should be a object or a mapping directive but it is {_a(kind)}", stack
        )


def _string(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind != "string":
        raise _Invalid(f"should be a string but it is {_a(kind)}", stack)


def _boolean(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind != "boolean":
        raise _Invalid(f"should be a boolean but it is {_a(kind)}", stack)


def _string_length(minimum: int, maximum: int) -> Validator:
    def check(value: Any, stack: Stack) -> None:
        if isinstance(value, str):
            length = jsvalues.string_length(value)
            if length < minimum:
                raise _Invalid(
                    f"should be a string of length {minimum} or greater", stack
                )
            if length > maximum:
                raise _Invalid(f"should be a string of length {maximum} or less", stack)

    return check


def _one_of(*allowed: str) -> Validator:
    def check(value: Any, stack: Stack) -> None:
        _string(value, stack)
        if value.lower() not in allowed:
            shown = json.dumps(value, ensure_ascii=False)
            raise _Invalid(
                f"should be one of {', '.join(allowed)} but it is {shown}", stack
            )

    return check


def _chain(*validators: Validator) -> Validator:
    def check(value: Any, stack: Stack) -> None:
        for validator in validators:
            validator(value, stack)

    return check


def _object(value: Any, stack: Stack) -> None:
    kind = type_or_directive(value)
    if kind != "object":
        raise _Invalid(f"should be an object but it is {_a(kind)}", stack)

    errors: list[Exception] = []
    for key in jsvalues.js_keys(value):
        try:
            validate_value(value[key], [*stack, key])
        except (_Invalid, _Several) as exc:
            errors.append(exc)
    if errors:
        raise _Several(errors)


def _array(value: Any, stack: Stack) -> None:
    kind = jsvalues.type_of(value)
    if kind != "array":
        raise _Invalid(f"should be an array but it is {_a(kind)}", stack)


Fields = dict[str, tuple[bool, Validator]]


def _object_with_fields(value: Any, fields: Fields, stack: Stack) -> None:
    _object(value, stack)

    errors: list[Exception] = []
    for name, (required, validator) in fields.items():
        try:
            if name not in value:
                if required:
                    raise _Invalid(
                        f"should have field {json.dumps(name)} but it doesn't", stack
                    )
                continue
            validator(value[name], [*stack, name])
        except (_Invalid, _Several) as exc:
            errors.append(exc)
    if errors:
        raise _Several(errors)


def _if(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "exists": (False, _directive_or_raw),
        "then": (False, _directive_or_raw),
        "else": (False, _directive_or_raw),
    }
    _object_with_fields(value, fields, stack)


def _case(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "operator": (False, _string),
        "value": (False, _directive_or_string),
    }
    _object_with_fields(value, fields, stack)


def _replace(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "pattern": (True, _chain(_string, _string_length(1, MAX_PATTERN_LENGTH))),
        "replacement": (
            False,
            _chain(_string, _string_length(0, MAX_REPLACEMENT_LENGTH)),
        ),
        "value": (True, _directive_or_string),
        "ignorecase": (False, _boolean),
        "global": (False, _boolean),
    }
    _object_with_fields(value, fields, stack)


def _array_path(value: Any, stack: Stack) -> None:
    _array(value, stack)
    _directive_or_string(value[0] if len(value) > 0 else jsvalues.UNDEFINED, stack)
    validate_value(value[1] if len(value) > 1 else jsvalues.UNDEFINED, stack)


def _json(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "value": (True, _directive_or_raw),
        "mode": (True, _one_of("encode", "decode")),
    }
    _object_with_fields(value, fields, stack)


def _flatten(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "separator": (False, _string),
        "value": (True, _directive_or_raw),
    }
    _object_with_fields(value, fields, stack)


def _merge(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "direction": (False, _one_of("left", "right")),
        "objects": (True, _array),
    }
    _object_with_fields(value, fields, stack)
    for item in value["objects"]:
        # The real kit checks the elements with an empty path: "/ should be...".
        _directive_or_object(item, [])


def _transform(value: Any, stack: Stack) -> None:
    fields: Fields = {
        "apply": (True, _directive_or_object),
        "mapping": (True, _directive_or_object),
    }
    _object_with_fields(value, fields, stack)


_DIRECTIVES: dict[str, Validator] = {
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@path": _directive_or_string,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@template": _directive_or_string,
    "@literal": _directive_or_raw,
    "@transform": _transform,
    "@excludeWhenNull": _directive_or_raw,
    "@liquid": _string,
}

DIRECTIVE_NAMES = frozenset(_DIRECTIVES)


def validate_value(mapping: Any, stack: Stack | None = None) -> None:
    stack = [] if stack is None else stack
    kind = type_or_directive(mapping)
    if kind == "directive":
        _validate_directive(mapping, stack)
    elif kind == "object":
        _object(mapping, stack)
    elif kind == "array":
        _array(mapping, stack)


def check(mapping: Any) -> None:
    """Raise ``MappingError`` with the real messages if ``mapping`` is invalid."""
    try:
        validate_value(mapping)
    except _Invalid as exc:
        raise MappingError(exc.message, "ValidationError") from None
    except _Several as exc:
        messages = [error.message for error in exc.errors]
        raise MappingError(messages, "AggregateError") from None
