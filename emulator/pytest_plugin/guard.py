"""Keep tests away from the real Segment and LiveLike services.

A test that forgets to point an SDK at the emulator would otherwise send events to
a real workspace (it has happened to analytics teams more than once). While the
guard is installed, resolving one of the vendors' host names fails at the socket
level, and ``requests`` refuses such URLs even through a proxy. Each blocked
attempt is also reported to a callback, so that the test fails even when an SDK
swallows the error in its background thread.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Domains of the real services; a host is blocked if it is one of them or
#: any sub-domain (``api.segment.io``, ``cf-blast.livelikecdn.com``...).
REAL_SERVICE_DOMAINS = (
    "segment.io",
    "segment.com",
    "segmentapis.com",
    "segment.build",
    "livelikecdn.com",
    "livelike.com",
)

OPT_OUT_MARKER = "emulator_allow_real_services"


class RealServiceBlocked(ConnectionError):
    """Raised when code under test tries to reach a real Segment or LiveLike host."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"The emulator's pytest plugin blocked a connection to {host!r}, a real "
            "Segment/LiveLike host. Point the client at the emulator (`segment.url`, "
            "`livelike.url`) or mark the test with "
            f"@pytest.mark.{OPT_OUT_MARKER} to allow it."
        )


def is_real_service(host: str | bytes | None) -> bool:
    """True when *host* names one of the vendors' real services."""
    if host is None:
        return False
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")

    host = host.lower().rstrip(".")
    return any(
        host == domain or host.endswith("." + domain) for domain in REAL_SERVICE_DOMAINS
    )


class NetworkGuard:
    """Patch name resolution and ``requests`` while installed; restore on removal.

    TODO(plugin): only this process is guarded; a child process (the Node SDK
    test runs one) or a connection to a bare IP address goes through.
    """

    def __init__(self, on_blocked: Callable[[RealServiceBlocked], None] | None = None):
        self.on_blocked = on_blocked
        self.blocked: list[str] = []
        self._saved: list[tuple[object, str, object]] = []

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def install(self) -> NetworkGuard:
        if self.installed:
            return self

        original_getaddrinfo = socket.getaddrinfo

        def guarded_getaddrinfo(host, *args, **kwargs):
            __tracebackhide__ = True
            self._check(host)
            return original_getaddrinfo(host, *args, **kwargs)

        self._patch(socket, "getaddrinfo", guarded_getaddrinfo)
        self._patch_requests()
        return self

    def _patch_requests(self) -> None:
        # A proxy resolves the vendor's name for us, so check the URL as well.
        try:
            from requests.adapters import HTTPAdapter
            from requests.exceptions import ConnectionError as RequestsConnectionError
        except ImportError:  # pragma: no cover - requests is a dependency
            return

        original_send = HTTPAdapter.send

        def guarded_send(adapter, request, *args, **kwargs):
            __tracebackhide__ = True
            try:
                self._check(urlsplit(request.url).hostname)
            except RealServiceBlocked as error:
                raise RequestsConnectionError(error, request=request) from error
            return original_send(adapter, request, *args, **kwargs)

        self._patch(HTTPAdapter, "send", guarded_send)

    def _patch(self, owner: object, name: str, replacement: object) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def _check(self, host) -> None:
        __tracebackhide__ = True
        if not is_real_service(host):
            return

        error = RealServiceBlocked(
            host.decode() if isinstance(host, bytes) else str(host)
        )
        self.blocked.append(error.host)
        log.warning("real service blocked host=%s", error.host)
        if self.on_blocked is not None:
            self.on_blocked(error)
        raise error

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def __enter__(self) -> NetworkGuard:
        return self.install()

    def __exit__(self, *exc_info) -> None:
        self.uninstall()
