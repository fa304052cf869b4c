"""Directive behaviours of the real mapping kit beyond the shared vectors."""

from __future__ import annotations

import pytest

from emulator.actions import mapping

EVENT = {
    "n": 0,
    "word": "hello",
    "s": None,
    "empty": "",
    "flag": False,
    "price": 2.5,
    "big": 1e21,
    "tiny": 1e-7,
    "list": [1, None, "x"],
    "obj": {"k": "v"},
    "ptr": "word",
    "accent": "Grüße",
    "items": [{"sku": "a"}, "plain"],
}


@pytest.mark.parametrize(
    ("mapping_", "expected"),
    [
        # @path: falsy intermediate values come back as they are
        ({"v": {"@path": "$.n.deep"}}, {"v": 0}),
        ({"v": {"@path": "$.s.deep"}}, {"v": None}),
        ({"v": {"@path": "$.empty.deep"}}, {"v": ""}),
        ({"v": {"@path": "$.flag.deep"}}, {"v": False}),
        ({"v": {"@path": "$.word.0"}}, {"v": "h"}),
        ({"v": {"@path": "$.list.length"}}, {"v": 3}),
        ({"v": {"@path": "$.list[2]"}}, {"v": "x"}),
        ({"v": {"@path": '["obj"].k'}}, {"v": "v"}),
        ({"v": {"@path": '$["obj"].k'}}, {}),
        ({"v": {"@path": "pri$.ce"}}, {"v": 2.5}),
        ({"v": {"@path": {"@path": "$.ptr"}}}, {"v": "hello"}),
        # @template: JS string coercion, no escaping, odd braces kept
        ({"v": {"@template": "{{list}}"}}, {"v": "1,,x"}),
        ({"v": {"@template": "{{obj}}"}}, {"v": "[object Object]"}),
        ({"v": {"@template": "{{big}}|{{tiny}}"}}, {"v": "1e+21|1e-7"}),
        ({"v": {"@template": "{{word}}}"}}, {"v": "hello}"}),
        ({"v": {"@template": "{{}}"}}, {"v": "{{}}"}),
        ({"v": {"@template": "{{ }}"}}, {"v": "[object Object]"}),
        ({"v": {"@template": "{{{ word }}}!"}}, {"v": "hello!"}),
        ({"v": {"@template": "{{$.word}}"}}, {"v": ""}),
        # @if: truthiness of raw options, JS loose equality for blank
        ({"v": {"@if": {"blank": {"@path": "$.n"}, "then": 1, "else": 2}}}, {"v": 2}),
        ({"v": {"@if": {"blank": "0", "then": 1, "else": 2}}}, {"v": 1}),
        ({"v": {"@if": {"blank": {"@literal": [0]}, "then": 1, "else": 2}}}, {"v": 1}),
        ({"v": {"@if": {"blank": {"@literal": [""]}, "then": 1}}}, {}),
        ({"v": {"@if": {"exists": {"@path": "$.n"}, "then": 1}}}, {"v": 1}),
        ({"v": {"@if": {"exists": {"@path": "$.no"}, "else": 0}}}, {}),
        (
            {"v": {"@if": {"exists": {"@path": "$.no"}, "else": {"@literal": 0}}}},
            {"v": 0},
        ),
        ({"v": {"@if": {"exists": {"@path": "$.n"}, "then": False}}}, {"v": False}),
        # @case: non-strings pass through, full Unicode case mapping
        (
            {"v": {"@case": {"operator": "upper", "value": {"@path": "$.accent"}}}},
            {"v": "GRÜSSE"},
        ),
        ({"v": {"@case": {"operator": "upper", "value": ""}}}, {}),
        # @replace: JS replacement patterns and flags
        (
            {"v": {"@replace": {"pattern": "l", "replacement": "$'", "value": "al b"}}},
            {"v": "a b b"},
        ),
        (
            {"v": {"@replace": {"pattern": "b", "replacement": "$`", "value": "ab"}}},
            {"v": "aa"},
        ),
        (
            {"v": {"@replace": {"pattern": "b", "replacement": "$$1", "value": "ab"}}},
            {"v": "a$1"},
        ),
        (
            {"v": {"@replace": {"pattern": "b", "replacement": "$1", "value": "ab"}}},
            {"v": "a$1"},
        ),
        (
            {"v": {"@replace": {"pattern": "A", "value": "aAa", "ignorecase": True}}},
            {"v": ""},
        ),
        (
            {"v": {"@replace": {"pattern": "a", "value": "aaa", "global": False}}},
            {"v": "aa"},
        ),
        ({"v": {"@replace": {"pattern": ".", "value": "a.b.c"}}}, {"v": "abc"}),
        ({"v": {"@replace": {"pattern": "x", "value": {"@path": "$.s"}}}}, {"v": ""}),
        ({"v": {"@replace": {"pattern": "x", "value": {"@path": "$.no"}}}}, {"v": ""}),
        (
            {"v": {"@replace": {"pattern": "e", "value": {"@literal": True}}}},
            {"v": "tru"},
        ),
        # @arrayPath: items are the payload of the shape
        (
            {
                "v": {
                    "@arrayPath": [
                        "$.items",
                        {"sku": {"@path": "$.sku"}, "me": {"@path": ""}},
                    ]
                }
            },
            {"v": [{"sku": "a", "me": {"sku": "a"}}, {"me": "plain"}]},
        ),
        ({"v": {"@arrayPath": ["$.s", {"a": 1}]}}, {"v": None}),
        ({"v": {"@arrayPath": ["$.list", {}]}}, {"v": [1, None, "x"]}),
        ({"v": {"@arrayPath": ["$.obj", {"x": {"@path": "$.zz"}}]}}, {"v": [{}]}),
        # @json
        (
            {
                "v": {
                    "@json": {
                        "mode": "encode",
                        "value": {"@literal": {"a": 1.0, "é": "ü"}},
                    }
                }
            },
            {"v": '{"a":1,"é":"ü"}'},
        ),
        (
            {"v": {"@json": {"mode": "encode", "value": {"@path": "$.s"}}}},
            {"v": "null"},
        ),
        (
            {
                "v": {
                    "@json": {"mode": "encode", "value": {"@literal": {"b": 1, "2": 0}}}
                }
            },
            {"v": '{"2":0,"b":1}'},
        ),
        ({"v": {"@json": {"mode": "ENCODE", "value": "x"}}}, {}),
        ({"v": {"@json": {"mode": "decode", "value": "{bad"}}}, {"v": "{bad"}),
        ({"v": {"@json": {"mode": "decode", "value": "12.5"}}}, {"v": 12.5}),
        ({"v": {"@json": {"mode": "decode", "value": "NaN"}}}, {"v": "NaN"}),
        # @flatten
        (
            {"v": {"@flatten": {"separator": ".", "value": {"@path": "$.no"}}}},
            {"v": {}},
        ),
        (
            {
                "v": {
                    "@flatten": {
                        "separator": "/",
                        "value": {"@literal": {"a": {"b": [1, {"c": 2}]}}},
                    }
                }
            },
            {"v": {"a/b/0": 1, "a/b/1/c": 2}},
        ),
        # @merge: Object.assign semantics
        (
            {
                "v": {
                    "@merge": {
                        "direction": "right",
                        "objects": [{"a": 1}, {"@path": "$.word"}],
                    }
                }
            },
            {"v": {"a": 1, "0": "h", "1": "e", "2": "l", "3": "l", "4": "o"}},
        ),
        (
            {"v": {"@merge": {"direction": "LEFT", "objects": [{"a": 1}, {"a": 2}]}}},
            {"v": {"a": 2}},
        ),
        ({"v": {"@merge": {"direction": "right", "objects": []}}}, {"v": {}}),
        # @excludeWhenNull: objects recursively, arrays untouched
        (
            {
                "v": {
                    "@excludeWhenNull": {
                        "@literal": {"a": None, "b": {"c": None}, "d": [None]}
                    }
                }
            },
            {"v": {"b": {}, "d": [None]}},
        ),
        ({"v": {"@excludeWhenNull": {"@template": "{{s}}"}}}, {"v": ""}),
        # @literal resolves nested directives but never renders strings
        (
            {"v": {"@literal": {"a": {"@path": "$.word"}, "t": "{{word}}"}}},
            {"v": {"a": "hello", "t": "{{word}}"}},
        ),
        # root directive key: other keys become the @transform's mapping
        (
            {
                "__segment_internal_directive": {
                    "@transform": {"apply": {"w": {"@path": "$.word"}}}
                },
                "out": {"@path": "$.w"},
            },
            {"out": "hello"},
        ),
        # raw containers are walked, undefined array items become null
        ({"v": [{"@path": "$.word"}, {"@path": "$.no"}]}, {"v": ["hello", None]}),
    ],
)
def test_transform(mapping_: dict, expected: object) -> None:
    assert mapping.transform(mapping_, EVENT) == expected


