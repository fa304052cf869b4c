"""The ``segment`` and ``sources`` sections of the stack configuration."""

from __future__ import annotations

import pytest

from emulator.config import ConfigError, load_config, parse_config

SOURCE = {"name": "app", "write_key": "seglike-app-key-0000000000000001"}


def test_the_default_config_has_the_documented_limits():
    segment = load_config().segment

    assert (
        segment.limits.message_bytes,
        segment.limits.request_bytes,
        segment.limits.batch_messages,
    ) == (32768, 512000, 2500)
    assert segment.dedupe_window_seconds == 86400
    assert segment.dedupe_scope == "global"
    assert segment.max_messages == 100000
    assert segment.source_by_name("demo-app").write_key.startswith("seglike-demo")


def test_defaults_apply_when_the_section_is_missing():
    segment = parse_config({"sources": [SOURCE]}).segment

    assert segment.limits.request_bytes == 512000
    assert segment.source_by_key(SOURCE["write_key"]).name == "app"
    assert segment.source_by_key("nobody") is None


@pytest.mark.parametrize(
    "raw, path, needle",
    [
        ({"segment": {"limits": {"message_bytes": 0}}}, "$.segment.limits", ">= 1"),
        ({"segment": {"limits": {"batch_messages": "x"}}}, "$.segment.limits", "'x'"),
        ({"segment": {"limits": []}}, "$.segment.limits", "mapping"),
        ({"segment": {"max_messages": True}}, "$.segment.max_messages", "True"),
        ({"segment": {"dedupe_scope": "world"}}, "$.segment.dedupe_scope", "world"),
        ({"segment": {"dedupe_window_seconds": -1}}, "$.segment", ">= 0"),
        ({"segment": 3}, "$.segment", "mapping"),
        ({"sources": [SOURCE, SOURCE]}, "$.sources[1].name", "twice"),
        (
            {"sources": [SOURCE, dict(SOURCE, name="b")]},
            "$.sources[1].write_key",
            "already used",
        ),
        ({"sources": [dict(SOURCE, strict="yes")]}, "$.sources[0].strict", "yes"),
    ],
)
def test_bad_values_are_refused_with_their_path(raw, path, needle):
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)

    assert caught.value.path.startswith(path)
    assert needle in caught.value.reason
