"""Every example payload of Segment's Spec docs meets the Segment contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.contracts import load_plan, validate_message

DATA = Path(__file__).parent / "data" / "spec_examples"


def _examples():
    for path in sorted(DATA.glob("*.json")):
        document = json.loads(path.read_text())
        for index, example in enumerate(document["examples"]):
            yield pytest.param(
                path.stem, example, id=f"{path.stem}[{index}]-{example['form']}"
            )


EXAMPLES = list(_examples())
# Published JSON payloads that carry an identity; the short ones leave it to the SDK.
COMPLETE = [
    p
    for p in EXAMPLES
    if p.values[1]["form"] == "json"
    and {"userId", "anonymousId"} & set(p.values[1]["message"])
]


def _call_type(message):
    # Old Video Spec examples name the call "action" instead of "type".
    return message.get("type") or message.get("action")


def test_the_examples_cover_every_call_type():
    kinds = {_call_type(p.values[1]["message"]) for p in EXAMPLES}

    assert kinds == {"identify", "track", "page", "screen", "group", "alias"}
    assert len(EXAMPLES) >= 90
    assert len(COMPLETE) >= 40


@pytest.mark.parametrize(("page", "example"), EXAMPLES)
def test_example_meets_the_spec_shape(page, example):
    message = example["message"]

    assert validate_message(message, f"segment/{_call_type(message)}") == []


@pytest.mark.parametrize(("page", "example"), COMPLETE)
def test_complete_examples_are_accepted_by_ingestion(page, example):
    message = example["message"]

    assert validate_message(message, f"segment/accepted/{_call_type(message)}") == []


@pytest.mark.parametrize(
    ("plan_name", "page"), [("ecommerce-v2", "ecommerce-v2"), ("video", "video")]
)
def test_semantic_examples_meet_their_ready_plan(plan_name, page):
    plan = load_plan(plan_name)
    document = json.loads((DATA / f"{page}.json").read_text())
    checked = 0

    for example in document["examples"]:
        message = {"type": "track", **example["message"]}
        report = plan.check(message)
        assert report.all == [], (message["event"], [str(v) for v in report.all])
        checked += 1

    assert checked >= 16
