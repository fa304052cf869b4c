"""The ``seglike`` command line (also ``python -m emulator``).

Sub-commands live in their own modules and are imported only when used, so
``seglike --help`` stays fast and one command's dependencies never slow another.
"""

from __future__ import annotations

import importlib

import click

from emulator import __version__

COMMANDS = {
    "up": ("emulator.cli.up", "Run the local stack in the foreground."),
    "validate": ("emulator.cli.validate", "Validate messages against contracts."),
    "generate": ("emulator.cli.generate", "Write a seeded event stream as NDJSON."),
    "send": ("emulator.cli.send", "Send events to a Segment-compatible endpoint."),
    "destinations": (
        "emulator.cli.destinations",
        "Inspect destinations (preview the requests).",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seglike")
def main() -> None:
    """A local, offline stand-in for Segment and LiveLike."""
