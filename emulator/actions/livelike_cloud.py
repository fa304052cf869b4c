"""Segment's "LiveLike Cloud Mode (Actions)" destination, field for field.

Definitions follow ``segmentio/action-destinations``
``packages/destination-actions/src/destinations/livelike-cloud``: the settings,
the two actions (``trackEvent`` with its three presets, ``syncToUserGroup``),
their default mappings, the identity check and the Engage audience rule. The
only addition is the ``baseUrl`` setting, so the destination can point at the
local LiveLike emulator instead of ``cf-blast.livelikecdn.com``.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator.actions.destination import (
    Action,
    Destination,
    Field,
    IntegrationError,
    OutgoingRequest,
    PayloadValidationError,
    Preset,
    build_headers,
    default_mapping,
)

log = logging.getLogger(__name__)

SLUG = "livelike-cloud"
REAL_BASE_URL = "https://cf-blast.livelikecdn.com/api/v1"
DEFAULT_LIVELIKE_URL = "http://127.0.0.1:8089"
API_PREFIX = "/api/v1"

IDENTITY_REQUIRED = "`livelike_profile_id` or `custom_id` or `user_id` is required."
ACTION_NOT_BOOLEAN = (
    "Action must be a boolean value (true for add, false for remove). If connecting "
    "to an Engage Audience, leave this field empty and ensure the audience_id and "
    "audience_name field mappings are left to their default values."
)


def _if_exists(path: str, fallback: str) -> dict[str, Any]:
    return {
        "@if": {
            "exists": {"@path": path},
            "then": {"@path": path},
            "else": {"@path": fallback},
        }
    }  # noqa: E501


SETTINGS_FIELDS = {
    "clientId": Field(
        "Client ID", description="Your LiveLike Application Client ID.", required=True
    ),
    "producerToken": Field(
        "Producer Token",
        type="password",
        description="Your LiveLike Producer token.",
        required=True,
    ),
    # Emulator only: where the LiveLike API lives (default: the stack's emulator).
    "baseUrl": Field("Base URL", description="LiveLike API base URL, up to /api/v1."),
}


TRACK_EVENT_FIELDS = {
    "event_name": Field(
        "Event Name",
        required=True,
        default={"@path": "$.event"},
        description="The name of the event being performed.",
    ),
    "event_type": Field(
        "Event Type",
        required=True,
        default={"@path": "$.type"},
        description="The type of event (track/screen/page)",
    ),
    "segment_user_id": Field(
        "User ID",
        default={"@path": "$.userId"},
        description="A unique identifier for a user.",
    ),
    "livelike_profile_id": Field(
        "LiveLike User Profile ID",
        default={"@path": "$.properties.livelike_profile_id"},
        description="The unique LiveLike user profile ID.",
    ),
    "anonymous_id": Field(
        "Anonymous ID",
        default={"@path": "$.anonymousId"},
        hidden=True,
        description="Anonymous ID",
    ),
    "custom_id": Field(
        "User Custom ID",
        default={"@path": "$.properties.custom_id"},
        description="The custom id of a LiveLike user profile.",
    ),
    "timestamp": Field(
        "Timestamp",
        required=True,
        default={"@path": "$.timestamp"},
        description="The date and time when the event occurred in ISO-8601 format.",
    ),
    "properties": Field(
        "Properties",
        type="object",
        default={"@path": "$.properties"},
        description="Properties of the event",
    ),
}


SYNC_FIELDS = {
    "audience_id": Field(
        "Audience ID",
        required=True,
        default={"@path": "$.context.personas.computation_id"},
        description="The Segment audience id.",
    ),
    "audience_name": Field(
        "Audience Name",
        required=True,
        default={"@path": "$.context.personas.computation_key"},
        description="The Segment audience key (computation key).",
    ),
    "action": Field(
        "Action",
        type="boolean",
        description="true adds the user to the group, false removes it.",
    ),
    "timestamp": Field(
        "Timestamp",
        required=True,
        default={"@path": "$.timestamp"},
        description="The time of the event.",
    ),
    "additional_user_traits": Field(
        "Additional user traits",
        type="object",
        additional_properties=True,
        properties={
            "livelike_profile_id": Field("LiveLike User Profile ID"),
            "email": Field("Email"),
        },
        default={
            "livelike_profile_id": _if_exists(
                "$.traits.livelike_profile_id", "$.properties.livelike_profile_id"
            ),
            "email": _if_exists("$.traits.email", "$.properties.email"),
        },
        description="Extra user fields sent at the top level of each item.",
    ),
    "traits_or_properties_hidden": Field(
        "Hidden Traits or Properties",
        type="object",
        hidden=True,
        default={
            "@if": {
                "exists": {"@path": "$.traits"},
                "then": {"@path": "$.traits"},
                "else": {"@path": "$.properties"},
            }
        },
        description="Where the Engage audience boolean is read from.",
    ),
    "user_id": Field(
        "User ID",
        default={"@path": "$.userId"},
        description="The Segment user id.",
    ),
    "enable_batching": Field(
        "Enable Batching",
        type="boolean",
        default=True,
        description="Send several users in one request.",
    ),
    "batch_size": Field(
        "Batch Size",
        type="number",
        default=100,
        minimum=1,
        maximum=500,
        description="Maximum users in one request.",
    ),
}


def _base_url(settings: dict[str, Any]) -> str:
    base = settings.get("baseUrl") or (DEFAULT_LIVELIKE_URL + API_PREFIX)
    return base.rstrip("/")


def _request(method: str, path: str, settings: dict[str, Any], body: Any = None):
    return OutgoingRequest(
        method=method,
        url=f"{_base_url(settings)}/applications/{settings['clientId']}/{path}",
        headers=build_headers(LIVELIKE_CLOUD, settings),
        json=body,
    )


def perform_track_event(
    payloads: list[dict[str, Any]], settings: dict[str, Any]
) -> OutgoingRequest:
    """One ``segment-events`` request; refuses events that name no user."""
    for payload in payloads:
        if not (
            payload.get("livelike_profile_id")
            or payload.get("custom_id")
            or payload.get("segment_user_id")
        ):
            raise IntegrationError(IDENTITY_REQUIRED, "Missing required fields", 400)

    return _request("POST", "segment-events/", settings, {"events": list(payloads)})


def perform_sync(
    payloads: list[dict[str, Any]], settings: dict[str, Any]
) -> OutgoingRequest:
    """One ``segment-audience-sync`` request: a bare JSON array of items.

    The add/remove flag is the mapped ``action`` when it is a boolean, else the
    Engage audience key in the traits (identify) or properties (track). One bad
    item fails the whole batch, as the real ``map`` throws.
    """
    items = []
    for payload in payloads:
        action = payload.get("action")
        if not isinstance(action, bool):
            hidden = payload.get("traits_or_properties_hidden") or {}
            action = hidden.get(payload.get("audience_name"))
        if not isinstance(action, bool):
            raise PayloadValidationError(ACTION_NOT_BOOLEAN)

        item: dict[str, Any] = {
            "audience_id": payload.get("audience_id"),
            "audience_name": payload.get("audience_name"),
            "action": action,
            "timestamp": payload.get("timestamp"),
        }
        if payload.get("user_id") is not None:
            item["user_id"] = payload["user_id"]
        item.update(payload.get("additional_user_traits") or {})
        items.append(item)

    return _request("POST", "segment-audience-sync/", settings, items)


def test_authentication(settings: dict[str, Any]) -> OutgoingRequest:
    """The request Segment makes when a user saves the settings."""
    return _request("GET", "validate-app/", settings)


def _bearer(settings: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {settings.get('producerToken', '')}"}


TRACK_EVENT = Action(
    slug="trackEvent",
    title="Track Event",
    description="Send an event to LiveLike.",
    fields=TRACK_EVENT_FIELDS,
    perform=perform_track_event,
    default_subscription='type = "track"',
)

SYNC_TO_USER_GROUP = Action(
    slug="syncToUserGroup",
    title="Sync to User Group",
    description="Add or remove users of a Segment audience from a LiveLike group.",
    fields=SYNC_FIELDS,
    perform=perform_sync,
    default_subscription='type = "identify"',
    supports_batch=True,
)

_NAME_OR_TITLE = _if_exists("$.name", "$.properties.title")

LIVELIKE_CLOUD = Destination(
    name="LiveLike",
    slug=SLUG,
    settings_fields=SETTINGS_FIELDS,
    actions={a.slug: a for a in (TRACK_EVENT, SYNC_TO_USER_GROUP)},
    presets=[
        Preset(
            "Track User Actions",
            "trackEvent",
            'type = "track"',
            default_mapping(TRACK_EVENT_FIELDS),
        ),
        Preset(
            "Page Calls",
            "trackEvent",
            'type = "page"',
            {**default_mapping(TRACK_EVENT_FIELDS), "event_name": _NAME_OR_TITLE},
        ),
        Preset(
            "Screen Calls",
            "trackEvent",
            'type = "screen"',
            {**default_mapping(TRACK_EVENT_FIELDS), "event_name": _NAME_OR_TITLE},
        ),
    ],
    # TODO(destination): Segment matches integrations keys against the catalog
    # name; which spelling it uses for this Actions destination is unverified, so
    # every name it is known by is honoured.
    integration_names=(
        "LiveLike",
        "LiveLike Cloud Mode (Actions)",
        "Actions LiveLike Cloud",
        "actions-livelike-cloud",
    ),
    extend_headers=_bearer,
    test_authentication=test_authentication,
)

DESTINATIONS = {SLUG: LIVELIKE_CLOUD, "actions-livelike-cloud": LIVELIKE_CLOUD}


def get_destination(slug: str) -> Destination | None:
    return DESTINATIONS.get(slug)
