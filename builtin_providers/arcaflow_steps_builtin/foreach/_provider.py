"""The ``foreach`` provider: runs a sub-workflow once per item of a list.

A step definition (inside a workflow; foreach steps do not run on their own)::

    kind: foreach
    workflow: sub.yaml                # literal; relative to the root context directory
    items: !expr $.input.names        # list of the sub-workflow's input objects
    parallelism: 4                    # optional, default 1
    wait_for: !expr $.steps.a.outputs # optional, value unused
    enabled: !expr $.input.run_it     # optional

Outputs: ``outputs`` → ``success {data: [<each item's success output>]}``; ``failed`` → the
error output ``error {data: {index: success output}, messages: {index: why}}``; ``disabled`` →
``output {message: "Step foreach <id> disabled"}``; ``closed`` → ``result {cancelled,
close_requested}``. ``enabling`` → ``resolved {enabled}``.

The run keyword is ``step``, as for ``plugin`` and ``dummy``; a foreach step has one thing to
run, so it is optional and its only value is ``foreach`` (the reference engine has no run
keyword for foreach and refuses the key).

Deliberate differences from the reference engine (Arcaflow 0.21.0, ``reference/workflow.md``
§8): an item that ends with any output other than ``success`` is a failed item (the reference
puts its data into the success list); the ``error`` output's schema and data agree (``data``
and ``messages``, maps keyed by the item's index); a bad item fails the step, with its index,
instead of the run; items start in order; ``enabling`` is the declared initial stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, final

from arcaflow_steps import Lifecycle, LifecycleStage, StageChangeHandler
from arcaflow_steps.schema import DisplayValue, PropertySchema, StringEnumSchema, StringSchema

from ._running import ForeachRunningStep
from ._stages import FOREACH_LIFECYCLE, foreach_lifecycle
from ._sub_workflows import SUCCESS_OUTPUT, load_sub_workflow

if TYPE_CHECKING:
    from arcaflow_steps import LifecycleStageWithSchema
    from arcaflow_steps.workflow import WorkflowPlan

__all__ = ["ForeachProvider", "ForeachRunnableStep"]

KIND: Final = "foreach"
PROVIDER_KEYWORD: Final = "workflow"
RUN_KEYWORD: Final = "step"

PROVIDER_SCHEMA: Final = {
    PROVIDER_KEYWORD: PropertySchema(
        type=StringSchema(min=1),
        required=True,
        display=DisplayValue(
            name="Workflow file",
            description="The sub-workflow to run for each item: a file in the workflow's "
            "context directory (relative to the root context at every nesting level).",
        ),
        examples=('"subworkflow.yaml"',),
    )
}

RUN_SCHEMA: Final = {
    RUN_KEYWORD: PropertySchema(
        type=StringEnumSchema(values={"foreach": DisplayValue(name="For each item")}),
        default='"foreach"',
        display=DisplayValue(
            name="Step", description="What to run; a foreach step only runs its sub-workflow."
        ),
    )
}


@final
class ForeachRunnableStep:
    """A foreach step with its sub-workflow planned.

    Thread safety: safe to share (immutable; the plan starts independent runs).
    """

    def __init__(self, plan: WorkflowPlan, workflow: str) -> None:
        self.plan: Final = plan
        self.workflow: Final = workflow
        self._lifecycle = foreach_lifecycle(
            plan.input_schema, plan.outputs[SUCCESS_OUTPUT].schema.schema
        )

    def run_schema(self) -> Mapping[str, PropertySchema]:
        """Return ``{step: ...}`` (optional; the only value is ``foreach``)."""
        return RUN_SCHEMA

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        """Return the lifecycle with the sub-workflow's input and ``success`` schemas."""
        del run_input
        return self._lifecycle

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> ForeachRunningStep:
        """Start one execution; its items' runs get step ids ``<run_id>[<index>].<step>``."""
        del run_input
        step = ForeachRunningStep(
            plan=self.plan, workflow=self.workflow, handler=handler, run_id=run_id
        )
        step.start()
        return step


@final
class ForeachProvider:
    """The ``foreach`` step provider.

    Thread safety: safe to share; plans are kept per workflow context and file.
    """

    kind: Final = KIND
    provider_keyword: Final = PROVIDER_KEYWORD
    run_keyword: Final = RUN_KEYWORD

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return FOREACH_LIFECYCLE

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return ``{workflow: string}``."""
        return PROVIDER_SCHEMA

    def load_schema(self, provider_input: Mapping[str, Any]) -> ForeachRunnableStep:
        """Read and plan the sub-workflow (once per workflow context and file).

        Raises:
            StepDefinitionError: no workflow is being planned.
            InvalidWorkflowError: the sub-workflow cannot be read or planned, includes itself,
                or has no output ``success``.
        """
        workflow: str = provider_input[PROVIDER_KEYWORD]
        return ForeachRunnableStep(load_sub_workflow(workflow), workflow)
