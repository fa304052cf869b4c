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


def too_large(size: int | None, limit: int, inflated: bool = False) -> APIError:
    """The 400 for a body over *limit*; *size* is None when reading stopped early."""
    body = "The request body, once inflated," if inflated else "The request body"
    told = f" ({size} bytes)" if size is not None else ""
    return APIError(
        f"{body} is larger than the limit of {limit} bytes{told}.",
        code="request_too_large",
    )


def read_limited(stream: IO[bytes], content_length: int | None, limit: int) -> bytes:
    """Read at most *limit* bytes of *stream*; more is a 400, as Segment does."""
    if content_length is not None and content_length > limit:
        raise too_large(content_length, limit)

    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(None, limit)
    return data


def inflate(data: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding: gzip`` (or deflate) without exceeding *limit*.

    A gzip body may hold several members (``cat a.gz b.gz``), which HTTP
    clients and Go's reader inflate as one stream; anything after the last
    member that is not another member is refused rather than ignored.
    """
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise APIError(
            f"Content-Encoding {encoding!r} is not supported; use gzip or none.",
            status=415,
            code="unsupported_encoding",
        )

    gzip = "gzip" in encoding
    wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
    parts: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            part = inflater.decompress(rest, limit + 1 - size)
        except zlib.error as error:
            raise APIError(
                f"The body is not valid {encoding} data: {error}.",
                code="invalid_encoding",
            ) from None
        size += len(part)
        parts.append(part)
        if size > limit:
            raise too_large(None, limit, inflated=True)
        if not inflater.eof:
            raise APIError(
                f"The {encoding} body is truncated.", code="invalid_encoding"
            )

        rest = inflater.unused_data
        if not rest:
            return b"".join(parts)
        if not (gzip and rest.startswith(_GZIP_MAGIC)):
            raise APIError(
                f"The {encoding} body has {len(rest)} bytes of trailing data after "
                "its end.",
                code="invalid_encoding",
            )


_GZIP_MAGIC = b"\x1f\x8b"


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
