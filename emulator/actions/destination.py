"""The destination kit: what Segment's actions-core does between a subscription
match and the HTTP request of an action.

A :class:`Destination` has settings fields, actions and presets. An
:class:`Action` turns an event into a payload (mapping kit), cleans and
validates it against its fields exactly as actions-core's AJV set-up does
(coercion, removal of undeclared keys, ajv-human-errors messages), and then
builds the request its ``perform`` would make. Building is pure: sending is the
pipeline's job, so the preview shows the very request delivery would send.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from emulator.actions import jsvalues

log = logging.getLogger(__name__)

USER_AGENT = "Segment (Actions)"
DEFAULT_TIMEOUT_SECONDS = 10.0

# Marks a value the mapping kit left undefined or the cleaner removed.
_MISSING = object()


# --------------------------------------------------------------------------- errors


class DestinationError(Exception):
    """An error an action raises instead of making its request.

    ``code`` and ``status`` are what Segment reports for the event; a status
    below 500 (other than 408, 423, 429) means Segment does not retry.
    """

    code = "INTEGRATION_ERROR"
    status = 400

    def __init__(
        self, message: str, code: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "status": self.status}


class IntegrationError(DestinationError):
    """actions-core's ``IntegrationError(message, code, status)``."""


class PayloadValidationError(DestinationError):
    """A payload the action refuses; HTTP 400, never retried."""

    code = "PAYLOAD_VALIDATION_FAILED"


class SchemaValidationError(DestinationError):
    """actions-core's ``AggregateAjvError``: every field problem in one sentence."""

    code = "PAYLOAD_VALIDATION_FAILED"

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


class MappingFailure(DestinationError):
    """The mapping kit could not resolve the mapping for this event."""

    code = "MAPPING_FAILED"


class SubscriptionError(DestinationError):
    """A subscription that cannot be evaluated (Segment skips the event)."""

    code = "INVALID_SUBSCRIPTION"


# ---------------------------------------------------------------- fields and schema


@dataclass(frozen=True)
class Field:
    """One input field of an action or of the destination's settings."""

    label: str
    type: str = "string"
    description: str = ""
    required: bool = False
    default: Any = None
    multiple: bool = False
    allow_null: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    format: str | None = None
    properties: dict[str, Field] | None = None
    additional_properties: bool = False
    hidden: bool = False


_BASE_TYPES = {
    "string": ("string", None),
    "text": ("string", "text"),
    "password": ("string", "password"),
    "datetime": (["string", "number"], "date-like"),
    "number": ("number", None),
    "integer": ("integer", None),
    "boolean": ("boolean", None),
    "object": ("object", None),
}


