"""Every shipped schema is a valid draft 2020-12 schema and every $ref resolves."""

from __future__ import annotations

import json

import jsonschema
import jsonschema_rs
import pytest

from emulator.contracts import schemas
from emulator.resources import contracts_dir

NAMES = schemas.contract_names()


def _refs(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                out.append(value)
            else:
                _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)
    return out


def test_every_json_file_outside_openapi_and_plans_is_a_contract():
    root = contracts_dir()
    files = [
        p
        for p in root.rglob("*.json")
        if p.relative_to(root).parts[0] not in ("openapi", "plans")
    ]
    assert sorted(schemas.contract_name(p) for p in files) == NAMES
    assert {"segment/track", "segment/batch", "livelike/segment-events"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_2020_12(name):
    document = schemas.schema(name)

    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"https://seglike.local/contracts/{name}.json"
    jsonschema.Draft202012Validator.check_schema(document)
    jsonschema_rs.meta.validate(document)


@pytest.mark.parametrize("name", NAMES)
def test_every_ref_resolves_locally(name):
    document = schemas.schema(name)
    resolver = schemas.registry().resolver(base_uri=document["$id"])

    for reference in _refs(document, []):
        resolved = resolver.lookup(reference)
        assert isinstance(resolved.contents, dict | bool), reference

    schemas.compiled(name)  # the validation registry resolves them too


def test_a_ref_outside_the_shipped_contracts_is_refused_not_fetched():
    rule = {
        "$id": "https://seglike.local/plans/test/outside",
        "$ref": "https://example.com/schema.json",
    }

    with pytest.raises(ValueError, match="example.com/schema.json"):
        schemas.compile_schema(rule)


def test_unknown_contract_names_the_known_ones():
    with pytest.raises(schemas.UnknownContract, match="segment/track"):
        schemas.schema("segment/trak")


def test_schemas_are_plain_json_files():
    for path in contracts_dir().rglob("*.json"):
        json.loads(path.read_text())
