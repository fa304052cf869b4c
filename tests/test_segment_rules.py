"""Accept, drop, dedupe and strict mode, as Segment decides them per message."""

from __future__ import annotations

import pytest
from segment_helpers import (  # noqa: F401  (fixtures)
    STRICT_KEY,
    app_fixture,
    basic,
    client_fixture,
    db_fixture,
    make_config,
    stored,
    track,
)

from emulator.contracts import protocols
from emulator.segment import ingest
from emulator.segment.app import create_app

DROPS = [
    ({"type": "track", "event": "E"}, "no_user_anon_id", "$.batch[0]"),
    ({"type": "track", "event": "E", "userId": None}, "no_user_anon_id", "$.batch[0]"),
    ({"type": "track", "event": "E", "userId": ""}, "id_not_string", "userId"),
    ({"type": "track", "event": "E", "userId": 7}, "id_not_string", "userId"),
    (
        {"type": "track", "event": "E", "anonymousId": []},
        "id_not_string",
        "anonymousId",
    ),
    ({"type": "track", "userId": "u"}, "event_not_defined", "event"),
    ({"type": "track", "userId": "u", "event": ""}, "event_not_defined", "event"),
    ({"type": "track", "userId": "u", "event": 3}, "event_not_string", "event"),
    (track(properties=[1]), "properties_not_object", "properties"),
    (track(properties="x"), "properties_not_object", "properties"),
    ({"type": "identify", "userId": "u", "traits": "x"}, "traits_not_object", "traits"),
    ({"type": "page", "userId": "u", "name": 5}, "name_not_string", "name"),
    ({"type": "screen", "userId": "u", "name": ""}, "name_not_string", "name"),
    ({"type": "page", "userId": "u", "category": 1}, "category_not_string", "category"),
    ({"type": "group", "userId": "u"}, "group_id_not_defined", "groupId"),
    ({"type": "group", "userId": "u", "groupId": 1}, "id_not_string", "groupId"),
    ({"type": "alias", "userId": "u"}, "previous_id_not_defined", "previousId"),
    (track(context="x"), "context_not_object", "$.batch[0]"),
    (track(integrations=[]), "integrations_not_object", "$.batch[0]"),
    (track(messageId=12), "message_id_not_string", "messageId"),
    (track(messageId="m" * 101), "message_id_too_long", "messageId"),
    (track(timestamp="yesterday"), "invalid_timestamp", "timestamp"),
    (track(sentAt="2024-13-45T00:00:00Z"), "invalid_timestamp", "sentAt"),
    ({"userId": "u", "event": "E"}, "invalid_type", "type"),
    ({"type": "purchase", "userId": "u"}, "invalid_type", "type"),
    ("not an object", "message_not_object", "$.batch[0]"),
]


@pytest.mark.parametrize("item, reason, where", DROPS)
def test_breaking_a_rule_is_200_and_dropped_with_the_reason(
    client, item, reason, where
):
    response = client.post("/v1/batch", json={"batch": [item]}, headers=basic())

    assert response.status_code == 200
    assert response.json == {"success": True}
    [stored_item] = stored(client)
    assert stored_item["status"] == "dropped"
    assert stored_item["reasons"] == [reason]
    [detail] = stored_item["details"]
    assert detail["code"] == reason
    assert detail["path"].startswith("$.batch[0]")
    assert detail["path"].endswith(where.removeprefix("$.batch[0]"))
    assert client.get("/_emulator/stats").json["messages"]["by_reason"] == {reason: 1}


@pytest.mark.parametrize(
    "item",
    [
        {"type": "identify", "anonymousId": "a", "traits": {"email": "a@b.c"}},
        {"type": "track", "userId": "u", "event": "E", "properties": {"x": 1}},
        {"type": "page", "userId": "u"},
        {"type": "page", "userId": "u", "name": None, "category": None},
        {"type": "screen", "anonymousId": "a", "name": "Home", "category": "Main"},
        {"type": "group", "userId": "u", "groupId": "g", "traits": {}},
        {"type": "alias", "userId": "u", "previousId": "a"},
        track(timestamp="2015-2-02T00:30:08.276Z"),
        track(userId="u", anonymousId=None, context={}, integrations={}),
    ],
)
def test_valid_messages_are_accepted(client, item):
    client.post("/v1/batch", json={"batch": [item]}, headers=basic())

    [stored_item] = stored(client)
    assert (stored_item["status"], stored_item["reasons"]) == ("accepted", [])


