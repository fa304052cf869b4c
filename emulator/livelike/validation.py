"""Validate the bodies Segment's LiveLike destination sends.

The contracts package validates against the shipped ``contracts/livelike/``
schemas (one implementation for the emulator, the tests and the CLI).  A bad
body is refused whole with the first problem's reason and JSON path, then the
few rules a schema cannot say: profile ids are UUIDs, and a custom id fits
LiveLike's profile ``custom_id`` (at most 255 characters) so that no profile,
and no source event about it, carries an id LiveLike itself could not store.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from emulator.contracts import validate_message
from emulator.contracts.violations import ADDITIONAL_PROPERTY, REQUIRED, Violation
from emulator.livelike.config import MAX_CUSTOM_ID_CHARS
from emulator.web.errors import json_path

log = logging.getLogger(__name__)

CONTRACTS = {
    "segment-events": "livelike/segment-events",
    "segment-audience-sync": "livelike/segment-audience-sync",
}

IDENTITY_REQUIRED = (
    "`livelike_profile_id` or `custom_id` or `segment_user_id` is required."
)

# LiveLike's profile custom_id is a string of at most 255 characters; the keys
# that become one (segment_user_id and user_id name the profile's custom id).
CUSTOM_ID_KEYS = {
    "segment-events": ("custom_id", "segment_user_id"),
    "segment-audience-sync": ("custom_id", "user_id"),
}


class BodyError(ValueError):
    """A body that breaks its contract; ``path`` points at the bad value."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def check(name: str, body: Any) -> None:
    """Raise :class:`BodyError` for the first problem of *body* against *name*."""
    violations = validate_message(body, contract=CONTRACTS[name])
    if violations:
        raise _body_error(violations)

    items = body["events"] if name == "segment-events" else body
    where = ["events"] if name == "segment-events" else []
    for index, item in enumerate(items):
        _check_profile_id(item.get("livelike_profile_id"), [*where, index])
        for key in CUSTOM_ID_KEYS[name]:
            _check_custom_id(item.get(key), [*where, index, key])


def _body_error(violations: list[Violation]) -> BodyError:
    """The shallowest violation, worded for a person; the identity rule as ours."""
    first = min(violations, key=lambda v: len(v.parts))
    if first.type in (REQUIRED, ADDITIONAL_PROPERTY):
        path = json_path(list(first.parts[:-1]))  # the object lacking or having it
    else:
        path = first.path
    if first.type == REQUIRED and first.schema_path.endswith("/anyOf"):
        return BodyError(f"{path}: {IDENTITY_REQUIRED}", path)
    return BodyError(f"{path}: {first.description}.", path)


def _check_profile_id(value: Any, where: list) -> None:
    if not value:
        return
    try:
        uuid.UUID(value)
    except ValueError:
        path = json_path([*where, "livelike_profile_id"])
        raise BodyError(
            f"{path}: livelike_profile_id is not a valid UUID: {value[:80]!r}.", path
        ) from None


def _check_custom_id(value: Any, where: list) -> None:
    if not isinstance(value, str) or len(value) <= MAX_CUSTOM_ID_CHARS:
        return
    path = json_path(where)
    raise BodyError(
        f"{path}: a LiveLike custom id is at most {MAX_CUSTOM_ID_CHARS} characters,"
        f" got {len(value)} ({value[:40]!r}...).",
        path,
    )
