"""Control API of the delivery pipeline, served by the Segment service.

``GET /_emulator/deliveries`` lists deliveries with every attempt (request,
response, duration), filtered and paged by a cursor; ``GET
/_emulator/deliveries/<id>`` shows one. :func:`stats_provider` feeds the counts
per destination and action into the Segment service's ``/_emulator/stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request

from emulator.actions import deliveries
from emulator.store import Database
from emulator.web.errors import APIError
from emulator.web.query import MAX_INTEGER, cursor_arg, integer_arg

MAX_LIMIT = 1000
MAX_ID = MAX_INTEGER

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
        after = cursor_arg(code="invalid_filter")
        limit = integer_arg("limit", 100, 1, MAX_LIMIT, code="invalid_filter")

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


def stats_provider(db: Database) -> Callable[[], dict[str, Any]]:
    """A callable for ``/_emulator/stats``: delivery counts per destination/action."""

    def provide() -> dict[str, Any]:
        return {"deliveries": deliveries.stats(db)}

    return provide
