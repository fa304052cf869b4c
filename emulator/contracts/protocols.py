"""Tracking-plan enforcement applied by the ingestion service (Segment Protocols).

A source may name a tracking plan and set the controls Segment's "Schema
Configuration" offers, per call type:

==========  ==================  ==============================  =================
call        unplanned events    unplanned properties / traits   schema violations
==========  ==================  ==============================  =================
track       allow / block       allow / omit                    allow / block / omit
identify    (n/a)               allow / omit                    allow / block / omit
group       (n/a)               allow / omit                    allow / block / omit
==========  ==================  ==============================  =================

plus the same allow / block / omit for violations of the plan's common rule.
Page and screen calls are checked and their violations recorded, never blocked or
trimmed (Segment has no controls for them). Blocking uses Segment's discard codes
(``unplanned``, ``schema_violation``, ``common_schema_violation``,
``unplanned_and_schema_violation``); what was omitted and the violations are
recorded in ``context.protocols``. With ``forward_violations`` each violation also
becomes a ``Violation Generated`` track message; with ``forward_blocked: <source>``
a blocked message is handed to that source instead of being lost.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from emulator.contracts.plans import PlanError, PlanReport, TrackingPlan, cached_plan
from emulator.contracts.violations import Violation

log = logging.getLogger(__name__)

CHOICES = {
    "unplanned_events": ("allow", "block"),
    "unplanned_properties": ("allow", "omit"),
    "violations": ("allow", "block", "omit"),
    "common_violations": ("allow", "block", "omit"),
}
CONTROLLED_TYPES = ("track", "identify", "group")
VIOLATION_EVENT = "Violation Generated"
VIOLATION_USER = "schema-violations"
_OMITTABLE = ("properties", "traits", "context")


@dataclass
class Enforcement:
    """What the plan of a source did to one message."""

    message: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)
    blocked: bool = False
    reason: str | None = None  # a discard code such as "unplanned" when blocked
    forwarded: list[dict[str, Any]] = field(
        default_factory=list
    )  # "Violation Generated" messages, or {"source", "message"} for blocked ones


@dataclass(frozen=True)
class Controls:
    """A source's Protocols controls; ``overrides`` hold per-call-type changes."""

    unplanned_events: str = "allow"
    unplanned_properties: str = "allow"
    violations: str = "allow"
    common_violations: str = "allow"
    forward_violations: bool = False
    forward_blocked: str | None = None
    overrides: tuple[tuple[str, dict[str, str]], ...] = ()

    def for_type(self, call_type: Any) -> Controls:
        """The controls that apply to one call type."""
        for name, changes in self.overrides:
            if name == call_type:
                return replace(self, overrides=(), **changes)
        return self


def parse_controls(raw: Any, path: str = "$.protocols") -> Controls:
    """Read a source's ``protocols`` mapping; raises ``ConfigError`` when unusable."""
    from emulator.config import ConfigError

    if raw is None:
        return Controls()
    if not isinstance(raw, dict):
        raise ConfigError("'protocols' must be a mapping of controls", path=path)

    def choice(section: dict[str, Any], key: str, where: str) -> str:
        value = section[key]
        allowed = CHOICES[key]
        if value not in allowed:
            raise ConfigError(
                f"{key!r} must be one of {', '.join(allowed)}, not {value!r}",
                path=f"{where}.{key}",
            )
        return value

    known = {*CHOICES, "forward_violations", "forward_blocked", *CONTROLLED_TYPES}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"unknown control(s) {', '.join(map(repr, unknown))}; the controls are "
            f"{', '.join(sorted(known))}",
            path=path,
        )
    values: dict[str, Any] = {
        key: choice(raw, key, path) for key in CHOICES if key in raw
    }

    forward = raw.get("forward_violations", False)
    if not isinstance(forward, bool):
        raise ConfigError(
            f"'forward_violations' must be true or false, not {forward!r}",
            path=f"{path}.forward_violations",
        )
    target = raw.get("forward_blocked")
    if target is not None and (not isinstance(target, str) or not target):
        raise ConfigError(
            f"'forward_blocked' must name a source, not {target!r}",
            path=f"{path}.forward_blocked",
        )

    overrides = []
    for call_type in CONTROLLED_TYPES:
        section = raw.get(call_type)
        if section is None:
            continue
        where = f"{path}.{call_type}"
        if not isinstance(section, dict):
            raise ConfigError(
                f"'{call_type}' must be a mapping of controls", path=where
            )
        section = dict(section)
        if "unplanned_traits" in section:
            section["unplanned_properties"] = section.pop("unplanned_traits")
        allowed = set(CHOICES) - (
            {"unplanned_events"} if call_type != "track" else set()
        )
        extra = sorted(set(section) - allowed)
        if extra:
            raise ConfigError(
                f"unknown control(s) {', '.join(map(repr, extra))} for {call_type}; "
                f"use {', '.join(sorted(allowed))}",
                path=where,
            )
        overrides.append(
            (call_type, {key: choice(section, key, where) for key in section})
        )
    return Controls(
        **values,
        forward_violations=forward,
        forward_blocked=target,
        overrides=tuple(overrides),
    )


