"""``seglike generate`` and ``seglike send`` as a user runs them."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
from click.testing import CliRunner
from flask import Flask, jsonify, request

from emulator.cli import main
from emulator.cli.send import batches, retry_after, send_messages
from emulator.config import load_config
from emulator.generator import generate
from emulator.segment.app import create_app
from emulator.store import open_database
from emulator.web.server import ServiceServer


@pytest.fixture(scope="module")
def segment_url():
    db = open_database(":memory:")
    server = ServiceServer("segment", create_app(load_config(), db)).start()
    yield server.url
    server.stop()
    db.close()


@pytest.fixture
def fresh(segment_url):
    requests.post(f"{segment_url}/_emulator/reset", timeout=10)
    return segment_url


class FakeEndpoint:
    """A loopback server that answers /v1/batch with scripted statuses."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.seen: list[dict] = []
        self._lock = threading.Lock()
        app = Flask("fake-segment")

        @app.post("/v1/batch")
        def batch():
            with self._lock:
                self.seen.append(
                    {
                        "retry": request.headers.get("X-Retry-Count"),
                        "auth": request.authorization.username,
                        "count": len(request.get_json()["batch"]),
                    }
                )
                status, headers = self.script.pop(0) if self.script else (200, {})
            body = {"success": True} if status == 200 else {"code": f"http_{status}"}
            return jsonify(body), status, headers

        self.server = ServiceServer("fake", app).start()
        self.url = self.server.url


@pytest.fixture
def fake():
    endpoints = []

    def make(script):
        endpoint = FakeEndpoint(script)
        endpoints.append(endpoint)
        return endpoint

    yield make
    for endpoint in endpoints:
        endpoint.server.stop()


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_generate_writes_the_same_ndjson_bytes_every_time(tmp_path):
    first = run("generate", "--count", "60", "--seed", "5")
    second = run(
        "generate", "--count", "60", "--seed", "5", "-o", str(tmp_path / "e.ndjson")
    )

    assert first.exit_code == second.exit_code == 0
    assert first.output == (tmp_path / "e.ndjson").read_text()
    lines = first.output.splitlines()
    assert len(lines) == 60
    assert all(json.loads(line)["messageId"] for line in lines)


def test_generate_gives_configured_livelike_profiles_to_the_first_users():
    result = run("generate", "--count", "2000", "--seed", "1")
    ids = {
        json.loads(line).get("properties", {}).get("livelike_profile_id")
        for line in result.output.splitlines()
    }

    assert "5f724202-246d-439b-8250-527bed44b6c9" in ids  # fixtures/stack.yaml


def test_generate_labels_point_at_the_near_misses(tmp_path):
    labels = tmp_path / "labels.ndjson"
    result = run(
        "generate", "--count", "400", "--invalid-rate", "0.2", "--labels", str(labels)
    )
    lines = result.output.splitlines()
    rows = [json.loads(line) for line in labels.read_text().splitlines()]

    assert 40 < len(rows) < 130
    for row in rows:
        message = json.loads(lines[row["line"] - 1])
        if row["reason"] == "no_user_anon_id":
            assert "userId" not in message and "anonymousId" not in message
        if row["reason"] == "event_not_defined":
            assert not message.get("event")


def test_generate_refuses_an_unreadable_plan(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("events: [")

    result = CliRunner().invoke(main, ["generate", "--count", "5", "--plan", str(plan)])

    assert result.exit_code == 1
    assert "plan.yaml: not valid YAML" in result.output


def test_generate_explains_a_plan_no_event_can_satisfy(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "common:\n"
        "  context: {type: object, required: [tenant]}\n"
        "events:\n"
        "  Poll Voted: {properties: {type: object}}\n"
    )

    result = CliRunner().invoke(main, ["generate", "-n", "5", "--plan", str(plan)])

    assert result.exit_code == 1
    assert "Cannot generate events that satisfy the plan 'plan'" in result.output
    assert "tenant" in result.output


def test_send_a_file_and_read_the_summary_from_the_emulator(fresh, tmp_path):
    messages = list(generate(250, seed=8))
    del messages[3]["anonymousId"]
    messages[3].pop("userId", None)
    track = next(i for i, m in enumerate(messages) if m["type"] == "track")
    messages[track]["event"] = ""
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))

    result = run("send", str(path), "--url", fresh, "--batch-size", "40", "-q")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{path} -> {fresh}"
    assert lines[1] == "sent      250 messages in 7 requests (0 retries)"
    assert lines[2:7] == [
        "accepted  248",
        "dropped   2",
        f"  {'event_not_defined':<28} 1",
        f"  {'no_user_anon_id':<28} 1",
        "failed    0",
    ]
    assert lines[7].startswith("rate      ") and lines[7].endswith(" s")
    stored = requests.get(f"{fresh}/_emulator/stats", timeout=5).json()
    assert stored["messages"]["by_status"]["accepted"] == 248


