"""What this process started and has not stopped yet, stopped at interpreter exit.

Every kind of resource a deployer starts (a plugin process, a fork server, a pip install, a
container) is closed by its owner; a :class:`LiveSet` is the safety net behind that, so an
embedding host that forgets to close, or an unexpected exit path, leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar, final

__all__ = ["LiveSet"]

_T = TypeVar("_T", bound=Hashable)


@final
class LiveSet(Generic[_T]):
    """The live items of one kind, each stopped with ``stop`` at interpreter exit.

    ``at_exit`` registers the exit hook (default ``atexit.register``; container deployers pass
    theirs, which runs before their watchdogs end).

    Thread safety: safe to share.
    """

    def __init__(
        self,
        stop: Callable[[_T], object],
        *,
        at_exit: Callable[[Callable[[], None]], object] = atexit.register,
    ) -> None:
        self._stop = stop
        # Guards _items.
        self._lock = threading.Lock()
        self._items: set[_T] = set()
        at_exit(self.stop_all)

    def add(self, item: _T) -> None:
        """Record a live item."""
        with self._lock:
            self._items.add(item)

    def discard(self, item: _T) -> None:
        """Forget an item (it was stopped by its owner)."""
        with self._lock:
            self._items.discard(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def items(self) -> list[_T]:
        """Return the live items (a copy)."""
        with self._lock:
            return list(self._items)

    def stop_all(self) -> None:
        """Stop every live item; one that fails to stop does not keep the others running."""
        for item in self.items():
            with contextlib.suppress(Exception):
                self._stop(item)
