"""The guard: the handler the runner passes to ``start()``, checking every report.

Theory of operation (after h11's ``_state.py``): a provider *reports*, the guard *decides*.
Each callback of :class:`~arcaflow_steps.StageChangeHandler` is checked against the
lifecycle's :class:`~arcaflow_steps.TransitionTable` and output schemas while the guard's lock
is held. A legal report updates the recorded state and appends events; an illegal one appends
a ``REFUSED`` event, changes nothing else, and raises :class:`IllegalStageTransitionError` to
the provider's call. Observers are called after the lock is released, one delivering thread at
a time per step, so they see each step's events in sequence order.

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

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, NoReturn

import attrs

from ._errors import IllegalStageTransitionError, ProviderBugError, SchemaValidationError, quote
from ._events import StepEvent, StepEventKind, StepObserver, StepResult
from ._protocols import RunningStepState
from ._rules import LifecycleRules, rules_for
from ._schema import validate

if TYPE_CHECKING:
    from ._protocols import RunningStep

# rules_for is re-exported: the conformance kit imports it from here.
__all__ = ["RecordedState", "StepGuard", "rules_for"]

_log: Final = logging.getLogger("arcaflow_steps.runner")


@attrs.frozen(kw_only=True)
class RecordedState:
    """A snapshot of what the guard has recorded about a step (for checks and tests).

    Thread safety: safe to share (immutable).
    """

    stage: str | None
    visited: frozenset[str]
    unreachable: frozenset[str]
    waiting_for_input: bool
    completed_stage: str | None
    output_id: str | None


class StepGuard:
    """The :class:`~arcaflow_steps.StageChangeHandler` the runner gives a provider's step.

    ``on_refused`` is called (outside the lock, on the reporting thread) after the first
    refused report of a running step; ``on_finished`` once, after completion.

    Thread safety: safe to share; reports may arrive on any thread.
    """

    __slots__ = (
        "_delivering",
        "_done_event",
        "_events",
        "_failed_stages",
        "_failure",
        "_lock",
        "_observers",
        "_on_finished",
        "_on_refused",
        "_outbox",
        "_refused",
        "_result",
        "_stage",
        "_unreachable",
        "_visited",
        "_waiting",
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
        self._observers = tuple(observers)
        self._on_refused = on_refused
        self._on_finished = on_finished
        # Guards every attribute below; never held while calling out.
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._visited: set[str] = set()
        self._unreachable: set[str] = set()
        self._failed_stages: frozenset[str] = frozenset()
        self._waiting = False
        self._events: list[StepEvent] = []
        self._refused: tuple[IllegalStageTransitionError, ...] = ()
        self._result: StepResult | None = None
        self._outbox: list[StepEvent] = []
        self._delivering = False
        # Why the runner is ending the step (first refusal or other failure), if it is.
        self._failure: str | None = None
        # Made when someone waits before the step finished (most never do).
        self._done_event: threading.Event | None = None

    # -- queries -----------------------------------------------------------------------------

    def is_done(self) -> bool:
        """Return whether the step has its result."""
        return self._result is not None

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until the step has its result; return whether it has."""
        with self._lock:
            if self._result is not None:
                return True
            if self._done_event is None:
                self._done_event = threading.Event()
            event = self._done_event
        return event.wait(timeout)

    def current_stage(self) -> str | None:
        """Return the recorded stage (``None`` before the first report)."""
        with self._lock:
            return self._stage

    def result(self) -> StepResult | None:
        """Return the result once the step completed."""
        with self._lock:
            return self._result

    def events(self) -> tuple[StepEvent, ...]:
        """Return every event recorded so far, in sequence order."""
        with self._lock:
            return tuple(self._events)

    def refused(self) -> tuple[IllegalStageTransitionError, ...]:
        """Return every refused report so far."""
        with self._lock:
            return self._refused

    def recorded_state(self) -> RecordedState:
        """Return a snapshot of the recorded state."""
        with self._lock:
            result = self._result
            return RecordedState(
                stage=self._stage,
                visited=frozenset(self._visited),
                unreachable=frozenset(self._unreachable),
                waiting_for_input=self._waiting,
                completed_stage=result.stage if result is not None else None,
                output_id=result.output_id if result is not None else None,
            )

    def state(self) -> RunningStepState:
        """Return the state as recorded: starting, waiting for input, running or finished."""
        with self._lock:
            if self._result is not None:
                return RunningStepState.FINISHED
            if self._stage is None:
                return RunningStepState.STARTING
            return RunningStepState.WAITING_FOR_INPUT if self._waiting else RunningStepState.RUNNING

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
        refusal: IllegalStageTransitionError | None
        with self._lock:
            try:
                output = self._check_change(
                    previous_stage, previous_output_id, previous_output, new_stage
                )
            except IllegalStageTransitionError as error:
                refusal, first = error, self._refuse(error)
            else:
                refusal, first = None, False
                self._enter(
                    previous_output_id, output, str(new_stage), waiting=bool(waiting_for_input)
                )
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._flush()

    def on_step_complete(
        self, step: RunningStep, previous_stage: str, output_id: str | None, output: Any
    ) -> None:
        """Check and record completion in terminal ``previous_stage``; raise if illegal."""
        del step
        previous_stage = None if previous_stage is None else str(previous_stage)
        result: StepResult | None = None
        refusal: IllegalStageTransitionError | None
        with self._lock:
            try:
                value = self._check_completion(previous_stage, output_id, output)
            except IllegalStageTransitionError as error:
                refusal, first = error, self._refuse(error)
            else:
                refusal, first = None, False
                stage = str(previous_stage)
                result = self._complete(
                    stage,
                    output_id,
                    value,
                    is_error=self.rules.is_error_output(stage, output_id)
                    or self._failure is not None,
                    error=self._failure,
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
        reason = str(error) if error is not None else None
        with self._lock:
            refusal: IllegalStageTransitionError | None = None
            if self._result is not None:
                refusal = self._after_completion_error("reported a stage failure")
            elif not self.rules.table.has_stage(stage):
                refusal = IllegalStageTransitionError(
                    self.step_id,
                    self._stage,
                    f"reported a failure of undeclared stage {quote(stage)}",
                    self.rules.table.next_stages,
                )
            if refusal is not None:
                first = self._refuse(refusal)
            else:
                first = False
                if stage == self._stage:
                    if stage not in self._failed_stages:
                        self._failed_stages |= {stage}
                        self._append(
                            StepEventKind.STAGE_FAILED,
                            previous_stage=self._stage,
                            stage=stage,
                            error=reason,
                        )
                elif stage not in self._visited and stage not in self._unreachable:
                    self._unreachable.add(stage)
                    self._failed_stages |= {stage}
                    self._append(
                        StepEventKind.STAGE_UNREACHABLE,
                        previous_stage=self._stage,
                        stage=stage,
                        error=reason,
                    )
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._flush()

    # -- ending a step without the provider --------------------------------------------------

    def mark_failed(self, reason: str) -> None:
        """Record why the runner is ending a running step; its result will be an error."""
        with self._lock:
            if self._result is None and self._failure is None:
                self._failure = reason

    def complete_synthetic(self, reason: str) -> bool:
        """End the step in a fallback terminal stage with ``reason``, unless it completed.

        Returns whether this call ended the step. The stage is the one
        :meth:`LifecycleRules.fallback_terminal` picks; the result has no output and is an
        error.
        """
        with self._lock:
            if self._result is not None:
                return False
            stage = self.rules.fallback_terminal(self._stage, frozenset(self._unreachable))
            result = self._complete(stage, None, None, is_error=True, error=self._failure or reason)
        self._finish(result)
        return True

    def _crash(self, stage: str, error: ProviderBugError) -> None:
        """End the step after a provider bug reported for ``stage`` (called without the lock)."""
        reason = str(error) if not error.detail else f"{error}\n{error.detail.rstrip()}"
        with self._lock:
            refusal = None
            if self._result is not None:
                refusal = self._after_completion_error("reported a crash")
                first = self._refuse(refusal)
            else:
                self._append(
                    StepEventKind.STAGE_FAILED,
                    previous_stage=self._stage,
                    stage=stage,
                    error=str(error),
                )
                if self._failure is None:
                    self._failure = reason
        if refusal is not None:
            self._after_refusal(refusal, first)
        self._flush()
        self.complete_synthetic(reason)

    # -- internals (called with the lock held unless said otherwise) -------------------------

    def _check_change(
        self,
        previous_stage: str | None,
        previous_output_id: str | None,
        previous_output: Any,
        new_stage: str,
    ) -> Any:
        table = self.rules.table
        current = self._stage
        if self._result is not None:
            raise self._after_completion_error(f"reported a move to stage {quote(new_stage)}")
        if previous_stage != current:
            raise self._wrong_previous_error(previous_stage, f"a move to stage {quote(new_stage)}")
        if not table.allows(current, new_stage) or new_stage in self._failed_stages:
            what = (
                f"cannot start in stage {quote(new_stage)}"
                if current is None
                else f"cannot move to stage {quote(new_stage)}"
            )
            if new_stage in self._failed_stages:
                what += " (it was reported as failed)"
            raise IllegalStageTransitionError(
                self.step_id, current, what, table.allowed_next(current) - self._failed_stages
            )
        if current is None:
            if previous_output_id is not None or previous_output is not None:
                raise IllegalStageTransitionError(
                    self.step_id,
                    None,
                    f"reported output {quote(previous_output_id)} with its first stage",
                    table.allowed_next(None),
                )
            return None
        return self._check_output(current, previous_output_id, previous_output, completing=False)

    def _check_output(
        self, stage: str, output_id: str | None, output: Any, *, completing: bool
    ) -> Any:
        declared = self.rules.outputs.get(stage, {})
        if output_id is None:
            if output is not None:
                raise IllegalStageTransitionError(
                    self.step_id, stage, "reported output data without an output id", declared
                )
            if completing and declared:
                raise IllegalStageTransitionError(
                    self.step_id, stage, "completed without an output id", declared
                )
            return None
        schema = declared.get(output_id)
        if schema is None:
            raise IllegalStageTransitionError(
                self.step_id,
                stage,
                f"reported undeclared output {quote(output_id)} of stage {quote(stage)}",
                declared,
            )
        try:
            return validate(schema.schema, output, path="$")
        except SchemaValidationError as exc:
            problems = "; ".join(str(problem) for problem in exc.problems)
            raise IllegalStageTransitionError(
                self.step_id,
                stage,
                f"reported output {quote(output_id)} that does not match its schema ({problems})",
                declared,
            ) from None

    def _check_completion(
        self, previous_stage: str | None, output_id: str | None, output: Any
    ) -> Any:
        table = self.rules.table
        current = self._stage
        if self._result is not None:
            raise self._after_completion_error("reported completion")
        if current is None:
            raise IllegalStageTransitionError(
                self.step_id, None, "completed before entering a stage", table.allowed_next(None)
            )
        if previous_stage != current:
            raise self._wrong_previous_error(previous_stage, "completion")
        if not table.is_terminal(current):
            raise IllegalStageTransitionError(
                self.step_id,
                current,
                f"completed in non-terminal stage {current!r}",
                table.terminal_stages_from(current),
            )
        return self._check_output(current, output_id, output, completing=True)

    def _after_completion_error(self, what: str) -> IllegalStageTransitionError:
        assert self._result is not None
        return IllegalStageTransitionError(
            self.step_id,
            self._result.stage,
            f"{what} after the step completed",
            (),
        )

    def _wrong_previous_error(
        self, previous_stage: str | None, what: str
    ) -> IllegalStageTransitionError:
        said = f"stage {quote(previous_stage)}" if previous_stage is not None else "no stage"
        return IllegalStageTransitionError(
            self.step_id,
            self._stage,
            f"reported {what} from {said}",
            () if self._stage is None else (self._stage,),
        )

    def _append(self, kind: StepEventKind, **fields: Any) -> StepEvent:
        event = StepEvent(step_id=self.step_id, sequence=len(self._events) + 1, kind=kind, **fields)
        self._events.append(event)
        if self._observers:
            self._outbox.append(event)
        return event

    def _enter(self, output_id: str | None, output: Any, new_stage: str, *, waiting: bool) -> None:
        previous = self._stage
        self._append(
            StepEventKind.STAGE_CHANGED,
            previous_stage=previous,
            previous_output_id=output_id,
            previous_output=output,
            stage=new_stage,
            waiting_for_input=waiting,
        )
        self._stage = new_stage
        self._waiting = waiting
        self._visited.add(new_stage)
        gone = self.rules.table.unreachable_after(new_stage) - self._visited - self._unreachable
        for stage in sorted(gone):
            self._unreachable.add(stage)
            self._append(StepEventKind.STAGE_UNREACHABLE, previous_stage=new_stage, stage=stage)

    def _complete(
        self,
        stage: str,
        output_id: str | None,
        output: Any,
        *,
        is_error: bool,
        error: str | None,
    ) -> StepResult:
        previous = self._stage
        self._stage = stage
        self._waiting = False
        self._visited.add(stage)
        self._unreachable.discard(stage)  # only when every fallback was reported as failed
        gone = self.rules.table.unreachable_after(stage) - self._visited - self._unreachable
        for unreachable in sorted(gone):
            self._unreachable.add(unreachable)
            self._append(
                StepEventKind.STAGE_UNREACHABLE, previous_stage=previous, stage=unreachable
            )
        self._append(
            StepEventKind.COMPLETED,
            previous_stage=previous,
            previous_output_id=output_id,
            previous_output=output,
            stage=stage,
            error=error,
        )
        self._result = StepResult(
            step_id=self.step_id,
            stage=stage,
            output_id=output_id,
            output_data=output,
            is_error=is_error,
            events=tuple(self._events),
            refused=self._refused,
            error=error,
        )
        return self._result

    def _refuse(self, error: IllegalStageTransitionError) -> bool:
        """Record a refusal; return whether it is the first one of a running step."""
        first = not self._refused and self._result is None
        if self._result is None:
            self._refused += (error,)
            if self._failure is None:
                self._failure = f"refused report: {error}"
        self._append(StepEventKind.REFUSED, stage=self._stage, error=str(error))
        return first

    # -- internals (called without the lock) -------------------------------------------------

    def _after_refusal(self, error: IllegalStageTransitionError, first: bool) -> NoReturn:
        self._flush()
        if first and self._on_refused is not None:
            self._on_refused(error)
        raise error

    def _finish(self, result: StepResult) -> None:
        self._flush()
        with self._lock:
            event = self._done_event
        if event is not None:
            event.set()
        if self._on_finished is not None:
            self._on_finished(result)

    def _flush(self) -> None:
        """Deliver pending events to the observers, in order, one delivering thread a time."""
        if not self._observers:
            return
        with self._lock:
            if self._delivering:
                return
            self._delivering = True
        while True:
            with self._lock:
                batch = self._outbox
                if not batch:
                    self._delivering = False
                    return
                self._outbox = []
            for event in batch:
                for observer in self._observers:
                    try:
                        observer.on_event(event)
                    except Exception:
                        _log.exception(
                            "observer %r failed on event %d of step %r",
                            observer,
                            event.sequence,
                            event.step_id,
                        )


for _cls in (StepGuard, RecordedState):
    _cls.__module__ = "arcaflow_steps"
