"""Bend generated events to a tracking plan, and make the plan's near-misses.

A plan is reduced to one JSON Schema per rule (track event name, identify traits,
group traits, page and screen properties). Journey events that the plan knows keep
their values where the rule accepts them and get generated ones where it does not;
events the plan does not list are swapped for planned ones, and properties the
plan does not list are left out, so every positive event satisfies the plan.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from emulator.generator.journeys import TRACK_EVENTS
from emulator.generator.negatives import Expectation

FIELD_OF = {
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "identify": "traits",
    "group": "traits",
}
log = logging.getLogger(__name__)

MAX_MISSES = 1000  # messages in a row the plan faults before giving up
STAND_IN_SHARE = 0.3  # of unplanned journey events, replaced by an unmade one


class PlanError(ValueError):
    """A tracking plan the generator cannot read."""


@dataclass
class PlanRules:
    """The schemas of one plan, keyed the way messages are looked up."""

    name: str = "plan"
    track: dict[str, dict[str, Any]] = field(default_factory=dict)
    identify: dict[str, Any] | None = None
    group: dict[str, Any] | None = None
    page: dict[str, Any] | None = None
    screen: dict[str, Any] | None = None
    compiled: Any = None  # emulator.contracts.plans.TrackingPlan, when parsed

    def rule(self, message: dict[str, Any]) -> dict[str, Any] | None:
        call_type = message.get("type")
        if call_type == "track":
            return self.track.get(message.get("event"))
        return getattr(self, call_type, None) if call_type in FIELD_OF else None


def load_rules(plan: Any) -> PlanRules:
    """Accept a plan file path, a shipped plan's name, a parsed document or rules.

    Documents use the project's plan format (``emulator.contracts.plans``:
    ``events: {name: {properties: <schema>}}``, ``identify: {traits: ...}``,
    ``page``/``screen``/``group``) or Segment's Public API export
    (``rules: [{type, key, jsonSchema}]``, whole-message schemas).
    """
    if isinstance(plan, PlanRules):
        return plan
    from emulator.contracts import plans

    file = None
    if hasattr(plan, "events") and getattr(plan, "file", None) is not None:
        plan = plan.file  # a compiled TrackingPlan: read its source again
    if isinstance(plan, (str, Path)):
        try:
            file = plans.resolve_plan(plan)
            plan = plans.read_plan_file(file)
        except plans.PlanError as error:
            raise PlanError(f"Cannot use the plan {str(plan)!r}: {error}") from None
    if not isinstance(plan, dict):
        raise PlanError(
            f"A tracking plan must be a mapping, not {type(plan).__name__}."
        )

    name = str(plan.get("name") or (file.stem if file else "plan"))
    if isinstance(plan.get("rules"), list):
        return _public_api_rules(plan["rules"], name)

    try:
        compiled = plans.parse_plan(plan, file=file)
    except plans.PlanError as error:
        raise PlanError(f"The plan {name!r} is not valid: {error}") from None
    rules = PlanRules(name=name, compiled=compiled)
    for event, block in (plan.get("events") or {}).items():
        versions = block.get("versions") if isinstance(block, dict) else None
        if versions:  # messages without event_version meet the oldest version
            block = versions[min(versions, key=int)]
        rules.track[event] = _section(block, "properties")
    for call_type in ("identify", "group", "page", "screen"):
        if plan.get(call_type) is not None:
            setattr(rules, call_type, _section(plan[call_type], FIELD_OF[call_type]))
    return rules


def _section(block: Any, section: str) -> dict[str, Any]:
    """The schema of ``properties``/``traits`` in a rule; absent plans none."""
    schema = block.get(section) if isinstance(block, dict) else None
    if schema is None:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    return schema if isinstance(schema, dict) else {"type": "object"}


def _public_api_rules(items: list[Any], name: str) -> PlanRules:
    rules = PlanRules(name=name)
    for item in items:
        if not isinstance(item, dict):
            raise PlanError(f"A plan rule must be a mapping, not {item!r:.60}.")
        call_type = str(item.get("type", "")).lower()
        if call_type not in FIELD_OF:
            continue
        whole = item.get("jsonSchema") or {}
        top = whole.get("properties") if isinstance(whole, dict) else None
        schema = _section(top if isinstance(top, dict) else {}, FIELD_OF[call_type])
        if call_type == "track":
            rules.track[str(item.get("key"))] = schema
        else:
            setattr(rules, call_type, schema)
    return rules


class PlanConformer:
    """Makes journey messages satisfy a plan and produces its violations."""

    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.rules = load_rules(plan)
        self.rng = rng
        self.events = sorted(self.rules.track)
        self._misses = 0
        self.unmade = [name for name in self.events if name not in TRACK_EVENTS]
        self._validators: dict[int, jsonschema.protocols.Validator] = {}

    def conform(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Return *message* changed to satisfy the plan, or None to leave it out.

        A journey event the plan does not list is left out (an app with that
        plan would not send it), or now and then stands in for a planned event
        no journey makes, so every planned event shows up.
        """
        call_type = message.get("type")
        if (
            call_type == "track"
            and self.events
            and message["event"] not in self.rules.track
        ):
            if not self.unmade or self.rng.random() >= STAND_IN_SHARE:
                return None
            message["event"] = self.rng.choice(self.unmade)
            message["properties"] = {}
        schema = self.rules.rule(message)
        if schema is None:
            return self._checked(message)
        key = FIELD_OF[call_type]
        message[key] = self._fit(schema, message.get(key) or {})
        return self._checked(message)

    def _checked(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The plan's own verdict: a message it faults is left out, not sent.

        TODO(generator): rules on ``context``, whole-message ``schema`` and
        ``common`` rules are not fitted, only checked; a plan that most messages
        break that way ends in PlanError rather than in fitted messages.
        """
        compiled = self.rules.compiled
        if compiled is None:
            return message
        report = compiled.check(message)
        if report.ok:
            self._misses = 0
            return message
        self._misses += 1
        if self._misses >= MAX_MISSES:
            raise PlanError(
                f"Cannot generate events that satisfy the plan {self.rules.name!r}; "
                f"the last one broke it with: {report.all[0]}"
            )
        log.debug("plan miss event=%s first=%s", message.get("event"), report.all[0])
        return None

    def _fit(self, schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Keep declared values the rule accepts, generate the required rest.

        Undeclared values are left out: the plan calls them unplanned (or its
        schema forbids them), and leaving one out never breaks a rule.
        """
        declared = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        fitted: dict[str, Any] = {}
        for name, subschema in declared.items():
            if name in values and self._valid(subschema, values[name]):
                fitted[name] = values[name]
            elif name in required or self.rng.random() < 0.5:
                fitted[name] = sample(subschema, self.rng, name)
        return fitted

    def _valid(self, schema: dict[str, Any], value: Any) -> bool:
        validator = self._validators.get(id(schema))
        if validator is None:
            cls = jsonschema.validators.validator_for(
                schema, jsonschema.Draft202012Validator
            )
            validator = self._validators[id(schema)] = cls(schema)
        return validator.is_valid(value)

    def violation(
        self, message: dict[str, Any], kind_name: str | None = None
    ) -> tuple[dict[str, Any], Expectation] | None:
        """A copy of a conforming *message* with one plan violation, if possible."""
        schema = self.rules.rule(message)
        if schema is None or message.get("type") not in FIELD_OF:
            return None
        key = FIELD_OF[message["type"]]
        bad = copy.deepcopy(message)
        bag = bad.setdefault(key, {})
        declared = schema.get("properties") or {}
        required = [n for n in schema.get("required") or [] if n in bag]
        typed = [n for n in declared if n in bag and "type" in declared[n]]
        choices = ["unplanned_property"]
        if message["type"] == "track":
            choices.append("unplanned_event")
        if required:
            choices.append("missing_required")
        if typed:
            choices.append("wrong_type")
        kind_name = kind_name or self.rng.choice(choices)
        if kind_name not in choices:
            return None

        if kind_name == "unplanned_event":
            bad["event"] = f"{message['event']} (legacy)"
            return bad, Expectation(kind_name, "violation", "Unplanned Event")
        if kind_name == "unplanned_property":
            bag["debug_build"] = True
            return bad, Expectation(
                kind_name, "violation", "Unplanned Property", field=f"{key}.debug_build"
            )
        if kind_name == "missing_required":
            name = self.rng.choice(required)
            del bag[name]
            return bad, Expectation(
                kind_name, "violation", "Required", field=f"{key}.{name}"
            )
        name = self.rng.choice(typed)
        bag[name] = _wrong_value(declared[name])
        return bad, Expectation(
            kind_name, "violation", "Invalid Type", field=f"{key}.{name}"
        )


def _wrong_value(schema: dict[str, Any]) -> Any:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for candidate in ("not a number", 12345, ["a", "b"], {"x": 1}, True):
        kind = _json_type(candidate)
        if kind not in types and not (kind == "integer" and "number" in types):
            return candidate
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


HINTS: dict[str, Any] = {
    "currency": "USD",
    "email": "fan@example.com",
    "url": "https://fanzone.example.com/",
    "country": "US",
}


def sample(schema: dict[str, Any], rng: random.Random, name: str = "") -> Any:
    """A value that satisfies *schema* (the subset tracking plans use)."""
    if not isinstance(schema, dict) or not schema:
        return HINTS.get(name, "value")
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for combinator in ("oneOf", "anyOf"):
        if schema.get(combinator):
            return sample(schema[combinator][0], rng, name)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return sample({**schema, **merged, "allOf": []}, rng, name)

    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        return {
            key: sample(sub, rng, key)
            for key, sub in props.items()
            if key in required or rng.random() < 0.5
        }
    if kind == "array":
        low = schema.get("minItems", 1)
        high = max(low, min(schema.get("maxItems", 3), low + 2))
        return [
            sample(schema.get("items") or {}, rng, name)
            for _ in range(rng.randint(low, high))
        ]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100))
        if "exclusiveMinimum" in schema:
            low += 1
        if "exclusiveMaximum" in schema:
            high -= 1
        if kind == "integer":
            return rng.randint(int(low), int(max(low, high)))
        return round(rng.uniform(low, max(low, high)), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng, name)


