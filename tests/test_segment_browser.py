"""The real ``@segment/analytics-next`` in Debian's chromium, against the emulator.

A page on its own loopback origin loads the package's UMD build and calls
``AnalyticsBrowser.load({writeKey, cdnURL})``: only the CDN URL names the
emulator, so the settings document must send the events back to it, and every
POST crosses origins with an ``Authorization`` header, so each route must answer
the browser's CORS preflight. ``playwright-core`` (npm, no browser download)
drives ``/usr/bin/chromium`` headless.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from node_helpers import npm_install
from segment_helpers import (  # noqa: F401  (fixtures)
    WRITE_KEY,
    app_fixture,
    db_fixture,
    server_fixture,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SDK = "@segment/analytics-next@1.84.3"
DRIVER = "playwright-core@1.65.2"
UMD_BUILD = Path("@segment", "analytics-next", "dist", "umd", "index.js")
CALL_TYPES = {"identify", "track", "page", "group", "alias"}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Seglike browser check</title></head>
<body>
<script src="/analytics-next.js"></script>
<script>
(async () => {
  const query = new URLSearchParams(location.search)
  const options = query.get('strategy') === 'batching'
    ? { integrations: { 'Segment.io': { deliveryStrategy: {
        strategy: 'batching', config: { size: 5, timeout: 60000 } } } } }
    : {}
  try {
    const { AnalyticsBrowser } = window.AnalyticsNext
    const [analytics] = await AnalyticsBrowser.load(
      { writeKey: query.get('writeKey'), cdnURL: query.get('cdn') }, options)
    await Promise.all([
      analytics.identify('user-1', { plan: 'pro' }),
      analytics.track('Song Played', { song: 'Hey' }),
      analytics.page('Docs', 'Home'),
      analytics.group('team-1', { name: 'Team' }),
      analytics.alias('user-1', 'anon-9'),
    ])
    window.seglikeResult = { ok: true }
  } catch (error) {
    window.seglikeResult = { ok: false, error: String(error && error.stack || error) }
  }
})()
</script>
</body>
</html>
"""

# Prints one JSON line once the page's calls resolved, then keeps the browser
# open (a batch still in flight is not cut off) until stdin closes.
DRIVER_SCRIPT = r"""
const { chromium } = require('playwright-core')
const report = (result) => process.stdout.write(JSON.stringify(result) + '\n')
;(async () => {
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: JSON.parse(process.env.CHROMIUM_FLAGS),
  })
  const page = context.pages()[0] || (await context.newPage())
  const log = []
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => log.push(`pageerror: ${e}`))
  page.on('requestfailed', (r) =>
    log.push(`failed: ${r.method()} ${r.url()} ${r.failure().errorText}`))
  await page.goto(process.env.PAGE_URL)
  const done = await page.waitForFunction(() => window.seglikeResult, null,
                                          { timeout: 30000 })
  report({ ...(await done.jsonValue()), log })
  await new Promise((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume()
  })
  await context.close()
})().catch((error) => {
  report({ ok: false, error: String(error && error.stack || error) })
  process.exit(1)
})
"""


