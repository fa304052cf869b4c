"""Tracking plans in the manner of Segment Protocols.

A plan file (YAML or JSON) holds rules, each a set of JSON Schemas that together
validate the whole message, as Segment's rules do::

    name: Video
    version: 1
    events:                      # track rules, by exact event name
      Video Playback Started:
        description: ...
        properties: {type: object, required: [session_id], properties: {...}}
      Order Completed:
        versions:                # chosen by context.protocols.event_version
          1: {properties: {...}}
          2: {properties: {...}}
    identify: {traits: {...}}
    group: {traits: {...}}
    page: {properties: {...}}
    screen: {properties: {...}}
    common: {context: {...}, schema: {...}}   # every message; schema = whole message

In a rule, ``properties``, ``traits`` and ``context`` are the schemas of those parts
of the message and ``schema`` one of the whole message. A property or trait the
rule's schema does not declare is *unplanned*; a track event missing from
``events`` is an *unplanned event*. A rule without a ``properties`` (``traits``)
schema plans none.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

import yaml

from emulator import jsontext
from emulator.contracts import schemas
from emulator.contracts.validator import validate_with
from emulator.contracts.violations import (
    UNPLANNED_EVENT,
    UNPLANNED_PROPERTY,
    Violation,
    dotted,
)
from emulator.jsontext import json_path
from emulator.resources import contracts_dir

log = logging.getLogger(__name__)

PLAN_SUFFIXES = (".yaml", ".yml", ".json")
CALL_KINDS = ("identify", "group", "page", "screen")
_SECTIONS = ("properties", "traits", "context")
_RULE_KEYS = {"description", "labels", "version", "versions", "schema", *_SECTIONS}
_PLAN_KEYS = {"name", "version", "description", "events", "common", *CALL_KINDS}
# The part of a message whose keys can be unplanned, per call type.
_PLANNED_SECTION = {
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "identify": "traits",
    "group": "traits",
}
_RULE_BASE = "https://seglike.local/plans/"
_ids = itertools.count(1)


class PlanError(ValueError):
    """A tracking plan that cannot be used; says which file, where and why."""

    def __init__(self, message: str, *, path: str = "", file: Path | None = None):
        self.reason = message
        self.path = path
        self.file = file
        where = f"{file}: " if file else ""
        where += f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


@dataclass
class Rule:
    """One rule of a plan: the schema a kind of message (or one event) must meet."""

    kind: str  # track, identify, group, page, screen, common
    name: str | None
    version: int
    location: str  # JSON pointer of the rule in the plan file
    validator: Any
    planned: frozenset[str] | None  # declared property/trait keys; None: all
    description: str = ""


@dataclass
class PlanReport:
    """What a plan says about one message."""

    rule: Rule | None = None
    unplanned_event: Violation | None = None
    unplanned: list[Violation] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    common: list[Violation] = field(default_factory=list)

    @property
    def all(self) -> list[Violation]:
        head = [self.unplanned_event] if self.unplanned_event else []
        return [*head, *self.violations, *self.common, *self.unplanned]

    @property
    def ok(self) -> bool:
        return not self.all


@dataclass
class TrackingPlan:
    name: str
    version: int = 1
    description: str = ""
    file: Path | None = None
    events: dict[str, dict[int, Rule]] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)  # identify, group, ...
    common: Rule | None = None
    _locations: dict[str, Rule] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return self.file.name if self.file else self.name

    def rule_for(self, message: dict[str, Any]) -> Rule | None:
        """The rule that applies to *message*, honouring ``event_version``."""
        kind = message.get("type")
        if kind != "track":
            return self.rules.get(kind) if isinstance(kind, str) else None

        versions = self.events.get(message.get("event"))  # type: ignore[arg-type]
        if not versions:
            return None
        wanted = _event_version(message)
        if wanted in versions:
            return versions[wanted]
        return versions[min(versions)]

    def check(self, message: Any) -> PlanReport:
        """Violations, unplanned events and unplanned properties of *message*."""
        report = PlanReport()
        if not isinstance(message, dict):
            return report
        if self.common is not None:
            report.common = validate_with(
                self.common.validator, message, locate=self._locate
            )

        kind = message.get("type")
        if kind == "track":
            event = message.get("event")
            if not isinstance(event, str) or event not in self.events:
                report.unplanned_event = Violation(
                    type=UNPLANNED_EVENT,
                    field="event",
                    description=f"Event {json.dumps(event)} is not in the tracking "
                    f"plan {self.name!r}",
                    path="$.event",
                    schema_path=f"{self.label}#/events",
                    expected="an event the plan declares",
                    value=event,
                    parts=("event",),
                )
                return report

        rule = self.rule_for(message)
        if rule is None:
            return report
        report.rule = rule
        report.violations = validate_with(rule.validator, message, locate=self._locate)
        report.unplanned = self._unplanned(rule, message)
        return report

    def _unplanned(self, rule: Rule, message: dict[str, Any]) -> list[Violation]:
        section = _PLANNED_SECTION.get(rule.kind)
        values = message.get(section) if section else None
        if rule.planned is None or not isinstance(values, dict):
            return []
        return [
            Violation(
                type=UNPLANNED_PROPERTY,
                field=dotted([section, key]),
                description=f"{dotted([section, key])} is not in the tracking plan",
                path=json_path([section, key]),
                schema_path=f"{self.label}#{rule.location}/{section}",
                expected="a property the plan declares",
                value=value,
                parts=(section, key),
            )
            for key, value in values.items()
            if key not in rule.planned
        ]

    def _locate(self, location: str) -> str:
        """Map a compiled rule's keyword location back into the plan file."""
        uri, fragment = urldefrag(location)
        rule = self._locations.get(uri)
        if rule is None:
            return schemas.short_uri(location)
        tokens = unquote(fragment).split("/")[1:]
        if tokens[:1] == ["properties"] and len(tokens) > 1:
            tokens = tokens[1:]
        elif tokens[:2] == ["allOf", "0"]:
            tokens = ["schema", *tokens[2:]]
        return f"{self.label}#{rule.location}/" + "/".join(tokens)

    @property
    def event_names(self) -> list[str]:
        return sorted(self.events)