@pytest.mark.parametrize(
    ("mapping_", "message"),
    [
        ({"@path": {"@path": "$.missing"}}, "@path: expected string, got undefined"),
        ({"list": [{"@zzz": 1}]}, "@zzz is not a valid directive, got undefined"),
        ({"list": [{"@path": 5}]}, "@path: expected string, got number"),
        ({"@type": "Person"}, "/ has an invalid directive: @type."),
        (
            {"a": {"@path": "$.x", "other": 1}},
            "/a should only have one @-prefixed key but it has 2 keys.",
        ),
        (
            {"a": {"@path": "$.x", "@template": "y"}},
            "/a should only have one @-prefixed key but it has 2 keys.",
        ),
        (
            {"@merge": {"direction": "right", "objects": [1]}},
            "/ should be a object or a mapping directive but it is a number.",
        ),
        (
            {"@merge": {"direction": "up", "objects": []}},
            '/@merge/direction should be one of left, right but it is "up".',
        ),
        (
            {"@transform": {"@path": "x"}},
            "/@transform should be an object but it is a directive.",
        ),
        (
            {"@case": {"operator": "upper", "value": 7}},
            "/@case/value should be a string or a mapping directive "
            "but it is a number.",
        ),
        (
            {"@replace": {"pattern": "a", "value": "b", "global": "yes"}},
            "/@replace/global should be a boolean but it is a string.",
        ),
        (
            {"@replace": {"pattern": "a", "value": "b", "pattern2": "abcdefghijkl"}},
            '@replace requires a "pattern" less than 10 characters',
        ),
        (
            {"@json": {"mode": "zip", "value": 1}},
            '/@json/mode should be one of encode, decode but it is "zip".',
        ),
        (
            {"@flatten": {"separator": {"@path": "$.x"}, "value": 1}},
            "/@flatten/separator should be a string but it is a directive.",
        ),
        ({"@arrayPath": "x"}, "/@arrayPath should be an array but it is a string."),
        (
            {"x": {"@arrayPath": ["$.a", {"k": {"@nope": 1}}]}},
            "/x/@arrayPath/k has an invalid directive: @nope.",
        ),
        (
            {"@if": {"exists": 1, "then": {"@nah": 1}}},
            "/@if/then has an invalid directive: @nah.",
        ),
        ({"@liquid": 5}, "/@liquid should be a string but it is a number."),
        ({"@liquid": "{% for x in y %}{% endfor %}"}, 'tag "for" is disabled'),
        ({"@liquid": "{{ 'a' | reverse }}"}, 'filter "reverse" is disabled'),
        (
            {"@liquid": "x" * 1001},
            "liquid template values are limited to 1000 characters",
        ),
        ({"@case": {"value": "x"}}, '@case requires a "operator" key'),
        (
            {"@transform": {"apply": {"a": 1}, "mapping": {}}, "z": 1},
            "/ should only have one @-prefixed key but it has 2 keys.",
        ),
        (
            {"__segment_internal_directive": {"@transform": {}}},
            '/@transform should have field "apply" but it doesn\'t.',
        ),
        (
            {"__segment_internal_directive": {"@transform": {"apply": {}}, "@x": 1}},
            "The root mapping must only have a single directive object",
        ),
        ({"@transform": {"apply": {"@path": "$.word"}, "mapping": {"a": 1}}}, None),
        ({"__segment_internal_directive": {}}, "The root directive must be an object"),
    ],
)
def test_transform_error(mapping_: dict, message: str | None) -> None:
    if message is None:
        # valid, and a directive "apply" is accepted as an object
        assert mapping.transform(mapping_, EVENT) == {"a": 1}
        return
    with pytest.raises(mapping.MappingError) as raised:
        mapping.transform(mapping_, EVENT)
    assert any(message in text for text in raised.value.messages), raised.value


