"""Opt in to the conformance kit; run a real HTTP server on loopback for the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["arcaflow_steps.testing"]

SERVER = Path(__file__).resolve().parent / "http_test_server.py"


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The base URL of a real HTTP server on 127.0.0.1 (its own process)."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    port = int(process.stdout.readline())
    yield f"http://127.0.0.1:{port}"
    process.stdin.close()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
