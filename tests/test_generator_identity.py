"""Users keep their identities across sessions; sign-up aliases and identifies."""

from __future__ import annotations

from collections import defaultdict

from emulator.generator import EventFactory, LiveLikeIdentity, generate


def test_each_anonymous_id_maps_to_at_most_one_user_id():
    user_ids = defaultdict(set)
    for message in generate(5000, seed=5):
        if "anonymousId" in message and "userId" in message:
            user_ids[message["anonymousId"]].add(message["userId"])

    assert user_ids
    assert all(len(ids) == 1 for ids in user_ids.values())


def test_sign_up_is_alias_then_identify_then_signed_up_and_ids_stick():
    factory = EventFactory(6, users=30)
    events = list(factory.stream(6000))
    aliases = [e for e in events if e.message["type"] == "alias"]
    assert aliases, "some users sign up during the stream"

    for alias in aliases[:10]:
        user = factory.users[alias.user]
        assert alias.message["previousId"] == user.anonymous_id
        assert alias.message["userId"] == user.user_id

        # In event-time order: a few messages are delivered late on purpose.
        mine = sorted(
            (e.message for e in events if e.user == alias.user),
            key=lambda m: m["timestamp"][:23],
        )
        at = next(i for i, m in enumerate(mine) if m is alias.message)
        assert mine[at + 1]["type"] == "identify"
        assert mine[at + 1]["traits"]["email"] == user.traits["email"]
        assert mine[at + 2]["event"] == "Signed Up"
        assert all("userId" not in m for m in mine[:at])
        assert all(m.get("userId") == user.user_id for m in mine[at:])


def test_registered_users_have_realistic_traits():
    factory = EventFactory(7, users=40)
    for user in factory.users:
        traits = user.traits
        assert "@" in traits["email"] and " " not in traits["email"]
        assert traits["name"] == f"{traits['firstName']} {traits['lastName']}"
        assert traits["address"]["country"] == user.country
        assert traits["plan"] in {"free", "plus", "season-pass"}
        assert 15 <= traits["age"] <= 71
        assert traits["createdAt"].endswith("Z")


def test_known_livelike_profiles_go_to_the_first_users_and_reach_properties():
    known = [
        LiveLikeIdentity("5f724202-246d-439b-8250-527bed44b6c9", "fan-0001"),
        LiveLikeIdentity("8a3c1c1e-9a57-4a8c-9f8e-0d3b8e1f2a77", None),
    ]
    factory = EventFactory(8, users=10, livelike=known)
    assert factory.users[0].user_id == "fan-0001"
    assert factory.users[0].registered

    tracks = [
        e for e in factory.stream(3000) if e.message["type"] == "track" and e.user < 2
    ]
    assert {e.user for e in tracks} == {0, 1}
    for event in tracks:
        properties = event.message["properties"]
        if event.user == 0:
            assert properties["livelike_profile_id"] == known[0].livelike_profile_id
            assert properties["custom_id"] == "fan-0001"
        else:
            assert properties["livelike_profile_id"] == known[1].livelike_profile_id
            assert "custom_id" not in properties


def test_some_generated_users_link_to_livelike_by_custom_id():
    messages = list(generate(3000, seed=10))
    custom = [
        m for m in messages if m["type"] == "track" and "custom_id" in m["properties"]
    ]

    assert custom
    assert all(m["properties"]["custom_id"] == m["userId"] for m in custom)
