"""A small real HTTP server on 127.0.0.1 for the tests, run as its own process.

It prints its port on the first line of stdout and serves until its stdin closes:

* ``/status/<code>`` answers with that status and body ``status <code>``;
* ``/echo`` answers 200 with a JSON document of the method, path, headers and body it got;
* ``/slow?seconds=<s>`` sends the headers, then waits before the body (for close tests);
* ``/big?bytes=<n>`` answers with ``n`` bytes of ``x``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    """Answers the test endpoints."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test-Server", "yes")
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self._answer(code, f"status {code}".encode())
        elif url.path == "/echo":
            document = {
                "method": self.command,
                "path": self.path,
                "headers": {key.lower(): value for key, value in self.headers.items()},
                "body": body.decode(),
            }
            self._answer(200, json.dumps(document).encode(), "application/json")
        elif url.path == "/slow":
            seconds = float(query.get("seconds", ["30"])[0])
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.flush()
            time.sleep(seconds)
            self.wfile.write(b"done")
        elif url.path == "/big":
            self._answer(200, b"x" * int(query.get("bytes", ["0"])[0]))
        else:
            self._answer(404, b"not found")

    # http.server dispatches to do_<METHOD>; the names are its API.
    do_GET = _handle  # noqa: N815
    do_POST = _handle  # noqa: N815
    do_PUT = _handle  # noqa: N815
    do_DELETE = _handle  # noqa: N815


def main() -> None:
    """Serve on an ephemeral loopback port until stdin reaches EOF."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
