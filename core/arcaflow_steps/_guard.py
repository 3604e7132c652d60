"""The guard: the handler the runner passes to ``start()``, checking every report.

Theory of operation (after h11's ``_state.py``): a provider *reports*, the guard *decides*.
Each callback of :class:`~arcaflow_steps.StageChangeHandler` is checked against the lifecycle's
:class:`~arcaflow_steps._lifecycle.TransitionTable` and output schemas while the guard's lock is
held. A legal report updates the recorded state and appends events; an illegal one appends a
``REFUSED`` event, changes nothing else, and raises :class:`IllegalStageTransitionError` to the
provider's call. Observers are called after the lock is released, one delivering thread at a time
per step, so they see each step's events in sequence order (:mod:`._delivery`).

The rules, in the order they are checked:

* stage change: not after completion; ``previous_stage`` is the recorded stage; the new stage
  is the initial stage (first report) or a declared next stage not reported as failed; an
  output is only reported with an id, the id is declared for the stage it leaves, and the data
  validates against that output's schema.
* completion: once; from the recorded stage, which is terminal; with a declared output id when
  the stage declares outputs, and data that validates.
* stage failure (optional, the guard derives unreachable stages itself): names a declared stage,
  not after completion.

When a step enters a stage, every stage not yet visited that the table says can no longer be
reached is marked unreachable (``STAGE_UNREACHABLE`` events, sorted by stage id).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, NoReturn

from ._delivery import EventDelivery
from ._errors import IllegalStageTransitionError, ProviderBugError
from ._events import StepEvent, StepEventKind, StepObserver, StepResult
from ._protocols import RunningStepState
from ._report_checks import (
    after_completion_error,
    check_change,
    check_completion,
    check_stage_failure,
)
from ._rules import LifecycleRules, rules_for
from ._step_history import RecordedState, StepHistory

if TYPE_CHECKING:
    from ._protocols import RunningStep

# rules_for and RecordedState are re-exported: the kit and the package import them from here.
__all__ = ["RecordedState", "StepGuard", "rules_for"]


class StepGuard:
    """The :class:`~arcaflow_steps.StageChangeHandler` the runner gives a provider's step.

    ``on_refused`` is called (outside the lock, on the reporting thread) after the first
    refused report of a running step; ``on_finished`` once, after completion.

    Thread safety: safe to share; reports may arrive on any thread.
    """

    __slots__ = (
        "_delivery",
        "_done_event",
        "_history",
        "_lock",
        "_on_finished",
        "_on_refused",
        "rules",
        "step_id",
    )

    def __init__(
        self,
        step_id: str,
        rules: LifecycleRules,
        *,
        observers: Iterable[StepObserver] = (),
        on_refused: Callable[[IllegalStageTransitionError], None] | None = None,
        on_finished: Callable[[StepResult], None] | None = None,
    ) -> None:
        self.step_id: Final = step_id
        self.rules: Final = rules
        observers = tuple(observers)
        self._on_refused = on_refused
        self._on_finished = on_finished
        # Guards _history, _done_event and the delivery's flag; never held while calling out.
        self._lock = threading.Lock()
        self._history = StepHistory(step_id, rules, with_outbox=bool(observers))
        self._delivery = EventDelivery(self._lock, self._history.take_outbox, observers)
        # Made when someone waits before the step finished (most never do).
        self._done_event: threading.Event | None = None

    # -- queries -----------------------------------------------------------------------------

    def is_done(self) -> bool:
        """Return whether the step has its result."""
        return self._history.result is not None

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until the step has its result; return whether it has."""
        with self._lock:
            if self._history.result is not None:
                return True
            if self._done_event is None:
                self._done_event = threading.Event()
            event = self._done_event
        return event.wait(timeout)

    def current_stage(self) -> str | None:
        """Return the recorded stage (``None`` before the first report)."""
        with self._lock:
            return self._history.stage

    def result(self) -> StepResult | None:
        """Return the result once the step completed."""
        with self._lock:
            return self._history.result

    def events(self) -> tuple[StepEvent, ...]:
        """Return every event recorded so far, in sequence order."""
        with self._lock:
            return tuple(self._history.events)

    def refused(self) -> tuple[IllegalStageTransitionError, ...]:
        """Return every refused report so far."""
        with self._lock:
            return self._history.refused

    def recorded_state(self) -> RecordedState:
        """Return a snapshot of the recorded state."""
        with self._lock:
            return self._history.snapshot()

    def state(self) -> RunningStepState:
        """Return the state as recorded: starting, waiting for input, running or finished."""
        with self._lock:
            return self._history.state()

    # -- StageChangeHandler ------------------------------------------------------------------

    def on_stage_change(  # noqa: PLR0917 - the StageChangeHandler protocol's signature
        self,
        step: RunningStep,
        previous_stage: str | None,
        previous_output_id: str | None,
        previous_output: Any,
        new_stage: str,
        waiting_for_input: bool,
    ) -> None:
        """Check and record a move to ``new_stage``; raise if it is illegal."""
        del step
        new_stage = str(new_stage)
        previous_stage = None if previous_stage is None else str(previous_stage)
        history = self._history
        refusal: IllegalStageTransitionError | None
        with self._lock:
            try:
                output = check_change(
                    history, previous_stage, previous_output_id, previous_output, new_stage
                )
            except IllegalStageTransitionError as error:
                refusal, first = error, history.refuse(error)
            else:
                refusal, first = None, False
                history.enter(
                    previous_output_id, output, new_stage, waiting=bool(waiting_for_input)
                )
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._delivery.flush()

    def on_step_complete(
        self, step: RunningStep, previous_stage: str, output_id: str | None, output: Any
    ) -> None:
        """Check and record completion in terminal ``previous_stage``; raise if illegal."""
        del step
        previous_stage = None if previous_stage is None else str(previous_stage)
        history = self._history
        result: StepResult | None = None
        refusal: IllegalStageTransitionError | None
        with self._lock:
            try:
                value = check_completion(history, previous_stage, output_id, output)
            except IllegalStageTransitionError as error:
                refusal, first = error, history.refuse(error)
            else:
                refusal, first = None, False
                stage = str(previous_stage)
                result = history.complete(
                    stage,
                    output_id,
                    value,
                    is_error=self.rules.is_error_output(stage, output_id)
                    or history.failure is not None,
                    error=history.failure,
                )
        if refusal is not None:
            self._after_refusal(refusal, first)
        assert result is not None
        self._finish(result)

    def on_stage_failure(self, step: RunningStep, stage: str, error: Exception | None) -> None:
        """Record that ``stage`` will never produce output; raise if the report is illegal.

        A :class:`~arcaflow_steps.ProviderBugError` means the step crashed: the guard ends it
        itself (:meth:`complete_synthetic`) with the error and its traceback.
        """
        del step
        stage = str(stage)
        if isinstance(error, ProviderBugError):
            self._crash(stage, error)
            return
        history = self._history
        with self._lock:
            refusal = check_stage_failure(history, stage)
            if refusal is not None:
                first = history.refuse(refusal)
            else:
                first = False
                history.fail_stage(stage, str(error) if error is not None else None)
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._delivery.flush()

    # -- ending a step without the provider --------------------------------------------------

    def mark_failed(self, reason: str) -> None:
        """Record why the runner is ending a running step; its result will be an error."""
        with self._lock:
            if self._history.result is None and self._history.failure is None:
                self._history.failure = reason

    def complete_synthetic(self, reason: str) -> bool:
        """End the step in a fallback terminal stage with ``reason``, unless it completed.

        Returns whether this call ended the step. The stage is the one
        :meth:`LifecycleRules.fallback_terminal` picks; the result has no output and is an
        error.
        """
        history = self._history
        with self._lock:
            if history.result is not None:
                return False
            stage = self.rules.fallback_terminal(history.stage, frozenset(history.unreachable))
            result = history.complete(
                stage, None, None, is_error=True, error=history.failure or reason
            )
        self._finish(result)
        return True

    # -- internals (called without the lock) -------------------------------------------------

    def _crash(self, stage: str, error: ProviderBugError) -> None:
        """End the step after a provider bug reported for ``stage``."""
        reason = str(error) if not error.detail else f"{error}\n{error.detail.rstrip()}"
        history = self._history
        with self._lock:
            refusal = None
            if history.result is not None:
                refusal = after_completion_error(history, "reported a crash")
                first = history.refuse(refusal)
            else:
                history.append(
                    StepEventKind.STAGE_FAILED,
                    previous_stage=history.stage,
                    stage=stage,
                    error=str(error),
                )
                if history.failure is None:
                    history.failure = reason
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._delivery.flush()
        self.complete_synthetic(reason)

    def _after_refusal(self, error: IllegalStageTransitionError, first: bool) -> NoReturn:
        self._delivery.flush()
        if first and self._on_refused is not None:
            self._on_refused(error)
        raise error

    def _finish(self, result: StepResult) -> None:
        self._delivery.flush()
        with self._lock:
            event = self._done_event
        if event is not None:
            event.set()
        if self._on_finished is not None:
            self._on_finished(result)
