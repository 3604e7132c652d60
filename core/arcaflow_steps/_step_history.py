"""What the guard has recorded about one step: its stage, visits, events and result.

:class:`StepHistory` is the guard's state. It is not locked itself: the owning
:class:`~arcaflow_steps._guard.StepGuard` holds its lock around every call, checks a report first
(``_report_checks.py``), then records it here.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from ._errors import IllegalStageTransitionError
from ._events import StepEvent, StepEventKind, StepResult
from ._protocols import RunningStepState
from ._rules import LifecycleRules

__all__ = ["RecordedState", "StepHistory"]


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


class StepHistory:
    """The recorded state and events of one step.

    Thread safety: not thread-safe; the owning guard's lock confines it.
    """

    __slots__ = (
        "events",
        "failed_stages",
        "failure",
        "outbox",
        "refused",
        "result",
        "rules",
        "stage",
        "step_id",
        "unreachable",
        "visited",
        "waiting",
        "with_outbox",
    )

    def __init__(self, step_id: str, rules: LifecycleRules, *, with_outbox: bool) -> None:
        self.step_id: Final = step_id
        self.rules: Final = rules
        self.with_outbox: Final = with_outbox
        self.stage: str | None = None
        self.visited: set[str] = set()
        self.unreachable: set[str] = set()
        self.failed_stages: frozenset[str] = frozenset()
        self.waiting = False
        self.events: list[StepEvent] = []
        self.refused: tuple[IllegalStageTransitionError, ...] = ()
        self.result: StepResult | None = None
        #: Events not yet delivered to observers (only kept when there are observers).
        self.outbox: list[StepEvent] = []
        #: Why the runner is ending the step (first refusal or other failure), if it is.
        self.failure: str | None = None

    def snapshot(self) -> RecordedState:
        """Return the recorded state as an immutable record."""
        result = self.result
        return RecordedState(
            stage=self.stage,
            visited=frozenset(self.visited),
            unreachable=frozenset(self.unreachable),
            waiting_for_input=self.waiting,
            completed_stage=result.stage if result is not None else None,
            output_id=result.output_id if result is not None else None,
        )

    def state(self) -> RunningStepState:
        """Return the state as recorded: starting, waiting for input, running or finished."""
        if self.result is not None:
            return RunningStepState.FINISHED
        if self.stage is None:
            return RunningStepState.STARTING
        return RunningStepState.WAITING_FOR_INPUT if self.waiting else RunningStepState.RUNNING

    def append(self, kind: StepEventKind, **fields: Any) -> StepEvent:
        """Append an event with the next sequence number."""
        event = StepEvent(step_id=self.step_id, sequence=len(self.events) + 1, kind=kind, **fields)
        self.events.append(event)
        if self.with_outbox:
            self.outbox.append(event)
        return event

    def take_outbox(self) -> list[StepEvent]:
        """Return the undelivered events and forget them."""
        batch, self.outbox = self.outbox, []
        return batch

    def enter(self, output_id: str | None, output: Any, new_stage: str, *, waiting: bool) -> None:
        """Record a checked move to ``new_stage`` and derive the stages now unreachable."""
        previous = self.stage
        self.append(
            StepEventKind.STAGE_CHANGED,
            previous_stage=previous,
            previous_output_id=output_id,
            previous_output=output,
            stage=new_stage,
            waiting_for_input=waiting,
        )
        self.stage = new_stage
        self.waiting = waiting
        self.visited.add(new_stage)
        self._mark_unreachable(new_stage, previous=new_stage)

    def complete(
        self,
        stage: str,
        output_id: str | None,
        output: Any,
        *,
        is_error: bool,
        error: str | None,
    ) -> StepResult:
        """Record the completion in terminal ``stage`` and return the result."""
        previous = self.stage
        self.stage = stage
        self.waiting = False
        self.visited.add(stage)
        self.unreachable.discard(stage)  # only when every fallback was reported as failed
        self._mark_unreachable(stage, previous=previous)
        self.append(
            StepEventKind.COMPLETED,
            previous_stage=previous,
            previous_output_id=output_id,
            previous_output=output,
            stage=stage,
            error=error,
        )
        self.result = StepResult(
            step_id=self.step_id,
            stage=stage,
            output_id=output_id,
            output_data=output,
            is_error=is_error,
            events=tuple(self.events),
            refused=self.refused,
            error=error,
        )
        return self.result

    def fail_stage(self, stage: str, reason: str | None) -> None:
        """Record a checked report that ``stage`` will produce no output."""
        if stage == self.stage:
            if stage not in self.failed_stages:
                self.failed_stages |= {stage}
                self.append(
                    StepEventKind.STAGE_FAILED, previous_stage=self.stage, stage=stage, error=reason
                )
        elif stage not in self.visited and stage not in self.unreachable:
            self.unreachable.add(stage)
            self.failed_stages |= {stage}
            self.append(
                StepEventKind.STAGE_UNREACHABLE,
                previous_stage=self.stage,
                stage=stage,
                error=reason,
            )

    def refuse(self, error: IllegalStageTransitionError) -> bool:
        """Record a refusal; return whether it is the first one of a running step."""
        first = not self.refused and self.result is None
        if self.result is None:
            self.refused += (error,)
            if self.failure is None:
                self.failure = f"refused report: {error}"
        self.append(StepEventKind.REFUSED, stage=self.stage, error=str(error))
        return first

    def _mark_unreachable(self, stage: str, *, previous: str | None) -> None:
        gone = self.rules.table.unreachable_after(stage) - self.visited - self.unreachable
        for unreachable in sorted(gone):
            self.unreachable.add(unreachable)
            self.append(StepEventKind.STAGE_UNREACHABLE, previous_stage=previous, stage=unreachable)
