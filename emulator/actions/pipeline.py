"""Delivery from the store to destination actions, with Segment's retry rules.

One worker thread loops over two steps: route the accepted messages past the
durable cursor into delivery rows, then send the deliveries that are due. It
parks on the store's commit notifications (a new message commits) or until the
next retry is due, never on a fixed sleep.

Retry rules (Segment's): 408, 423, 429 and 5xx except 501 are retried, as are
timeouts and connection errors; ``Retry-After`` (seconds or an HTTP date) sets
the next attempt, otherwise the delay doubles from ``backoff_base_seconds`` up
to ``backoff_max_seconds``. A delivery that runs out of attempts or age is
``discarded``; one the destination rejects (other 4xx, 501) is ``failed``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from emulator.actions import deliveries
from emulator.actions.config import DeliverySettings, DestinationConfig
from emulator.actions.deliveries import AttemptResult, Delivery, NewDelivery
from emulator.actions.destination import (
    DestinationError,
    OutgoingRequest,
    retryable_status,
)
from emulator.actions.routing import effective_settings, route
from emulator.config import StackConfig
from emulator.store import Database

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 65536

# read_accepted(db, after_seq, limit) -> list[StoredMessage]
Reader = Callable[[Database, int, int], list[Any]]


def _segment_reader() -> Reader:
    from emulator.segment.messages import read_accepted

    return read_accepted


class Pipeline:
    """The delivery worker of the stack (``Pipeline(config, db, livelike_url=)``)."""

    def __init__(
        self,
        config: StackConfig,
        db: Database,
        *,
        livelike_url: str,
        settings: DeliverySettings | None = None,
        reader: Reader | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.livelike_url = livelike_url
        self.settings = settings or DeliverySettings.from_dict(
            (config.raw or {}).get("delivery")
        )
        self._reader = reader
        self._own_session = session is None
        self._session = session or requests.Session()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._destinations: dict[str, list[DestinationConfig]] = {
            source: list(items) for source, items in (config.destinations or {}).items()
        }

    # ----------------------------------------------------------- lifecycle

    def start(self) -> Pipeline:
        if self._reader is None:
            self._reader = _segment_reader()
        self.db.ensure_schema()
        deliveries.recover_interrupted(self.db)

        if self._own_session:
            self._session = requests.Session()  # stop() closed the previous one
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="seglike-pipeline", daemon=True
        )
        self._thread.start()
        log.info("pipeline started livelike_url=%s", self.livelike_url)
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        self.db.notify()
        if self._thread is not None:
            self._thread.join(
                self.settings.timeout_seconds + 5 if timeout is None else timeout
            )
        self._session.close()
        log.info("pipeline stopped")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.step()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("pipeline step failed; retrying in 1 s")
                self._stopping.wait(1.0)
                continue
            if not busy:
                self._park()

    def _park(self) -> None:
        """Wait for a commit that brings a message, or for the next retry."""
        next_at = deliveries.next_due_at(self.db)
        timeout = 3600.0 if next_at is None else max(0.0, next_at - time.time())
        if timeout <= 0:
            return
        self.db.wait_for(
            lambda: self._stopping.is_set() or self._has_new_messages(),
            timeout=timeout,
        )

    def _has_new_messages(self) -> bool:
        return bool(self._reader(self.db, deliveries.read_cursor(self.db), 1))

    # ----------------------------------------------------------- one step

    def step(self) -> bool:
        """Route new messages and send what is due; True if anything happened."""
        routed = self.route_new()
        sent = self.deliver_due()
        return routed or sent

    def route_new(self) -> bool:
        cursor = deliveries.read_cursor(self.db)
        messages = self._reader(self.db, cursor, self.settings.read_batch)
        if not messages:
            return False

        routed = [(stored, self._route_message(stored)) for stored in messages]
        rows = [row for _, message_rows in routed for row in message_rows]
        try:
            deliveries.record_routed(self.db, messages[-1].seq, rows)
        except Exception:
            log.exception("recording routed messages failed; recording one by one")
            for stored, message_rows in routed:
                self._record_one(stored, message_rows)
        log.debug("routed messages=%d deliveries=%d", len(messages), len(rows))
        return True

    def _record_one(self, stored: Any, rows: list[NewDelivery]) -> None:
        """Record one message's rows, or a failed row saying why they could not be."""
        try:
            deliveries.record_routed(self.db, stored.seq, rows)
        except Exception as error:
            log.exception(
                "recording deliveries failed messageId=%r", _message_id(stored)
            )
            reason = (
                f"The emulator failed to record this message's deliveries: {error!r}"
            )
            deliveries.record_routed(
                self.db, stored.seq, [_pipeline_error(stored, "*", reason)]
            )

    def _route_message(self, stored: Any) -> list[NewDelivery]:
        """The deliveries of one message; never raises, so the cursor always moves.

        An unexpected exception (an emulator bug, a value nothing foresaw) turns
        into one ``failed`` row for the destination with the reason, instead of
        failing the whole step again every second behind this one message.
        """
        rows = []
        for destination in self._destinations.get(stored.source, []):
            try:
                rows.extend(self._route_to(stored, destination))
            except Exception as error:
                log.exception(
                    "routing failed messageId=%r source=%s destination=%s",
                    _message_id(stored),
                    stored.source,
                    destination.name,
                )
                reason = f"The emulator failed to route this message: {error!r}"
                rows.append(_pipeline_error(stored, destination.name, reason))
        return rows

    def _route_to(
        self, stored: Any, destination: DestinationConfig
    ) -> list[NewDelivery]:
        event = stored.message
        settings = effective_settings(destination, self.livelike_url)
        return [
            NewDelivery(
                seq=stored.seq,
                message_id=_message_id(stored),
                source=stored.source,
                destination=destination.name,
                subscription=routed.subscription.name,
                action=routed.subscription.action,
                status=routed.status,
                payload=routed.payload,
                reason=routed.reason
                or (routed.error.message if routed.error else None),
                error=routed.error.as_dict() if routed.error else None,
                batch_size=_batch_size(destination, routed.subscription),
            )
            for routed in route(event, destination, settings)
        ]

    def deliver_due(self) -> bool:
        due = deliveries.due(self.db, time.time())
        if not due:
            return False

        for group in self._requests(due):
            if self._stopping.is_set():
                break
            self._deliver(group)
        return True

    def _requests(self, due: list[Delivery]) -> list[list[Delivery]]:
        """Group due deliveries into requests: alone, or batched per subscription."""
        groups: dict[tuple[str, str, str], list[Delivery]] = {}
        out: list[list[Delivery]] = []
        for delivery in due:
            if delivery.batch_size <= 1:
                out.append([delivery])
                continue
            key = (delivery.source, delivery.destination, delivery.subscription)
            group = groups.setdefault(key, [])
            group.append(delivery)
            if len(group) >= delivery.batch_size:
                out.append(groups.pop(key))
        out.extend(groups.values())
        out.sort(key=lambda group: group[0].id)
        return out

    def _deliver(self, group: list[Delivery]) -> None:
        first = group[0]
        destination = self._destination(first)
        if destination is None:
            deliveries.settle(
                self.db,
                group,
                status=deliveries.DISCARDED,
                reason=f"destination {first.destination!r} is no longer configured "
                f"for source {first.source!r}",
            )
            return

        settings = effective_settings(destination, self.livelike_url)
        action = destination.definition.actions[first.action]
        try:
            request = action.perform([d.payload or {} for d in group], settings)
        except Exception as error:
            if not isinstance(error, DestinationError):
                log.exception("perform crashed action=%s", first.action)
                error = DestinationError(
                    f"The emulator failed to build the request: {error!r}",
                    code="EMULATOR_ERROR",
                )
            log.info(
                "action refused messageId=%s source=%s action=%s reason=%s",
                _message_ids(group),
                first.source,
                first.action,
                error.message,
            )
            deliveries.settle(
                self.db,
                group,
                status=deliveries.FAILED,
                reason=error.message,
                error=error.as_dict(),
            )
            return

        request.timeout = self.settings.timeout_seconds
        attempt_ids = deliveries.begin_attempt(
            self.db, group, uuid.uuid4().hex, request.as_dict()
        )
        if not attempt_ids:  # a delivery of the group was deleted meanwhile
            return
        result = self._send(request)
        self._settle(group, attempt_ids, result)

    def _destination(self, delivery: Delivery) -> DestinationConfig | None:
        for destination in self._destinations.get(delivery.source, []):
            if destination.name == delivery.destination:
                return destination
        return None

    def _send(self, request: OutgoingRequest) -> AttemptResult:
        started = time.perf_counter()
        try:
            response = self._session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body_bytes(),
                timeout=request.timeout,
            )
        except requests.Timeout:
            return AttemptResult(
                duration_ms=_ms(started),
                outcome=deliveries.RETRY,
                error=f"no response within {request.timeout:g} s (timeout)",
            )
        except requests.RequestException as error:
            return AttemptResult(
                duration_ms=_ms(started),
                outcome=deliveries.RETRY,
                error=f"request failed: {error.__class__.__name__}: {error}",
            )

        return AttemptResult(
            duration_ms=_ms(started),
            outcome=deliveries.RETRY,
            status=response.status_code,
            headers=dict(response.headers),
            body=response.text[:MAX_BODY_CHARS],
        )

    def _settle(
        self, group: list[Delivery], attempt_ids: list[int], result: AttemptResult
    ) -> None:
        status = result.status
        first = group[0]
        if status is not None and 200 <= status < 300:
            result.outcome = deliveries.DELIVERED
            deliveries.finish_attempt(
                self.db,
                attempt_ids,
                group,
                result,
                status=deliveries.DELIVERED,
                reason=f"HTTP {status}",
            )
            return

        what = f"HTTP {status}" if status is not None else result.error
        if status is not None and not retryable_status(status):
            result.outcome = deliveries.FAILED
            reason = f"{what} is not retried: {_reason(status)}"
            log.info(
                "delivery failed messageId=%s source=%s action=%s status=%s",
                _message_ids(group),
                first.source,
                first.action,
                status,
            )
            deliveries.finish_attempt(
                self.db,
                attempt_ids,
                group,
                result,
                status=deliveries.FAILED,
                reason=reason,
            )
            return

        delay = self._delay(first.attempts, result)
        age = time.time() - min(d.created_at for d in group)
        attempts = max(d.attempts for d in group)
        if attempts >= self.settings.max_attempts:
            give_up = f"gave up after {attempts} attempts; last: {what}"
        elif age + delay > self.settings.max_age_seconds:
            give_up = (
                f"gave up: the next attempt would come after the "
                f"{self.settings.max_age_seconds:g} s retry window; last: {what}"
            )
        else:
            give_up = None

        if give_up is not None:
            result.outcome = deliveries.DISCARDED
            log.info(
                "delivery discarded messageId=%s source=%s action=%s reason=%s",
                _message_ids(group),
                first.source,
                first.action,
                give_up,
            )
            deliveries.finish_attempt(
                self.db,
                attempt_ids,
                group,
                result,
                status=deliveries.DISCARDED,
                reason=give_up,
            )
            return

        log.info(
            "delivery retry messageId=%s source=%s action=%s last=%s delay=%.3f",
            _message_ids(group),
            first.source,
            first.action,
            what,
            delay,
        )
        deliveries.finish_attempt(
            self.db,
            attempt_ids,
            group,
            result,
            status=deliveries.PENDING,
            reason=f"retrying after {what} (attempt {attempts})",
            next_attempt_at=time.time() + delay,
        )

    def _delay(self, attempts: int, result: AttemptResult) -> float:
        """Retry-After when the response has it, else exponential backoff."""
        headers = {k.lower(): v for k, v in (result.headers or {}).items()}
        retry_after = _retry_after(headers.get("retry-after"))
        if retry_after is not None:
            return min(retry_after, self.settings.retry_after_max_seconds)
        delay = self.settings.backoff_base_seconds * 2 ** max(0, attempts - 1)
        return min(delay, self.settings.backoff_max_seconds)


