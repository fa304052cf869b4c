"""LiveLike's request log and delivered outbox stay bounded; unsent rows stay."""

from __future__ import annotations

from emulator.livelike import models
from emulator.store import open_database


def test_the_request_log_keeps_only_its_newest_rows(monkeypatch):
    monkeypatch.setattr(models, "KEEP_ROWS", 3)
    db = open_database(":memory:")

    for number in range(5):
        models.record_request(
            db,
            method="POST",
            path=f"/request/{number}",
            client_id="demo-client-id",
            status=202,
            body=None,
        )

    paths = [row["path"] for row in db.query("SELECT path FROM ll_request")]
    assert paths == ["/request/2", "/request/3", "/request/4"]


def test_only_delivered_outbox_rows_are_trimmed(monkeypatch):
    monkeypatch.setattr(models, "KEEP_ROWS", 2)
    db = open_database(":memory:")
    with db.transaction() as conn:
        for number in range(6):
            conn.execute(
                "INSERT INTO ll_outbox (client_id, channel, event, payload,"
                " created_at, delivered_at) VALUES ('c', 'segment', ?, '{}', 'now', ?)",
                (f"event {number}", None if number == 0 else "now"),
            )

        models.trim_delivered_outbox(conn)

    events = [row["event"] for row in db.query("SELECT event FROM ll_outbox")]
    assert events == ["event 0", "event 4", "event 5"]
