"""The destination kit: field schemas, empty-value removal, coercion and
Segment's (ajv-human-errors) validation messages."""

from __future__ import annotations

import pytest

from emulator.actions.destination import (
    Field,
    SchemaValidationError,
    fields_to_json_schema,
    remove_empty_values,
    retryable_status,
    validate_payload,
)
from emulator.actions.livelike_cloud import LIVELIKE_CLOUD, TRACK_EVENT

FIELDS = {
    "email": Field("Email Address", format="email"),
    "count": Field("Item Count", type="integer"),
    "price": Field("Price", type="number", maximum=100),
    "region": Field("Region", choices=("us", "eu", "apac")),
    "opt_in": Field("Opt In", type="boolean"),
    "nickname": Field("Nickname", minimum=3),
    "address": Field(
        "Address", type="object", properties={"city": Field("City", required=True)}
    ),
    "when": Field("When", type="datetime"),
    "blob": Field("Blob", type="object"),
    "tags": Field("Tags", multiple=True),
}


def check(payload: dict, fields: dict = FIELDS, root: bool = True) -> dict:
    schema = fields_to_json_schema(fields)
    return validate_payload(remove_empty_values(payload, schema, root=root), schema)


def test_every_message_in_field_order_joined_by_one_space():
    with pytest.raises(SchemaValidationError) as caught:
        check(
            {
                "email": "nope",
                "count": "4.5",
                "price": 101,
                "region": "mars",
                "opt_in": "yes",
                "nickname": "ab",
                "address": {},
                "when": "yesterday",
                "blob": "text",
            }
        )

    assert str(caught.value) == (
        "Email Address must be a valid email address string but it was not. "
        "Item Count must be an integer but it was a string. "
        "Price must be equal to or less than 100. "
        'Region must be one of: "us", "eu", or "apac". '
        "Opt In must be a boolean but it was a string. "
        "Nickname must be 3 characters or more but it was 2 characters. "
        "Address is missing the required field 'city'. "
        "When must be a valid date-like string but it was not. "
        "Blob must be an object but it was a string."
    )
    assert caught.value.status == 400
    assert caught.value.code == "PAYLOAD_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (Field("S"), 12, "12"),
        (Field("S"), 2.0, "2"),
        (Field("S"), True, "true"),
        (Field("S"), ["solo"], "solo"),
        (Field("N", type="number"), "3.5", 3.5),
        (Field("N", type="number"), True, 1),
        (Field("I", type="integer"), "7", 7),
        (Field("B", type="boolean"), "false", False),
        (Field("B", type="boolean"), 1, True),
        (Field("T", multiple=True), "5", ["5"]),
        (Field("T", type="number", multiple=True), ["5", 6], [5, 6]),
        (Field("D", type="datetime"), "1700000000", "1700000000"),
        (Field("D", type="datetime"), "2024-02-30T10:00:00Z", "2024-02-30T10:00:00Z"),
    ],
)
def test_coercion_as_ajv_coerce_types_array(field, value, expected):
    assert check({"x": value}, {"x": field}) == {"x": expected}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (Field("S"), ["a", "b"], "S must be a string but it was an array."),
        (Field("O", type="object"), [], "O must be an object but it was an array."),
        (Field("I", type="integer"), 7.5, "I must be an integer but it was a number."),
        (Field("N", type="number"), "x1", "N must be a number but it was a string."),
        (
            Field("D", type="datetime"),
            {},
            "D must be a string or number but it was an object.",
        ),
    ],
)
def test_values_that_do_not_coerce(field, value, message):
    with pytest.raises(SchemaValidationError, match="^" + message.replace(".", r"\.")):
        check({"x": value}, {"x": field})


def test_undeclared_keys_are_removed_silently():
    assert check({"nickname": "abc", "surprise": 1}) == {"nickname": "abc"}


def test_root_empty_string_and_null_count_as_missing():
    fields = {"name": Field("Name", required=True), "n": Field("N", type="number")}

    with pytest.raises(SchemaValidationError) as caught:
        check({"name": "", "n": None}, fields)

    assert str(caught.value) == "The root value is missing the required field 'name'."


def test_batches_keep_a_root_empty_string():
    fields = {"name": Field("Name", required=True)}

    assert check({"name": ""}, fields, root=False) == {"name": ""}


def test_nulls_vanish_from_arrays_but_empty_strings_stay():
    assert check({"tags": ["a", None, ""]}) == {"tags": ["a", ""]}


def test_track_event_missing_event_name_reads_as_segment_says():
    with pytest.raises(SchemaValidationError) as caught:
        check(
            {"event_type": "track", "timestamp": "2026-01-01T00:00:00Z"},
            TRACK_EVENT.fields,
        )

    assert str(caught.value) == (
        "The root value is missing the required field 'event_name'."
    )


def test_settings_missing_both_credentials():
    with pytest.raises(SchemaValidationError) as caught:
        LIVELIKE_CLOUD.validate_settings({})

    assert str(caught.value) == (
        "The root value is missing the required field 'clientId'. "
        "The root value is missing the required field 'producerToken'."
    )


def test_settings_keep_the_emulator_base_url():
    settings = {"clientId": "c", "producerToken": "t", "baseUrl": "http://x/api/v1"}

    assert LIVELIKE_CLOUD.validate_settings(settings) == settings


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (400, False),
        (401, False),
        (404, False),
        (408, True),
        (410, False),
        (423, True),
        (429, True),
        (500, True),
        (501, False),
        (502, True),
        (503, True),
        (599, True),
    ],
)
def test_which_statuses_segment_retries(status, retried):
    assert retryable_status(status) is retried