def _event_version(message: dict[str, Any]) -> int | None:
    context = message.get("context")
    protocols = context.get("protocols") if isinstance(context, dict) else None
    version = protocols.get("event_version") if isinstance(protocols, dict) else None
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    return None


def _pointer(*tokens: Any) -> str:
    return "".join(
        "/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens
    )


def _planned(kind: str, block: dict[str, Any]) -> frozenset[str] | None:
    section = _PLANNED_SECTION.get(kind)
    if section is None:
        return None
    schema = block.get(section)
    if schema is None:
        return frozenset()
    if not isinstance(schema, dict):
        return None
    extra = schema.get("additionalProperties")
    if schema.get("patternProperties") or extra is False or isinstance(extra, dict):
        # The schema itself decides what else may appear; breaking it is a
        # violation, not an unplanned property.
        return None
    if extra is True and "properties" not in schema:
        return None
    return frozenset(schema.get("properties") or ())


class _Builder:
    def __init__(self, plan: TrackingPlan):
        self.plan = plan
        slug = re.sub(r"[^a-z0-9]+", "-", plan.name.lower()).strip("-") or "plan"
        self.base = f"{_RULE_BASE}{slug}-{next(_ids)}/"
        self.count = itertools.count(1)

    def rule(
        self, kind: str, name: str | None, block: Any, location: str, version: int
    ) -> Rule:
        if not isinstance(block, dict):
            raise PlanError("a rule must be a mapping", path=location)
        unknown = sorted(k for k in set(block) - _RULE_KEYS if not _extension(k))
        if unknown:
            raise PlanError(
                f"unknown rule key(s) {', '.join(map(repr, unknown))}; a rule has "
                f"{', '.join(sorted(_RULE_KEYS - {'versions', 'version'}))}",
                path=location,
            )
        document: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{self.base}{next(self.count)}",
            "type": "object",
            "properties": {},
        }
        for section in _SECTIONS:
            if section in block:
                if not isinstance(block[section], dict | bool):
                    raise PlanError(
                        f"{section!r} must be a JSON Schema (a mapping)",
                        path=location + _pointer(section),
                    )
                document["properties"][section] = block[section]
        if "schema" in block:
            document["allOf"] = [block["schema"]]
        try:
            validator = schemas.compile_schema(document)
        except ValueError as error:
            raise PlanError(
                f"not a valid JSON Schema: {error}", path=location
            ) from None

        rule = Rule(
            kind=kind,
            name=name,
            version=version,
            location=location,
            validator=validator,
            planned=_planned(kind, block),
            description=str(block.get("description") or ""),
        )
        self.plan._locations[document["$id"]] = rule
        return rule

    def event(self, name: str, block: Any, location: str) -> dict[int, Rule]:
        if not isinstance(block, dict):
            raise PlanError("an event rule must be a mapping", path=location)
        versions = block.get("versions")
        if versions is None:
            version = _version(block.get("version", 1), location + "/version")
            return {version: self.rule("track", name, block, location, version)}

        if not isinstance(versions, dict) or not versions:
            raise PlanError(
                "'versions' must map version numbers to rules",
                path=location + "/versions",
            )
        rules = {}
        for key, sub in versions.items():
            where = location + _pointer("versions", key)
            version = _version(key, where)
            rules[version] = self.rule("track", name, sub, where, version)
        return rules


