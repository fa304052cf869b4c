"""Errors that become precise JSON responses.

Every error a service raises on purpose is an :class:`APIError`: it knows its
status, a short machine code, a sentence for people, and (for bad bodies) the JSON
path of the offending value. Anything else that escapes a view is a bug; it is
logged with its traceback and still answered with JSON, never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from emulator.jsontext import json_path

log = logging.getLogger(__name__)

__all__ = ["APIError", "install_error_handlers", "json_path"]


class APIError(Exception):
    """An error answered to the client as ``{"code": ..., "message": ...}``."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.path = path
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            body["path"] = self.path
        body.update(self.extra)
        return body


def install_error_handlers(app: Flask) -> None:
    """Answer every error of *app* with a JSON body."""

    @app.before_request
    def _redirect_as_json():
        # Flask returns routing redirects as Werkzeug's HTML page, past every
        # error handler; catch them while they are still pending.
        pending = request.routing_exception
        if isinstance(pending, RequestRedirect):
            return redirect_response(pending)
        return None

    @app.errorhandler(APIError)
    def _api_error(error: APIError):
        response = jsonify(error.body())
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        response = jsonify({"code": code, "message": error.description})
        response.status_code = error.code or 500
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error in %s", app.name)
        response = jsonify(
            {"code": "internal_error", "message": f"Emulator bug: {error!r}"}
        )
        response.status_code = 500
        return response


def redirect_response(redirect: RequestRedirect):
    """A 308 with ``Location`` and a JSON body, like every other answer."""
    response = jsonify(
        {
            "code": "redirect",
            "message": f"This resource is at {redirect.new_url}; repeat the "
            "request there.",
        }
    )
    response.status_code = redirect.code
    response.headers["Location"] = redirect.new_url
    return response
