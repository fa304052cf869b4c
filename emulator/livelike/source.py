"""The LiveLike source: the outbox that sends reward events back to Segment.

TODO(livelike): placeholder worker.
"""

from __future__ import annotations

from emulator.config import StackConfig
from emulator.store import Database


class SourceSender:
    def __init__(self, config: StackConfig, db: Database, *, segment_url: str) -> None:
        self.segment_url = segment_url

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
