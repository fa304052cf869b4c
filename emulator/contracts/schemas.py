"""The JSON Schemas under ``contracts/``, loaded once and compiled once.

Every schema has an ``$id`` under :data:`BASE_URI`. References between them are
resolved from the shipped files only: the validation registry's retriever refuses
every other URI, so a ``$ref`` that is not shipped fails loudly instead of reaching
for the network. Validation runs on ``jsonschema_rs`` (a compiled Rust validator):
the pure-Python ``jsonschema`` needed ~450 µs for a typical track message against
``segment/accepted/message``, ``jsonschema_rs`` ~1.5 µs. A ``referencing.Registry``
of the same documents is kept for Python tooling (tests, OpenAPI) that resolves our
``$id``s.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

import jsonschema_rs
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from emulator.resources import contracts_dir

log = logging.getLogger(__name__)

BASE_URI = "https://seglike.local/contracts/"

# Folders of contracts/ that hold other documents than JSON Schemas.
_NOT_SCHEMAS = {"openapi", "plans"}

# Documents that are not shipped contracts (tracking plan rules), by their $id.
_EXTRA: dict[str, Any] = {}


class UnknownContract(LookupError):
    """A contract name that no schema file under ``contracts/`` answers to."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        hint = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
        super().__init__(f"Unknown contract {name!r}; known contracts: {hint}.")


def _refuse(uri: str) -> Any:
    raise LookupError(
        f"Schema {uri!r} is not shipped under contracts/; the emulator never "
        "fetches schemas from the network."
    )


def contract_name(path: Path, root: Path | None = None) -> str:
    """``contracts/segment/track.json`` → ``segment/track``."""
    relative = path.relative_to(root or contracts_dir())
    return relative.with_suffix("").as_posix()


def contract_uri(name: str) -> str:
    return f"{BASE_URI}{name.removesuffix('.json')}.json"


def short_uri(uri: str) -> str:
    """Say a schema location the way a person reads it: ``segment/track.json#/...``."""
    return uri.removeprefix(BASE_URI)


@cache
def _load() -> tuple[Registry, dict[str, dict[str, Any]]]:
    root = contracts_dir()
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.json")):
        if path.relative_to(root).parts[0] in _NOT_SCHEMAS:
            continue
        name = contract_name(path, root)
        try:
            schema = json.loads(path.read_text())
        except ValueError as error:
            raise ValueError(f"Contract {path} is not valid JSON: {error}") from None
        expected = contract_uri(name)
        if schema.get("$id") != expected:
            raise ValueError(
                f"Contract {path} has $id {schema.get('$id')!r}; expected {expected!r}."
            )
        schemas[name] = schema

    resources = [
        (contract_uri(name), Resource.from_contents(schema, DRAFT202012))
        for name, schema in schemas.items()
    ]
    registry = Registry().with_resources(resources).crawl()
    log.debug("contracts loaded count=%d", len(schemas))
    return registry, schemas


def registry() -> Registry:
    """The registry of every shipped schema, keyed by its ``$id``."""
    return _load()[0]


def contract_names() -> list[str]:
    """Every contract name, such as ``segment/track`` or ``livelike/segment-events``."""
    return sorted(_load()[1])


def schema(name: str) -> dict[str, Any]:
    """The schema document of contract *name* (``segment/track``)."""
    schemas = _load()[1]
    key = name.removesuffix(".json")
    if key not in schemas:
        raise UnknownContract(name, sorted(schemas))
    return schemas[key]


@cache
def _validation_registry() -> jsonschema_rs.Registry:
    documents = _load()[1]
    resources = [(contract_uri(name), doc) for name, doc in documents.items()]
    return jsonschema_rs.Registry(resources, retriever=_refuse)


@cache
def compiled(name: str) -> jsonschema_rs.Validator:
    """The compiled validator of contract *name*, built once per process."""
    return jsonschema_rs.validator_for(
        schema(name), registry=_validation_registry(), validate_formats=True
    )


def compile_schema(document: dict[str, Any]) -> jsonschema_rs.Validator:
    """Compile a schema (a plan rule) that may ``$ref`` the shipped contracts.

    The document needs an ``$id`` so that reports can say where a rule failed;
    raises ``ValueError`` with the meta-schema's complaint if it is no schema.
    """
    try:
        jsonschema_rs.meta.validate(document)
        validator = jsonschema_rs.validator_for(
            document, registry=_validation_registry(), validate_formats=True
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as error:
        raise ValueError(str(error).split("\n", 1)[0]) from None
    if isinstance(document.get("$id"), str):
        _EXTRA[document["$id"]] = document
    return validator


def document_for(uri: str) -> Any:
    """The schema document whose ``$id`` is *uri* (a contract or a plan rule)."""
    if uri.startswith(BASE_URI):
        return schema(uri.removeprefix(BASE_URI))
    return _EXTRA.get(uri)


def node_at(location: str | None) -> Any:
    """The schema value at an absolute keyword location (``uri#/json/pointer``)."""
    if not location:
        return None
    uri, fragment = urldefrag(location)
    node = document_for(uri)
    for token in unquote(fragment).split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node
