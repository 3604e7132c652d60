"""A first-come, first-served bound on the containers a deployer starts at once.

Why. Issued all at once (a workflow's steps all enter ``deploy`` together, a foreach starts
``parallelism`` items), container starts are served by the engine in no particular order,
and on a small machine each takes longer the more run beside it: a chain of 32 steps on
2 cores had its second step's container come up among the last, so the chain waited for
nearly all of them before it could run. Admitted in the order they were asked for, a few at
a time, containers come up in that order and the chain runs while the later ones start;
the engine is not overloaded either (with 256 foreach items, 64 at once, unbounded starts
made API calls time out on a busy machine).

A start holds its place from before the engine's first API call (the image check) until
the plugin has written its first bytes (its hello: it has booted), has ended, or its
connection is closed — at most ``hold_limit`` seconds, so a plugin that never writes does
not stall the starts behind it. A deploy waiting for a place gives up (``DeploymentError``)
when the step that asked for it is cancelled (:data:`.deploy_cancelled`).
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Final, final

from arcaflow_steps import DeploymentError

from ._protocols import deploy_cancelled

__all__ = ["StartQueue"]

#: Seconds between checks of the deploy's cancellation while it waits for a place (a
#: cancelled step's deploy gives up within this; ProcessSlots re-checks as often).
_RECHECK: Final = 1.0


@final
class StartQueue:
    """At most ``bound`` starts at once, admitted in the order they asked.

    Each waiter sleeps on its own event, set when it is admitted: a place given back wakes
    the next waiter only, not every one (a foreach has dozens waiting).

    Thread safety: safe to share.
    """

    def __init__(self, bound: int, *, hold_limit: float) -> None:
        self.bound: Final = max(1, bound)
        self._hold_limit = hold_limit
        # Guards _holds (place -> deadline) and _waiting (places and their admission events).
        self._lock = threading.Lock()
        self._holds: dict[object, float] = {}
        self._waiting: collections.OrderedDict[object, threading.Event] = collections.OrderedDict()

    def enter(self) -> object:
        """Wait for a place (first come, first served) and return it.

        Raises:
            DeploymentError: the deploy was cancelled while it waited.
        """
        cancelled = deploy_cancelled.get()
        place = object()
        admitted = threading.Event()
        with self._lock:
            self._waiting[place] = admitted
            self._admit_locked()
        while not admitted.wait(self._wait_time()):
            with self._lock:
                self._admit_locked()  # a hold may have run out meanwhile
                if admitted.is_set():
                    break
                if cancelled():
                    del self._waiting[place]
                    self._admit_locked()
                    raise DeploymentError("cancelled while waiting to start a container")
        return place

    def _admit_locked(self) -> None:
        """Drop holds past their deadline, then admit waiters in order while places are free."""
        now = time.monotonic()
        for held, deadline in list(self._holds.items()):
            if deadline <= now:
                del self._holds[held]
        while self._waiting and len(self._holds) < self.bound:
            place, admitted = self._waiting.popitem(last=False)
            self._holds[place] = now + self._hold_limit
            admitted.set()

    def _wait_time(self) -> float:
        with self._lock:
            if len(self._holds) < self.bound or not self._holds:
                return _RECHECK
            earliest = min(self._holds.values())
        return min(max(earliest - time.monotonic(), 0.01), _RECHECK)

    def leave(self, place: object) -> None:
        """Give a place back (idempotent)."""
        with self._lock:
            if self._holds.pop(place, None) is not None:
                self._admit_locked()
