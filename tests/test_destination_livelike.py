"""The LiveLike Cloud (Actions) destination: presets, identity check, audience
sync, batching, headers and the integrations object."""

from __future__ import annotations

import pytest

from emulator.actions.destination import IntegrationError, PayloadValidationError
from emulator.actions.livelike_cloud import (
    ACTION_NOT_BOOLEAN,
    IDENTITY_REQUIRED,
    LIVELIKE_CLOUD,
    SYNC_TO_USER_GROUP,
    TRACK_EVENT,
)
from emulator.actions.livelike_cloud import (
    test_authentication as auth_test_request,
)

SETTINGS = {
    "clientId": "demo-client-id",
    "producerToken": "demo-producer-token",
    "baseUrl": "http://127.0.0.1:9/api/v1",
}
TIMESTAMP = "2026-07-02T16:26:57.511Z"


def event(**over) -> dict:
    base = {
        "type": "track",
        "event": "Poll Voted",
        "userId": "user-900",
        "anonymousId": "anon-1",
        "messageId": "m-1",
        "timestamp": TIMESTAMP,
        "properties": {},
        "context": {},
    }
    return {**base, **over}


def run_preset(name: str, data: dict) -> dict:
    preset = LIVELIKE_CLOUD.preset(name)
    payload = TRACK_EVENT.payload(data, preset.mapping)
    return TRACK_EVENT.perform([payload], SETTINGS).as_dict()


def test_track_preset_sends_one_event_wrapped_in_events():
    request = run_preset(
        "Track User Actions",
        event(properties={"livelike_profile_id": "p-1", "points": 5}),
    )

    assert request["method"] == "POST"
    assert request["url"] == (
        "http://127.0.0.1:9/api/v1/applications/demo-client-id/segment-events/"
    )
    assert request["body"] == {
        "events": [
            {
                "event_name": "Poll Voted",
                "event_type": "track",
                "segment_user_id": "user-900",
                "livelike_profile_id": "p-1",
                "anonymous_id": "anon-1",
                "timestamp": TIMESTAMP,
                "properties": {"livelike_profile_id": "p-1", "points": 5},
            }
        ]
    }


def test_missing_keys_are_left_out_of_the_body():
    request = run_preset("Track User Actions", event())

    (sent,) = request["body"]["events"]
    assert "livelike_profile_id" not in sent
    assert "custom_id" not in sent


@pytest.mark.parametrize("preset", ["Page Calls", "Screen Calls"])
def test_page_and_screen_presets_name_the_event_from_name(preset):
    kind = "page" if preset == "Page Calls" else "screen"

    request = run_preset(preset, event(type=kind, event=None, name="Home Page"))

    (sent,) = request["body"]["events"]
    assert (sent["event_name"], sent["event_type"]) == ("Home Page", kind)


def test_page_preset_falls_back_to_the_title():
    data = event(type="page", event=None, properties={"title": "Scores"})

    request = run_preset("Page Calls", data)

    assert request["body"]["events"][0]["event_name"] == "Scores"


def test_page_without_name_or_title_fails_validation():
    data = event(type="page", event=None)

    with pytest.raises(Exception) as caught:
        run_preset("Page Calls", data)

    assert str(caught.value) == (
        "The root value is missing the required field 'event_name'."
    )


@pytest.mark.parametrize(
    "identity",
    [
        {"userId": "u-1"},
        {"properties": {"livelike_profile_id": "p-1"}},
        {"properties": {"custom_id": "c-1"}},
    ],
)
def test_any_one_identity_is_enough(identity):
    data = {**event(userId=None), **identity}

    request = run_preset("Track User Actions", data)

    assert request["body"]["events"][0]["event_name"] == "Poll Voted"


@pytest.mark.parametrize(
    "identity",
    [
        {"userId": None},
        {"userId": ""},
        {"userId": None, "properties": {"livelike_profile_id": "", "custom_id": ""}},
    ],
)
def test_no_identity_is_refused_with_the_real_text(identity):
    data = {**event(), **identity}

    with pytest.raises(IntegrationError) as caught:
        run_preset("Track User Actions", data)

    assert caught.value.message == IDENTITY_REQUIRED
    assert caught.value.message == (
        "`livelike_profile_id` or `custom_id` or `user_id` is required."
    )
    assert (caught.value.code, caught.value.status) == ("Missing required fields", 400)


def test_identity_check_runs_on_the_payload_directly():
    payload = {"event_name": "x", "event_type": "track", "timestamp": TIMESTAMP}

    with pytest.raises(IntegrationError, match="is required"):
        TRACK_EVENT.perform([payload], SETTINGS)


def test_every_request_carries_bearer_and_segment_user_agent():
    request = auth_test_request(SETTINGS).as_dict()

    assert request["method"] == "GET"
    assert request["url"].endswith("/applications/demo-client-id/validate-app/")
    assert request["headers"]["authorization"] == "Bearer demo-producer-token"
    assert request["headers"]["user-agent"] == "Segment (Actions)"
    assert request["body"] is None


def engage(action: bool, user: str, profile: str, email: str | None = None) -> dict:
    traits = {"test_audience": action, "livelike_profile_id": profile}
    if email:
        traits["email"] = email
    return {
        "type": "identify",
        "userId": user,
        "timestamp": TIMESTAMP,
        "traits": traits,
        "context": {
            "personas": {
                "computation_id": "aud_2zJkeVoLkrirhXup2uAPEsDLq4N",
                "computation_key": "test_audience",
            }
        },
    }


