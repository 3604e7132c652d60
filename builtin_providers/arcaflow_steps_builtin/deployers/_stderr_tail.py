"""The last bytes a plugin wrote to stderr, for error messages.

A plugin's stderr is never part of the protocol: it is kept in a bounded tail, so a noisy
plugin can neither block on a full pipe nor grow our memory.
"""

from __future__ import annotations

import threading
from typing import IO, Final, final

from .._task_threads import TaskThread

__all__ = ["DEFAULT_STDERR_LIMIT", "StderrTail", "TailBuffer"]

#: How many bytes of a plugin's stderr we keep (the tail).
DEFAULT_STDERR_LIMIT: Final = 16 * 1024


@final
class TailBuffer:
    """The last ``limit`` bytes appended, and how many were dropped before them.

    Thread safety: safe to share.
    """

    def __init__(self, limit: int = DEFAULT_STDERR_LIMIT) -> None:
        self._limit = limit
        # Guards _buffer and _dropped.
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._dropped = 0

    def append(self, data: bytes) -> None:
        """Keep ``data``, dropping the oldest bytes beyond the limit."""
        with self._lock:
            self._buffer += data
            excess = len(self._buffer) - self._limit
            if excess > 0:
                del self._buffer[:excess]
                self._dropped += excess

    def text(self) -> str:
        """Return the kept tail, decoded leniently, with a marker when bytes were dropped."""
        with self._lock:
            data = bytes(self._buffer)
            dropped = self._dropped
        text = data.decode("utf-8", errors="replace")
        return f"[{dropped} earlier bytes dropped]\n{text}" if dropped else text


@final
class StderrTail:
    """Drain a pipe on a daemon thread (a reused worker) into a :class:`TailBuffer`.

    Thread safety: safe to share; ``text()`` may be called from any thread.
    """

    def __init__(self, pipe: IO[bytes], *, limit: int = DEFAULT_STDERR_LIMIT, name: str) -> None:
        self._pipe = pipe
        self._tail = TailBuffer(limit)
        self._thread = TaskThread(self._drain, name=name)
        self._thread.start()

    def _drain(self) -> None:
        read = getattr(self._pipe, "read1", self._pipe.read)
        try:
            while True:
                chunk = read(65536)
                if not chunk:
                    return
                self._tail.append(chunk)
        except (OSError, ValueError):  # pipe closed under us during close()
            return

    def join(self, timeout: float) -> None:
        """Wait (bounded) until the pipe reached EOF."""
        self._thread.join(timeout)

    def text(self) -> str:
        """Return the kept tail (see :meth:`TailBuffer.text`)."""
        return self._tail.text()
