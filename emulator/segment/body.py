"""Reading a Tracking API body: size limits, gzip, JSON under any content type.

analytics.js posts JSON as ``text/plain`` (to skip a CORS preflight) and some
callers send no content type at all, so the body is parsed as JSON whatever
the header says. Limits apply to the inflated bytes, and inflation stops at the
limit so a small gzip bomb cannot fill the memory.
"""

from __future__ import annotations

import zlib
from typing import IO, Any

from emulator import jsontext
from emulator.web.errors import APIError


def too_large(size: int | str, limit: int) -> APIError:
    return APIError(
        f"The request body is larger than {limit} bytes ({size} bytes).",
        code="request_too_large",
    )


def read_limited(stream: IO[bytes], content_length: int | None, limit: int) -> bytes:
    """Read at most *limit* bytes of *stream*; more is a 400, as Segment does."""
    if content_length is not None and content_length > limit:
        raise too_large(content_length, limit)

    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(f"more than {limit}", limit)
    return data


def inflate(data: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding: gzip`` (or deflate) without exceeding *limit*."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise APIError(
            f"Content-Encoding {encoding!r} is not supported; use gzip or none.",
            status=415,
            code="unsupported_encoding",
        )

    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise APIError(
            f"The body is not valid {encoding} data: {error}.",
            code="invalid_encoding",
        ) from None
    if len(inflated) > limit:
        raise too_large(f"more than {limit} once inflated", limit)
    if not inflater.eof:
        raise APIError(f"The {encoding} body is truncated.", code="invalid_encoding")
    return inflated


def parse_json(data: bytes) -> Any:
    """Parse a UTF-8 JSON body; the error says where it broke."""
    if not data.strip():
        raise APIError(
            "The request body is empty; send a JSON object.", code="invalid_json"
        )
    try:
        return jsontext.loads(data)
    except jsontext.JSONTextError as error:
        raise APIError(
            f"The request body is not valid JSON: {error}.", code="invalid_json"
        ) from None
