"""Fault injection for the emulated services (statuses, delays, dropped sockets).

TODO(faults): placeholder hook; the LiveLike issue fills in the rules and the
control routes for both services.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, service: str, rules: list) -> None:
    """Install the fault rules of *service* on *app*."""
    app.extensions["seglike.faults"] = list(rules)
