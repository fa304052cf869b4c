"""The network guard: real Segment/LiveLike hosts fail fast, loopback still works."""

from __future__ import annotations

import socket

import pytest
import requests

from emulator.pytest_plugin.guard import (
    NetworkGuard,
    RealServiceBlocked,
    is_real_service,
)

pytest_plugins = ["pytester"]

# These tests install their own guard, so the plugin's own one steps aside.
pytestmark = pytest.mark.emulator_allow_real_services


@pytest.mark.parametrize(
    "host",
    [
        "api.segment.io",
        "API.Segment.IO.",
        "events.eu1.segmentapis.com",
        "cdn.segment.com",
        "cf-blast.livelikecdn.com",
        b"cf-blast-iconic.livelikecdn.com",
    ],
)
def test_vendor_hosts_are_real_services(host):
    assert is_real_service(host)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "notsegment.io", "segment.io.example", None]
)
def test_other_hosts_are_not(host):
    assert not is_real_service(host)


def test_requests_to_a_real_host_fail_with_a_clear_message():
    blocked = []
    with NetworkGuard(on_blocked=blocked.append):
        with pytest.raises(requests.ConnectionError) as raised:
            requests.post("https://api.segment.io/v1/batch", json={}, timeout=1)

    assert "blocked a connection to 'api.segment.io'" in str(raised.value)
    assert [error.host for error in blocked] == ["api.segment.io"]


def test_name_resolution_of_a_real_host_fails_at_the_socket_level():
    with NetworkGuard(), pytest.raises(RealServiceBlocked, match="livelikecdn"):
        socket.getaddrinfo("cf-blast.livelikecdn.com", 443)


def test_loopback_still_resolves_and_the_guard_restores_everything():
    original = socket.getaddrinfo
    with NetworkGuard():
        assert socket.getaddrinfo("127.0.0.1", 80)
        assert socket.getaddrinfo is not original

    assert socket.getaddrinfo is original


def test_the_plugin_fails_a_test_whose_sdk_swallowed_the_block(pytester):
    pytester.makepyfile(
        """
        import threading
        import requests

        def test_background_send():
            def send():
                try:
                    requests.post("https://api.segment.io/v1/batch", timeout=1)
                except requests.ConnectionError:
                    pass  # an SDK's consumer thread logs and carries on

            thread = threading.Thread(target=send)
            thread.start()
            thread.join()
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E *.RealServiceBlocked: The emulator's pytest plugin blocked a connection"
            " to 'api.segment.io'*@pytest.mark.emulator_allow_real_services to allow*",
        ]
    )
    assert "guarded_send" not in result.stdout.str()


def test_the_marker_lets_a_test_reach_the_host(pytester):
    pytester.makepyfile(
        """
        import socket
        import pytest
        from emulator.pytest_plugin.guard import is_real_service

        @pytest.mark.emulator_allow_real_services
        def test_allowed():
            # Nothing patched: getaddrinfo is the socket module's own function.
            assert socket.getaddrinfo.__module__ == "socket"

        def test_guarded():
            assert socket.getaddrinfo.__module__ != "socket"
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)
