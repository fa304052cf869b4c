"""The wheel a user installs carries the data files the package reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("segment_livelike_emulator-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_carries_contracts_and_fixtures(wheel):
    names = set(wheel.namelist())

    for folder in ("contracts", "fixtures"):
        expected = {
            f"emulator/_data/{folder}/{p.relative_to(ROOT / folder).as_posix()}"
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert expected, folder
        assert expected <= names, sorted(expected - names)[:5]


def test_wheel_declares_console_script_and_plugin(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()

    assert "seglike = emulator.cli:main" in text
    assert "seglike = emulator.pytest_plugin" in text