def fields_to_json_schema(fields: dict[str, Field]) -> dict[str, Any]:
    """Build the JSON Schema actions-core validates payloads and settings against."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: _field_schema(f) for key, f in fields.items()},
        "required": [key for key, f in fields.items() if f.required],
    }


def _field_schema(f: Field) -> dict[str, Any]:
    json_type, fmt = _BASE_TYPES[f.type]
    schema: dict[str, Any] = {"title": f.label}
    if f.description:
        schema["description"] = f.description
    schema["type"] = json_type
    if f.format or fmt:
        schema["format"] = f.format or fmt

    if f.type in ("string", "text", "password"):
        if f.minimum:
            schema["minLength"] = f.minimum
        if f.maximum:
            schema["maxLength"] = f.maximum
    if f.type == "number":
        if f.minimum:
            schema["minimum"] = f.minimum
        if f.maximum:
            schema["maximum"] = f.maximum
    if f.choices:
        schema["enum"] = [c["value"] if isinstance(c, dict) else c for c in f.choices]
    if f.allow_null:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*types, "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    if f.type == "object" and f.properties:
        schema["properties"] = {k: _field_schema(v) for k, v in f.properties.items()}
        schema["required"] = [k for k, v in f.properties.items() if v.required]
        schema["additionalProperties"] = f.additional_properties

    if f.multiple:
        item = {
            k: schema.pop(k) for k in list(schema) if k not in ("title", "description")
        }
        schema["type"] = "array"
        schema["items"] = item
    return schema


def default_mapping(fields: dict[str, Field]) -> dict[str, Any]:
    """The mapping Segment fills in when a user adds the action (field defaults)."""
    return {key: f.default for key, f in fields.items() if f.default is not None}


# ------------------------------------------------------------ empty-value removal


def remove_empty_values(
    payload: dict[str, Any], schema: dict[str, Any], *, root: bool = True
) -> dict[str, Any]:
    """Drop ``null`` and ``''`` where the field's type does not allow them.

    Mirrors actions-core's ``removeEmptyValues``: at the root of a single event
    any ``''`` goes, so a required string mapped to ``''`` is reported missing.
    """
    cleaned = _clean(payload, schema, root)
    return cleaned if isinstance(cleaned, dict) else {}


def _clean(value: Any, schema: dict[str, Any] | None, root: bool = False) -> Any:
    if not schema or ("type" not in schema and "enum" not in schema):
        return value

    types = _types(schema)
    if isinstance(value, list) and "items" in schema:
        items = [_clean(v, schema["items"]) for v in value]
        return [v for v in items if v is not _MISSING]
    if isinstance(value, dict) and "properties" in schema:
        out = {}
        for key, item in value.items():
            if root and item == "" and isinstance(item, str):
                continue
            cleaned = _clean(item, schema["properties"].get(key))
            if cleaned is not _MISSING:
                out[key] = cleaned
        return out
    if value is None and "null" not in types:
        return _MISSING
    if value == "" and isinstance(value, str) and "string" not in types:
        return _MISSING
    return value


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return declared if isinstance(declared, list) else [declared]


# ------------------------------------------------------- validation with coercion


def validate_payload(payload: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Coerce and validate *payload* as AJV does with actions-core's options.

    Returns the coerced payload (undeclared keys removed) or raises
    :class:`SchemaValidationError` carrying every message, in schema order.
    """
    for key, prop in schema.get("properties", {}).items():
        if prop.get("type") == "array" and key in payload:
            if payload[key] is not None and not isinstance(payload[key], list):
                payload[key] = [payload[key]]

    errors: list[str] = []
    result = _validate(payload, schema, "", None, errors)
    if errors:
        raise SchemaValidationError(errors)
    return result


def _preamble(schema: dict[str, Any], pointer: str) -> str:
    if schema.get("title"):
        return schema["title"]
    if not pointer:
        return "The root value"
    return f"The value at {pointer}"


def _validate(
    value: Any,
    schema: dict[str, Any],
    pointer: str,
    parent: dict[str, Any] | None,
    errors: list[str],
) -> Any:
    """Check one value; return it coerced (AJV mutates in place, we rebuild)."""
    preamble = _preamble(schema, pointer)
    types = _types(schema)

    if types:
        coerced = _coerce(value, types)
        if coerced is _MISSING:
            expected = " or ".join(types)
            errors.append(
                f"{preamble} must be {_article(expected)} {expected} "
                f"but it was {_describe(value)}."
            )
            return value
        value = coerced

    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{preamble} must be one of: {_join_choices(schema['enum'])}.")

    if isinstance(value, str):
        _check_string(value, schema, preamble, errors)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, preamble, errors)
    elif isinstance(value, list) and "items" in schema:
        value = [
            _validate(item, schema["items"], f"{pointer}/{index}", schema, errors)
            for index, item in enumerate(value)
        ]
    elif isinstance(value, dict) and "properties" in schema:
        value = _validate_object(value, schema, pointer, preamble, errors)
    return value


def _validate_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    pointer: str,
    preamble: str,
    errors: list[str],
) -> dict[str, Any]:
    properties = schema["properties"]
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"{preamble} is missing the required field '{name}'.")

    out = {}
    for key, item in value.items():
        if key not in properties:
            if schema.get("additionalProperties", True) is False:
                continue
            out[key] = item
            continue
        out[key] = _validate(item, properties[key], f"{pointer}/{key}", schema, errors)
    return out


