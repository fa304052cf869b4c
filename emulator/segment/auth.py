"""Where a request's write key comes from, and how it is shown in logs.

SDKs send the key as HTTP Basic user name (``base64("key:")``, legacy callers
without the colon), in the body's ``writeKey`` (curl users, analytics.js) or, in
a batch, on each item. The precedence follows Segment's documented order.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from emulator.web.errors import APIError

# Real keys are 32 characters; anything this short is malformed, not unknown.
MIN_WRITE_KEY_LENGTH = 8

# Routes match case-sensitively, but a log line must not show /PROJECTS/<key>.
_KEY_IN_PATH = re.compile(r"(/projects/+)([^/?#\s]+)", re.IGNORECASE)
# "writeKey": "..." in a body preview (JSON text, maybe cut short or broken)
_KEY_IN_JSON = re.compile(r'("write_?key"\s*:\s*")((?:[^"\\]|\\.)*)', re.IGNORECASE)


def mask(write_key: str | None) -> str:
    """Show enough of a write key to recognise it, not enough to reuse it."""
    if not write_key:
        return "-"
    if len(write_key) <= 12:
        return "****"
    return f"{write_key[:4]}****{write_key[-4:]}"


def mask_in_path(path: str) -> str:
    """Mask the key in ``/v1/projects/<writeKey>/settings``."""
    return _KEY_IN_PATH.sub(lambda m: m.group(1) + mask(m.group(2)), path)


def mask_in_text(text: str) -> str:
    """Mask every ``"writeKey": "..."`` of a JSON body shown to users."""
    return _KEY_IN_JSON.sub(lambda m: m.group(1) + mask(m.group(2)), text)


def from_authorization(header: str | None) -> str | None:
    """Return the Basic user name of *header*; None for no or Bearer auth."""
    if not header:
        return None

    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise APIError(
            "The Authorization header is not valid Basic credentials "
            f"(base64 of 'writeKey:'): {header[:40]!r}.",
            code="invalid_authorization",
        ) from None
    return decoded.partition(":")[0] or None


def resolve(header: str | None, body: dict[str, Any], batch: list[Any] | None) -> str:
    """Return the write key of a request: Basic, then body, then first item."""
    key = from_authorization(header)
    where = "$.writeKey"
    if key is None and body.get("writeKey") not in (None, ""):
        key = body["writeKey"]
    if key is None and batch:
        first = batch[0]
        if isinstance(first, dict) and first.get("writeKey") is not None:
            key = first["writeKey"]
            where = "$.batch[0].writeKey"

    if key is None:
        raise APIError(
            "No write key: send it as HTTP Basic user name or as writeKey in the body.",
            code="missing_write_key",
        )
    if not isinstance(key, str):
        raise APIError(
            f"The write key must be a string, not {key!r}.",
            code="invalid_write_key",
            path=where,
        )
    if len(key) < MIN_WRITE_KEY_LENGTH or not key.isprintable() or " " in key:
        raise APIError(
            f"The write key {mask(key)!r} is malformed: write keys are at least "
            f"{MIN_WRITE_KEY_LENGTH} printable characters without spaces.",
            code="invalid_write_key",
        )
    return key
