"""The connection of the ``docker`` deployer: one attached container (see :mod:`.docker`).

The attach stream multiplexes stdout and stderr in frames (8-byte header: stream, 3 zero
bytes, big-endian length). One demultiplexing thread per container copies stdout frames into
a pipe — the ``stdout`` the ATP client reads — and keeps the last 16 KiB of stderr frames in
a tail buffer. A ``wait?condition=removed`` response, opened before the container started,
is read by a second thread and yields the exit code.

When the plugin has ended. The plugin is the container's PID 1: when it exits, the kernel
kills every other process of the container's PID namespace. Docker ends an attach stream only
once the container's process has exited and containerd has deleted its task (it closes the
container's output streams after that); the plugin closing its stdout and stderr, or our
half-close of stdin, does not end it, nor does a child process holding the container's stdout
(it dies with PID 1). So the attach stream ending by itself (a read returns EOF before we shut
the socket) proves that no process of the container runs any more. It comes 30-60 ms before
the daemon has torn down the container's network, marked it stopped and removed it
(``AutoRemove``): ``close()`` returns at that proof, and the removal finishes in the
background, owned by the deployer (:class:`ContainerRemovals`): the wait thread, when the
removal is reported, forgets the container; the deployer's ``close()`` waits for every
pending removal (bounded) and force-removes what is not gone by then; at interpreter exit
the same is done for whatever is left. Without that proof (the stream did not end within the
grace period, or ended because the connection to the daemon broke) ``close()`` force-removes
the container and waits for its removal, as before.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import IO, Any, Final, final

from ._container_reaper import at_exit
from ._live import LiveSet
from ._stderr_tail import TailBuffer

__all__ = ["ContainerRemovals", "DockerPluginConnection", "live_container_count"]

_STDERR_LIMIT: Final = 16 * 1024
_GRACE_SHARE: Final = 0.5
#: Seconds a force removal's own wait for the daemon's ``removed`` report may take.
_FORCED_REMOVAL_WAIT: Final = 2.0
_LOG = logging.getLogger("arcaflow_steps_builtin.deployers.docker")

#: Connections whose container is not known to be removed yet: not closed, or closed with the
#: removal still pending; at interpreter exit each is closed and its removal awaited.
_LIVE: Final[LiveSet[DockerPluginConnection]] = LiveSet(
    lambda connection: connection.close_and_remove(timeout=1.0), at_exit=at_exit
)


def live_container_count() -> int:
    """Return how many containers this process started and has not seen removed (for tests)."""
    return len(_LIVE)


@final
class ContainerRemovals:
    """The containers of one deployer whose plugin has ended and whose removal is pending.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _pending.
        self._lock = threading.Lock()
        self._pending: set[DockerPluginConnection] = set()

    def add(self, connection: DockerPluginConnection) -> None:
        """Record a closed connection whose container the daemon has not removed yet."""
        with self._lock:
            self._pending.add(connection)

    def discard(self, connection: DockerPluginConnection) -> None:
        """Forget a connection whose container is removed."""
        with self._lock:
            self._pending.discard(connection)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def wait(self, timeout: float) -> None:
        """Wait until every pending container is removed, force-removing the late ones.

        Bounded: ``timeout`` for the daemon's own removals, then each late container is
        force-removed (one API call each, bounded by the HTTP timeout).
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._pending)
        for connection in pending:
            connection.await_removal(max(deadline - time.monotonic(), 0.0))


def _describe_exit_code(code: int) -> str:
    text = f"exit status {code}"
    if code > 128:
        with contextlib.suppress(ValueError):
            text += f" (killed by {signal.Signals(code - 128).name})"
    return text


def _raw_socket(attached: Any) -> Any:
    """Return the object to recv()/sendall() on from docker-py's attach_socket() result."""
    return getattr(attached, "_sock", attached)  # socket.SocketIO wraps the real socket


def _ssh_process(sock: Any) -> Any:
    """Return the ``ssh`` process behind docker-py's ssh-client socket, else None.

    With ``ssh://`` hosts docker-py runs ``ssh HOST docker system dial-stdio`` and its
    ``SSHSocket`` (an unconnected ``socket.socket`` subclass) reads and writes that process's
    pipes, so it must be read and half-closed through them.
    """
    return getattr(sock, "proc", None)


def _end_ssh_process(sock: Any) -> None:
    """Stop and reap the ssh process of an ssh:// attach (docker-py leaves it running)."""
    process = _ssh_process(sock)
    if process is None:
        return
    process.terminate()
    with contextlib.suppress(Exception):
        process.wait(2.0)
    for pipe in (process.stdin, process.stdout):
        with contextlib.suppress(Exception):
            pipe.close()
    if isinstance(sock, socket.socket):  # its close() skips socket.close(): free the fd
        socket.socket.close(sock)


