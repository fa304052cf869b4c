"""The pytest plugin's overheads: starting the session's stack, resetting per test.

Both are measured the way the plugin runs them: ``EmulatorSession.start`` (the
stack on free ports with an in-memory store, answering ``/_emulator/ready``) and
``EmulatorSession.reset`` (what happens before each test). A session start is
cold in a user's run, so it is timed in fresh interpreters that have imported
pytest (as a test session has) but none of the emulator.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.figures import Figure

COLD_STARTS = 3
WARM_STARTS = 5
RESETS = 200

_COLD_START = """
import time
import pytest

began = time.perf_counter()
from emulator.pytest_plugin.session import EmulatorSession

session = EmulatorSession.start(None)
response = session.http.get(session.segment_url + "/_emulator/ready")
elapsed = time.perf_counter() - began
assert response.status_code == 200, response.text
session.close()
print(elapsed)
"""


def _cold_start() -> float:
    done = subprocess.run(
        [sys.executable, "-c", _COLD_START],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return float(done.stdout.split()[-1])


def run() -> list[Figure]:
    from emulator.pytest_plugin.session import EmulatorSession

    cold = [_cold_start() for _ in range(COLD_STARTS)]

    warm = []
    for _ in range(WARM_STARTS):
        began = time.perf_counter()
        session = EmulatorSession.start(None)
        response = session.http.get(f"{session.segment_url}/_emulator/ready")
        warm.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text
        session.close()

    session = EmulatorSession.start(None)
    resets = []
    for _ in range(RESETS):
        began = time.perf_counter()
        session.reset()
        resets.append(time.perf_counter() - began)
    session.close()

    p95 = sorted(resets)[int(RESETS * 0.95)]
    return [
        Figure(
            "session start, cold (imports included)",
            statistics.median(cold),
            "s",
            target=0.5,
            higher_is_better=False,
            note=f"median of {COLD_STARTS} fresh interpreters, max {max(cold):.3f} s",
        ),
        Figure(
            "session start, warm",
            statistics.median(warm),
            "s",
            higher_is_better=False,
            note=f"median of {WARM_STARTS}",
        ),
        Figure(
            "per-test reset",
            statistics.median(resets) * 1e3,
            "ms",
            target=5.0,
            higher_is_better=False,
            note=f"median of {RESETS}, p95 {p95 * 1e3:.2f} ms",
        ),
    ]
