"""Any JSON mapping and event give a payload or a MappingError, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.actions import fql, mapping

DIRECTIVES = sorted(mapping.DIRECTIVE_NAMES) + ["@nope"]
OPTION_KEYS = [
    "exists", "blank", "then", "else", "operator", "value", "pattern",
    "replacement", "pattern2", "global", "ignorecase", "mode", "separator",
    "omitArrays", "direction", "objects", "apply", "mapping", "_metadata",
]  # fmt: skip
PATHS = ["$.a", "$.b.c", "", ".", "$.list[0]", "a.length", "$.s", "{{a}}", "x$.a"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(PATHS + ["lower", "upper", "encode", "decode", "left", "right"]),
)


def _mappings(children: st.SearchStrategy) -> st.SearchStrategy:
    directive = st.builds(
        lambda name, value: {name: value}, st.sampled_from(DIRECTIVES), children
    )
    options = st.dictionaries(st.sampled_from(OPTION_KEYS), children, max_size=4)
    return st.one_of(
        directive,
        options,
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "0", "@x"]), children, max_size=3),
    )


mappings = st.recursive(scalars, _mappings, max_leaves=12)
events = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c", "s", "list"]), children),
    ),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mappings, st.dictionaries(st.sampled_from(["a", "b", "s", "list"]), events))
def test_transform_never_crashes(mapping_: object, event: dict) -> None:
    try:
        result = mapping.transform(mapping_, event)
    except mapping.MappingError as exc:
        assert exc.messages and all(isinstance(m, str) and m for m in exc.messages)
        return
    assert result is None or isinstance(result, dict | list | str | int | float)


FQL_PIECES = [
    "type", "event", "properties.a", "traits.b", "context.c", "userId", "name",
    "=", "!=", ">", "<=", "and", "or", "(", ")", "!", "contains", "match", ",",
    '"x"', "'y'", "5", "-2.5", "null", "true", "AND", "anonymousId", "[", "*",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(FQL_PIECES), max_size=12),
    st.sampled_from([" ", ""]),
    events,
)
def test_fql_never_crashes(pieces: list[str], joiner: str, event: object) -> None:
    text = joiner.join(pieces)
    try:
        result = fql.matches(text, event)
    except fql.FqlError as exc:
        assert exc.message
    else:
        assert isinstance(result, bool)
    assert isinstance(fql.lint(text), list)
    assert isinstance(str(fql.explain(text, event)), str)
