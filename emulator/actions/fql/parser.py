"""The subscription parser of ``@segment/destination-subscriptions``.

A single left-to-right loop without precedence: each level keeps the last
``and``/``or`` it saw, unknown tokens are skipped, ``(`` collects up to the
first ``)``.  The emulator keeps every one of these rules because a
subscription must match exactly the events the real one matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.fql import lexer
from emulator.actions.fql.lexer import Token

# The real parser looks condition types up in a plain JS object, so the names
# of Object.prototype members are "known" too: they consume an operator and a
# value and then add nothing.
_PROTOTYPE_NAMES = frozenset(
    {
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)

CONDITION_TYPES = {
    "type": "event-type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "context": "event-context",
    "properties": "event-property",
    "traits": "event-trait",
}

_PREFIXED = {
    "event-property": "properties",
    "event-trait": "traits",
    "event-context": "context",
}

TYPE_ERROR = "Cannot read properties of undefined (reading 'type')"


class ParseError(Exception):
    """What ``parseFql`` returns as ``{error}``: a message, never a crash."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Condition:
    """One leaf: ``type`` as the real AST names it, ``name`` for property paths."""

    type: str
    operator: str
    value: Any = jsvalues.UNDEFINED
    name: str | None = None
    source: str = ""
    value_type: str = ""


@dataclass(frozen=True)
class Group:
    operator: str
    children: tuple[Condition | Group | None, ...]
    source: str = ""


@dataclass
class ParseNotes:
    """What the parser silently did, for ``explain`` and ``lint``."""

    ignored: list[Token] = field(default_factory=list)
    conjunctions: list[list[str]] = field(default_factory=list)
    dropped_functions: list[str] = field(default_factory=list)
    ignored_negations: list[Token] = field(default_factory=list)


def token_value(token: Token) -> str | float | bool:
    """``getTokenValue``: strip one ``"`` each side, numbers, true/false."""
    if token.type == lexer.STRING:
        text = token.value
        if text.startswith('"'):
            text = text[1:]
        if text.endswith('"'):
            text = text[:-1]
        return text
    if token.type == lexer.NUMBER:
        return jsvalues.to_number(token.value)
    if token.type == lexer.IDENT and token.value in ("true", "false"):
        return token.value == "true"
    return token.value


def _as_string(value: Any) -> str:
    return jsvalues.to_string(value)


def _strip_prefix(prefix: str, value: str) -> str:
    return re.sub(rf"^{prefix}\.", "", value, count=1)


