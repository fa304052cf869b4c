"""`seglike validate`: check messages against a contract and a tracking plan.

Reads JSON (one message, an array of messages, or a batch envelope), or NDJSON,
from files or ``-`` (stdin). Exit status: 0 when every message is valid, 1 when any
is invalid, 2 when an input cannot be used (not JSON, unreadable, unknown contract,
broken plan), so it fits a CI step.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from emulator import jsontext

AUTO_CONTRACT = "segment/accepted/message"


class InputError(ValueError):
    """An input that is not JSON or NDJSON; names the file and the line."""

    def __init__(self, name: str, line: int | None, message: str):
        self.name = name
        self.line = line
        self.reason = message
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {message}")


@dataclass
class Entry:
    """One message read from an input, and where it came from."""

    file: str
    line: int | None
    label: str
    message: Any
    contract: str = ""
    violations: list[Any] = field(default_factory=list)

    @property
    def where(self) -> str:
        line = f":{self.line}" if self.line else ""
        label = f" {self.label}" if self.label else ""
        return f"{self.file}{line}{label}"


def parse_messages(text: str | bytes, name: str) -> list[Entry]:
    """The messages of one input: a JSON document or NDJSON, one per line.

    Read as strictly as ingestion reads a body (``emulator.jsontext``), so what
    validate accepts is what the service accepts.
    """
    if isinstance(text, bytes):
        text = _decode(text, name)
    if not text.strip():
        return []
    try:
        document = jsontext.loads(text)
    except jsontext.JSONTextError as whole:
        return _ndjson(text, name, whole)
    if isinstance(document, list):
        return [Entry(name, None, f"[{i}]", item) for i, item in enumerate(document)]
    return [Entry(name, 1 if "\n" not in text.strip() else None, "", document)]


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            name, line, f"not UTF-8 text: {error.reason} (column {column})"
        ) from None


def _ndjson(text: str, name: str, whole: jsontext.JSONTextError) -> list[Entry]:
    entries = []
    first = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        first = first or number
        try:
            value = jsontext.loads(line)
        except jsontext.JSONTextError as error:
            if number == first and whole.line is None and error.line is not None:
                # One JSON document spread over lines, unusable as a whole.
                raise InputError(name, None, _not_json(whole)) from None
            if number == first and whole.line is not None and whole.line > number:
                # One JSON document spread over lines, broken further down.
                raise InputError(name, whole.line, _not_json(whole)) from None
            raise InputError(name, number, _not_json(error)) from None
        if isinstance(value, list):
            entries += [
                Entry(name, number, f"[{i}]", item) for i, item in enumerate(value)
            ]
        else:
            entries.append(Entry(name, number, "", value))
    return entries


def _not_json(error: jsontext.JSONTextError) -> str:
    column = f" (column {error.column})" if error.column is not None else ""
    return f"not JSON: {error.reason}{column}"


def _unpack(entries: list[Entry]) -> list[Entry]:
    """Auto mode: a batch envelope stands for its messages."""
    out = []
    for entry in entries:
        message = entry.message
        if isinstance(message, dict) and isinstance(message.get("batch"), list):
            out += [
                Entry(entry.file, entry.line, f"{entry.label}batch[{i}]".strip(), item)
                for i, item in enumerate(message["batch"])
            ]
        else:
            out.append(entry)
    return out


def _read(name: str) -> bytes:
    if name == "-":
        stdin = sys.stdin
        if hasattr(stdin, "buffer"):
            return stdin.buffer.read()
        return stdin.read().encode("utf-8", "surrogateescape")
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise InputError(
            name, None, f"cannot read the file: {error.strerror}"
        ) from None


def _title(message: Any) -> str:
    if not isinstance(message, dict):
        return "(not an object)"
    kind = message.get("type") or message.get("action") or "?"
    name = message.get("event") if kind == "track" else message.get("name")
    return f"{kind} {json.dumps(name)}" if name else str(kind)


@click.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--contract",
    "contract",
    metavar="NAME",
    help="Contract to check against, e.g. segment/track, livelike/segment-events "
    f"(default: {AUTO_CONTRACT}, with batch envelopes unpacked).",
)
@click.option(
    "--plan",
    "plan_ref",
    metavar="FILE",
    help="Tracking plan (YAML/JSON file, or a shipped plan: ecommerce-v2, video).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable report or one JSON document.",
)
def command(
    files: tuple[str, ...], contract: str | None, plan_ref: str | None, output: str
) -> None:
    """Validate messages in FILE... (JSON, JSON arrays, NDJSON; - for stdin).

    Exits 0 when every message is valid, 1 when any is invalid, 2 when an input
    cannot be used.
    """
    from emulator.contracts import UnknownContract, contract_names, validate_message
    from emulator.contracts.plans import PlanError, load_plan

    if contract is not None and contract.removesuffix(".json") not in contract_names():
        raise click.BadParameter(
            str(UnknownContract(contract, contract_names())), param_hint="--contract"
        )
    plan = None
    if plan_ref:
        try:
            plan = load_plan(plan_ref)
        except PlanError as error:
            raise click.BadParameter(str(error), param_hint="--plan") from None

    entries: list[Entry] = []
    problems: list[InputError] = []
    empty: list[str] = []
    for name in files:
        label = "<stdin>" if name == "-" else name
        try:
            found = parse_messages(_read(name), label)
        except InputError as error:
            problems.append(error)
            continue
        if not found:
            empty.append(label)
        entries += found if contract else _unpack(found)

    for entry in entries:
        entry.contract = contract or AUTO_CONTRACT
        entry.violations = validate_message(entry.message, entry.contract)
        if plan is not None:
            entry.violations += plan.check(entry.message).all

    invalid = [entry for entry in entries if entry.violations]
    if output == "json":
        _json_report(entries, invalid, problems, empty, plan)
    else:
        _text_report(entries, invalid, problems, empty, plan, contract)
    if problems:
        sys.exit(2)
    sys.exit(1 if invalid else 0)


def _text_report(entries, invalid, problems, empty, plan, contract) -> None:
    for entry in invalid:
        count = len(entry.violations)
        noun = "violation" if count == 1 else "violations"
        click.echo(f"{entry.where}  {_title(entry.message)}  {count} {noun}")
        for violation in entry.violations:
            click.echo(f"  {violation}")
    for problem in problems:
        click.echo(f"{problem}", err=False)
    for name in empty:
        click.echo(f"{name}: no messages (empty input)")

    against = contract or AUTO_CONTRACT
    if plan is not None:
        against += f" and plan {plan.name!r}"
    total = len(entries)
    violations = sum(len(entry.violations) for entry in invalid)
    summary = (
        f"{total} message{'s' if total != 1 else ''} checked against {against}: "
        f"{total - len(invalid)} valid, {len(invalid)} invalid"
    )
    if violations:
        summary += f" ({violations} violation{'s' if violations != 1 else ''})"
    if problems:
        summary += (
            f"; {len(problems)} input{'s' if len(problems) != 1 else ''} unusable"
        )
    click.echo(summary)


def _json_report(entries, invalid, problems, empty, plan) -> None:
    document = {
        "ok": not invalid and not problems,
        "summary": {
            "messages": len(entries),
            "valid": len(entries) - len(invalid),
            "invalid": len(invalid),
            "violations": sum(len(entry.violations) for entry in invalid),
            "unusable_inputs": len(problems),
            "empty_inputs": len(empty),
            "plan": plan.name if plan is not None else None,
        },
        "invalid": [
            {
                "file": entry.file,
                "line": entry.line,
                "item": entry.label or None,
                "contract": entry.contract,
                "title": _title(entry.message),
                "violations": [violation.to_dict() for violation in entry.violations],
            }
            for entry in invalid
        ],
        "errors": [
            {"file": problem.name, "line": problem.line, "message": problem.reason}
            for problem in problems
        ],
        "empty": empty,
    }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
