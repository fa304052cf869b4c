"""Partial matching and the nearest-miss report behind the plugin's assertions."""

from __future__ import annotations

import pytest

from emulator.pytest_plugin.matching import differences, nearest_misses

MESSAGE = {
    "type": "track",
    "event": "Poll Voted",
    "userId": "user-1",
    "properties": {"poll_id": "p-9", "choice": "A", "points": 10},
}


@pytest.mark.parametrize(
    "expected",
    [
        {"type": "track"},
        {"event": "Poll Voted", "properties": {}},
        {"properties": {"choice": "A"}},
        {"properties": {"points": lambda value: value > 5}},
        {"userId": "user-1", "properties": {"poll_id": "p-9", "points": 10}},
    ],
)
def test_partial_expectations_match(expected):
    assert differences(MESSAGE, expected) == []


@pytest.mark.parametrize(
    ("expected", "reason"),
    [
        ({"event": "Quiz"}, 'event: expected "Quiz", got "Poll Voted"'),
        ({"properties": {"plan": "pro"}}, 'properties.plan: missing (expected "pro")'),
        ({"properties": {"points": "10"}}, 'properties.points: expected "10", got 10'),
        ({"properties": {"points": True}}, "properties.points: expected true, got 10"),
        ({"event": {"name": "x"}}, 'event: expected an object, got "Poll Voted"'),
    ],
)
def test_each_difference_says_where_and_what(expected, reason):
    assert differences(MESSAGE, expected) == [reason]


def test_a_failing_predicate_is_named():
    def is_negative(value):
        return value < 0

    assert differences(MESSAGE, {"properties": {"points": is_negative}}) == [
        "properties.points: 10 fails is_negative"
    ]


def test_nearest_misses_come_closest_first_and_skip_matches():
    candidates = [
        {"type": "identify", "userId": "user-2"},
        {"type": "track", "event": "Poll Voted", "userId": "user-2"},
        {"type": "track", "event": "Poll Voted", "userId": "user-1"},
    ]

    lines = nearest_misses(
        candidates,
        {"type": "track", "event": "Poll Voted", "userId": "user-1"},
        describe=lambda message: message["type"],
    )

    assert lines == [
        "  - track",
        '      userId: expected "user-1", got "user-2"',
        "  - identify",
        '      type: expected "track", got "identify"',
        '      event: missing (expected "Poll Voted")',
        '      userId: expected "user-1", got "user-2"',
    ]
