"""``seglike send``: post messages to ``/v1/batch`` like an SDK, and say what happened.

It batches the way server SDKs do (a message count and a byte budget under the
500 KB request limit), authenticates with Basic auth, retries 429 and 5xx
honouring ``Retry-After`` (segment-contract §5.2) and never retries a 400. A
message over the 32 KB limit goes alone, so its 400 costs no other message.

Segment answers 200 to messages it later drops, so the HTTP status cannot say
what was accepted. When the URL is a seglike emulator, the summary reads back
the stored messages with this run's messageIds (``/_emulator/messages``), so
other traffic does not count; for very large runs it falls back to the change
in ``/_emulator/stats``. Otherwise it says that accepted and dropped are unknown.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any
from urllib.parse import urlsplit

import click
import requests

from emulator import jsontext
from emulator.cli.options import Share

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8088"
DEFAULT_WRITE_KEY = "seglike-demo-app-write-key-00001"
MESSAGE_LIMIT = 32 * 1024
BATCH_BYTES = 475_000  # analytics-python's budget, safely under 500 KB
MAX_RETRIES = 10
CONNECT_RETRIES = 3  # when nothing answers: a few quick tries, then say so
CONNECT_BACKOFF = 0.2  # seconds, doubling
MAX_RETRY_AFTER = 300.0  # seconds; what the SDKs cap Retry-After at
NOT_RETRIED_5XX = (501, 505)
USER_AGENT = "seglike-send/0.1"
EXACT_LIMIT = 200_000  # runs up to this size are counted message by message
CLOCK_SLACK_MS = 5_000  # the emulator's clock may lag ours a little


@dataclass
class SendReport:
    """What a run sent and, when the URL is an emulator, what became of it."""

    sent: int = 0  # messages in requests answered 200
    failed: int = 0  # messages in requests answered an error, or given up on
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    failures: Counter = field(default_factory=Counter)  # "400 message_too_large"
    emulator: bool = False
    url: str = ""
    unreachable: bool = False  # nothing answered at the URL; sending stopped
    accepted: int | None = None
    dropped: dict[str, int] | None = None  # reason -> count
    statuses: dict[str, int] | None = None  # emulator message status -> count

    @property
    def rate(self) -> float:
        return (self.sent + self.failed) / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        out = [
            f"sent      {self.sent} messages in {self.requests} requests "
            f"({self.retries} retries)",
        ]
        if self.emulator and self.accepted is not None:
            out.append(f"accepted  {self.accepted}")
            statuses = self.statuses or {}
            dropped = sum(
                n for s, n in statuses.items() if s not in ("accepted", "blocked")
            )
            out.append(f"dropped   {dropped}")
            for reason, count in sorted((self.dropped or {}).items()):
                out.append(f"  {reason:<28} {count}")
            blocked = (self.statuses or {}).get("blocked", 0)
            if blocked:
                out.append(f"blocked   {blocked} (tracking plan)")
        elif self.unreachable:
            out.append(f"accepted  unknown: nothing answered at {self.url}")
        else:
            out.append(
                "accepted  unknown: the URL is not a seglike emulator, and Segment "
                "answers 200 to messages it drops later"
            )
        out.append(f"failed    {self.failed}")
        for failure, count in sorted(self.failures.items()):
            out.append(f"  {failure:<28} {count}")
        if self.unreachable:
            out.append(
                f"stopped   nothing answered at {self.url}; the rest was not sent"
            )
        out.append(f"rate      {self.rate:,.0f} events/s over {self.seconds:.2f} s")
        return out


def read_ndjson(stream: IO[bytes] | IO[str], name: str) -> Iterator[dict[str, Any]]:
    """Messages of an NDJSON file (a JSON array file works too).

    Each line is read as strictly as ingestion reads a body
    (``emulator.jsontext``), so a line the service would refuse stops the run
    with its file and line instead of a traceback.
    """
    first = stream.read(1)
    while first and first.isspace():
        first = stream.read(1)
    if first in ("[", b"["):
        yield from _objects(_loads(first + stream.read(), name), name)
        return

    for number, line in enumerate(_lines(first, stream), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        yield from _objects([_loads(line, where)], where)


def _loads(data: bytes | str, where: str) -> Any:
    try:
        return jsontext.loads(data)
    except jsontext.JSONTextError as error:
        raise click.ClickException(f"{where}: not valid JSON: {error}") from None


def _lines(first: Any, stream: IO[Any]) -> Iterator[Any]:
    head = first + stream.readline() if first else ""
    if head:
        yield head
    yield from stream


def _objects(items: Any, where: str) -> Iterator[dict[str, Any]]:
    if not isinstance(items, list):
        items = [items]
    for item in items:
        if not isinstance(item, dict):
            raise click.ClickException(
                f"{where}: a message must be a JSON object, not {item!r:.60}."
            )
        yield item


def batches(
    messages: Iterable[dict[str, Any]], batch_size: int
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Group messages into ``(batch, bytes)`` by count and byte budget.

    Messages without a messageId get one, as every SDK does, so the same run can
    be found and deduplicated by the server.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    for message in messages:
        if "messageId" not in message:
            message["messageId"] = str(uuid.uuid4())
        length = len(encode(message)) + 1
        if length > MESSAGE_LIMIT:
            if batch:  # keep the order of the stream
                yield batch, size
                batch, size = [], 0
            yield [message], length  # alone: its 400 must not sink the others
            continue
        if batch and (len(batch) >= batch_size or size + length > BATCH_BYTES):
            yield batch, size
            batch, size = [], 0
        batch.append(message)
        size += length
    if batch:
        yield batch, size


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes Segment measures and SDKs send.

    A lone surrogate cannot be UTF-8; such a value is sent \\u-escaped, which
    the service reads as U+FFFD.
    """
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def check_url(url: str) -> str:
    """*url* when it is an http(s) URL with a host; a ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"The URL must start with http:// or https:// and name a host, not {url!r}."
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port when it is read
    except ValueError:
        raise ValueError(
            f"The URL's port must be a number from 0 to 65535, not {url!r}."
        ) from None
    return url


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` (seconds or HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (moment - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def retryable(status: int) -> bool:
    return (
        status == 429
        or status in (408,)
        or (500 <= status < 600 and status not in NOT_RETRIED_5XX)
    )


class Sender:
    """Posts batches on a few threads, one HTTP session each."""

    def __init__(
        self,
        url: str,
        write_key: str,
        *,
        timeout: float = 15.0,
        max_retries: int = MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        self.headers = {
            "Authorization": f"Basic {token}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        self.report = SendReport(url=self.url)
        self.unreachable = False  # set once a batch gave up on connecting

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, batch: list[dict[str, Any]]) -> None:
        """Send one batch until it is answered for good; record the outcome."""
        body = {"batch": batch, "sentAt": _now()}
        attempt = 0
        retries = 0
        refused = 0
        outcome = "failed"
        failure = ""
        while True:
            headers = dict(self.headers)
            if attempt:
                headers["X-Retry-Count"] = str(attempt)
            body["sentAt"] = _now()
            try:
                response = self._session().post(
                    f"{self.url}/v1/batch",
                    data=encode(body),
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.ConnectionError as error:
                # Nothing listening (or the connection dropped): a few quick
                # tries, not the minute-long budget meant for a busy server.
                status, wait_for = None, None
                failure = f"nothing answered ({type(error).__name__})"
                refused += 1
                if self.unreachable or refused > CONNECT_RETRIES:
                    with self._lock:
                        self.unreachable = True
                    break
                wait_for = CONNECT_BACKOFF * 2 ** (refused - 1)
            except requests.RequestException as error:
                status, wait_for = None, None
                failure = f"network {type(error).__name__}"
            else:
                status = response.status_code
                with self._lock:
                    self.unreachable = False
                if status == 200:
                    outcome = "sent"
                    break
                failure = f"{status} {_error_code(response)}"
                wait_for = retry_after(response.headers.get("Retry-After"))
                if not retryable(status):
                    break

            if attempt >= self.max_retries:
                failure += " (gave up)"
                break
            attempt += 1
            retries += 1
            delay = wait_for if wait_for is not None else _backoff(attempt)
            log.info(
                "send retry attempt=%d status=%s wait=%.2fs", attempt, status, delay
            )
            self.sleep(delay)

        with self._lock:
            report = self.report
            report.requests += 1 + retries
            report.retries += retries
            if outcome == "sent":
                report.sent += len(batch)
            else:
                report.failed += len(batch)
                report.failures[failure] += len(batch)
                log.info("send failed messages=%d reason=%s", len(batch), failure)


def _backoff(attempt: int) -> float:
    """0.5 s doubling, capped at 10 s, with a little jitter (not seeded: timing)."""
    return min(10.0, 0.5 * 2 ** (attempt - 1)) * (1 + random.random() * 0.1)


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "error"
    if isinstance(body, dict):
        return str(body.get("code") or body.get("error") or "error")
    return "error"


def _now() -> str:
    now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def emulator_stats(url: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """The emulator's message counts, or None when *url* is no seglike emulator."""
    try:
        response = requests.get(f"{url.rstrip('/')}/_emulator/stats", timeout=timeout)
        body = response.json()
    except (requests.RequestException, ValueError):
        return None
    if response.status_code != 200 or not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if not isinstance(messages, dict) or "by_status" not in messages:
        return None
    return messages


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in keys}
    return {key: value for key, value in delta.items() if value > 0}