def test_good_items_of_a_mixed_batch_are_kept(client):
    batch = [track(), {"type": "track", "event": "E"}, track(userId="u2")]

    client.post("/v1/batch", json={"batch": batch}, headers=basic())

    assert [i["status"] for i in stored(client)] == ["accepted", "dropped", "accepted"]


def test_several_reasons_are_all_listed(client):
    item = {"type": "track", "properties": 1}

    client.post("/v1/batch", json={"batch": [item]}, headers=basic())

    [stored_item] = stored(client)
    assert stored_item["reasons"] == [
        "no_user_anon_id",
        "event_not_defined",
        "properties_not_object",
    ]


def test_empty_batch_is_200_and_counted(client):
    response = client.post("/v1/batch", json={"batch": []}, headers=basic())

    assert response.status_code == 200
    assert stored(client) == []
    assert client.get("/_emulator/stats").json["messages"]["by_reason"] == {
        "empty_batch": 1
    }


def test_too_many_messages_are_200_and_all_dropped(client):
    batch = [track(messageId=f"m-{n}") for n in range(2501)]

    response = client.post("/v1/batch", json={"batch": batch}, headers=basic())

    assert response.status_code == 200
    stats = client.get("/_emulator/stats").json["messages"]
    assert stats["by_status"]["dropped"] == 2501
    assert stats["by_reason"] == {"batch_too_many_events": 2501}


def test_2500_messages_are_accepted(client):
    batch = [track(messageId=f"m-{n}") for n in range(2500)]

    client.post("/v1/batch", json={"batch": batch}, headers=basic())

    stats = client.get("/_emulator/stats").json["messages"]
    assert stats["by_status"]["accepted"] == 2500


def test_duplicate_message_id_within_the_window(client):
    first = track(messageId="same-id")
    client.post("/v1/track", json=first, headers=basic())
    client.post("/v1/batch", json={"batch": [first, first]}, headers=basic())

    statuses = [(i["status"], i["reasons"]) for i in stored(client)]
    assert statuses == [
        ("accepted", []),
        ("duplicate", ["duplicate"]),
        ("duplicate", ["duplicate"]),
    ]


def test_a_dropped_message_does_not_claim_its_message_id(client):
    client.post("/v1/track", json={"messageId": "m1", "event": "E"}, headers=basic())
    client.post("/v1/track", json=track(messageId="m1"), headers=basic())

    assert [i["status"] for i in stored(client)] == ["dropped", "accepted"]


def test_dedupe_is_global_by_default_and_per_source_when_configured(db):
    other = basic("seglike-other-source-key-0000001")
    for scope, expected in (("global", "duplicate"), ("source", "accepted")):
        client = create_app(make_config(dedupe_scope=scope), db).test_client()
        client.post("/_emulator/reset")
        client.post("/v1/track", json=track(messageId="x"), headers=basic())
        client.post("/v1/track", json=track(messageId="x"), headers=other)

        assert stored(client)[-1]["status"] == expected, scope


def test_dedupe_window_zero_turns_dedupe_off(db):
    client = create_app(make_config(dedupe_window_seconds=0), db).test_client()
    for _ in range(2):
        client.post("/v1/track", json=track(messageId="x"), headers=basic())

    assert [i["status"] for i in stored(client)] == ["accepted", "accepted"]


def test_a_reset_forgets_the_message_ids(client):
    client.post("/v1/track", json=track(messageId="x"), headers=basic())
    client.post("/_emulator/reset")
    client.post("/v1/track", json=track(messageId="x"), headers=basic())

    assert [i["status"] for i in stored(client)] == ["accepted"]


def test_strict_header_answers_400_with_every_reason(client):
    batch = [track(), {"type": "track", "userId": "u"}, track(properties=3)]

    response = client.post(
        "/v1/batch",
        json={"batch": batch},
        headers={**basic(), "X-Seglike-Strict": "true"},
    )

    assert response.status_code == 400
    body = response.json
    assert body["code"] == "strict_rejected"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [
        ("event_not_defined", "$.batch[1].event"),
        ("properties_not_object", "$.batch[2].properties"),
    ]
    assert "event_not_defined" in body["message"]
    statuses = {i["status"] for i in stored(client)}
    assert statuses == {"rejected"}
    assert stored(client, status="accepted") == []


def test_strict_header_lets_a_clean_request_through(client):
    response = client.post(
        "/v1/track", json=track(), headers={**basic(), "X-Seglike-Strict": "1"}
    )

    assert response.status_code == 200
    assert stored(client)[0]["status"] == "accepted"


