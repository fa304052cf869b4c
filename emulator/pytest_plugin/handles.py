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

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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

    def fault(self, path: str = "*", method: str = "*", **rule: Any) -> dict:
        """Inject a fault on this service until the test ends; return the rule.

        *rule* takes the fields of ``POST /_emulator/faults``: ``status``,
        ``retry_after``, ``delay_ms``, ``drop``, ``times``, ``probability``,
        ``seed``. ``path`` is a pattern (``*`` spans slashes).
        """
        return self._send(
            "POST", "/_emulator/faults", {"path": path, "method": method, **rule}
        )

    def faults(self) -> list[dict]:
        """The fault rules in force, with how often each matched and applied."""
        return self._get("/_emulator/faults")["faults"]

    @staticmethod
    def _json(response, path: str) -> Any:
        if response.status_code >= 400:
            raise ControlError(
                f"{response.request.method} {path} answered "
                f"{response.status_code}: {response.text[:300]}",
                status=response.status_code,
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
        params = {**_query(filters), "limit": 1000}
        records: list[dict[str, Any]] = []
        while True:
            page = self._get("/_emulator/messages", params)
            records.extend(page["items"])
            if page.get("next") is None:
                return records
            params["after"] = page["next"]

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
        matched = sum(1 for message in accepted if not differences(message, expected))
        lines = [
            f"Expected {count} message(s) matching {render_expectation(expected)}; "
            f"found {matched} after {timeout:g}s ({len(records)} stored in this test)."
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
            if client.sync_mode:
                continue  # nothing queued, and shutdown() expects consumers
            try:
                client.shutdown()
            except Exception:  # a client broken by the test must not hide it
                log.exception("analytics client shutdown failed")
        self._clients.clear()


class LiveLikeHandle(_Handle):
    """The LiveLike service for one test: what Segment delivered, and the rewards.

    Profiles are named the way a test knows them: ``profile_id=`` (a LiveLike
    profile id) or ``user_id=`` (the Segment userId, LiveLike's ``custom_id``).
    """

    def __init__(self, session: EmulatorSession) -> None:
        super().__init__(session, session.livelike_url)
        self.timeout = DEFAULT_TIMEOUT
        applications = getattr(session.config.livelike, "applications", None) or []
        self.application = applications[0] if applications else None

    @property
    def client_id(self) -> str:
        return self._app().client_id

    @property
    def producer_token(self) -> str:
        return self._app().producer_tokens[0]

    @property
    def api_url(self) -> str:
        """Base URL to give the LiveLike destination (``.../api/v1``)."""
        return f"{self.url}/api/v1"

    def _app(self):
        if self.application is None:
            raise ControlError("The stack configuration has no LiveLike application.")
        return self.application

    def _api(self, path: str, params: Any = None) -> Any:
        response = self._session.http.get(
            f"{self.api_url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.producer_token}"},
            timeout=30,
        )
        return self._json(response, path)

    def _results(self, path: str, params: Any = None) -> list[dict[str, Any]]:
        params = {**(params or {}), "page_size": 100}
        results: list[dict[str, Any]] = []
        page_number = 1
        while True:
            page = self._api(path, {**params, "page": page_number})
            results.extend(page["results"])
            if not page.get("next"):
                return results
            page_number += 1

    # -- what Segment delivered -----------------------------------------------

    def requests(self, path: str | None = None, status: int | None = None) -> list:
        """Requests the service received, oldest first (``path`` is a substring).

        TODO(plugin): the log also holds the handle's own reads (balances,
        transactions) because the service cannot tell them apart; filter by path.
        """
        params: dict[str, Any] = {"limit": 1000}
        if path:
            params["path"] = path
        if status is not None:
            params["status"] = status
        found: list[dict[str, Any]] = []
        while True:
            page = self._get("/_emulator/requests", params)["requests"]
            found.extend(page)
            if len(page) < params["limit"]:
                return found
            params["after"] = page[-1]["seq"]

    def events(self) -> list[dict[str, Any]]:
        """The ``trackEvent`` events of every accepted ``segment-events`` request."""
        events: list[dict[str, Any]] = []
        for received in self.requests(path="/segment-events/"):
            body = received.get("body")
            if received.get("status", 0) < 300 and isinstance(body, dict):
                events.extend(
                    e for e in body.get("events") or [] if isinstance(e, dict)
                )
        return events

    def assert_received(self, *, timeout: float | None = None, **expected: Any):
        """Assert that Segment delivered an event matching *expected*; return it."""
        timeout = self.timeout if timeout is None else timeout
        found = self._session.wait_until(
            lambda: [e for e in self.events() if not differences(e, expected)],
            timeout,
        )
        if found:
            return found[0]

        events = self.events()
        lines = [
            f"Expected LiveLike to receive an event matching "
            f"{render_expectation(expected)} within {timeout:g}s; "
            f"{len(events)} event(s) received."
        ]
        misses = nearest_misses(events, expected, _describe_livelike_event)
        if misses:
            lines.append("Nearest misses:")
            lines.extend(misses)
        refused = [r for r in self.requests() if r.get("status", 0) >= 300]
        for received in refused[:3]:
            lines.append(
                f"  refused: {received['method']} {received['path']} "
                f"status={received['status']} body={_clip(received.get('body'))}"
            )
        raise AssertionError("\n".join(lines))

    # -- rewards --------------------------------------------------------------

    def profile(
        self, *, profile_id: str | None = None, user_id: str | None = None
    ) -> dict[str, Any] | None:
        """The LiveLike profile, or None when it does not exist (yet)."""
        if (profile_id is None) == (user_id is None):
            raise TypeError("Name the profile by exactly one of profile_id, user_id.")
        if profile_id is not None:
            path = f"/profiles/{profile_id}/"
        else:
            path = f"/profile-by-custom-id/{self.client_id}/{user_id}/"
        try:
            return self._api(path)
        except ControlError as error:
            if error.status == 404:
                return None
            raise

    def balances(self, **profile: str) -> dict[str, float]:
        """Reward item balances of a profile, by item name (empty if unknown)."""
        found = self.profile(**profile)
        if found is None:
            return {}
        results = self._results(f"/profiles/{found['id']}/reward-item-balances/")
        return {r["reward_item_name"]: r["reward_item_balance"] for r in results}

    def balance(self, item: str | None = None, **profile: str) -> float:
        """Balance of *item* (default: the application's first reward item)."""
        item = item or self._app().reward_items[0].name
        return self.balances(**profile).get(item, 0)

    def badges(self, **profile: str) -> list[str]:
        """Names of the badges a profile earned, in award order."""
        found = self.profile(**profile)
        if found is None:
            return []
        results = self._results(f"/profiles/{found['id']}/badges/")
        return [r["badge"]["name"] for r in results]

    def transactions(self, **profile: str) -> list[dict[str, Any]]:
        """Reward transactions, newest first (of one profile when named)."""
        params: dict[str, Any] = {}
        if profile:
            found = self.profile(**profile)
            if found is None:
                return []
            params["profile_id"] = found["id"]
        return self._results("/reward-transactions/", params)

    def assert_rewarded(
        self,
        *,
        profile_id: str | None = None,
        user_id: str | None = None,
        item: str | None = None,
        amount: float | None = None,
        action: str | None = None,
        badge: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Assert that the profile was rewarded; return the transaction or badge.

        With ``badge=`` the badge must have been earned; otherwise a reward
        transaction must match ``item`` (name), ``amount`` and ``action`` (key).
        Waits up to *timeout* seconds: rewards arrive through the pipeline.
        """
        timeout = self.timeout if timeout is None else timeout
        profile = {"profile_id": profile_id} if profile_id else {"user_id": user_id}
        expected: dict[str, Any] = {}
        if item is not None:
            expected["reward_item_name"] = item
        if amount is not None:
            expected["reward_item_amount"] = amount
        if action is not None:
            expected["reward_action_key"] = action

        def rewarded():
            if badge is not None:
                return {"badge": badge} if badge in self.badges(**profile) else None
            matching = [
                t for t in self.transactions(**profile) if not differences(t, expected)
            ]
            return matching[0] if matching else None

        found = self._session.wait_until(rewarded, timeout)
        if found is not None:
            return found
        raise AssertionError(self._reward_report(profile, expected, badge, timeout))

    def _reward_report(
        self,
        profile: dict[str, Any],
        expected: dict[str, Any],
        badge: str | None,
        timeout: float,
    ) -> str:
        who = render_expectation(profile)
        wanted = f"badge {badge!r}" if badge else render_expectation(expected) or "any"
        lines = [
            f"Expected profile {who} to be rewarded ({wanted}) within {timeout:g}s."
        ]

        found = self.profile(**profile)
        if found is None:
            lines.append("No such profile exists in LiveLike.")
            lines.append(f"LiveLike received {len(self.events())} event(s).")
            return "\n".join(lines)

        lines.append(f"Balances: {self.balances(**profile)}")
        lines.append(f"Badges: {self.badges(**profile)}")
        transactions = self.transactions(**profile)
        misses = nearest_misses(transactions, expected, _describe_transaction)
        if misses:
            lines.append("Nearest misses:")
            lines.extend(misses)
        elif not transactions:
            lines.append("No reward transaction for this profile.")
        return "\n".join(lines)

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


def _enough(found: list[dict], count: int) -> list[dict] | None:
    return found if len(found) >= count else None


def _describe(message: Mapping[str, Any]) -> str:
    kind = message.get("type", "?")
    name = message.get("event") or message.get("name") or ""
    who = message.get("userId") or message.get("anonymousId") or "?"
    text = f"{kind} {name!r} user={who!r}" if name else f"{kind} user={who!r}"
    return f"{text} messageId={message.get('messageId')!r}"


def _describe_livelike_event(event: Mapping[str, Any]) -> str:
    who = (
        event.get("segment_user_id")
        or event.get("user_id")
        or event.get("livelike_profile_id")
        or event.get("anonymous_id")
        or "?"
    )
    return f"{event.get('event_type')} {event.get('event_name')!r} user={who!r}"


def _describe_transaction(transaction: Mapping[str, Any]) -> str:
    return (
        f"{transaction.get('reward_item_amount')} {transaction.get('reward_item_name')}"
        f" for {transaction.get('reward_action_key')!r}"
    )


def _clip(value: Any, width: int = 200) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _contract_violation(records: list[dict[str, Any]]) -> AssertionError:
    """Strict mode's failure: a ``ContractViolation`` listing every problem."""
    from emulator.contracts import ContractViolation, Violation

    violations: list[Violation] = []
    for record in records:
        for found in record.get("violations") or []:
            violations.append(_violation(Violation, found))
        for drop in record.get("details") or []:
            violations.append(
                Violation(
                    type=str(record.get("status", "dropped")).title(),
                    field=drop.get("path", "$").removeprefix("$.") or "(root)",
                    description=drop.get("message", ""),
                    path=drop.get("path", "$"),
                    reason=drop.get("code"),
                )
            )
        if record.get("status") != "accepted" and not record.get("details"):
            violations.append(
                Violation(
                    type=str(record.get("status")).title(),
                    field="(root)",
                    description=f"reasons {record.get('reasons')}",
                )
            )

    error = ContractViolation(violations, subject="traffic of this test")
    error.add_note(
        "Strict mode: these messages were not accepted cleanly:\n"
        + "\n".join(
            f"  - {_describe(r['message'])} status={r.get('status')} "
            f"reasons={r.get('reasons')}"
            for r in records[:10]
        )
    )
    return error


def _violation(cls: type, found: dict[str, Any]) -> Any:
    known = ("type", "field", "description", "path", "schema_path", "expected")
    fields = {key: found[key] for key in known if key in found}
    fields.setdefault("type", "Violation")
    fields.setdefault("field", "(root)")
    fields.setdefault("description", str(found))
    if "value" in found:
        fields["value"] = found["value"]
    return cls(**fields)
