"""The Segment service's Flask app: the Tracking API routes, thin over ingest.

Every path real clients use is here: the six single-message routes, their
one-letter browser forms, the batch family (``/v1/batch``, ``/v1/import``,
``/v1/import/``, ``/v1/b``), analytics.js metrics (``/v1/m``) and the settings
document analytics.js loads from its CDN. Paths tolerate one trailing slash and
doubled slashes anywhere (Go's client with a trailing-slash endpoint sends a
leading ``//``; a base URL ending in ``/`` joined to ``/track`` gives ``/v1//track``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request

from emulator.config import StackConfig
from emulator.logs import log_safe
from emulator.resources import contracts_dir
from emulator.segment import auth, body, control, messages
from emulator.segment.ingest import Ingestor, Outcome, Submission
from emulator.segment.normalize import CALL_TYPES
from emulator.store import Database
from emulator.web import faults
from emulator.web.app import create_service_app
from emulator.web.errors import APIError

log = logging.getLogger(__name__)

LETTERS = {
    "t": "track",
    "p": "page",
    "i": "identify",
    "g": "group",
    "a": "alias",
    "s": "screen",
}
BATCH_ROUTES = ("/v1/batch", "/v1/import", "/v1/b")
STRICT_HEADER = "X-Seglike-Strict"
CORS_HEADERS = "authorization, content-type, content-encoding, x-retry-count, " + (
    STRICT_HEADER.lower()
)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def create_app(config: StackConfig, db: Database) -> Flask:
    """Build the Segment service of *config* over the store *db*."""
    app = create_service_app(
        "segment",
        openapi=contracts_dir() / "openapi" / "segment.json",
        fault_rules=faults.rules_from_config(config.raw, "segment"),
    )
    app.extensions["seglike.segment"] = Ingestor(config.segment, db)
    app.extensions.setdefault("seglike.stats", [])  # () -> dict merged into stats
    app.extensions.setdefault("seglike.reset", [])  # (source) -> dict, on reset
    app.wsgi_app = PathTolerance(app.wsgi_app)
    db.ensure_schema()
    messages.migrate(db)

    _install_cors(app)
    _install_answer_log(app)
    _mask_access_log()
    for call_type in CALL_TYPES:
        _add_single_route(app, f"/v1/{call_type}", call_type, collect_ip=False)
    for letter, call_type in LETTERS.items():
        _add_single_route(app, f"/v1/{letter}", call_type, collect_ip=True)
    for path in BATCH_ROUTES:
        app.add_url_rule(
            path,
            f"batch_{path.rsplit('/', 1)[1]}",
            _batch_view(collect_ip=path == "/v1/b"),
            methods=["POST"],
        )
    app.add_url_rule("/v1/m", "metrics", _metrics, methods=["POST"])
    # TODO(segment): the pixel API (GET /v1/pixel/<type>?data=<base64>) is not
    # emulated; no SDK uses it and the issue does not ask for it.
    app.add_url_rule(
        "/v1/projects/<write_key>/settings", "settings", _settings, methods=["GET"]
    )
    app.register_blueprint(control.blueprint)
    return app


class PathTolerance:
    """WSGI middleware: ``//v1/batch``, ``/v1//track``, ``/v1/track/`` are served.

    Werkzeug would redirect these (308), which SDKs treat as a failure; the
    original path is kept in the environ for the request log.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response):
        path = environ.get("PATH_INFO", "")
        environ["seglike.route"] = path
        tidy = _SLASHES.sub("/", path)
        if len(tidy) > 1 and tidy.endswith("/"):
            tidy = tidy[:-1]
        environ["PATH_INFO"] = tidy
        return self.wsgi_app(environ, start_response)


_SLASHES = re.compile("/{2,}")


def _ingestor() -> Ingestor:
    return current_app.extensions["seglike.segment"]


def _add_single_route(app: Flask, path: str, call_type: str, collect_ip: bool) -> None:
    def view():
        return _ingest(call_type=call_type, batch=False, collect_ip=collect_ip)

    app.add_url_rule(path, f"single_{path.rsplit('/', 1)[1]}", view, methods=["POST"])


def _batch_view(collect_ip: bool):
    def view():
        return _ingest(call_type=None, batch=True, collect_ip=collect_ip)

    return view


def _submission(call_type: str | None, batch: bool, collect_ip: bool) -> Submission:
    client_ip = request.remote_addr
    if client_ip and ":" in client_ip:
        client_ip = None  # Segment does not collect IPv6 addresses
    return Submission(
        route=request.environ.get("seglike.route", request.path),
        body=None,
        size=request.content_length or 0,
        call_type=call_type,
        batch=batch,
        authorization=request.headers.get("Authorization"),
        client_ip=client_ip,
        collect_ip=collect_ip,
        user_agent=request.headers.get("User-Agent"),
        retry_count=_int_or_none(request.headers.get("X-Retry-Count")),
        method=request.method,
    )


