"""Fault injection for the emulated services: statuses, delays, dropped sockets.

A rule matches requests by method and path pattern (``fnmatch``: ``*`` spans
slashes) and does one thing to them: answer a status (``429`` carries
``Retry-After``), wait before answering normally or with its status, or drop the
connection without a response.  ``times: N`` applies it to the first N matching
requests only ("fail N times then succeed"); ``probability`` with a ``seed``
applies it to a reproducible share of them.

Rules come from the stack YAML (``faults: {segment: [...], livelike: [...]}``, or a
``faults`` list inside the service's own section) and from
``/_emulator/faults`` on each service.  The control routes themselves are never
faulted.  The hook is WSGI middleware, outside Flask, because only there can a
request end without any response; a delay sleeps on the request's own waitress
thread and holds no lock, so other requests go on.
"""

from __future__ import annotations

import fnmatch
import logging
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from emulator import jsontext
from emulator.web.errors import APIError

log = logging.getLogger(__name__)

EXTENSION = "seglike.faults"
CONTROL_PREFIX = "/_emulator/"
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# A delay holds one of the server's threads for its whole length; past 30 s it
# stops being "a slow service" and starts starving everything else.
MAX_DELAY_MS = 30_000
RULE_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")
SERVICES = ("segment", "livelike")
# The rule a request was answered by, from the middleware to the Flask hook.
ENVIRON_KEY = "seglike.fault_rule"

try:  # waitress closes the socket, writing nothing, when the app raises this
    from waitress.channel import ClientDisconnected as _Disconnect
except ImportError:  # pragma: no cover - waitress is a dependency
    _Disconnect = ConnectionAbortedError


class DroppedConnection(_Disconnect):
    """Raised to make the server close the connection without a response."""


class FaultSpecError(ValueError):
    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class FaultRule:
    id: str
    method: str = "*"
    path: str = "*"
    status: int | None = None
    retry_after: int | None = None
    delay_ms: int = 0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    origin: str = "api"
    matched: int = 0
    applied: int = 0
    spec: dict[str, Any] = field(default_factory=dict)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "origin": self.origin,
            "matched": self.matched,
            "applied": self.applied,
            "remaining": None if self.times is None else self.times - self.applied,
        }


def parse_rule(spec: Any, path: str = "$", origin: str = "api") -> FaultRule:
    """Build a rule from its JSON/YAML form; errors name the bad field."""
    if not isinstance(spec, dict):
        raise FaultSpecError(f"a fault rule must be an object, got {spec!r}", path)
    known = {
        "id",
        "method",
        "path",
        "status",
        "retry_after",
        "delay_ms",
        "drop",
        "times",
        "probability",
        "seed",
    }
    unknown = sorted(set(spec) - known)
    if unknown:
        raise FaultSpecError(
            f"unknown field {unknown[0]!r}; a rule has {sorted(known)}",
            f"{path}.{unknown[0]}",
        )

    def integer(key: str, low: int, high: int) -> int | None:
        value = spec.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (low <= value <= high)
        ):
            raise FaultSpecError(
                f"{key!r} must be an integer from {low} to {high}, got {value!r}",
                f"{path}.{key}",
            )
        return value

    method = spec.get("method", "*")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise FaultSpecError(
            f"'method' must be one of {list(METHODS)}, got {method!r}", f"{path}.method"
        )
    pattern = spec.get("path", "*")
    if not isinstance(pattern, str) or not pattern:
        raise FaultSpecError(
            f"'path' must be a non-empty pattern, got {pattern!r}", f"{path}.path"
        )
    drop = spec.get("drop", False)
    if not isinstance(drop, bool):
        raise FaultSpecError(
            f"'drop' must be true or false, got {drop!r}", f"{path}.drop"
        )
    probability = spec.get("probability", 1.0)
    if (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 1
    ):
        raise FaultSpecError(
            f"'probability' must be a number from 0 to 1, got {probability!r}",
            f"{path}.probability",
        )
    rule_id = spec.get("id") or f"fault-{uuid.uuid4().hex[:8]}"
    if not isinstance(rule_id, str) or not RULE_ID.fullmatch(rule_id):
        raise FaultSpecError(
            "'id' must be 1 to 100 letters, digits, '_', '.' or '-' (it is part of"
            f" the rule's URL), got {rule_id!r}",
            f"{path}.id",
        )
    delay = spec.get("delay_ms")
    if isinstance(delay, int) and not isinstance(delay, bool) and delay > MAX_DELAY_MS:
        raise FaultSpecError(
            f"'delay_ms' is at most {MAX_DELAY_MS} (a delay holds a server thread"
            f" for its whole length), got {delay!r}",
            f"{path}.delay_ms",
        )

    rule = FaultRule(
        id=rule_id,
        method=method.upper(),
        path=pattern,
        status=integer("status", 400, 599),
        retry_after=integer("retry_after", 0, 86400),
        delay_ms=integer("delay_ms", 0, MAX_DELAY_MS) or 0,
        drop=drop,
        times=integer("times", 1, 1_000_000),
        probability=float(probability),
        seed=integer("seed", -(2**63), 2**63 - 1),
        origin=origin,
        spec=dict(spec),
    )
    if rule.status is None and not rule.drop and not rule.delay_ms:
        raise FaultSpecError(
            "a rule needs 'status', 'drop: true' or 'delay_ms' to do anything", path
        )
    if rule.drop and rule.status is not None:
        raise FaultSpecError(
            "a rule cannot both drop the connection and answer a status",
            f"{path}.drop",
        )
    if rule.status == 429 and rule.retry_after is None:
        rule.retry_after = 1
    rule._random = random.Random(rule.seed)
    return rule


