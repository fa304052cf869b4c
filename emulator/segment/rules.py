"""The rules by which Segment accepts a message with 200 and then drops it.

The Tracking API answers 200 to almost everything; messages that break these
rules disappear later and show up only in Delivery Overview under a discard
code. The emulator keeps them, with the same codes, so a test can see why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.segment.normalize import CALL_TYPES
from emulator.web.errors import json_path

MAX_MESSAGE_ID_LENGTH = 100

# code -> what it means, for the README, the OpenAPI document and error texts.
REASONS: dict[str, str] = {
    "no_user_anon_id": "The message has neither userId nor anonymousId.",
    "id_not_string": "An id field is not a non-empty string.",
    "event_not_defined": "A track message has no event name.",
    "event_not_string": "A track message's event is not a string.",
    "properties_not_object": "properties is not a JSON object.",
    "traits_not_object": "traits is not a JSON object.",
    "name_not_string": "A page or screen name is not a non-empty string.",
    "category_not_string": "A page or screen category is not a non-empty string.",
    "context_not_object": "context is not a JSON object.",
    "integrations_not_object": "integrations is not a JSON object.",
    "group_id_not_defined": "A group message has no groupId.",
    "previous_id_not_defined": "An alias message has no previousId.",
    "message_id_not_string": "messageId is not a non-empty string.",
    "message_id_too_long": "messageId is longer than 100 characters.",
    "invalid_timestamp": "A timestamp field is not an ISO-8601 date-time.",
    "invalid_type": "A batch item has no valid type.",
    "message_not_object": "A batch item is not a JSON object.",
    "unknown_source": "The write key belongs to no configured source.",
    "empty_batch": "The batch array is empty.",
    "batch_too_many_events": "The batch holds more messages than allowed.",
    "duplicate": "The messageId was already accepted within the dedupe window.",
}


@dataclass(frozen=True)
class Drop:
    """One reason to drop a message, with the JSON path of the culprit."""

    code: str
    message: str
    path: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "path": self.path}


def check(message: dict[str, Any], where: list[str | int]) -> list[Drop]:
    """Return every drop rule *message* (normalised) breaks; empty = keep it."""
    drops: list[Drop] = []

    def drop(code: str, text: str, *field: str | int) -> None:
        drops.append(Drop(code, text, json_path([*where, *field])))

    call_type = message.get("type")
    if call_type not in CALL_TYPES:
        drop(
            "invalid_type",
            f"type {call_type!r} is not one of {', '.join(CALL_TYPES)}.",
            "type",
        )
        return drops

    for key in ("context", "integrations"):
        if key in message and not isinstance(message[key], dict):
            drop(f"{key}_not_object", f"{key} must be an object, not {message[key]!r}.")

    _check_identity(message, drop)
    _check_message_id(message, drop)

    if call_type == "track":
        event = message.get("event")
        if event is None or event == "":
            drop("event_not_defined", "A track message needs an event name.", "event")
        elif not isinstance(event, str):
            drop("event_not_string", f"event must be a string, not {event!r}.", "event")

    if "properties" in message and not isinstance(message["properties"], dict):
        drop(
            "properties_not_object",
            f"properties must be an object, not {message['properties']!r}.",
            "properties",
        )
    if "traits" in message and not isinstance(message["traits"], dict):
        drop(
            "traits_not_object",
            f"traits must be an object, not {message['traits']!r}.",
            "traits",
        )

    if call_type in ("page", "screen"):
        for key in ("name", "category"):
            value = message.get(key)
            if key in message and (not isinstance(value, str) or not value):
                drop(
                    f"{key}_not_string",
                    f"{key} must be a non-empty string, not {value!r}.",
                    key,
                )

    if call_type == "group":
        _check_required_id(message, "groupId", "group_id_not_defined", drop)
    if call_type == "alias":
        _check_required_id(message, "previousId", "previous_id_not_defined", drop)
    return drops


def _check_identity(message: dict[str, Any], drop) -> None:
    present = [key for key in ("userId", "anonymousId") if key in message]
    if not present:
        drop(
            "no_user_anon_id",
            "The message needs a userId or an anonymousId.",
        )
    for key in present:
        value = message[key]
        if not isinstance(value, str) or not value:
            drop(
                "id_not_string",
                f"{key} must be a non-empty string, not {value!r}.",
                key,
            )


def _check_required_id(message: dict[str, Any], key: str, code: str, drop) -> None:
    value = message.get(key)
    if value is None:
        drop(code, f"A {message['type']} message needs a {key}.", key)
    elif not isinstance(value, str) or not value:
        drop("id_not_string", f"{key} must be a non-empty string, not {value!r}.", key)


def _check_message_id(message: dict[str, Any], drop) -> None:
    value = message.get("messageId")
    if not isinstance(value, str) or not value:
        drop(
            "message_id_not_string",
            f"messageId must be a non-empty string, not {value!r}.",
            "messageId",
        )
    elif len(value) > MAX_MESSAGE_ID_LENGTH:
        drop(
            "message_id_too_long",
            f"messageId {value[:20]!r}... has {len(value)} characters; "
            f"the limit is {MAX_MESSAGE_ID_LENGTH}.",
            "messageId",
        )
