"""The ``livelike`` section of the stack configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LiveLikeConfig:
    """TODO(livelike): placeholder; the LiveLike issue defines applications."""

    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: str = "$.livelike") -> LiveLikeConfig:
        return cls(raw=raw)
