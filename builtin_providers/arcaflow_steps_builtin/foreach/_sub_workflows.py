"""Sub-workflows: read and plan the file a foreach step names, once, and refuse self-inclusion.

A foreach step's ``workflow`` is a path relative to the *root* context directory at every
nesting level (as in the Go engine), taken from :func:`current_workflow_context`, which the
planner makes current while it loads each step's runnable. The sub-workflow is planned with the
same context, so a foreach inside it is planned the same way: nesting is recursion.

Self-inclusion. The files being planned on this thread form a chain (a context variable, so
the planner's threads see it when they copy the context); a file that is already in the chain
would recurse forever, and is refused with the chain in the message.

Sharing. A plan is kept per context and file, so every foreach step naming the same file, at
every nesting level, shares one plan (and its plugins' schema probes). A failed plan is not
kept. Two threads planning the same file at once may both plan it; the first plan kept wins.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs

from arcaflow_steps import StepDefinitionError
from arcaflow_steps.workflow import (
    InvalidWorkflowError,
    WorkflowContext,
    current_workflow_context,
    plan_workflow,
    read_workflow,
)

if TYPE_CHECKING:
    from arcaflow_steps.workflow import WorkflowPlan

__all__ = ["load_sub_workflow"]

#: The output every sub-workflow must have: each item's result.
SUCCESS_OUTPUT: Final = "success"

#: (resolved path, path as written) of every sub-workflow being planned on this thread.
_chain: contextvars.ContextVar[tuple[tuple[Path, str], ...]] = contextvars.ContextVar(
    "arcaflow_steps_builtin_foreach_chain", default=()
)


class _PlanCache:
    """Plans per context object and resolved file.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _plans; entries go when their context is garbage-collected.
        self._lock = threading.Lock()
        self._plans: dict[int, dict[Path, WorkflowPlan]] = {}

    def get(self, context: WorkflowContext, path: Path) -> WorkflowPlan | None:
        with self._lock:
            return self._plans.get(id(context), {}).get(path)

    def keep(self, context: WorkflowContext, path: Path, plan: WorkflowPlan) -> WorkflowPlan:
        key = id(context)
        with self._lock:
            plans = self._plans.get(key)
            if plans is None:
                plans = self._plans[key] = {}
                weakref.finalize(context, self._forget, key)
            return plans.setdefault(path, plan)

    def _forget(self, key: int) -> None:
        with self._lock:
            self._plans.pop(key, None)


_plans: Final = _PlanCache()


def load_sub_workflow(workflow: str) -> WorkflowPlan:
    """Return the plan of the sub-workflow ``workflow`` (a path relative to the current
    workflow context's directory), planning it on first use.

    Raises:
        StepDefinitionError: no workflow is being planned (a foreach step outside a workflow),
            the file cannot be read (missing, a directory, not UTF-8), or it includes itself
            (the message names the chain); the planner adds the step's place.
        InvalidWorkflowError: the file cannot be planned, or has no output ``success``
            (source: the sub-workflow, path ``outputs``).
    """
    context = current_workflow_context()
    if context is None:
        raise StepDefinitionError(
            f"foreach steps run only inside a workflow (arcaflow-steps workflow); "
            f"cannot run the sub-workflow {workflow!r} on its own"
        )
    path = (context.context_dir / workflow).resolve()
    chain = _chain.get()
    if any(seen == path for seen, _ in chain):
        names = [written for _, written in chain]
        start = next(index for index, (seen, _) in enumerate(chain) if seen == path)
        # The planner of the including file places it: "<file>: steps.<id>: …".
        raise StepDefinitionError(
            f"the sub-workflow {workflow} includes itself: "
            + " -> ".join([*names[start:], workflow])
        )
    plan = _plans.get(context, path)
    if plan is not None:
        return plan
    token = _chain.set((*chain, (path, workflow)))
    try:
        # Planning problems name the file as the user wrote it (``sub.yaml: steps.h…``).
        try:
            model = attrs.evolve(read_workflow(path), source=workflow)
        except InvalidWorkflowError as exc:
            if exc.source is not None or exc.path:
                raise  # a problem inside the file: it says where
            # The file cannot be read at all: the planner names the step that wants it.
            raise StepDefinitionError(exc.problem) from None
        plan = plan_workflow(model, context)
    finally:
        _chain.reset(token)
    if SUCCESS_OUTPUT not in plan.outputs:
        outputs = ", ".join(repr(output_id) for output_id in sorted(plan.outputs)) or "none"
        raise InvalidWorkflowError(
            f"the sub-workflow has no output 'success'; outputs: {outputs}",
            path="outputs",
            source=workflow,
        )
    return _plans.keep(context, path, plan)
