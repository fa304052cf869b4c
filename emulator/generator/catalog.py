"""What a fan-engagement app shows: clubs, polls, quizzes, articles, videos, shop.

Built once per factory from its seeded random source, so every event can pick from
ready pools instead of calling Faker in the hot path (Faker costs tens of
microseconds per value; the generator's budget is 50 per event).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

CLUBS = [
    "Riverside Rovers",
    "Harbor City Hawks",
    "Northgate United",
    "Granite Falls FC",
    "Lakeshore Lightning",
    "Old Mill Athletic",
    "Summit Peak Wolves",
    "Bayview Mariners",
]

ARTICLE_CATEGORIES = ["match-report", "transfer-news", "interview", "analysis", "club"]

PRODUCT_LINES = [
    # (category, name, base price in dollars, variants)
    ("Apparel", "Home Jersey 2026", 89.99, ["S", "M", "L", "XL"]),
    ("Apparel", "Away Jersey 2026", 89.99, ["S", "M", "L", "XL"]),
    ("Apparel", "Training Hoodie", 59.0, ["S", "M", "L"]),
    ("Accessories", "Knitted Scarf", 24.5, ["home", "away"]),
    ("Accessories", "Snapback Cap", 29.0, ["black", "navy"]),
    ("Collectibles", "Signed Match Ball", 149.0, ["standard"]),
    ("Tickets", "Matchday Ticket", 45.0, ["north stand", "south stand", "family"]),
    ("Memberships", "Season Pass", 399.0, ["adult", "junior"]),
]


def rand_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from *rng*, so ids repeat with the seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Poll:
    id: str
    question: str
    options: list[tuple[str, str]]  # (option id, text)


@dataclass
class Quiz:
    id: str
    question: str
    choices: list[tuple[str, str]]  # (choice id, text)
    correct: str  # the correct choice id


@dataclass
class Article:
    id: str
    title: str
    author: str
    category: str
    slug: str
    words: int


@dataclass
class Video:
    asset_id: str
    title: str
    program: str
    genre: str
    total_length: int  # seconds
    livestream: bool


@dataclass
class Product:
    product_id: str
    sku: str
    category: str
    name: str
    brand: str
    variant: str
    price: float
    image_url: str
    url: str

    def as_properties(self) -> dict[str, Any]:
        """The Segment e-commerce v2 product object."""
        return {
            "product_id": self.product_id,
            "sku": self.sku,
            "category": self.category,
            "name": self.name,
            "brand": self.brand,
            "variant": self.variant,
            "price": self.price,
            "url": self.url,
            "image_url": self.image_url,
        }


@dataclass
class Catalog:
    clubs: list[tuple[str, str]] = field(default_factory=list)  # (group id, name)
    polls: list[Poll] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    search_terms: list[str] = field(default_factory=list)


def build_catalog(rng: random.Random, fake: Faker, domain: str) -> Catalog:
    """Draw the app's content for one seed."""
    catalog = Catalog()
    for name in CLUBS:
        slug = name.lower().replace(" ", "-")
        catalog.clubs.append((f"club-{slug}", name))

    for _ in range(24):
        home, away = rng.sample(CLUBS, 2)
        question = rng.choice(
            [
                f"Who wins {home} v {away}?",
                f"Player of the match: {home} v {away}?",
                f"Will {home} keep a clean sheet against {away}?",
            ]
        )
        options = [(rand_uuid(rng), text) for text in (home, away, "Draw")]
        catalog.polls.append(Poll(rand_uuid(rng), question, options))

    for _ in range(24):
        club = rng.choice(CLUBS)
        year = rng.randint(1890, 1990)
        choices = [(rand_uuid(rng), str(year + delta)) for delta in (0, 3, -7, 12)]
        rng.shuffle(choices)
        correct = next(cid for cid, text in choices if text == str(year))
        question = f"In which year was {club} founded?"
        catalog.quizzes.append(Quiz(rand_uuid(rng), question, choices, correct))

    for _ in range(40):
        title = fake.sentence(nb_words=rng.randint(5, 9)).rstrip(".")
        slug = "-".join(title.lower().split())[:60]
        catalog.articles.append(
            Article(
                id=rand_uuid(rng),
                title=title,
                author=fake.name(),
                category=rng.choice(ARTICLE_CATEGORIES),
                slug=slug,
                words=rng.randint(300, 2400),
            )
        )

    for _ in range(30):
        home, away = rng.sample(CLUBS, 2)
        kind = rng.choice(["Highlights", "Highlights", "Press Conference", "Live"])
        live = kind == "Live"
        catalog.videos.append(
            Video(
                asset_id=rand_uuid(rng),
                title=f"{kind}: {home} v {away}",
                program="Matchday Live" if live else "Matchday Replay",
                genre="sports",
                total_length=0 if live else rng.randint(45, 900),
                livestream=live,
            )
        )

    for number, (category, name, price, variants) in enumerate(PRODUCT_LINES):
        for variant in variants:
            product_id = f"{5000 + number * 10 + variants.index(variant)}"
            sku = f"FZ-{number:02d}-{variant[:3].upper().replace(' ', '')}"
            path = f"/shop/{name.lower().replace(' ', '-')}"
            catalog.products.append(
                Product(
                    product_id=product_id,
                    sku=sku,
                    category=category,
                    name=name,
                    brand="Fan Zone",
                    variant=variant,
                    price=price,
                    image_url=f"https://{domain}/img/{product_id}.jpg",
                    url=f"https://{domain}{path}?variant={variant.replace(' ', '+')}",
                )
            )

    catalog.search_terms = ["jersey", "scarf", "tickets", "season pass", "hoodie"]
    return catalog
