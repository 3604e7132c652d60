"""One command in its own process group, with bounded tails of its output.

The command is started with ``start_new_session=True``, so it leads a new process group and
everything it starts (``sh -c 'a | b'``, background jobs) belongs to that group. Stopping the
step signals the whole group, never just the leader, and the group is killed once more after the
leader exits, so no grandchild outlives the step. Two reader threads drain stdout and stderr
into :class:`TailBuffer` s (so a chatty command never blocks on a full pipe) and one writer
thread feeds stdin; :meth:`ShellProcess.cleanup` joins them all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Final

__all__ = ["ShellProcess", "TailBuffer"]

_CHUNK: Final = 65536


class TailBuffer:
    """The last ``limit`` bytes written to it.

    Thread safety: safe to share.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        # Guards _data and _total.
        self._lock = threading.Lock()
        self._data = bytearray()
        self._total = 0

    def append(self, chunk: bytes) -> None:
        """Add ``chunk``, keeping only the last ``limit`` bytes."""
        with self._lock:
            self._total += len(chunk)
            self._data += chunk
            if len(self._data) > self._limit:
                del self._data[: len(self._data) - self._limit]

    def text(self) -> str:
        """Return the tail decoded as UTF-8 (invalid bytes replaced)."""
        with self._lock:
            return self._data.decode("utf-8", errors="replace")

    def total(self) -> int:
        """Return how many bytes were written in all."""
        with self._lock:
            return self._total


class ShellProcess:
    """A started command: its process group, output tails and helper threads.

    Thread safety: safe to share; ``stop``/``kill`` may be called from any thread.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None,
        env: Mapping[str, str] | None,
        stdin: str | None,
        tail_bytes: int,
        name: str,
    ) -> None:
        """Start ``argv``; raises ``OSError`` when it cannot be started."""
        environment = None if env is None else {**os.environ, **env}
        self._process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=environment,
            start_new_session=True,
        )
        self.pid: Final = self._process.pid
        self.stdout: Final = TailBuffer(tail_bytes)
        self.stderr: Final = TailBuffer(tail_bytes)
        self._threads = [
            threading.Thread(
                target=_drain, args=(self._process.stdout, self.stdout), name=f"{name}-stdout"
            ),
            threading.Thread(
                target=_drain, args=(self._process.stderr, self.stderr), name=f"{name}-stderr"
            ),
        ]
        if stdin is not None:
            self._threads.append(
                threading.Thread(
                    target=_feed, args=(self._process.stdin, stdin), name=f"{name}-stdin"
                )
            )
        for thread in self._threads:
            thread.start()

    def wait(self, timeout: float | None) -> int | None:
        """Wait up to ``timeout`` seconds for the leader to exit; return its code or None."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (nothing when it is already gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def stop(self, grace: float) -> int:
        """SIGTERM the group, wait ``grace`` seconds, then SIGKILL it; return the exit code."""
        self.signal_group(signal.SIGTERM)
        code = self.wait(grace)
        if code is None:
            return self.kill()
        return code

    def kill(self) -> int:
        """SIGKILL the group and reap the leader; return its exit code."""
        self.signal_group(signal.SIGKILL)
        return self._process.wait()

    def cleanup(self, timeout: float) -> None:
        """Kill what is left of the group, then join the helper threads (bounded)."""
        self.signal_group(signal.SIGKILL)
        for thread in self._threads:
            thread.join(timeout)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


def _drain(stream: IO[bytes] | None, tail: TailBuffer) -> None:
    if stream is None:
        return
    fd = stream.fileno()
    while True:
        try:
            chunk = os.read(fd, _CHUNK)
        except OSError:
            return
        if not chunk:
            return
        tail.append(chunk)


def _feed(stream: IO[bytes] | None, text: str) -> None:
    if stream is None:
        return
    try:
        stream.write(text.encode())
    except OSError:  # the command exited without reading all of it
        pass
    finally:
        with contextlib.suppress(OSError):
            stream.close()
