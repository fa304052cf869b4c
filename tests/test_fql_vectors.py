"""Every subscription vector checked against Segment's real code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.actions import fql

CASES = json.loads(
    (Path(__file__).parent / "vectors" / "fql_cases.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_fql_vector(case: dict) -> None:
    if case.get("parse_error"):
        with pytest.raises(fql.FqlError):
            fql.parse(case["fql"])
        return

    parsed = fql.parse(case["fql"])

    assert fql.matches(parsed, case["event"]) is case["matches"]
    assert fql.matches(case["fql"], case["event"]) is case["matches"]
