"""``seglike up``: run the stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import logging
import select
import signal
import socket

import click

from emulator import logs
from emulator.config import ConfigError, load_config
from emulator.stack import DEFAULT_STORE, Stack, StackAddress
from emulator.store import StoreError


@click.command("up")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Stack configuration (YAML).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--segment-port",
    default=8088,
    show_default=True,
    type=int,
    help="0 picks a free port.",
)
@click.option(
    "--livelike-port",
    default=8089,
    show_default=True,
    type=int,
    help="0 picks a free port.",
)
@click.option(
    "--store",
    default=str(DEFAULT_STORE),
    show_default=True,
    help="SQLite file, or :memory:.",
)
@click.option(
    "--seed-events",
    type=click.IntRange(min=0),
    help="Send N generated events once started [default: demo.seed_events].",
)
@click.option("--no-seed-events", is_flag=True, help="Start with an empty stack.")
def command(
    config_path, host, segment_port, livelike_port, store, seed_events, no_seed_events
) -> None:
    """Run the Segment and LiveLike emulators until Ctrl-C."""
    logs.configure(logging.INFO)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    from emulator.cli.send import demo_seed_events, seed_demo

    demo_events = 0 if no_seed_events else seed_events
    if demo_events is None:
        demo_events = demo_seed_events(config.raw)

    address = StackAddress(host, segment_port, livelike_port)
    _stop_on_signals()
    try:
        stack = Stack(config, store=store, address=address)
    except StoreError as error:
        raise click.ClickException(str(error)) from None

    started = False
    try:
        _start(stack, address)
        started = True

        click.echo(f"Segment  {stack.segment_url}")
        click.echo(f"LiveLike {stack.livelike_url}")
        for source in config.segment.sources:
            click.echo(f"  source {source.name:<12} write key {source.write_key}")
        if demo_events:
            report = seed_demo(config, stack.segment_url, demo_events)
            click.echo(
                f"Seeded {report.sent} demo events ({report.accepted} accepted)."
            )
        click.echo("Ready. Press Ctrl-C to stop.")

        _wait_for_signals()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        if started:
            click.echo("Stopped.")


def _start(stack: Stack, address: StackAddress) -> None:
    """Start *stack*; a port that is taken is the user's to fix, said plainly."""
    try:
        stack.start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"An address is already in use on {address.host} (Segment port "
            f"{address.segment_port}, LiveLike port {address.livelike_port}): "
            "is another `seglike up` running? Pick other ports with "
            "--segment-port/--livelike-port, or 0 for free ones."
        ) from None


def _wait_for_signals() -> None:
    """Sleep until a signal's handler raises.

    ``signal.pause()`` is not enough: the kernel may hand the signal to one of
    the server threads, and then the main thread sleeps on. The wake-up file
    descriptor is written whichever thread took the signal, so the main thread
    wakes and runs the handler.
    """
    wake, waker = socket.socketpair()
    waker.setblocking(False)
    signal.set_wakeup_fd(waker.fileno(), warn_on_full_buffer=False)
    try:
        while True:
            select.select([wake], [], [])
            wake.recv(64)
    finally:
        signal.set_wakeup_fd(-1)
        wake.close()
        waker.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Make SIGINT and SIGTERM both arrive as KeyboardInterrupt, from now on.

    Installed before the stack starts, so that a signal at any moment stops the
    stack's worker threads instead of leaving the process waiting on them. The
    handler raises instead of setting an Event: a handler that takes a lock the
    main thread already holds (inside ``Event.wait``) deadlocks. SIGINT is
    installed too, because a shell starting us in the background ignores it.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