def test_validation_collects_every_problem_of_an_object() -> None:
    bad = {"a": {"@path": 1}, "b": {"c": {"@oops": 2}}, "d": {"@template": True}}

    with pytest.raises(mapping.MappingError) as raised:
        mapping.validate(bad)

    assert raised.value.name == "AggregateError"
    assert raised.value.messages == [
        "/a/@path should be a string or a mapping directive but it is a number.",
        "/b/c has an invalid directive: @oops.",
        "/d/@template should be a string or a mapping directive but it is a boolean.",
    ]


def test_a_single_root_problem_is_a_validation_error() -> None:
    with pytest.raises(mapping.MappingError) as raised:
        mapping.validate({"@nope": 1})

    assert raised.value.name == "ValidationError"
    assert str(raised.value) == "/ has an invalid directive: @nope."


@pytest.mark.parametrize(
    ("data", "kind"),
    [(None, "null"), ("x", "string"), (True, "boolean"), ([], "array")],
)
def test_data_must_be_an_object(data: object, kind: str) -> None:
    with pytest.raises(
        mapping.MappingError, match=f"data must be an object, got {kind}"
    ):
        mapping.transform({"a": 1}, data)


def test_liquid_renders_like_liquidjs() -> None:
    rendered = mapping.transform(
        {
            "a": {"@liquid": "{{ properties.n | divided_by: 2 }}"},
            "b": {"@liquid": "{{ properties.f }}-{{ properties.missing }}"},
            "c": {"@liquid": ""},
        },
        {"properties": {"n": 7, "f": 3.0}},
    )

    assert rendered == {"a": "3.5", "b": "3-", "c": ""}


