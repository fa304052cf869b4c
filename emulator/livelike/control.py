"""Control routes of the LiveLike service (``/_emulator/``), for tests and people.

Health, ready, OpenAPI and faults come from the web base; these add reset, the
received-requests query (optionally waiting for a match), stats, the outbox and
the audience-sync log.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from emulator.livelike import models
from emulator.livelike.app import engine
from emulator.web.errors import APIError

blueprint = Blueprint("livelike_control", __name__, url_prefix="/_emulator")

MAX_WAIT_SECONDS = 60.0


def _int(name: str, default: int, minimum: int = 0, maximum: int = 10_000) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise APIError(
            f"Query parameter {name!r} must be an integer from {minimum} to "
            f"{maximum}, got {raw!r}.",
            code="invalid_query",
            path=f"$.query.{name}",
        )
    return value


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
            f"Query parameter 'wait' must be seconds from 0 to {MAX_WAIT_SECONDS:g}, "
            f"got {raw!r}.",
            code="invalid_query",
            path="$.query.wait",
        )
    return value


@blueprint.post("/reset")
def reset():
    models.reset(engine().db)
    return jsonify({"reset": True})


@blueprint.get("/requests")
def received_requests():
    """Requests received, oldest first; ``wait`` long-polls until one matches."""
    db = engine().db
    status = _int("status", 0, 100, 599) if "status" in request.args else None
    after = _int("after", 0, 0, 2**62)
    limit = _int("limit", 100, 1, 1000)
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

    found = db.wait_for(probe, timeout=wait) if wait else probe()
    return jsonify({"requests": found or []})


@blueprint.get("/stats")
def stats():
    return jsonify(models.stats(engine().db))


@blueprint.get("/outbox")
def outbox():
    db = engine().db
    sql = "SELECT * FROM ll_outbox WHERE seq > ?"
    params: list = [_int("after", 0, 0, 2**62)]
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
    params.append(_int("limit", 100, 1, 1000))
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
        (_int("limit", 100, 1, 1000),),
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
