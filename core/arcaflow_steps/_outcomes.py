"""What a stage method of the authoring base returns, and how it is marked.

Stage methods of :class:`~arcaflow_steps.authoring.BaseRunningStep` return an :data:`Outcome`:

* ``Move(to=stage, output_id=..., output=...)`` — the current stage produced that output (or
  none) and the step moves on. When ``to`` is terminal, the terminal stage's method runs next
  and returns its ``Finish``.
* ``Finish(output_id=..., output=..., stage=None)`` — the step completes with that output, in
  ``stage`` (moved into first) or in the current stage when it is terminal.
* ``WaitForInput(stage)`` (from :meth:`BaseRunningStep.wait_for_input`) — call this method
  again once input for ``stage`` arrived (or the step is closing); meanwhile the step reports
  ``waiting_for_input``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias, TypeVar

import attrs

__all__ = ["STAGE_MARK", "Finish", "Move", "Outcome", "WaitForInput", "on_stage"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The attribute :func:`on_stage` sets on a stage method: the stage id.
STAGE_MARK: Final = "__arcaflow_stage__"


@attrs.frozen(kw_only=True)
class Move:
    """The current stage produced ``output_id``/``output`` (or nothing); move to ``to``.

    Thread safety: safe to share (immutable).
    """

    to: str
    output_id: str | None = None
    output: Any = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class Finish:
    """Complete the step with ``output_id``/``output``, in terminal ``stage`` (moved into
    first) or, when ``stage`` is ``None``, in the current stage.

    Thread safety: safe to share (immutable).
    """

    output_id: str | None
    output: Any = attrs.field(default=None, eq=False)
    stage: str | None = None


@attrs.frozen(kw_only=True)
class WaitForInput:
    """Run the current stage's method again once input for ``stage`` arrived (or on close).

    Thread safety: safe to share (immutable).
    """

    stage: str


#: What a stage method returns.
Outcome: TypeAlias = Move | Finish | WaitForInput


def on_stage(stage: str) -> Callable[[_F], _F]:
    """Mark a :class:`~arcaflow_steps.authoring.BaseRunningStep` method as the logic of ``stage``.

    The method takes the stage's input (a mapping, empty for a stage without input fields)
    and returns an :data:`Outcome`.
    """

    def mark(method: _F) -> _F:
        setattr(method, STAGE_MARK, str(stage))
        return method

    return mark


for _cls in (Finish, Move, WaitForInput):
    _cls.__module__ = "arcaflow_steps"
