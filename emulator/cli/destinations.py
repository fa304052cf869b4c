"""`seglike destinations`.  TODO(cli): placeholder until its issue lands."""

import click


@click.command("destinations")
def command() -> None:
    raise click.UsageError("seglike destinations is not implemented yet.")
