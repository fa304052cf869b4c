"""Every positive generated event meets the Segment contracts, over many seeds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.contracts import validate_message
from emulator.generator import EventFactory


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    users=st.integers(min_value=1, max_value=40),
    invalid_rate=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_positive_events_validate_against_the_contracts(seed, users, invalid_rate):
    factory = EventFactory(seed, users=users, invalid_rate=invalid_rate)
    for event in factory.stream(300):
        if event.expect is not None:
            continue
        message = event.message
        for contract in (
            f"segment/{message['type']}",
            f"segment/accepted/{message['type']}",
        ):
            assert validate_message(message, contract) == [], (contract, message)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_dropped_near_misses_break_the_accepted_contract(seed):
    factory = EventFactory(seed, users=10, invalid_rate=0.5)
    checked = 0
    for event in factory.stream(200):
        expect = event.expect
        if expect is None or expect.outcome != "dropped" or expect.kind == "duplicate":
            continue
        message = event.message
        call_type = message.get("type")
        contract = (
            f"segment/accepted/{call_type}"
            if call_type in ("track", "page", "screen", "identify", "group", "alias")
            else "segment/accepted/message"
        )
        assert validate_message(message, contract), (expect, message)
        checked += 1
    assert checked
