"""The authoring base's bookkeeping of one step: what it knows, under one lock.

:class:`StepBook` holds the stage, the state, the stage inputs received, the close request
and the busy token (which thread makes progress). :meth:`StepBook.decide` says what the step
does next. :class:`~arcaflow_steps.authoring.BaseRunningStep` owns one book per step.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from typing import Any

from ._errors import StageInputError, quote, quote_sorted
from ._protocols import RunningStepState
from ._rules import LifecycleRules

__all__ = ["Action", "CloseMode", "StepBook"]


class CloseMode(enum.IntEnum):
    """How the step was asked to close (only ever escalates)."""

    NONE = 0
    GRACEFUL = 1
    FORCED = 2


class Action(enum.Enum):
    """What the step does next (see :meth:`StepBook.decide`)."""

    ENTER = "enter"
    RUN = "run"
    CLOSE = "close"
    WAIT = "wait"
    DONE = "done"


class StepBook:
    """The state of one step of the authoring base.

    ``finished`` is set *before* the completion is reported (the step is ``finished`` inside
    ``on_step_complete``), ``done`` after every report was made.

    Thread safety: safe to share; every attribute is guarded by ``lock``.
    """

    __slots__ = (
        "awaiting",
        "busy",
        "close",
        "done",
        "finished",
        "input_count",
        "inputs",
        "lock",
        "loop_thread",
        "rules",
        "stage",
        "state",
        "waitable",
    )

    def __init__(self) -> None:
        # Guards every attribute below. The condition waited on for input and close shares it
        # and is made on first need (most steps never wait).
        self.lock = threading.Lock()
        self.waitable: threading.Condition | None = None
        self.rules: LifecycleRules | None = None
        self.stage: str | None = None
        self.inputs: dict[str, Mapping[str, Any]] = {}
        # How many provide_stage_input calls were accepted (sleepers wake when it changes).
        self.input_count = 0
        self.awaiting: str | None = None
        self.state = RunningStepState.STARTING
        self.busy = False
        # The thread making progress (holding the busy token), if any.
        self.loop_thread: int | None = None
        self.close = CloseMode.NONE
        self.finished = False
        self.done = False

    def bound_rules(self) -> LifecycleRules:
        """Return the lifecycle's rules (raise if the step was not bound)."""
        if self.rules is None:
            raise RuntimeError("the step was not bound to a handler and lifecycle")
        return self.rules

    def condition(self) -> threading.Condition:
        """Return the condition on ``lock`` (call with ``lock`` held)."""
        if self.waitable is None:
            self.waitable = threading.Condition(self.lock)
        return self.waitable

    def notify(self) -> None:
        """Wake every waiter (call with ``lock`` held)."""
        if self.waitable is not None:
            self.waitable.notify_all()

    def is_waiting_in(self, stage: str) -> bool:
        """Return whether entering ``stage`` blocks on its input (call with ``lock`` held)."""
        return bool(self.bound_rules().table.input_fields.get(stage)) and stage not in self.inputs

    def enter(self, stage: str, *, waiting: bool) -> None:
        """Record that the step is in ``stage`` now (call with ``lock`` held)."""
        self.stage = stage
        self.state = RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING

    def finish(self) -> None:
        """Record that the step finished (call with ``lock`` held)."""
        self.finished = True
        self.state = RunningStepState.FINISHED
        self.notify()

    def mark_done(self) -> None:
        """Record that every report was made (call with ``lock`` held)."""
        self.finished = True
        self.done = True
        self.state = RunningStepState.FINISHED
        self.notify()

    def check_input(self, run_id: str, stage: str, given: Mapping[str, Any]) -> None:
        """Raise unless ``stage`` takes input and ``given`` names only its input fields.

        Raises:
            StageInputError: no such stage, or a field the stage does not take.
        """
        table = self.bound_rules().table
        fields = table.input_fields.get(stage)
        if fields is None:
            raise StageInputError(
                run_id,
                stage,
                "no such stage; stages taking input: "
                + quote_sorted(s for s, f in table.input_fields.items() if f),
            )
        unknown = sorted(str(key) for key in given if key not in fields)
        if unknown:
            raise StageInputError(
                run_id,
                stage,
                f"unknown input field {quote(unknown[0])}; valid fields: {quote_sorted(fields)}",
            )

    def add_input(self, run_id: str, stage: str, given: Mapping[str, Any]) -> bool:
        """Merge ``given`` into ``stage``'s input; return whether the caller takes the token.

        Call with ``lock`` held.

        Raises:
            StageInputError: the step finished, or a field was already provided.
        """
        if self.finished:
            raise StageInputError(run_id, stage, "the step has finished; it takes no more input")
        before = self.inputs.get(stage)
        if before is not None:
            again = sorted(str(key) for key in given if key in before)
            if again:
                raise StageInputError(
                    run_id, stage, f"input field {quote(again[0])} was already provided"
                )
            self.inputs[stage] = {**before, **given}
        else:
            self.inputs[stage] = given
        self.input_count += 1
        self.notify()
        return self.take_token()

    def take_token(self) -> bool:
        """Take the busy token if it is free and the step runs (call with ``lock`` held)."""
        if self.busy or self.finished:
            return False
        self.busy = True
        return True

    def decide(self) -> tuple[Action, str | None]:
        """Decide the next action (call with ``lock`` held)."""
        if self.finished:
            return Action.DONE, None
        stage = self.stage
        if stage is None:
            return Action.ENTER, None
        if self.close is not CloseMode.NONE:
            return Action.CLOSE, stage
        awaited = self.awaiting
        if awaited is None and self.bound_rules().table.input_fields.get(stage):
            awaited = stage
        if awaited is not None and awaited not in self.inputs:
            self.state = RunningStepState.WAITING_FOR_INPUT
            return Action.WAIT, stage
        self.awaiting = None
        self.state = RunningStepState.RUNNING
        return Action.RUN, stage
