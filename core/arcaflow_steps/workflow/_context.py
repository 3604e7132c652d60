"""Where a workflow runs: its context directory, registry and host settings.

The planner makes the :class:`WorkflowContext` of the workflow it plans *current* (a context
variable) while it loads each step's runnable, so a provider that runs sub-workflows — the
built-in ``foreach`` — finds the context directory, the registry and the host's settings without
the planner knowing anything kind-specific: :func:`current_workflow_context`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .._events import StepObserver
    from .._step_definition import ProviderSource

__all__ = ["StepDefaults", "WorkflowContext", "current_workflow_context"]

#: ``(step_id, kind, definition) -> definition``: lets a host fill in what a step left out
#: (the CLI's config file fills in a plugin step's ``deploy`` from its deployment type's entry).
#: Called with the raw definition (templates inside) before the step is planned.
StepDefaults = Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]


@attrs.frozen(kw_only=True)
class WorkflowContext:
    """The environment of a workflow and of every sub-workflow it runs.

    Thread safety: safe to share (immutable).
    """

    #: The root context directory: sub-workflow paths (``foreach``'s ``workflow``) are
    #: resolved against it, at every nesting level, as in the Go engine.
    context_dir: Path
    registry: ProviderSource = attrs.field(eq=False)
    step_defaults: StepDefaults | None = attrs.field(default=None, eq=False)
    #: Observers of every step of every (sub)workflow run in this context (progress, logs).
    observers: Sequence[StepObserver] = attrs.field(default=(), eq=False)


_current: contextvars.ContextVar[WorkflowContext | None] = contextvars.ContextVar(
    "arcaflow_steps_workflow_context", default=None
)


def current_workflow_context() -> WorkflowContext | None:
    """Return the context of the workflow being planned on this thread, if any."""
    return _current.get()


@contextlib.contextmanager
def workflow_context(context: WorkflowContext) -> Iterator[WorkflowContext]:
    """Make ``context`` current for the ``with`` block (the planner uses this)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


WorkflowContext.__module__ = "arcaflow_steps.workflow"
