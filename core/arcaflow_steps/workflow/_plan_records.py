"""What the planner hands the executor: each step prepared, each output with its schema.

A step's stage inputs are split in two. Stages whose fields are all literal are validated
and given at launch by the runner, like any step (``prepared.stage_inputs``). A stage with at
least one expression anywhere in its fields is *deferred*: the executor evaluates all of that
stage's fields together once their dependencies resolved and provides them through
``StepExecution.provide_stage_input`` (the Go engine's stage node).

Thread safety: safe to share (immutable).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .._step_definition import PreparedStep
from ..schema import StepOutputSchema
from ._template import Template

__all__ = ["PlannedOutput", "PlannedStep"]


@attrs.frozen(kw_only=True, eq=False)
class PlannedStep:
    """One workflow step, type-checked and loaded, ready to start.

    Thread safety: safe to share (immutable).
    """

    step_id: str
    kind: str
    #: Where it is written (``steps.<id>``), for messages.
    path: str
    #: Runnable, run input, lifecycle with schemas; ``stage_inputs`` holds only the literal
    #: stages (validated, defaults applied).
    prepared: PreparedStep
    #: stage id -> field -> template, for every stage with an expression in any field (all of
    #: that stage's given fields, the literal ones too).
    deferred_inputs: Mapping[str, Mapping[str, Template]]


@attrs.frozen(kw_only=True, eq=False)
class PlannedOutput:
    """One workflow output: its template and the schema its data is checked against.

    Thread safety: safe to share (immutable).
    """

    output_id: str
    template: Template
    #: Inferred (or from ``outputSchema``); ``schema.error`` makes it an error output.
    schema: StepOutputSchema
    #: ``outputs.<id>``, for messages.
    path: str


for _record in (PlannedStep, PlannedOutput):
    _record.__module__ = "arcaflow_steps.workflow"
