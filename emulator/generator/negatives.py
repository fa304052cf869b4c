"""Labelled near-misses: a good message with exactly one thing wrong.

Each kind names the one reason the Segment service (or the tracking plan) should
give for it: the discard code of segment-contract §4.2 as the emulator's
``emulator.segment.rules`` spells it, an HTTP rejection, or a Protocols violation
type. Tests send them and check that reason, and nothing else, comes back.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

MESSAGE_LIMIT = 32 * 1024  # the default per-message limit (fixtures/stack.yaml)


@dataclass(frozen=True)
class Expectation:
    """What should happen to a near-miss.

    ``outcome`` is ``dropped`` (answered 200, then discarded with ``reason``),
    ``rejected`` (answered ``status`` with error code ``reason``) or ``violation``
    (kept, with a tracking-plan violation of type ``reason`` on ``field``).
    """

    kind: str
    outcome: str
    reason: str
    status: int = 200
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


Mutation = Callable[[dict[str, Any], random.Random], Expectation]
KINDS: dict[str, tuple[frozenset[str], int, Mutation]] = {}
ALL_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})


def kind(name: str, types: frozenset[str] = ALL_TYPES, weight: int = 10):
    """Register a near-miss that applies to messages of *types*."""

    def register(mutate: Mutation) -> Mutation:
        KINDS[name] = (types, weight, mutate)
        return mutate

    return register


def _dropped(name: str, reason: str, field: str | None = None) -> Expectation:
    return Expectation(name, "dropped", reason, 200, field)


@kind("missing_id", weight=30)
def _missing_id(message: dict[str, Any], rng: random.Random) -> Expectation:
    message.pop("userId", None)
    message.pop("anonymousId", None)
    return _dropped("missing_id", "no_user_anon_id")


@kind("id_not_string", weight=15)
def _id_not_string(message: dict[str, Any], rng: random.Random) -> Expectation:
    key = "userId" if "userId" in message else "anonymousId"
    message[key] = rng.randint(1000, 99999)  # a numeric id straight from a database
    return _dropped("id_not_string", "id_not_string", f"$.{key}")


@kind("empty_id", weight=10)
def _empty_id(message: dict[str, Any], rng: random.Random) -> Expectation:
    key = "userId" if "userId" in message else "anonymousId"
    message[key] = ""
    return _dropped("empty_id", "id_not_string", f"$.{key}")


@kind("empty_event", frozenset({"track"}), weight=20)
def _empty_event(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["event"] = ""
    return _dropped("empty_event", "event_not_defined", "$.event")


@kind("missing_event", frozenset({"track"}), weight=10)
def _missing_event(message: dict[str, Any], rng: random.Random) -> Expectation:
    del message["event"]
    return _dropped("missing_event", "event_not_defined", "$.event")


@kind("event_not_string", frozenset({"track"}), weight=10)
def _event_not_string(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["event"] = {"name": message["event"]}
    return _dropped("event_not_string", "event_not_string", "$.event")


@kind("properties_not_object", frozenset({"track", "page", "screen"}))
def _properties_not_object(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["properties"] = [message.get("properties") or {}]
    return _dropped("properties_not_object", "properties_not_object", "$.properties")


@kind("traits_not_object", frozenset({"identify", "group"}))
def _traits_not_object(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["traits"] = "plan=pro"
    return _dropped("traits_not_object", "traits_not_object", "$.traits")


@kind("name_not_string", frozenset({"page", "screen"}))
def _name_not_string(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["name"] = rng.choice([0, 404, True])
    return _dropped("name_not_string", "name_not_string", "$.name")


@kind("category_not_string", frozenset({"page", "screen"}), weight=5)
def _category_not_string(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["category"] = rng.randint(1, 9)
    return _dropped("category_not_string", "category_not_string", "$.category")


@kind("context_not_object", weight=5)
def _context_not_object(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["context"] = "mobile"
    return _dropped("context_not_object", "context_not_object", "$.context")


@kind("invalid_type", weight=5)
def _invalid_type(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["type"] = rng.choice(["trak", "event", "pageview", "Track"])
    return _dropped("invalid_type", "invalid_type", "$.type")


@kind("missing_group_id", frozenset({"group"}))
def _missing_group_id(message: dict[str, Any], rng: random.Random) -> Expectation:
    del message["groupId"]
    return _dropped("missing_group_id", "group_id_not_defined", "$.groupId")


@kind("missing_previous_id", frozenset({"alias"}))
def _missing_previous_id(message: dict[str, Any], rng: random.Random) -> Expectation:
    del message["previousId"]
    return _dropped("missing_previous_id", "previous_id_not_defined", "$.previousId")


@kind("message_id_too_long", weight=5)
def _message_id_too_long(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["messageId"] = (str(message["messageId"]) * 4)[:101].ljust(101, "0")
    return _dropped("message_id_too_long", "message_id_too_long", "$.messageId")


@kind("invalid_timestamp", weight=5)
def _invalid_timestamp(message: dict[str, Any], rng: random.Random) -> Expectation:
    message["timestamp"] = rng.choice(
        ["yesterday", "2026-13-45T25:61:00Z", "15/01/2026"]
    )
    return _dropped("invalid_timestamp", "invalid_timestamp", "$.timestamp")


@kind("oversize", weight=3)
def _oversize(message: dict[str, Any], rng: random.Random) -> Expectation:
    """One message over the 32 KB limit (§4.1): the request is answered 400."""
    field = "traits" if message.get("type") in ("identify", "group") else "properties"
    bag = message.get(field)
    if not isinstance(bag, dict):
        bag = message[field] = {}
    bag["notes"] = "x" * (MESSAGE_LIMIT + 512)
    return Expectation("oversize", "rejected", "message_too_large", 400)


def applicable(message: dict[str, Any]) -> list[str]:
    """The kinds that make sense for *message*'s type (``duplicate`` aside)."""
    call_type = message.get("type")
    return [name for name, (types, _, _) in KINDS.items() if call_type in types]


def make(
    message: dict[str, Any], rng: random.Random, kind_name: str | None = None
) -> tuple[dict[str, Any], Expectation]:
    """Return a near-miss copy of *message* and what it should produce.

    *kind_name* picks the near-miss; otherwise one that applies is drawn with
    realistic weights (missing ids and empty names are the common mistakes).
    """
    if kind_name is None:
        names = applicable(message)
        weights = [KINDS[name][1] for name in names]
        kind_name = rng.choices(names, weights)[0]
    try:
        types, _, mutate = KINDS[kind_name]
    except KeyError:
        raise ValueError(
            f"Unknown near-miss kind {kind_name!r}; known: {', '.join(sorted(KINDS))}."
        ) from None
    if message.get("type") not in types:
        raise ValueError(
            f"The near-miss {kind_name!r} does not apply to a "
            f"{message.get('type')!r} message."
        )

    bad = copy.deepcopy(message)
    return bad, mutate(bad, rng)


def duplicate(message: dict[str, Any]) -> tuple[dict[str, Any], Expectation]:
    """A retry of an accepted message: same messageId, dropped as ``duplicate``."""
    return copy.deepcopy(message), Expectation("duplicate", "dropped", "duplicate")
