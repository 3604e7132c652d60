"""A recording :class:`~arcaflow_steps.StageChangeHandler` that checks every report it receives.

Theory of operation: the kit passes one :class:`RecordingStageChangeHandler` to
``RunnableStep.start``. Every callback is appended, with the time and thread it arrived on, to
one history that the kit's own actions (stage input, ``close()``) are interleaved with, so a
failure message can show exactly what happened in which order. When the handler knows the
lifecycle, it hands each report to the runner's own guard (``arcaflow_steps._guard.StepGuard``,
which decides with the lifecycle's :class:`~arcaflow_steps._lifecycle.TransitionTable`) through
the :class:`~arcaflow_steps.testing._referee.GuardReferee`: the kit refuses exactly what the
runner refuses, with the runner's words. A refusal is recorded as a
:class:`Violation` of the rule it breaks instead of being raised into the provider, so the
provider's behaviour after a bad report is observed as well.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._errors import ProviderBugError
from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from .._protocols import RunningStep
from ._history import RecordKind, Rule, StepRecord, Violation, seen_inside_callback
from ._referee import GuardReferee

if TYPE_CHECKING:
    from .._guard import StepGuard

__all__ = ["RecordingStageChangeHandler"]


class RecordingStageChangeHandler:
    """A :class:`~arcaflow_steps.StageChangeHandler` that records and checks every report.

    Pass it to ``RunnableStep.start``; with ``lifecycle`` given it checks every report against
    the lifecycle's transition table and output schemas and collects :meth:`violations`.
    Without a lifecycle it only records.

    Example::

        handler = RecordingStageChangeHandler(lifecycle=runnable.lifecycle(run_input))
        step = runnable.start(run_input, handler, "run-1")
        assert handler.wait_for_completion(timeout=5), handler.format_history()

    Thread safety: safe to share; callbacks may arrive on any thread.
    """

    def __init__(
        self,
        *,
        lifecycle: Lifecycle[LifecycleStageWithSchema] | None = None,
        step_id: str = "step",
    ) -> None:
        self.step_id: Final = step_id
        self._referee: Final = GuardReferee(step_id, lifecycle) if lifecycle is not None else None
        self._started: Final = time.monotonic()
        # Guards _records, _violations, _current, _completion; waiters wait on it.
        self._condition = threading.Condition()
        self._records: list[StepRecord] = []
        self._violations: list[Violation] = []
        self._current: str | None = None
        self._completion: StepRecord | None = None

    # -- StageChangeHandler -------------------------------------------------------------------

    def on_stage_change(  # noqa: PLR0917 - the StageChangeHandler protocol's signature
        self,
        step: RunningStep,
        previous_stage: str | None,
        previous_output_id: str | None,
        previous_output: Any,
        new_stage: str,
        waiting_for_input: bool,
    ) -> None:
        """Record a stage change and check it against the transition table."""
        waiting = bool(waiting_for_input)
        seen = seen_inside_callback(step, str(new_stage), completed=False)
        with self._condition:
            record = self._append(
                kind=RecordKind.STAGE_CHANGE,
                stage=_plain(new_stage),
                previous_stage=_plain(previous_stage),
                output_id=_plain(previous_output_id),
                output=previous_output,
                waiting_for_input=waiting,
            )
            self._check_seen(seen, record)
            rule = self._referee.stage_change_rule() if self._referee is not None else None
            self._current = record.stage
        self._consult(
            rule,
            record,
            lambda guard: guard.on_stage_change(
                step,
                previous_stage,
                previous_output_id,
                previous_output,
                new_stage,
                waiting_for_input,
            ),
        )

    def on_step_complete(
        self,
        step: RunningStep,
        previous_stage: str,
        output_id: str | None,
        output: Any,
    ) -> None:
        """Record the completion and check it happens once, from a terminal stage."""
        seen = seen_inside_callback(step, str(previous_stage), completed=True)
        with self._condition:
            record = self._append(
                kind=RecordKind.COMPLETE,
                stage=_plain(previous_stage),
                output_id=_plain(output_id),
                output=output,
            )
            self._check_seen(seen, record)
            rule = (
                self._referee.completion_rule(str(record.stage))
                if self._referee is not None
                else None
            )
            if self._completion is None:
                self._completion = record
        self._consult(
            rule,
            record,
            lambda guard: guard.on_step_complete(step, previous_stage, output_id, output),
        )

    def on_stage_failure(self, step: RunningStep, stage: str, error: Exception | None) -> None:
        """Record that a stage will never produce output.

        A :class:`~arcaflow_steps.ProviderBugError` (the step crashed) breaks the rule
        "no stage method raises or returns an illegal outcome" and ends the step.
        """
        with self._condition:
            record = self._append(kind=RecordKind.STAGE_FAILURE, stage=_plain(stage), error=error)
            if isinstance(error, ProviderBugError):
                detail = f"\n{error.detail.rstrip()}" if error.detail else ""
                self._violate(Rule.NO_CRASH, f"{error} (record {record.sequence}){detail}")
                if self._completion is None:
                    self._completion = record
            rule = self._referee.stage_failure_rule() if self._referee is not None else None
        self._consult(rule, record, lambda guard: guard.on_stage_failure(step, stage, error))

    # -- what the test does -------------------------------------------------------------------

    def record_action(self, detail: str) -> None:
        """Add something the test did to the history (shown between the step's reports)."""
        with self._condition:
            self._append(kind=RecordKind.ACTION, detail=detail)

    def add_violation(self, rule: Rule, message: str) -> None:
        """Record a violation found outside the callbacks (e.g. by a check on the step)."""
        with self._condition:
            self._violate(rule, message)

    # -- reading ------------------------------------------------------------------------------

    def records(self) -> tuple[StepRecord, ...]:
        """Return the history so far."""
        with self._condition:
            return tuple(self._records)

    def violations(self) -> tuple[Violation, ...]:
        """Return every violation found so far, in order."""
        with self._condition:
            return tuple(self._violations)

    def current_stage(self) -> str | None:
        """Return the stage of the last stage change (None before the first)."""
        with self._condition:
            return self._current

    def completion(self) -> StepRecord | None:
        """Return the first completion record, or None while the step has not completed."""
        with self._condition:
            return self._completion

    def stages_entered(self) -> tuple[str, ...]:
        """Return the stages the step entered, in order."""
        return tuple(
            str(record.stage) for record in self.records() if record.kind is RecordKind.STAGE_CHANGE
        )

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` (called under the handler's lock) holds; False on timeout."""
        with self._condition:
            return self._condition.wait_for(predicate, timeout)

    def wait_for_completion(self, timeout: float) -> bool:
        """Wait until the step completed; return False on timeout."""
        return self.wait_for(lambda: self._completion is not None, timeout)

    def wait_for_stage(self, stage: str, timeout: float) -> bool:
        """Wait until the step entered ``stage`` (or completed); return whether it entered it."""

        def entered_or_done() -> bool:
            return self._entered(stage) or self._completion is not None

        self.wait_for(entered_or_done, timeout)
        with self._condition:
            return self._entered(stage)

    def format_history(self) -> str:
        """Return the history as text, one record a line."""
        records = self.records()
        if not records:
            return f"stage history of {self.step_id!r}: (nothing reported)"
        lines = [f"stage history of {self.step_id!r}:"]
        lines.extend("  " + record.describe() for record in records)
        return "\n".join(lines)

    # -- internals ----------------------------------------------------------------------------

    def _check_seen(self, seen: str | None, record: StepRecord) -> None:
        """Record a violation of CONSISTENT_STATE (call with the lock held)."""
        if seen is not None:
            self._violate(Rule.CONSISTENT_STATE, f"{seen} (record {record.sequence})")

    # -- internals (called with the lock held) ------------------------------------------------

    def _entered(self, stage: str) -> bool:
        return any(
            record.kind is RecordKind.STAGE_CHANGE and record.stage == stage
            for record in self._records
        )

    def _append(self, **fields: Any) -> StepRecord:
        record = StepRecord(
            sequence=len(self._records) + 1,
            elapsed=time.monotonic() - self._started,
            thread=threading.current_thread().name,
            **fields,
        )
        self._records.append(record)
        self._condition.notify_all()
        return record

    def _violate(self, rule: Rule, message: str) -> None:
        self._violations.append(Violation(rule=rule, message=message))

    def _consult(
        self, rule: Rule | None, record: StepRecord, report: Callable[[StepGuard], object]
    ) -> None:
        """Hand a report to the referee; record its refusal as a violation of ``rule``."""
        if self._referee is None or rule is None:
            return
        refusal = self._referee.refusal(report)
        if refusal is not None:
            self.add_violation(rule, f"{refusal} (record {record.sequence})")


def _plain(value: str | None) -> str | None:
    """Return a StrEnum member as its plain string value (history shows 'x', not <X.x>)."""
    return None if value is None else str(value)


RecordingStageChangeHandler.__module__ = "arcaflow_steps.testing"
