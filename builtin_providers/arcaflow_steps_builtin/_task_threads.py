"""Daemon threads that run one task each on reused OS threads.

Why. A plugin step had four threads of its own, started and ended once per plugin process:
the step's driver, the ATP reader and writer, the stderr drain (and two more closed its pipes).
Starting a thread costs ~0.1 ms of CPU on a small VM, with the GIL held (``pthread_create``
runs under it), which a foreach of 256 plugin steps paid over a thousand times. A
:class:`TaskThread` runs its target on an idle *worker* if there is one, else starts a worker;
a worker idle for :data:`IDLE_SECONDS` ends, so finished work leaves no thread behind for
long (the conformance kit allows 1 s).

A :class:`TaskThread` has the part of :class:`threading.Thread` its users need: ``start()``
once, ``join(timeout)``, ``is_alive()``, ``started``, and :meth:`TaskThread.is_current` in
place of ``threading.current_thread() is thread``. While it runs, the worker carries its name
(for ``ps``, debuggers and logs); an exception that escapes it goes to ``threading.excepthook``,
as a thread's would. A worker stays one OS thread across tasks: a task must not leave
thread-local state behind (none of ours has any).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any, Final, final

__all__ = ["IDLE_NAME", "IDLE_SECONDS", "TaskThread"]

#: Seconds an idle worker waits for the next task before it ends.
IDLE_SECONDS: Final = 0.25
#: The name of a worker between tasks.
IDLE_NAME: Final = "idle-worker"


@final
class TaskThread:
    """One task (``target(*args)``) run on a worker thread; see the module docstring.

    Thread safety: ``start`` once, from one thread; the rest from any thread.
    """

    def __init__(self, target: Callable[..., object], *, name: str, args: tuple[Any, ...] = ()):
        self.name: Final = name
        self._target = target
        self._args = args
        self._started = False
        self._done = threading.Event()
        self._worker: int | None = None  # the worker's thread id while it runs the task

    @property
    def started(self) -> bool:
        """Return whether :meth:`start` was called."""
        return self._started

    def start(self) -> None:
        """Run the task on a worker.

        Raises:
            RuntimeError: called twice, or no thread can start (interpreter shutdown).
        """
        if self._started:
            raise RuntimeError(f"task thread {self.name!r} can only be started once")
        self._started = True
        try:
            _WORKERS.submit(self)
        except BaseException:
            self._done.set()
            raise

    def join(self, timeout: float | None = None) -> None:
        """Wait until the task ended (at most ``timeout`` seconds); at once if never started."""
        if self._started:
            self._done.wait(timeout)

    def is_alive(self) -> bool:
        """Return whether the task was started and has not ended."""
        return self._started and not self._done.is_set()

    def is_current(self) -> bool:
        """Return whether the calling thread is running this task."""
        return self._worker == threading.get_ident()

    def _run(self) -> None:
        self._worker = threading.get_ident()
        try:
            self._target(*self._args)
        except BaseException as exc:
            threading.excepthook(
                threading.ExceptHookArgs(
                    (type(exc), exc, exc.__traceback__, threading.current_thread())
                )
            )
        finally:
            self._worker = None
            self._target = self._args = None  # type: ignore[assignment]  # drop references
            self._done.set()


@final
class _Workers:
    """The queue of tasks and the worker threads that run them.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _tasks and _idle.
        self._cond = threading.Condition(threading.Lock())
        self._tasks: collections.deque[TaskThread] = collections.deque()
        self._idle = 0

    def submit(self, task: TaskThread) -> None:
        with self._cond:
            self._tasks.append(task)
            needs_worker = self._idle < len(self._tasks)
            self._cond.notify()
        if needs_worker:
            try:
                threading.Thread(target=self._serve, name=task.name, daemon=True).start()
            except BaseException:
                with self._cond:
                    queued = task in self._tasks
                    if queued:
                        self._tasks.remove(task)
                if queued:
                    raise
                # An idle worker took it meanwhile: it runs.

    def _serve(self) -> None:
        worker = threading.current_thread()
        while True:
            with self._cond:
                if not self._tasks:
                    self._idle += 1
                    try:
                        self._cond.wait(IDLE_SECONDS)
                    finally:
                        self._idle -= 1
                    if not self._tasks:
                        return
                task = self._tasks.popleft()
            worker.name = task.name
            try:
                task._run()
            finally:
                worker.name = IDLE_NAME


_WORKERS: Final = _Workers()
