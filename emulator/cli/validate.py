"""`seglike validate`.  TODO(cli): placeholder until its issue lands."""

import click


@click.command("validate")
def command() -> None:
    raise click.UsageError("seglike validate is not implemented yet.")
