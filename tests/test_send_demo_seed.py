"""``seglike up`` seeds the demo with generated events sent over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
import requests

from emulator.cli.send import demo_seed_events

PORTS = ["--segment-port", "0", "--livelike-port", "0", "--store", ":memory:"]


def start_up(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, list[str], str]:
    """Start ``python -m emulator up``; return it, its banner and the Segment URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "up", *PORTS, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    banner = []
    for line in process.stdout:
        banner.append(line.rstrip("\n"))
        if line.startswith("Ready."):
            url = next(b.split()[1] for b in banner if b.startswith("Segment "))
            return process, banner, url
    raise AssertionError(f"seglike up exited early with {process.wait()}: {banner}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)


def stored(url: str) -> dict:
    return requests.get(f"{url}/_emulator/stats", timeout=5).json()["messages"]


def test_up_sends_the_configured_demo_events(tmp_path):
    process, banner, url = start_up(tmp_path)
    try:
        assert "Seeded 300 demo events (300 accepted)." in banner
        messages = stored(url)
        assert messages["by_status"]["accepted"] >= 300  # + LiveLike source events
        demo = requests.get(
            f"{url}/_emulator/messages",
            params={"source": "demo-app", "limit": 1000},
            timeout=5,
        ).json()
        assert demo["count"] == 300
    finally:
        stop(process)


def test_up_seed_events_overrides_the_config(tmp_path):
    process, banner, url = start_up(tmp_path, "--seed-events", "25")
    try:
        assert "Seeded 25 demo events (25 accepted)." in banner
    finally:
        stop(process)


def test_up_no_seed_events_starts_empty(tmp_path):
    process, banner, url = start_up(tmp_path, "--no-seed-events")
    try:
        assert not any(line.startswith("Seeded") for line in banner)
        assert stored(url)["total"] == 0
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("raw", "count"),
    [({}, 0), ({"demo": {"seed_events": 40}}, 40), ({"demo": None}, 0)],
)
def test_demo_seed_events_reads_the_config(raw, count):
    assert demo_seed_events(raw) == count


@pytest.mark.parametrize("value", [-1, "many", True, 2.5])
def test_demo_seed_events_refuses_a_bad_value(value):
    with pytest.raises(click.ClickException, match=r"\$\.demo\.seed_events must be"):
        demo_seed_events({"demo": {"seed_events": value}})
