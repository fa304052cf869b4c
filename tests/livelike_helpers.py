"""Helpers of the LiveLike tests: a configured app on an in-memory store."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from emulator.config import StackConfig, load_config, parse_config
from emulator.livelike.app import create_app
from emulator.livelike.config import Application
from emulator.store import Database

CLIENT_ID = "demo-client-id"
TOKEN = "demo-producer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENTS = f"/api/v1/applications/{CLIENT_ID}/segment-events/"
AUDIENCE = f"/api/v1/applications/{CLIENT_ID}/segment-audience-sync/"
ADA = "5f724202-246d-439b-8250-527bed44b6c9"  # configured, custom id fan-0001
GRACE = "8a3c1c1e-9a57-4a8c-9f8e-0d3b8e1f2a77"  # configured, no custom id

SMALL_APP: dict[str, Any] = {
    "client_id": CLIENT_ID,
    "name": "Test App",
    "producer_tokens": [TOKEN],
    "reward_items": [{"name": "Points"}, {"name": "Coins"}],
    "reward_actions": [{"name": "Article Read", "key": "article-read"}],
    "reward_tables": [
        {
            "name": "Main",
            "entries": [
                {"action": "poll-voted", "reward_item": "Points", "amount": 10},
                {"action": "poll-voted", "reward_item": "Coins", "amount": 1},
                {
                    "action": "article-read",
                    "reward_item": "Points",
                    "amount": 5,
                    "reward_limit": {"count": 2, "per": "day"},
                },
                {
                    "action": "quiz-correct",
                    "reward_item": "Points",
                    "amount": 7,
                    "rate_limit": {"count": 1, "per": "minute"},
                },
            ],
        }
    ],
    "badges": [
        {"name": "Twenty", "reward_item": "Points", "threshold": 20},
        {"name": "Quester"},
    ],
    "quests": [
        {
            "name": "Reader",
            "tasks": [
                {"name": "Vote twice", "action": "poll-voted", "target_value": 2},
                {"name": "Read once", "action": "article-read"},
            ],
            "rewards": [{"reward_item": "Points", "amount": 100}],
            "badges": ["Quester"],
        }
    ],
    "leaderboards": [
        {"name": "Points Board", "reward_item": "Points"},
        {"name": "Locked Board", "reward_item": "Points", "is_locked": True},
    ],
    "profile_groups": [{"name": "VIP", "segment_audience_id": "aud_vip"}],
    "profiles": [
        {"id": ADA, "custom_id": "fan-0001", "nickname": "Ada"},
        {"id": GRACE, "nickname": "Grace"},
    ],
}


def stack_config(app: dict[str, Any] | None = None, **livelike: Any) -> StackConfig:
    """The default stack with its ``livelike`` section replaced."""
    raw = copy.deepcopy(load_config().raw)
    raw["livelike"] = {
        "source": {"write_key": "seglike-livelike-source-key-0001"},
        "applications": [copy.deepcopy(app if app is not None else SMALL_APP)],
        **livelike,
    }
    return parse_config(raw)


@dataclass
class LiveLike:
    app: Flask
    client: FlaskClient
    db: Database
    config: StackConfig

    @property
    def application(self) -> Application:
        return self.config.livelike.applications[0]

    def item_id(self, name: str) -> str:
        return next(i.id for i in self.application.reward_items if i.name == name)

    def badge_id(self, name: str) -> str:
        return next(b.id for b in self.application.badges if b.name == name)

    def board_id(self, name: str) -> str:
        return next(b.id for b in self.application.leaderboards if b.name == name)

    def send(self, *events: dict[str, Any], expect: int = 202):
        response = self.client.post(EVENTS, json={"events": list(events)}, headers=AUTH)
        assert response.status_code == expect, response.get_json()
        return response

    def get(self, path: str, **query: Any) -> Any:
        response = self.client.get(path, query_string=query, headers=AUTH)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def balance(self, profile_id: str, item: str = "Points") -> int:
        body = self.get(f"/api/v1/profiles/{profile_id}/reward-item-balances/")
        return next(
            r["reward_item_balance"]
            for r in body["results"]
            if r["reward_item_name"] == item
        )

    def profile_id(self, custom_id: str) -> str:
        return self.get(f"/api/v1/profile-by-custom-id/{CLIENT_ID}/{custom_id}/")["id"]

    def outbox(self, channel: str = "segment") -> list[dict[str, Any]]:
        rows = self.client.get("/_emulator/outbox", query_string={"limit": 1000})
        return [r for r in rows.get_json()["outbox"] if r["channel"] == channel]

    def source_events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r["payload"]
            for r in self.outbox()
            if name is None or r["payload"]["event"] == name
        ]

    def count(self, sql: str, params: tuple = ()) -> int:
        return self.db.query(sql, params)[0][0]


def make_livelike(config: StackConfig | None = None, db: Database | None = None):
    config = config or stack_config()
    db = db or Database()
    app = create_app(config, db)
    return LiveLike(app=app, client=app.test_client(), db=db, config=config)


_clock = iter(range(10**9))


def event(
    name: str = "Poll Voted",
    *,
    user: str | None = "user-1",
    timestamp: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One event as Segment's Track Event action sends it (unique timestamp)."""
    if timestamp is None:
        micro = next(_clock)
        timestamp = datetime.fromtimestamp(
            1_700_000_000 + micro / 1000, UTC
        ).isoformat()
    body = {"event_name": name, "event_type": "track", "timestamp": timestamp}
    if user is not None:
        body["segment_user_id"] = user
    body.update(fields)
    return body
