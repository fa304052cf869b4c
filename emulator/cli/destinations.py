"""``seglike destinations``: inspect the destinations of the stack configuration."""

from __future__ import annotations

import json
from typing import Any

import click

from emulator import jsontext
from emulator.config import ConfigError, load_config


class UnusableInput(click.ClickException):
    """Input the command cannot use at all (exit 2, as ``seglike validate``)."""

    exit_code = 2


@click.group("destinations")
def command() -> None:
    """Inspect destinations (preview the requests they would make)."""


@command.command("preview")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Stack configuration (YAML); default: the built-in one.",
)
@click.option("--source", help="Source whose destinations to use (default: the first).")
@click.option(
    "--livelike-url",
    help="LiveLike address when settings have no baseUrl.",
    default="http://127.0.0.1:8089",
    show_default=True,
)
@click.argument("events", type=click.File("rb"))
def preview_command(config_path, source, livelike_url, events) -> None:
    """Print the requests for each event of EVENTS (NDJSON or a JSON array, - for
    stdin), one JSON line per event; nothing is sent. Unusable input (the
    configuration, the events, an unknown source) exits with status 2."""
    from emulator.actions.preview import PreviewError, preview

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise UnusableInput(str(error)) from None

    parsed = _read_events(events.read(), getattr(events, "name", "EVENTS"))
    try:
        results = preview(parsed, config, source, livelike_url=livelike_url)
    except PreviewError as error:
        raise UnusableInput(str(error)) from None

    for result in results:
        click.echo(json.dumps(result))


def _read_events(data: bytes, name: str) -> list[Any]:
    """A JSON array, or one JSON value per non-blank line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnusableInput(
            f"{name}: not UTF-8 text ({error.reason} at byte {error.start});"
            " events must be JSON."
        ) from None

    if text.lstrip().startswith("["):
        try:
            events = jsontext.loads(text)
        except jsontext.JSONTextError as error:
            raise UnusableInput(f"{name}: not a valid JSON array: {error}.") from None
        return events

    events = []
    # split on newlines only: splitlines() would also cut at a U+2028 in a string
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            events.append(jsontext.loads(line))
        except jsontext.JSONTextError as error:
            raise UnusableInput(
                f"{name}: line {number} is not valid JSON: {error.reason}."
            ) from None
    return events
