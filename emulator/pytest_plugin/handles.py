"""Per-test handles on the two services, with assertions that explain misses.

The handles speak only the services' control API over HTTP, so the same test
runs against the in-process stack and against ``make emulate``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.pytest_plugin.matching import (
    differences,
    nearest_misses,
    render_expectation,
)

if TYPE_CHECKING:
    from emulator.pytest_plugin.session import EmulatorSession

log = logging.getLogger(__name__)

#: Default seconds an assertion waits for something to arrive before failing.
DEFAULT_TIMEOUT = 5.0

#: Keyword spellings accepted for the control API's camelCase filters.
_FILTER_ALIASES = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "message_id": "messageId",
}
#: Filters the Segment control API applies itself (scalars only).
_SERVER_FILTERS = ("type", "event", "userId", "anonymousId", "messageId", "source")


class ControlError(RuntimeError):
    """Raised when a control route of the emulator answers with an error."""


class _Handle:
    def __init__(self, session: EmulatorSession, base_url: str) -> None:
        self._session = session
        self.url = base_url

    def _get(self, path: str, params: Any = None) -> Any:
        response = self._session.http.get(
            f"{self.url}{path}", params=params, timeout=30
        )
        return self._json(response, path)

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        response = self._session.http.request(
            method, f"{self.url}{path}", json=body, timeout=30
        )
        return self._json(response, path)

    @staticmethod
    def _json(response, path: str) -> Any:
        if response.status_code >= 400:
            raise ControlError(
                f"{response.request.method} {path} answered "
                f"{response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None


class SegmentHandle(_Handle):
    """The Segment service for one test: its URL, write keys and received messages.

    ``strict`` (the ``emulator_strict`` marker or ``--emulator-strict``) fails the
    test when any message it sent was dropped, rejected or violated its contract.
    """

    def __init__(self, session: EmulatorSession, *, strict: bool = False) -> None:
        super().__init__(session, session.segment_url)
        self.strict = strict
        self.timeout = DEFAULT_TIMEOUT
        self.sources: dict[str, str] = {
            source.name: source.write_key for source in session.config.segment.sources
        }
        self._clients: list[Any] = []

    @property
    def write_key(self) -> str:
        """Write key of the first configured source (``demo-app`` by default)."""
        if not self.sources:
            raise ControlError("The stack configuration has no Segment source.")
        return next(iter(self.sources.values()))

    def client(self, write_key: str | None = None, **options: Any) -> Any:
        """A ``segment.analytics.Client`` pointed at this service.

        It is synchronous by default (``sync_mode=True``), so a call has been
        stored when it returns; it is shut down when the test ends.
        """
        from segment.analytics import Client

        options.setdefault("sync_mode", True)
        options.setdefault("host", self.url)
        client = Client(write_key or self.write_key, **options)
        self._clients.append(client)
        return client

    # -- reading what arrived -------------------------------------------------

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        """Every stored message matching *filters*, with its status and reasons.

        Each record is ``{"message", "status", "reasons", "source", ...}``; scalar
        filters (``type``, ``event``, ``userId``...) go to the control API as they
        are, ``where`` takes ``"properties.plan:pro"`` strings.
        """
        params = _query(filters)
        records: list[dict[str, Any]] = []
        while True:
            page = self._get("/_emulator/messages", params)
            records.extend(_items(page))
            cursor = _next_cursor(page)
            if not cursor:
                return records
            params = {**params, "cursor": cursor}

    def messages(self, status: str | None = "accepted", **filters: Any) -> list[dict]:
        """The normalised messages matching *filters* (accepted ones by default)."""
        if status is not None:
            filters["status"] = status
        return [record["message"] for record in self.records(**filters)]

    def wait_for(
        self, count: int = 1, timeout: float | None = None, **expected: Any
    ) -> list[dict]:
        """Wait until *count* accepted messages match *expected*; return them."""
        timeout = self.timeout if timeout is None else timeout
        found = self._session.wait_until(
            lambda: _enough(self._matching(expected), count), timeout
        )
        if found is None:
            raise AssertionError(self._miss_report(expected, count, timeout))
        return found

    def assert_received(
        self,
        *,
        count: int | None = None,
        timeout: float | None = None,
        **expected: Any,
    ) -> dict:
        """Assert that an accepted message matches *expected*; return it.

        Mappings match partially (``properties={"plan": "pro"}``), other values
        exactly, callables as predicates. With *count*, exactly that many must
        match. Waits up to *timeout* seconds for it to arrive.
        """
        timeout = self.timeout if timeout is None else timeout
        wanted = 1 if count is None else count
        found = self._session.wait_until(
            lambda: _enough(self._matching(expected), wanted), timeout
        )
        if found is None:
            raise AssertionError(self._miss_report(expected, wanted, timeout))
        if count is not None and len(found) != count:
            raise AssertionError(
                f"Expected exactly {count} message(s) matching "
                f"{render_expectation(expected)}, found {len(found)}."
            )
        return found[0]

    def assert_not_received(self, **expected: Any) -> None:
        """Assert that no accepted message matches *expected* (checked now)."""
        found = self._matching(expected)
        if found:
            described = "\n".join(f"  - {_describe(message)}" for message in found[:5])
            raise AssertionError(
                f"Expected no message matching {render_expectation(expected)}, "
                f"found {len(found)}:\n{described}"
            )

    def _matching(self, expected: Mapping[str, Any]) -> list[dict]:
        expected = _canonical(expected)
        return [
            message
            for message in self.messages(**_server_side(expected))
            if not differences(message, expected)
        ]

    def _miss_report(
        self, expected: Mapping[str, Any], count: int, timeout: float
    ) -> str:
        expected = _canonical(expected)
        records = self.records()
        accepted = [r["message"] for r in records if r.get("status") == "accepted"]
        lines = [
            f"Expected {count} message(s) matching {render_expectation(expected)}; "
            f"found {len(accepted and self._matching(expected))} after "
            f"{timeout:g}s ({len(records)} stored in this test)."
        ]

        refused = [
            record
            for record in records
            if record.get("status") != "accepted"
            and not differences(record["message"], expected)
        ]
        for record in refused[:3]:
            lines.append(
                f"  matched but {record.get('status')}: {_describe(record['message'])}"
                f" reasons={record.get('reasons')}"
            )

        misses = nearest_misses(accepted, expected, _describe)
        if misses:
            lines.append("Nearest misses:")
            lines.extend(misses)
        elif not refused:
            lines.append("No accepted message to compare with.")
        return "\n".join(lines)

    # -- strict mode ----------------------------------------------------------

    def strict_violation(self) -> AssertionError | None:
        """The failure strict mode reports for this test, or None."""
        bad = [
            record
            for record in self.records()
            if record.get("status") != "accepted" or record.get("violations")
        ]
        if not bad:
            return None
        return _contract_violation(bad)

    def close(self) -> None:
        for client in self._clients:
            try:
                client.shutdown()
            except Exception:  # a client broken by the test must not hide it
                log.exception("analytics client shutdown failed")
        self._clients.clear()


class LiveLikeHandle(_Handle):
    """The LiveLike service for one test: received events, rewards, faults."""

    def __init__(self, session: EmulatorSession) -> None:
        super().__init__(session, session.livelike_url)
        self.timeout = DEFAULT_TIMEOUT

    def close(self) -> None:
        pass


# -- helpers ------------------------------------------------------------------


def _canonical(expected: Mapping[str, Any]) -> dict[str, Any]:
    return {_FILTER_ALIASES.get(key, key): value for key, value in expected.items()}


def _server_side(expected: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in expected.items()
        if key in _SERVER_FILTERS and isinstance(value, str)
    }


def _query(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {
        _FILTER_ALIASES.get(key, key): value
        for key, value in filters.items()
        if value is not None
    }


def _items(page: Any) -> list[dict[str, Any]]:
    if isinstance(page, list):
        return page
    for key in ("items", "messages", "data", "results"):
        if isinstance(page.get(key), list):
            return page[key]
    raise ControlError(f"Unexpected control API answer: {str(page)[:200]}")


def _next_cursor(page: Any) -> str | None:
    if not isinstance(page, dict):
        return None
    return page.get("next_cursor") or page.get("cursor") or page.get("next")


def _enough(found: list[dict], count: int) -> list[dict] | None:
    return found if len(found) >= count else None


def _describe(message: Mapping[str, Any]) -> str:
    kind = message.get("type", "?")
    name = message.get("event") or message.get("name") or ""
    who = message.get("userId") or message.get("anonymousId") or "?"
    text = f"{kind} {name!r} user={who!r}" if name else f"{kind} user={who!r}"
    return f"{text} messageId={message.get('messageId')!r}"


def _contract_violation(records: list[dict[str, Any]]) -> AssertionError:
    lines = [f"{len(records)} message(s) were not accepted cleanly (strict mode):"]
    violations: list[Any] = []
    for record in records[:10]:
        lines.append(
            f"  - {_describe(record['message'])} status={record.get('status')} "
            f"reasons={record.get('reasons')}"
        )
        for violation in record.get("violations") or []:
            lines.append(f"      {violation}")
            violations.append(violation)

    message = "\n".join(lines)
    try:
        from emulator.contracts import ContractViolation
    except ImportError:  # TODO(plugin): the contracts component has not landed.
        return AssertionError(message)
    return _build_contract_violation(ContractViolation, message, violations)


def _build_contract_violation(cls: type, message: str, violations: list) -> Any:
    try:
        return cls(message, violations)
    except TypeError:
        return cls(message)