def _ingest(call_type: str | None, batch: bool, collect_ip: bool) -> Response:
    ingestor = _ingestor()
    limits = ingestor.config.limits
    submission = _submission(call_type, batch, collect_ip)
    try:
        submission.strict = _strict_header()
        data = body.read_limited(
            request.stream, request.content_length, limits.request_bytes
        )
        submission.size = len(data)
        data = body.inflate(
            data, request.headers.get("Content-Encoding"), limits.request_bytes
        )
        submission.size = len(data)
        submission.body = data
        submission.body = body.parse_json(data)
        outcome = ingestor.ingest(submission)
    except APIError as error:
        ingestor.record_error(submission, error)
        g.request_recorded = True
        raise
    g.request_recorded = True
    return _render(outcome)


def _render(outcome: Outcome) -> Response:
    g.message_count = outcome.message_count
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    return response


def _strict_header() -> bool | None:
    value = request.headers.get(STRICT_HEADER)
    if value is None:
        return None
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise APIError(
        f"{STRICT_HEADER} must be true or false, not {value!r}.",
        code="invalid_header",
    )


def _int_or_none(value: str | None) -> int | None:
    """A header such as X-Retry-Count, kept only when it is a sane count."""
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number < 2**31 else None


def _metrics() -> Response:
    """analytics.js telemetry: accepted and ignored, like Segment's own."""
    ingestor = _ingestor()
    submission = _submission(None, False, False)
    # drain the body (bounded like any other); its content is not used
    body.read_limited(
        request.stream, request.content_length, ingestor.config.limits.request_bytes
    )
    g.request_recorded = True
    return _render(ingestor.record_metrics(submission))


def _settings(write_key: str) -> Response:
    """The CDN settings document, pointing analytics.js back at this server.

    With ``apiHost`` and ``protocol`` in the ``Segment.io`` block, a page only
    sets ``cdnURL`` for analytics.js to send its events here.
    """
    source = _ingestor().config.source_by_key(write_key)
    if source is None:
        raise APIError(
            f"No source has the write key {auth.mask(write_key)!r}.",
            status=404,
            code="unknown_source",
        )

    return jsonify(
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": write_key,
                    "apiHost": f"{request.host}/v1",
                    "protocol": request.scheme,
                    "addBundledMetadata": True,
                    "unbundledIntegrations": [],
                    "maybeBundledConfigIds": {},
                }
            },
            "plan": {
                "track": {"__default": {"enabled": True, "integrations": {}}},
                "identify": {"__default": {"enabled": True}},
                "group": {"__default": {"enabled": True}},
            },
            "enabledMiddleware": {},
            "metrics": {"sampleRate": 0},
            "remotePlugins": [],
        }
    )


def _install_cors(app: Flask) -> None:
    """Browsers post with Authorization, so every route answers a preflight."""

    @app.before_request
    def _preflight():
        if request.method == "OPTIONS":
            return Response(status=204)
        return None

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        headers = response.headers
        if origin:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
            headers.add("Vary", "Origin")
        else:
            headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            asked = request.headers.get("Access-Control-Request-Headers")
            headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            headers["Access-Control-Allow-Headers"] = (
                f"{CORS_HEADERS}, {asked}" if asked else CORS_HEADERS
            )
            headers["Access-Control-Max-Age"] = "86400"
        return response


def _install_answer_log(app: Flask) -> None:
    """Requests a fault rule answered, or that ended in a 500, join the request log.

    Ingestion records every request it answers itself; these never reach it
    (or fail inside it), and a test asking "what did my SDK get?" needs them.
    """

    @app.after_request
    def _record_unanswered(response: Response) -> Response:
        fault = g.get("fault_rule")
        if g.get("request_recorded") or request.path.startswith("/_emulator/"):
            return response
        if fault is None and response.status_code < 500:
            return response
        try:
            _ingestor().record_answer(
                _submission(None, False, False),
                response.status_code,
                fault=str(fault) if fault is not None else None,
            )
            g.request_recorded = True
        except Exception:  # the answer still goes out; the log line says why
            log.exception("request not recorded route=%s", log_safe(request.path))
        return response


class _MaskWriteKeys(logging.Filter):
    """Paths carry write keys (``/projects/<key>/settings``); logs show them masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and "/projects/" in str(record.args).lower():
            record.args = tuple(
                auth.mask_in_path(arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def _mask_access_log() -> None:
    for name in (
        "emulator.segment.access",
        "emulator.segment.ingest",
        "emulator.web.faults",  # "fault injected ... path=%s"
        __name__,
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskWriteKeys) for f in logger.filters):
            logger.addFilter(_MaskWriteKeys())