def test_the_summary_counts_only_this_runs_messages(fresh):
    def with_other_traffic():
        for index, message in enumerate(generate(120, seed=3)):
            if index % 40 == 0:  # another client sends while we do
                other = {"type": "track", "event": "Other", "properties": []}
                requests.post(
                    f"{fresh}/v1/batch",
                    json={"batch": [dict(other, userId="someone-else")]},
                    auth=("seglike-demo-app-write-key-00001", ""),
                    timeout=5,
                )
            yield message

    report = send_messages(with_other_traffic(), url=fresh, batch_size=30)

    assert report.statuses == {"accepted": 120}
    assert report.dropped == {}
    stats = requests.get(f"{fresh}/_emulator/stats", timeout=5).json()
    assert stats["messages"]["by_reason"] == {"properties_not_object": 3}


def test_send_generate_counts_an_oversize_message_as_failed(fresh):
    report = send_messages(
        generate(300, seed=2, invalid_rate=0.15), url=fresh, batch_size=50
    )
    statuses = report.statuses or {}

    assert report.emulator
    assert report.failed == report.failures["400 message_too_large"] > 0
    assert report.sent + report.failed == 300
    assert sum(statuses.values()) == report.sent
    assert "message_too_large" not in (report.dropped or {})
    assert report.dropped and "no_user_anon_id" in report.dropped


def test_send_retries_429_and_5xx_honouring_retry_after(fake):
    endpoint = fake([(429, {"Retry-After": "0"}), (503, {}), (200, {})])
    waits: list[float] = []

    report = send_messages(
        generate(10, seed=1), url=endpoint.url, write_key="k-123", sleep=waits.append
    )

    assert [seen["retry"] for seen in endpoint.seen] == [None, "1", "2"]
    assert {seen["auth"] for seen in endpoint.seen} == {"k-123"}
    assert waits[0] == 0.0  # Retry-After: 0
    assert 1.0 <= waits[1] <= 1.1  # no Retry-After: 0.5 s doubling, 2nd attempt
    assert (report.sent, report.failed, report.retries) == (10, 0, 2)
    assert not report.emulator
    assert any("accepted  unknown" in line for line in report.lines())


@pytest.mark.parametrize("status", [400, 401, 413, 501])
def test_send_never_retries_what_sdks_drop(fake, status):
    endpoint = fake([(status, {})])

    report = send_messages(generate(5, seed=1), url=endpoint.url, sleep=lambda s: None)

    assert len(endpoint.seen) == 1
    assert report.failures == {f"{status} http_{status}": 5}


def test_send_gives_up_after_the_retry_budget(fake):
    endpoint = fake([(500, {})] * 10)

    report = send_messages(
        generate(5, seed=1), url=endpoint.url, max_retries=3, sleep=lambda s: None
    )

    assert len(endpoint.seen) == 4
    assert report.failures == {"500 http_500 (gave up)": 5}


def test_send_needs_a_file_or_generate():
    result = CliRunner().invoke(main, ["send"])

    assert result.exit_code == 2
    assert "Give either FILE or --generate N" in result.output


def test_send_reports_the_line_of_bad_json(tmp_path):
    path = tmp_path / "bad.ndjson"
    path.write_text('{"type": "track"}\n{oops\n')

    result = CliRunner().invoke(
        main, ["send", str(path), "--url", "http://127.0.0.1:9"]
    )

    assert result.exit_code == 1
    assert "bad.ndjson:2: not valid JSON" in result.output


def test_batches_respect_count_and_send_oversize_messages_alone():
    messages = [{"type": "track", "event": "E", "userId": "u"} for _ in range(7)]
    messages[3]["properties"] = {"notes": "x" * 40_000}

    sizes = [len(batch) for batch, _ in batches(messages, batch_size=2)]

    assert sizes == [2, 1, 1, 2, 1]  # in stream order, the big one alone
    assert all("messageId" in m for m in messages)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0", 0.0), ("9999", 300.0), ("soon", None), (None, None)],
)
def test_retry_after_values(header, seconds):
    assert retry_after(header) == seconds


