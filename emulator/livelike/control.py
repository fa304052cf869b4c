"""Control routes of the LiveLike service (``/_emulator/``), for tests and people.

Health, ready, OpenAPI and faults come from the web base; these add reset, the
received-requests query (optionally waiting for a match), stats, the outbox and
the audience-sync log.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from emulator import jsontext
from emulator.livelike import models
from emulator.livelike.app import engine
from emulator.web.errors import APIError
from emulator.web.query import cursor_arg, integer_arg
from emulator.web.waits import MAX_WAITERS as MAX_WAITERS
from emulator.web.waits import wait_in_a_slot, wait_slots

log = logging.getLogger(__name__)

blueprint = Blueprint("livelike_control", __name__, url_prefix="/_emulator")

# A wait holds one of the server's 48 threads: capped like Segment's, and
# waits beyond MAX_WAITERS at once are 429 so that the API keeps its threads.
MAX_WAIT_SECONDS = 30.0
WAITERS = wait_slots()
MAX_CURSOR = 2**62
QUERY = "$.query."  # where LiveLike's query errors point


def _choice(name: str, allowed: tuple[str, ...]) -> None:
    raw = request.args.get(name)
    if raw is not None and raw not in allowed:
        raise APIError(
            f"Query parameter {name!r} must be one of {list(allowed)}, got {raw!r}.",
            code="invalid_query",
            path=f"$.query.{name}",
        )


def _wait_seconds() -> float:
    raw = request.args.get("wait", "0")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise APIError(
            f"Query parameter 'wait' must be seconds from 0 to {MAX_WAIT_SECONDS:g} "
            f"(a wait holds a server thread, so it is capped), got {raw!r}.",
            code="invalid_query",
            path="$.query.wait",
        )
    return value


def _reset_body() -> None:
    """An empty body or a JSON object; anything else is refused, not ignored."""
    data = request.get_data(cache=False)
    if not data.strip():
        return
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
            "The reset body must be a JSON object, or empty, not "
            f"{type(payload).__name__} {str(payload)[:40]!r}.",
            code="invalid_json",
            path="$",
        )


@blueprint.post("/reset")
def reset():
    _reset_body()
    models.reset(engine().db)
    return jsonify({"reset": True})


@blueprint.get("/requests")
def received_requests():
    """Requests received, oldest first; ``wait`` long-polls until one matches."""
    db = engine().db
    status = (
        integer_arg("status", 0, 100, 599, path_prefix=QUERY)
        if "status" in request.args
        else None
    )
    after = cursor_arg(MAX_CURSOR, path_prefix=QUERY)
    limit = integer_arg("limit", 100, 1, 1000, path_prefix=QUERY)
    wait = _wait_seconds()

    def probe():
        return models.received_requests(
            db,
            after=after,
            limit=limit,
            path_contains=request.args.get("path"),
            status=status,
            client_id=request.args.get("client_id"),
        )

    if not wait:
        return jsonify({"requests": probe()})
    found = wait_in_a_slot(WAITERS, db, probe, wait, instead="ask without wait")
    return jsonify({"requests": found or []})


@blueprint.get("/stats")
def stats():
    return jsonify(models.stats(engine().db))


@blueprint.get("/outbox")
def outbox():
    db = engine().db
    sql = "SELECT * FROM ll_outbox WHERE seq > ?"
    params: list = [cursor_arg(MAX_CURSOR, path_prefix=QUERY)]
    _choice("channel", ("segment", "webhook"))
    _choice("delivered", ("true", "false"))
    _choice("state", tuple(STATES))
    for arg in ("channel", "event", "client_id"):
        if request.args.get(arg) is not None:
            sql += f" AND {arg} = ?"
            params.append(request.args[arg])
    delivered = request.args.get("delivered")
    if delivered is not None:
        sql += " AND delivered_at IS " + ("NOT NULL" if delivered == "true" else "NULL")
    if request.args.get("state") is not None:
        sql += f" AND {STATES[request.args['state']]}"
    sql += " ORDER BY seq LIMIT ?"
    params.append(integer_arg("limit", 100, 1, 1000, path_prefix=QUERY))
    rows = db.query(sql, tuple(params))
    return jsonify(
        {
            "outbox": [
                {
                    "seq": row["seq"],
                    "client_id": row["client_id"],
                    "channel": row["channel"],
                    "event": row["event"],
                    "payload": models.loads(row["payload"]),
                    "created_at": row["created_at"],
                    "attempts": row["attempts"],
                    "state": _state(row),
                    "delivered_at": row["delivered_at"],
                    "failed_at": row["failed_at"],
                    "last_status": row["last_status"],
                    "last_error": row["last_error"],
                }
                for row in rows
            ]
        }
    )


# pending rows are still sent; failed ones were refused for good (a 4xx other
# than 408/429, or too large to send) and show the status and reason why
STATES = {
    "pending": "delivered_at IS NULL AND failed_at IS NULL",
    "delivered": "delivered_at IS NOT NULL",
    "failed": "failed_at IS NOT NULL",
}


def _state(row) -> str:
    if row["delivered_at"] is not None:
        return "delivered"
    return "failed" if row["failed_at"] is not None else "pending"


@blueprint.get("/audience-log")
def audience_log():
    rows = engine().db.query(
        "SELECT * FROM ll_audience_log ORDER BY seq LIMIT ?",
        (integer_arg("limit", 100, 1, 1000, path_prefix=QUERY),),
    )
    return jsonify(
        {
            "items": [
                {
                    "seq": row["seq"],
                    "client_id": row["client_id"],
                    "audience_id": row["audience_id"],
                    "audience_name": row["audience_name"],
                    "action": bool(row["action"]),
                    "profile_id": row["profile_id"],
                    "outcome": row["outcome"],
                    "created_at": row["created_at"],
                }
                for row in rows
            ]
        }
    )
