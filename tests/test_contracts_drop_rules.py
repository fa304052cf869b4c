"""The accepted/* schemas express ingestion's drop rules: type, path and reason."""

from __future__ import annotations

import pytest

from emulator.contracts import validate_message

BASE = {"type": "track", "event": "Signed Up", "userId": "u-1", "messageId": "m-1"}


def _with(**changes):
    message = {**BASE, **changes}
    return {key: value for key, value in message.items() if value is not ...}


CASES = [
    # (message, reason, violation type, JSON path)
    (_with(userId=...), "no_user_anon_id", "Required", "$.userId"),
    (_with(userId=""), "id_not_string", "Invalid Length", "$.userId"),
    (_with(userId=42), "id_not_string", "Invalid Type", "$.userId"),
    (_with(anonymousId=["a"]), "id_not_string", "Invalid Type", "$.anonymousId"),
    (_with(event=...), "event_not_defined", "Required", "$.event"),
    (_with(event=""), "event_not_defined", "Invalid Length", "$.event"),
    (_with(event=7), "event_not_string", "Invalid Type", "$.event"),
    (_with(properties=[1]), "properties_not_object", "Invalid Type", "$.properties"),
    (_with(context="web"), "context_not_object", "Invalid Type", "$.context"),
    (
        _with(integrations=True),
        "integrations_not_object",
        "Invalid Type",
        "$.integrations",
    ),
    (_with(messageId=5), "message_id_not_string", "Invalid Type", "$.messageId"),
    (
        _with(messageId="m" * 101),
        "message_id_too_long",
        "Invalid Length",
        "$.messageId",
    ),
    (
        _with(timestamp="yesterday"),
        "invalid_timestamp",
        "Invalid Format",
        "$.timestamp",
    ),
    (_with(type="trak"), "invalid_type", "Invalid Value", "$.type"),
    ({"event": "x", "userId": "u"}, "invalid_type", "Required", "$.type"),
    ("not a message", "message_not_object", "Invalid Type", "$"),
    (
        {"type": "identify", "userId": "u", "traits": "vip"},
        "traits_not_object",
        "Invalid Type",
        "$.traits",
    ),
    (
        {"type": "page", "userId": "u", "name": ""},
        "name_not_string",
        "Invalid Length",
        "$.name",
    ),
    (
        {"type": "screen", "userId": "u", "name": 3},
        "name_not_string",
        "Invalid Type",
        "$.name",
    ),
    (
        {"type": "page", "userId": "u", "category": ""},
        "category_not_string",
        "Invalid Length",
        "$.category",
    ),
    ({"type": "group", "userId": "u"}, "group_id_not_defined", "Required", "$.groupId"),
    (
        {"type": "group", "userId": "u", "groupId": 9},
        "id_not_string",
        "Invalid Type",
        "$.groupId",
    ),
    (
        {"type": "alias", "userId": "u"},
        "previous_id_not_defined",
        "Required",
        "$.previousId",
    ),
    (
        {"type": "alias", "userId": "u", "previousId": ""},
        "id_not_string",
        "Invalid Length",
        "$.previousId",
    ),
]


@pytest.mark.parametrize(("message", "reason", "kind", "path"), CASES)
def test_drop_case_is_rejected_with_its_reason(message, reason, kind, path):
    violations = validate_message(message, "segment/accepted/message")

    matching = [v for v in violations if v.path == path]
    assert matching, [str(v) for v in violations]
    assert (matching[0].reason, matching[0].type) == (reason, kind)


@pytest.mark.parametrize(
    ("body", "reason", "path"),
    [
        ({"batch": []}, "empty_batch", "$.batch"),
        ({"batch": [BASE] * 2501}, "batch_too_many_events", "$.batch"),
        ({"batch": [{**BASE, "event": 1}]}, "event_not_string", "$.batch[0].event"),
        ({"batch": [BASE, {"type": "nope"}]}, "invalid_type", "$.batch[1].type"),
    ],
)
def test_batch_envelope_rules(body, reason, path):
    violations = validate_message(body, "segment/batch")

    assert [(v.path, v.reason) for v in violations if v.path == path] == [
        (path, reason)
    ]


def test_null_counts_as_absent_like_ingestion():
    # Python's SDK sends null for the fields it does not have.
    message = {**BASE, "anonymousId": None, "context": {}, "properties": {}}

    assert validate_message(message, "segment/accepted/track") == []
    assert [
        v.reason
        for v in validate_message({**BASE, "userId": None}, "segment/accepted/track")
    ] == ["no_user_anon_id"]


def test_a_valid_message_of_each_type_is_accepted():
    for message in (
        BASE,
        {"type": "identify", "anonymousId": "a", "traits": {"email": "a@b.c"}},
        {"type": "page", "userId": "u", "name": "Home", "properties": {"url": "/"}},
        {"type": "screen", "userId": "u", "name": "Home"},
        {"type": "group", "userId": "u", "groupId": "g", "traits": {"name": "Acme"}},
        {"type": "alias", "userId": "u", "previousId": "anon-1"},
    ):
        assert validate_message(message, "segment/accepted/message") == [], message


def test_spec_shape_accepts_what_the_sdk_completes():
    # analytics.js fills in the identity and previousId; the Spec shape allows that.
    assert validate_message({"type": "alias", "userId": "u"}, "segment/alias") == []
    assert validate_message({"event": "Signed Up"}, "segment/track") == []


# Ingestion implements the same rules in code (emulator.segment.rules); the two must
# agree on every reason code. A normalised message always has a messageId, and its
# timestamps were already parsed by normalisation, hence the two adjustments.
AGREEMENT = [
    pytest.param({"messageId": "m-1", **message}, reason, id=reason + f"-{index}")
    for index, (message, reason, _, _) in enumerate(CASES)
    if isinstance(message, dict) and reason != "invalid_timestamp"
]


@pytest.mark.parametrize(("message", "reason"), AGREEMENT)
def test_ingestion_rules_give_the_same_reason(message, reason):
    from emulator.segment import rules

    codes = [drop.code for drop in rules.check(message, [])]
    schema_reasons = [
        v.reason for v in validate_message(message, "segment/accepted/message")
    ]

    assert reason in codes
    assert reason in schema_reasons