def _setting(source: Any, name: str) -> Any:
    value = getattr(source, name, None)
    if value is None:
        raw = getattr(source, "raw", None)
        if isinstance(raw, dict):
            value = raw.get(name)
    return value


def controls_for(source: Any) -> Controls:
    controls = _setting(source, "protocols")
    if isinstance(controls, Controls):
        return controls
    try:
        return parse_controls(controls)
    except ValueError as error:
        log.warning(
            "protocols controls unusable source=%s error=%s", _name(source), error
        )
        return Controls()


def plan_for(source: Any) -> TrackingPlan | None:
    """The tracking plan a source names (re-read when its file changes), or None."""
    reference = _setting(source, "tracking_plan")
    if not reference:
        return None
    if isinstance(reference, TrackingPlan):
        return reference
    try:
        return cached_plan(reference, keep_last_good=True)
    except (PlanError, OSError) as error:
        log.warning("tracking plan unusable source=%s error=%s", _name(source), error)
        return None


def _name(source: Any) -> str:
    return str(getattr(source, "name", None) or "")


def enforce(message: dict[str, Any], source: Any) -> Enforcement:
    """Apply the tracking plan and controls of *source* to a normalised message."""
    if source is None or not isinstance(message, dict) or _exempt(message):
        return Enforcement(message=message)
    plan = plan_for(source)
    if plan is None:
        return Enforcement(message=message)

    report = plan.check(message)
    found = report.all
    if not found:
        return Enforcement(message=message)

    call_type = message.get("type")
    controls = controls_for(source).for_type(call_type)
    reason = _block_reason(call_type, report, controls)

    result = copy.deepcopy(message)
    omitted: list[str] = []
    omitted_on_violation: list[str] = []
    if reason is None and call_type in CONTROLLED_TYPES:
        if controls.unplanned_properties == "omit":
            omitted = _omit(result, report.unplanned)
        if controls.violations == "omit":
            omitted_on_violation += _omit(result, report.violations)
        if controls.common_violations == "omit":
            omitted_on_violation += _omit(result, report.common)
    _annotate(result, source, found, omitted, omitted_on_violation)

    forwarded: list[dict[str, Any]] = []
    if controls.forward_violations:
        forwarded += [_violation_message(message, source, plan, v) for v in found]
    if reason is not None and controls.forward_blocked:
        forwarded.append({"source": controls.forward_blocked, "message": message})
    if reason is not None:
        log.debug("message blocked source=%s reason=%s", _name(source), reason)
    return Enforcement(
        message=result,
        violations=[violation.to_dict() for violation in found],
        blocked=reason is not None,
        reason=reason,
        forwarded=forwarded,
    )


def _exempt(message: dict[str, Any]) -> bool:
    # Segment's own violation events, and events forwarded from another source,
    # are never checked or blocked again.
    if "forwardedFromProject" in message:
        return True
    return message.get("event") == VIOLATION_EVENT and (
        message.get("userId") == VIOLATION_USER
    )


