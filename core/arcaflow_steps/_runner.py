"""The shared runner: starts prepared steps, guards their reports and ends every one of them.

Theory of operation. :meth:`StepRunner.start` queues a :class:`StepExecution`; whichever thread
finds a free slot (``parallelism``) launches queued steps, one launching thread at a time, so a
provider that runs a whole step inline inside ``start()`` never recurses into the next start.
Launching calls the runnable's ``start()`` with the step's :class:`~arcaflow_steps._guard.StepGuard`
as handler and then provides every stage input of the prepared step, in lifecycle order (as the
reference engine delivers ``deploy``/``enabled``/``stop_if`` at workflow start); a step reports
``waiting_for_input`` only while it is really blocked.

The runner itself starts no thread per step. Threads appear only when a step must be ended
against the provider's will: after a refused report (the step is force-closed, and if it does
not reach a terminal stage within ``close_timeout`` the runner records a terminal result
itself), and for ``close()`` of a provider whose own ``close()`` might not return.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Iterable
from typing import Final

from ._errors import (
    RunnerClosedError,
    StepDefinitionError,
    quote_sorted,
)
from ._events import StepObserver, StepResult
from ._execution import StepExecution
from ._step_definition import PreparedStep

__all__ = ["DEFAULT_CLOSE_TIMEOUT", "StepExecution", "StepRunner"]

_log: Final = logging.getLogger("arcaflow_steps.runner")

#: Seconds a step gets to reach a terminal stage after ``close()`` (and again after the
#: escalation to ``force_close()``) before the runner records a result itself.
DEFAULT_CLOSE_TIMEOUT: Final = 10.0
#: Steps closed at the same time by :meth:`StepRunner.close`.
_CLOSE_WORKERS: Final = 64


class StepRunner:
    """Runs prepared steps, at most ``parallelism`` at a time, guarding every report.

    ``observers`` receive every event of every step (see :class:`~arcaflow_steps.StepObserver`).
    Use it as a context manager to close every step on exit. A runner keeps every execution
    it started (see :meth:`executions`); use one runner per batch of steps.

    Thread safety: safe to share.
    """

    def __init__(
        self,
        *,
        parallelism: int | None = None,
        observers: Iterable[StepObserver] = (),
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        if parallelism is not None and parallelism < 1:
            raise ValueError(f"parallelism must be at least 1 or None, got {parallelism!r}")
        if close_timeout <= 0:
            raise ValueError(f"close_timeout must be positive, got {close_timeout!r}")
        self.parallelism: Final = parallelism
        self.observers: Final = tuple(observers)
        self.close_timeout: Final = close_timeout
        # Guards _queue, _active, _launching, _executions and _closed.
        self._lock = threading.Lock()
        self._queue: collections.deque[StepExecution] = collections.deque()
        self._active = 0
        self._launching = False
        self._executions: dict[str, StepExecution] = {}
        self._closed = False

    def __enter__(self) -> StepRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, prepared: PreparedStep) -> StepExecution:
        """Queue ``prepared`` and launch it as soon as a slot is free; never waits for one.

        A step of a provider that never blocks may run to completion before ``start()``
        returns (it runs on this thread).

        Raises:
            StepDefinitionError: a step with the same id is still running in this runner.
            RunnerClosedError: the runner was closed.
        """
        execution = StepExecution(self, prepared)
        with self._lock:
            if self._closed:
                raise RunnerClosedError(prepared.step_id)
            other = self._executions.get(prepared.step_id)
            if other is not None and not other.is_finished():
                raise StepDefinitionError(
                    f"step {prepared.step_id!r} is already running in this runner"
                )
            self._executions[prepared.step_id] = execution
            self._queue.append(execution)
        self._drain()
        return execution

    def run_all(
        self, prepared_steps: Iterable[PreparedStep], *, timeout: float | None = None
    ) -> dict[str, StepResult]:
        """Run every step (bounded by ``parallelism``) and return their results by step id.

        After ``timeout`` seconds the steps still running are closed; every step still has a
        result.
        """
        steps = list(prepared_steps)
        counts = collections.Counter(step.step_id for step in steps)
        duplicates = sorted(step_id for step_id, count in counts.items() if count > 1)
        if duplicates:
            raise StepDefinitionError(f"step ids given more than once: {quote_sorted(duplicates)}")
        executions = [self.start(step) for step in steps]
        deadline = None if timeout is None else time.monotonic() + timeout
        for execution in executions:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                execution.wait(remaining)
            except TimeoutError:
                self._close_each(executions, force=False)
                break
        return {execution.step_id: execution.wait(0) for execution in executions}

    def executions(self) -> tuple[StepExecution, ...]:
        """Return the executions started on this runner, latest per step id."""
        with self._lock:
            return tuple(self._executions.values())

    def close(self) -> None:
        """Close every unfinished step (concurrently, bounded) and refuse new ones."""
        self._close_all(force=False)

    def force_close(self) -> None:
        """Force-close every unfinished step and refuse new ones."""
        self._close_all(force=True)

    def _close_all(self, *, force: bool) -> None:
        with self._lock:
            self._closed = True
            executions = list(self._executions.values())
        self._close_each(executions, force=force)

    @staticmethod
    def _close_each(executions: Iterable[StepExecution], *, force: bool) -> None:
        """Close the unfinished ``executions`` concurrently; each close is bounded."""
        pending = [execution for execution in executions if not execution.is_finished()]
        if not pending:
            return
        workers = min(_CLOSE_WORKERS, len(pending))
        with concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="arcaflow-steps-close"
        ) as pool:
            for execution in pending:
                pool.submit(execution.force_close if force else execution.close)

    # -- slots -------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Launch queued steps while slots are free; only one thread launches at a time."""
        with self._lock:
            if self._launching:
                return
            self._launching = True
        while True:
            with self._lock:
                if not self._queue or (
                    self.parallelism is not None and self._active >= self.parallelism
                ):
                    self._launching = False
                    return
                execution = self._queue.popleft()
                self._active += 1
            try:
                execution._launch()
            except BaseException:
                with self._lock:
                    self._launching = False
                raise

    def _launch_now(self, execution: StepExecution) -> None:
        """Launch a queued step at once, past the parallelism bound (to close it)."""
        with self._lock:
            try:
                self._queue.remove(execution)
            except ValueError:
                return
            self._active += 1
        execution._launch()

    def _finished(self, execution: StepExecution) -> None:
        """Free the step's slot; launch queued steps on a launcher thread, never on the
        provider's thread that reported the completion (it may hold the provider's locks)."""
        del execution
        with self._lock:
            self._active -= 1
            if self._launching or not self._queue:
                return  # the launching thread (perhaps this one) goes on by itself
        threading.Thread(target=self._drain, name="arcaflow-steps-launcher", daemon=True).start()


StepRunner.__module__ = "arcaflow_steps"