def rules_from_config(raw: Any, service: str) -> list[FaultRule]:
    """The configured rules of *service*; a bad rule is a ``ConfigError``."""
    from emulator.config import ConfigError

    if not isinstance(raw, dict):
        return []
    found: list[tuple[Any, str]] = []
    top = raw.get("faults") or {}
    if not isinstance(top, dict):
        raise ConfigError(
            "faults must be a mapping of service name to a list of rules"
            f" (segment: [...], livelike: [...]), got {top!r}",
            path="$.faults",
        )
    unknown = sorted(str(key) for key in top if key not in SERVICES)
    if unknown:
        raise ConfigError(
            f"unknown service {unknown[0]!r}; faults apply to {list(SERVICES)}",
            path=f"$.faults.{unknown[0]}",
        )
    if top.get(service) is not None:
        found.append((top[service], f"$.faults.{service}"))
    section = raw.get(service)
    if isinstance(section, dict) and section.get("faults") is not None:
        found.append((section["faults"], f"$.{service}.faults"))

    rules = []
    for specs, path in found:
        if not isinstance(specs, list):
            raise ConfigError("faults must be a list of rules", path=path)
        for index, spec in enumerate(specs):
            try:
                rules.append(parse_rule(spec, f"{path}[{index}]", origin="config"))
            except FaultSpecError as error:
                raise ConfigError(error.message, path=error.path) from None
    return rules


class FaultRegistry:
    """The rules of one service; counters change under a lock, sleeping never does."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule.id] + [rule]

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def replace_config_rules(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules = list(rules) + [r for r in self._rules if r.origin != "config"]

    def clear(self) -> None:
        """Drop API rules and restart the configured ones from zero."""
        with self._lock:
            self._rules = [
                parse_rule(r.spec, origin="config")
                for r in self._rules
                if r.origin == "config"
            ]

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def decide(self, method: str, path: str) -> FaultRule | None:
        """The rule to apply to this request, counting it; ``None`` passes it."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted() or not rule.matches(method, path):
                    continue
                rule.matched += 1
                if rule.probability < 1 and rule._random.random() >= rule.probability:
                    continue
                rule.applied += 1
                return rule
        return None


