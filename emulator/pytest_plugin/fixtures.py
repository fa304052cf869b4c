"""The plugin's fixtures, in the pytest-httpserver pattern.

One stack per session (per xdist worker, since each is its own process), handles
per test that reset it first, and small session fixtures a project overrides in
its ``conftest.py`` to change where and how the stack runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.pytest_plugin.state import STATE_KEY

if TYPE_CHECKING:
    from emulator.pytest_plugin.handles import LiveLikeHandle, SegmentHandle
    from emulator.pytest_plugin.session import EmulatorSession


@pytest.fixture(scope="session")
def emulator_listen_address() -> str:
    """Address the in-process stack binds (ports are always picked free)."""
    return os.environ.get("SEGLIKE_HOST", "127.0.0.1")


@pytest.fixture(scope="session")
def emulator_config_file(pytestconfig: pytest.Config) -> Path | None:
    """Stack configuration file; ``None`` means the packaged default."""
    value = pytestconfig.getoption("emulator_config") or os.environ.get(
        "SEGLIKE_CONFIG"
    )
    return Path(value) if value else None


@pytest.fixture(scope="session")
def emulator_seed(pytestconfig: pytest.Config) -> int:
    """Seed of ``event_factory``: the same seed gives the same events."""
    value = pytestconfig.getoption("emulator_seed")
    if value is None:
        value = int(os.environ.get("SEGLIKE_SEED", "0"))
    return value


@pytest.fixture(scope="session")
def emulator(
    pytestconfig: pytest.Config,
    emulator_listen_address: str,
    emulator_config_file: Path | None,
) -> Iterator[EmulatorSession]:
    """The session's stack: started on first use, stopped when the session ends."""
    state = pytestconfig.stash[STATE_KEY]
    session = state.open_session(
        url=pytestconfig.getoption("emulator_url"),
        livelike_url=pytestconfig.getoption("emulator_livelike_url"),
        config_file=emulator_config_file,
        host=emulator_listen_address,
        # pytester runs inside a worker inherit its environment, not its role.
        xdist_worker=hasattr(pytestconfig, "workerinput"),
    )
    yield session
    state.close()


@pytest.fixture
def _emulator_reset(pytestconfig: pytest.Config, emulator: EmulatorSession) -> None:
    """Reset the stack once per test, however many handles the test uses."""
    pytestconfig.stash[STATE_KEY].before_test()


@pytest.fixture
def segment(
    request: pytest.FixtureRequest,
    emulator: EmulatorSession,
    _emulator_reset: None,
) -> Iterator[SegmentHandle]:
    """The Segment service, emptied for this test."""
    from emulator.pytest_plugin.handles import SegmentHandle

    strict = request.config.getoption("emulator_strict") or (
        request.node.get_closest_marker("emulator_strict") is not None
    )
    handle = SegmentHandle(emulator, strict=strict)
    yield handle
    handle.close()


@pytest.fixture
def livelike(
    emulator: EmulatorSession, _emulator_reset: None
) -> Iterator[LiveLikeHandle]:
    """The LiveLike service and its rewards, emptied for this test."""
    from emulator.pytest_plugin.handles import LiveLikeHandle

    handle = LiveLikeHandle(emulator)
    yield handle
    handle.close()


@pytest.fixture
def event_factory(emulator_seed: int, emulator_config_file: Path | None) -> Any:
    """The seeded event generator (``emulator.generator.EventFactory``).

    Some of its users are the LiveLike profiles of the stack configuration, so
    their events can be rewarded. The same seed gives the same events.
    """
    from emulator.config import load_config
    from emulator.generator import EventFactory, LiveLikeIdentity

    livelike = load_config(emulator_config_file).livelike
    identities = [
        LiveLikeIdentity(livelike_profile_id=profile.id, custom_id=profile.custom_id)
        for application in getattr(livelike, "applications", None) or []
        for profile in application.profiles
    ]
    return EventFactory(seed=emulator_seed, livelike=identities)