def _message_id(stored: Any) -> str | None:
    """The messageId as text, whatever the stored message holds there."""
    event = stored.message
    value = event.get("messageId") if isinstance(event, dict) else None
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)[:200]


def _message_ids(group: list[Delivery]) -> str:
    ids = [d.message_id or "-" for d in group]
    return ids[0] if len(ids) == 1 else f"{ids[0]}(+{len(ids) - 1})"


def _pipeline_error(stored: Any, destination: str, reason: str) -> NewDelivery:
    """A ``failed`` row standing for every subscription of the destination
    (``*``): the message could not be routed that far."""
    return NewDelivery(
        seq=stored.seq,
        message_id=_message_id(stored),
        source=stored.source,
        destination=destination,
        subscription="*",
        action="*",
        status=deliveries.FAILED,
        reason=reason,
        error=DestinationError(reason, code="EMULATOR_ERROR").as_dict(),
    )


def _batch_size(destination: DestinationConfig, subscription: Any) -> int:
    """Only actions with ``performBatch`` batch; trackEvent sends one event."""
    action = destination.definition.actions[subscription.action]
    return subscription.batch_size if action.supports_batch else 1


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        log.warning("retry-after ignored value=%r", value)
        return None


def _reason(status: int) -> str:
    if status == 401:
        return "the destination rejected the credentials (clientId / producerToken)"
    if status == 501:
        return "501 Not Implemented is never retried"
    if 300 <= status < 400:
        return "a redirect the destination did not follow"
    return "the destination rejected the request"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1e3, 3)
