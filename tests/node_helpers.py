"""npm packages for the tests that run real JavaScript SDKs.

Packages install once into ``tests/.node/`` (git-ignored); a file lock
serialises parallel pytest workers so npm never runs twice at the same time.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / ".node"


def npm_install(*packages: str) -> Path:
    """Install each ``name@version`` in *packages* that is missing; skip without npm.

    Returns the folder whose ``node_modules`` holds them (for ``NODE_PATH``).
    """
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip(f"node and npm are needed to install {', '.join(packages)}")

    NODE_DIR.mkdir(exist_ok=True)
    with open(NODE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [package for package in packages if not _installed(package)]
        if missing:
            subprocess.run(
                [
                    "npm",
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    ".",
                    *missing,
                ],
                cwd=NODE_DIR,
                check=True,
                capture_output=True,
                timeout=300,
            )
    return NODE_DIR


def _installed(package: str) -> bool:
    """True when ``node_modules`` holds *package* at its pinned version."""
    name, _, version = package.rpartition("@")
    manifest = NODE_DIR / "node_modules" / name / "package.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("version") == version
