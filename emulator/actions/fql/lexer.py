"""The subscription language's lexer, character for character as ``@segment/fql-ts``.

Its odd corners are kept on purpose: the look-ahead ``accept`` that needs a
terminator after ``and``/``or``/``null``/``<=``/``!=``, the end-of-input flag
that is the two-character string ``"-1"``, strings without escapes, and
identifiers with ``\\`` escapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EOS_FLAG = "-1"

IDENT = "ident"
DOT = "dot"
OPERATOR = "operator"
CONDITIONAL = "conditional"
STRING = "string"
NUMBER = "number"
NULL = "null"
BRACK_LEFT = "brackleft"
BRACK_RIGHT = "brackright"
PAREN_LEFT = "parenleft"
PAREN_RIGHT = "parenright"
COMMA = "comma"
EOS = "eos"

_ALPHA = re.compile(r"[a-z]", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    type: str
    value: str
    pos: int = -1


class LexerError(Exception):
    """Raised where fql-ts gives up; the parser then sees no tokens at all."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _is_whitespace(c: str) -> bool:
    return c in (" ", "\t", "\n")


def _is_alpha(c: str) -> bool:
    return len(c) == 1 and _ALPHA.match(c) is not None


def _is_number(c: str) -> bool:
    return len(c) == 1 and c in "0123456789"


def _is_ident(c: str) -> bool:
    return _is_alpha(c) or _is_number(c) or c in ("_", "-", "\\")


def _is_terminator(c: str) -> bool:
    return c == EOS_FLAG or _is_whitespace(c) or c in (",", "]", ")")


class _Lexer:
    def __init__(self, code: str) -> None:
        self.code = code
        self.pos = 0

    def lex(self) -> list[Token]:
        tokens: list[Token] = []

        while True:
            start = self.pos
            char, is_eos = self._next()
            if is_eos:
                tokens.append(Token(EOS, "eos", start))
                return tokens

            if _is_whitespace(char):
                continue

            if char == "!" and (_is_alpha(self._peek()) or self._peek() == "("):
                tokens.append(Token(OPERATOR, "!", start))
                continue

            if _is_alpha(char) or char in ("!", "=", ">", "<", "\\", "_"):
                tokens.append(self._operator_or_conditional(char, start))
                continue

            if _is_number(char) or char in ("-", "+"):
                tokens.append(self._number(char, start))
                continue

            if char in ('"', "'"):
                tokens.append(self._string(char, start))
                continue

            simple = {
                ".": DOT,
                "[": BRACK_LEFT,
                "]": BRACK_RIGHT,
                ",": COMMA,
                "(": PAREN_LEFT,
                ")": PAREN_RIGHT,
            }.get(char)
            if simple:
                tokens.append(Token(simple, char, start))
                continue

            raise LexerError(f'invalid character "{char}"', start)

    def _string(self, quote: str, start: int) -> Token:
        text = ""
        while self._peek() != quote:
            char, is_eos = self._next()
            text += char
            if is_eos:
                raise LexerError("unterminated string", start)

        # fql-ts "eats" the closing quote with accept(), which backs off again
        # when no terminator follows; the quote is then read as a new string.
        self._accept(quote)
        return Token(STRING, f"{quote}{text}{quote}", start)

    def _number(self, previous: str, start: int) -> Token:
        text = ""
        coming_up = self._peek()
        is_decimal = False
        while _is_number(coming_up) or coming_up == ".":
            char, _ = self._next()
            text += char

            if coming_up == ".":
                if _is_terminator(self._peek()):
                    raise LexerError(
                        "unexpected terminator after decimal point", self.pos
                    )
                if is_decimal:
                    raise LexerError("multiple decimal points in one number", self.pos)
                is_decimal = True

            coming_up = self._peek()

        return Token(NUMBER, previous + text, start)

    def _operator_or_conditional(self, previous: str, start: int) -> Token:
        if previous == "=":
            return Token(OPERATOR, "=", start)

        if previous == "!":
            if self._accept("="):
                return Token(OPERATOR, "!=", start)
            raise LexerError(f"expected '=' after '!', got '{self._peek()}'", start)

        keywords = {"a": ("nd", CONDITIONAL), "o": ("r", CONDITIONAL)}
        keywords["n"] = ("ull", NULL)
        if previous in keywords:
            rest, kind = keywords[previous]
            if self._accept(rest):
                return Token(kind, previous + rest, start)
            return self._ident(previous, start)

        if previous in ("<", ">"):
            if self._accept("="):
                return Token(OPERATOR, previous + "=", start)
            return Token(OPERATOR, previous, start)

        return self._ident(previous, start)

    def _ident(self, previous: str, start: int) -> Token:
        text = ""
        char = previous
        while True:
            if char == "\\":
                if self._peek() == EOS_FLAG:
                    raise LexerError(
                        "expected character after escape character, got EOS",
                        self.pos,
                    )
                char, _ = self._next()

            text += char

            if not _is_ident(self._peek()):
                break
            char, _ = self._next()

        coming_up = self._peek()
        if not (
            coming_up == EOS_FLAG
            or _is_terminator(coming_up)
            or coming_up in (".", "(", "=", "!")
        ):
            raise LexerError(
                f"expected termination character after identifier, got {coming_up}",
                self.pos,
            )
        return Token(IDENT, text, start)

    def _accept(self, expected: str) -> bool:
        """Read ``expected`` if a terminator follows it; otherwise back off.

        Like fql-ts, running into the end of input returns early *without*
        backing off, so ``an`` at the very end lexes as the identifier ``a``.
        """
        chars = ""
        for _ in expected:
            char, is_eos = self._next()
            chars += char
            if is_eos:
                return False
            if _is_terminator(char):
                break

        if chars == expected and _is_terminator(self._peek()):
            return True

        self._backup(len(chars))
        return False

    def _next(self) -> tuple[str, bool]:
        if self.pos >= len(self.code):
            return EOS_FLAG, True
        char = self.code[self.pos]
        self.pos += 1
        return char, False

    def _peek(self) -> str:
        char, is_eos = self._next()
        if not is_eos:
            self._backup(1)
        return char

    def _backup(self, count: int) -> None:
        self.pos = max(0, self.pos - count)


def lex(code: str) -> list[Token]:
    """Tokens of ``code``, ending with an ``eos`` token; raises ``LexerError``."""
    return _Lexer(code).lex()


def normalize(tokens: list[Token]) -> list[Token]:
    """Join ``ident . ident`` runs into one dotted identifier, as the parser does."""
    joined: list[Token] = []
    index = 0
    while index < len(tokens):
        last = joined[-1] if joined else None
        current = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None

        if (
            last is not None
            and last.type == IDENT
            and current.type == DOT
            and following is not None
            and following.type == IDENT
        ):
            joined.pop()
            joined.append(Token(IDENT, f"{last.value}.{following.value}", last.pos))
            index += 2
        else:
            joined.append(current)
            index += 1
    return joined
