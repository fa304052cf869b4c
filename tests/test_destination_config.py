"""The ``destinations`` of a source and the ``delivery`` timing in the stack YAML."""

from __future__ import annotations

import pytest

from emulator.actions.config import DeliverySettings, parse_destinations
from emulator.config import ConfigError, load_config

PATH = "$.sources[0].destinations"
SETTINGS = {"clientId": "c", "producerToken": "t"}


def one(**raw):
    (destination,) = parse_destinations(
        [{"destination": "livelike-cloud", "settings": SETTINGS, **raw}], PATH
    )
    return destination


def test_the_default_stack_connects_livelike_with_its_three_presets():
    config = load_config()

    (destination,) = config.destinations["demo-app"]
    assert destination.destination == "livelike-cloud"
    assert destination.name == "LiveLike"
    assert destination.settings["clientId"] == "demo-client-id"
    assert [(s.name, s.action, s.subscribe) for s in destination.subscriptions] == [
        ("Track User Actions", "trackEvent", 'type = "track"'),
        ("Page Calls", "trackEvent", 'type = "page"'),
        ("Screen Calls", "trackEvent", 'type = "screen"'),
    ]
    assert config.destinations["livelike"] == []


def test_presets_default_to_all_and_can_be_switched_off():
    assert len(one().subscriptions) == 3
    assert one(presets=[]).subscriptions == ()
    assert [s.name for s in one(presets=["Page Calls"]).subscriptions] == ["Page Calls"]


def test_a_subscription_gets_the_actions_defaults_under_its_mapping():
    destination = one(
        presets=[],
        subscriptions=[
            {
                "name": "Fans",
                "action": "syncToUserGroup",
                "mapping": {"batch_size": 250, "user_id": {"@path": "$.anonymousId"}},
            }
        ],
    )

    (subscription,) = destination.subscriptions
    assert subscription.subscribe == 'type = "identify"'
    assert subscription.mapping["user_id"] == {"@path": "$.anonymousId"}
    assert subscription.mapping["audience_id"] == {
        "@path": "$.context.personas.computation_id"
    }
    assert subscription.batch_size == 250


def test_a_disabled_subscription_is_left_out():
    subscription = {
        "action": "trackEvent",
        "subscribe": 'event = "x"',
        "enabled": False,
    }

    assert one(presets=[], subscriptions=[subscription]).subscriptions == ()


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"destination": "braze"}, f"{PATH}[0].destination", "unknown destination"),
        (
            {"destination": "livelike-cloud", "presets": ["Identify Calls"]},
            f"{PATH}[0].presets[0]",
            "unknown preset 'Identify Calls' of LiveLike",
        ),
        (
            {"destination": "livelike-cloud", "settings": "c"},
            f"{PATH}[0].settings",
            "settings must be a mapping",
        ),
        (
            {"destination": "livelike-cloud", "colour": "red"},
            f"{PATH}[0].colour",
            "unknown key 'colour'",
        ),
        (
            {"destination": "livelike-cloud", "subscriptions": [{"action": "nope"}]},
            f"{PATH}[0].subscriptions[0].action",
            "unknown action 'nope' of LiveLike",
        ),
        (
            {
                "destination": "livelike-cloud",
                "subscriptions": [
                    {"action": "syncToUserGroup", "mapping": {"batch_size": 501}}
                ],
            },
            f"{PATH}[0].subscriptions[0].mapping.batch_size",
            "batch_size must be a number from 1 to 500, not 501",
        ),
        (
            {
                "destination": "livelike-cloud",
                "subscriptions": [{"action": "trackEvent", "subscribe": ""}],
            },
            f"{PATH}[0].subscriptions[0].subscribe",
            "subscribe must be an FQL expression",
        ),
        (
            {
                "destination": "livelike-cloud",
                "subscriptions": [{"action": "trackEvent", "subscribe": 'type = "'}],
            },
            f"{PATH}[0].subscriptions[0].subscribe",
            "invalid subscription",
        ),
        (
            {
                "destination": "livelike-cloud",
                "subscriptions": [{"name": "Page Calls", "action": "trackEvent"}],
            },
            f"{PATH}[0]",
            "two subscriptions are named 'Page Calls'",
        ),
    ],
)
def test_bad_destinations_say_where_and_why(raw, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_destinations([raw], PATH)

    assert caught.value.path == path
    assert message in caught.value.reason


def test_two_destinations_need_distinct_names():
    raw = {"destination": "livelike-cloud", "settings": SETTINGS}

    with pytest.raises(ConfigError, match="give one a 'name'"):
        parse_destinations([raw, raw], PATH)

    named = parse_destinations([raw, {**raw, "name": "LiveLike staging"}], PATH)
    assert [d.name for d in named] == ["LiveLike", "LiveLike staging"]


def test_delivery_timing_is_configurable_and_checked():
    settings = DeliverySettings.from_dict({"max_attempts": 3, "timeout_seconds": 0.5})

    assert (settings.max_attempts, settings.timeout_seconds) == (3, 0.5)
    assert DeliverySettings.from_dict(None) == DeliverySettings()
    with pytest.raises(ConfigError, match="max_attempts must be a positive number"):
        DeliverySettings.from_dict({"max_attempts": 0})
    with pytest.raises(ConfigError, match="unknown delivery setting 'retries'"):
        DeliverySettings.from_dict({"retries": 2})
