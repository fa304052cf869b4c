"""Tracking-plan enforcement applied by the ingestion service (Segment Protocols).

TODO(contracts): placeholder that lets every message through; the contracts
issue implements plans, controls and violations behind this same function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Enforcement:
    """What the plan of a source did to one message."""

    message: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)
    blocked: bool = False
    reason: str | None = None  # a discard code such as "unplanned" when blocked
    forwarded: list[dict[str, Any]] = field(
        default_factory=list
    )  # "Violation Generated"


def enforce(message: dict[str, Any], source: Any) -> Enforcement:
    """Apply the tracking plan and controls of *source* to a normalised message."""
    return Enforcement(message=message)
