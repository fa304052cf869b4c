"""explain() says why an event matched; lint() warns about surprising quirks."""

from __future__ import annotations

import pytest

from emulator.actions import fql

ORDER = {
    "type": "track",
    "event": "Order Completed",
    "properties": {"total": "70", "coupon": None},
}


def test_explain_shows_each_clause_and_the_values_read() -> None:
    explanation = fql.explain(
        'type = "track" and (event = "Cart Viewed" or properties.total > 50)', ORDER
    )

    assert explanation.matched is False
    text = str(explanation)
    assert text.splitlines()[0] == "matched: no"
    assert '[yes] type = "track": type is the string "track"' in text
    assert 'event is the string "Order Completed"' in text
    assert 'properties.total is the string "70"; needs a number > 50' in text


def test_explain_agrees_with_matches() -> None:
    text = 'event = "Order Completed" and properties.coupon = null'

    explanation = fql.explain(text, ORDER)

    assert explanation.matched is fql.matches(text, ORDER) is True
    assert "properties.coupon is null; needs no value or null" in str(explanation)


def test_explain_reports_skipped_clauses_of_a_short_circuit() -> None:
    explanation = fql.explain('type = "page" and event = "x" and userId = "u"', ORDER)

    assert "... 2 more not evaluated" in str(explanation)


def test_explain_names_what_the_parser_ignored() -> None:
    explanation = fql.explain('type = "track" and anonymousId = "a1"', ORDER)

    assert explanation.matched is True
    assert 'ignored by the real parser: anonymousId = "a1"' in str(explanation)


def test_explain_of_an_unparsable_subscription_does_not_raise() -> None:
    explanation = fql.explain("properties.items[0] = 1", ORDER)

    assert explanation.matched is False
    assert explanation.error == "Cannot read properties of undefined (reading 'type')"
    assert "Invalid subscription : Cannot read" in str(explanation)
    assert "expected termination character after identifier" in str(explanation)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('type = "track" or event = "A" and event = "B"', "joined with the last one"),
        ("type = 'track'", "keeps its quotes"),
        ("properties.total >=5", "put a space between"),
        ('type == "track"', "use '='"),
        ('type = "track" AND event = "A"', "'AND' is not a keyword"),
        ('!(type = "track")', "only negates contains() or match()"),
        ('match(event, "Order")', "has no '*'"),
        ('match(event, "*Order*")', "only the trailing one is a wildcard"),
        ("event != null", "does not test presence"),
        ("event = 42", "a JSON number in the event never matches"),
        ("properties.ok != true", "a boolean true counts as different"),
        ('type = "track" and contains(type, "x")', "is dropped"),
        ('type = "track" and anonymousId = "x"', "silently ignores: anonymousId"),
        ("type = ", "compares with the text 'eos'"),
        ('(type = "a" and (event = "b"))', "nested parentheses"),
        ('(contains(event, "a") and type = "b")', "closes the group"),
        ("properties.a[0] = 1", "the real lexer rejects"),
        ("tpye", "the real parser rejects"),
    ],
)
def test_lint_warns_about_real_quirks(text: str, fragment: str) -> None:
    warnings = fql.lint(text)

    assert any(fragment in warning for warning in warnings), warnings


@pytest.mark.parametrize(
    "text",
    [
        'type = "track" and event = "Order Completed"',
        'type = "track" and (event = "A" or event = "B")',
        "properties.total >= 50 and properties.coupon != null",
        'match(traits.email, "*@acme.io")',
        '!contains(event, "Test")',
    ],
)
def test_lint_is_quiet_on_ordinary_subscriptions(text: str) -> None:
    assert fql.lint(text) == []
