"""Delivering a step's events to its observers: in order, outside the guard's lock.

Theory of operation: the guard appends events to its history's outbox while it holds its lock.
After releasing it, the reporting thread calls :meth:`EventDelivery.flush`. One thread at a
time delivers a step's events (the first to find the outbox non-empty); another thread that
flushes meanwhile returns at once, and the delivering thread picks its events up on its next
round. The flag and the outbox share the guard's lock, so an event appended while the
delivering thread decides to stop is never stranded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Final, final

from ._events import StepEvent, StepObserver

__all__ = ["EventDelivery"]

_log: Final = logging.getLogger("arcaflow_steps.runner")


@final
class EventDelivery:
    """Delivers the events ``take`` returns to ``observers``, one delivering thread a time.

    Thread safety: safe to share; ``lock`` is the lock that guards what ``take`` reads.
    """

    __slots__ = ("_delivering", "_lock", "_observers", "_take")

    def __init__(
        self,
        lock: threading.Lock,
        take: Callable[[], Sequence[StepEvent]],
        observers: Sequence[StepObserver],
    ) -> None:
        # The guard's lock: guards _delivering and what take() takes.
        self._lock = lock
        self._take = take
        self._observers = tuple(observers)
        self._delivering = False

    def flush(self) -> None:
        """Deliver pending events to the observers, in order (call without the lock)."""
        if not self._observers:
            return
        with self._lock:
            if self._delivering:
                return
            self._delivering = True
        while True:
            with self._lock:
                batch = self._take()
                if not batch:
                    self._delivering = False
                    return
            for event in batch:
                for observer in self._observers:
                    try:
                        observer.on_event(event)
                    except Exception:
                        _report_failure(observer, event)


def _report_failure(observer: StepObserver, event: StepEvent) -> None:
    """Log that ``observer`` failed on ``event``; a failing log (a handler writing into a
    closed pipe) must not stop the delivery either, or the step's later events would never be
    delivered and whoever waits for them would wait forever."""
    with contextlib.suppress(Exception):  # nothing left to tell it to
        _log.exception(
            "observer %r failed on event %d of step %r", observer, event.sequence, event.step_id
        )
