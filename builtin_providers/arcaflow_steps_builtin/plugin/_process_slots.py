"""How many plugin processes this process may hold open at once: the open file limit's share.

A plugin process holds up to 7 descriptors here while it is forked (three pipes), 4 while it
runs (stdin, stdout, stderr, pidfd). Without a bound, many plugin steps at once under a low
``ulimit -n`` fail with EMFILE; with it, a deploy waits for a slot instead. Only plugin
processes take slots (a shared process takes one for all its runs), so steps of other kinds
are never queued by it. A slot is taken before a process is deployed and given back when the
process is closed (or its deploy failed).
"""

from __future__ import annotations

import logging
import resource
import threading
from collections.abc import Callable
from typing import Final, final

__all__ = ["DESCRIPTORS_PER_PROCESS", "ProcessSlots", "process_slots"]

#: Descriptors a plugin process holds in this process at its peak (three pipes while it is
#: forked, then its stdin, stdout, stderr and pidfd).
DESCRIPTORS_PER_PROCESS: Final = 7
#: Descriptors kept for the process itself (interpreter, fork server sockets, probes).
_DESCRIPTORS_RESERVED: Final = 32
#: Seconds between checks of ``cancelled`` while waiting (a wake-up normally comes first).
_RECHECK: Final = 1.0

_LOG: Final = logging.getLogger("arcaflow_steps_builtin.plugin")


@final
class ProcessSlots:
    """A counting gate on open plugin processes; ``bound`` None means no bound.

    Thread safety: safe to share; :meth:`take` blocks, everything else returns at once.
    """

    def __init__(self, bound: int | None) -> None:
        self.bound: Final = bound
        # Guards _open, _generation and _noted.
        self._cond = threading.Condition()
        self._open = 0
        self._generation = 0  # bumped by every release and wake-up
        self._noted = False

    @classmethod
    def from_open_file_limit(cls) -> ProcessSlots:
        """Return slots for what RLIMIT_NOFILE's soft limit allows (unbounded if unlimited)."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return cls(None)
        return cls(max(1, (soft - _DESCRIPTORS_RESERVED) // DESCRIPTORS_PER_PROCESS))

    @property
    def open(self) -> int:
        """Return how many slots are taken."""
        with self._cond:
            return self._open

    def take(
        self,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        make_room: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Take a slot, waiting for one; return False when ``cancelled()`` came true first.

        When all are taken, ``make_room()`` may close an unused process (True if it did)
        before waiting. A waiter wakes on every :meth:`release` and :meth:`wake`.
        """
        while True:
            with self._cond:
                if self.bound is None or self._open < self.bound:
                    self._open += 1
                    return True
                if cancelled():
                    return False
                generation = self._generation
            if make_room():
                continue
            with self._cond:
                if not self._noted:
                    self._noted = True
                    _LOG.warning(
                        "running at most %d plugin processes at once (open file limit)",
                        self.bound,
                    )
                while self._generation == generation and not cancelled():
                    self._cond.wait(_RECHECK)

    def release(self) -> None:
        """Give a slot back (its process is closed)."""
        with self._cond:
            self._open -= 1
            self._generation += 1
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake every waiter, so one whose step was cancelled stops waiting."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()


_slots: ProcessSlots | None = None
_slots_lock = threading.Lock()


def process_slots() -> ProcessSlots:
    """Return this process's slots, sized by the open file limit when first asked."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = ProcessSlots.from_open_file_limit()
        return _slots
