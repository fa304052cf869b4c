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


# waitress serves one request per thread; long-polls (``/_emulator/messages/wait``,
# capped at 30 s) hold theirs, so eight threads let eight waiters stop ingestion.
DEFAULT_THREADS = 48


class ServiceServer:
    """One service listening on *host*:*port* (port 0 picks a free one)."""

    def __init__(
        self,
        name: str,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self.name = name
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident=f"seglike-{name}",
            clear_untrusted_proxy_headers=True,
            _start=True,
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._trigger_lock = threading.Lock()
        self._closed = False

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
        """waitress's loop, one select round at a time, so that stop() can end it.

        Closing sockets from another thread does not wake a select() in
        progress; stop() sets the flag and pulls waitress's trigger instead, and
        the sockets are closed here, by the only thread that selects on them.
        """
        server = self._server
        try:
            while not self._stopping.is_set():
                server.asyncore.loop(
                    timeout=server.adj.asyncore_loop_timeout,
                    map=server._map,
                    use_poll=server.adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            # Under the lock: stop() must not write to a trigger pipe whose file
            # descriptor was closed here (and maybe already reused elsewhere).
            with self._trigger_lock:
                self._closed = True
                server.close()
                # idle keep-alive connections would otherwise linger until timeout
                for channel in list(server._map.values()):
                    channel.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread.is_alive():
            with self._trigger_lock:
                if not self._closed:
                    self._server.pull_trigger()
            self._thread.join(timeout)
        elif self._thread is None:
            self._server.close()
        self._server.task_dispatcher.shutdown(timeout=timeout)
        log.info("server stopped service=%s", self.name)