def _reader(sock: Any) -> Callable[[int], bytes]:
    """Return a function reading what is available (at most n bytes) from the attach stream."""
    process = _ssh_process(sock)
    if process is not None:
        return process.stdout.read1  # type: ignore[no-any-return]
    return sock.recv  # type: ignore[no-any-return]


def _half_close(sock: Any) -> None:
    """Signal EOF on the plugin's stdin while still reading its output."""
    process = _ssh_process(sock)
    if process is not None:
        process.stdin.close()
    elif isinstance(sock, ssl.SSLSocket):
        # SSLSocket.shutdown() drops the TLS session, so reading would go on in plain text,
        # and the ssl module cannot send close_notify for one direction only. Over TLS the
        # plugin sees no EOF: close() relies on CLIENT_DONE, then on force removal.
        return
    elif isinstance(sock, socket.socket):
        sock.shutdown(socket.SHUT_WR)
    elif hasattr(sock, "shutdown_write"):  # paramiko channel (ssh:// with paramiko)
        sock.shutdown_write()


class _SocketStdin(io.RawIOBase):
    """The plugin's stdin: writes go to the attach socket; close() half-closes it."""

    def __init__(self, sock: Any) -> None:
        super().__init__()
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        try:
            self._sock.sendall(view)
        except OSError as exc:
            raise BrokenPipeError(f"plugin container stdin is closed: {exc}") from exc
        return len(view)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(OSError):
                _half_close(self._sock)
        super().close()


