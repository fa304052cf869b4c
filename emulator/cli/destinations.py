"""``seglike destinations``: inspect the destinations of the stack configuration."""

from __future__ import annotations

import json
from typing import Any

import click

from emulator.config import ConfigError, load_config


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
@click.argument("events", type=click.File("r"))
def preview_command(config_path, source, livelike_url, events) -> None:
    """Print the requests for each event of EVENTS (NDJSON or a JSON array, - for
    stdin), one JSON line per event; nothing is sent."""
    from emulator.actions.preview import PreviewError, preview

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None

    parsed = _read_events(events.read(), getattr(events, "name", "EVENTS"))
    try:
        results = preview(parsed, config, source, livelike_url=livelike_url)
    except PreviewError as error:
        raise click.ClickException(str(error)) from None

    for result in results:
        click.echo(json.dumps(result))


def _read_events(text: str, name: str) -> list[Any]:
    """A JSON array, or one JSON value per non-blank line."""
    if text.lstrip().startswith("["):
        try:
            events = json.loads(text)
        except json.JSONDecodeError as error:
            raise click.ClickException(
                f"{name}: not a valid JSON array: {error.msg} at line {error.lineno}"
                f" column {error.colno}."
            ) from None
        return events

    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise click.ClickException(
                f"{name}: line {number} is not valid JSON: {error.msg}."
            ) from None
    return events
