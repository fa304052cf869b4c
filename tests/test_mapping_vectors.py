"""Every mapping-kit vector checked against Segment's real code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.actions import mapping

CASES = json.loads(
    (Path(__file__).parent / "vectors" / "mapping_cases.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_mapping_vector(case: dict) -> None:
    if case.get("error"):
        with pytest.raises(mapping.MappingError) as raised:
            mapping.transform(case["mapping"], case["input"])
        if "error_contains" in case:
            messages = raised.value.messages
            assert any(case["error_contains"] in message for message in messages)
        return

    assert mapping.transform(case["mapping"], case["input"]) == case["expected"]
