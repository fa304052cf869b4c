"""``context``, ``messageId`` and timestamp strings the way each Segment SDK fills them.

Sources: segment-contract §3.5 (auto-collected keys per library), §5.4 (library
names, versions and messageId formats) and §5.6 (timestamp strings). Each library
object here is one SDK: analytics.js (web), analytics-swift (iOS),
analytics-kotlin (Android) and analytics-python (the app's backend).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from emulator.generator.population import User

APP = {
    "name": "Fan Zone",
    "version": "3.4.1",
    "build": "341",
}
IOS_NAMESPACE = "com.example.fanzone"
ANDROID_NAMESPACE = "com.example.fanzone.android"
WEB_DOMAIN = "fanzone.example.com"

# (userAgent, userAgentData or None) — Chromium browsers send client hints.
BROWSERS: list[tuple[str, dict[str, Any] | None]] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/131.0.0.0 Safari/537.36",
        {
            "brands": [
                {"brand": "Google Chrome", "version": "131"},
                {"brand": "Chromium", "version": "131"},
                {"brand": "Not_A Brand", "version": "24"},
            ],
            "mobile": False,
            "platform": "Windows",
        },
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/131.0.0.0 Safari/537.36",
        {
            "brands": [
                {"brand": "Google Chrome", "version": "131"},
                {"brand": "Chromium", "version": "131"},
                {"brand": "Not_A Brand", "version": "24"},
            ],
            "mobile": False,
            "platform": "macOS",
        },
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/18.1 Safari/605.1.15",
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        {
            "brands": [
                {"brand": "Google Chrome", "version": "131"},
                {"brand": "Chromium", "version": "131"},
                {"brand": "Not_A Brand", "version": "24"},
            ],
            "mobile": True,
            "platform": "Android",
        },
    ),
]

# (model identifier, marketing name, width, height, scale)
IPHONES = [
    ("iPhone15,2", "iPhone 14 Pro", 393, 852, 3.0),
    ("iPhone15,4", "iPhone 15", 393, 852, 3.0),
    ("iPhone16,2", "iPhone 15 Pro Max", 430, 932, 3.0),
    ("iPhone14,7", "iPhone 14", 390, 844, 3.0),
    ("iPhone17,1", "iPhone 16 Pro", 402, 874, 3.0),
]
IOS_VERSIONS = ["17.6.1", "18.0.1", "18.1", "18.1.1"]

# (manufacturer, model, name, width, height, density)
ANDROIDS = [
    ("samsung", "SM-S921B", "e1s", 1080, 2340, 3.0),
    ("samsung", "SM-A546B", "a54x", 1080, 2340, 2.625),
    ("Google", "Pixel 8", "shiba", 1080, 2400, 2.625),
    ("Google", "Pixel 7a", "lynx", 1080, 2400, 2.625),
    ("Xiaomi", "23049PCD8G", "tapas", 1080, 2400, 2.75),
    ("OnePlus", "CPH2449", "OP594DL1", 1240, 2772, 3.5),
]
ANDROID_VERSIONS = ["12", "13", "14", "15"]
CARRIERS = ["Vodafone", "T-Mobile", "Orange", "Movistar", "AT&T", "Verizon", "O2"]

CAMPAIGNS = [
    {"name": "matchday-push", "source": "newsletter", "medium": "email"},
    {"name": "season-pass-2026", "source": "instagram", "medium": "social"},
    {"name": "derby-week", "source": "google", "medium": "cpc", "term": "derby"},
]
REFERRERS = ["https://www.google.com/", "https://t.co/", "https://www.instagram.com/"]


@lru_cache(maxsize=4096)
def _seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def iso_millis_z(ms: int) -> str:
    """``2026-01-15T18:00:00.123Z``: analytics.js, Swift, Kotlin."""
    return f"{_seconds(ms // 1000)}.{ms % 1000:03d}Z"


def iso_millis_offset(ms: int) -> str:
    """``2026-01-15T18:00:00.123+00:00``: analytics-python (``isoformat``)."""
    return f"{_seconds(ms // 1000)}.{ms % 1000:03d}+00:00"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass(frozen=True)
class Library:
    """One Segment SDK: how it names itself, ids messages and writes times."""

    name: str
    version: str
    platform: str  # web, ios, android, server

    def message_id(self, rng: random.Random, ms: int) -> str:
        if self.name == "analytics.js":
            return f"ajs-next-{ms}-{_uuid(rng)}"
        if self.name == "analytics-swift":
            return str(_uuid(rng)).upper()  # Foundation's UUID().uuidString
        return str(_uuid(rng))

    def timestamp(self, ms: int) -> str:
        if self.name == "analytics-python":
            return iso_millis_offset(ms)
        return iso_millis_z(ms)


ANALYTICS_JS = Library("analytics.js", "npm:next-1.84.3", "web")
ANALYTICS_SWIFT = Library("analytics-swift", "1.6.2", "ios")
ANALYTICS_KOTLIN = Library("analytics-kotlin", "1.18.1", "android")
ANALYTICS_PYTHON = Library("analytics-python", "2.4.0", "server")

LIBRARIES = {
    "web": ANALYTICS_JS,
    "ios": ANALYTICS_SWIFT,
    "android": ANALYTICS_KOTLIN,
    "server": ANALYTICS_PYTHON,
}


class ContextBuilder:
    """Builds the ``context`` object of each message for one user's device."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.library = LIBRARIES[user.platform]
        device = random.Random(user.device_seed)
        if user.platform == "web":
            self._static = self._web(device)
        elif user.platform == "ios":
            self._static = self._ios(device)
        else:
            self._static = self._android(device)
        self._items = [
            (key, value, isinstance(value, dict)) for key, value in self._static.items()
        ]
        self._server = {"library": {"name": "analytics-python", "version": "2.4.0"}}

    def build(
        self, *, page: dict[str, Any] | None = None, campaign: bool = False
    ) -> dict[str, Any]:
        """A fresh context, its objects copied one level deep for callers to edit."""
        context = {
            key: value.copy() if nested else value for key, value, nested in self._items
        }
        if page is not None:
            context["page"] = page
        if campaign:
            context["campaign"] = dict(
                CAMPAIGNS[self.user.device_seed % len(CAMPAIGNS)]
            )
        return context

    def server(self) -> dict[str, Any]:
        """analytics-python sends only ``context.library`` (§3.5)."""
        return {"library": dict(self._server["library"])}

    def page(self, path: str, title: str, referrer: str = "") -> dict[str, Any]:
        """analytics.js ``context.page`` (and the same keys as page properties)."""
        return {
            "path": path,
            "referrer": referrer,
            "search": "",
            "title": title,
            "url": f"https://{WEB_DOMAIN}{path}",
        }

    def campaign_search(self) -> str:
        campaign = CAMPAIGNS[self.user.device_seed % len(CAMPAIGNS)]
        # analytics.js reads utm_campaign into context.campaign.name.
        return "?" + urlencode(
            {f"utm_{'campaign' if k == 'name' else k}": v for k, v in campaign.items()}
        )

    def _web(self, device: random.Random) -> dict[str, Any]:
        user_agent, hints = device.choice(BROWSERS)
        context: dict[str, Any] = {
            "library": {"name": ANALYTICS_JS.name, "version": ANALYTICS_JS.version},
            "locale": self.user.locale,
            "timezone": self.user.timezone,
            "userAgent": user_agent,
        }
        if hints is not None:
            context["userAgentData"] = hints
        return context

    def _ios(self, device: random.Random) -> dict[str, Any]:
        model, name, width, height, _scale = device.choice(IPHONES)
        return {
            "app": dict(APP, namespace=IOS_NAMESPACE),
            "device": {
                "id": str(_uuid(device)).upper(),
                "manufacturer": "Apple",
                "model": model,
                "name": name,
                "type": "ios",
            },
            "library": {
                "name": ANALYTICS_SWIFT.name,
                "version": ANALYTICS_SWIFT.version,
            },
            "locale": self.user.locale,
            "network": {"wifi": device.random() < 0.6, "cellular": True},
            "os": {"name": "iOS", "version": device.choice(IOS_VERSIONS)},
            "screen": {"width": width, "height": height},
            "timezone": self.user.timezone,
            "traits": {},
            "instanceId": str(_uuid(device)).upper(),
        }

    def _android(self, device: random.Random) -> dict[str, Any]:
        maker, model, name, width, height, density = device.choice(ANDROIDS)
        version = device.choice(ANDROID_VERSIONS)
        return {
            "app": dict(APP, namespace=ANDROID_NAMESPACE),
            "device": {
                "id": f"{device.getrandbits(64):016x}",
                "manufacturer": maker,
                "model": model,
                "name": name,
                "type": "android",
            },
            "library": {
                "name": ANALYTICS_KOTLIN.name,
                "version": ANALYTICS_KOTLIN.version,
            },
            "locale": self.user.locale,
            "network": {
                "wifi": device.random() < 0.55,
                "carrier": device.choice(CARRIERS),
                "cellular": True,
                "bluetooth": False,
            },
            "os": {"name": "Android", "version": version},
            "screen": {"density": density, "height": height, "width": width},
            "timezone": self.user.timezone,
            "traits": {},
            "userAgent": (
                f"Dalvik/2.1.0 (Linux; U; Android {version}; {model} Build/AP2A)"
            ),
            "instanceId": str(_uuid(device)),
        }