def _extension(key: Any) -> bool:
    """``x-`` keys hold YAML anchors and notes; the plan ignores them."""
    return isinstance(key, str) and key.startswith("x-")


def _version(value: Any, where: str) -> int:
    try:
        version = int(value)
    except (TypeError, ValueError):
        version = 0
    if isinstance(value, bool) or version < 1 or str(value).strip() != str(version):
        raise PlanError(
            f"a version must be a positive integer, not {value!r}", path=where
        )
    return version


def parse_plan(raw: Any, *, file: Path | None = None, name: str = "") -> TrackingPlan:
    """Build a plan from an already-loaded mapping; raises :class:`PlanError`."""
    try:
        return _parse(raw, file, name)
    except PlanError as error:
        if error.file is None and file is not None:
            raise PlanError(error.reason, path=error.path, file=file) from None
        raise


def _parse(raw: Any, file: Path | None, name: str) -> TrackingPlan:
    if not isinstance(raw, dict):
        raise PlanError("a tracking plan must be a mapping", path="/")
    unknown = sorted(k for k in set(raw) - _PLAN_KEYS if not _extension(k))
    if unknown:
        raise PlanError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; a plan has "
            f"{', '.join(sorted(_PLAN_KEYS))}",
            path="/",
        )
    plan = TrackingPlan(
        name=str(raw.get("name") or name or (file.stem if file else "plan")),
        version=_version(raw.get("version", 1), "/version"),
        description=str(raw.get("description") or ""),
        file=file,
    )
    build = _Builder(plan)

    events = raw.get("events") or {}
    if not isinstance(events, dict):
        raise PlanError("'events' must map event names to rules", path="/events")
    for event, block in events.items():
        if not isinstance(event, str) or not event:
            raise PlanError(
                f"an event name must be a string, not {event!r}", path="/events"
            )
        plan.events[event] = build.event(event, block, _pointer("events", event))

    for kind in CALL_KINDS:
        if raw.get(kind) is not None:
            plan.rules[kind] = build.rule(kind, None, raw[kind], _pointer(kind), 1)
    if raw.get("common") is not None:
        plan.common = build.rule("common", None, raw["common"], "/common", 1)
    log.debug("plan loaded name=%s events=%d", plan.name, len(plan.events))
    return plan


