"""Helpers for the executor tests: plans built by hand from step definitions (not a test module).

A :class:`HandPlan` carries what the executor reads of a ``WorkflowPlan`` (context, steps,
outputs, ``validate_input``), so the executor is tested on its own, with real providers'
prepared steps, before and apart from the planner.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from arcaflow_steps import Registry, prepare_step
from arcaflow_steps.schema import (
    AnySchema,
    PropertySchema,
    StepOutputSchema,
    TypeSchema,
    object_scope,
)
from arcaflow_steps.workflow._context import WorkflowContext
from arcaflow_steps.workflow._execute import WorkflowRun, start_workflow
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._plan_records import PlannedOutput, PlannedStep
from arcaflow_steps.workflow._result import WorkflowResult
from arcaflow_steps.workflow._template import (
    Expr,
    SoftOptional,
    Template,
    WaitOptional,
    is_literal,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builtin"))
from plugin_support import PLUGINS, PROMPT, descendants, registry, wait_gone

__all__ = [
    "PLUGINS",
    "PROMPT",
    "HandPlan",
    "descendants",
    "e",
    "hand_plan",
    "output",
    "registry",
    "step",
    "wait_gone",
]


def e(text: str, path: str = "") -> Expr:
    """``!expr text``."""
    return Expr(parse_expression(text), path)


def step(registry: Registry, step_id: str, definition: Mapping[str, Any]) -> PlannedStep:
    """Plan one step as the planner does: stages with an expression in a field are deferred."""
    plain = registry.get(definition.get("kind", "plugin")).lifecycle()
    deferred: dict[str, dict[str, Template]] = {}
    for stage in plain.stages:
        fields = {field: definition[field] for field in stage.input_fields if field in definition}
        if not all(is_literal(value) for value in fields.values()):
            deferred[str(stage.id)] = fields
    prepared = prepare_step(
        registry,
        step_id,
        {key: value for key, value in definition.items() if is_literal(value)},
        deferred_stages=frozenset(deferred),
    )
    return PlannedStep(
        step_id=step_id,
        kind=prepared.kind,
        path=f"steps.{step_id}",
        prepared=prepared,
        deferred_inputs=deferred,
    )


def output(
    output_id: str,
    template: Template,
    *,
    error: bool = False,
    fields: Mapping[str, TypeSchema] | None = None,
) -> PlannedOutput:
    """A workflow output whose schema has the template's keys (``any``, required), or
    ``fields`` when given."""
    if fields is not None:
        keys = dict(fields)
    else:
        keys = {key: AnySchema() for key in template} if isinstance(template, dict) else {}
    optional = {
        key
        for key, value in (template.items() if isinstance(template, dict) else ())
        if isinstance(value, WaitOptional | SoftOptional)
    }
    schema = object_scope(
        "Output",
        **{
            key: PropertySchema(type=kind, required=key not in optional)
            for key, kind in keys.items()
        },
    )
    return PlannedOutput(
        output_id=output_id,
        template=template,
        schema=StepOutputSchema(schema=schema, error=error),
        path=f"outputs.{output_id}",
    )


@attrs.frozen(kw_only=True)
class HandPlan:
    """What the executor reads of a workflow plan."""

    context: WorkflowContext
    steps: Mapping[str, PlannedStep]
    outputs: Mapping[str, PlannedOutput]

    def validate_input(self, data: Any) -> dict[str, Any]:
        return dict(data)

    def start(self, input_data: Any, **options: Any) -> WorkflowRun:
        return start_workflow(self, input_data, **options)

    def run(self, input_data: Any = None, *, timeout: float = PROMPT) -> WorkflowResult:
        run = self.start(input_data or {})
        try:
            return run.wait(timeout)
        finally:
            run.close()


def hand_plan(
    registry: Registry,
    steps: Mapping[str, Mapping[str, Any]],
    outputs: list[PlannedOutput],
    **context: Any,
) -> HandPlan:
    """A plan of the step definitions and outputs, in the given order."""
    return HandPlan(
        context=WorkflowContext(context_dir=Path("."), registry=registry, **context),
        steps={
            step_id: step(registry, step_id, definition) for step_id, definition in steps.items()
        },
        outputs={planned.output_id: planned for planned in outputs},
    )
