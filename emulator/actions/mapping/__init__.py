"""Segment's mapping kit: turn an event into an action's payload.

``transform(mapping, data)`` validates the mapping with the real kit's
messages, resolves every directive against the event and removes what
resolved to undefined, reproducing the JavaScript semantics the real kit
relies on.  ``validate(mapping)`` checks a mapping before use.
"""

from __future__ import annotations

from typing import Any

from emulator.actions.jsvalues import UNDEFINED, string_units, type_of
from emulator.actions.mapping import directives
from emulator.actions.mapping.cleanup import remove_undefined, to_json
from emulator.actions.mapping.errors import MappingError
from emulator.actions.mapping.validation import DIRECTIVE_NAMES, check

__all__ = [
    "DIRECTIVE_NAMES",
    "UNDEFINED",
    "MappingError",
    "resolve_raw",
    "transform",
    "transform_batch",
    "validate",
]

ROOT_DIRECTIVE_KEY = "__segment_internal_directive"


def _spread(mapping: Any) -> dict:
    """``{...mapping}``: arrays and strings become index-keyed objects."""
    if isinstance(mapping, dict):
        return dict(mapping)
    if isinstance(mapping, list | tuple):
        return {str(index): item for index, item in enumerate(mapping)}
    if isinstance(mapping, str):
        return {str(index): unit for index, unit in enumerate(string_units(mapping))}
    return {}


def mapping_to_process(mapping: Any) -> Any:
    """Apply the root directive key: other top-level keys become its ``mapping``."""
    if mapping is None or mapping is UNDEFINED:
        raise MappingError("Cannot convert undefined or null to object", "TypeError")
    spread = _spread(mapping)
    if not isinstance(mapping, dict) or ROOT_DIRECTIVE_KEY not in mapping:
        return spread

    customer_mappings = {k: v for k, v in mapping.items() if k != ROOT_DIRECTIVE_KEY}
    root = mapping[ROOT_DIRECTIVE_KEY]
    if root is None:
        raise MappingError("Cannot convert undefined or null to object", "TypeError")
    root_object = _spread(root)
    if len(root_object) > 1:
        raise MappingError("The root mapping must only have a single directive object")

    first = next(iter(root_object), None)
    directive = root_object[first] if first is not None else UNDEFINED
    if not isinstance(directive, dict | list):
        raise MappingError("The root directive must be an object")
    if isinstance(directive, dict):
        # The real kit assigns by mutation; the emulator copies instead.
        directive = {**directive, "mapping": customer_mappings}
    if isinstance(root, list | tuple):
        return [directive]
    return {first: directive}


def validate(mapping: Any) -> None:
    """Raise ``MappingError`` (the real messages) if the mapping is invalid."""
    check(mapping_to_process(mapping))


def resolve_raw(mapping: Any, data: Any) -> Any:
    """``transform`` keeping JS ``undefined`` (``UNDEFINED``) in arrays and at the root.

    The destination kit's empty-value removal treats an undefined array item
    differently from ``null``; callers that need that difference use this.
    """
    kind = type_of(data)
    if kind != "object":
        raise MappingError(f"data must be an object, got {kind}")

    to_process = mapping_to_process(mapping)
    try:
        check(to_process)
        return remove_undefined(directives.resolve(to_process, data))
    except RecursionError:
        raise MappingError("Maximum call stack size exceeded", "RangeError") from None


directives.nested_transform = resolve_raw


def transform(mapping: Any, data: Any) -> Any:
    """The payload the real kit builds from ``data`` with ``mapping``.

    Always a dict for object mappings; ``None`` where the real kit returns
    undefined (a root directive that resolves to nothing).
    """
    return to_json(resolve_raw(mapping, data))


def transform_batch(mapping: Any, data: Any) -> list:
    """``transformBatch``: validate once, resolve each element."""
    kind = type_of(data)
    if kind != "array":
        raise MappingError(f"data must be an array, got {kind}")

    to_process = mapping_to_process(mapping)
    try:
        check(to_process)
        resolved = [directives.resolve(to_process, item) for item in data]
        return to_json(remove_undefined(resolved))
    except RecursionError:
        raise MappingError("Maximum call stack size exceeded", "RangeError") from None
