"""The plugin as a user's project meets it: fixtures, assertions, failures, xdist.

Each test writes a small project with pytester and runs pytest on it, so the
plugin is exercised through its entry point exactly as it is installed.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PROJECT = """
import pytest
import requests


def test_sends_and_finds(segment):
    client = segment.client()
    client.track(
        user_id="fan-1", event="Poll Voted", properties={"poll_id": "p1", "choice": "A"}
    )

    message = segment.assert_received(
        type="track", event="Poll Voted", properties={"choice": "A"}
    )
    assert message["userId"] == "fan-1"
    segment.assert_not_received(event="Quiz Answered")


def test_starts_empty_after_the_previous_test(segment):
    assert segment.records() == []


def test_wrong_property(segment):
    client = segment.client()
    client.track(user_id="fan-1", event="Poll Voted", properties={"choice": "A"})

    segment.assert_received(event="Poll Voted", properties={"choice": "B"}, timeout=0)


def test_unexpected_message(segment):
    segment.client().track(user_id="fan-1", event="Poll Voted")

    segment.assert_not_received(event="Poll Voted")


@pytest.mark.emulator_strict
def test_strict_mode_reports_a_dropped_message(segment):
    response = requests.post(
        f"{segment.url}/v1/track",
        json={"event": "Poll Voted"},
        auth=(segment.write_key, ""),
        timeout=5,
    )
    assert response.status_code == 200
"""


@pytest.fixture
def outcome(pytester):
    pytester.makepyfile(test_project=PROJECT)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider")


def test_passing_tests_pass_and_state_is_reset_between_tests(outcome):
    outcome.assert_outcomes(passed=2, failed=3)
    failed = [line for line in outcome.outlines if line.startswith("FAILED")]
    assert [line.split()[1] for line in failed] == [
        "test_project.py::test_wrong_property",
        "test_project.py::test_unexpected_message",
        "test_project.py::test_strict_mode_reports_a_dropped_message",
    ]


def test_a_missed_expectation_shows_the_nearest_miss(outcome):
    outcome.stdout.fnmatch_lines(
        [
            '*Expected 1 message(s) matching event="Poll Voted", '
            # The vote also earns points, and LiveLike's reward events may or may
            # not be back in Segment yet: the count is not the point here.
            'properties={"choice": "B"}; found 0 after 0s (* stored in this test).',
            "*Nearest misses:",
            "*- track 'Poll Voted' user='fan-1' messageId=*",
            '*properties.choice: expected "B", got "A"',
        ]
    )


def test_an_unexpected_message_is_described(outcome):
    outcome.stdout.fnmatch_lines(
        [
            '*Expected no message matching event="Poll Voted", found 1:',
            "*- track 'Poll Voted' user='fan-1' messageId=*",
        ]
    )


def test_strict_mode_raises_a_contract_violation_with_the_drop_reason(outcome):
    outcome.stdout.fnmatch_lines(
        [
            "*ContractViolation: The traffic of this test breaks its contract*",
            "*Strict mode: these messages were not accepted cleanly:",
            "*status=dropped reasons=?'no_user_anon_id'?",
        ]
    )


def test_errors_in_the_emulator_threads_fail_the_test_that_caused_them(pytester):
    pytester.makepyfile(
        """
        import logging
        import threading

        def test_server_thread_fails(segment):
            def handler():
                try:
                    raise KeyError("boom")
                except KeyError:
                    logging.getLogger("emulator.segment.app").exception("view failed")

            thread = threading.Thread(target=handler, name="seglike-segment")
            thread.start()
            thread.join()

        def test_next_test_is_clean(segment):
            pass
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ServerError: 1 error(s) in the emulator's threads during this test:",
            "*--- seglike-segment (emulator.segment.app): view failed",
            "*KeyError: 'boom'",
        ]
    )


def test_runs_under_xdist_with_one_stack_per_worker(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_isolated(segment, n):
            client = segment.client()
            client.track(user_id=f"fan-{n}", event="Poll Voted")

            assert [m["userId"] for m in segment.messages()] == [f"fan-{n}"]
        """
    )

    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=6)


def test_emulator_url_uses_a_running_stack(pytester):
    from emulator.stack import Stack

    pytester.makepyfile(
        """
        def test_remote(segment, emulator):
            assert not emulator.in_process
            segment.client().track(user_id="fan-1", event="Article Read")
            segment.assert_received(event="Article Read")

        def test_reset_over_http(segment):
            assert segment.records() == []
        """
    )

    with Stack(store=":memory:") as stack:
        result = pytester.runpytest_inprocess(
            "-p",
            "no:cacheprovider",
            f"--emulator-url={stack.segment_url}",
            f"--emulator-livelike-url={stack.livelike_url}",
        )

    result.assert_outcomes(passed=2)


def test_emulator_url_says_when_nothing_answers(pytester):
    pytester.makepyfile("def test_remote(segment):\n    pass\n")

    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--emulator-url=http://127.0.0.1:9"
    )

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No emulator answers at 'http://127.0.0.1:9'*"])


def test_emulator_url_refuses_to_be_shared_by_xdist_workers(pytester):
    pytester.makepyfile("def test_remote(segment):\n    pass\n")

    result = pytester.runpytest_subprocess(
        "-n", "1", "-p", "no:cacheprovider", "--emulator-url=http://127.0.0.1:9"
    )

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot be shared by pytest-xdist workers*"])


def test_livelike_misses_show_balances_and_the_closest_rewards(pytester):
    pytester.makepyfile(
        """
        def test_wrong_amount(segment, livelike):
            segment.client().track("fan-0001", "Poll Voted", {"poll_id": "p1"})
            livelike.assert_rewarded(user_id="fan-0001", amount=10)

            livelike.assert_rewarded(user_id="fan-0001", amount=50, timeout=0)

        def test_unknown_profile(segment, livelike):
            livelike.assert_rewarded(user_id="nobody", item="Points", timeout=0)

        def test_event_not_delivered(segment, livelike):
            segment.client().track("fan-0001", "Poll Voted")
            livelike.assert_received(event_name="Poll Voted")

            livelike.assert_received(event_name="Quiz Answered", timeout=0)
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            '*Expected profile user_id="fan-0001" to be rewarded '
            "(reward_item_amount=50) within 0s.",
            "*Balances: {'Points': 10}",
            "*Badges: []",
            "*Nearest misses:",
            "*- 10 Points for 'poll-voted'",
            "*reward_item_amount: expected 50, got 10",
        ]
    )
    result.stdout.fnmatch_lines(["*No such profile exists in LiveLike.*"])
    result.stdout.fnmatch_lines(
        [
            '*Expected LiveLike to receive an event matching event_name="Quiz '
            'Answered" within 0s; 1 event(s) received.',
            "*- track 'Poll Voted' user='fan-0001'",
            '*event_name: expected "Quiz Answered", got "Poll Voted"',
        ]
    )