def sync_payload(data: dict, mapping_: dict | None = None, batch=False) -> dict:
    mapping_ = {**SYNC_TO_USER_GROUP.default_mapping(), **(mapping_ or {})}
    return SYNC_TO_USER_GROUP.payload(data, mapping_, batch=batch)


def test_engage_add_and_remove_in_one_batch():
    payloads = [
        sync_payload(engage(True, "900", "122", "test@test.com"), batch=True),
        sync_payload(engage(False, "2900", "2122", "test2@test.com"), batch=True),
    ]

    request = SYNC_TO_USER_GROUP.perform(payloads, SETTINGS).as_dict()

    assert request["url"].endswith(
        "/applications/demo-client-id/segment-audience-sync/"
    )
    assert request["body"] == [
        {
            "audience_id": "aud_2zJkeVoLkrirhXup2uAPEsDLq4N",
            "audience_name": "test_audience",
            "action": True,
            "timestamp": TIMESTAMP,
            "user_id": "900",
            "livelike_profile_id": "122",
            "email": "test@test.com",
        },
        {
            "audience_id": "aud_2zJkeVoLkrirhXup2uAPEsDLq4N",
            "audience_name": "test_audience",
            "action": False,
            "timestamp": TIMESTAMP,
            "user_id": "2900",
            "livelike_profile_id": "2122",
            "email": "test2@test.com",
        },
    ]
    assert list(request["body"][0])[:5] == [
        "audience_id",
        "audience_name",
        "action",
        "timestamp",
        "user_id",
    ]


def test_engage_remove_without_traits_sends_the_core_keys_only():
    data = engage(False, "900", "x")
    data["traits"] = {"test_audience": False}

    request = SYNC_TO_USER_GROUP.perform([sync_payload(data)], SETTINGS).as_dict()

    assert request["body"] == [
        {
            "audience_id": "aud_2zJkeVoLkrirhXup2uAPEsDLq4N",
            "audience_name": "test_audience",
            "action": False,
            "timestamp": TIMESTAMP,
            "user_id": "900",
        }
    ]


def test_track_audience_reads_the_flag_from_properties():
    data = {
        "type": "track",
        "event": "Audience Entered",
        "userId": "900",
        "timestamp": TIMESTAMP,
        "properties": {"test_audience": True, "email": "p@x.io"},
        "context": engage(True, "900", "1")["context"],
    }

    request = SYNC_TO_USER_GROUP.perform([sync_payload(data)], SETTINGS).as_dict()

    assert request["body"][0]["action"] is True
    assert request["body"][0]["email"] == "p@x.io"


def test_a_mapped_boolean_action_wins_over_the_audience_key():
    payload = sync_payload(engage(True, "900", "1"), {"action": {"@literal": False}})

    request = SYNC_TO_USER_GROUP.perform([payload], SETTINGS).as_dict()

    assert request["body"][0]["action"] is False


def test_one_item_without_a_boolean_fails_the_whole_batch():
    good = sync_payload(engage(True, "1", "1"))
    bad = {**good, "audience_name": "other_key"}

    with pytest.raises(PayloadValidationError) as caught:
        SYNC_TO_USER_GROUP.perform([good, bad], SETTINGS)

    assert caught.value.message == ACTION_NOT_BOOLEAN
    assert (caught.value.status, caught.value.code) == (
        400,
        "PAYLOAD_VALIDATION_FAILED",
    )


def test_extra_traits_are_spread_last_and_override_core_keys():
    payload = {
        "audience_id": "aud_1",
        "audience_name": "k",
        "action": True,
        "timestamp": TIMESTAMP,
        "additional_user_traits": {"custom_id": "c-9", "audience_id": "spoofed"},
    }

    request = SYNC_TO_USER_GROUP.perform([payload], SETTINGS).as_dict()

    assert request["body"] == [
        {
            "audience_id": "spoofed",
            "audience_name": "k",
            "action": True,
            "timestamp": TIMESTAMP,
            "custom_id": "c-9",
        }
    ]


def test_batching_fields_are_not_sent():
    payload = sync_payload(engage(True, "1", "1"))

    request = SYNC_TO_USER_GROUP.perform([payload], SETTINGS).as_dict()

    assert "batch_size" not in request["body"][0]
    assert "enable_batching" not in request["body"][0]
    assert "traits_or_properties_hidden" not in request["body"][0]


@pytest.mark.parametrize(
    ("integrations", "wanted"),
    [
        (None, True),
        ({}, True),
        ({"All": False}, False),
        ({"All": False, "LiveLike": True}, True),
        ({"All": False, "Actions LiveLike Cloud": {"x": 1}}, True),
        ({"LiveLike": False}, False),
        ({"LiveLike Cloud Mode (Actions)": False}, False),
        ({"livelike": False}, True),
        ({"All": True, "Amplitude": False}, True),
    ],
)
def test_the_integrations_object_is_honoured(integrations, wanted):
    data = event() if integrations is None else event(integrations=integrations)

    assert LIVELIKE_CLOUD.wanted_by(data)[0] is wanted
