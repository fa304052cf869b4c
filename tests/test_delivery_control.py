"""``GET /_emulator/deliveries`` and the delivery counts for ``/_emulator/stats``."""

from __future__ import annotations

import pytest

from emulator.actions import control, deliveries
from emulator.actions.deliveries import NewDelivery
from emulator.store.database import Database
from emulator.web.app import create_service_app


def new(seq: int, status: str, **over) -> NewDelivery:
    values = {
        "seq": seq,
        "message_id": f"m-{seq}",
        "source": "demo-app",
        "destination": "LiveLike",
        "subscription": "Track User Actions",
        "action": "trackEvent",
        "status": status,
        "payload": {"event_name": "x"},
        **over,
    }
    return NewDelivery(**values)


@pytest.fixture
def db():
    database = Database(":memory:")
    database.ensure_schema()
    deliveries.record_routed(
        database,
        5,
        [
            new(1, "pending"),
            new(2, "failed", reason="`livelike_profile_id` or ... is required."),
            new(3, "pending", source="other"),
            new(
                4,
                "pending",
                subscription="Fans",
                action="syncToUserGroup",
                message_id="m-x",
            ),
            new(5, "filtered", reason="integrations['LiveLike'] is false"),
        ],
    )
    yield database
    database.close()


@pytest.fixture
def client(db):
    app = create_service_app("segment")
    app.register_blueprint(control.create_blueprint(db))
    return app.test_client()


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        ("", [1, 2, 3, 4, 5]),
        ("?status=failed", [2]),
        ("?source=other", [3]),
        ("?action=syncToUserGroup", [4]),
        ("?messageId=m-x", [4]),
        ("?destination=LiveLike&status=pending", [1, 3, 4]),
        ("?destination=Nope", []),
        ("?subscription=Fans", [4]),
    ],
)
def test_filters(client, query, seqs):
    response = client.get("/_emulator/deliveries" + query)

    assert response.status_code == 200
    assert [d["seq"] for d in response.json["deliveries"]] == seqs


def test_cursor_pages_through_everything(client):
    first = client.get("/_emulator/deliveries?limit=2").json
    second = client.get(f"/_emulator/deliveries?limit=2&cursor={first['cursor']}").json
    third = client.get(f"/_emulator/deliveries?limit=2&cursor={second['cursor']}").json

    pages = [first, second, third]
    assert [[d["seq"] for d in p["deliveries"]] for p in pages] == [[1, 2], [3, 4], [5]]
    assert third["cursor"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=lost", "Unknown delivery status 'lost'"),
        ("?limit=0", "Query parameter limit must be from 1 to 1000, not 0."),
        ("?limit=ten", "Query parameter limit must be an integer, not 'ten'."),
        ("?cursor=-1", "Query parameter cursor must be at least 0, not -1."),
    ],
)
def test_bad_filters_are_400_with_a_sentence(client, query, message):
    response = client.get("/_emulator/deliveries" + query)

    assert response.status_code == 400
    assert response.json["code"] == "invalid_filter"
    assert response.json["message"].startswith(message)


def test_one_delivery_with_its_attempts(db, client):
    (delivery,) = [d for d in deliveries.due(db, now=1e12) if d.seq == 1]
    ids = deliveries.begin_attempt(db, [delivery], "req-1", {"method": "POST"})
    deliveries.finish_attempt(
        db,
        ids,
        [delivery],
        deliveries.AttemptResult(12.5, "delivered", 202, {"a": "b"}, "{}"),
        status="delivered",
        reason="HTTP 202",
    )

    body = client.get(f"/_emulator/deliveries/{delivery.id}").json

    assert body["status"] == "delivered"
    (attempt,) = body["attempts"]
    assert attempt["requestId"] == "req-1"
    assert attempt["durationMs"] == 12.5
    assert attempt["response"] == {"status": 202, "headers": {"a": "b"}, "body": "{}"}


def test_unknown_delivery_is_404(client):
    response = client.get("/_emulator/deliveries/999")

    assert response.status_code == 404
    assert response.json["message"] == "No delivery has id 999."


def test_stats_count_per_destination_and_action(db):
    provide = control.stats_provider(db)

    counts = provide()["deliveries"]

    assert counts["LiveLike"]["trackEvent"]["pending"] == 2
    assert counts["LiveLike"]["trackEvent"]["failed"] == 1
    assert counts["LiveLike"]["trackEvent"]["filtered"] == 1
    assert counts["LiveLike"]["syncToUserGroup"]["pending"] == 1


def test_reset_forgets_deliveries_and_the_cursor(db):
    deliveries.reset(db)

    assert deliveries.list_deliveries(db) == []
    assert deliveries.read_cursor(db) == 0
