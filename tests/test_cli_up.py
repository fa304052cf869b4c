"""``seglike up`` as a user runs it: a real process, real ports, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


running: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_process_left_behind():
    yield
    while running:
        process = running.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def start_up(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start ``python -m emulator up`` and read its banner up to ``Ready.``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "up", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # As a shell's background job: SIGINT ignored, which `up` must override.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    running.append(process)
    banner: dict[str, str] = {}
    for line in process.stdout:
        words = line.split()
        if words and words[0] in ("Segment", "LiveLike"):
            banner[words[0]] = words[1]
        if words[:2] == ["source", "demo-app"]:
            banner["write_key"] = words[-1]
        if line.startswith("Ready."):
            return process, banner
    raise AssertionError(f"seglike up exited early with {process.wait()}")


def test_up_prints_urls_and_write_keys_and_stops_on_sigterm(tmp_path):
    process, banner = start_up(
        tmp_path, "--segment-port", "0", "--livelike-port", "0", "--store", ":memory:"
    )
    try:
        assert banner["Segment"].startswith("http://127.0.0.1:")
        assert banner["LiveLike"].startswith("http://127.0.0.1:")
        assert not banner["Segment"].endswith(":0")
        assert banner["write_key"] == "seglike-demo-app-write-key-00001"

        for url in (banner["Segment"], banner["LiveLike"]):
            health = requests.get(f"{url}/_emulator/health", timeout=5)
            assert health.json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)

    assert process.returncode == 0
    assert "Stopped." in out


def test_up_keeps_its_store_under_dot_seglike_by_default(tmp_path):
    process, _ = start_up(tmp_path, "--segment-port", "0", "--livelike-port", "0")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)

    assert (tmp_path / ".seglike" / "store.sqlite3").is_file()


def test_up_reports_a_bad_config_without_a_traceback(tmp_path):
    config = tmp_path / "stack.yaml"
    config.write_text("sources:\n  - name: app\n")

    result = subprocess.run(
        [sys.executable, "-m", "emulator", "up", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "$.sources[0]" in result.stderr
    assert "write_key" in result.stderr
    assert "Traceback" not in result.stderr


def run_up(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "up", "--no-seed-events", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_up_says_when_a_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_up(tmp_path, "--segment-port", str(port), "--livelike-port", "0")

    assert result.returncode == 1
    assert f"Segment port {port}" in result.stderr
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_up_refuses_a_store_that_is_not_sqlite(tmp_path):
    (tmp_path / "notes.txt").write_text("not a database, just notes")

    result = run_up(tmp_path, "--store", "notes.txt", "--segment-port", "0")

    assert result.returncode == 1
    assert "Cannot open the store 'notes.txt': file is not a database." in result.stderr
    assert "Traceback" not in result.stderr


def test_up_refuses_an_unknown_top_level_section(tmp_path):
    config = tmp_path / "stack.yaml"
    config.write_text("sourcse: []\n")

    result = run_up(tmp_path, "--config", str(config))

    assert result.returncode == 1
    assert "$: unknown section(s) 'sourcse'" in result.stderr
