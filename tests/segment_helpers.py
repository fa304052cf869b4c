"""Fixtures and helpers shared by the Segment service's tests.

A test module imports the fixtures it uses by their function names
(``client_fixture``); pytest registers them under their short names (``client``).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.config import StackConfig, parse_config
from emulator.segment.app import create_app
from emulator.store import Database
from emulator.web.server import ServiceServer

WRITE_KEY = "seglike-demo-app-write-key-00001"
STRICT_KEY = "seglike-strict-source-key-000001"
OTHER_KEY = "seglike-other-source-key-0000001"

RAW_CONFIG: dict[str, Any] = {
    "segment": {
        "limits": {
            "message_bytes": 32768,
            "request_bytes": 512000,
            "batch_messages": 2500,
        },
        "dedupe_window_seconds": 86400,
        "max_messages": 100000,
    },
    "sources": [
        {"name": "demo-app", "write_key": WRITE_KEY},
        {"name": "strict-app", "write_key": STRICT_KEY, "strict": True},
        {"name": "other-app", "write_key": OTHER_KEY},
    ],
}


def make_config(**segment: Any) -> StackConfig:
    """The test configuration, with *segment* keys overriding its section."""
    raw = copy.deepcopy(RAW_CONFIG)
    for key, value in segment.items():
        if key == "limits":
            raw["segment"]["limits"].update(value)
        else:
            raw["segment"][key] = value
    return parse_config(raw)


def basic(key: str = WRITE_KEY, colon: bool = True) -> dict[str, str]:
    credentials = f"{key}:" if colon else key
    token = base64.b64encode(credentials.encode()).decode()
    return {"Authorization": f"Basic {token}"}


def track(**fields: Any) -> dict[str, Any]:
    message = {"type": "track", "userId": "user-1", "event": "Song Played"}
    message.update(fields)
    return message


# Fixtures carry a name= so that test modules import them without shadowing.
@pytest.fixture(name="db")
def db_fixture() -> Iterator[Database]:
    database = Database()
    yield database
    database.close()


@pytest.fixture(name="app")
def app_fixture(db):
    return create_app(make_config(), db)


@pytest.fixture(name="client")
def client_fixture(app):
    return app.test_client()


@pytest.fixture(name="server")
def server_fixture(app) -> Iterator[ServiceServer]:
    running = ServiceServer("segment-test", app).start()
    yield running
    running.stop()


def stored(client, **filters: Any) -> list[dict[str, Any]]:
    """Every stored message matching *filters*, through the control API."""
    response = client.get("/_emulator/messages", query_string=filters)
    assert response.status_code == 200, response.json
    return response.json["items"]