def _block_reason(call_type: Any, report: PlanReport, controls: Controls) -> str | None:
    if call_type not in CONTROLLED_TYPES:
        return None
    unplanned = (
        report.unplanned_event is not None and controls.unplanned_events == "block"
    )
    schema = bool(report.violations) and controls.violations == "block"
    common = bool(report.common) and controls.common_violations == "block"
    if unplanned and (schema or common):
        return "unplanned_and_schema_violation"
    if unplanned:
        return "unplanned"
    if schema:
        return "schema_violation"
    if common:
        return "common_schema_violation"
    return None


def _omit(message: dict[str, Any], violations: list[Violation]) -> list[str]:
    """Remove each offending top-level property/trait/context key; say which."""
    removed = []
    for violation in violations:
        parts = violation.parts
        if violation.type == "Required" or len(parts) < 2 or parts[0] not in _OMITTABLE:
            continue
        section, key = parts[0], parts[1]
        holder = message.get(section)
        if isinstance(holder, dict) and key in holder:
            del holder[key]
            removed.append(f"{section}.{key}")
    return removed


def _annotate(
    message: dict[str, Any],
    source: Any,
    found: list[Violation],
    omitted: list[str],
    omitted_on_violation: list[str],
) -> None:
    context = message.get("context")
    if not isinstance(context, dict):
        context = message["context"] = {}
    protocols = context.get("protocols")
    if not isinstance(protocols, dict):
        protocols = context["protocols"] = {}
    protocols["sourceId"] = _name(source)
    protocols["violations"] = [violation.segment_dict() for violation in found]
    if omitted:
        protocols["omitted"] = omitted
    if omitted_on_violation:
        protocols["omitted_on_violation"] = omitted_on_violation


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _violation_message(
    message: dict[str, Any], source: Any, plan: TrackingPlan, violation: Violation
) -> dict[str, Any]:
    """One violation as the ``Violation Generated`` track call Segment forwards."""
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    app = context.get("app") if isinstance(context.get("app"), dict) else {}
    name = _name(source)
    event_name = message.get("event") if message.get("type") == "track" else None
    if event_name is None and message.get("type") in ("page", "screen"):
        event_name = message.get("name") or f"{message['type'].title()} Viewed"
    now = _now()
    forwarded: dict[str, Any] = {
        "type": "track",
        "event": VIOLATION_EVENT,
        "userId": VIOLATION_USER,
        "messageId": f"sch-{uuid.uuid4().hex}",
        "forwardedFromProject": name,
        "timestamp": now,
        "receivedAt": message.get("receivedAt") or now,
        "properties": {
            "appVersion": app.get("version"),
            "eventMessageID": message.get("messageId"),
            "eventName": event_name,
            "eventSentAt": message.get("sentAt"),
            "eventTimestamp": message.get("timestamp"),
            "eventType": message.get("type"),
            "sourceID": name,
            "sourceName": name,
            "sourceSlug": _slug(name),
            "trackingPlanID": _slug(plan.name),
            "trackingPlanName": plan.name,
            "violationDescription": violation.description,
            "violationField": violation.field,
            "violationType": violation.type,
        },
        "context": {key: context[key] for key in ("app", "library") if key in context},
    }
    return forwarded


def describe_controls(controls: Controls) -> dict[str, Any]:
    """The controls as a plain mapping (for the control API and docs)."""
    data = {f.name: getattr(controls, f.name) for f in fields(controls)}
    data["overrides"] = dict(controls.overrides)
    return data


def parse_source_protocols(
    item: dict[str, Any], where: str
) -> tuple[str | None, Controls]:
    """A source's ``tracking_plan`` and ``protocols``, checked at config time.

    The plan is loaded once here so that a missing or broken plan file fails the
    configuration, naming the source, instead of being noticed at ingestion.
    """
    from emulator.config import ConfigError

    reference = item.get("tracking_plan")
    if reference is not None:
        if not isinstance(reference, str) or not reference:
            raise ConfigError(
                f"'tracking_plan' must be a plan file or a shipped plan name, "
                f"not {reference!r}",
                path=f"{where}.tracking_plan",
            )
        try:
            cached_plan(reference)
        except PlanError as error:
            raise ConfigError(str(error), path=f"{where}.tracking_plan") from None
    return reference, parse_controls(item.get("protocols"), path=f"{where}.protocols")
