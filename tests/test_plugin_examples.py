"""The ``examples/pytest`` project runs green, as a user would run it."""

from __future__ import annotations

import shutil
from pathlib import Path

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "pytest"


def test_the_example_project_passes(pytester):
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, pytester.path / source.name)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*test_a_vote_reaches_segment_and_earns_points PASSED*"]
    )
