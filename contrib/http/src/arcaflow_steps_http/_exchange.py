"""One HTTP request/response exchange that another thread can abort.

``http.client`` is used directly (no dependency) so the kit can reach the socket: ``abort()``
shuts it down, which makes the blocking ``connect``/``recv`` in the worker thread fail at once.
That is how closing an ``http`` step is bounded even against a server that never answers.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

__all__ = ["AbortedError", "ExchangeError", "HttpExchange", "HttpResponse"]


class ExchangeError(Exception):
    """The request could not be made or the response not read (DNS, refused, timeout...)."""


class AbortedError(Exception):
    """The exchange was aborted from another thread."""


@attrs.frozen(kw_only=True)
class HttpResponse:
    """What came back.

    Thread safety: safe to share (immutable).
    """

    status: int
    reason: str
    #: Header names lower-cased; repeated headers joined with ", ".
    headers: Mapping[str, str]
    body: str
    #: Whether the body was longer than the limit and cut.
    truncated: bool


class HttpExchange:
    """Sends one request and reads its response; ``abort()`` may be called from any thread.

    Thread safety: ``perform`` on one thread, ``abort`` from any thread.
    """

    def __init__(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: str | None,
        timeout: float,
        max_body_bytes: int,
    ) -> None:
        self._method = method
        self._url = url
        self._headers = dict(headers)
        self._body = body
        self._timeout = timeout
        self._max_body_bytes = max_body_bytes
        # Guards _connection and _aborted.
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None
        self._aborted = False

    def perform(self) -> HttpResponse:
        """Make the request; raise :class:`ExchangeError` or :class:`AbortedError`."""
        parts = urlsplit(self._url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ExchangeError(f"cannot request {self._url!r}: only http:// and https:// URLs")
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname, parts.port, timeout=self._timeout)
        with self._lock:
            if self._aborted:
                raise AbortedError
            self._connection = connection
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.connect()
            if self._is_aborted():  # abort() ran while connecting, before it saw the socket
                raise AbortedError
            connection.request(
                self._method,
                target,
                body=None if self._body is None else self._body.encode(),
                headers=self._headers,
            )
            response = connection.getresponse()
            data = response.read(self._max_body_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            if self._is_aborted():
                raise AbortedError from exc
            raise ExchangeError(f"{self._method} {self._url} failed: {exc!r}") from exc
        finally:
            connection.close()
        if self._is_aborted():
            raise AbortedError
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return HttpResponse(
            status=response.status,
            reason=response.reason,
            headers=headers,
            body=data[: self._max_body_bytes].decode("utf-8", errors="replace"),
            truncated=len(data) > self._max_body_bytes,
        )

    def abort(self) -> None:
        """Make a running ``perform`` fail with :class:`AbortedError` as soon as possible."""
        with self._lock:
            self._aborted = True
            connection = self._connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                return

    def _is_aborted(self) -> bool:
        with self._lock:
            return self._aborted