class FaultMiddleware:
    """WSGI wrapper applying the registry's rules before the app sees a request."""

    def __init__(self, wsgi_app, registry: FaultRegistry) -> None:
        self.wsgi_app = wsgi_app
        self.registry = registry

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.wsgi_app(environ, start_response)

        method = environ.get("REQUEST_METHOD", "GET")
        rule = self.registry.decide(method, path)
        if rule is None:
            return self.wsgi_app(environ, start_response)

        log.info(
            "fault injected service=%s rule=%s method=%s path=%s",
            self.registry.service,
            rule.id,
            method,
            path,
        )
        if rule.delay_ms:
            time.sleep(rule.delay_ms / 1000)  # this request's thread only
        if rule.status is None and not rule.drop:
            return self.wsgi_app(environ, start_response)

        # The app answers (see _answer_fault) so its hooks record the request.
        environ[ENVIRON_KEY] = rule
        if not rule.drop:
            return self.wsgi_app(environ, start_response)
        _discard(self.wsgi_app(environ, lambda *args: lambda data: None))
        raise DroppedConnection(f"fault rule {rule.id} dropped the connection")


def _discard(result) -> None:
    """Run a response to its end (closing it runs the app's teardown), unsent."""
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _answer_fault() -> Response | None:
    """Answer for the rule the middleware chose; ``g.fault_rule`` names it.

    Runs before the service's own hooks and views, so nothing of the request is
    processed, while the service's ``after_request`` hooks still see it.
    """
    rule: FaultRule | None = request.environ.get(ENVIRON_KEY)
    if rule is None:
        return None
    g.fault_rule = rule.id
    if rule.drop:
        g.fault_dropped = True
        return Response(status=499)  # never sent: the connection is dropped
    response = jsonify(
        {
            "code": "fault_injected",
            "message": f"Fault rule {rule.id!r} answered {rule.status}.",
        }
    )
    response.status_code = rule.status
    response.headers["X-Emulator-Fault"] = rule.id
    if rule.retry_after is not None:
        response.headers["Retry-After"] = str(rule.retry_after)
    return response


def init_app(app: Flask, service: str, rules: list) -> None:
    """Install the fault rules of *service* on *app* and its control routes."""
    registry = FaultRegistry(service)
    registry.replace_config_rules(
        [
            r if isinstance(r, FaultRule) else parse_rule(r, origin="config")
            for r in rules
        ]
    )
    app.extensions[EXTENSION] = registry
    app.wsgi_app = FaultMiddleware(app.wsgi_app, registry)
    app.before_request(_answer_fault)
    app.register_blueprint(_control_blueprint())


def install_config_rules(app: Flask, raw: Any, service: str) -> None:
    """(Re)load *service*'s configured rules; safe to call more than once."""
    registry(app).replace_config_rules(rules_from_config(raw, service))


def registry(app: Flask) -> FaultRegistry:
    return app.extensions[EXTENSION]


def clear(app: Flask) -> None:
    """Back to the configured rules with fresh counters (the per-test reset)."""
    registry(app).clear()


def _control_blueprint() -> Blueprint:
    control = Blueprint("faults_control", __name__, url_prefix="/_emulator/faults")

    @control.get("")
    def list_faults():
        return jsonify({"faults": [r.view() for r in registry(current_app).rules()]})

    @control.post("")
    def add_fault():
        try:
            body = jsontext.loads(request.get_data(cache=True))
        except jsontext.JSONTextError as error:
            raise APIError(
                f"The request body is not valid JSON: {error}.",
                code="invalid_json",
                path="$",
            ) from None
        specs = body if isinstance(body, list) else [body]
        try:
            rules = [
                parse_rule(spec, f"$[{i}]" if isinstance(body, list) else "$")
                for i, spec in enumerate(specs)
            ]
        except FaultSpecError as error:
            raise APIError(
                f"Bad fault rule: {error.message}.",
                code="invalid_fault",
                path=error.path,
            ) from None
        for rule in rules:
            registry(current_app).add(rule)
            log.info("fault added rule=%s path=%s", rule.id, rule.path)
        views = [r.view() for r in rules]
        return jsonify(views if isinstance(body, list) else views[0]), 201

    @control.delete("")
    def clear_faults():
        clear(current_app)
        return jsonify({"faults": [r.view() for r in registry(current_app).rules()]})

    @control.delete("/<rule_id>")
    def delete_fault(rule_id: str):
        if not registry(current_app).remove(rule_id):
            raise APIError(f"No fault rule {rule_id!r}.", status=404, code="not_found")
        return "", 204

    return control
