"""Turn a message as a client sent it into the message as Segment stores it.

Segment enriches every message on receipt: the route decides ``type``, the batch
envelope's ``context`` and ``integrations`` are merged in, a missing
``messageId`` is assigned, and the four timestamps are rewritten so that
``timestamp`` is corrected for the client's clock skew::

    timestamp = receivedAt - (sentAt - originalTimestamp)

All timestamps come out as ISO-8601 UTC with milliseconds (``...sssZ``).
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")

# Segment's own ids look like ``api-`` followed by 32 letters and digits.
_ALPHABET = string.ascii_letters + string.digits

# The ISO-8601 *extended* date-time forms Segment's SDKs send (RFC 3339 and the
# looser forms of its own docs: un-padded fields, a space for ``T``, a comma
# before the fraction, ``±HHMM``/``±HH`` offsets, a bare date). Basic forms
# (``20240101T000000Z``), week and ordinal dates and surrounding spaces are
# refused. ``[0-9]``, not ``\d``: other scripts' digits are not dates.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt ]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:[.,]([0-9]+))?)?"
    r"([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


class InvalidTimestamp(ValueError):
    """A timestamp field that is not an ISO-8601 date-time."""

    def __init__(self, field: str, value: Any, in_envelope: bool = False) -> None:
        super().__init__(f"{field} {value!r} is not an ISO-8601 date-time.")
        self.field = field
        self.value = value
        self.in_envelope = in_envelope  # the batch's sentAt, not the message's


def new_message_id() -> str:
    """Return an id in the format Segment assigns (``api-`` + 32 alphanumerics)."""
    # one urandom call instead of 32 secrets.choice calls: this runs per message
    return "api-" + "".join(_ALPHABET[byte % 62] for byte in secrets.token_bytes(32))


def format_timestamp(moment: datetime) -> str:
    """Render *moment* as ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime:
    """Parse an ISO-8601 extended date-time; a value without offset is UTC."""
    if not isinstance(value, str):
        raise InvalidTimestamp(field, value)
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise InvalidTimestamp(field, value)

    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        zone = _zone(offset)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=zone,
        )
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        # day 30 of February, hour 25, an offset of 24 hours or more, year 0001
        # shifted before year 1: none is a date-time Segment can store
        raise InvalidTimestamp(field, value) from None


def _zone(offset: str | None) -> timezone:
    """``Z``, ``+05:30``, ``-0530`` or ``+05``; ValueError beyond ±23:59."""
    if offset is None or offset in ("Z", "z"):
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {offset} out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge *override* into a copy of *base*; the override's values win."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def strip_nulls(message: dict[str, Any]) -> dict[str, Any]:
    """Treat top-level ``null`` fields as absent (Python's SDK sends them)."""
    if None not in message.values():
        return dict(message)
    return {key: value for key, value in message.items() if value is not None}


def normalize(
    item: dict[str, Any],
    *,
    call_type: str | None,
    envelope: dict[str, Any],
    received_at: datetime,
    received_at_text: str,
    client_ip: str | None = None,
    collect_ip: bool = False,
) -> dict[str, Any]:
    """Return the stored form of *item*; raises InvalidTimestamp on a bad date.

    *call_type* is the route's type (single-message routes); for batch items it
    is None and the item's own ``type`` stands. Drop rules run on the result,
    so a message that will be dropped is normalised just the same.
    """
    message = strip_nulls(item)
    message.pop("writeKey", None)
    if call_type is not None:
        message["type"] = call_type

    for key in ("context", "integrations"):
        outer = envelope.get(key)
        if isinstance(outer, dict) and outer:
            inner = message.get(key)
            if inner is None:
                message[key] = deep_merge({}, outer)
            elif isinstance(inner, dict):
                message[key] = deep_merge(outer, inner)

    if collect_ip or _direct(message):
        context = message.get("context")
        if context is None:
            context = message["context"] = {}
        if isinstance(context, dict) and "ip" not in context and client_ip:
            context = message["context"] = dict(context, ip=client_ip)

    if "messageId" not in message:
        message["messageId"] = new_message_id()

    _correct_timestamps(message, envelope, received_at, received_at_text)
    return message


def _direct(message: dict[str, Any]) -> bool:
    context = message.get("context")
    return isinstance(context, dict) and context.get("direct") is True


def _correct_timestamps(
    message: dict[str, Any],
    envelope: dict[str, Any],
    received_at: datetime,
    received_at_text: str,
) -> None:
    """Apply Segment's clock-skew correction in place."""
    original_raw = message.get("timestamp", message.get("originalTimestamp"))
    field = "timestamp" if "timestamp" in message else "originalTimestamp"
    sent_raw = message.get("sentAt", envelope.get("sentAt"))

    # present means not null: 0, "" and false are bad timestamps, not absent ones
    original = (
        parse_timestamp(original_raw, field) if original_raw is not None else None
    )
    try:
        sent = parse_timestamp(sent_raw, "sentAt") if sent_raw is not None else None
    except InvalidTimestamp:
        raise InvalidTimestamp(
            "sentAt", sent_raw, in_envelope="sentAt" not in message
        ) from None

    message["receivedAt"] = received_at_text
    if sent is not None:
        message["sentAt"] = format_timestamp(sent)
    if original is None:
        message["timestamp"] = received_at_text
        message.pop("originalTimestamp", None)
        return

    message["originalTimestamp"] = format_timestamp(original)
    if sent is None:
        message["timestamp"] = message["originalTimestamp"]
    else:
        try:
            corrected = received_at - (sent - original)
        except OverflowError:
            # a device clock thousands of years off: Segment cannot place it either
            raise InvalidTimestamp(field, original_raw) from None
        message["timestamp"] = format_timestamp(corrected)
