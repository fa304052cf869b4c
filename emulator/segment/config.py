"""The ``segment`` and ``sources`` sections of the stack configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceConfig:
    """A Segment source: a name and the write key SDKs authenticate with."""

    name: str
    write_key: str
    strict: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class SegmentConfig:
    sources: list[SourceConfig] = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: str = "$") -> SegmentConfig:
        from emulator.config import ConfigError

        sources = []
        for index, item in enumerate(raw.get("sources") or []):
            where = f"{path}.sources[{index}]"
            if not isinstance(item, dict):
                raise ConfigError("a source must be a mapping", path=where)
            for key in ("name", "write_key"):
                if not isinstance(item.get(key), str) or not item[key]:
                    raise ConfigError(f"{key!r} must be a non-empty string", path=where)
            sources.append(
                SourceConfig(
                    name=item["name"],
                    write_key=item["write_key"],
                    strict=bool(item.get("strict", False)),
                    raw=item,
                )
            )
        return cls(sources=sources)