def test_retry_after_http_date_in_the_past_is_zero():
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--invalid-rate", "nan"], "'nan' is not a number between 0 and 1"),
        (["-o", "/nonexistent/x"], "cannot write '/nonexistent/x': No such file"),
        (["--labels", "/nonexistent/x"], "cannot write '/nonexistent/x': No such"),
    ],
)
def test_generate_refuses_bad_options_in_one_line(args, text):
    result = CliRunner().invoke(main, ["generate", "-n", "5", *args])

    assert result.exit_code == 2, result.output
    assert text in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_send_refuses_a_nan_invalid_rate():
    result = CliRunner().invoke(
        main, ["send", "--generate", "5", "--invalid-rate", "nan"]
    )

    assert result.exit_code == 2
    assert "'nan' is not a number between 0 and 1" in result.output


def test_generate_refuses_a_binary_plan_in_one_line(tmp_path):
    plan = tmp_path / "bin.dat"
    plan.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")

    result = CliRunner().invoke(main, ["generate", "-n", "5", "--plan", str(plan)])

    assert result.exit_code == 1
    assert "bin.dat: not UTF-8 text" in result.output
    assert isinstance(result.exception, SystemExit)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:21", "http://"])
def test_send_refuses_a_url_that_is_not_http_at_once(url):
    result = CliRunner().invoke(main, ["send", "--generate", "5", "--url", url])

    assert result.exit_code == 2
    assert f"must start with http:// or https:// and name a host, not {url!r}" in (
        result.output
    )
    with pytest.raises(ValueError, match="must start with http"):
        send_messages(generate(1, seed=1), url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://[::1]:65536"]
)
def test_send_refuses_a_port_out_of_range_at_once(url):
    result = CliRunner().invoke(main, ["send", "--generate", "5", "--url", url])

    assert result.exit_code == 2
    assert f"port must be a number from 0 to 65535, not {url!r}" in result.output


def test_send_stops_quickly_when_nothing_answers():
    url = _closed_port_url()
    waits: list[float] = []

    report = send_messages(
        generate(500, seed=1),
        url=url,
        batch_size=10,
        concurrency=1,
        sleep=waits.append,
    )

    assert waits == [0.2, 0.4, 0.8]  # a few quick tries, not the 70 s budget
    assert report.unreachable and report.sent == 0
    assert report.failed < 500  # it stopped instead of trying every batch
    assert f"accepted  unknown: nothing answered at {url}" in report.lines()
    assert not any("not a seglike emulator" in line for line in report.lines())


def test_send_cli_says_nothing_answered():
    url = _closed_port_url()

    result = CliRunner().invoke(main, ["send", "--generate", "20", "--url", url, "-q"])

    assert result.exit_code == 1
    assert f"stopped   nothing answered at {url}; the rest was not sent" in (
        result.output
    )


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (
            b'{"type": "track"}\n\x89PNG\x00\xff\n',
            "bad.ndjson:2: not valid JSON: not UTF-8",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "bad.ndjson: not valid JSON: arrays or"),
        (b'{"type": "track", "x": NaN}\n', "bad.ndjson:1: not valid JSON: NaN is not"),
    ],
    ids=["binary", "deep", "nan"],
)
def test_send_refuses_unusable_files_in_one_line(tmp_path, content, text):
    path = tmp_path / "bad.ndjson"
    path.write_bytes(content)

    result = CliRunner().invoke(main, ["send", str(path), "--url", _closed_port_url()])

    assert result.exit_code == 1
    assert text in result.output
    assert isinstance(result.exception, SystemExit)


def test_batches_measure_utf8_bytes_not_escapes():
    cjk = "漢" * 9_000  # 27 KB of UTF-8; 54 KB if each were written \\u6f22
    messages = [
        {"type": "track", "event": "E", "userId": "u", "properties": {"t": cjk}}
        for _ in range(3)
    ]

    sizes = [len(batch) for batch, _ in batches(messages, batch_size=10)]

    assert sizes == [3]


def test_send_posts_a_27kb_cjk_message_as_utf8(fresh):
    message = {"type": "track", "event": "E", "userId": "u"}
    message["properties"] = {"t": "漢" * 9_000}

    report = send_messages([message], url=fresh)

    assert (report.sent, report.failed, report.accepted) == (1, 0, 1)


def test_resending_the_same_file_counts_only_this_runs_messages(fresh, tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(m) + "\n" for m in generate(30, seed=4)))

    first = run("send", str(path), "--url", fresh, "-q")
    second = run("send", str(path), "--url", fresh, "-q")

    assert "accepted  30" in first.output.splitlines()
    lines = second.output.splitlines()
    assert "accepted  0" in lines  # the first run's copies are not this run's
    assert "dropped   30" in lines
    assert f"  {'duplicate':<28} 30" in lines or "duplicate" in second.output
