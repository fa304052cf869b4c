"""The base every emulated service's Flask app is built on.

It gives each service the same behaviour at the edges: JSON errors, one access
log line per request, fault injection, and the health/ready/OpenAPI control
routes under ``/_emulator/``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from flask import Blueprint, Flask, Response, g, jsonify, request

from emulator.logs import log_safe
from emulator.web import faults
from emulator.web.errors import install_error_handlers

log = logging.getLogger(__name__)


def create_service_app(
    name: str, *, openapi: Path | None = None, fault_rules: list | None = None
) -> Flask:
    """Build the bare app of service *name* (``"segment"`` or ``"livelike"``)."""
    app = Flask(f"emulator.{name}")
    app.json.sort_keys = False
    app.config["SERVICE_NAME"] = name
    app.config["READY"] = True

    install_error_handlers(app)
    _install_access_log(app, name)
    faults.init_app(app, name, fault_rules or [])
    app.register_blueprint(_control_blueprint(openapi))
    return app


def _install_access_log(app: Flask, name: str) -> None:
    access = logging.getLogger(f"emulator.{name}.access")

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1e3
        access.info(
            "%s %s %d messages=%s %.1fms",
            log_safe(request.method),
            log_safe(request.path),
            response.status_code,
            g.get("message_count", "-"),
            elapsed_ms,
        )
        return response


def _control_blueprint(openapi: Path | None) -> Blueprint:
    control = Blueprint("control_base", __name__, url_prefix="/_emulator")

    @control.get("/health")
    def health():
        return jsonify({"status": "ok"})

    @control.get("/ready")
    def ready():
        from flask import current_app

        if not current_app.config.get("READY", True):
            return jsonify({"status": "starting"}), 503
        return jsonify({"status": "ready"})

    @control.get("/openapi.json")
    def openapi_document():
        if openapi is None or not openapi.is_file():
            return jsonify(
                {"code": "not_found", "message": "No OpenAPI document."}
            ), 404
        return Response(openapi.read_text(), mimetype="application/json")

    return control


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
