"""Segment's subscription language (FQL), with the real parser's quirks.

``parse`` gives the same tree ``@segment/destination-subscriptions`` builds;
``matches`` answers as its ``validate`` does.  ``explain`` says why, and
``lint`` points out expressions whose real behaviour surprises.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from emulator.actions.fql.evaluate import EvaluationError, evaluate
from emulator.actions.fql.lexer import LexerError, lex
from emulator.actions.fql.parser import (
    Condition,
    Group,
    ParseError,
    ParseNotes,
    parse_tokens,
)

__all__ = [
    "Condition",
    "Explanation",
    "FqlError",
    "Group",
    "explain",
    "lint",
    "matches",
    "parse",
]


class FqlError(ValueError):
    """A subscription the real service rejects, or cannot evaluate.

    ``str(error)`` and ``.message`` are the real service's text (the pipeline
    reports ``Invalid subscription : <message>``); ``.detail`` says in plain
    words what went wrong, which the real message often does not.
    """

    def __init__(self, message: str, *, text: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.detail = detail


def parse_with_notes(text: str) -> tuple[Group, ParseNotes]:
    """Parse and also return what the parser silently skipped."""
    if not isinstance(text, str):
        raise FqlError(
            "Failed to validate subscription",
            text=repr(text),
            detail=f"a subscription must be a string, got {type(text).__name__}",
        )

    notes = ParseNotes()
    try:
        tokens = lex(text)
    except LexerError as exc:
        # fql-ts swallows its own error and hands the parser no tokens.
        raise FqlError(
            "Cannot read properties of undefined (reading 'type')",
            text=text,
            detail=f"the lexer stops at offset {exc.pos}: {exc.message}",
        ) from None

    try:
        group = parse_tokens(tokens, notes)
    except ParseError as exc:
        raise FqlError(exc.message, text=text, detail=exc.detail or "") from None
    return dataclasses.replace(group, source=text), notes


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Group:
    return parse_with_notes(text)[0]


def parse(text: str) -> Group:
    """The subscription's tree; ``FqlError`` where ``parseFql`` returns an error."""
    if not isinstance(text, str):
        return parse_with_notes(text)[0]
    try:
        return _parse_cached(text)
    except FqlError as exc:
        raise FqlError(exc.message, text=exc.text, detail=exc.detail) from None


def matches(text_or_parsed: str | Group, event: Any) -> bool:
    """Whether the real service would send ``event`` to this subscription.

    Raises ``FqlError`` for a subscription that does not parse (the real
    pipeline reports it instead of matching), and for the few trees whose
    evaluation throws in JavaScript (an empty ``()`` group that is reached).
    """
    group = parse(text_or_parsed) if isinstance(text_or_parsed, str) else text_or_parsed
    try:
        return evaluate(group, event)
    except EvaluationError as exc:
        raise FqlError(
            str(exc),
            text=group.source,
            detail="the real evaluator throws a TypeError on this subscription",
        ) from None


from emulator.actions.fql.explain import Explanation, explain, lint  # noqa: E402