def _string(schema: dict[str, Any], rng: random.Random, name: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return f"2026-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00.000Z"
    if fmt == "date":
        return f"2026-01-{rng.randint(1, 28):02d}"
    if fmt == "email":
        return f"fan{rng.randint(1, 9999)}@example.com"
    if fmt in ("uri", "url"):
        return f"https://fanzone.example.com/{rng.randint(1, 999)}"
    if fmt == "uuid":
        return f"00000000-0000-4000-8000-{rng.getrandbits(48):012x}"

    low = schema.get("minLength", 1)
    high = max(low, schema.get("maxLength", max(low, 12)))
    value = HINTS.get(name) or "".join(
        rng.choice(string.ascii_lowercase)
        for _ in range(rng.randint(low, min(high, low + 11)))
    )
    if not low <= len(value) <= high:
        value = (value * high)[:high].ljust(low, "x")
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        # TODO(generator): generate from arbitrary patterns; literal prefixes and
        # a few shapes are tried, anything else keeps a non-matching value.
        prefix = _literal_prefix(pattern)
        for candidate in (
            f"{prefix}{value}",
            f"{prefix}{rng.randint(0, 10**6)}",
            prefix,
            value.upper(),
            value.upper(),
            str(rng.randint(0, 10**6)),
            f"{name}-{rng.randint(1, 99)}",
        ):
            if re.search(pattern, candidate):
                return candidate
    return value


def _literal_prefix(pattern: str) -> str:
    """The literal text a pattern starts with: ``^ord-[0-9]+`` gives ``ord-``."""
    prefix = []
    for char in pattern.removeprefix("^"):
        if char in ".^$*+?{}[]\\|()":
            break
        prefix.append(char)
    return "".join(prefix)
