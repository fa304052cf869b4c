"""Fan-engagement journeys: what a user of the app does in each session, and when.

A session opens the app (or lands on the site), maybe signs the user up, runs one
to four activities (video, article, poll, quiz, shop) and closes. Events are spaced
by human pauses, sessions by hours or days. A few events arrive late on purpose: a
phone that was offline flushes its queue after the session, and a request that was
retried lands after later ones — the out-of-order traffic a real source sees.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from emulator.generator.catalog import Catalog, rand_uuid
from emulator.generator.context import (
    ANALYTICS_PYTHON,
    REFERRERS,
    ContextBuilder,
    Library,
)
from emulator.generator.population import SIGN_UP_METHODS, User

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

ACTIVITIES = ["video", "article", "poll", "quiz", "shop"]
ACTIVITY_WEIGHTS = [30, 24, 20, 14, 12]

# Every track event a journey can send; a plan's other events are made from it.
TRACK_EVENTS = frozenset(
    {
        "Application Installed",
        "Application Opened",
        "Application Backgrounded",
        "Signed Up",
        "Signed In",
        "Fan Club Joined",
        "Video Playback Started",
        "Video Content Started",
        "Video Content Playing",
        "Video Playback Buffer Started",
        "Video Playback Buffer Completed",
        "Video Playback Paused",
        "Video Playback Resumed",
        "Video Content Completed",
        "Video Playback Completed",
        "Video Playback Exited",
        "Article Read",
        "Article Shared",
        "Poll Voted",
        "Quiz Answered",
        "Products Searched",
        "Product List Viewed",
        "Product Viewed",
        "Product Added",
        "Cart Viewed",
        "Coupon Applied",
        "Checkout Started",
        "Checkout Step Viewed",
        "Checkout Step Completed",
        "Payment Info Entered",
        "Order Completed",
        "Order Refunded",
    }
)

SIGN_UP_CHANCE = 0.3  # per session of a not-yet-registered user
OFFLINE_CHANCE = 0.04  # per mobile session: queued and flushed after it ends
LATE_CHANCE = 0.01  # per event: a retried request that lands after later ones
HEARTBEAT_MS = 10 * SECOND  # "Video Content Playing" (segment-contract §6.2)


class Session:
    """Collects one session's messages with the user's clock and SDK."""

    def __init__(
        self, user: User, context: ContextBuilder, rng: random.Random, start: int
    ) -> None:
        self.user = user
        self.context = context
        self.rng = rng
        self.now = start
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.web = user.platform == "web"
        self.page_path = "/"
        self.page_title = "Fan Zone"
        self.first_page = True

    def wait(self, low: float, high: float) -> None:
        """A human pause of *low*..*high* seconds."""
        self.now += int(self.rng.uniform(low, high) * SECOND)

    def _message(
        self, kind: str, body: dict[str, Any], library: Library | None = None
    ) -> dict[str, Any]:
        library = library or self.context.library
        if library is ANALYTICS_PYTHON:
            ids = {"userId": self.user.user_id}
            context = self.context.server()
        else:
            ids = self.user.identity()
            context = self.context.build(
                page=self._page_context() if self.web else None,
                campaign=self.web and self.first_page and self.user.sessions == 1,
            )
        message = {"type": kind, **body, **ids}
        message["context"] = context
        message["integrations"] = {}
        message["messageId"] = library.message_id(self.rng, self.now)
        message["timestamp"] = library.timestamp(self.now)
        self.events.append((self.now, message))
        return message

    def _page_context(self) -> dict[str, Any]:
        return self._page_fields(self.page_path, self.page_title)

    def _page_fields(self, path: str, title: str) -> dict[str, Any]:
        referrer = ""
        search = ""
        if self.first_page:
            referrer = REFERRERS[self.user.device_seed % len(REFERRERS)]
            if self.user.sessions == 1:
                search = self.context.campaign_search()
        fields = self.context.page(path, title, referrer)
        if search:
            fields["search"] = search
            fields["url"] += search
        return fields

    def track(
        self,
        event: str,
        properties: dict[str, Any],
        *,
        server: bool = False,
    ) -> dict[str, Any]:
        properties.update(self.user.livelike_properties())
        library = ANALYTICS_PYTHON if server else None
        return self._message(
            "track", {"event": event, "properties": properties}, library
        )

    def view(self, name: str, path: str, category: str | None = None, **extra) -> None:
        """A page call on the web, a screen call in the apps."""
        if self.web:
            self.page_path = path
            self.page_title = f"{name} | Fan Zone"
            properties = self._page_fields(path, self.page_title)
            body: dict[str, Any] = {"name": name}
            if category:
                body["category"] = category
                properties["category"] = category  # analytics.js copies it (§5.5)
            properties.update(extra)
            body["properties"] = properties
            self._message("page", body)
            self.first_page = False
        else:
            self._message("screen", {"name": name, "properties": dict(extra)})

    def identify(self, traits: dict[str, Any]) -> None:
        self._message("identify", {"traits": traits})

    def alias(self) -> None:
        body = {"previousId": self.user.anonymous_id}
        self._message("alias", body)

    def group(self, group_id: str, traits: dict[str, Any]) -> None:
        self._message("group", {"groupId": group_id, "traits": traits})


class Journeys:
    """Endless, seeded timelines of sessions for the users of one population."""

    def __init__(self, rng: random.Random, catalog: Catalog, start_ms: int) -> None:
        self.rng = rng
        self.catalog = catalog
        self.start_ms = start_ms

    def timeline(self, user: User) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(delivery time, message)`` in delivery order, session by session."""
        context = ContextBuilder(user)
        rng = self.rng
        now = self.start_ms + int(rng.uniform(0, 36) * HOUR)
        while True:
            user.sessions += 1
            session = Session(user, context, rng, now)
            self.session(session)
            yield from self._deliveries(session)
            gap = max(20 * MINUTE, int(rng.expovariate(1 / 30) * HOUR))
            now = session.now + gap

    def _deliveries(self, session: Session) -> list[tuple[int, dict[str, Any]]]:
        """Delivery order of a session: mostly as it happened, a few late."""
        rng = self.rng
        end = session.now
        if not session.web and rng.random() < OFFLINE_CHANCE:
            flush = end + int(rng.uniform(30, 600) * SECOND)
            session.now = flush
            return [(flush, message) for _, message in session.events]

        timed = []
        events = session.events
        for index, (at, message) in enumerate(events):
            deliver = at
            if rng.random() < LATE_CHANCE and index + 2 < len(events):
                later = events[min(len(events) - 1, index + rng.randint(2, 4))][0]
                deliver = max(at, later) + 1
            timed.append((deliver, index, message))
        timed.sort(key=lambda item: (item[0], item[1]))
        session.now = max(end, timed[-1][0] if timed else end)
        return [(deliver, message) for deliver, _, message in timed]

    def session(self, s: Session) -> None:
        rng = self.rng
        user = s.user
        if not s.web:
            if user.sessions == 1:
                s.track("Application Installed", {"version": "3.4.1", "build": "341"})
                s.wait(1, 4)
            s.track(
                "Application Opened",
                {
                    "from_background": user.sessions > 1 and rng.random() < 0.4,
                    "version": "3.4.1",
                    "build": "341",
                },
            )
            s.wait(0.5, 2)
        s.view("Home", "/", category="Home")

        if not user.registered and rng.random() < SIGN_UP_CHANCE:
            self.sign_up(s)
        elif user.registered and user.sessions == 1 and rng.random() < 0.5:
            self.sign_in(s)

        if user.club and not user.state.get("joined") and rng.random() < 0.25:
            self.join_club(s)

        activities = rng.choices(ACTIVITIES, ACTIVITY_WEIGHTS, k=rng.randint(1, 4))
        for activity in activities:
            s.wait(3, 45)
            getattr(self, activity)(s)

        if not s.web:
            s.wait(2, 30)
            s.track("Application Backgrounded", {})

    def sign_up(self, s: Session) -> None:
        s.wait(2, 10)
        s.view("Sign Up", "/signup", category="Account")
        s.wait(15, 90)
        s.user.registered = True
        s.alias()
        s.wait(0.005, 0.05)  # the app's calls, milliseconds apart
        s.identify(dict(s.user.traits))
        s.wait(0.005, 0.05)
        method = self.rng.choice(SIGN_UP_METHODS)
        traits = s.user.traits
        s.track(
            "Signed Up",
            {
                "type": method,
                "first_name": traits["firstName"],
                "last_name": traits["lastName"],
                "email": traits["email"],
                "username": traits["username"],
            },
        )

    def sign_in(self, s: Session) -> None:
        s.wait(2, 10)
        s.identify({"email": s.user.traits["email"], "plan": s.user.traits["plan"]})
        s.track("Signed In", {"username": s.user.traits["username"]})

    def join_club(self, s: Session) -> None:
        group_id, name = s.user.club
        s.wait(5, 20)
        s.group(
            group_id,
            {
                "name": f"{name} Supporters",
                "industry": "Sports",
                "plan": "official",
                "employees": 800 + 37 * len(name),
                "website": f"https://{group_id}.example.org",
            },
        )
        s.track("Fan Club Joined", {"club_id": group_id, "club_name": name})
        s.user.state["joined"] = True

    def video(self, s: Session) -> None:
        rng = self.rng
        video = rng.choice(self.catalog.videos)
        s.view("Video", f"/watch/{video.asset_id}", category="Video", title=video.title)
        session_id = rand_uuid(rng)
        playback = {
            "session_id": session_id,
            "content_asset_id": video.asset_id,
            "position": 0,
            "total_length": video.total_length,
            "video_player": "html5" if s.web else "native",
            "sound": rng.choice([0, 50, 88, 100]),
            "full_screen": rng.random() < 0.3,
            "bitrate": rng.choice([1200, 2500, 4500]),
            "framerate": rng.choice([25, 30, 60]),
            "quality": rng.choice(["hd720", "hd1080", "auto"]),
            "livestream": video.livestream,
            "ad_enabled": False,
        }
        content = {
            "session_id": session_id,
            "asset_id": video.asset_id,
            "title": video.title,
            "program": video.program,
            "genre": video.genre,
            "publisher": "Fan Zone Media",
            "position": 0,
            "total_length": video.total_length,
            "livestream": video.livestream,
            "full_episode": False,
        }
        s.wait(0.5, 3)
        s.track("Video Playback Started", dict(playback))
        s.wait(0.05, 0.4)
        s.track("Video Content Started", dict(content))

        length = video.total_length or 5400
        watch = min(length, max(5, int(rng.expovariate(1 / 70))))
        position = 0
        paused = False
        while position + 10 <= watch:
            position += 10
            s.now += HEARTBEAT_MS
            if not paused and rng.random() < 0.04:
                s.track(
                    "Video Playback Buffer Started", dict(playback, position=position)
                )
                s.wait(0.5, 4)
                s.track(
                    "Video Playback Buffer Completed", dict(playback, position=position)
                )
            s.track("Video Content Playing", dict(content, position=position))
            if rng.random() < 0.05:
                s.track("Video Playback Paused", dict(playback, position=position))
                s.wait(3, 60)
                s.track("Video Playback Resumed", dict(playback, position=position))

        s.now += (watch - position) * SECOND
        if watch >= length:
            s.track("Video Content Completed", dict(content, position=length))
            s.track("Video Playback Completed", dict(playback, position=length))
        else:
            s.track("Video Playback Exited", dict(playback, position=watch))

    def article(self, s: Session) -> None:
        rng = self.rng
        article = rng.choice(self.catalog.articles)
        path = f"/news/{article.slug}"
        s.view("Article", path, category=article.category, title=article.title)
        full = article.words / 4.0  # seconds at ~240 words a minute
        read = rng.uniform(0.1, 1.2) * full
        s.now += int(read * SECOND)
        percent = min(100, int(100 * read / full))
        if percent >= 40:
            s.track(
                "Article Read",
                {
                    "article_id": article.id,
                    "title": article.title,
                    "category": article.category,
                    "author": article.author,
                    "read_time_seconds": int(read),
                    "percent_read": percent,
                },
            )
            if rng.random() < 0.08:
                s.wait(1, 5)
                s.track(
                    "Article Shared",
                    {
                        "article_id": article.id,
                        "share_via": rng.choice(["whatsapp", "x", "copy_link"]),
                    },
                )

    def poll(self, s: Session) -> None:
        rng = self.rng
        poll = rng.choice(self.catalog.polls)
        s.view("Matchday", "/matchday", category="Matchday")
        s.wait(3, 25)
        option_id, text = rng.choice(poll.options)
        s.track(
            "Poll Voted",
            {
                "poll_id": poll.id,
                "question": poll.question,
                "option_id": option_id,
                "option_text": text,
            },
        )

    def quiz(self, s: Session) -> None:
        rng = self.rng
        quiz = rng.choice(self.catalog.quizzes)
        s.view("Quiz", f"/quiz/{quiz.id}", category="Matchday")
        s.wait(5, 40)
        if rng.random() < 0.55:
            choice_id = quiz.correct
        else:
            choice_id = rng.choice(quiz.choices)[0]
        text = dict(quiz.choices)[choice_id]
        s.track(
            "Quiz Answered",
            {
                "quiz_id": quiz.id,
                "question": quiz.question,
                "choice_id": choice_id,
                "choice_text": text,
                "is_correct": choice_id == quiz.correct,
            },
        )

    def shop(self, s: Session) -> None:
        """An e-commerce v2 funnel (segment-contract §6.1) with realistic drop-off."""
        rng = self.rng
        products = self.catalog.products
        s.view("Shop", "/shop", category="Shop")
        if rng.random() < 0.3:
            s.wait(2, 10)
            s.track(
                "Products Searched", {"query": rng.choice(self.catalog.search_terms)}
            )

        category = rng.choice(sorted({p.category for p in products}))
        listed = [p for p in products if p.category == category][:6]
        s.wait(2, 15)
        s.track(
            "Product List Viewed",
            {
                "list_id": f"list-{category.lower()}",
                "category": category,
                "products": [
                    dict(p.as_properties(), position=i + 1)
                    for i, p in enumerate(listed)
                ],
            },
        )
        product = rng.choice(listed)
        s.wait(2, 20)
        s.view("Product", f"/shop/{product.product_id}", category="Shop")
        s.track(
            "Product Viewed",
            dict(product.as_properties(), currency="USD", value=product.price),
        )
        if rng.random() > 0.5:
            return

        cart_id = rand_uuid(rng)
        quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        s.wait(3, 30)
        s.track(
            "Product Added",
            dict(product.as_properties(), cart_id=cart_id, quantity=quantity),
        )
        line = dict(product.as_properties(), quantity=quantity)
        if rng.random() > 0.6:
            return

        s.wait(5, 60)
        s.track("Cart Viewed", {"cart_id": cart_id, "products": [line]})
        subtotal = round(product.price * quantity, 2)
        coupon = None
        discount = 0.0
        if rng.random() < 0.15:
            coupon = "MATCHDAY10"
            discount = round(subtotal * 0.1, 2)
            s.wait(2, 10)
            s.track(
                "Coupon Applied",
                {
                    "cart_id": cart_id,
                    "coupon_id": coupon,
                    "coupon_name": "Matchday 10%",
                    "discount": discount,
                },
            )
        order_id = f"ord-{rng.getrandbits(36):09x}"
        checkout_id = rand_uuid(rng)
        shipping = 0.0 if product.category in ("Tickets", "Memberships") else 4.99
        tax = round((subtotal - discount) * 0.08, 2)
        total = round(subtotal - discount + shipping + tax, 2)
        order = {
            "order_id": order_id,
            "affiliation": "Fan Zone Store",
            "value": round(subtotal - discount, 2),
            "revenue": round(subtotal - discount, 2),
            "shipping": shipping,
            "tax": tax,
            "discount": discount,
            "currency": "USD",
            "products": [line],
        }
        if coupon:
            order["coupon"] = coupon
        s.wait(5, 40)
        s.track("Checkout Started", dict(order))
        if rng.random() > 0.7:
            return

        for step, method in ((1, "shipping_method"), (2, "payment_method")):
            value = (
                rng.choice(["standard", "express"])
                if step == 1
                else rng.choice(["card", "paypal", "apple_pay"])
            )
            s.wait(5, 40)
            s.track("Checkout Step Viewed", {"checkout_id": checkout_id, "step": step})
            s.track(
                "Checkout Step Completed",
                {"checkout_id": checkout_id, "step": step, method: value},
            )
        s.track(
            "Payment Info Entered",
            {
                "checkout_id": checkout_id,
                "order_id": order_id,
                "step": 2,
                "payment_method": value,
            },
        )
        if rng.random() > 0.85:
            return

        s.wait(1, 6)
        completed = dict(order, checkout_id=checkout_id, subtotal=subtotal, total=total)
        # A registered user's order is confirmed by the backend (analytics-python).
        s.track("Order Completed", completed, server=s.user.registered)
        if s.user.registered and rng.random() < 0.03:
            s.wait(3600, 3 * 86400)
            s.track(
                "Order Refunded",
                {"order_id": order_id, "total": total, "currency": "USD"},
                server=True,
            )
