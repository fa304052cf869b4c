"""Serve a WSGI app on a background thread, the way the stack and tests need it.

waitress is pure Python, multi-threaded and runs several servers in one process,
which is what ``seglike up`` and the pytest plugin both do. ``make bench ARGS=ingest``
measured it against werkzeug's threaded server: level on ``/v1/batch`` (14-18k
events/s either way, within noise) and 20-50 % more ``/v1/track`` requests/s, so it
stays (figures in the README, "Segment ingestion").
"""

from __future__ import annotations

import logging
import threading

from waitress.server import create_server

log = logging.getLogger(__name__)


class ServiceServer:
    """One service listening on *host*:*port* (port 0 picks a free one)."""

    def __init__(
        self, name: str, app, host: str = "127.0.0.1", port: int = 0, threads: int = 8
    ) -> None:
        self.name = name
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident=f"seglike-{name}",
            clear_untrusted_proxy_headers=True,
            # the select loop notices stop() within this time, even with a
            # keep-alive connection open (waitress' default, 1 s, slows tests)
            asyncore_loop_timeout=0.1,
            _start=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.effective_host

    @property
    def port(self) -> int:
        return self._server.effective_port

    @property
    def url(self) -> str:
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> ServiceServer:
        self._thread = threading.Thread(
            target=self._serve, name=f"seglike-{self.name}", daemon=True
        )
        self._thread.start()
        log.info("server started service=%s url=%s", self.name, self.url)
        return self

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            # close() from another thread makes the select loop fail; that is a stop.
            pass

    def stop(self, timeout: float = 5.0) -> None:
        self._server.close()
        # Idle keep-alive connections keep waitress's loop alive until they
        # time out; closing them lets the loop end now.
        for channel in list(self._server._map.values()):
            channel.close()
        if self._thread is not None:
            self._thread.join(timeout)
        log.info("server stopped service=%s", self.name)
