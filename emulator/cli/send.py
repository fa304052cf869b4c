"""`seglike send`.  TODO(cli): placeholder until its issue lands."""

import click


@click.command("send")
def command() -> None:
    raise click.UsageError("seglike send is not implemented yet.")
