"""Accept, drop or reject one Tracking API request, then store it atomically.

This is the behaviour of the service without any HTTP: the Flask views parse
the body and hand a :class:`Submission` to :class:`Ingestor`, which normalises
each message, applies Segment's drop rules, dedupe and the source's tracking
plan, and commits the request with all its messages in one transaction before
anything answers 200.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.contracts.protocols import enforce
from emulator.logs import log_safe
from emulator.segment import auth, messages, rules
from emulator.segment.config import SegmentConfig, SourceConfig
from emulator.segment.messages import MessageRow, RequestRecord
from emulator.segment.normalize import (
    InvalidTimestamp,
    format_timestamp,
    normalize,
    strip_nulls,
)
from emulator.store import Database
from emulator.web.errors import APIError, json_path

log = logging.getLogger(__name__)

SUCCESS = {"success": True}


@dataclass
class Submission:
    """One parsed request to a tracking route."""

    route: str
    body: Any
    size: int
    call_type: str | None = None  # the route's type; None on batch routes
    batch: bool = False
    authorization: str | None = None
    client_ip: str | None = None
    collect_ip: bool = False  # browser and mobile routes get context.ip
    strict: bool | None = None  # the request's strict header, if any
    user_agent: str | None = None
    retry_count: int | None = None
    method: str = "POST"


@dataclass
class Outcome:
    """What to answer: status and JSON body, and how many messages came in."""

    status: int
    body: dict[str, Any]
    message_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Item:
    raw: Any
    message: dict[str, Any]
    drops: list[rules.Drop]
    status: str = "accepted"
    reasons: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    forwarded: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    where: list[str | int] = field(default_factory=list)  # $ or $.batch[i]


class Ingestor:
    """The Tracking API's behaviour for one configuration and one store."""

    def __init__(self, config: SegmentConfig, db: Database) -> None:
        self.config = config
        self.db = db

    def ingest(self, submission: Submission) -> Outcome:
        """Store *submission* and say what to answer; raises APIError on a 4xx."""
        body = submission.body
        if not isinstance(body, dict):
            raise APIError(
                f"The body must be a JSON object, not {_kind(body)}.",
                code="invalid_body",
                path="$",
            )
        batch = self._batch_of(submission)
        write_key = auth.resolve(
            submission.authorization, body, batch if submission.batch else None
        )
        source = self.config.source_by_key(write_key)
        self._check_message_sizes(submission, batch)

        now = datetime.now(UTC)
        received_at = format_timestamp(now)
        received_ms = int(now.timestamp() * 1000)
        envelope = body if submission.batch else {}
        batch_drops = self._batch_drops(submission, source, batch)
        items = [
            self._prepare(submission, item, index, envelope, now, received_at)
            for index, item in enumerate(batch)
        ]

        strict = submission.strict
        if strict is None:
            strict = source.strict if source is not None else False
        failures = batch_drops + [drop for item in items for drop in item.drops]
        if strict and failures:
            return self._reject(
                submission, source, write_key, items, failures, received_at, received_ms
            )

        for item in items:
            item.reasons = [drop.code for drop in batch_drops + item.drops]
            if item.reasons:
                item.status = "dropped"

        # The plan runs outside the store's lock; a duplicate's verdict is dropped.
        self._enforce(source, items)
        if strict:
            # a blocked message is dropped too: strict mode says so with a 400
            blocked = [drop for item in items for drop in _plan_drops(item)]
            if blocked:
                for item in items:
                    item.drops.extend(_plan_drops(item))
                return self._reject(
                    submission,
                    source,
                    write_key,
                    items,
                    batch_drops + blocked,
                    received_at,
                    received_ms,
                )

        with self.db.transaction() as conn:
            self._dedupe(conn, source, items, received_ms)
            forwarded = [
                extra
                for item in items
                if item.status != "duplicate"
                for extra in item.forwarded
            ]
            request = RequestRecord(
                received_at=received_at,
                received_ms=received_ms,
                method=submission.method,
                route=submission.route,
                status=200,
                source=source.name if source else None,
                write_key=auth.mask(write_key),
                reasons=[drop.code for drop in batch_drops],
                bytes=submission.size,
                message_count=len(items),
                user_agent=submission.user_agent,
                retry_count=submission.retry_count,
            )
            rows = [
                self._row(submission, source, item, received_at, received_ms)
                for item in items
            ]
            rows.extend(
                MessageRow(
                    source=forwarded_source,
                    route="protocols",
                    status="accepted",
                    reasons=[],
                    raw=message,
                    message=message,
                    received_at=received_at,
                    received_ms=received_ms,
                )
                for forwarded_source, message in forwarded
            )
            messages.store_request(conn, request, rows, self.config.max_messages)

        counts: dict[str, int] = {}
        for item in items:
            counts[item.status] = counts.get(item.status, 0) + 1
        log.debug(
            "ingested route=%s source=%s counts=%s",
            log_safe(submission.route),
            source.name if source else "-",
            counts,
        )
        return Outcome(200, dict(SUCCESS), len(items), counts)

    def record_error(self, submission: Submission, error: APIError) -> None:
        """Keep a request that was answered with a 4xx, for the control API."""
        now = datetime.now(UTC)
        body = submission.body
        preview = body if isinstance(body, bytes | bytearray) else None
        if preview:
            preview = auth.mask_in_text(
                bytes(preview[:1024]).decode("utf-8", "replace")
            )
        source = None
        try:
            key = auth.from_authorization(submission.authorization)
        except APIError:
            key = None
        if key is None and isinstance(body, dict):
            key = (
                body.get("writeKey") if isinstance(body.get("writeKey"), str) else None
            )
        if key is not None:
            found = self.config.source_by_key(key)
            source = found.name if found else None

        request = RequestRecord(
            received_at=format_timestamp(now),
            received_ms=int(now.timestamp() * 1000),
            method=submission.method,
            route=submission.route,
            status=error.status,
            source=source,
            write_key=auth.mask(key) if key else None,
            code=error.code,
            reasons=[error.code],
            bytes=submission.size,
            user_agent=submission.user_agent,
            retry_count=submission.retry_count,
            body_preview=preview or None,
        )
        with self.db.transaction() as conn:
            messages.store_request(conn, request, (), self.config.max_messages)

    def record_answer(
        self, submission: Submission, status: int, fault: str | None = None
    ) -> None:
        """Keep a request answered by a fault rule or by a 500, with its status."""
        now = datetime.now(UTC)
        code = "fault_injected" if fault is not None else "internal_error"
        request = RequestRecord(
            received_at=format_timestamp(now),
            received_ms=int(now.timestamp() * 1000),
            method=submission.method,
            route=submission.route,
            status=status,
            code=code,
            reasons=[code],
            bytes=submission.size,
            user_agent=submission.user_agent,
            retry_count=submission.retry_count,
            fault=fault,
        )
        with self.db.transaction() as conn:
            messages.store_request(conn, request, (), self.config.max_messages)

    def record_metrics(self, submission: Submission) -> Outcome:
        """``/v1/m`` carries analytics.js telemetry: counted, otherwise ignored."""
        now = datetime.now(UTC)
        request = RequestRecord(
            received_at=format_timestamp(now),
            received_ms=int(now.timestamp() * 1000),
            method=submission.method,
            route=submission.route,
            status=200,
            bytes=submission.size,
            user_agent=submission.user_agent,
        )
        with self.db.transaction() as conn:
            messages.store_request(conn, request, (), self.config.max_messages)
        return Outcome(200, dict(SUCCESS))

    # -- steps ------------------------------------------------------------------

    def _batch_of(self, submission: Submission) -> list[Any]:
        body = submission.body
        if not submission.batch:
            return [body]

        batch = body.get("batch")
        if not isinstance(batch, list):
            raise APIError(
                f"batch must be an array of messages, not {_kind(batch)}.",
                code="invalid_batch",
                path="$.batch",
            )
        for key in ("context", "integrations"):
            if body.get(key) is not None and not isinstance(body[key], dict):
                raise APIError(
                    f"The batch's {key} must be an object, not {_kind(body[key])}.",
                    code=f"{key}_not_object",
                    path=f"$.{key}",
                )
        return batch

    def _check_message_sizes(self, submission: Submission, batch: list[Any]) -> None:
        """Segment answers 400 when one message is over 32 KB, even in a batch."""
        limit = self.config.limits.message_bytes
        if submission.size <= limit:
            return
        if not submission.batch:
            raise APIError(
                f"The message is {submission.size} bytes; the limit is {limit}.",
                code="message_too_large",
                path="$",
            )
        for index, item in enumerate(batch):
            # UTF-8 bytes of compact JSON, as SDKs measure: "é" is 2, not 6
            size = len(
                json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
            )
            if size > limit:
                raise APIError(
                    f"Message {index} of the batch is {size} bytes; "
                    f"the limit is {limit}.",
                    code="message_too_large",
                    path=json_path(["batch", index]),
                )

    def _batch_drops(
        self, submission: Submission, source: SourceConfig | None, batch: list[Any]
    ) -> list[rules.Drop]:
        drops = []
        if source is None:
            drops.append(
                rules.Drop(
                    "unknown_source",
                    "The write key belongs to no configured source; Segment "
                    "answers 200 and drops the messages.",
                    "$.writeKey",
                )
            )
        if submission.batch and not batch:
            drops.append(rules.Drop("empty_batch", "The batch is empty.", "$.batch"))
        limit = self.config.limits.batch_messages
        if submission.batch and len(batch) > limit:
            drops.append(
                rules.Drop(
                    "batch_too_many_events",
                    f"The batch holds {len(batch)} messages; the limit is {limit}.",
                    "$.batch",
                )
            )
        return drops

    def _prepare(
        self,
        submission: Submission,
        item: Any,
        index: int,
        envelope: dict[str, Any],
        now: datetime,
        received_at: str,
    ) -> _Item:
        where: list[str | int] = ["batch", index] if submission.batch else []
        if not isinstance(item, dict):
            drop = rules.Drop(
                "message_not_object",
                f"A message must be a JSON object, not {_kind(item)}.",
                json_path(where),
            )
            return _Item(raw=item, message={"receivedAt": received_at}, drops=[drop])

        try:
            message = normalize(
                item,
                call_type=submission.call_type,
                envelope=envelope,
                received_at=now,
                received_at_text=received_at,
                client_ip=submission.client_ip,
                collect_ip=submission.collect_ip,
            )
        except InvalidTimestamp as error:
            message = strip_nulls(item)
            message.pop("writeKey", None)
            if submission.call_type:
                message["type"] = submission.call_type
            message["receivedAt"] = received_at
            culprit = [error.field] if error.in_envelope else [*where, error.field]
            drop = rules.Drop("invalid_timestamp", str(error), json_path(culprit))
            return _Item(raw=item, message=message, drops=[drop], where=where)

        drops = rules.check(message, where)
        return _Item(raw=item, message=message, drops=drops, where=where)

    def _dedupe(
        self,
        conn,
        source: SourceConfig | None,
        items: list[_Item],
        received_ms: int,
    ) -> None:
        """Mark repeats of a messageId accepted within the window as duplicates."""
        window = self.config.dedupe_window_seconds
        candidates = [item for item in items if item.status in ("accepted", "blocked")]
        if not window or not candidates:
            return

        scope = source.name if self.config.dedupe_scope == "source" else None
        seen = messages.seen_message_ids(
            conn,
            (item.message.get("messageId") for item in candidates),
            received_ms - window * 1000,
            scope,
        )
        for item in candidates:
            message_id = item.message.get("messageId")
            if message_id is None:
                continue
            if message_id in seen:
                item.status = "duplicate"
                item.reasons = ["duplicate"]
                item.violations = []
            seen.add(message_id)

    def _enforce(self, source: SourceConfig | None, items: list[_Item]) -> None:
        """Apply the source's tracking plan to the messages that passed the rules."""
        for item in items:
            if item.status != "accepted":
                continue
            enforcement = enforce(item.message, source)
            item.message = enforcement.message
            item.violations = list(enforcement.violations)
            if enforcement.blocked:
                item.status = "blocked"
                item.reasons = [enforcement.reason or "blocked"]
            for extra in enforcement.forwarded:
                # {"source", "message"}: a blocked message sent on to another
                # source; a bare message ("Violation Generated") stays here.
                if isinstance(extra.get("message"), dict) and "source" in extra:
                    item.forwarded.append((extra["source"], extra["message"]))
                else:
                    item.forwarded.append((source.name if source else None, extra))

    def _row(
        self,
        submission: Submission,
        source: SourceConfig | None,
        item: _Item,
        received_at: str,
        received_ms: int,
    ) -> MessageRow:
        return MessageRow(
            source=source.name if source else None,
            route=submission.route,
            status=item.status,
            reasons=item.reasons,
            raw=item.raw,
            message=item.message,
            received_at=received_at,
            received_ms=received_ms,
            details=[drop.as_dict() for drop in item.drops] or None,
            violations=item.violations or None,
        )

    def _reject(
        self,
        submission: Submission,
        source: SourceConfig | None,
        write_key: str,
        items: list[_Item],
        failures: list[rules.Drop],
        received_at: str,
        received_ms: int,
    ) -> Outcome:
        """Strict mode: answer 400 with every reason; keep the messages as rejected."""
        codes = list(dict.fromkeys(drop.code for drop in failures))
        text = (
            f"Strict mode: {len(failures)} problem(s) would make Segment drop "
            f"messages of this request ({', '.join(codes)}); nothing was accepted."
        )
        request = RequestRecord(
            received_at=received_at,
            received_ms=received_ms,
            method=submission.method,
            route=submission.route,
            status=400,
            source=source.name if source else None,
            write_key=auth.mask(write_key),
            code="strict_rejected",
            reasons=codes,
            bytes=submission.size,
            message_count=len(items),
            user_agent=submission.user_agent,
            retry_count=submission.retry_count,
        )
        batch_codes = [drop.code for drop in failures if drop.path in _BATCH_PATHS]
        rows = []
        for item in items:
            item.status = "rejected"
            item.reasons = batch_codes + [drop.code for drop in item.drops]
            rows.append(self._row(submission, source, item, received_at, received_ms))
        with self.db.transaction() as conn:
            messages.store_request(conn, request, rows, self.config.max_messages)

        body = {
            "code": "strict_rejected",
            "message": text,
            "errors": [drop.as_dict() for drop in failures],
        }
        return Outcome(400, body, len(items), {"rejected": len(items)})


_BATCH_PATHS = ("$.writeKey", "$.batch")


def _plan_drops(item: _Item) -> list[rules.Drop]:
    """A message the tracking plan blocked, as strict mode's reasons."""
    if item.status != "blocked":
        return []
    code = item.reasons[0] if item.reasons else "blocked"
    found = [
        rules.Drop(
            code,
            "The source's tracking plan blocks this message: "
            + str(violation.get("description") or violation.get("type") or code)
            + ".",
            json_path(item.where) + str(violation.get("path") or "$")[1:],
        )
        for violation in item.violations
        if isinstance(violation, dict)
    ]
    return found or [
        rules.Drop(
            code,
            "The source's tracking plan blocks this message.",
            json_path(item.where),
        )
    ]


def _kind(value: Any) -> str:
    """Name a JSON value's type for an error sentence."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"