class _Parser:
    def __init__(self, notes: ParseNotes) -> None:
        self.notes = notes

    def parse(self, tokens: list[Token]) -> Condition | Group | None:
        nodes: list[Condition | Group | None] = []
        operator = "and"
        seen: list[str] = []
        token = tokens.pop(0) if tokens else None

        while token is not None and token.type != lexer.EOS:
            handled = False

            if token.type == lexer.IDENT:
                start = token.value.split(".")[0]
                if start in CONDITION_TYPES or start in _PROTOTYPE_NAMES:
                    self._condition(token, tokens, nodes)
                    handled = True
                if token.value in ("contains", "match"):
                    self._function(token.value, nodes, tokens, negate=False)
                    handled = True

            if token.type == lexer.OPERATOR and token.value == "!":
                if not tokens:
                    raise ParseError(TYPE_ERROR)
                if tokens[0].type == lexer.IDENT and tokens[0].value in (
                    "contains",
                    "match",
                ):
                    name = tokens.pop(0)
                    self._function(name.value, nodes, tokens, negate=True)
                else:
                    self.notes.ignored_negations.append(token)
                handled = True

            if token.type == lexer.PAREN_LEFT:
                group_tokens: list[Token] = []
                group_token = tokens.pop(0) if tokens else None
                while group_token is None or group_token.type != lexer.PAREN_RIGHT:
                    if group_token is None:
                        raise ParseError(
                            TYPE_ERROR, "a '(' is not closed by a ')' at its level"
                        )
                    group_tokens.append(group_token)
                    group_token = tokens.pop(0) if tokens else None
                group_tokens.append(Token(lexer.EOS, "eos"))
                # An empty group becomes an undefined child: the real code
                # only fails when evaluation reaches it.
                nodes.append(self.parse(group_tokens))
                handled = True

            if token.type == lexer.CONDITIONAL:
                operator = token.value
                seen.append(token.value)
                handled = True

            if not handled:
                self.notes.ignored.append(token)

            token = tokens.pop(0) if tokens else None

        self.notes.conjunctions.append(seen)
        if len(nodes) > 1:
            return Group(operator, tuple(nodes))
        return nodes[0] if nodes else None

    def _condition(
        self, token: Token, tokens: list[Token], nodes: list[Condition | Group | None]
    ) -> None:
        if not tokens:
            raise ParseError("Operator token is missing")
        operator_token = tokens.pop(0)
        if not tokens:
            raise ParseError("Value token is missing")
        value_token = tokens.pop(0)

        kind = CONDITION_TYPES.get(token.value.split(".")[0])
        source = f"{token.value} {operator_token.value} {value_token.value}"
        if kind is None:
            self.notes.ignored.extend([token, operator_token, value_token])
            return

        op = operator_token.value
        is_true = op == "=" and value_token.value == "true"
        is_false = op == "=" and value_token.value == "false"
        is_exists = op == "!=" and value_token.value == "null"
        is_not_exists = op == "=" and value_token.value == "null"
        is_number_eq = op == "=" and value_token.type == lexer.NUMBER
        is_number_neq = op == "!=" and value_token.type == lexer.NUMBER

        def add(operator: str, value: Any = jsvalues.UNDEFINED) -> None:
            name = None
            if kind in _PREFIXED:
                name = _strip_prefix(_PREFIXED[kind], token.value)
            nodes.append(
                Condition(kind, operator, value, name, source, value_token.type)
            )

        if kind in ("event", "event-type"):
            add(op, _as_string(token_value(value_token)))
        elif kind == "name":
            if is_exists:
                add("exists")
            elif is_not_exists:
                add("not_exists")
            else:
                add(op, _as_string(token_value(value_token)))
        elif kind == "userId":
            if is_exists:
                add("exists")
            elif is_not_exists:
                add("not_exists")
            elif is_true:
                add("is_true")
            elif is_false:
                add("is_false")
            else:
                add(op, _as_string(token_value(value_token)))
        else:
            if is_exists:
                add("exists")
            elif is_not_exists:
                add("not_exists")
            elif is_true:
                add("is_true")
            elif is_false:
                add("is_false")
            elif is_number_eq:
                add("number_equals", token_value(value_token))
            elif is_number_neq:
                add("number_not_equals", token_value(value_token))
            else:
                add(op, token_value(value_token))

    def _function(
        self,
        name: str,
        nodes: list[Condition | Group | None],
        tokens: list[Token],
        *,
        negate: bool,
    ) -> None:
        if tokens:
            tokens.pop(0)  # "(" -- not checked, as in the real parser
        if not tokens:
            raise ParseError(f"{name}() is missing a 1st argument")
        name_token = tokens.pop(0)
        if tokens:
            tokens.pop(0)  # ","
        if not tokens:
            raise ParseError(f"{name}() is missing a 2nd argument")
        value_token = tokens.pop(0)
        if tokens:
            tokens.pop(0)  # ")"

        prefix = "!" if negate else ""
        source = f"{prefix}{name}({name_token.value}, {value_token.value})"
        if name == "contains":
            operator = "not_contains" if negate else "contains"
            value = _as_string(token_value(value_token))
        elif value_token.value.endswith('*"'):
            operator = "not_starts_with" if negate else "starts_with"
            value = _as_string(token_value(value_token))[:-1]
        else:
            operator = "not_ends_with" if negate else "ends_with"
            value = _as_string(token_value(value_token))[1:]

        field_name = name_token.value
        added = False
        if field_name in ("event", "name", "userId"):
            nodes.append(
                Condition(field_name, operator, value, None, source, value_token.type)
            )
            added = True
        for kind, prefix_word in _PREFIXED.items():
            if field_name.startswith(prefix_word):
                path = _strip_prefix(prefix_word, field_name)
                nodes.append(
                    Condition(kind, operator, value, path, source, value_token.type)
                )
                added = True
        if not added:
            self.notes.dropped_functions.append(source)


def parse_tokens(tokens: list[Token], notes: ParseNotes) -> Group:
    """``parse(normalize(tokens))`` wrapped in an ``and`` group, or ParseError."""
    ast = _Parser(notes).parse(lexer.normalize(tokens))
    if ast is None:
        raise ParseError(TYPE_ERROR, "no condition the real parser recognises")
    if not isinstance(ast, Group):
        return Group("and", (ast,))
    return ast
