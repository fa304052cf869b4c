"""Seeded, realistic Segment event streams built with Faker.

``generate(1000, seed=7)`` yields the same 1,000 messages on every machine: one
``random.Random`` and per-locale Faker instances are seeded from *seed*, and time
starts at a fixed :data:`BASE_TIME`, never at ``now()``. A population of users
goes through fan-engagement sessions (see :mod:`emulator.generator.journeys`);
their messages are merged in delivery order.

``EventFactory(...).stream(n)`` also says which events are near-misses and what
each should produce (:class:`~emulator.generator.negatives.Expectation`).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.generator import negatives
from emulator.generator.catalog import build_catalog
from emulator.generator.context import WEB_DOMAIN
from emulator.generator.journeys import Journeys
from emulator.generator.negatives import Expectation
from emulator.generator.population import (
    FakerPool,
    LiveLikeIdentity,
    User,
    build_population,
)

__all__ = [
    "BASE_TIME",
    "EventFactory",
    "Expectation",
    "GeneratedEvent",
    "LiveLikeIdentity",
    "default_users",
    "generate",
]

BASE_TIME = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
DUPLICATE_SHARE = 0.08  # of near-misses: an accepted message sent again


def default_users(count: int) -> int:
    """About 100 events per user, between 5 and 500 users."""
    return max(5, min(500, count // 100))


@dataclass
class GeneratedEvent:
    """One message of the stream; ``expect`` is None for a positive event."""

    message: dict[str, Any]
    user: int
    expect: Expectation | None = None


class EventFactory:
    """A seeded population and its endless stream of sessions."""

    def __init__(
        self,
        seed: int = 0,
        *,
        users: int = 50,
        plan: Any = None,
        invalid_rate: float = 0.0,
        livelike: Sequence[LiveLikeIdentity] = (),
        start: datetime = BASE_TIME,
    ) -> None:
        if users < 1:
            raise ValueError(f"users must be at least 1, not {users!r}.")
        if not 0.0 <= invalid_rate <= 1.0:
            raise ValueError(
                f"invalid_rate must be between 0 and 1, not {invalid_rate!r}."
            )
        self.seed = seed
        self.invalid_rate = invalid_rate
        self.rng = random.Random(f"seglike:{seed}")
        # Separate streams so near-misses and plans never shift the positives.
        self._negative_rng = random.Random(f"seglike:{seed}:negatives")
        self.fakers = FakerPool(seed)

        self.catalog = build_catalog(self.rng, self.fakers["en_US"], WEB_DOMAIN)
        self.users: list[User] = build_population(
            users,
            self.rng,
            self.fakers,
            start,
            livelike=list(livelike),
            clubs=self.catalog.clubs,
        )
        self.journeys = Journeys(self.rng, self.catalog, int(start.timestamp() * 1000))
        self.conformer = None
        if plan is not None:
            from emulator.generator.plan import PlanConformer

            self.conformer = PlanConformer(plan, random.Random(f"seglike:{seed}:plan"))
        self._start = self._snapshot()

    def _snapshot(self) -> tuple:
        rngs = [self.rng, self._negative_rng]
        if self.conformer is not None:
            rngs.append(self.conformer.rng)
        users = [(u.registered, u.sessions, dict(u.state)) for u in self.users]
        return [r.getstate() for r in rngs], users

    def _rewind(self) -> None:
        """Back to the state after construction: every stream starts the same."""
        states, users = self._start
        rngs = [self.rng, self._negative_rng]
        if self.conformer is not None:
            rngs.append(self.conformer.rng)
            self.conformer._misses = 0
        for rng, state in zip(rngs, states, strict=True):
            rng.setstate(state)
        for user, (registered, sessions, state) in zip(self.users, users, strict=True):
            user.registered, user.sessions, user.state = (
                registered,
                sessions,
                dict(state),
            )

    def stream(self, count: int | None = None) -> Iterator[GeneratedEvent]:
        """Yield *count* events (endless when None), in delivery order.

        Each call starts again from the beginning, so two calls on one factory
        give the same events; consume one stream before starting the next.
        """
        self._rewind()
        timelines = [self.journeys.timeline(user) for user in self.users]
        heap = []
        for index, timeline in enumerate(timelines):
            deliver, message = next(timeline)
            heap.append((deliver, index, message))
        heapq.heapify(heap)

        negative = self._negative_rng
        conformer = self.conformer
        last_positive: dict[str, Any] | None = None
        emitted = 0
        while count is None or emitted < count:
            deliver, index, message = heap[0]
            next_deliver, next_message = next(timelines[index])
            heapq.heapreplace(heap, (next_deliver, index, next_message))
            if conformer is not None:
                message = conformer.conform(message)
                if message is None:
                    continue

            emitted += 1
            if self.invalid_rate and negative.random() < self.invalid_rate:
                bad = self._near_miss(message, last_positive)
                if bad is not None:
                    yield GeneratedEvent(bad[0], index, bad[1])
                    continue
            last_positive = message
            yield GeneratedEvent(message, index)

    def _near_miss(
        self, message: dict[str, Any], last_positive: dict[str, Any] | None
    ) -> tuple[dict[str, Any], Expectation] | None:
        rng = self._negative_rng
        if last_positive is not None and rng.random() < DUPLICATE_SHARE:
            return negatives.duplicate(last_positive)
        if self.conformer is not None and rng.random() < 0.5:
            violation = self.conformer.violation(message)
            if violation is not None:
                return violation
        return negatives.make(message, rng)

    def messages(self, count: int | None = None) -> Iterator[dict[str, Any]]:
        """Only the messages of :meth:`stream`."""
        for event in self.stream(count):
            yield event.message


def generate(
    count: int,
    seed: int = 0,
    users: int | None = None,
    plan: Any = None,
    invalid_rate: float = 0.0,
    livelike: Sequence[LiveLikeIdentity] = (),
) -> Iterator[dict[str, Any]]:
    """Yield *count* Segment messages; same arguments, same messages."""
    factory = EventFactory(
        seed,
        users=users or default_users(count),
        plan=plan,
        invalid_rate=invalid_rate,
        livelike=livelike,
    )
    return factory.messages(count)
