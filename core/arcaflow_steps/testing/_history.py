"""What the kit records: the rules, a broken rule, and one entry of a step's history."""

from __future__ import annotations

import enum
from typing import Any, Final

import attrs

from .._protocols import RunningStep, RunningStepState

__all__ = ["RecordKind", "Rule", "StepRecord", "Violation", "seen_inside_callback"]

_MAX_VALUE_CHARS: Final = 120


class Rule(enum.StrEnum):
    """The rules the conformance kit checks; the value is how messages name the rule.

    Thread safety: safe to share (an enum).
    """

    KIND_AND_KEYWORDS = "kind and keywords are valid and distinct"
    LIFECYCLE = "the lifecycle is a valid DAG"
    SCHEMAS = "schemas are valid"
    INITIAL_STAGE = "the first stage is the initial stage"
    DECLARED_TRANSITIONS = "only declared transitions and outputs"
    ONE_TERMINAL_STAGE = "exactly one terminal stage"
    WAITING_FOR_INPUT = "waiting_for_input is reported while blocked on input"
    CONSISTENT_STATE = "stage and state are updated before each callback"
    NO_CRASH = "no stage method raises or returns an illegal outcome"
    CLOSE = "close() is idempotent and bounded from any stage and thread"
    FORCE_CLOSE = "force_close() is idempotent and bounded from any stage and thread"
    NO_THREAD_LEFT = "no thread is left running after close"
    CASE = "the conformance case itself is usable"


@attrs.frozen(kw_only=True)
class Violation:
    """One broken rule: which rule and what exactly happened.

    Thread safety: safe to share (immutable).
    """

    rule: Rule
    message: str

    def __str__(self) -> str:
        return f"[{self.rule.value}] {self.message}"


class RecordKind(enum.StrEnum):
    """What a :class:`StepRecord` records.

    Thread safety: safe to share (an enum).
    """

    #: ``on_stage_change`` arrived.
    STAGE_CHANGE = "stage_change"
    #: ``on_step_complete`` arrived.
    COMPLETE = "complete"
    #: ``on_stage_failure`` arrived.
    STAGE_FAILURE = "stage_failure"
    #: Something the test did to the step (stage input, close, force close).
    ACTION = "action"


def _short(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        return text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


@attrs.frozen(kw_only=True)
class StepRecord:
    """One entry of a step's history.

    Thread safety: safe to share (immutable; ``output`` is whatever the provider reported).
    """

    #: Position in the history, from 1.
    sequence: int
    kind: RecordKind
    #: Seconds since the handler was created.
    elapsed: float
    #: Name of the thread the callback (or action) ran on.
    thread: str
    #: The new stage (stage change), the terminal stage (complete) or the failed stage.
    stage: str | None = None
    #: The stage before a stage change.
    previous_stage: str | None = None
    #: The output id of the previous stage (stage change) or of the terminal stage (complete).
    output_id: str | None = None
    output: Any = attrs.field(default=None, eq=False, hash=False)
    waiting_for_input: bool = False
    error: BaseException | None = attrs.field(default=None, eq=False, hash=False)
    #: For actions: what was done.
    detail: str = ""

    def describe(self) -> str:
        """Return this record as one line of a history."""
        if self.kind is RecordKind.STAGE_CHANGE:
            origin = "(start)" if self.previous_stage is None else repr(self.previous_stage)
            text = f"{origin} -> {self.stage!r}"
            if self.output_id is not None:
                text += f" with output {self.output_id!r} of {self.previous_stage!r}: "
                text += _short(self.output)
            if self.waiting_for_input:
                text += " (waiting for input)"
        elif self.kind is RecordKind.COMPLETE:
            text = f"completed in {self.stage!r}"
            if self.output_id is not None:
                text += f" with output {self.output_id!r}: {_short(self.output)}"
        elif self.kind is RecordKind.STAGE_FAILURE:
            text = f"stage {self.stage!r} will not produce output"
            if self.error is not None:
                text += f": {self.error}"
        else:
            text = f"test: {self.detail}"
        return f"{self.sequence:3d}. +{self.elapsed:.3f}s  {text}  [{self.thread}]"


def seen_inside_callback(step: RunningStep, stage: str, *, completed: bool) -> str | None:
    """Return what is wrong with the step's own view inside a callback (no lock held).

    Inside ``on_stage_change`` the step must be in the new stage and started, not finished;
    inside ``on_step_complete`` in the terminal stage and finished.
    """
    try:
        current, state = str(step.current_stage()), step.state()
    except Exception as exc:
        return f"current_stage()/state() raised {exc!r} inside the callback"
    finished = state is RunningStepState.FINISHED
    if completed:
        state_ok, expected = finished, "'finished'"
    else:
        state_ok = not finished and state is not RunningStepState.STARTING
        expected = "a state other than 'starting' and 'finished'"
    if current != stage or not state_ok:
        callback = "on_step_complete" if completed else "on_stage_change"
        return (
            f"inside {callback} for stage {stage!r} the step said current_stage() "
            f"{current!r}, state() {str(state)!r}; expected stage {stage!r} and {expected}"
        )
    return None


for _cls in (Rule, Violation, RecordKind, StepRecord):
    _cls.__module__ = "arcaflow_steps.testing"
