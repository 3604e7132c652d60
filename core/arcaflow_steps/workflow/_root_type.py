"""The type of ``$``: what an expression of a workflow can read, as one schema tree.

``$`` is an object with two properties: ``input`` (the workflow's input scope) and ``steps``
(an object with one property per step). A step is an object whose properties are its stages
that declare outputs, in lifecycle order; a stage is an object whose properties are its output
ids, each the output's scope and none required (a step produces at most one output of a stage,
and may never reach the stage at all)::

    $.input                              the input scope
    $.steps.<id>.<stage>                 {<output id>: ..., ...}
    $.steps.<id>.<stage>.<output id>     the output's scope (refs resolve inside it)

The objects built here are not declared in any scope and carry ``id_unenforced``: only their
properties matter when a value of their type is given somewhere. A step's object depends only
on its lifecycle, so steps sharing a lifecycle (every step of one plugin with the same run
input: :class:`~arcaflow_steps._step_definition.RunnableCache` hands them the same object)
share one object, built once.

Thread safety: the functions are safe to call from any thread; a :class:`StepTypeCache` is
not thread-safe (confine it to one planning call).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from ..schema import ObjectSchema, PropertySchema, ScopeSchema

__all__ = ["ROOT_TYPE_ID", "StepTypeCache", "root_type", "stage_output_ids"]

#: The object id of ``$``'s type (and the prefix of the ids of the objects inside it).
ROOT_TYPE_ID: Final = "$"


def stage_output_ids(lifecycle: Lifecycle[LifecycleStageWithSchema]) -> dict[str, tuple[str, ...]]:
    """Return stage id -> its output ids, for the stages that declare outputs (in order)."""
    return {
        str(stage.id): tuple(str(output_id) for output_id in stage.outputs)
        for stage in lifecycle.stages
        if stage.outputs
    }


class StepTypeCache:
    """The type of ``$.steps.<id>`` per lifecycle, built once per lifecycle object.

    Thread safety: not thread-safe; confine to one thread.
    """

    def __init__(self) -> None:
        # id(lifecycle) -> (lifecycle, its step type); the lifecycle is kept so its id stays
        # unique while the cache lives.
        self._types: dict[int, tuple[Lifecycle[LifecycleStageWithSchema], ObjectSchema]] = {}

    def step_type(self, kind: str, lifecycle: Lifecycle[LifecycleStageWithSchema]) -> ObjectSchema:
        """Return the object type of a step of ``kind`` with ``lifecycle``."""
        cached = self._types.get(id(lifecycle))
        if cached is not None:
            return cached[1]
        step_type = _build_step_type(kind, lifecycle)
        self._types[id(lifecycle)] = (lifecycle, step_type)
        return step_type


def _build_step_type(kind: str, lifecycle: Lifecycle[LifecycleStageWithSchema]) -> ObjectSchema:
    stages: dict[str, PropertySchema] = {}
    for stage in lifecycle.stages:
        if not stage.outputs:
            continue
        outputs = {
            str(output_id): PropertySchema(type=output.schema, required=False)
            for output_id, output in stage.outputs.items()
        }
        stage_object = ObjectSchema(
            id=f"{ROOT_TYPE_ID}.{kind}.{stage.id}", properties=outputs, id_unenforced=True
        )
        stages[str(stage.id)] = PropertySchema(type=stage_object, required=False)
    return ObjectSchema(id=f"{ROOT_TYPE_ID}.{kind}", properties=stages, id_unenforced=True)


def root_type(input_scope: ScopeSchema, step_types: Mapping[str, ObjectSchema]) -> ObjectSchema:
    """Return the type of ``$`` for a workflow with this input and these step types (by
    step id, in file order)."""
    steps = ObjectSchema(
        id=f"{ROOT_TYPE_ID}.steps",
        properties={
            step_id: PropertySchema(type=step_type, required=True)
            for step_id, step_type in step_types.items()
        },
        id_unenforced=True,
    )
    return ObjectSchema(
        id=ROOT_TYPE_ID,
        properties={
            "input": PropertySchema(type=input_scope, required=True),
            "steps": PropertySchema(type=steps, required=True),
        },
        id_unenforced=True,
    )