def _check_string(
    value: str, schema: dict[str, Any], preamble: str, errors: list[str]
) -> None:
    length = len(value)
    if "minLength" in schema and length < schema["minLength"]:
        errors.append(
            f"{preamble} must be {_chars(schema['minLength'])} or more "
            f"but it was {_chars(length)}."
        )
    if "maxLength" in schema and length > schema["maxLength"]:
        errors.append(
            f"{preamble} must be {_chars(schema['maxLength'])} or fewer "
            f"but it was {_chars(length)}."
        )
    fmt = schema.get("format")
    if fmt and not _format_ok(fmt, value):
        label = _FORMAT_LABELS.get(fmt, fmt)
        errors.append(f"{preamble} must be a valid {label} string but it was not.")


def _check_number(
    value: float, schema: dict[str, Any], preamble: str, errors: list[str]
) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(
            f"{preamble} must be equal to or greater than {_js(schema['minimum'])}."
        )
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(
            f"{preamble} must be equal to or less than {_js(schema['maximum'])}."
        )
    fmt = schema.get("format")
    if fmt == "date-like" and not _format_ok(fmt, value):
        errors.append(f"{preamble} must be a valid date-like string but it was not.")


def _coerce(value: Any, types: list[str]) -> Any:
    """AJV ``coerceTypes: 'array'``: keep a matching value, else try each type."""
    if any(_is_type(value, t) for t in types):
        return value
    if isinstance(value, list) and len(value) == 1 and "array" not in types:
        return _coerce(value[0], types)
    for target in types:
        coerced = _coerce_to(value, target)
        if coerced is not _MISSING:
            return coerced
    return _MISSING


def _is_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if json_type == "integer":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (isinstance(value, int) or value.is_integer())
        )
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "null":
        return value is None
    return False


def _coerce_to(value: Any, target: str) -> Any:
    if target == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _js(value)
        if value is None:
            return ""
    elif target in ("number", "integer"):
        number = _number(value)
        if number is _MISSING:
            return _MISSING
        if target == "integer" and not float(number).is_integer():
            return _MISSING
        return number
    elif target == "boolean":
        if value in ("true", 1) and not isinstance(value, bool):
            return True
        if value in ("false", 0) and not isinstance(value, bool):
            return False
        if value is None:
            return False
    elif target == "null":
        if value in ("", 0) and not isinstance(value, bool) or value is False:
            return None
    elif target == "array" and not isinstance(value, dict):
        return [value]
    return _MISSING


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return 0
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return _MISSING
        if math.isfinite(number):
            return int(number) if number.is_integer() and "." not in value else number
    return _MISSING


_FORMAT_LABELS = {
    "email": "email address",
    "uri": "URI",
    "date-time": "date and time",
    "date": "date",
    "time": "time",
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "regex": "regular expression",
}

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
_ISO_DATE = re.compile(
    r"^\d{4}(-\d{1,2}(-\d{1,2}([T ]\d{1,2}(:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?)?)?$",
    re.IGNORECASE,
)
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$"
)


def _format_ok(fmt: str, value: Any) -> bool:
    if fmt == "email":
        return bool(_EMAIL.match(value))
    if fmt == "uri":
        return bool(_URI.match(value))
    if fmt == "date-time":
        return bool(_DATE_TIME.match(value))
    if fmt == "date-like":
        return _date_like(value)
    return True


def _date_like(value: Any) -> bool:
    """dayjs's leniency: numbers and digit strings are epochs, ISO-ish dates
    and RFC 2822 dates parse.

    TODO(destination): dayjs also falls back to ``new Date(text)``, which accepts
    more free-form dates than this check does.
    """
    if isinstance(value, int | float):
        return True
    if value.isdigit() or _ISO_DATE.match(value):
        return True
    try:
        parsedate_to_datetime(value)
        return True
    except (TypeError, ValueError):
        pass
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


