"""The OpenAPI documents in ``contracts/openapi/`` are valid and tell the truth.

Each document must be valid OpenAPI 3.1, be the one its service serves, and list
exactly the routes its Flask app really has, in both directions: a route missing
from the document cannot be tested by schemathesis, and a documented route that
does not exist misleads users.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from openapi_spec_validator import validate
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from emulator.resources import contracts_dir
from emulator.stack import Stack

SERVICES = ("segment", "livelike")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_CONVERTER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?[A-Za-z_][A-Za-z0-9_]*>")
_PARAMETER = re.compile(r"\{[^}]+\}")


def document(service: str) -> dict:
    return json.loads((contracts_dir() / "openapi" / f"{service}.json").read_text())


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(store=":memory:") as running:
        yield running


def app_operations(app) -> set[tuple[str, str]]:
    """(path, method) of every route of *app*; parameters unnamed: ``{}``."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = _CONVERTER.sub("{}", rule.rule)
        for method in rule.methods or ():
            method = method.lower()
            if method == "head":
                continue  # Flask answers HEAD for every GET
            automatic = getattr(rule, "provide_automatic_options", False)
            if method == "options" and automatic:
                continue  # Flask's own answer; documenting it is optional
            operations.add((path, method))
    return operations


def document_operations(service: str) -> set[tuple[str, str]]:
    return {
        (_PARAMETER.sub("{}", path), method)
        for path, item in document(service)["paths"].items()
        for method in item
        if method in METHODS
    }


def is_served(app, path: str, method: str) -> bool:
    """Whether *app* answers *method* on *path* with a route of its own.

    Routing is asked first, with a number and a word for the path parameters
    (routes may convert them); aliases made outside the URL map (a trailing
    slash tolerated by middleware) are asked for real, and only Werkzeug's own
    "no such URL" or "method not allowed" answers count as not served.
    """
    adapter = app.url_map.bind("localhost")
    for sample in ("1", "sample-id"):
        concrete = path.replace("{}", sample)
        try:
            adapter.match(concrete, method=method.upper())
            return True
        except RequestRedirect:
            return True
        except (NotFound, MethodNotAllowed):
            continue

    response = app.test_client().open(concrete, method=method.upper())
    body = response.get_json(silent=True) or {}
    return not (
        response.status_code == 405
        or response.status_code == 404
        and body.get("message", "").startswith(NotFound.description[:30])
    )


@pytest.mark.parametrize("service", SERVICES)
def test_document_is_valid_openapi_3_1(service):
    spec = document(service)

    assert spec["openapi"].startswith("3.1."), spec["openapi"]
    validate(spec)


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_the_app_is_documented(service, stack):
    undocumented = app_operations(stack.apps[service]) - document_operations(service)

    assert not undocumented, (
        f"Routes of the {service} app missing from contracts/openapi/{service}.json:"
        f" {sorted(undocumented)}"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_route_exists(service, stack):
    app = stack.apps[service]
    phantom = [
        (path, method)
        for path, method in sorted(document_operations(service))
        if not is_served(app, path, method)
    ]

    assert not phantom, (
        f"Operations of contracts/openapi/{service}.json that the {service} app "
        f"does not have: {phantom}"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_its_document(service, stack):
    client = stack.apps[service].test_client()

    response = client.get("/_emulator/openapi.json")

    assert response.status_code == 200
    assert response.get_json() == document(service)


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_documents_its_responses(service):
    missing = [
        f"{method.upper()} {path}"
        for path, item in document(service)["paths"].items()
        for method, operation in item.items()
        if method in METHODS and not operation.get("responses")
    ]

    assert not missing, f"Operations without responses: {missing}"


@pytest.mark.parametrize(
    ("path", "method"),
    [("/_emulator/no-such-route", "get"), ("/_emulator/health", "delete")],
)
def test_the_route_check_notices_a_phantom_operation(stack, path, method):
    assert not is_served(stack.apps["segment"], path, method)
