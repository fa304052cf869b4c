"""The users of the generated app: identities, traits and the devices they use.

A user keeps one ``anonymousId`` per device for the whole stream and, once known,
one ``userId``; that is what lets tests follow a person across sessions. Some users
are already registered when the stream starts, others sign up during it (the
``alias``/``identify`` moment). A share of users carry LiveLike identities so the
LiveLike destination can resolve a profile.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker

from emulator.generator.catalog import rand_uuid

# Faker locale, Segment locale, ISO country, time zones seen there (weights follow).
LOCALES: list[tuple[str, str, str, list[str]]] = [
    (
        "en_US",
        "en-US",
        "US",
        ["America/New_York", "America/Chicago", "America/Los_Angeles"],
    ),
    ("en_GB", "en-GB", "GB", ["Europe/London"]),
    ("es_ES", "es-ES", "ES", ["Europe/Madrid"]),
    ("fr_FR", "fr-FR", "FR", ["Europe/Paris"]),
    ("de_DE", "de-DE", "DE", ["Europe/Berlin"]),
    ("pt_BR", "pt-BR", "BR", ["America/Sao_Paulo"]),
    ("it_IT", "it-IT", "IT", ["Europe/Rome"]),
]
LOCALE_WEIGHTS = [40, 18, 10, 9, 9, 8, 6]

PLATFORMS = ["web", "ios", "android"]
PLATFORM_WEIGHTS = [45, 28, 27]

PLANS = ["free", "free", "free", "plus", "season-pass"]
SIGN_UP_METHODS = ["email", "google", "apple", "facebook"]


@dataclass(frozen=True)
class LiveLikeIdentity:
    """A LiveLike profile a user is linked to (``livelike_profile_id`` and/or
    ``custom_id``), e.g. one defined in the stack configuration."""

    livelike_profile_id: str | None = None
    custom_id: str | None = None


@dataclass
class User:
    """One person of the population and the state of their journey."""

    index: int
    anonymous_id: str
    user_id: str  # the id the app assigns at sign-up (or already has)
    registered: bool  # whether the app knows the user id yet
    platform: str  # "web", "ios" or "android"
    locale: str
    country: str
    timezone: str
    traits: dict[str, Any]
    livelike: LiveLikeIdentity | None = None
    club: tuple[str, str] | None = None  # (group id, name) of the fan club joined
    device_seed: int = 0  # drives device/browser choices in context.py
    sessions: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, str]:
        """The id fields every message of this user carries right now."""
        if self.registered:
            return {"userId": self.user_id, "anonymousId": self.anonymous_id}
        return {"anonymousId": self.anonymous_id}

    def livelike_properties(self) -> dict[str, str]:
        """Properties the LiveLike destination reads (livelike-contract §1.5)."""
        if self.livelike is None:
            return {}
        props: dict[str, str] = {}
        if self.livelike.livelike_profile_id:
            props["livelike_profile_id"] = self.livelike.livelike_profile_id
        if self.livelike.custom_id and self.registered:
            props["custom_id"] = self.livelike.custom_id
        return props


class FakerPool:
    """One seeded Faker per locale, created on first use."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._fakers: dict[str, Faker] = {}

    def __getitem__(self, locale: str) -> Faker:
        fake = self._fakers.get(locale)
        if fake is None:
            fake = Faker(locale)
            fake.seed_instance(f"{self.seed}:{locale}")
            self._fakers[locale] = fake
        return fake


def build_population(
    count: int,
    rng: random.Random,
    fakers: FakerPool,
    base_time: datetime,
    *,
    livelike: list[LiveLikeIdentity] | None = None,
    livelike_share: float = 0.35,
    registered_share: float = 0.6,
    clubs: list[tuple[str, str]] | None = None,
) -> list[User]:
    """Draw *count* users; the given LiveLike identities go to the first users."""
    known = list(livelike or [])
    users = []
    for index in range(count):
        locale_row = rng.choices(LOCALES, LOCALE_WEIGHTS)[0]
        faker_locale, locale, country, zones = locale_row
        fake = fakers[faker_locale]
        user_id = f"fan-{rng.getrandbits(40):010x}"
        traits = _traits(fake, rng, base_time, country, user_id)

        identity = None
        if index < len(known):
            identity = known[index]
        elif rng.random() < livelike_share:
            identity = _livelike_identity(rng, user_id)

        users.append(
            User(
                index=index,
                anonymous_id=rand_uuid(rng),
                user_id=(
                    identity.custom_id if identity and identity.custom_id else None
                )
                or user_id,
                registered=index < len(known) or rng.random() < registered_share,
                platform=rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0],
                locale=locale,
                country=country,
                timezone=rng.choice(zones),
                traits=traits,
                livelike=identity,
                club=rng.choice(clubs) if clubs and rng.random() < 0.3 else None,
                device_seed=rng.getrandbits(32),
            )
        )
        users[-1].traits["id"] = users[-1].user_id
    return users


def _livelike_identity(rng: random.Random, user_id: str) -> LiveLikeIdentity:
    """Link by the app's own user id, which LiveLike creates on first sight.

    Profile UUIDs are only ever taken from known identities (the stack
    configuration): a made-up UUID names no profile and LiveLike rejects it.
    """
    return LiveLikeIdentity(custom_id=user_id)


def _traits(
    fake: Faker,
    rng: random.Random,
    base_time: datetime,
    country: str,
    user_id: str,
) -> dict[str, Any]:
    """Reserved identify traits (segment-contract §3.6) plus the app's own."""
    first = fake.first_name()
    last = fake.last_name()
    handle = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    handle = handle.encode("ascii", "ignore").decode() or user_id
    created = base_time - timedelta(
        days=rng.randint(1, 1500), seconds=rng.randint(0, 86399)
    )
    birthday = fake.date_of_birth(minimum_age=16, maximum_age=70)
    return {
        "firstName": first,
        "lastName": last,
        "name": f"{first} {last}",
        "email": f"{handle}{rng.randint(1, 99)}@{fake.free_email_domain()}",
        "username": f"{handle}{rng.randint(1, 999)}",
        "phone": fake.phone_number(),
        "birthday": birthday.isoformat(),
        "age": _age(birthday, base_time),
        "address": {
            "street": fake.street_address(),
            "city": fake.city(),
            "state": _state(fake),
            "postalCode": fake.postcode(),
            "country": country,
        },
        "createdAt": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "plan": rng.choice(PLANS),
        "favorite_club": rng.choice(
            [
                "Riverside Rovers",
                "Harbor City Hawks",
                "Northgate United",
                "Bayview Mariners",
            ]
        ),
        "marketing_opt_in": rng.random() < 0.4,
    }


def _state(fake: Faker) -> str:
    for provider in ("state_abbr", "administrative_unit", "region"):
        method = getattr(fake, provider, None)
        if method is not None:
            try:
                return str(method())
            except AttributeError:
                continue
    return ""


def _age(birthday, now: datetime) -> int:
    years = now.year - birthday.year
    if (now.month, now.day) < (birthday.month, birthday.day):
        years -= 1
    return years
