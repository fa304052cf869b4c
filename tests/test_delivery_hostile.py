"""Hostile input must never stall delivery nor crash the control API, the
configuration or ``seglike destinations preview``."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from emulator.actions import control, deliveries, fql, jsvalues
from emulator.actions import pipeline as pipeline_module
from emulator.actions.config import DeliverySettings
from emulator.actions.deliveries import NewDelivery
from emulator.actions.pipeline import Pipeline
from emulator.actions.routing import PENDING, Routed
from emulator.cli import main
from emulator.config import ConfigError, load_config, parse_config
from emulator.store.database import Database
from emulator.web.app import create_service_app
from tests.delivery_helpers import LiveLikeStandIn, accept, read_accepted, settled

SOURCE = "demo-app"
HUGE = 10**400  # "1" and 400 zeros: a valid JSON integer, Infinity in JavaScript
TOTAL_OVER_100 = 'type = "track" and properties.total > 100'


def config_with(subscribe: str = TOTAL_OVER_100) -> object:
    return parse_config(
        {
            "sources": [
                {
                    "name": SOURCE,
                    "write_key": "seglike-demo-app-write-key-00001",
                    "destinations": [
                        {
                            "destination": "livelike-cloud",
                            "settings": {"clientId": "cid", "producerToken": "tok"},
                            "presets": [],
                            "subscriptions": [
                                {
                                    "name": "Big orders",
                                    "action": "trackEvent",
                                    "subscribe": subscribe,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )


def order(message_id: str, total) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": "user-1",
        "messageId": message_id,
        "timestamp": "2026-07-02T16:26:57.511Z",
        "properties": {"total": total, "livelike_profile_id": "p-1"},
    }


@pytest.fixture
def db():
    database = Database(":memory:")
    database.ensure_schema()
    yield database
    database.close()


@pytest.fixture
def run(db):
    started = []

    def start(standin, config=None):
        pipeline = Pipeline(
            config or config_with(),
            db,
            livelike_url=standin.url,
            settings=DeliverySettings(backoff_base_seconds=0.01),
            reader=read_accepted,
        )
        started.append(pipeline.start())
        standin.before_stop.append(pipeline.stop)
        return pipeline

    yield start
    for pipeline in started:
        pipeline.stop()


# ------------------------------------------------------------ FQL numbers


@pytest.mark.parametrize(
    ("subscribe", "total", "expected"),
    [
        ("properties.total > 100", HUGE, True),
        ("properties.total < 100", HUGE, False),
        ("properties.total < 100", -HUGE, True),
        ("properties.total >= 1e308", HUGE, True),
        ("properties.total = 5", HUGE, False),
        ("properties.total != 5", HUGE, True),
        ("properties.total exists", HUGE, True),
    ],
)
def test_fql_reads_a_huge_integer_as_infinity(subscribe, total, expected):
    event = {"type": "track", "properties": {"total": total}}

    assert fql.matches(subscribe, event) is expected


@pytest.mark.parametrize(
    "value",
    [HUGE, -HUGE, 1e308, "x\ud800", [1, [HUGE]], {"a": {}}, None, True, 0, ""],
)
@pytest.mark.parametrize(
    "subscribe",
    [
        "properties.v > 1",
        "properties.v = 1",
        "properties.v contains 'a'",
        "properties.v exists",
        "properties.v = true",
    ],
)
def test_fql_answers_for_any_json_value(subscribe, value):
    assert fql.matches(subscribe, {"properties": {"v": value}}) in (True, False)


def test_javascript_coercions_of_a_huge_integer():
    assert jsvalues.to_number(HUGE) == float("inf")
    assert jsvalues.to_number(-HUGE) == float("-inf")
    assert jsvalues.to_string(HUGE) == "Infinity"
    assert jsvalues.stringify({"total": HUGE}) == '{"total":null}'
    assert jsvalues.to_number("0x" + "f" * 300) == float("inf")


# ------------------------------------------------------------ the pipeline


def test_a_huge_total_is_delivered_and_later_messages_follow(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(
            db, SOURCE, order("m-huge", HUGE), order("m-small", 1), order("m-2", 200)
        )

        items = settled(db, 2)

    assert [(d["messageId"], d["status"]) for d in items] == [
        ("m-huge", "delivered"),
        ("m-2", "delivered"),
    ]
    assert deliveries.read_cursor(db) == 3


def test_a_routing_crash_fails_that_message_and_the_cursor_moves(
    db, run, monkeypatch, caplog
):
    real_route = pipeline_module.route

    def crashing_route(event, destination, settings):
        if event.get("messageId") == "m-bad":
            raise RuntimeError("boom")
        return real_route(event, destination, settings)

    monkeypatch.setattr(pipeline_module, "route", crashing_route)
    caplog.set_level(logging.ERROR, logger="emulator.actions.pipeline")

    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, order("m-bad", 500), order("m-good", 500))

        bad, good = settled(db, 2)

    assert (bad["messageId"], bad["status"]) == ("m-bad", "failed")
    assert bad["reason"] == (
        "The emulator failed to route this message: RuntimeError('boom')"
    )
    assert bad["error"]["code"] == "EMULATOR_ERROR"
    assert (bad["destination"], bad["subscription"], bad["action"]) == (
        "LiveLike",
        "*",
        "*",
    )
    assert (good["messageId"], good["status"]) == ("m-good", "delivered")
    assert len(standin.received) == 1
    assert "routing failed messageId='m-bad'" in caplog.text


def test_a_message_whose_rows_cannot_be_stored_fails_alone(db, run, monkeypatch):
    real_route = pipeline_module.route

    def unstorable_route(event, destination, settings):
        routed = real_route(event, destination, settings)
        if event.get("messageId") == "m-bad":
            subscription = destination.subscriptions[0]
            return [Routed(destination, subscription, PENDING, payload={"x": {1}})]
        return routed

    monkeypatch.setattr(pipeline_module, "route", unstorable_route)

    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, order("m-bad", 500), order("m-good", 500))

        bad, good = settled(db, 2)

    assert (bad["messageId"], bad["status"]) == ("m-bad", "failed")
    assert bad["reason"].startswith(
        "The emulator failed to record this message's deliveries: TypeError("
    )
    assert (good["messageId"], good["status"]) == ("m-good", "delivered")


def test_a_message_id_that_is_not_a_string_is_kept_as_json(db, run):
    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, order(HUGE, 500), order({"id": 1}, 500))

        items = settled(db, 2)

    assert [d["messageId"] for d in items][1] == '{"id": 1}'
    assert items[0]["messageId"].startswith("1000")
    assert [d["status"] for d in items] == ["delivered", "delivered"]


def test_an_action_refusal_logs_the_message_source_and_action(db, run, caplog):
    nobody = {**order("m-nobody", 500), "userId": None, "properties": {"total": 500}}
    caplog.set_level(logging.INFO, logger="emulator.actions.pipeline")

    with LiveLikeStandIn() as standin:
        run(standin)
        accept(db, SOURCE, nobody)

        (delivery,) = settled(db, 1)

    assert delivery["status"] == "failed"
    (line,) = [r.getMessage() for r in caplog.records if "action refused" in r.message]
    assert line.startswith(
        "action refused messageId=m-nobody source=demo-app action=trackEvent reason="
    )


def test_an_attempt_for_a_deleted_delivery_is_skipped(db):
    deliveries.record_routed(
        db,
        1,
        [
            NewDelivery(1, "m-1", SOURCE, "LiveLike", "s", "trackEvent", "pending"),
            NewDelivery(1, "m-1", SOURCE, "LiveLike", "t", "trackEvent", "pending"),
        ],
    )
    first, second = deliveries.due(db, now=1e12)
    with db.transaction() as conn:
        conn.execute("DELETE FROM actions_deliveries WHERE id = ?", (first.id,))

    ids = deliveries.begin_attempt(db, [first, second], "req-1", {"method": "POST"})

    assert ids == []
    assert db.query("SELECT COUNT(*) AS n FROM actions_attempts")[0]["n"] == 0
    assert [d.id for d in deliveries.due(db, now=1e12)] == [second.id]
    assert deliveries.get_delivery(db, second.id)["attempts"] == []


# ------------------------------------------------------------ control API


@pytest.fixture
def client(db):
    app = create_service_app("segment")
    app.register_blueprint(control.create_blueprint(db))
    return app.test_client()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/_emulator/deliveries?cursor=9223372036854775808", 400),
        ("/_emulator/deliveries?cursor=" + "9" * 5000, 400),
        ("/_emulator/deliveries?cursor=1_0", 400),
        ("/_emulator/deliveries?cursor=%D9%A3", 400),
        ("/_emulator/deliveries?limit=99999999999999999999999", 400),
        ("/_emulator/deliveries?cursor=9223372036854775807", 200),
        ("/_emulator/deliveries/9223372036854775808", 404),
        ("/_emulator/deliveries/" + "9" * 400, 404),
    ],
)
def test_out_of_range_integers_are_client_errors(client, url, status):
    response = client.get(url)

    assert response.status_code == status
    assert response.is_json


# ------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be a positive number"),
        ({"max_attempts": 2.5}, "max_attempts must be a positive number"),
        ({"read_batch": 10**30}, "read_batch must be a positive number"),
        ({"timeout_seconds": "x"}, "timeout_seconds must be a positive number"),
        ({"timeout_seconds": float("inf")}, "timeout_seconds must be"),
        ({"retries": 3}, "unknown delivery setting 'retries'"),
        ([1], "delivery must be a mapping"),
    ],
)
def test_the_delivery_section_is_checked_when_loaded(tmp_path, delivery, message):
    file = tmp_path / "stack.yaml"
    file.write_text(json.dumps({"sources": [], "delivery": delivery}))

    with pytest.raises(ConfigError) as caught:
        load_config(file)

    assert message in caught.value.reason
    assert caught.value.path.startswith("$.delivery")


# ------------------------------------------------------------ preview CLI


def preview_cli(*args: str, stdin: bytes | str | None = None):
    return CliRunner().invoke(main, ["destinations", "preview", *args], input=stdin)


def write_config(tmp_path, text: str):
    file = tmp_path / "stack.yaml"
    file.write_text(text)
    return str(file)


SOURCE_YAML = (
    "sources:\n"
    "  - name: app\n"
    "    write_key: app-write-key-0000000000000001\n"
    "    destinations:\n"
    "      - destination: livelike-cloud\n"
    "        settings: {clientId: cid, producerToken: tok}\n"
    "        presets: []\n"
    "        subscriptions:\n"
    "          - {action: trackEvent, subscribe: '%s'}\n"
)


def test_preview_of_a_huge_total_prints_its_line(tmp_path):
    config = write_config(tmp_path, SOURCE_YAML % TOTAL_OVER_100)
    line = '{"type":"track","event":"x","userId":"u","messageId":"m-1",'
    line += '"timestamp":"2026-07-02T16:26:57.511Z",'
    line += '"properties":{"total":1' + "0" * 400 + "}}"

    result = preview_cli("--config", config, "-", stdin=line)

    assert result.exit_code == 0, result.output
    (printed,) = [json.loads(x) for x in result.output.splitlines()]
    assert printed["error"] is None
    assert len(printed["requests"]) == 1


def test_preview_prints_a_routing_crash_in_the_line(monkeypatch):
    from emulator.actions import preview as preview_module

    def crashing_route(event, destination, settings):
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(preview_module, "route", crashing_route)

    result = preview_cli("-", stdin=json.dumps(order("m-1", 1)))

    assert result.exit_code == 0, result.output
    (printed,) = [json.loads(x) for x in result.output.splitlines()]
    assert printed["messageId"] == "m-1"
    assert printed["error"] == {
        "message": "The emulator failed to route this event: "
        "OverflowError('int too large to convert to float')",
        "status": 500,
    }


def test_preview_reports_an_invalid_subscription_as_the_service_does(tmp_path):
    config = write_config(tmp_path, SOURCE_YAML % 'type = "track')

    result = preview_cli("--config", config, "-", stdin="{}")

    assert result.exit_code == 2
    assert "$.sources[0].destinations[0].subscriptions[0].subscribe" in result.output
    assert "Invalid subscription : Cannot read properties of undefined" in (
        result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["-"], b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8 text"),
        (["-"], b"[" * 100000, "nested too deeply"),
        (["-"], b'{"a": NaN}', "NaN is not a JSON value"),
        (["-"], b'{"type": "track"\n', "line 1 is not valid JSON"),
        (["-"], b"[1, 2", "not a valid JSON array"),
        (["--source", "nope", "-"], b"{}", "Unknown source 'nope'"),
    ],
)
def test_preview_rejects_unusable_events_with_exit_2(args, stdin, message):
    result = preview_cli(*args, stdin=stdin)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\xff\xfe binary", "not UTF-8 text"),
        (b"a: " + b"[" * 5000, "nested too deeply"),
        (b"delivery: {max_attempts: 0}\n", "$.delivery.max_attempts"),
        (b"delivery: {timeout_seconds: x}\n", "$.delivery.timeout_seconds"),
    ],
)
def test_preview_rejects_an_unusable_config_with_exit_2(tmp_path, content, message):
    config = tmp_path / "bin.dat"
    config.write_bytes(content)

    result = preview_cli("--config", str(config), "-", stdin="{}")

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
