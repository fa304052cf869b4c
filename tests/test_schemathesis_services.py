"""Schemathesis against both services in-process (WSGI): no 5xx, documented answers.

Each operation of ``contracts/openapi/<service>.json`` gets a bounded number of
generated requests, valid and invalid. Every response must not be a server
error and must match the document: a documented status, content type and body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator.resources import contracts_dir
from emulator.stack import Stack
from emulator.web import faults

SERVICES = ("segment", "livelike")

MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Long-poll parameters a generated case must not hold open (seconds).
_WAITS = {"/_emulator/messages/wait": "timeout", "/_emulator/requests": "wait"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(store=":memory:") as running:
        yield running


def _operations(service: str) -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from the file."""
    spec = json.loads((contracts_dir() / "openapi" / f"{service}.json").read_text())
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete", "options")
    ]


@pytest.fixture(scope="module")
def schemas(stack: Stack) -> dict:
    """Each service's document as it serves it, bound to its WSGI app."""
    return {
        service: schemathesis.openapi.from_wsgi(
            "/_emulator/openapi.json", stack.apps[service]
        )
        for service in SERVICES
    }


def _call(case, stack: Stack) -> None:
    wait = _WAITS.get(case.operation.path)
    if wait is not None and isinstance(case.query, dict) and wait in case.query:
        case.query[wait] = "0"
    try:
        case.call_and_validate(checks=CHECKS)
    finally:
        # A generated fault rule (a 500 on "*", a long delay) must not leak
        # into the next case.
        for app in stack.apps.values():
            faults.clear(app)


@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        pytest.param(service, method, path, id=f"{service} {method} {path}")
        for service in SERVICES
        for method, path in _operations(service)
    ],
)
def test_operation(service, method, path, schemas, stack):
    operation = schemas[service][path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        _call(case, stack)

    check()
