"""pytest plugin of the emulator, registered through the ``pytest11`` entry point.

Every pytest run that has the package installed loads this module, so it only
registers options, markers and fixtures here; the stack and the HTTP client are
imported when a test first asks for them. ``-p no:seglike`` turns it off.

Fixtures: ``segment``, ``livelike`` and ``event_factory`` per test (state reset
first), ``emulator`` for the session's stack, and the override points
``emulator_listen_address``, ``emulator_config_file`` and ``emulator_seed``.
"""

from __future__ import annotations

import pytest

from emulator.pytest_plugin.errors import EmulatorError, ServerError

# pytest finds a plugin's fixtures among its module's attributes.
from emulator.pytest_plugin.fixtures import (  # noqa: F401
    _emulator_reset,
    emulator,
    emulator_config_file,
    emulator_listen_address,
    emulator_seed,
    event_factory,
    livelike,
    segment,
)
from emulator.pytest_plugin.guard import (
    OPT_OUT_MARKER,
    NetworkGuard,
    RealServiceBlocked,
)
from emulator.pytest_plugin.handles import ControlError, LiveLikeHandle, SegmentHandle
from emulator.pytest_plugin.state import STATE_KEY, PluginState

__all__ = [
    "ControlError",
    "EmulatorError",
    "LiveLikeHandle",
    "SegmentHandle",
    "RealServiceBlocked",
    "ServerError",
    "emulator",
    "emulator_config_file",
    "emulator_listen_address",
    "emulator_seed",
    "event_factory",
    "livelike",
    "segment",
]

STRICT_MARKER = "emulator_strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("seglike", "Segment/LiveLike emulator")
    group.addoption(
        "--emulator-url",
        metavar="URL",
        default=None,
        help="Use the Segment service of an already running stack (make emulate) "
        "instead of starting one in-process; state is reset over HTTP.",
    )
    group.addoption(
        "--emulator-livelike-url",
        metavar="URL",
        default=None,
        help="LiveLike service of that stack (default: the Segment port + 1).",
    )
    group.addoption(
        "--emulator-config",
        metavar="FILE",
        default=None,
        help="Stack configuration (YAML) for the in-process stack.",
    )
    group.addoption(
        "--emulator-seed",
        metavar="N",
        type=int,
        default=None,
        help="Seed of event_factory (default 0, or $SEGLIKE_SEED).",
    )
    group.addoption(
        "--emulator-strict",
        action="store_true",
        default=False,
        help="Fail every test whose messages were dropped, rejected or violated "
        "their contract.",
    )
    group.addoption(
        "--emulator-allow-real-services",
        action="store_true",
        default=False,
        help="Do not block connections to the real Segment and LiveLike hosts.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{OPT_OUT_MARKER}: let this test reach the real Segment/LiveLike hosts.",
    )
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}: fail the test if a message it sent was dropped, "
        "rejected or violated its contract.",
    )
    config.stash[STATE_KEY] = PluginState()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    state = item.config.stash.get(STATE_KEY, None)
    guarded = (
        state is not None
        and not item.config.getoption("emulator_allow_real_services")
        and item.get_closest_marker(OPT_OUT_MARKER) is None
    )
    if not guarded:
        return (yield)

    with NetworkGuard(on_blocked=state.blocked.append):
        try:
            return (yield)
        finally:
            state.blocked.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    __tracebackhide__ = True
    state = item.config.stash.get(STATE_KEY, None)
    try:
        result = yield
    except BaseException as failure:
        if state is not None:
            for problem in state.after_test(item):
                failure.add_note(str(problem))
        raise

    if state is not None:
        problems = state.after_test(item)
        if problems:
            for other in problems[1:]:
                problems[0].add_note(str(other))
            raise problems[0]
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()
