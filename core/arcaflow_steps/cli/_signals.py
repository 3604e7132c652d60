"""SIGINT and SIGTERM during ``run``: at any moment, the run ends cleanly and says how.

Theory of operation. ``run`` installs one :class:`RunSignals` handler before it reads a file
and restores the previous handlers when it returns. What a signal does depends on the phase:

preparing (reading files, warm-ups, reading plugin schemas)
    Inside :meth:`RunSignals.raising`, the first signal raises :class:`Interrupted` in the
    main thread, so the ``finally`` blocks close what was opened (probe processes, their
    temporary directories, fork servers). Every later signal is only noted: a second
    exception would abort that clean-up half-way and leave a process or directory behind.
running
    Once :meth:`RunSignals.attach` hands over the runner, the first signal closes every step
    (graceful: the provider cancels, waits its closure timeout, then stops) and the second
    force-closes them, each on a helper thread. Both wait until every step was handed to the
    runner (:meth:`RunSignals.all_started`), so a step is never refused as "runner closed":
    every step reports its terminal stage.

The run then exits ``128 + the first signal's number`` (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from ._progress import Progress

__all__ = ["SIGNALS", "Closable", "Interrupted", "RunSignals"]

SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class Closable(Protocol):
    """What a signal closes: a ``StepRunner`` (``run``) or a ``WorkflowRun`` (``workflow``)."""

    def close(self) -> None:
        """Close every running step gracefully."""

    def force_close(self) -> None:
        """Force-close every running step."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived before any step started (while preparing)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class RunSignals:
    """The signal handler of one ``run`` (see the module docstring for the phases).

    Thread safety: handlers run on the main thread; the other methods are called from it.
    """

    def __init__(self) -> None:
        #: The first signal received, if any.
        self.received: int | None = None
        self._count = 0
        self._raising = False
        self._runner: Closable | None = None
        self._progress: Progress | None = None
        self._started = threading.Event()
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Handle SIGINT and SIGTERM from now on (only on the main thread, as Python allows)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def ignore(self) -> None:
        """Ignore SIGINT and SIGTERM from now on: the program is ending, and its clean-up at
        exit (fork servers, their plugins' directories) must not be cut short."""
        if self._previous:
            for signum in SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
            self._previous.clear()

    @contextlib.contextmanager
    def raising(self) -> Iterator[None]:
        """Raise :class:`Interrupted` on the first signal inside the block (or on entry, if
        one was already noted)."""
        if self.received is not None:
            raise Interrupted(self.received)
        self._raising = True
        try:
            yield
        finally:
            self._raising = False

    def attach(self, runner: Closable, progress: Progress) -> None:
        """From now on a signal closes ``runner``; one noted before closes it at once."""
        self._progress = progress
        self._runner = runner
        if self.received is not None:
            self._close(self.received, force=self._count > 1)

    def all_started(self) -> None:
        """Say that every step was handed to the runner (closing may begin)."""
        self._started.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        self._count += 1
        first = self.received is None
        if first:
            self.received = signum
        if self._raising and first:
            self._raising = False
            raise Interrupted(signum)
        if self._runner is not None:
            self._close(signum, force=self._count > 1)

    def _close(self, signum: int, *, force: bool) -> None:
        runner, progress = self._runner, self._progress
        assert runner is not None
        assert progress is not None
        name = signal.Signals(signum).name
        if force:
            message = f"{name} again: force-closing every running step"
            target = runner.force_close
        else:
            message = f"{name}: closing every running step (again to force)"
            target = runner.close

        def close_when_started() -> None:
            # Not in the handler: the main thread it interrupts may hold the progress lock.
            progress.line("*", message)
            self._started.wait()
            target()

        threading.Thread(
            target=close_when_started, name="arcaflow-steps-signal", daemon=True
        ).start()
