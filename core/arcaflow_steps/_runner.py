"""The shared runner: starts prepared steps, guards their reports and ends every one of them.

Theory of operation. :meth:`StepRunner.start` queues a :class:`StepExecution`; whichever thread
finds a free slot (``parallelism``) launches queued steps, one launching thread at a time, so a
provider that runs a whole step inline inside ``start()`` never recurses into the next start.
Launching calls the runnable's ``start()`` with the step's :class:`~arcaflow_steps.StepGuard`
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
import enum
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from ._authoring import BaseRunningStep
from ._errors import (
    ArcaflowStepsError,
    IllegalStageTransitionError,
    ProviderBugError,
    StageInputError,
    StepDefinitionError,
    quote,
    quote_sorted,
)
from ._events import StepEvent, StepObserver, StepResult
from ._guard import RecordedState, StepGuard
from ._protocols import RunningStep, RunningStepState
from ._schema import validate_properties
from ._step_definition import PreparedStep

__all__ = ["DEFAULT_CLOSE_TIMEOUT", "RunnerClosedError", "StepExecution", "StepRunner"]

_log: Final = logging.getLogger("arcaflow_steps.runner")

#: Seconds a step gets to reach a terminal stage after ``close()`` (and again after the
#: escalation to ``force_close()``) before the runner records a result itself.
DEFAULT_CLOSE_TIMEOUT: Final = 10.0
#: Steps closed at the same time by :meth:`StepRunner.close`.
_CLOSE_WORKERS: Final = 64


class RunnerClosedError(ArcaflowStepsError, RuntimeError):
    """A step was started on a runner that has been closed."""

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id
        super().__init__(f"cannot start step {step_id!r}: the runner is closed")


class _Phase(enum.Enum):
    QUEUED = "queued"
    LAUNCHING = "launching"
    LAUNCHED = "launched"


class _Close(enum.IntEnum):
    NONE = 0
    GRACEFUL = 1
    FORCED = 2


class StepExecution:
    """One step run by a :class:`StepRunner`: its state, events, result and close.

    Thread safety: safe to share; every method may be called from any thread.
    """

    __slots__ = (
        "_close",
        "_guard",
        "_launched",
        "_lock",
        "_phase",
        "_runner",
        "_running",
        "prepared",
        "step_id",
    )

    def __init__(self, runner: StepRunner, prepared: PreparedStep) -> None:
        self.step_id: Final = prepared.step_id
        self.prepared: Final = prepared
        self._runner = runner
        self._guard = StepGuard(
            prepared.step_id,
            prepared.rules,
            observers=runner.observers,
            on_refused=self._on_refused,
            on_finished=self._on_finished,
        )
        # Guards _phase, _running and _close.
        self._lock = threading.Lock()
        self._phase = _Phase.QUEUED
        self._running: RunningStep | None = None
        self._close = _Close.NONE
        # Made when close() must wait for a launch in progress (rare).
        self._launched: threading.Event | None = None

    def __repr__(self) -> str:
        return f"<StepExecution {self.step_id!r} {self.state().value}>"

    # -- queries -----------------------------------------------------------------------------

    @property
    def guard(self) -> StepGuard:
        """Return the guard checking this step's reports."""
        return self._guard

    def current_stage(self) -> str:
        """Return the recorded stage (the initial stage before the first report)."""
        stage = self._guard.current_stage()
        return self.prepared.rules.table.initial_stage if stage is None else stage

    def state(self) -> RunningStepState:
        """Return the step's state: the provider's view, unless the runner knows better."""
        recorded = self._guard.state()
        running = self._running
        if recorded in (RunningStepState.FINISHED, RunningStepState.STARTING) or running is None:
            return recorded
        try:
            reported = running.state()
        except Exception:  # a provider bug must not break progress display
            _log.exception("state() of step %r failed", self.step_id)
            return recorded
        if reported in (RunningStepState.FINISHED, RunningStepState.STARTING):
            return recorded
        return reported

    def events(self) -> tuple[StepEvent, ...]:
        """Return the events recorded so far, in sequence order."""
        return self._guard.events()

    def recorded_state(self) -> RecordedState:
        """Return a snapshot of what the runner recorded about the step."""
        return self._guard.recorded_state()

    def result(self) -> StepResult | None:
        """Return the result if the step finished, else ``None`` (does not wait)."""
        return self._guard.result()

    def is_finished(self) -> bool:
        """Return whether the step has its result."""
        return self._guard.is_done()

    def wait(self, timeout: float | None = None) -> StepResult:
        """Wait until the step finished and return its result.

        Raises:
            TimeoutError: the step did not finish within ``timeout`` seconds.
        """
        if not self._guard.wait_done(timeout):
            raise TimeoutError(f"step {self.step_id!r} did not finish within {timeout} s")
        result = self._guard.result()
        assert result is not None
        return result

    # -- stage input -------------------------------------------------------------------------

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Validate the given fields against the stage's input schema and give them to the step.

        Fields the step definition set were provided at start; providers built on the
        authoring base merge later fields into them (a field given twice is refused).

        Raises:
            StageInputError: the stage is not declared or the step has not been launched.
            SchemaValidationError: the input does not match the stage's input schema.
        """
        rules = self.prepared.rules
        stage = str(stage)
        if not rules.table.input_fields.get(stage):
            problem = (
                "the stage takes no input" if rules.table.accepts_input(stage) else "no such stage"
            )
            taking = quote_sorted(s for s, fields in rules.table.input_fields.items() if fields)
            raise StageInputError(self.step_id, stage, f"{problem}; stages taking input: {taking}")
        schema = rules.input_schemas.get(stage, {})
        unknown = sorted(str(field) for field in input if field not in schema)
        if unknown:
            raise StageInputError(
                self.step_id,
                stage,
                f"unknown input field {quote(unknown[0])}; valid fields: {quote_sorted(schema)}",
            )
        # Only the given fields: the rest may have come with the step definition at start.
        value = validate_properties(
            {field: prop for field, prop in schema.items() if field in input},
            input,
            path=self.prepared.path,
        )
        running = self._running
        if running is None:
            raise StageInputError(self.step_id, stage, "the step has not been launched yet")
        running.provide_stage_input(stage, value)

    # -- close -------------------------------------------------------------------------------

    def close(self) -> None:
        """Ask the step to stop and wait until it ended in a terminal stage.

        Bounded: the provider gets ``close_timeout`` seconds, then ``force_close()`` and
        another ``close_timeout``; after that the runner records the result itself.
        Idempotent: a second call only waits. A queued step is launched first, so it too ends
        in a terminal stage of its own.
        """
        self._close_at(_Close.GRACEFUL)

    def force_close(self) -> None:
        """Stop the step at once and wait (bounded, like :meth:`close`) until it ended."""
        self._close_at(_Close.FORCED)

    def _close_at(self, mode: _Close) -> None:
        with self._lock:
            escalate = mode > self._close
            if escalate:
                self._close = mode
        if escalate:
            self._do_close(force=mode is _Close.FORCED, reason=None)
        else:
            self._guard.wait_done(self._runner.close_timeout * 3)
            self._end_if_running(None)

    def _do_close(self, *, force: bool, reason: str | None) -> None:
        timeout = self._runner.close_timeout
        running = self._ensure_launched(timeout)
        if running is None or self._guard.is_done():
            self._end_if_running(reason)
            return
        closed = not force and self._call_bounded(running.close, "close")
        if closed and self._guard.wait_done(timeout):
            return
        self._call_bounded(running.force_close, "force_close")
        self._guard.wait_done(timeout)
        self._end_if_running(reason)

    def _end_if_running(self, reason: str | None) -> None:
        if self._guard.is_done():
            return
        timeout = self._runner.close_timeout
        self._guard.complete_synthetic(
            reason
            or f"step {self.step_id!r} did not reach a terminal stage within {timeout:g} s "
            "after close"
        )

    def _ensure_launched(self, timeout: float) -> RunningStep | None:
        self._runner._launch_now(self)
        with self._lock:
            if self._phase is _Phase.LAUNCHED:
                return self._running
            if self._launched is None:
                self._launched = threading.Event()
            launched = self._launched
        launched.wait(timeout)
        return self._running

    def _call_bounded(self, method: Callable[[], None], name: str) -> bool:
        """Call the provider's ``close``/``force_close`` without waiting more than we must.

        Return ``False`` when it raised (known at once only for the authoring base, whose
        close is bounded and called here; others run on a thread of their own). A raising
        close of a step still running is a provider bug: the step's result becomes a crash
        with the traceback. After the step ended it is a warning naming the step.
        """
        running = self._running
        raised = False

        def call() -> None:
            nonlocal raised
            try:
                method()
            except Exception as exc:
                raised = True
                self._close_raised(name, exc)

        if isinstance(running, BaseRunningStep):
            call()  # bounded by construction
            return not raised
        threading.Thread(
            target=call, name=f"arcaflow-steps-{name}-{self.step_id}", daemon=True
        ).start()
        return True

    def _close_raised(self, name: str, exc: Exception) -> None:
        if self._guard.is_done():
            _log.warning("step %r: %s() raised after the step ended: %r", self.step_id, name, exc)
            return
        stage = self._guard.current_stage()
        bug = ProviderBugError(
            self.step_id,
            stage,
            f"{name}() raised {exc!r}",
            "".join(traceback.format_exception(exc)),
        )
        _log.warning("%s", bug)
        self._guard.mark_failed(f"{bug}\n{bug.detail.rstrip()}")

    # -- launching (runner side) -------------------------------------------------------------

    def _launch(self) -> None:
        with self._lock:
            if self._phase is not _Phase.QUEUED:
                return
            self._phase = _Phase.LAUNCHING
        prepared = self.prepared
        try:
            running = prepared.runnable.start(prepared.run_input, self._guard, prepared.step_id)
        except Exception as exc:
            _log.warning("step %r failed to start: %s", self.step_id, exc)
            self._guard.mark_failed(f"step {self.step_id!r} failed to start: {exc}")
            self._set_launched(None)
            self._guard.complete_synthetic(f"step {self.step_id!r} failed to start: {exc}")
            return
        self._set_launched(running)
        for stage, value in prepared.stage_inputs.items():
            if self._guard.is_done():
                break
            try:
                running.provide_stage_input(stage, value)
            except IllegalStageTransitionError:
                pass  # raised by our guard through the provider; already recorded and handled
            except Exception as exc:  # StageInputError, or a provider bug: the step cannot go on
                if isinstance(exc, StageInputError) and _finished_meanwhile(running):
                    break  # it finished on its own thread; its completion is on the way
                reason = f"step {self.step_id!r} refused input for stage {quote(stage)}: {exc}"
                _log.warning("%s", reason)
                self._guard.mark_failed(reason)
                self._close_in_background(reason)
                break

    def _set_launched(self, running: RunningStep | None) -> None:
        with self._lock:
            self._running = running
            self._phase = _Phase.LAUNCHED
            launched = self._launched
        if launched is not None:
            launched.set()

    # -- guard callbacks ---------------------------------------------------------------------

    def _on_refused(self, error: IllegalStageTransitionError) -> None:
        _log.warning("refused report of step %r: %s", self.step_id, error)
        self._close_in_background(f"refused report: {error}")

    def _on_finished(self, result: StepResult) -> None:
        del result
        self._runner._finished(self)

    def _close_in_background(self, reason: str) -> None:
        with self._lock:
            if self._close is _Close.FORCED:
                return
            self._close = _Close.FORCED
        threading.Thread(
            target=self._do_close,
            kwargs={"force": True, "reason": reason},
            name=f"arcaflow-steps-end-{self.step_id}",
            daemon=True,
        ).start()


def _finished_meanwhile(running: RunningStep) -> bool:
    try:
        return running.state() is RunningStepState.FINISHED
    except Exception:  # a provider bug must not hide the refusal
        return False


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


for _cls in (StepExecution, StepRunner, RunnerClosedError):
    _cls.__module__ = "arcaflow_steps"