@final
class DockerPluginConnection:
    """A plugin running in a Docker container, attached over the Docker API.

    Thread safety: safe to share; ``stdin`` has one writer and ``stdout`` one reader (the ATP
    client guarantees both); ``close()`` may be called from any thread, repeatedly.
    """

    def __init__(
        self,
        *,
        api: Any,
        container_id: str,
        name: str,
        image: str,
        attached: Any,
        waiter: Any,
        removals: ContainerRemovals | None = None,
        on_started: Callable[[], None] | None = None,
        stderr_limit: int = _STDERR_LIMIT,
    ) -> None:
        """``removals``: where ``close()`` records a removal left to finish in the background
        (the deployer's; a private one when None). ``on_started`` (idempotent): called when
        the plugin has written its first bytes, its output ended, or ``close()`` began (the
        deployer's start queue gives its place to the next start)."""
        self._api = api
        self._removals = removals if removals is not None else ContainerRemovals()
        self._on_started = on_started
        self.container_id: Final = container_id
        self.name: Final = name
        self._description = f"docker container {name} ({image})"
        self._attached = attached
        self._sock = _raw_socket(attached)
        if hasattr(self._sock, "settimeout"):  # requests left the HTTP timeout on it
            self._sock.settimeout(None)
        read_fd, self._stdout_w = os.pipe()
        self._stdout = os.fdopen(read_fd, "rb")
        self._stdin = io.BufferedWriter(_SocketStdin(self._sock))
        self._stderr = TailBuffer(stderr_limit)
        self._eof = threading.Event()  # the attach stream ended (for whatever reason)
        # The attach stream ended by itself: the container's process has exited (see above).
        self._ended = threading.Event()
        self._exited = threading.Event()  # the wait request returned (or failed)
        self._settled = threading.Event()  # _ended or _exited: what close() waits for
        self._exit_code: int | None = None
        self._removed = False  # set by the waiter thread when the daemon removed it
        # Guards _closed and _shutting; close() holds it for its whole (bounded) duration.
        self._close_lock = threading.Lock()
        self._closed = False
        self._shutting = False  # close() is shutting the attach socket: EOF proves nothing
        # Guards _removal_done: whether the removal was seen (the container left _LIVE).
        self._removal_lock = threading.Lock()
        self._removal_done = False
        _LIVE.add(self)
        self._demux_thread = threading.Thread(
            target=self._demux, name=f"docker-demux-{name}", daemon=True
        )
        self._waiter_thread = threading.Thread(
            target=self._wait, args=(waiter,), name=f"docker-wait-{name}", daemon=True
        )
        self._demux_thread.start()
        self._waiter_thread.start()

    @property
    def stdin(self) -> IO[bytes]:
        """The plugin's stdin (buffered: flush after every message)."""
        return self._stdin

    @property
    def stdout(self) -> IO[bytes]:
        """The plugin's stdout, demultiplexed from the attach stream."""
        return self._stdout

    @property
    def description(self) -> str:
        """Say what runs, e.g. ``docker container arcaflow_docker_0a1b2c3d4e (image)``."""
        return self._description

    def stderr_tail(self) -> str:
        """Return the last bytes the plugin wrote to stderr."""
        return self._stderr.text()

    def exit_status(self) -> str | None:
        """Return how the plugin ended (``exit status 1``), or None while it runs."""
        if not self._exited.is_set() and self._eof.is_set():
            self._exited.wait(1.0)  # its output ended: the exit code is on its way
        code = self._exit_code
        return None if code is None else _describe_exit_code(code)

    def _demux(self) -> None:
        read = _reader(self._sock)
        buffer = bytearray()
        try:
            while True:
                while len(buffer) < 8 or len(buffer) < 8 + int.from_bytes(buffer[4:8], "big"):
                    chunk = read(65536)
                    if self._on_started is not None:
                        self._started()
                    if not chunk:
                        if not self._shutting:
                            self._ended.set()
                        return
                    buffer += chunk
                stream = buffer[0]
                size = int.from_bytes(buffer[4:8], "big")
                payload = bytes(buffer[8 : 8 + size])
                del buffer[: 8 + size]
                if stream == 1:
                    view = memoryview(payload)
                    while view:
                        written = os.write(self._stdout_w, view)
                        view = view[written:]
                elif stream == 2:
                    self._stderr.append(payload)
        except (OSError, ValueError):  # the reader or the socket was closed under us
            return
        finally:
            with contextlib.suppress(OSError):
                os.close(self._stdout_w)
            self._eof.set()
            if self._ended.is_set():
                self._settled.set()

    def _started(self) -> None:
        """Report the start as over (from the demultiplexer or close(); a race may report
        it twice)."""
        on_started, self._on_started = self._on_started, None
        if on_started is not None:
            on_started()

    def _wait(self, waiter: Any) -> None:
        try:
            result = waiter.json()
            self._exit_code = int(result["StatusCode"])
            self._removed = True
        except Exception:  # any transport failure leaves the exit code unknown
            _LOG.debug("waiting for %s failed", self._description, exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                waiter.close()
            self._exited.set()
            self._settled.set()
        if self._removed:
            self._removal_seen()

    def _removal_seen(self) -> None:
        """The container is gone: forget it (once)."""
        with self._removal_lock:
            if self._removal_done:
                return
            self._removal_done = True
        _LIVE.discard(self)
        self._removals.discard(self)

    def _removal_pending(self) -> None:
        """Leave the removal to finish in the background, owned by the deployer."""
        with self._removal_lock:
            if not self._removal_done:
                self._removals.add(self)

    def _force_remove(self) -> None:
        try:
            self._api.remove_container(self.container_id, force=True)
        except Exception as exc:  # logged: close() must not raise
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status not in (404, 409):  # already gone / removal already in progress
                _LOG.warning("cannot remove %s: %s", self._description, exc)

    def kill(self) -> None:
        """Force-remove the container now, even while a graceful close() is waiting."""
        self._force_remove()  # a waiting close() wakes up: the wait request returns
        self.close(timeout=0.0)

    def has_ended(self) -> bool:
        """Return whether the plugin is known to have ended (its container may still exist)."""
        return self._ended.is_set() or self._removed

    def await_removal(self, timeout: float) -> None:
        """Wait until the daemon removed the container; force-remove it after ``timeout``."""
        if self._exited.wait(timeout) and self._removed:
            return
        self._force_remove()
        if self._exited.wait(_FORCED_REMOVAL_WAIT) and self._removed:
            return
        self._removal_seen()  # removed by force (or the daemon is unreachable: logged)

    def close_and_remove(self, timeout: float) -> None:
        """Close, then wait until the container is removed (interpreter exit)."""
        self.close(timeout)
        self.await_removal(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """EOF to the plugin, wait (half the timeout) for it to end, else force-remove.

        Returns once the plugin has ended; its container's removal may still be finishing
        (recorded with the deployer's :class:`ContainerRemovals`). Idempotent, bounded.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._started()
            deadline = time.monotonic() + max(timeout, 0.1)
            with contextlib.suppress(OSError, ValueError):
                self._stdin.close()
            self._settled.wait(max(timeout, 0.1) * _GRACE_SHARE)
            if not self.has_ended():
                self._force_remove()
                self._exited.wait(max(deadline - time.monotonic(), 0.05))
            if self._removed:
                self._removal_seen()
            else:  # the wait thread, or else the deployer's close, sees the removal through
                self._removal_pending()
            self._shutting = True
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            # The HTTP response docker-py keeps on the socket holds a makefile() reference:
            # the descriptor is only freed once that is closed too.
            response = getattr(self._attached, "_response", None)
            closables: list[Any] = [self._sock, self._attached, response, self._stdout]
            for closable in closables:
                if closable is not None:
                    with contextlib.suppress(Exception):
                        closable.close()
            _end_ssh_process(self._sock)
            self._demux_thread.join(max(deadline - time.monotonic(), 0.05))
            tail = self._stderr.text()
            if tail:
                _LOG.debug("%s stderr:\n%s", self._description, tail)
