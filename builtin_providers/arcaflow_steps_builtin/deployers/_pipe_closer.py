"""Closing a plugin's pipes on reusable helper threads, waited for a bounded time.

Closing a buffered pipe takes its lock, which a thread blocked in a read or write of it holds:
a grandchild of the plugin that kept the other end open would block the closer until it ends.
So pipes are closed on a helper thread and the caller waits at most a bound (the fork server
kills such grandchildren when the plugin ends; see :mod:`._zygote`). Helpers are kept and
reused: starting a thread for every close cost ~0.1 ms of CPU, twice per plugin, which a
foreach of many plugin steps paid hundreds of times. An idle helper ends after
``_IDLE_SECONDS`` (soon: a finished step leaves no thread behind for long); a helper stuck in
a close is simply not idle, and the next close gets another.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Sequence
from typing import IO, Final, final

__all__ = ["HELPER_NAME", "close_pipes"]

#: Seconds an idle helper waits for the next close before it ends.
_IDLE_SECONDS: Final = 0.25
#: The helpers' thread name.
HELPER_NAME: Final = "pipe-closer"


@final
class _Job:
    def __init__(self, pipes: Sequence[IO[bytes]]) -> None:
        self.pipes = pipes
        self.done = threading.Event()

    def run(self) -> None:
        try:
            for pipe in self.pipes:
                with contextlib.suppress(OSError, ValueError):
                    pipe.close()
        finally:
            self.done.set()


@final
class _PipeClosers:
    """A queue of close jobs and the helper threads that run them.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _jobs and _idle.
        self._cond = threading.Condition(threading.Lock())
        self._jobs: collections.deque[_Job] = collections.deque()
        self._idle = 0

    def close(self, pipes: Sequence[IO[bytes]], wait: float) -> None:
        job = _Job(pipes)
        with self._cond:
            self._jobs.append(job)
            needs_helper = self._idle < len(self._jobs)
            self._cond.notify()
        if needs_helper:
            try:
                threading.Thread(target=self._serve, name=HELPER_NAME, daemon=True).start()
            except RuntimeError:  # at interpreter shutdown no thread starts: close it here
                with self._cond:
                    queued = job in self._jobs
                    if queued:
                        self._jobs.remove(job)
                if queued:
                    job.run()
        job.done.wait(wait)

    def _serve(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    self._idle += 1
                    try:
                        self._cond.wait(_IDLE_SECONDS)
                    finally:
                        self._idle -= 1
                if not self._jobs:
                    return
                job = self._jobs.popleft()
            job.run()


_CLOSERS: Final = _PipeClosers()


def close_pipes(pipes: Sequence[IO[bytes]], wait: float) -> None:
    """Close ``pipes`` on a helper thread; wait at most ``wait`` seconds for it."""
    _CLOSERS.close(pipes, wait)
