"""One step run by the runner: launch, stage input, state, result and close.

:class:`StepExecution` launches its prepared step when the runner gives it a slot: it calls the
runnable's ``start()`` with the step's :class:`~arcaflow_steps._guard.StepGuard` as handler and then
provides every stage input of the prepared step, in lifecycle order. Closing is delegated to a
:class:`~arcaflow_steps._step_closer.StepCloser`, which keeps every close bounded.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import IllegalStageTransitionError, StageInputError, quote, quote_sorted
from ._events import StepEvent, StepResult
from ._guard import RecordedState, StepGuard
from ._protocols import RunningStep, RunningStepState
from ._schema import validate_properties
from ._step_closer import CloseLevel, StepCloser
from ._step_definition import PreparedStep

if TYPE_CHECKING:
    from ._runner import StepRunner

__all__ = ["StepExecution"]

_log: Final = logging.getLogger("arcaflow_steps.runner")


class _Phase(enum.Enum):
    QUEUED = "queued"
    LAUNCHING = "launching"
    LAUNCHED = "launched"


class StepExecution:
    """One step run by a :class:`StepRunner`: its state, events, result and close.

    Thread safety: safe to share; every method may be called from any thread.
    """

    __slots__ = (
        "_closer",
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
        # Guards _phase and _running.
        self._lock = threading.Lock()
        self._phase = _Phase.QUEUED
        self._running: RunningStep | None = None
        self._closer = StepCloser(
            prepared.step_id, self._guard, runner.close_timeout, self._ensure_launched
        )
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
        self._closer.close_at(CloseLevel.GRACEFUL)

    def force_close(self) -> None:
        """Stop the step at once and wait (bounded, like :meth:`close`) until it ended."""
        self._closer.close_at(CloseLevel.FORCED)

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
                self._closer.close_in_background(reason)
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
        self._closer.close_in_background(f"refused report: {error}")

    def _on_finished(self, result: StepResult) -> None:
        del result
        self._runner._finished(self)


def _finished_meanwhile(running: RunningStep) -> bool:
    try:
        return running.state() is RunningStepState.FINISHED
    except Exception:  # a provider bug must not hide the refusal
        return False


StepExecution.__module__ = "arcaflow_steps"
