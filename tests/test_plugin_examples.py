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


def test_the_readme_shows_the_example_as_it_is():
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    section = readme.split("## pytest plugin\n", 1)[1].split("\n## ", 1)[0]

    for source in ("fan_app.py", "test_fan_app.py"):
        code = (EXAMPLES / source).read_text()
        body = code.split("from __future__ import annotations\n\n", 1)[1]
        assert body in section, f"README's pytest section is out of date: {source}"
