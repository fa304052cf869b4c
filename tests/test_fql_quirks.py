"""The real subscription parser's quirks, reproduced on purpose."""

from __future__ import annotations

import pytest

from emulator.actions import fql
from emulator.actions.fql.lexer import LexerError, lex

TRACK = {
    "type": "track",
    "event": "Shoe Viewed",
    "userId": "u1",
    "properties": {"first name": "Ada", "s": "abc", "zero": 0, "n": 5, "t": True},
    "traits": {"plan": "pro"},
    "context": {"traits": {"plan": "free"}},
}


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        # no precedence: the last conjunction of a level joins everything
        ('type = "page" and event = "x" or userId = "u1"', True),
        ('type = "track" or event = "x" and userId = "u1"', False),
        # upper-case keywords and unknown fields are skipped silently
        ('type = "track" AND event = "nope"', False),
        ('type = "track" and anonymousId = "nope"', True),
        # "!" negates only a function
        ('!(type = "track")', True),
        ('!contains(event, "Shoe")', False),
        ('!match(event, "Boot*")', True),
        # match: a trailing "*" means starts-with, otherwise ends-with minus 1 char
        ('match(event, "Shoe*")', True),
        ('match(event, "*Viewed")', True),
        ('match(event, "XViewed")', True),
        # strict types: quoted values are strings, numbers are numbers
        ("properties.n = 5", True),
        ('properties.n = "5"', False),
        ("properties.n != 5", False),
        ("properties.n >= 5", True),
        ('properties.n < "6"', True),
        ("properties.t = true", True),
        ("properties.t != true", True),
        # a falsy value part-way is returned; strings answer length
        ("properties.zero.deep = 0", True),
        ("properties.s.length = 3", True),
        # escapes in identifiers, hyphens in paths
        ('properties.first\\ name = "Ada"', True),
        # presence checks: null literal, but not for type/event
        ("userId != null", True),
        ("properties.missing = null", True),
        ("event != null", True),
        ("event = null", False),
        # traits are the top-level traits, never context.traits
        ('traits.plan = "pro"', True),
        # unsupported function fields are dropped
        ('type = "track" and contains(type, "zz")', True),
        # a contains() inside a group ends the group at its own ")"
        ('(type = "page" and contains(event, "Shoe") or userId = "u1")', True),
        # a missing value compares with the text "eos"
        ("type = ", False),
        # JS object keys: toString is "known", consumes its operator and value
        ('toString = "x" type = "track"', True),
    ],
)
def test_matches_like_the_real_parser(text: str, matched: bool) -> None:
    assert fql.matches(text, TRACK) is matched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Cannot read properties of undefined (reading 'type')"),
        ("tpye", "Cannot read properties of undefined (reading 'type')"),
        ('anonymousId = "x"', "Cannot read properties of undefined (reading 'type')"),
        ("event", "Value token is missing"),
        ('((type = "track"))', "Cannot read properties of undefined (reading 'type')"),
        ('(type = "track"', "Cannot read properties of undefined (reading 'type')"),
        ("x!=null", "Cannot read properties of undefined (reading 'type')"),
        (
            '! contains(event, "a")',
            "Cannot read properties of undefined (reading 'type')",
        ),
        ('type = "track" *', "Cannot read properties of undefined (reading 'type')"),
        ('type = "tr', "Cannot read properties of undefined (reading 'type')"),
        ("contains(", "contains() is missing a 2nd argument"),
        ("match", "match() is missing a 1st argument"),
    ],
)
def test_parse_errors_carry_the_real_message(text: str, message: str) -> None:
    with pytest.raises(fql.FqlError) as raised:
        fql.parse(text)

    assert raised.value.message == message
    assert str(raised.value) == message


def test_lexer_failures_say_why_in_detail() -> None:
    with pytest.raises(fql.FqlError) as raised:
        fql.parse('type = "track" * 2')

    assert 'invalid character "*"' in raised.value.detail
    assert "offset 15" in raised.value.detail


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("a and b", [("ident", "a"), ("conditional", "and"), ("ident", "b")]),
        ("android", [("ident", "android")]),
        (
            "x >=5",
            [("ident", "x"), ("operator", ">"), ("operator", "="), ("number", "5")],
        ),
        ("x >= 5", [("ident", "x"), ("operator", ">="), ("number", "5")]),
        (
            "x==1",
            [("ident", "x"), ("operator", "="), ("operator", "="), ("number", "1")],
        ),
        ("'a\\'", [("string", "'a\\'")]),
        ("-1.5", [("number", "-1.5")]),
        ("null", [("null", "null")]),
        ("Null", [("ident", "Null")]),
        ("an", [("ident", "a")]),  # fql-ts loses the 'n' at the end of input
        ("!match", [("operator", "!"), ("ident", "match")]),
    ],
)
def test_lexer_tokens(text: str, tokens: list[tuple[str, str]]) -> None:
    lexed = [(t.type, t.value) for t in lex(text)]

    assert lexed == [*tokens, ("eos", "eos")]


@pytest.mark.parametrize("text", ["a<5", "1.2.3", "3. ", "x !=null", "a\rb", "'open"])
def test_lexer_rejects(text: str) -> None:
    with pytest.raises(LexerError):
        lex(text)


def test_an_empty_group_throws_only_when_reached() -> None:
    text = 'type = "track" and ()'

    assert fql.matches(text, {"type": "page"}) is False
    with pytest.raises(fql.FqlError, match="reading 'type'"):
        fql.matches(text, TRACK)


def test_parsed_tree_has_the_real_shape() -> None:
    tree = fql.parse('type = "track" and properties.n >= 5')

    assert tree.operator == "and"
    assert [(c.type, c.operator, c.value, c.name) for c in tree.children] == [
        ("event-type", "=", "track", None),
        ("event-property", ">=", 5.0, "n"),
    ]


def test_a_lone_condition_is_wrapped_in_an_and_group() -> None:
    tree = fql.parse("userId = true")

    assert tree.operator == "and"
    assert [(c.type, c.operator) for c in tree.children] == [("userId", "is_true")]


def test_non_object_events_read_as_missing() -> None:
    assert fql.matches("userId = null", "a string") is True
    assert fql.matches('type = "track"', []) is False
