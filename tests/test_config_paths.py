"""Paths in a stack configuration are read from the configuration's own folder."""

from __future__ import annotations

import pytest

from emulator.config import ConfigError, load_config

PLAN = """\
version: 1
events:
  Poll Voted:
    properties:
      type: object
      properties:
        choice: {type: string}
"""


def write_config(folder, plan_reference):
    config = folder / "stack.yaml"
    config.write_text(
        "sources:\n"
        "  - name: app\n"
        "    write_key: app-write-key-0000000000000000001\n"
        f"    tracking_plan: {plan_reference}\n"
    )
    return config


def test_a_relative_tracking_plan_is_read_next_to_the_config(tmp_path, monkeypatch):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "fan-app.yaml").write_text(PLAN)
    config = write_config(tmp_path, "plans/fan-app.yaml")
    monkeypatch.chdir(tmp_path.parent)

    (source,) = load_config(config).segment.sources

    assert source.tracking_plan == str(tmp_path / "plans" / "fan-app.yaml")


def test_a_shipped_plan_name_is_kept(tmp_path):
    config = write_config(tmp_path, "video")

    (source,) = load_config(config).segment.sources

    assert source.tracking_plan == "video"


def test_a_missing_plan_names_the_source(tmp_path):
    config = write_config(tmp_path, "plans/nowhere.yaml")

    with pytest.raises(ConfigError) as caught:
        load_config(config)

    assert caught.value.path == "$.sources[0].tracking_plan"
    assert "nowhere.yaml" in str(caught.value)