def _js(number: float) -> str:
    """JavaScript's ``String(number)`` for the values a payload holds."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    return str(number)


def _article(text: str) -> str:
    return "an" if text[:1].lower() in "aeiou" else "a"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if value is _MISSING:
        return "undefined"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _chars(count: int) -> str:
    return f"{_js(count)} character" + ("" if count == 1 else "s")


def _join_choices(values: list[Any]) -> str:
    import json

    rendered = [json.dumps(v) for v in values]
    if len(rendered) <= 2:
        return " or ".join(rendered)
    return ", ".join(rendered[:-1]) + ", or " + rendered[-1]


# ------------------------------------------------------------- actions, presets


@dataclass
class OutgoingRequest:
    """One HTTP request an action makes, as the preview prints it."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def body_bytes(self) -> bytes | None:
        """The body as Node's ``JSON.stringify`` writes it: compact, UTF-8.

        Segment's request client serialises with JavaScript, so numbers such as
        ``1e-7`` and non-ASCII text go on the wire the way it writes them.
        """
        if self.json is None:
            return None
        return jsvalues.stringify(self.json).encode()

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.json,
        }


# perform(payloads, settings) -> request; payloads has one element unless batched.
Perform = Callable[[list[dict[str, Any]], dict[str, Any]], OutgoingRequest]


@dataclass
class Action:
    slug: str
    title: str
    description: str
    fields: dict[str, Field]
    perform: Perform
    default_subscription: str
    supports_batch: bool = False

    @property
    def schema(self) -> dict[str, Any]:
        return fields_to_json_schema(self.fields)

    def default_mapping(self) -> dict[str, Any]:
        return default_mapping(self.fields)

    def payload(
        self, event: dict[str, Any], mapping_: dict[str, Any], *, batch: bool = False
    ) -> dict[str, Any]:
        """Resolve, clean and validate the payload of one event (Action.execute)."""
        from emulator.actions import mapping as mapping_kit

        try:
            resolved = mapping_kit.transform(mapping_, event)
        except mapping_kit.MappingError as error:
            raise MappingFailure(str(error)) from None

        if not isinstance(resolved, dict):
            resolved = {}
        schema = self.schema
        cleaned = remove_empty_values(resolved, schema, root=not batch)
        return validate_payload(cleaned, schema)


@dataclass
class Preset:
    name: str
    action: str
    subscribe: str
    mapping: dict[str, Any]


@dataclass
class Destination:
    """A destination definition (name, settings, actions, presets)."""

    name: str
    slug: str
    settings_fields: dict[str, Field]
    actions: dict[str, Action]
    presets: list[Preset] = field(default_factory=list)
    integration_names: tuple[str, ...] = ()
    extend_headers: Callable[[dict[str, Any]], dict[str, str]] | None = None
    test_authentication: Callable[[dict[str, Any]], OutgoingRequest] | None = None

    def validate_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Segment validates settings before any subscription is looked at."""
        schema = fields_to_json_schema(self.settings_fields)
        return validate_payload(dict(settings), schema)

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)

    def wanted_by(self, event: dict[str, Any]) -> tuple[bool, str]:
        """Honour the message's ``integrations`` object as Segment does.

        ``integrations[name]`` decides when present; otherwise ``All``
        (default true). An object value counts as enabled.
        """
        integrations = event.get("integrations")
        if not isinstance(integrations, dict):
            return True, ""

        for name in self.integration_names:
            if name in integrations:
                if integrations[name] is False:
                    return False, f"integrations[{name!r}] is false"
                return True, ""
        if integrations.get("All", True) is False:
            return False, "integrations.All is false and the destination is not named"
        return True, ""


def build_headers(destination: Destination, settings: dict[str, Any]) -> dict[str, str]:
    headers = {"user-agent": USER_AGENT, "content-type": "application/json"}
    if destination.extend_headers is not None:
        headers.update(destination.extend_headers(settings))
    return headers


def retryable_status(status: int) -> bool:
    """Segment's rule: 408, 423, 429 and every 5xx except 501 are retried."""
    return status in (408, 423, 429) or (500 <= status <= 599 and status != 501)
