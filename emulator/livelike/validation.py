"""Validate the bodies Segment's LiveLike destination sends.

The schemas are the contracts in ``contracts/livelike/`` when the contracts
package provides them; the built-in copies below say the same thing (they follow
the destination's field definitions) and keep the service usable on its own.  A
bad body is refused whole with the first problem's reason and JSON path.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from emulator.resources import contracts_dir
from emulator.web.errors import json_path

log = logging.getLogger(__name__)

_OPTIONAL_STRING = {"type": ["string", "null"]}

SEGMENT_EVENT = {
    "type": "object",
    "required": ["event_name", "event_type", "timestamp"],
    "properties": {
        "event_name": {"type": "string", "minLength": 1},
        "event_type": {"type": "string", "minLength": 1},
        "timestamp": {"type": "string", "minLength": 1},
        "segment_user_id": _OPTIONAL_STRING,
        "livelike_profile_id": _OPTIONAL_STRING,
        "anonymous_id": _OPTIONAL_STRING,
        "custom_id": _OPTIONAL_STRING,
        "properties": {"type": ["object", "null"]},
    },
}

SEGMENT_EVENTS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "minItems": 1, "items": SEGMENT_EVENT}},
}

AUDIENCE_SYNC = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["audience_id", "audience_name", "action", "timestamp"],
        "properties": {
            "audience_id": {"type": "string", "minLength": 1},
            "audience_name": {"type": "string"},
            "action": {"type": "boolean"},
            "timestamp": {"type": "string"},
            "user_id": _OPTIONAL_STRING,
            "livelike_profile_id": _OPTIONAL_STRING,
            "custom_id": _OPTIONAL_STRING,
            "email": _OPTIONAL_STRING,
        },
    },
}

BUILT_IN = {
    "segment-events": SEGMENT_EVENTS,
    "segment-audience-sync": AUDIENCE_SYNC,
}


IDENTITY_REQUIRED = (
    "`livelike_profile_id` or `custom_id` or `segment_user_id` is required."
)


class BodyError(ValueError):
    """A body that breaks its contract; ``path`` points at the bad value."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


_validators: dict[str, Draft202012Validator] = {}


def _validator(name: str) -> Draft202012Validator:
    if name not in _validators:
        _validators[name] = Draft202012Validator(
            _schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER
        )
    return _validators[name]


def _schema(name: str) -> dict[str, Any]:
    """The contracts package's schema of *name* if it has one, else ours."""
    try:
        candidate = contracts_dir() / "livelike" / f"{name}.json"
        if candidate.is_file():
            schema = json.loads(candidate.read_text())
            Draft202012Validator.check_schema(schema)
            log.debug("contract loaded name=%s file=%s", name, candidate)
            return schema
    except (OSError, ValueError, Exception) as error:  # a broken file is not ours
        log.warning("contract unusable name=%s error=%s", name, error)
    return BUILT_IN[name]


def check(name: str, body: Any) -> None:
    """Raise :class:`BodyError` for the first problem of *body* against *name*."""
    errors = sorted(
        _validator(name).iter_errors(body),
        key=lambda e: (list(e.absolute_path).__len__(), [str(p) for p in e.path]),
    )
    if errors:
        error = errors[0]
        path = json_path(list(error.absolute_path))
        message = error.message
        if error.validator == "anyOf" and name == "segment-events":
            message = IDENTITY_REQUIRED  # the destination's own wording
        raise BodyError(f"{path}: {message}", path)

    if name == "segment-events":
        for index, event in enumerate(body["events"]):
            _check_profile_id(event.get("livelike_profile_id"), ["events", index])
            _check_timestamp(event["timestamp"], ["events", index])
    else:
        for index, item in enumerate(body):
            _check_profile_id(item.get("livelike_profile_id"), [index])


def _check_profile_id(value: Any, where: list) -> None:
    if not value:
        return
    try:
        uuid.UUID(value)
    except ValueError:
        path = json_path([*where, "livelike_profile_id"])
        raise BodyError(
            f"livelike_profile_id is not a valid UUID: {value!r}.", path
        ) from None


def _check_timestamp(value: str, where: list) -> None:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        path = json_path([*where, "timestamp"])
        raise BodyError(
            f"timestamp is not an ISO-8601 date-time: {value!r}.", path
        ) from None
