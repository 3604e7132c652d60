"""How a built-in running step reports its moves: stage, state and handler callback together.

The ``plugin`` and ``foreach`` running steps drive their lifecycles on their own threads and
keep their stage, state and received stage inputs under one condition variable. This mixin
holds the three reporting helpers they share: the recorded stage and state change under the
condition, and the handler hears of it after the condition is released (a handler may call
back into the step).

Thread safety: the methods may be called from any thread; the handler callbacks of one step
must come from one thread at a time (its driver), as the runner expects.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from arcaflow_steps import RunningStep, RunningStepState, StageChangeHandler

__all__ = ["StageReports"]

StageT = TypeVar("StageT", bound=enum.Enum)


class StageReports(Generic[StageT]):
    """Mixin: ``_move``, ``_complete`` and ``_has_input`` over the step's own attributes."""

    _cond: threading.Condition
    _stage: StageT
    _state: RunningStepState
    _handler: StageChangeHandler
    _inputs: Mapping[StageT, Any]

    def _move(
        self,
        previous: StageT | None,
        new: StageT,
        output_id: str | None = None,
        output: Any = None,
        *,
        waiting: bool = False,
    ) -> None:
        """Enter ``new`` (``previous`` produced ``output_id``/``output``) and report it."""
        with self._cond:
            self._stage = new
            self._state = (
                RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING
            )
        self._handler.on_stage_change(
            cast(RunningStep, self),
            None if previous is None else str(previous),
            output_id,
            output,
            str(new),
            waiting,
        )

    def _complete(self, stage: StageT, output_id: str, output: Any) -> None:
        """Finish in terminal ``stage`` with ``output_id``/``output`` and report it."""
        with self._cond:
            self._state = RunningStepState.FINISHED
        self._handler.on_step_complete(cast(RunningStep, self), str(stage), output_id, output)

    def _has_input(self, stage: StageT) -> bool:
        """Return whether the input of ``stage`` has arrived."""
        with self._cond:
            return stage in self._inputs