def shipped_plans() -> dict[str, Path]:
    """The ready plans under ``contracts/plans/``, by name (``ecommerce-v2``)."""
    folder = contracts_dir() / "plans"
    return {
        path.stem: path
        for path in sorted(folder.iterdir())
        if path.suffix in PLAN_SUFFIXES
    }


def resolve_plan(reference: str | Path) -> Path:
    """A plan file path, or the name of a shipped plan, as a path to read.

    A relative path is read from the current directory; the stack configuration
    anchors its sources' plan paths at its own folder before they get here.
    """
    path = Path(reference).expanduser()
    if path.is_file():
        return path
    shipped = shipped_plans()
    if str(reference) in shipped:
        return shipped[str(reference)]
    raise PlanError(
        f"no tracking plan file at {str(reference)!r} and no shipped plan of that "
        f"name; shipped plans: {', '.join(shipped) or 'none'}"
    )


def read_plan_file(path: Path) -> Any:
    """The document of a plan file; anything unusable is a :class:`PlanError`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read the file: {error.strerror}", file=path) from None
    if path.suffix == ".json":
        try:
            return jsontext.loads(data)
        except jsontext.JSONTextError as error:
            raise PlanError(f"not valid JSON: {_at(error)}", file=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", file=path
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PlanError(f"not valid YAML: {problem}{where}", file=path) from None
    except RecursionError:
        raise PlanError(
            "not usable YAML: mappings or lists are nested too deeply", file=path
        ) from None


def _at(error: jsontext.JSONTextError) -> str:
    if error.line is None:
        return error.reason
    return f"{error.reason} (line {error.line}, column {error.column})"


def load_plan(reference: str | Path) -> TrackingPlan:
    """Read and compile a tracking plan file, or a shipped plan by name."""
    path = resolve_plan(reference)
    return parse_plan(read_plan_file(path), file=path)


_cache: dict[Path, tuple[tuple[int, int], TrackingPlan | PlanError]] = {}
_last_good: dict[str, TrackingPlan] = {}
_warned: dict[str, str] = {}
_cache_lock = threading.Lock()


def cached_plan(reference: str | Path, *, keep_last_good: bool = False) -> TrackingPlan:
    """Like :func:`load_plan`, but compiled once and re-read when the file changes.

    With *keep_last_good* (ingestion at run time), a plan file that became
    unreadable or invalid does not fail every request: the last plan compiled
    from it stays in force and one warning per change of the file says why. A
    plan that never compiled still raises, so the configuration catches it.
    """
    key = str(reference)
    try:
        plan = _current_plan(reference)
    except PlanError as error:
        with _cache_lock:
            last = _last_good.get(key) if keep_last_good else None
            if last is None:
                raise
            if _warned.get(key) != str(error):
                _warned[key] = str(error)
                log.warning(
                    "tracking plan unusable, keeping the last good one plan=%s "
                    "version=%s error=%s",
                    last.name,
                    last.version,
                    error,
                )
        return last

    with _cache_lock:
        _last_good[key] = plan
        _warned.pop(key, None)
    return plan


def _current_plan(reference: str | Path) -> TrackingPlan:
    path = resolve_plan(reference).resolve()
    try:
        status = path.stat()
    except OSError as error:
        raise PlanError(f"cannot read the file: {error.strerror}", file=path) from None
    stamp = (status.st_mtime_ns, status.st_size)
    hit = _cache.get(path)
    if hit is None or hit[0] != stamp:
        try:
            found: TrackingPlan | PlanError = load_plan(path)
        except PlanError as error:
            found = error
        hit = _cache[path] = (stamp, found)
    if isinstance(hit[1], PlanError):
        failed = hit[1]  # a fresh exception: re-raising one would grow its traceback
        raise PlanError(failed.reason, path=failed.path, file=failed.file)
    return hit[1]
