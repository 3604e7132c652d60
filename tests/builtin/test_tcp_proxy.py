"""The test helper tcp_proxy_to leaves no thread behind that could touch a reused descriptor.

A proxy thread still blocked in a TLS read when its socket is closed keeps using the raw
descriptor number OpenSSL holds; once the next test reuses that number (its container's attach
socket), the thread reads and writes there: the plugin decoded a TLS alert byte as an int
(``'int' object has no attribute 'get'``) in test_containers_carry_their_owner[docker].
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_support import make_tls_files, tcp_proxy_to


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[str]:
    """A unix socket server echoing every connection until it ends; yields its path."""
    path = str(tmp_path / "echo.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()

    def echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def echo_accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(connection,), daemon=True).start()

    threading.Thread(target=echo_accept, daemon=True).start()
    try:
        yield path
    finally:
        server.shutdown(socket.SHUT_RDWR)
        server.close()


@pytest.mark.parametrize("use_tls", [False, True], ids=["tcp", "tls"])
def test_proxy_exit_ends_its_threads_while_clients_stay_connected(
    echo_server: str, tmp_path: Path, use_tls: bool
) -> None:
    """Leaving tcp_proxy_to ends every proxy thread, though a client keeps its connection."""
    files = make_tls_files(tmp_path) if use_tls else {}
    server_context: ssl.SSLContext | None = None
    if use_tls:
        server_context = ssl.create_default_context(
            ssl.Purpose.CLIENT_AUTH, cafile=str(files["ca.pem"])
        )
        server_context.load_cert_chain(files["server.pem"], files["server.key"])
    before = set(threading.enumerate())
    with tcp_proxy_to(echo_server, tls=server_context) as address:
        host, port = address.removeprefix("tcp://").split(":")
        raw = socket.create_connection((host, int(port)), timeout=10.0)
        client: socket.socket = raw
        if use_tls:
            client_context = ssl.create_default_context(cafile=str(files["ca.pem"]))
            client = client_context.wrap_socket(raw, server_hostname=host)
        client.sendall(b"ping")
        assert b"ping" == client.recv(4)  # the proxy's threads now wait for more
        proxy_threads = {
            thread for thread in set(threading.enumerate()) - before if "(echo" not in thread.name
        }
        assert proxy_threads
    try:
        assert [] == [thread for thread in proxy_threads if thread.is_alive()]
    finally:
        client.close()
