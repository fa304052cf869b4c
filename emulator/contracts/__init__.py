"""JSON Schema contracts, tracking plans and violations.

The small public API the other components and tests use::

    from emulator.contracts import validate_message, check, load_plan

    violations = validate_message(message, contract="segment/accepted/track")
    check(body, contract="livelike/segment-events")   # raises ContractViolation
    plan = load_plan("contracts/plans/video.yaml")
    check(message, plan=plan)

Contract names are paths under ``contracts/`` without ``.json``
(:func:`contract_names` lists them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.contracts.schemas import UnknownContract, contract_names
from emulator.contracts.violations import Violation

if TYPE_CHECKING:
    from emulator.contracts.plans import TrackingPlan

__all__ = [
    "ContractViolation",
    "UnknownContract",
    "Violation",
    "check",
    "contract_names",
    "load_plan",
    "validate_message",
]


class ContractViolation(AssertionError):
    """A value that breaks a contract; an AssertionError so pytest shows a failure.

    ``violations`` holds the structured :class:`Violation` list; the message lists
    each one, starting from the offending value.
    """

    def __init__(
        self,
        violations: list[Violation],
        *,
        contract: str | None = None,
        subject: str = "message",
        plan: str | None = None,
    ) -> None:
        self.violations = list(violations)
        self.contract = contract
        self.plan = plan
        names = [name for name in (contract, plan) if name]
        against = f" against {' and '.join(names)}" if names else ""
        count = len(self.violations)
        noun = "violation" if count == 1 else "violations"
        lines = [f"The {subject} breaks its contract{against} ({count} {noun}):"]
        lines += [f"  - {violation}" for violation in self.violations]
        super().__init__("\n".join(lines))

    def to_list(self) -> list[dict[str, Any]]:
        return [violation.to_dict() for violation in self.violations]


def validate_message(message: Any, contract: str = "segment/track") -> list[Violation]:
    """Every violation of *message* against *contract*; an empty list when valid.

    For Segment message contracts a top-level ``null`` counts as an absent field,
    as it does at ingestion.
    """
    from emulator.contracts.validator import validate

    return validate(message, contract)


def load_plan(path: str | Path) -> TrackingPlan:
    """Read a tracking plan (YAML or JSON), or a shipped plan by name (``video``)."""
    from emulator.contracts.plans import load_plan as _load_plan

    return _load_plan(path)


def check(
    message: Any,
    contract: str | None = "segment/track",
    *,
    plan: TrackingPlan | str | Path | None = None,
) -> None:
    """Raise :class:`ContractViolation` unless *message* meets the contract and plan.

    With *plan*, unplanned events and properties count as violations too; pass
    ``contract=None`` to check the plan alone.
    """
    violations = validate_message(message, contract) if contract else []
    broken_contract = contract if violations else None
    broken_plan = None
    if plan is not None:
        if not hasattr(plan, "check"):
            plan = load_plan(plan)
        found = plan.check(message).all
        if found:
            violations += found
            # Name what raised: the plan's own violations are not the contract's.
            broken_plan = f"the tracking plan {plan.name!r} (version {plan.version})"
    if violations:
        raise ContractViolation(violations, contract=broken_contract, plan=broken_plan)
