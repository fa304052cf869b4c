"""Resolution of a mapping against a payload, one handler per directive.

Each handler keeps the real kit's checks and messages, including its JS
truthiness tests on raw options (``else: false`` drops the key, ``value: 0``
in ``@json`` is an error) and its ``undefined`` results, which the caller
removes at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.jsvalues import UNDEFINED, truthy, type_of
from emulator.actions.mapping import templates
from emulator.actions.mapping.errors import MappingError
from emulator.actions.mapping.paths import get, strip_root
from emulator.actions.mapping.validation import (
    MAX_PATTERN_LENGTH,
    MAX_REPLACEMENT_LENGTH,
    is_directive,
)

Handler = Callable[[Any, Any], Any]
_HANDLERS: dict[str, Handler] = {}

# Set by the package to the full transform (validation, resolution, removal),
# which @transform runs on its "apply" mapping.
nested_transform: Callable[[Any, Any], Any] | None = None


def _directive(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        return handler

    return register


def _opt(options: dict, key: str) -> Any:
    return options.get(key, UNDEFINED)


def resolve(mapping: Any, payload: Any) -> Any:
    """Resolve every directive in ``mapping``; raw values come back unchanged."""
    if not isinstance(mapping, dict | list | tuple):
        return mapping

    if is_directive(mapping):
        return run_directive(mapping, payload)

    if isinstance(mapping, list | tuple):
        return [resolve(item, payload) for item in mapping]

    return {key: resolve(mapping[key], payload) for key in jsvalues.js_keys(mapping)}


def run_directive(directive: dict, payload: Any) -> Any:
    name = next(key for key in directive if key.startswith("@"))
    handler = _HANDLERS.get(name)
    if handler is None:
        raise MappingError(f"{name} is not a valid directive, got undefined")
    return handler(directive[name], payload)


def _string_directive(name: str, handler: Callable[[str, Any], Any]) -> None:
    def run(option: Any, payload: Any) -> Any:
        text = resolve(option, payload)
        if not isinstance(text, str):
            raise MappingError(f"{name}: expected string, got {type_of(text)}")
        return handler(text, payload)

    _HANDLERS[name] = run


@_directive("@if")
def _if(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError('@if requires an object with an "exists" key')

    exists, blank = _opt(options, "exists"), _opt(options, "blank")
    if not truthy(exists) and not truthy(blank):
        raise MappingError('@if requires an "exists" key or a "blank" key')

    if exists is not UNDEFINED:
        value = resolve(exists, payload)
        condition = value is not UNDEFINED and value is not None
    else:
        value = resolve(blank, payload)
        condition = (
            value is not UNDEFINED
            and value is not None
            and not jsvalues.loosely_equals_empty_string(value)
        )

    then, otherwise = _opt(options, "then"), _opt(options, "else")
    if condition and then is not UNDEFINED:
        return resolve(then, payload)
    if not condition and truthy(otherwise):
        return resolve(otherwise, payload)
    return UNDEFINED


@_directive("@case")
def _case(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError('@case requires an object with a "operator" key')

    operator = _opt(options, "operator")
    if not truthy(operator):
        raise MappingError('@case requires a "operator" key')

    if not truthy(_opt(options, "value")):
        return UNDEFINED
    value = resolve(options["value"], payload)
    if not isinstance(value, str):
        return value
    if operator == "lower":
        return value.lower()
    if operator == "upper":
        return value.upper()
    raise MappingError('operator key should have a value of "lower" or "upper"')


_DOLLAR = re.compile(r"\$([$&`']|\d{1,2}|<)")


def _js_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """``String.prototype.replace`` substitutions: ``$$ $& $` $'``; no groups."""

    def substitute(match: re.Match[str]) -> str:
        subject = match.string

        def expand(token: re.Match[str]) -> str:
            code = token.group(1)
            if code == "$":
                return "$"
            if code == "&":
                return match.group(0)
            if code == "`":
                return subject[: match.start()]
            if code == "'":
                return subject[match.end() :]
            return token.group(0)

        return _DOLLAR.sub(expand, replacement)

    return substitute


def _perform_replace(
    value: str, pattern: str, replacement: str, ignorecase: bool, global_: bool
) -> str:
    if jsvalues.string_length(pattern) > MAX_PATTERN_LENGTH:
        raise MappingError(
            f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters'
        )
    if jsvalues.string_length(replacement) > MAX_REPLACEMENT_LENGTH:
        raise MappingError(
            '@replace requires a "replacement" less than '
            f"{MAX_REPLACEMENT_LENGTH} characters"
        )

    # The real kit escapes the pattern, so it always matches literally.
    regex = re.compile(re.escape(pattern), re.IGNORECASE if ignorecase else 0)
    return regex.sub(_js_replacement(replacement), value, count=0 if global_ else 1)


@_directive("@replace")
def _replace(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError('@replace requires an object with a "pattern" key')
    if not truthy(_opt(options, "pattern")):
        raise MappingError('@replace requires a "pattern" key')

    def defaulted(key: str, default: Any) -> Any:
        value = _opt(options, key)
        return default if value is None or value is UNDEFINED else value

    pattern = options["pattern"]
    replacement = defaulted("replacement", "")
    pattern2 = _opt(options, "pattern2")
    replacement2 = _opt(options, "replacement2")
    if truthy(pattern2) and (replacement2 is None or replacement2 is UNDEFINED):
        replacement2 = ""
    ignorecase = defaulted("ignorecase", False)
    global_ = defaulted("global", True)

    if not truthy(_opt(options, "value")):
        return UNDEFINED
    value = resolve(options["value"], payload)
    if isinstance(value, bool) or jsvalues.is_number(value):
        value = jsvalues.to_string(value)

    if not (
        isinstance(value, str)
        and isinstance(pattern, str)
        and isinstance(replacement, str)
        and isinstance(ignorecase, bool)
        and isinstance(global_, bool)
    ):
        return ""

    result = _perform_replace(value, pattern, replacement, ignorecase, global_)
    if truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str):
        result = _perform_replace(result, pattern2, replacement2, ignorecase, global_)
    return result