def send_messages(
    messages: Iterable[dict[str, Any]],
    *,
    url: str = DEFAULT_URL,
    write_key: str = DEFAULT_WRITE_KEY,
    batch_size: int = 100,
    rate: float | None = None,
    concurrency: int = 4,
    total: int | None = None,
    progress: bool = False,
    max_retries: int = MAX_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send *messages* to *url* and return the report (the API behind the CLI).

    *rate* caps events per second; *concurrency* requests are in flight at most.
    When nothing answers at *url*, sending stops after a few quick tries. A URL
    that is not http(s) is a ValueError before anything is sent.
    """
    check_url(url)
    since_ms = int(time.time() * 1000) - CLOCK_SLACK_MS
    before = emulator_stats(url)
    start = store_cursor(url, since_ms) if before is not None else None
    sender = Sender(url, write_key, max_retries=max_retries, sleep=sleep)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="ev", file=sys.stderr, dynamic_ncols=True)

    started = time.perf_counter()
    sent_ids: set[str] = set()
    queued = 0
    in_flight: dict[Future, int] = {}
    with ThreadPoolExecutor(concurrency, thread_name_prefix="seglike-send") as pool:
        for batch, _size in batches(messages, batch_size):
            if sender.unreachable:
                break  # the rest would fail the same way; the summary says why
            if before is not None and len(sent_ids) <= EXACT_LIMIT:
                sent_ids.update(str(m.get("messageId")) for m in batch)
            if rate:
                due = started + queued / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)  # pacing to --rate, not synchronisation
            while len(in_flight) >= concurrency * 2:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                _collect(done, in_flight, bar)
            in_flight[pool.submit(sender.post, batch)] = len(batch)
            queued += len(batch)
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            _collect(done, in_flight, bar)
    report = sender.report
    report.unreachable = sender.unreachable
    report.seconds = time.perf_counter() - started
    if bar is not None:
        bar.close()

    if before is not None:
        report.emulator = True
        outcome = None
        if start is not None and len(sent_ids) <= EXACT_LIMIT:
            outcome = emulator_outcome(url, since_ms, sent_ids, cursor=start)
        if outcome is None:
            outcome = _stats_outcome(url, before, report)
        report.statuses, report.dropped = outcome
        report.accepted = report.statuses.get("accepted", 0)
    return report


def store_cursor(url: str, since_ms: int, timeout: float = 10.0) -> int | None:
    """The cursor of the newest message stored since *since_ms*; 0 when none.

    Read before sending, so the summary counts only messages stored after it:
    a previous run's copies of the same messageIds are older. Older messages
    are left out by *since_ms* already, so only recent pages are read. None
    when the control API cannot answer.
    """
    cursor = 0
    for page in _message_pages(url, since_ms, 0, timeout):
        if page is None:
            return None
        for item in page:
            seq = item.get("seq") if isinstance(item, dict) else None
            if isinstance(seq, int) and seq > cursor:
                cursor = seq
    return cursor


def emulator_outcome(
    url: str,
    since_ms: int,
    message_ids: set[str],
    timeout: float = 10.0,
    *,
    cursor: int = 0,
) -> tuple[dict[str, int], dict[str, int]] | None:
    """Statuses and drop reasons of exactly the messages this run sent.

    Reads the emulator's messages stored after *cursor* (taken before the run)
    and keeps those with one of our messageIds, so other traffic (the LiveLike
    source, a test) and earlier runs of the same file do not count. None when
    the control API cannot answer.
    """
    statuses: Counter = Counter()
    reasons: Counter = Counter()
    for page in _message_pages(url, since_ms, cursor, timeout):
        if page is None:
            return None
        for item in page:
            message = item.get("message")
            if isinstance(message, dict) and message.get("messageId") in message_ids:
                statuses[item["status"]] += 1
                if item["status"] != "accepted":
                    reasons.update(item.get("reasons") or [])
    return dict(statuses), dict(reasons)


def _message_pages(
    url: str, since_ms: int, cursor: int, timeout: float
) -> Iterator[list[dict[str, Any]] | None]:
    """Pages of ``/_emulator/messages`` after *cursor*; None once it fails."""
    while True:
        try:
            response = requests.get(
                f"{url.rstrip('/')}/_emulator/messages",
                params={"since": since_ms, "cursor": cursor, "limit": 1000},
                timeout=timeout,
            )
            page = response.json()
            items = page["items"]
            if not isinstance(items, list):
                raise TypeError(items)
        except (requests.RequestException, ValueError, KeyError, TypeError):
            yield None
            return
        yield items
        following = page.get("cursor", page.get("next"))
        if not following:
            return
        cursor = following


def _stats_outcome(
    url: str, before: dict[str, Any], report: SendReport
) -> tuple[dict[str, int], dict[str, int]]:
    """Emulator-wide counts over the run: other traffic counts too."""
    after = emulator_stats(url) or before
    statuses = _delta(after.get("by_status", {}), before.get("by_status", {}))
    reasons = _delta(after.get("by_reason", {}), before.get("by_reason", {}))
    # Rejected requests count their error code as a reason too; they are
    # reported under "failed", not "dropped".
    for failure in report.failures:
        reasons.pop(failure.split(" ")[1] if " " in failure else failure, None)
    return statuses, reasons


def _collect(done: set[Future], in_flight: dict[Future, int], bar) -> None:
    for future in done:
        count = in_flight.pop(future)
        future.result()  # Sender.post records failures; anything else is a bug
        if bar is not None:
            bar.update(count)


@click.command("send")
@click.argument("file", required=False, type=click.File("rb"))
@click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    callback=lambda _ctx, _param, value: _url_option(value),
    help="Segment-compatible endpoint (http(s)://host:port).",
)
@click.option(
    "--write-key",
    default=DEFAULT_WRITE_KEY,
    show_default=True,
    help="Source write key, sent with Basic auth.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="At most this many events per second [default: as fast as "
    "the endpoint accepts].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 2500),
    default=100,
    show_default=True,
    help="Messages per /v1/batch request.",
)
@click.option(
    "--generate",
    "generate_count",
    type=click.IntRange(min=0),
    help="Send N generated messages instead of FILE.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of --generate."
)
@click.option(
    "--invalid-rate",
    type=Share(),
    default=0.0,
    show_default=True,
    help="Near-miss share of --generate.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(
    file,
    url,
    write_key,
    rate,
    batch_size,
    generate_count,
    seed,
    invalid_rate,
    concurrency,
    quiet,
) -> None:
    """Send FILE (NDJSON, '-' for stdin) or --generate N events to /v1/batch."""
    if (file is None) == (generate_count is None):
        raise click.UsageError("Give either FILE or --generate N (not both).")

    if generate_count is not None:
        from emulator.generator import generate

        messages: Iterable[dict[str, Any]] = generate(
            generate_count, seed=seed, invalid_rate=invalid_rate
        )
        total: int | None = generate_count
        name = f"{generate_count} generated messages"
    else:
        messages = read_ndjson(file, file.name)
        total = None
        name = file.name

    report = send_messages(
        messages,
        url=url,
        write_key=write_key,
        batch_size=batch_size,
        rate=rate,
        concurrency=concurrency,
        total=total,
        progress=not quiet,
    )
    click.echo(f"{name} -> {url}")
    for line in report.lines():
        click.echo(line)
    if report.failed:
        sys.exit(1)


def _url_option(value: str) -> str:
    try:
        return check_url(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def demo_seed_events(raw_config: dict[str, Any]) -> int:
    """``demo: {seed_events: N}`` of the stack configuration (0 when absent)."""
    demo = raw_config.get("demo") or {}
    count = demo.get("seed_events", 0) if isinstance(demo, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise click.ClickException(
            f"$.demo.seed_events must be a non-negative integer, not {count!r}."
        )
    return count


def seed_demo(config, segment_url: str, count: int) -> SendReport:
    """Send *count* generated events to a just-started stack, over HTTP.

    They take the real path (ingestion, pipeline, LiveLike) so the debugger and
    the rewards have something to show. Users take the configured LiveLike
    profiles first; the first source (the app) is the one written to. The seed
    is the clock, so a restart on a file store sends new messages rather than
    duplicates of the last run's.
    """
    from emulator.cli.generate import livelike_identities
    from emulator.generator import generate

    source = config.segment.sources[0]
    identities = livelike_identities(str(config.file) if config.file else None)
    messages = generate(count, seed=int(time.time()), livelike=identities)
    report = send_messages(messages, url=segment_url, write_key=source.write_key)
    log.info(
        "demo seeded events=%d accepted=%s source=%s",
        count,
        report.accepted,
        source.name,
    )
    return report
