"""The real ``@segment/analytics-node`` pointed at the emulator with ``host``.

npm installs the SDK once into ``tests/.node/`` (git-ignored) on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from node_helpers import npm_install
from segment_helpers import (  # noqa: F401  (fixtures)
    WRITE_KEY,
    app_fixture,
    db_fixture,
    server_fixture,
)

pytestmark = pytest.mark.node

PACKAGE = "@segment/analytics-node@3.1.0"

SCRIPT = r"""
const { Analytics } = require('@segment/analytics-node')
const analytics = new Analytics({
  writeKey: process.env.WRITE_KEY,
  host: process.env.SEGMENT_URL,
  flushAt: 3,
  maxRetries: 1,
})
const errors = []
analytics.on('error', (error) => errors.push(String(error && error.reason || error)))
const timestamp = new Date('2024-05-01T12:00:00.000Z')
analytics.identify({ userId: 'user-1', traits: { plan: 'pro' } })
analytics.track({ userId: 'user-1', event: 'Song Played',
                  properties: { song: 'Hey' }, timestamp })
analytics.page({ userId: 'user-1', category: 'Docs', name: 'Home' })
analytics.screen({ userId: 'user-1', name: 'Main' })
analytics.group({ userId: 'user-1', groupId: 'team-1', traits: { name: 'Team' } })
analytics.alias({ userId: 'user-1', previousId: 'anon-9' })
analytics.closeAndFlush({ timeout: 20000 }).then(() => {
  console.log(JSON.stringify({ errors }))
})
"""


@pytest.fixture(name="node_sdk", scope="session")
def node_sdk_fixture() -> Path:
    """Install the SDK with npm once (shared with the browser test's helper)."""
    return npm_install(PACKAGE)


def test_every_call_type_arrives_normalised(server, node_sdk, tmp_path):
    script = tmp_path / "send.js"
    script.write_text(SCRIPT)

    result = subprocess.run(
        ["node", str(script)],
        env={
            **os.environ,
            "NODE_PATH": str(node_sdk / "node_modules"),
            "WRITE_KEY": WRITE_KEY,
            "SEGMENT_URL": server.url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"errors": []}
    items = requests.get(f"{server.url}/_emulator/messages", timeout=5).json()["items"]
    assert {item["status"] for item in items} == {"accepted"}
    by_type = {item["message"]["type"]: item["message"] for item in items}
    assert set(by_type) == {"identify", "track", "page", "screen", "group", "alias"}

    track = by_type["track"]
    assert track["context"]["library"]["name"] == "@segment/analytics-node"
    assert track["messageId"].startswith("node-next-")
    assert track["originalTimestamp"] == "2024-05-01T12:00:00.000Z"
    assert track["properties"] == {"song": "Hey"}
    assert "_metadata" in track
    assert by_type["alias"]["previousId"] == "anon-9"
    assert by_type["group"]["traits"] == {"name": "Team"}
    routes = requests.get(f"{server.url}/_emulator/stats", timeout=5).json()
    assert set(routes["requests"]["by_route"]) == {"/v1/batch"}
