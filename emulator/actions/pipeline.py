"""Delivery from the store to destination actions.  TODO(pipeline): placeholder."""

from __future__ import annotations

from emulator.config import StackConfig
from emulator.store import Database


class Pipeline:
    def __init__(self, config: StackConfig, db: Database, *, livelike_url: str) -> None:
        self.livelike_url = livelike_url

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
