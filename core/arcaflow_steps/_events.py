"""What the runner records about a step: events, the final result, and who observes them."""

from __future__ import annotations

import enum
from typing import Any, Protocol

import attrs

from ._errors import IllegalStageTransitionError

__all__ = [
    "StepEvent",
    "StepEventKind",
    "StepObserver",
    "StepResult",
]


class StepEventKind(enum.StrEnum):
    """What a :class:`StepEvent` records.

    Thread safety: safe to share (an enum).
    """

    #: The step entered ``stage``; ``previous_*`` is what the stage before it produced.
    STAGE_CHANGED = "stage_changed"
    #: ``stage`` can no longer be reached (derived by the runner, or reported by the provider
    #: with a reason in ``error``); it will never produce output.
    STAGE_UNREACHABLE = "stage_unreachable"
    #: The provider said the stage the step is in will produce no output (``error`` says why).
    STAGE_FAILED = "stage_failed"
    #: The step finished in terminal ``stage`` with output ``previous_output_id`` /
    #: ``previous_output``; ``error`` is set when the runner ended it (see :class:`StepResult`).
    COMPLETED = "completed"
    #: The runner refused a report; ``error`` is the :class:`IllegalStageTransitionError`
    #: message. The recorded state did not change.
    REFUSED = "refused"


@attrs.frozen(kw_only=True)
class StepEvent:
    """One thing that happened to a step, numbered per step from 1.

    Thread safety: safe to share (immutable).
    """

    step_id: str
    #: Position of the event in the step's history, from 1, without gaps.
    sequence: int
    kind: StepEventKind
    #: The stage the step was in before the event (``None`` before its first stage).
    previous_stage: str | None = None
    previous_output_id: str | None = None
    previous_output: Any = attrs.field(default=None, eq=False, hash=False)
    #: The stage the event is about: entered, unreachable, failed, terminal or current.
    stage: str | None = None
    #: For STAGE_CHANGED: whether the new stage is blocked on stage input.
    waiting_for_input: bool = False
    error: str | None = None


@attrs.frozen(kw_only=True)
class StepResult:
    """How a step ended: its terminal stage and output, and everything that happened.

    ``is_error`` is true when the output is an error output (its schema's ``error`` flag),
    and also when the runner refused a report of the step or had to
    end it itself; ``error`` then says why and ``output_id`` may be ``None``.

    Thread safety: safe to share (immutable).
    """

    step_id: str
    #: The terminal stage the step ended in.
    stage: str
    output_id: str | None
    output_data: Any = attrs.field(eq=False, hash=False)
    is_error: bool
    events: tuple[StepEvent, ...] = attrs.field(eq=False, hash=False)
    refused: tuple[IllegalStageTransitionError, ...] = attrs.field(default=(), eq=False, hash=False)
    #: Why the runner ended the step itself (a refused report, a provider that did not reach a
    #: terminal stage after close, a failing ``start()``); ``None`` for a normal completion.
    error: str | None = None

    @property
    def is_success(self) -> bool:
        """Return whether the step ended with a non-error output and no refused report."""
        return not self.is_error and self.output_id is not None


class StepObserver(Protocol):
    """Receives every event of every step a :class:`~arcaflow_steps.StepRunner` runs.

    ``on_event`` is called in each step's sequence order, on the thread that reported the
    change (a provider thread or the thread feeding stage input), after the runner released its
    locks. Keep it quick. An exception is logged and does not affect the step. To close a step
    from an observer, do it from another thread: a close called on the reporting thread waits
    for a step that cannot move until the observer returns (bounded by ``close_timeout``).

    Thread safety: ``on_event`` is called from many threads (one at a time per step, but steps
    in parallel), so an observer shared by several steps must be safe to share.
    """

    def on_event(self, event: StepEvent) -> None:
        """Observe one event."""


for _cls in (StepEventKind, StepEvent, StepResult, StepObserver):
    _cls.__module__ = "arcaflow_steps"
