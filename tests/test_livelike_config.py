"""The ``livelike`` section of the stack YAML: defaults, derived ids, errors."""

from __future__ import annotations

import copy

import pytest

from emulator.config import ConfigError, load_config
from emulator.livelike.config import LiveLikeConfig, derived_id, slugify
from tests.livelike_helpers import SMALL_APP


def _parse(app: dict) -> LiveLikeConfig:
    return LiveLikeConfig.from_dict({"applications": [app]})


def test_the_default_config_has_a_complete_rewards_set_up():
    app = load_config().livelike.applications[0]

    assert app.client_id == "demo-client-id"
    assert [i.name for i in app.reward_items] == ["Points"]
    assert {"poll-voted", "quiz-answered", "video-content-completed"} <= {
        a.key for a in app.reward_actions
    }
    assert [b.reward_item_threshold for b in app.badges if b.reward_item_id] == [
        20,
        100,
    ]
    assert app.quests[0].tasks and app.leaderboards and app.profiles


def test_ids_not_given_are_derived_from_the_names_and_stable():
    first = _parse(copy.deepcopy(SMALL_APP)).applications[0]
    second = _parse(copy.deepcopy(SMALL_APP)).applications[0]

    assert first.reward_items[0].id == second.reward_items[0].id
    assert first.reward_items[0].id == derived_id(
        "demo-client-id", "reward-item", "Points"
    )


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Poll Voted", "poll-voted"), ("  Video -- Completed! ", "video-completed")],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda a: a.pop("producer_tokens"),
            "$.livelike.applications[0].producer_tokens",
        ),
        (
            lambda a: a["reward_tables"][0]["entries"][0].update(reward_item="Gold"),
            "$.livelike.applications[0].reward_tables[0].entries[0].reward_item",
        ),
        (
            lambda a: a["reward_tables"][0]["entries"][2]["reward_limit"].update(
                per="fortnight"
            ),
            "$.livelike.applications[0].reward_tables[0].entries[2].reward_limit.per",
        ),
        (
            lambda a: a["badges"][0].update(threshold=0),
            "$.livelike.applications[0].badges[0].threshold",
        ),
        (
            lambda a: a["quests"][0].update(tasks=[]),
            "$.livelike.applications[0].quests[0].tasks",
        ),
        (
            lambda a: a["profiles"][0].update(id="ada"),
            "$.livelike.applications[0].profiles[0].id",
        ),
        (
            lambda a: a.update(webhook={"url": "http://x"}),
            "$.livelike.applications[0].webhook.secret",
        ),
        (
            lambda a: a["profiles"][0].update(custom_id="c" * 256),
            "$.livelike.applications[0].profiles[0].custom_id",
        ),
        (
            lambda a: a["leaderboards"][0].update(program_ids="main"),
            "$.livelike.applications[0].leaderboards[0].program_ids",
        ),
    ],
)
def test_bad_entries_fail_with_their_path(change, path):
    app = copy.deepcopy(SMALL_APP)
    change(app)

    with pytest.raises(ConfigError) as error:
        _parse(app)

    assert error.value.path == path


def test_a_client_id_configured_twice_is_refused():
    with pytest.raises(ConfigError) as error:
        LiveLikeConfig.from_dict({"applications": [SMALL_APP, SMALL_APP]})

    assert error.value.path == "$.livelike.applications[1].client_id"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s.update(sources=[]), "$.livelike.sources"),
        (lambda s: s.update(source={"writekey": "k"}), "$.livelike.source.writekey"),
        (
            lambda s: s["applications"][0].update(webhooks={}),
            "$.livelike.applications[0].webhooks",
        ),
        (
            lambda s: s["applications"][0]["reward_items"][0].update(amount=1),
            "$.livelike.applications[0].reward_items[0].amount",
        ),
        (
            lambda s: s["applications"][0]["reward_tables"][0]["entries"][0].update(
                points=10
            ),
            "$.livelike.applications[0].reward_tables[0].entries[0].points",
        ),
        (
            lambda s: s["applications"][0]["reward_tables"][0]["entries"][2][
                "reward_limit"
            ].update(tz="UTC"),
            "$.livelike.applications[0].reward_tables[0].entries[2].reward_limit.tz",
        ),
        (
            lambda s: s["applications"][0]["quests"][0]["tasks"][0].update(target=3),
            "$.livelike.applications[0].quests[0].tasks[0].target",
        ),
        (
            lambda s: s["applications"][0]["profiles"][0].update(email="a@b.c"),
            "$.livelike.applications[0].profiles[0].email",
        ),
    ],
)
def test_unknown_keys_are_refused_with_their_path_and_the_known_keys(change, path):
    section = {"applications": [copy.deepcopy(SMALL_APP)]}
    change(section)

    with pytest.raises(ConfigError) as error:
        LiveLikeConfig.from_dict(section)

    assert error.value.path == path
    assert "known keys are" in str(error.value)
