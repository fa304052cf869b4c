"""The ``destinations`` of each source in the stack configuration."""

from __future__ import annotations

from typing import Any


def parse_destinations(raw: Any, path: str) -> list[Any]:
    """Parse a source's list of destinations.

    TODO(pipeline): placeholder that keeps the raw mappings; the pipeline issue
    parses settings, presets and subscriptions.
    """
    from emulator.config import ConfigError

    if not isinstance(raw, list):
        raise ConfigError("destinations must be a list", path=path)
    return list(raw)
