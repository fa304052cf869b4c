"""Control API of the delivery pipeline, served by the Segment service.

``GET /_emulator/deliveries`` lists deliveries with every attempt (request,
response, duration), filtered and paged by a cursor; ``GET
/_emulator/deliveries/<id>`` shows one. :func:`stats_provider` feeds the counts
per destination and action into the Segment service's ``/_emulator/stats``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request

from emulator.actions import deliveries
from emulator.store import Database
from emulator.web.errors import APIError
from emulator.web.waits import CURSOR_NAMES

MAX_LIMIT = 1000
MAX_ID = 2**63 - 1  # SQLite's largest integer; no row id is larger
_INTEGER = re.compile(r"-?[0-9]{1,40}")

# query parameter -> column filter of deliveries.list_deliveries
_QUERY_FILTERS = {
    "destination": "destination",
    "action": "action",
    "status": "status",
    "messageId": "message_id",
    "source": "source",
    "subscription": "subscription",
}


def create_blueprint(db: Database) -> Blueprint:
    control = Blueprint("actions_control", __name__, url_prefix="/_emulator")

    @control.get("/deliveries")
    def list_deliveries():
        filters = {
            column: request.args.get(name) for name, column in _QUERY_FILTERS.items()
        }
        status = filters["status"]
        if status is not None and status not in deliveries.STATUSES:
            raise APIError(
                f"Unknown delivery status {status!r}; use one of "
                f"{', '.join(deliveries.STATUSES)}.",
                code="invalid_filter",
            )
        after = _cursor_arg()
        limit = _int_arg("limit", 100, minimum=1, maximum=MAX_LIMIT)

        items = deliveries.list_deliveries(db, after=after, limit=limit, **filters)
        next_cursor = items[-1]["id"] if len(items) == limit else None
        return jsonify({"deliveries": items, "cursor": next_cursor})

    @control.get("/deliveries/<int:delivery_id>")
    def get_delivery(delivery_id: int):
        item = (
            None if delivery_id > MAX_ID else deliveries.get_delivery(db, delivery_id)
        )
        if item is None:
            raise APIError(
                f"No delivery has id {delivery_id}.", status=404, code="not_found"
            )
        return jsonify(item)

    return control


def _cursor_arg() -> int:
    for name in CURSOR_NAMES:
        if name in request.args:
            return _int_arg(name, 0, minimum=0, maximum=MAX_ID)
    return 0


def _int_arg(name: str, default: int, *, minimum: int, maximum: int | None = None):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # not int(): it takes "1_0", " 7", "٣"
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise APIError(
            f"Query parameter {name} must be an integer, not {shown!r}.",
            code="invalid_filter",
        )
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is not None and maximum < MAX_ID:
            bound = f"from {minimum} to {maximum}"
        elif value < minimum:
            bound = f"at least {minimum}"
        else:
            bound = f"at most {maximum} (the largest id)"
        raise APIError(
            f"Query parameter {name} must be {bound}, not {value}.",
            code="invalid_filter",
        )
    return value


def stats_provider(db: Database) -> Callable[[], dict[str, Any]]:
    """A callable for ``/_emulator/stats``: delivery counts per destination/action."""

    def provide() -> dict[str, Any]:
        return {"deliveries": deliveries.stats(db)}

    return provide
