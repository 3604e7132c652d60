"""The kit's referee: the runner's own guard, consulted about every report the kit records.

The recording handler (:mod:`._recording`) records; the referee decides. It hands each report
to a :class:`~arcaflow_steps._guard.StepGuard` of the same lifecycle, so the kit refuses exactly
what the runner refuses, with the runner's words, and it names the conformance rule a refusal
breaks, judged by the guard's state just before the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, final

from .._errors import IllegalStageTransitionError
from .._guard import StepGuard
from .._lifecycle import Lifecycle, LifecycleStageWithSchema, TransitionTable
from .._rules import rules_for
from ._history import Rule

__all__ = ["GuardReferee"]


@final
class GuardReferee:
    """Checks reports with the runner's guard and names the rule a refusal would break.

    Thread safety: safe to share (the guard is; the rules only read it).
    """

    __slots__ = ("guard", "table")

    def __init__(self, step_id: str, lifecycle: Lifecycle[LifecycleStageWithSchema]) -> None:
        self.guard: Final = StepGuard(step_id, rules_for(lifecycle))
        self.table: Final = TransitionTable.of(lifecycle)

    def stage_change_rule(self) -> Rule:
        """Return the rule a refusal of the next stage change would break (as the guard sees)."""
        guard = self.guard
        if guard.result() is not None:
            return Rule.ONE_TERMINAL_STAGE
        if guard.current_stage() is None:
            return Rule.INITIAL_STAGE
        return Rule.DECLARED_TRANSITIONS

    def completion_rule(self, stage: str) -> Rule:
        """Return the rule a refusal of completing in ``stage`` would break (as the guard sees).

        Completing twice, before any stage, away from the current stage or in a non-terminal
        stage breaks "one terminal stage"; otherwise only the output can be wrong.
        """
        guard = self.guard
        if (
            guard.result() is not None
            or guard.current_stage() != stage
            or not self.table.is_terminal(stage)
        ):
            return Rule.ONE_TERMINAL_STAGE
        return Rule.DECLARED_TRANSITIONS

    def stage_failure_rule(self) -> Rule:
        """Return the rule a refusal of a stage failure would break (as the guard sees)."""
        if self.guard.result() is not None:
            return Rule.ONE_TERMINAL_STAGE
        return Rule.DECLARED_TRANSITIONS

    def refusal(self, report: Callable[[StepGuard], object]) -> IllegalStageTransitionError | None:
        """Hand a report to the guard; return its refusal, if it refused."""
        try:
            report(self.guard)
        except IllegalStageTransitionError as refusal:
            return refusal
        return None
