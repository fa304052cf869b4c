"""Human explanations of a subscription: why an event matched, and what surprises.

The real parser is forgiving in ways that hide mistakes (no precedence, skipped
words, string-typed comparisons), so a user needs to see the tree the service
actually evaluates and the values it looked at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emulator.actions import jsvalues
from emulator.actions.fql import FqlError, parse_with_notes
from emulator.actions.fql import lexer as lx
from emulator.actions.fql.evaluate import EvaluationError, Trace, evaluate, field_of
from emulator.actions.fql.parser import Condition, Group


@dataclass(frozen=True)
class Explanation:
    """The verdict and one line per clause, with the values that were read."""

    subscription: str
    matched: bool
    lines: tuple[str, ...]
    error: str | None = None

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _show(value: Any) -> str:
    if value is jsvalues.UNDEFINED:
        return "missing"
    if jsvalues.is_number(value):
        return f"the number {jsvalues.number_to_string(value)}"
    if isinstance(value, bool):
        return f"the boolean {jsvalues.to_string(value)}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)}"
    kind = "an array" if isinstance(value, list) else "an object"
    return f"{kind} {json.dumps(jsvalues.ordered(value), ensure_ascii=False)[:60]}"


def _wanted(condition: Condition) -> str:
    op, value = condition.operator, condition.value
    expected = jsvalues.to_string(value)
    quoted = json.dumps(expected, ensure_ascii=False)
    if op == "=":
        return f"needs exactly the string {quoted}"
    if op == "!=":
        return f"needs anything but the string {quoted}"
    if op == "number_equals":
        return f"needs a number equal to {expected}"
    if op == "number_not_equals":
        return f"needs a number other than {expected}"
    if op in ("<", "<=", ">", ">="):
        bound = jsvalues.number_to_string(jsvalues.to_number(value))
        return f"needs a number {op} {bound}"
    words = {
        "contains": "needs a string containing",
        "not_contains": "needs a string not containing",
        "starts_with": "needs a string starting with",
        "not_starts_with": "needs a string not starting with",
        "ends_with": "needs a string ending with",
        "not_ends_with": "needs a string not ending with",
    }
    if op in words:
        return f"{words[op]} {quoted}"
    return {
        "exists": "needs any value but null",
        "not_exists": "needs no value or null",
        "is_true": "needs the boolean true",
        "is_false": "needs the boolean false",
    }.get(op, f"uses the operator {op!r}, which never matches")


def _render(trace: Trace, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    mark = "[yes]" if trace.result else "[no] "
    node = trace.node
    if isinstance(node, Group):
        need = "all of" if node.operator == "and" else "any of"
        lines.append(f"{pad}{mark} {need} ({node.operator}):")
        for child in trace.children:
            _render(child, depth + 1, lines)
        if trace.skipped:
            lines.append(f"{pad}  ... {trace.skipped} more not evaluated")
        return
    assert isinstance(node, Condition)
    lines.append(
        f"{pad}{mark} {node.source}: {field_of(node)} is {_show(trace.actual)}; "
        f"{_wanted(node)}"
    )


def explain(text_or_parsed: str | Group, event: Any) -> Explanation:
    """Why ``event`` matches this subscription or not, clause by clause."""
    text = text_or_parsed if isinstance(text_or_parsed, str) else text_or_parsed.source
    notes = None
    try:
        if isinstance(text_or_parsed, str):
            group, notes = parse_with_notes(text_or_parsed)
        else:
            group = text_or_parsed
    except FqlError as exc:
        lines = [
            "matched: no",
            f"the subscription does not parse: {exc.detail or exc.message}",
            f"the real service reports: Invalid subscription : {exc.message}",
        ]
        return Explanation(text, False, tuple(lines), exc.message)

    traces: list[Trace] = []
    try:
        matched = evaluate(group, event, traces)
    except EvaluationError as exc:
        lines = ["matched: no", f"evaluation throws in the real service: {exc}"]
        return Explanation(text, False, tuple(lines), str(exc))

    lines = [f"matched: {'yes' if matched else 'no'}"]
    for trace in traces:
        _render(trace, 0, lines)
    if notes is not None and notes.ignored:
        skipped = " ".join(t.value for t in notes.ignored)
        lines.append(f"ignored by the real parser: {skipped}")
    lines.extend(f"warning: {w}" for w in lint(text) if text)
    return Explanation(text, matched, tuple(lines))


def _walk(node: Condition | Group | None):
    if isinstance(node, Group):
        for child in node.children:
            yield from _walk(child)
    elif node is not None:
        yield node


def _token_warnings(tokens: list[lx.Token]) -> list[str]:
    warnings: list[str] = []
    in_group = False
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            token.type == lx.OPERATOR
            and token.value in ("<", ">", "=")
            and following is not None
            and following.type == lx.OPERATOR
            and following.value == "="
        ):
            if token.value == "=":
                advice = "'==' is read as '=' compared with the text '='; use '='"
            else:
                advice = (
                    f"the real lexer reads '{token.value}' compared with the text "
                    f"'='; put a space between '{token.value}=' and the value"
                )
            warnings.append(f"'{token.value}=' at offset {token.pos}: {advice}")
        if token.type == lx.STRING and token.value.startswith("'"):
            warnings.append(
                f"the single-quoted literal {token.value} keeps its quotes: it "
                f"compares with the text {token.value}, quotes included; use "
                "double quotes"
            )
        if token.type == lx.IDENT and token.value in ("AND", "OR", "NOT", "not"):
            warnings.append(
                f"'{token.value}' is not a keyword and is skipped; only lower-case "
                "'and' and 'or' join conditions, and there is no 'not'"
            )
        if token.type == lx.BRACK_LEFT:
            warnings.append(
                "brackets in paths are not supported by the real parser; use "
                "dots (properties.items.0.sku)"
            )
        if token.type == lx.PAREN_LEFT:
            previous = tokens[index - 1] if index else None
            is_call = previous is not None and previous.value in ("contains", "match")
            if is_call and in_group:
                warnings.append(
                    f"{previous.value}() inside parentheses closes the group at "
                    "its own ')': the rest of the group moves to the outer level"
                )
            elif not is_call and in_group:
                warnings.append(
                    "nested parentheses are not supported: the real parser fails"
                )
            elif not is_call:
                in_group = True
        if token.type == lx.PAREN_RIGHT:
            in_group = False
    return warnings


def _condition_warnings(condition: Condition) -> list[str]:
    warnings: list[str] = []
    source = condition.source
    top_level = condition.type in ("event", "event-type", "name", "userId")
    if condition.value_type == lx.EOS:
        warnings.append(
            f"'{source}' has no value: the real parser compares with the text 'eos'"
        )
    if (
        top_level
        and condition.value_type == lx.NULL
        and condition.operator
        in (
            "=",
            "!=",
        )
    ):
        warnings.append(
            f"'{source}' compares {field_of(condition)} with the string 'null'; "
            f"it does not test presence ('{field_of(condition)} != null' is true "
            "even when the field is missing)"
        )
    if top_level and condition.value_type == lx.NUMBER and "(" not in source:
        warnings.append(
            f"'{source}' compares with the string {condition.value!r}: a JSON "
            "number in the event never matches"
        )
    if (
        condition.operator == "!="
        and condition.value_type == lx.IDENT
        and (condition.value in (True, False, "true", "false"))
    ):
        warnings.append(
            f"'{source}' compares with the string "
            f"'{jsvalues.to_string(condition.value)}', so a boolean "
            f"{jsvalues.to_string(condition.value)} counts as different"
        )
    if source.startswith(("match(", "!match(")):
        literal = source.split(",", 1)[1].strip()[:-1] if "," in source else ""
        if not literal.endswith('*"') and not literal.startswith('"*'):
            warnings.append(
                f"'{source}' has no '*': the real parser makes it 'ends with' the "
                f"value minus its first character ({condition.value!r})"
            )
        elif literal.startswith('"*') and literal.endswith('*"'):
            warnings.append(
                f"'{source}' has '*' at both ends: only the trailing one is a "
                f"wildcard, it means 'starts with' {condition.value!r}"
            )
    return warnings


def lint(text: str) -> list[str]:
    """Warnings for a subscription whose real behaviour is likely a surprise."""
    warnings: list[str] = []
    try:
        tokens = lx.lex(text)
    except lx.LexerError as exc:
        return [
            f"the real lexer rejects this subscription at offset {exc.pos} "
            f"({exc.message}), so it matches no event"
        ]
    except TypeError:
        return ["a subscription must be a string"]

    warnings.extend(_token_warnings(tokens))
    try:
        group, notes = parse_with_notes(text)
    except FqlError as exc:
        reason = exc.detail or exc.message
        warnings.append(f"the real parser rejects this subscription ({reason})")
        return _unique(warnings)

    for level in notes.conjunctions:
        if "and" in level and "or" in level:
            warnings.append(
                "'and' and 'or' are mixed at one level: there is no precedence, "
                f"every condition of that level is joined with the last one, "
                f"'{level[-1]}'; use parentheses"
            )
    if notes.ignored:
        skipped = " ".join(t.value for t in notes.ignored)
        warnings.append(f"the real parser silently ignores: {skipped}")
    for token in notes.ignored_negations:
        warnings.append(
            f"'!' at offset {token.pos} only negates contains() or match(); "
            "here it is ignored"
        )
    for source in notes.dropped_functions:
        warnings.append(
            f"'{source}' is dropped: contains() and match() only support event, "
            "name, userId, properties.*, traits.* and context.*"
        )
    for condition in _walk(group):
        warnings.extend(_condition_warnings(condition))
    return _unique(warnings)


def _unique(warnings: list[str]) -> list[str]:
    return list(dict.fromkeys(warnings))