@_directive("@arrayPath")
def _array_path(options: Any, payload: Any) -> Any:
    if not isinstance(options, list | tuple):
        raise MappingError(f"@arrayPath expected array, got {type_of(options)}")

    path = options[0] if len(options) > 0 else UNDEFINED
    shape = options[1] if len(options) > 1 else UNDEFINED
    if isinstance(path, str):
        root = get(payload, strip_root(path))
    else:
        root = resolve(path, payload)

    if type_of(root) in ("object", "array") and isinstance(shape, dict) and shape:
        items = root if isinstance(root, list | tuple) else [root]
        return [resolve(shape, item) for item in items]
    return root


_string_directive("@path", lambda path, payload: get(payload, strip_root(path)))
_string_directive("@template", lambda text, payload: templates.render(text, payload))


@_directive("@literal")
def _literal(value: Any, payload: Any) -> Any:
    return resolve(value, payload)


def flatten(value: Any, prefix: str, separator: str, omit_arrays: bool) -> dict:
    """``flattenObject``: empty containers add no keys; a primitive gives
    ``{prefix: value}``."""
    if isinstance(value, dict):
        entries = [(key, value[key]) for key in jsvalues.js_keys(value)]
    elif isinstance(value, list | tuple) and not omit_arrays:
        entries = [(str(index), item) for index, item in enumerate(value)]
    else:
        return {prefix: value}

    result: dict = {}
    for key, item in entries:
        new_key = f"{prefix}{separator}{key}" if prefix else key
        result.update(flatten(item, new_key, separator, omit_arrays))
    return result


@_directive("@flatten")
def _flatten(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError('@flatten requires an object with a "separator" key')
    if not truthy(_opt(options, "separator")):
        raise MappingError('@flatten requires a "separator" key')

    separator = resolve(options["separator"], payload)
    if not isinstance(separator, str):
        raise MappingError("@flatten requires a string separator")

    value = resolve(_opt(options, "value"), payload)
    return flatten(value, "", separator, truthy(_opt(options, "omitArrays")))


@_directive("@json")
def _json(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError('@json requires an object with a "value" key')
    if not truthy(_opt(options, "mode")):
        raise MappingError('@json requires a "mode" key')
    if not truthy(_opt(options, "value")):
        raise MappingError('@json requires a "value" key')

    value = resolve(options["value"], payload)
    mode = options["mode"]
    if mode == "encode":
        return jsvalues.stringify(value)
    if mode == "decode":
        if isinstance(value, str):
            try:
                return jsvalues.parse_json(value)
            except (ValueError, RecursionError):
                return value
        return value
    return UNDEFINED


def _assign(target: dict, source: Any) -> None:
    """One source of ``Object.assign``: undefined values are copied too."""
    if source is None or source is UNDEFINED:
        return
    if isinstance(source, dict):
        for key in jsvalues.js_keys(source):
            target[key] = source[key]
    elif isinstance(source, list | tuple):
        for index, item in enumerate(source):
            target[str(index)] = item
    elif isinstance(source, str):
        for index, unit in enumerate(jsvalues.string_units(source)):
            target[str(index)] = unit


@_directive("@merge")
def _merge(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError(
            '@merge requires an object with an "objects" key and a "direction" key'
        )
    if not truthy(_opt(options, "direction")):
        raise MappingError('@merge requires a "direction" key')
    direction = resolve(options["direction"], payload)

    objects = _opt(options, "objects")
    if not truthy(objects):
        raise MappingError('@merge requires a "objects" key')
    if not isinstance(objects, list | tuple):
        kind = "object" if isinstance(objects, dict) else type_of(objects)
        raise MappingError(f"@merge: expected opts.array, got {kind}")

    resolved = [resolve(item, payload) for item in objects]
    if direction == "left":
        resolved.reverse()

    merged: dict = {}
    for source in resolved:
        _assign(merged, source)
    return merged


@_directive("@transform")
def _transform(options: Any, payload: Any) -> Any:
    if not isinstance(options, dict):
        raise MappingError(
            '@transform requires an object with an "apply" key and a "mapping" key'
        )
    if not truthy(_opt(options, "mapping")):
        raise MappingError('@transform requires a "mapping" key')
    if not truthy(_opt(options, "apply")):
        raise MappingError('@transform requires a "apply" key')
    if not isinstance(options["apply"], dict):
        raise MappingError('@transform "apply" key should be an object')

    assert nested_transform is not None
    new_payload = nested_transform(options["apply"], payload)
    return resolve(options["mapping"], new_payload)


def _clean_nulls(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    cleaned = dict(value)
    for key, item in value.items():
        if item is None:
            cleaned[key] = UNDEFINED
        elif isinstance(item, dict):
            cleaned[key] = _clean_nulls(item)
    return cleaned


@_directive("@excludeWhenNull")
def _exclude_when_null(value: Any, payload: Any) -> Any:
    resolved = resolve(value, payload)
    if resolved is None:
        return UNDEFINED
    return _clean_nulls(resolved)


@_directive("@liquid")
def _liquid(value: Any, payload: Any) -> Any:
    from emulator.actions.mapping import liquid

    return liquid.evaluate(value, payload)
