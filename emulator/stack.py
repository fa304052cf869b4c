"""The whole local stack in one process: both services, the pipeline, the source.

Data flows one way: the Segment service ingests into the store; the pipeline
delivers stored messages to destinations (the LiveLike service); the rewards
engine's outbox sends LiveLike source events back to the Segment service.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.config import StackConfig, load_config
from emulator.store import Database, open_database
from emulator.web.server import ServiceServer

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

DEFAULT_STORE = Path(".seglike") / "store.sqlite3"


@dataclass
class StackAddress:
    host: str = "127.0.0.1"
    segment_port: int = 0
    livelike_port: int = 0


class Stack:
    """Start and stop every service of the emulator.

    ``Stack(load_config(), store=":memory:").start()`` is what ``seglike up``
    and the pytest plugin both run.
    """

    def __init__(
        self,
        config: StackConfig | None = None,
        *,
        store: str | Path | None = DEFAULT_STORE,
        address: StackAddress | None = None,
    ) -> None:
        self.config = config or load_config()
        self.address = address or StackAddress()
        self.db: Database = open_database(store)
        self.segment: ServiceServer | None = None
        self.livelike: ServiceServer | None = None
        self.apps: dict[str, Flask] = {}
        self._workers: list = []
        self._resetting = threading.Lock()

    @property
    def segment_url(self) -> str:
        assert self.segment is not None, "the stack is not started"
        return self.segment.url

    @property
    def livelike_url(self) -> str:
        assert self.livelike is not None, "the stack is not started"
        return self.livelike.url

    def start(self) -> Stack:
        from emulator.actions import control as delivery_control
        from emulator.actions.pipeline import Pipeline
        from emulator.livelike.app import create_app as create_livelike_app
        from emulator.livelike.source import SourceSender
        from emulator.segment.app import create_app as create_segment_app
        from emulator.web import faults

        host = self.address.host
        segment_app = create_segment_app(self.config, self.db)
        segment_app.register_blueprint(delivery_control.create_blueprint(self.db))
        segment_app.extensions.setdefault("seglike.stats", []).append(
            delivery_control.stats_provider(self.db)
        )
        segment_app.extensions.setdefault("seglike.reset", []).append(
            self._reset_deliveries
        )
        self.segment = ServiceServer(
            "segment",
            segment_app,
            host=host,
            port=self.address.segment_port,
        )
        livelike_app = create_livelike_app(self.config, self.db)
        self.apps = {"segment": segment_app, "livelike": livelike_app}
        for name, app in self.apps.items():  # `faults:` of the stack YAML
            faults.install_config_rules(app, self.config.raw, name)
            self._install_stack_reset(app)
        self.livelike = ServiceServer(
            "livelike",
            livelike_app,
            host=host,
            port=self.address.livelike_port,
        )
        self.db.ensure_schema()
        self.segment.start()
        self.livelike.start()

        self._workers = [
            Pipeline(self.config, self.db, livelike_url=self.livelike.url),
            SourceSender(self.config, self.db, segment_url=self.segment.url),
        ]
        for worker in self._workers:
            worker.start()
        return self

    def reset(self) -> None:
        """Forget what the services received and did; keep the configuration.

        The pytest plugin calls this before every test. The workers stop first:
        a delivery in flight must not land in the next test, nor find its rows
        gone. Segment's messages go before the pipeline's cursor, so that nothing
        old is delivered again.
        """
        with self._resetting:
            for worker in reversed(self._workers):
                worker.stop()

            for reset_component in _component_resets():
                reset_component(self.db)
            self._clear_faults()

            for worker in self._workers:
                worker.start()

    def _reset_deliveries(self, source: str | None) -> dict:
        """With Segment's reset of every source, forget the pipeline's work too.

        Otherwise a delivery still retrying would reach LiveLike after the reset.
        A one-source reset leaves the queue alone: the pipeline's cursor is
        shared by every source.
        """
        from emulator.actions.deliveries import reset as reset_deliveries
        from emulator.actions.pipeline import Pipeline

        if source is not None:
            return {}

        with self._resetting:
            pipelines = [w for w in self._workers if isinstance(w, Pipeline)]
            for pipeline in pipelines:
                pipeline.stop()
            reset_deliveries(self.db)
            for pipeline in pipelines:
                pipeline.start()
        return {"deliveries_reset": True}

    def _install_stack_reset(self, app: Flask) -> None:
        """Serve :meth:`reset` as ``POST /_emulator/stack/reset`` on *app*.

        Resetting each service over HTTP in turn races the loop between them (a
        reward event sent back to Segment after Segment was cleared); this route
        resets the whole stack at once, with its workers stopped.
        """
        from flask import jsonify

        def reset_stack():
            self.reset()
            return jsonify({"reset": True, "scope": "stack"})

        app.add_url_rule(
            "/_emulator/stack/reset", "stack_reset", reset_stack, methods=["POST"]
        )

    def _clear_faults(self) -> None:
        from emulator.web import faults

        for app in self.apps.values():
            faults.clear(app)

    def stop(self) -> None:
        for worker in reversed(self._workers):
            worker.stop()
        for server in (self.livelike, self.segment):
            if server is not None:
                server.stop()
        self.db.close()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _component_resets() -> list:
    """Each component's ``reset(db)``, in the order :meth:`Stack.reset` needs."""
    from emulator.actions.deliveries import reset as reset_deliveries
    from emulator.livelike.models import reset as reset_livelike
    from emulator.segment.messages import reset as reset_segment

    return [reset_segment, reset_deliveries, reset_livelike]
