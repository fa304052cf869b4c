"""A server process for ``bench_ingest``: the emulator or a bare Flask app.

The benchmark runs its client threads in another process so that the
server's throughput is not shared with the client under one GIL.
Usage: ``python -m bench.ingest_server {emulator,bare} {waitress,werkzeug} STORE``;
it prints the URL it listens on, then serves until stdin closes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from flask import Flask, jsonify, request


def bare_app() -> Flask:
    """Parse the JSON and answer success: the floor any Flask service pays."""
    app = Flask("bare")

    @app.post("/v1/batch")
    @app.post("/v1/track")
    def ingest():
        request.get_json(force=True)
        return jsonify({"success": True})

    return app


def emulator_app(store: str) -> Flask:
    from emulator.config import load_config
    from emulator.segment.app import create_app
    from emulator.store import open_database

    return create_app(load_config(), open_database(store))


def serve(app: Flask, server: str):
    if server.startswith("waitress"):
        from emulator.web.server import ServiceServer

        threads = int(server.partition("-")[2] or 8)
        running = ServiceServer("bench", app, threads=threads).start()
        return running.url, running.stop

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{httpd.server_port}", httpd.shutdown


def main(kind: str, server: str, store: str) -> None:
    # seglike up logs one INFO line per request; pay for it as it does
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))
    app = bare_app() if kind == "bare" else emulator_app(store)
    url, stop = serve(app, server)
    print(url, flush=True)
    sys.stdin.read()
    stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
