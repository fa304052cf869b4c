"""``seglike generate``: a seeded event stream as NDJSON, one message per line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from emulator.cli.options import Share
from emulator.generator import EventFactory, LiveLikeIdentity, default_users
from emulator.generator.plan import PlanError


def livelike_identities(config_path: str | None) -> list[LiveLikeIdentity]:
    """The pre-existing LiveLike profiles of the stack configuration.

    Generated users take these first, so the LiveLike emulator knows their
    ``livelike_profile_id`` and rewards them.
    """
    from emulator.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    identities = []
    livelike = config.raw.get("livelike") or {}
    for application in livelike.get("applications") or []:
        for profile in application.get("profiles") or []:
            if isinstance(profile, dict) and (
                profile.get("id") or profile.get("custom_id")
            ):
                identities.append(
                    LiveLikeIdentity(
                        livelike_profile_id=profile.get("id"),
                        custom_id=profile.get("custom_id"),
                    )
                )
    return identities


def dump(message: dict[str, Any]) -> str:
    """One NDJSON line; compact and stable so equal streams are equal bytes."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@click.command("generate")
@click.option(
    "--count",
    "-n",
    type=click.IntRange(min=0),
    required=True,
    help="How many messages to write.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Same seed and options, same bytes.",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False),
    help="Tracking plan file, or a shipped plan (video, ecommerce-v2).",
)
@click.option(
    "--invalid-rate",
    type=Share(),
    default=0.0,
    show_default=True,
    help="Share of labelled near-miss messages.",
)
@click.option(
    "--users",
    type=click.IntRange(min=1),
    help="Population size [default: count/100, 5..500].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="NDJSON file [default: stdout].",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    help="Also write one JSON line per near-miss: its line and expectation.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Stack configuration whose LiveLike profiles users take.",
)
def command(count, seed, plan_path, invalid_rate, users, output, labels, config_path):
    """Write COUNT realistic Segment messages as NDJSON."""
    plan = None
    if plan_path:
        from emulator.generator.plan import load_rules

        try:
            plan = load_rules(Path(plan_path))
        except PlanError as error:
            raise click.ClickException(str(error)) from None

    factory = EventFactory(
        seed,
        users=users or default_users(count),
        plan=plan,
        invalid_rate=invalid_rate,
        livelike=livelike_identities(config_path),
    )
    out = _open_output(output, "--output") if output != "-" else sys.stdout
    try:
        label_file = _open_output(labels, "--labels") if labels else None
    except click.BadParameter:
        if out is not sys.stdout:
            out.close()
        raise
    try:
        for line, event in enumerate(factory.stream(count), start=1):
            out.write(dump(event.message) + "\n")
            if label_file is not None and event.expect is not None:
                label_file.write(dump({"line": line, **event.expect.as_dict()}) + "\n")
    except PlanError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:  # a full disk, a closed pipe
        raise click.ClickException(f"Cannot write the events: {error}") from None
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
        if label_file is not None:
            label_file.close()


def _open_output(path: str, option: str) -> IO[str]:
    """Open an output file before generating anything, so a bad path costs nothing."""
    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as error:
        raise click.BadParameter(
            f"cannot write {path!r}: {error.strerror}.", param_hint=option
        ) from None
