"""A restart, even a crash in the middle of a request, loses nothing; a request
sent again after a crash is recorded as a redelivery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from emulator.actions import deliveries
from emulator.actions.pipeline import Pipeline
from emulator.config import load_config
from emulator.store.database import Database
from tests.delivery_helpers import LiveLikeStandIn, accept, read_accepted, settled

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "demo-app"

# A pipeline in its own process, so the test can kill it with SIGKILL.
WORKER = """
import sys, threading
from emulator.actions.pipeline import Pipeline
from emulator.config import load_config
from emulator.store.database import Database
from tests.delivery_helpers import read_accepted

store, config_file, url = sys.argv[1:4]
Pipeline(load_config(config_file), Database(store), livelike_url=url,
         reader=read_accepted).start()
threading.Event().wait()
"""


def write_config(path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "delivery": {"backoff_base_seconds": 0.01, "timeout_seconds": 30},
                "sources": [
                    {
                        "name": SOURCE,
                        "write_key": "seglike-demo-app-write-key-00001",
                        "destinations": [
                            {
                                "destination": "livelike-cloud",
                                "settings": {"clientId": "c", "producerToken": "t"},
                            }
                        ],
                    }
                ],
            }
        )
    )
    return path


def track(message_id: str) -> dict:
    return {
        "type": "track",
        "event": "Poll Voted",
        "userId": "user-1",
        "messageId": message_id,
        "timestamp": "2026-07-02T16:26:57.511Z",
        "properties": {},
    }


def start(db: Database, config_file: Path, standin: LiveLikeStandIn) -> Pipeline:
    pipeline = Pipeline(
        load_config(config_file), db, livelike_url=standin.url, reader=read_accepted
    )
    standin.before_stop.append(pipeline.stop)
    return pipeline.start()


def test_a_crash_mid_request_is_resent_as_a_redelivery(tmp_path):
    store = tmp_path / "store.sqlite3"
    config_file = write_config(tmp_path / "stack.yaml")
    db = Database(store)
    accept(db, SOURCE, track("m-1"), track("m-2"), track("m-3"))
    db.close()

    with LiveLikeStandIn() as standin:
        standin.hold()
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store), str(config_file), standin.url],
            cwd=ROOT,
        )
        try:
            assert standin.wait_for_requests(1, timeout=60), "the worker sent nothing"
        finally:
            worker.kill()
            worker.wait(10)
        standin.release()

        db = Database(store)
        before = deliveries.list_deliveries(db)
        assert [d["status"] for d in before] == ["pending"] * 3
        assert [[a["outcome"] for a in d["attempts"]] for d in before] == [
            ["sending"],
            [],
            [],
        ], before

        start(db, config_file, standin)
        items = settled(db, 3)

    assert [d["messageId"] for d in items] == ["m-1", "m-2", "m-3"]
    assert [d["status"] for d in items] == ["delivered"] * 3
    interrupted, resent = items[0]["attempts"]
    assert (interrupted["outcome"], interrupted["redelivery"]) == ("interrupted", False)
    assert (resent["outcome"], resent["redelivery"]) == ("delivered", True)
    assert interrupted["request"] == resent["request"]
    assert [len(d["attempts"]) for d in items[1:]] == [1, 1]
    assert not any(a["redelivery"] for d in items[1:] for a in d["attempts"])

    sent = [r.body["events"][0]["event_name"] for r in standin.received]
    assert len(sent) == 4  # m-1 twice: once before the crash, once after
    db.close()


def test_messages_accepted_while_stopped_are_delivered_once_after_restart(tmp_path):
    store = tmp_path / "store.sqlite3"
    config_file = write_config(tmp_path / "stack.yaml")

    with LiveLikeStandIn() as standin:
        db = Database(store)
        first = start(db, config_file, standin)
        accept(db, SOURCE, track("m-1"))
        settled(db, 1)
        first.stop()
        accept(db, SOURCE, track("m-2"), track("m-3"))
        db.close()

        db = Database(store)
        start(db, config_file, standin)
        items = settled(db, 3)

    assert [(d["messageId"], d["status"]) for d in items] == [
        ("m-1", "delivered"),
        ("m-2", "delivered"),
        ("m-3", "delivered"),
    ]
    assert len(standin.received) == 3
    db.close()
