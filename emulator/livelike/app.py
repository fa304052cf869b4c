"""The LiveLike service's Flask app: the three routes Segment's destination calls.

A thin layer: authenticate, validate, hand the body to the rewards engine, answer
exactly what LiveLike answers (``202 {}``, ``200``, ``401 {}``).  Read routes live
in :mod:`emulator.livelike.reads`, control routes in :mod:`emulator.livelike.control`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request

from emulator import jsontext
from emulator.config import StackConfig
from emulator.livelike import models
from emulator.livelike.config import Application, LiveLikeConfig
from emulator.livelike.rewards import RewardsEngine, RewardsError
from emulator.livelike.validation import BodyError, check
from emulator.resources import contracts_dir
from emulator.store import Database
from emulator.web import faults
from emulator.web.app import create_service_app
from emulator.web.errors import APIError

log = logging.getLogger(__name__)

EXTENSION = "seglike.livelike"
MAX_BODY_BYTES = 5 * 1024 * 1024
PREFIX = "/api/v1/applications/<client_id>"


class Unauthorized(APIError):
    """LiveLike answers a bad client id or token with an empty JSON object."""

    status = 401
    code = "unauthorized"

    def body(self) -> dict[str, Any]:
        return {}


def create_app(config: StackConfig, db: Database) -> Flask:
    livelike: LiveLikeConfig = config.livelike or LiveLikeConfig()
    app = create_service_app(
        "livelike",
        openapi=contracts_dir() / "openapi" / "livelike.json",
        fault_rules=faults.rules_from_config(config.raw, "livelike"),
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    db.ensure_schema()
    models.upgrade_schema(db)
    models.seed_profiles(db, livelike.applications)
    app.extensions[EXTENSION] = RewardsEngine(livelike, db)
    app.extensions["seglike.db"] = db

    _install_request_log(app, db)
    _register_destination_routes(app)

    from emulator.livelike import control, reads

    app.register_blueprint(reads.blueprint)
    app.register_blueprint(control.blueprint)
    return app


def engine() -> RewardsEngine:
    return current_app.extensions[EXTENSION]


def authenticate(client_id: str | None = None) -> Application:
    """The application the bearer token belongs to (and *client_id* names)."""
    config = engine().config
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        log.info("auth failed reason=no-bearer path=%s", request.path)
        raise Unauthorized("A producer token is required.")

    app = (
        config.application(client_id)
        if client_id is not None
        else config.application_for_token(token)
    )
    if app is None or token not in app.producer_tokens:
        log.info("auth failed reason=bad-token client_id=%s", client_id)
        raise Unauthorized("Unknown application or producer token.")
    g.client_id = app.client_id
    return app


def json_body() -> Any:
    """The body read strictly: NaN, deep nesting or bad UTF-8 are a 400, not a 500."""
    try:
        return jsontext.loads(request.get_data(cache=True))
    except jsontext.JSONTextError as error:
        raise APIError(
            f"The request body is not valid JSON: {error}.",
            code="invalid_json",
            path="$",
        ) from None


def bad_body(error: BodyError) -> APIError:
    return APIError(
        error.message, code="invalid_body", path=error.path, detail=error.message
    )


def rewards_error(error: RewardsError) -> APIError:
    return APIError(
        error.message,
        status=error.status,
        code=error.code,
        path=error.path,
        detail=error.message,
    )


def _register_destination_routes(app: Flask) -> None:
    @app.post(f"{PREFIX}/segment-events/")
    def segment_events(client_id: str):
        application = authenticate(client_id)
        body = json_body()
        try:
            check("segment-events", body)
        except BodyError as error:
            raise bad_body(error) from None

        g.message_count = len(body["events"])
        try:
            engine().process_events(application, body["events"])
        except RewardsError as error:
            raise rewards_error(error) from None
        return jsonify({}), 202

    @app.post(f"{PREFIX}/segment-audience-sync/")
    def segment_audience_sync(client_id: str):
        application = authenticate(client_id)
        body = json_body()
        try:
            check("segment-audience-sync", body)
        except BodyError as error:
            raise bad_body(error) from None

        g.message_count = len(body)
        engine().sync_audience(application, body)
        return jsonify({}), 200

    @app.get(f"{PREFIX}/validate-app/")
    def validate_app(client_id: str):
        authenticate(client_id)
        return jsonify({}), 200


def _install_request_log(app: Flask, db: Database) -> None:
    """Keep every API request (accepted or not) for the control API's queries."""

    @app.after_request
    def _record(response: Response) -> Response:
        if not request.path.startswith("/api/"):
            return response
        client_id = (request.view_args or {}).get("client_id") or g.get("client_id")
        try:
            body = request.get_data(cache=True, as_text=True) or None
        except Exception:  # an unreadable body is still a received request
            body = None
        status = 0 if g.get("fault_dropped") else response.status_code
        try:
            models.record_request(
                db,
                method=request.method,
                path=request.path,
                client_id=client_id,
                status=status,
                body=body,
                fault_rule=g.get("fault_rule"),
            )
        except Exception:
            log.exception("request log failed path=%s", request.path)
        return response
