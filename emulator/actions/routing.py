"""Which actions of a source's destinations one event goes to, and with what.

This is ``Destination.onEvent`` up to (not including) the HTTP request: the
``integrations`` object, settings validation, each subscription's FQL, then the
action's mapping, empty-value removal and schema validation. The pipeline and
the preview both route through here, so a preview shows what delivery does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from emulator.actions.config import DestinationConfig, Subscription
from emulator.actions.destination import DestinationError

log = logging.getLogger(__name__)

PENDING = "pending"
FAILED = "failed"
FILTERED = "filtered"


@dataclass
class Routed:
    """One subscription an event matched, and what came of its payload."""

    destination: DestinationConfig
    subscription: Subscription
    status: str
    payload: dict[str, Any] | None = None
    error: DestinationError | None = None
    reason: str | None = None


def effective_settings(
    destination: DestinationConfig, livelike_url: str | None
) -> dict[str, Any]:
    """The configured settings, with ``baseUrl`` defaulting to the stack's LiveLike."""
    from emulator.actions.livelike_cloud import API_PREFIX

    settings = dict(destination.settings)
    if livelike_url and not settings.get("baseUrl"):
        settings["baseUrl"] = livelike_url.rstrip("/") + API_PREFIX
    return settings


def route(
    event: dict[str, Any], destination: DestinationConfig, settings: dict[str, Any]
) -> list[Routed]:
    """Route *event* to the subscriptions of one destination that it matches."""
    definition = destination.definition
    matched = [s for s in destination.subscriptions if _matches(s, event)]
    if not matched or not destination.enabled:
        return []

    wanted, why = definition.wanted_by(event)
    if not wanted:
        return [Routed(destination, s, FILTERED, reason=why) for s in matched]

    try:
        definition.validate_settings(settings)
    except DestinationError as error:
        return [Routed(destination, s, FAILED, error=error) for s in matched]

    return [_payload(destination, s, event) for s in matched]


def _matches(subscription: Subscription, event: dict[str, Any]) -> bool:
    from emulator.actions import fql

    try:
        return bool(fql.matches(subscription.subscribe, event))
    except fql.FqlError as error:
        log.warning("subscription invalid name=%s error=%s", subscription.name, error)
        return False


def _payload(
    destination: DestinationConfig, subscription: Subscription, event: dict[str, Any]
) -> Routed:
    action = destination.definition.actions[subscription.action]
    batched = action.supports_batch and subscription.batch_size > 1
    try:
        payload = action.payload(event, subscription.mapping, batch=batched)
    except DestinationError as error:
        return Routed(destination, subscription, FAILED, error=error)
    except Exception as error:  # a bug must not stall the cursor behind one event
        log.exception("mapping crashed subscription=%s", subscription.name)
        bug = DestinationError(
            f"The emulator failed to map this event: {error!r}", code="EMULATOR_ERROR"
        )
        return Routed(destination, subscription, FAILED, error=bug)
    return Routed(destination, subscription, PENDING, payload=payload)
