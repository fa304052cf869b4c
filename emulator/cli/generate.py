"""`seglike generate`.  TODO(cli): placeholder until its issue lands."""

import click


@click.command("generate")
def command() -> None:
    raise click.UsageError("seglike generate is not implemented yet.")