def test_strict_source_rejects_and_the_header_can_turn_it_off(client):
    strict = client.post("/v1/track", json={"event": "E"}, headers=basic(STRICT_KEY))
    relaxed = client.post(
        "/v1/track",
        json={"event": "E"},
        headers={**basic(STRICT_KEY), "X-Seglike-Strict": "false"},
    )

    assert strict.status_code == 400
    assert strict.json["errors"][0]["code"] == "no_user_anon_id"
    assert relaxed.status_code == 200
    assert [i["status"] for i in stored(client)] == ["rejected", "dropped"]


@pytest.mark.parametrize(
    "body, headers, reason",
    [
        ({"batch": []}, basic(), "empty_batch"),
        ({"batch": [track()]}, basic("seglike-unknown-key-000000000001"), None),
    ],
)
def test_strict_mode_covers_batch_level_drops(client, body, headers, reason):
    response = client.post(
        "/v1/batch", json=body, headers={**headers, "X-Seglike-Strict": "yes"}
    )

    assert response.status_code == 400
    codes = [e["code"] for e in response.json["errors"]]
    assert codes == [reason or "unknown_source"]


def test_a_bad_strict_header_is_a_400(client):
    response = client.post(
        "/v1/track", json=track(), headers={**basic(), "X-Seglike-Strict": "maybe"}
    )

    assert (response.status_code, response.json["code"]) == (400, "invalid_header")


def test_the_tracking_plan_verdict_is_stored(client, monkeypatch):
    def enforce(message, source):
        assert source.name == "demo-app"
        if message["event"] == "Unplanned":
            return protocols.Enforcement(
                message=message,
                violations=[{"type": "Unplanned", "field": "event"}],
                blocked=True,
                reason="unplanned",
            )
        kept = dict(message, properties={})
        return protocols.Enforcement(
            message=kept, violations=[{"type": "Required", "field": "properties.x"}]
        )

    monkeypatch.setattr(ingest, "enforce", enforce)
    batch = [track(event="Unplanned"), track(properties={"secret": 1})]

    client.post("/v1/batch", json={"batch": batch}, headers=basic())

    blocked, accepted = stored(client)
    assert (blocked["status"], blocked["reasons"]) == ("blocked", ["unplanned"])
    assert blocked["violations"] == [{"type": "Unplanned", "field": "event"}]
    assert accepted["status"] == "accepted"
    assert accepted["message"]["properties"] == {}
    assert accepted["violations"][0]["type"] == "Required"


def test_the_tracking_plan_sees_only_messages_that_passed_the_rules(
    client, monkeypatch
):
    seen = []
    monkeypatch.setattr(
        ingest,
        "enforce",
        lambda message, source: seen.append(message) or protocols.Enforcement(message),
    )

    client.post(
        "/v1/batch", json={"batch": [track(), {"type": "track"}]}, headers=basic()
    )

    assert len(seen) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"timestamp": "0001-01-01T00:00:00+05:00"},
        {"timestamp": "0046-03-21T06:22:07Z", "sentAt": "9999-12-31T00:00:00Z"},
    ],
)
def test_timestamps_out_of_range_are_dropped_not_a_crash(client, fields):
    response = client.post("/v1/track", json=track(**fields), headers=basic())

    assert response.status_code == 200
    assert stored(client)[0]["reasons"] == ["invalid_timestamp"]


def test_messages_the_plan_forwards_are_stored_as_accepted(client, monkeypatch):
    def enforce(message, source):
        violation = {"type": "track", "event": "Violation Generated", "userId": "v"}
        return protocols.Enforcement(
            message=message,
            blocked=True,
            reason="unplanned",
            forwarded=[violation, {"source": "other-app", "message": message}],
        )

    monkeypatch.setattr(ingest, "enforce", enforce)

    client.post("/v1/track", json=track(), headers=basic())

    rows = [(i["source"], i["status"], i["route"]) for i in stored(client)]
    assert rows == [
        ("demo-app", "blocked", "/v1/track"),
        ("demo-app", "accepted", "protocols"),
        ("other-app", "accepted", "protocols"),
    ]


def test_a_repeated_blocked_message_is_a_duplicate_and_forwards_nothing(
    client, monkeypatch
):
    def enforce(message, source):
        violation = {"type": "track", "event": "Violation Generated", "userId": "v"}
        return protocols.Enforcement(
            message=message, blocked=True, reason="unplanned", forwarded=[violation]
        )

    monkeypatch.setattr(ingest, "enforce", enforce)

    for _ in range(2):
        client.post("/v1/track", json=track(messageId="once"), headers=basic())

    rows = [(i["status"], i["route"]) for i in stored(client)]
    assert rows == [
        ("blocked", "/v1/track"),
        ("accepted", "protocols"),
        ("duplicate", "/v1/track"),
    ]
