"""Closing a plugin's pipes on a helper thread, waited for a bounded time.

Closing a buffered pipe takes its lock, which a thread blocked in a read or write of it holds:
a grandchild of the plugin that kept the other end open would block the closer until it ends.
So pipes are closed on a helper (a :class:`~arcaflow_steps_builtin._task_threads.TaskThread`:
a reused worker, not a thread started per close) and the caller waits at most a bound (the
fork server kills such grandchildren when the plugin ends; see :mod:`._zygote`). A helper
stuck in a close is simply busy; the next close gets another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import IO, Final

from .._task_threads import TaskThread

__all__ = ["HELPER_NAME", "close_pipes"]

#: The helpers' thread name while they close.
HELPER_NAME: Final = "pipe-closer"


def _close(pipes: Sequence[IO[bytes]]) -> None:
    for pipe in pipes:
        with contextlib.suppress(OSError, ValueError):
            pipe.close()


def close_pipes(pipes: Sequence[IO[bytes]], wait: float) -> None:
    """Close ``pipes`` on a helper thread; wait at most ``wait`` seconds for it."""
    closer = TaskThread(_close, name=HELPER_NAME, args=(pipes,))
    try:
        closer.start()
    except RuntimeError:  # at interpreter shutdown no thread starts: close them here
        _close(pipes)
        return
    closer.join(wait)