def test_transform_batch_validates_once_and_resolves_each() -> None:
    payloads = mapping.transform_batch(
        {"e": {"@path": "$.event"}}, [{"event": "A"}, {}, {"event": "C"}]
    )

    assert payloads == [{"e": "A"}, {}, {"e": "C"}]
    with pytest.raises(mapping.MappingError, match="data must be an array, got object"):
        mapping.transform_batch({}, {})


def test_root_path_to_nothing_is_none() -> None:
    assert mapping.transform({"@path": "$.ghost"}, {}) is None


def test_output_keys_follow_javascript_order() -> None:
    result = mapping.transform({"b": 1, "10": 2, "a": 3, "2": 4}, {})

    assert list(result) == ["2", "10", "b", "a"]


def test_transform_does_not_change_the_mapping() -> None:
    mapping_ = {
        "__segment_internal_directive": {"@transform": {"apply": {"x": 1}}},
        "y": {"@path": "$.x"},
    }
    before = repr(mapping_)

    assert mapping.transform(mapping_, {}) == {"y": 1}
    assert repr(mapping_) == before


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{% case x %}{% when 1 %}a{% endcase %}", 'tag "case" is disabled'),
        ("{% tablerow x in l %}{% endtablerow %}", 'tag "tablerow" is disabled'),
        ('{% include "x" %}', 'tag "include" is disabled'),
        ('{{ l | map: "a" }}', 'filter "map" is disabled'),
        ("{{ l | uniq }}", 'filter "uniq" is disabled'),
        ("{{ x | type }}", 'filter "type" is disabled'),
    ],
)
def test_liquid_disabled_tags_and_filters(template: str, message: str) -> None:
    with pytest.raises(mapping.MappingError, match=message):
        mapping.transform({"a": {"@liquid": template}}, {"l": [1], "x": 1})


def test_liquid_prints_values_the_javascript_way() -> None:
    rendered = mapping.transform(
        {"a": {"@liquid": "{{ self }}|{{ o }}|{{ b }}|{{ x | no_such_filter }}"}},
        {"self": 1, "o": {"k": 1}, "b": True, "x": "X"},
    )

    assert rendered == {"a": "1|[object Object]|true|X"}


def test_integral_numbers_come_out_as_javascript_sends_them() -> None:
    result = mapping.transform(
        {"n": {"@path": "$.n"}, "f": {"@path": "$.f"}}, EVENT_NUMBERS
    )

    assert result == {"n": [1, 2, 2.5], "f": 0}
    assert [type(x) for x in result["n"]] == [int, int, float]
    assert type(result["f"]) is int


EVENT_NUMBERS = {"n": [1, 2.0, 2.5], "f": -0.0}