@pytest.fixture(name="browser_kit", scope="session")
def browser_kit_fixture() -> Path:
    """The SDK and its driver from npm; skip only when there is no chromium."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM}: "
            "run `make browser` as root (apt-get install -y chromium)"
        )
    return npm_install(SDK, DRIVER)


class _PageHandler(BaseHTTPRequestHandler):
    """Serves the test page and the SDK's UMD build; nothing else."""

    umd: bytes = b""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/analytics-next.js":
            self._send(self.umd, "text/javascript")
        else:
            self.send_error(404)

    def _send(self, content: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(name="page_origin")
def page_origin_fixture(browser_kit: Path) -> Iterator[str]:
    """A loopback origin of its own, so the browser's calls are cross-origin."""
    handler = type(
        "PageHandler",
        (_PageHandler,),
        {"umd": (browser_kit / "node_modules" / UMD_BUILD).read_bytes()},
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _AccessLog(logging.Handler):
    """Collects the Segment service's access log lines: the only record of
    preflights, which the request log leaves out as they carry no message."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(name="access_log")
def access_log_fixture() -> Iterator[_AccessLog]:
    handler = _AccessLog()
    logger = logging.getLogger("emulator.segment.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _run_page(
    browser_kit: Path, page_url: str, profile: Path
) -> tuple[subprocess.Popen, list[str]]:
    """Start the driver; once the page reports, return it (still open) and the
    page's console, errors and failed requests."""
    driver = subprocess.Popen(
        ["node", "-e", DRIVER_SCRIPT],
        env={
            **os.environ,
            "NODE_PATH": str(browser_kit / "node_modules"),
            "CHROMIUM": str(CHROMIUM),
            "CHROMIUM_FLAGS": json.dumps(CHROMIUM_FLAGS),
            "PROFILE_DIR": str(profile),
            "PAGE_URL": page_url,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: lines.put(driver.stdout.readline()), daemon=True
    ).start()
    try:
        report = json.loads(lines.get(timeout=90) or "{}")
    except (queue.Empty, json.JSONDecodeError):
        report = {}
    if not report.get("ok"):
        _close(driver)
        pytest.fail(f"the page did not finish: {report or driver.stderr.read()}")
    return driver, report["log"]


def _close(driver: subprocess.Popen) -> None:
    driver.stdin.close()
    try:
        driver.wait(timeout=30)
    except subprocess.TimeoutExpired:
        driver.kill()
        driver.wait()


@pytest.mark.parametrize(
    ("strategy", "routes"),
    [
        ("standard", {"/v1/i", "/v1/t", "/v1/p", "/v1/g", "/v1/a"}),
        ("batching", {"/v1/b"}),
    ],
)
def test_analytics_next_sends_through_the_settings_document(
    server, page_origin, browser_kit, access_log, tmp_path, strategy, routes
):
    assert page_origin != server.url  # cross-origin, so CORS is real
    page_url = (
        f"{page_origin}/?writeKey={WRITE_KEY}&cdn={server.url}&strategy={strategy}"
    )

    driver, page_log = _run_page(browser_kit, page_url, tmp_path / "profile")
    try:
        waited = requests.get(
            f"{server.url}/_emulator/messages/wait",
            params={"count": len(CALL_TYPES), "timeout": 30, "raw": "true"},
            timeout=40,
        )
    finally:
        _close(driver)

    assert waited.status_code == 200, (waited.text, page_log)
    assert page_log == []  # no console error, no page error, no failed request
    items = waited.json()["items"]
    assert {item["status"] for item in items} == {"accepted"}
    assert {item["source"] for item in items} == {"demo-app"}
    by_type = {item["message"]["type"]: item["message"] for item in items}
    assert set(by_type) == CALL_TYPES
    for item in items:  # the settings' apiKey is the key each event carries
        assert item["raw"]["writeKey"] == WRITE_KEY
        assert "writeKey" not in item["message"]
    for message in by_type.values():
        assert message["context"]["library"]["name"] == "analytics.js"
        assert re.fullmatch(r"next-1\.84\.3", message["context"]["library"]["version"])
        assert message["context"]["page"]["url"] == page_url
        assert message["context"]["page"]["path"] == "/"
        assert message["context"]["page"]["title"] == "Seglike browser check"
        assert re.fullmatch(r"ajs-next-\d{13}-[0-9a-f-]{36}", message["messageId"])
        assert message["context"]["ip"] == "127.0.0.1"
        assert message["anonymousId"]
    assert by_type["identify"]["traits"] == {"plan": "pro"}
    assert by_type["track"]["event"] == "Song Played"
    assert by_type["track"]["properties"] == {"song": "Hey"}
    assert (by_type["page"]["category"], by_type["page"]["name"]) == ("Docs", "Home")
    assert by_type["group"]["groupId"] == "team-1"
    assert (by_type["alias"]["userId"], by_type["alias"]["previousId"]) == (
        "user-1",
        "anon-9",
    )

    logged = requests.get(f"{server.url}/_emulator/requests", timeout=5).json()
    assert {(r["method"], r["route"], r["status"]) for r in logged["items"]} == {
        ("POST", route, 200) for route in routes
    }
    assert {r["source"] for r in logged["items"]} == {"demo-app"}
    for route in routes:
        assert any(line.startswith(f"OPTIONS {route} 204") for line in access_log.lines)
    settings = re.compile(r"GET /v1/projects/\S+/settings 200 ")  # key masked
    assert any(settings.match(line) for line in access_log.lines), access_log.lines
