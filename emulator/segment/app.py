"""The Segment service's Flask app.  TODO(segment): placeholder."""

from __future__ import annotations

from flask import Flask

from emulator.config import StackConfig
from emulator.store import Database
from emulator.web.app import create_service_app


def create_app(config: StackConfig, db: Database) -> Flask:
    return create_service_app("segment")
