"""Control routes of the Segment service under ``/_emulator/``.

They let a test see what the service received: the configured sources, the
stored messages with filters and a cursor, a wait-for form that answers as
soon as a match is committed, counts, and a reset.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from emulator import jsontext
from emulator.segment import messages
from emulator.segment.messages import STATUSES, MessageQuery
from emulator.segment.normalize import InvalidTimestamp, parse_timestamp
from emulator.web.errors import APIError
from emulator.web.query import cursor_arg, integer_arg
from emulator.web.waits import MAX_WAITERS as MAX_WAITERS
from emulator.web.waits import wait_in_a_slot, wait_slots

log = logging.getLogger(__name__)

blueprint = Blueprint("segment_control", __name__, url_prefix="/_emulator")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A waiting request holds one of the server's threads (48, see
# emulator.web.server); the cap keeps a few slow tests from starving ingestion.
MAX_WAIT_SECONDS = 30.0
# Waits beyond MAX_WAITERS at once are 429: ingestion must always keep threads.
WAITERS = wait_slots()

# query parameter -> MessageQuery field
_EXACT = {
    "type": "type",
    "event": "event",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "messageId": "message_id",
    "source": "source",
    "status": "status",
}


def _ingestor():
    return current_app.extensions["seglike.segment"]


@blueprint.get("/sources")
def sources():
    config = _ingestor().config
    counts = messages.source_counts(_ingestor().db)
    return jsonify(
        {
            "sources": [
                {
                    "name": source.name,
                    "write_key": source.write_key,
                    "strict": source.strict,
                    "messages": counts.get(source.name, 0),
                }
                for source in config.sources
            ],
            "unknown_source_messages": counts.get(None, 0),
        }
    )


@blueprint.get("/messages")
def list_messages():
    query = parse_query(request.args)
    found = _find(_ingestor().db, query, _flag("raw"))
    return jsonify(_page(query, found))


@blueprint.get("/messages/wait")
def wait_for_messages():
    """Answer as soon as ``count`` messages match, or 408 after ``timeout``."""
    query = parse_query(request.args)
    timeout = _number(
        "timeout",
        5.0,
        0.0,
        MAX_WAIT_SECONDS,
        why="a wait holds a server thread, so it is capped",
    )
    count = integer_arg("count", 1, 1, MAX_LIMIT)
    query.limit = max(query.limit, count)
    db = _ingestor().db
    with_raw = _flag("raw")

    def probe():
        found = _find(db, query, with_raw)
        return found if len(found) >= count else None

    found = wait_in_a_slot(
        WAITERS,
        db,
        probe,
        timeout,
        instead="read GET /_emulator/messages without waiting",
    )
    if found is None:
        raise APIError(
            f"No {count} message(s) matched within {timeout:g} seconds.",
            status=408,
            code="timeout",
        )
    return jsonify(_page(query, found))


@blueprint.get("/requests")
def list_requests():
    """Every request to a tracking route with its answer; 4xx bodies previewed."""
    status = request.args.get("status")
    limit = integer_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    found = messages.find_requests(
        _ingestor().db,
        route=request.args.get("route"),
        status=integer_arg("status", 0, 100, 599) if status is not None else None,
        source=request.args.get("source"),
        after=cursor_arg(),
        limit=limit,
    )
    following = found[-1]["id"] if found and len(found) >= limit else None
    return jsonify(
        {"items": found, "count": len(found), "cursor": following, "next": following}
    )


@blueprint.get("/stats")
def stats():
    body = messages.stats(_ingestor().db)
    for extra in current_app.extensions.get("seglike.stats", []):
        try:
            body.update(extra())
        except Exception:  # a broken contributor must not hide the counts
            log.exception("stats contributor failed contributor=%r", extra)
    return jsonify(body)


@blueprint.post("/reset")
def reset():
    """Forget everything, or one source (``?source=`` or ``{"source": ...}``)."""
    payload = _reset_body()
    source = request.args.get("source")
    if source is None and isinstance(payload, dict):
        source = payload.get("source")
    if source is not None:
        if not isinstance(source, str) or (
            _ingestor().config.source_by_name(source) is None
        ):
            raise APIError(
                f"No source is named {source!r}; see GET /_emulator/sources.",
                status=404,
                code="unknown_source",
                path="$.source",
            )
    deleted = messages.reset(_ingestor().db, source)
    body = {"reset": True, "source": source, "deleted_messages": deleted}

    # Components served by this server (the pipeline) reset their state too.
    for extra in current_app.extensions.get("seglike.reset", []):
        body.update(extra(source) or {})
    return jsonify(body)


def _find(db, query: MessageQuery, with_raw: bool) -> list:
    try:
        return messages.find_messages(db, query, with_raw)
    except ValueError as error:
        raise APIError(str(error), code="invalid_query", path="where") from None


RESET_KEYS = ("source",)


def _reset_body() -> Any:
    """An unreadable body (or a misspelt key) must not reset everything."""
    data = request.get_data(cache=False)
    if not data.strip():
        return None
    try:
        payload = jsontext.loads(data)
    except jsontext.JSONTextError as error:
        raise APIError(
            f"The reset body is not valid JSON: {error}.",
            code="invalid_json",
            path="$",
        ) from None
    if not isinstance(payload, dict):
        raise APIError(
            'The reset body must be a JSON object such as {"source": "demo-app"}, '
            "or empty to reset everything.",
            code="invalid_body",
            path="$",
        )
    for key in payload:
        if key not in RESET_KEYS:
            raise APIError(
                f"The reset body has an unknown key {key!r}; the only key is "
                '"source" (or send no body to reset everything).',
                code="invalid_body",
                path=jsontext.json_path([key]),
            )
    return payload


def parse_query(args) -> MessageQuery:
    """Build the filters of a messages query; each bad value is a 400."""
    query = MessageQuery()
    for name, attribute in _EXACT.items():
        value = args.get(name)
        if value is not None:
            setattr(query, attribute, value)
    if query.status is not None and query.status not in STATUSES:
        raise APIError(
            f"status {query.status!r} is not one of {', '.join(STATUSES)}.",
            code="invalid_query",
            path="status",
        )

    for clause in args.getlist("where"):
        query.where.append(_where(clause))
    query.since_ms = _time("since")
    query.until_ms = _time("until")
    query.after = cursor_arg()
    query.limit = integer_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return query


def _where(clause: str) -> tuple[list[str | int], str | None]:
    """``properties.plan:pro`` -> (["properties", "plan"], "pro")."""
    path, colon, value = clause.partition(":")
    parts: list[str | int] = []
    for part in path.split("."):
        if not part:
            raise APIError(
                f"where {clause!r} needs a dotted path such as properties.plan:pro.",
                code="invalid_query",
                path="where",
            )
        if '"' in part or "\\" in part:
            raise APIError(
                f"where {clause!r}: path segments cannot contain quotes or "
                "backslashes.",
                code="invalid_query",
                path="where",
            )
        index = part.isascii() and part.isdigit() and len(part) < 10
        parts.append(int(part) if index else part)
    return parts, value if colon else None


def _time(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    digits = value.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) <= 15:
        return int(value)
    try:
        return int(parse_timestamp(value, name).timestamp() * 1000)
    except InvalidTimestamp:
        raise APIError(
            f"{name} {value!r} is neither an ISO-8601 date-time nor epoch "
            "milliseconds.",
            code="invalid_query",
            path=name,
        ) from None


def _number(
    name: str,
    default: float,
    low: float,
    high: float | None,
    why: str = "",
) -> float:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (number >= low and (high is None or number <= high)):
        bounds = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        because = f" ({why})" if why else ""
        raise APIError(
            f"{name} must be a number {bounds}{because}, not {value!r}.",
            code="invalid_query",
            path=name,
        )
    return number


def _flag(name: str) -> bool:
    value = request.args.get(name, "false").lower()
    if value not in ("1", "true", "yes", "0", "false", "no"):
        raise APIError(
            f"{name} must be true or false, not {value!r}.",
            code="invalid_query",
            path=name,
        )
    return value in ("1", "true", "yes")


def _page(query: MessageQuery, found: list) -> dict[str, Any]:
    items = [stored.as_item(with_raw=_flag("raw")) for stored in found]
    full = len(found) >= query.limit
    following = found[-1].seq if full and found else None
    # "cursor" is the name deliveries use; "next" stays for older callers
    return {"items": items, "count": len(items), "cursor": following, "next": following}
