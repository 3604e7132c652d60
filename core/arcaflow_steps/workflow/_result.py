"""How a workflow run ended: the output it produced (or why none), and every step's result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._events import StepResult

__all__ = ["WorkflowResult"]


@attrs.frozen(kw_only=True)
class WorkflowResult:
    """The end of a workflow run.

    Either an output was produced (``output_id`` set, ``error`` ``None``), or the run failed
    (``output_id`` ``None``, ``error`` says why: no output could be produced any more, the run
    was closed first, …). ``step_results`` has every step of the workflow, each ended in one
    terminal stage.

    Thread safety: safe to share (immutable).
    """

    output_id: str | None
    output_data: Any = attrs.field(eq=False)
    #: Whether the output's schema marks it as an error output.
    is_error: bool
    error: str | None
    step_results: Mapping[str, StepResult] = attrs.field(eq=False)

    @property
    def is_success(self) -> bool:
        """Return whether the run produced a non-error output."""
        return self.output_id is not None and not self.is_error


WorkflowResult.__module__ = "arcaflow_steps.workflow"
