"""Preview (dry run): the requests a source's destinations would make for events.

Nothing is sent and nothing is stored. Each event goes through the same routing
and ``perform`` as delivery, so the preview is what delivery would send on its
first attempt, or the error the action would raise instead.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator.actions.destination import DestinationError
from emulator.actions.routing import FAILED, PENDING, effective_settings, route
from emulator.config import StackConfig

log = logging.getLogger(__name__)


class PreviewError(ValueError):
    """The preview cannot run (an unknown source)."""


def preview(
    events: list[Any],
    config: StackConfig,
    source: str | None = None,
    *,
    livelike_url: str | None = None,
) -> list[dict[str, Any]]:
    """One result per event: ``{"messageId", "requests", "error"}``.

    *source* defaults to the first source of the configuration (the default
    source); *livelike_url* to the ``baseUrl`` setting, else the LiveLike port of
    ``seglike up``.
    """
    name = _source_name(config, source)
    destinations = config.destinations.get(name, [])
    return [_preview_one(event, destinations, livelike_url) for event in events]


def _source_name(config: StackConfig, source: str | None) -> str:
    names = [s.name for s in config.segment.sources]
    if source is None:
        if not names:
            raise PreviewError("The configuration has no sources to preview.")
        return names[0]
    if source not in names:
        raise PreviewError(
            f"Unknown source {source!r}; the configuration has: {', '.join(names)}."
        )
    return source


def _preview_one(
    event: Any, destinations: list, livelike_url: str | None
) -> dict[str, Any]:
    if not isinstance(event, dict):
        return {
            "messageId": None,
            "requests": [],
            "error": {
                "message": f"An event must be a JSON object, not {event!r}.",
                "status": 400,
            },
        }

    requests: list[dict[str, Any]] = []
    error: dict[str, Any] | None = None
    for destination in destinations:
        settings = effective_settings(destination, livelike_url)
        try:
            matched = route(event, destination, settings)
        except Exception as crash:  # an emulator bug: say so in this event's line
            log.exception("routing crashed in preview")
            if error is None:
                error = {
                    "message": f"The emulator failed to route this event: {crash!r}",
                    "status": 500,
                }
            continue
        for routed in matched:
            problem = routed.error
            if routed.status == PENDING:
                action = destination.definition.actions[routed.subscription.action]
                try:
                    requests.append(
                        action.perform([routed.payload], settings).as_dict()
                    )
                except DestinationError as refused:
                    problem = refused
                except Exception as error:  # an emulator bug: say so, keep going
                    log.exception("perform crashed in preview")
                    problem = DestinationError(
                        f"The emulator failed to build the request: {error!r}",
                        status=500,
                    )
            if routed.status in (PENDING, FAILED) and problem and error is None:
                error = {"message": problem.message, "status": problem.status}

    return {"messageId": event.get("messageId"), "requests": requests, "error": error}
