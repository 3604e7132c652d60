"""Planning a workflow: everything that can be checked before any step starts.

:func:`plan_workflow` turns a :class:`~arcaflow_steps.workflow.WorkflowModel` into a
:class:`WorkflowPlan`, in this order (every problem an
:class:`~arcaflow_steps.workflow.InvalidWorkflowError` with its path in the file):

1. every step planned (``_plan_steps``): defaults of the host applied, its kind found, its
   definition split by the provider's keywords, its runnable loaded (concurrently across
   steps), literal stages validated, stages holding expressions deferred;
2. the namespaces the steps publish collected, and the input's refs into them resolved
   (``_namespaces``); the type of ``$`` built (``_root_type``);
3. every path an expression reads checked, and what each deferred stage waits for
   (``_references``);
4. every expression typed, every deferred stage's fields checked against the stage's input
   schema, every output's schema inferred (``_plan_types``);
5. no cycle of waits among step stages (``_cycles``).

Deploys happen only where a provider's ``load_schema`` needs one (a plugin's schema probe).

Thread safety: :func:`plan_workflow` is safe to call from any thread; a plan is immutable and
safe to share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._errors import SchemaValidationError
from .._events import StepObserver
from .._schema._scalar_texts import scalar_texts
from ..schema import (
    ObjectSchema,
    ScopeSchema,
    validate,
)
from ._context import WorkflowContext
from ._cycles import Node, find_cycle, shorten_cycle
from ._errors import InvalidWorkflowError, WorkflowInputError
from ._execute import WorkflowRun, run_workflow, start_workflow
from ._model import WorkflowModel
from ._namespaces import namespace_rows, resolve_namespaced_refs, step_namespaces
from ._plan_records import PlannedOutput, PlannedStep
from ._plan_steps import plan_steps
from ._plan_types import check_stage_inputs, plan_output
from ._references import References
from ._result import WorkflowResult
from ._root_type import StepTypeCache, root_type

__all__ = ["WorkflowPlan", "plan_workflow"]


@attrs.frozen(kw_only=True, eq=False)
class WorkflowPlan:
    """A workflow checked and loaded, ready to run (as often as wanted).

    Thread safety: safe to share (immutable).
    """

    model: WorkflowModel
    context: WorkflowContext
    #: The workflow's ``input`` scope, its refs into namespaces resolved.
    input_schema: ScopeSchema
    #: The type of ``$`` (see ``_root_type``).
    root_type: ObjectSchema
    #: step id -> the step, in file order.
    steps: Mapping[str, PlannedStep]
    #: output id -> the output, in file order.
    outputs: Mapping[str, PlannedOutput]
    #: namespace -> its scope, for every namespace the steps publish.
    namespace_scopes: Mapping[str, ScopeSchema] = attrs.field(factory=dict)

    def namespaces(self) -> tuple[tuple[str, str], ...]:
        """Return ``(object id, namespace)`` of every published object, sorted by namespace,
        then object id (what ``-get-namespaces`` prints)."""
        return namespace_rows(self.namespace_scopes)

    def validate_input(self, data: Any) -> dict[str, Any]:
        """Return the workflow input validated, defaults applied (what ``$.input`` holds).

        Raises:
            WorkflowInputError: listing every problem, with its ``$.input`` path.
        """
        try:
            validated: dict[str, Any] = validate(self.input_schema, data, path="$.input")
        except SchemaValidationError as exc:
            raise WorkflowInputError(
                "invalid workflow input: " + "; ".join(str(problem) for problem in exc.problems)
            ) from None
        return validated

    def start(
        self,
        input_data: Any,
        *,
        step_id_prefix: str = "",
        observers: Sequence[StepObserver] = (),
        background: bool = True,
    ) -> WorkflowRun:
        """Validate the input and start every step; the run goes on in the background, or,
        with ``background=False``, on the thread that calls its
        :meth:`~arcaflow_steps.workflow.WorkflowRun.run_to_end` (which must be called).

        Observers of the run are ``context.observers`` and ``observers``; they see the step ids
        with ``step_id_prefix`` in front (a sub-workflow's ``loop[3].``).

        Raises:
            WorkflowInputError: the input does not match the input schema (nothing started).
        """
        return start_workflow(
            self,
            input_data,
            step_id_prefix=step_id_prefix,
            observers=observers,
            background=background,
        )

    def run(self, input_data: Any, *, timeout: float | None = None) -> WorkflowResult:
        """Run the workflow to its end and return the result (see :meth:`start`).

        After ``timeout`` seconds without an output every step is closed and the run fails.

        Raises:
            WorkflowInputError: the input does not match the input schema (nothing started).
        """
        return run_workflow(self, input_data, timeout=timeout)


def plan_workflow(workflow: WorkflowModel, context: WorkflowContext) -> WorkflowPlan:
    """Return the plan of ``workflow`` in ``context``: every step loaded and checked.

    ``context`` is current (:func:`~arcaflow_steps.workflow.current_workflow_context`) while
    the steps' runnables load.

    Raises:
        InvalidWorkflowError: the first problem found, with its path in the file (and its
            line and column when the workflow was read from text).
    """
    try:
        # A string field given a number or boolean gets its text, as in the Go engine.
        with scalar_texts(workflow.positions.texts()):
            return _plan(workflow, context)
    except InvalidWorkflowError as exc:
        raise workflow.positions.place(exc, workflow.source) from None


def _plan(workflow: WorkflowModel, context: WorkflowContext) -> WorkflowPlan:
    steps = plan_steps(workflow.steps, context, source=workflow.source)
    namespaces: dict[str, ScopeSchema] = {}
    for step_id, step in steps.items():
        namespaces.update(step_namespaces(step_id, step.prepared.lifecycle))
    input_schema = resolve_namespaced_refs(workflow.input, namespaces, source=workflow.source)
    types = StepTypeCache()
    step_types = {
        step_id: types.step_type(step.kind, step.prepared.lifecycle)
        for step_id, step in steps.items()
    }
    root = root_type(input_schema, step_types)
    needs = _dependencies(workflow, steps)
    for step_id, step in steps.items():
        steps[step_id] = check_stage_inputs(step, root, source=workflow.source)
    outputs = {
        output_id: plan_output(workflow, output_id, template, root)
        for output_id, template in workflow.outputs.items()
    }
    cycle = find_cycle({step_id: step.prepared.lifecycle for step_id, step in steps.items()}, needs)
    if cycle is not None:
        chain = shorten_cycle(cycle, needs)
        raise InvalidWorkflowError(
            "dependency cycle: "
            + " -> ".join(f"steps.{step_id}.{stage_id}" for step_id, stage_id in chain),
            path=f"steps.{chain[0][0]}",
            source=workflow.source,
        )
    return WorkflowPlan(
        model=workflow,
        context=context,
        input_schema=input_schema,
        root_type=root,
        steps=steps,
        outputs=outputs,
        namespace_scopes=namespaces,
    )


def _dependencies(
    workflow: WorkflowModel, steps: Mapping[str, PlannedStep]
) -> dict[Node, list[Node]]:
    """Return deferred stage -> the step stages it waits for; check every path read."""
    references = References(steps, source=workflow.source)
    needs: dict[Node, list[Node]] = {}
    for step_id, step in steps.items():
        for stage_id, fields in step.deferred_inputs.items():
            producers = {
                producer
                for field, template in fields.items()
                for producer in references.producers(template, f"{step.path}.{field}")
            }
            if producers:
                needs[step_id, stage_id] = sorted(producers)
    for output_id, template in workflow.outputs.items():
        references.producers(template, f"outputs.{output_id}")
    return needs


WorkflowPlan.__module__ = "arcaflow_steps.workflow"
