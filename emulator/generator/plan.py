"""Bend generated events to a tracking plan, and make the plan's near-misses.

A plan is reduced to one JSON Schema per rule (track event name, identify traits,
group traits, page and screen properties). Journey events that the plan knows keep
their values where the rule accepts them and get generated ones where it does not;
events the plan does not list are swapped for planned ones, and properties the
plan does not list are left out, so every positive event satisfies the plan.
"""

from __future__ import annotations

import copy
import json
import random
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from emulator.generator.journeys import TRACK_EVENTS
from emulator.generator.negatives import Expectation

FIELD_OF = {
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "identify": "traits",
    "group": "traits",
}
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

    def rule(self, message: dict[str, Any]) -> dict[str, Any] | None:
        call_type = message.get("type")
        if call_type == "track":
            return self.track.get(message.get("event"))
        return getattr(self, call_type, None) if call_type in FIELD_OF else None


def load_rules(plan: Any) -> PlanRules:
    """Accept a path, a parsed plan document or :class:`PlanRules`.

    Documents may use the Public API shape (``rules: [{type, key, jsonSchema}]``),
    Typewriter's (``rules: {events: [{name, rules}], identify, group}``) or the
    short form (``events: {name: {properties: ...}}``, ``identify``, ``group``,
    ``page``, ``screen``).
    """
    if isinstance(plan, PlanRules):
        return plan
    name = "plan"
    if isinstance(plan, (str, Path)):
        path = Path(plan)
        name = path.stem
        try:
            text = path.read_text()
        except OSError as error:
            raise PlanError(
                f"Cannot read the plan {str(path)!r}: {error.strerror}."
            ) from None
        try:
            plan = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as error:
            raise PlanError(
                f"The plan {str(path)!r} is not valid JSON/YAML: {error}"
            ) from None
    elif hasattr(plan, "to_dict"):
        plan = plan.to_dict()
    if not isinstance(plan, dict):
        raise PlanError(
            f"A tracking plan must be a mapping, not {type(plan).__name__}."
        )

    rules = PlanRules(name=str(plan.get("name") or name))
    body = plan.get("rules", plan)
    if isinstance(body, list):
        for item in body:
            _add_rule(
                rules,
                str(item.get("type", "")).lower(),
                item.get("key"),
                item.get("jsonSchema") or item.get("schema") or {},
            )
        return rules

    events = body.get("events") or body.get("track") or {}
    if isinstance(events, list):
        events = {
            item["name"]: item.get("rules") or item.get("schema") or {}
            for item in events
        }
    for event, schema in events.items():
        _add_rule(rules, "track", event, schema or {})
    for call_type in ("identify", "group", "page", "screen"):
        if body.get(call_type) is not None:
            _add_rule(rules, call_type, None, body[call_type])
    return rules


def _add_rule(rules: PlanRules, call_type: str, key: Any, schema: Any) -> None:
    if call_type not in FIELD_OF:
        return
    schema = _field_schema(schema, FIELD_OF[call_type])
    if call_type == "track":
        rules.track[str(key)] = schema
    else:
        setattr(rules, call_type, schema)


def _field_schema(schema: Any, field_name: str) -> dict[str, Any]:
    """The schema of ``properties``/``traits``, from a whole-message schema or not."""
    if not isinstance(schema, dict):
        return {"type": "object"}
    top = schema.get("properties", {})
    inner = top.get(field_name) if isinstance(top, dict) else None
    if isinstance(inner, dict) and (
        "properties" in inner or "required" in inner or inner.get("type") == "object"
    ):
        return inner
    if "properties" in schema or "required" in schema:
        return schema
    return {
        "type": "object",
        "properties": {
            name: value if isinstance(value, dict) else {}
            for name, value in schema.items()
        },
    }


class PlanConformer:
    """Makes journey messages satisfy a plan and produces its violations."""

    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.rules = load_rules(plan)
        self.rng = rng
        self.events = sorted(self.rules.track)
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
            return message
        key = FIELD_OF[call_type]
        message[key] = self._fit(schema, message.get(key) or {})
        return message

    def _fit(self, schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        declared = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        fitted: dict[str, Any] = {}
        for name, subschema in declared.items():
            if name in values and self._valid(subschema, values[name]):
                fitted[name] = values[name]
            elif name in required or self.rng.random() < 0.5:
                fitted[name] = sample(subschema, self.rng, name)
        if not declared and schema.get("additionalProperties") is not False:
            fitted = dict(values)
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
