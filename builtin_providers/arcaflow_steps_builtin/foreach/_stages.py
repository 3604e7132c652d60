"""The ``foreach`` provider's stage ids, its lifecycle table and its stage schemas.

Stage ids, names, input fields and outputs follow the reference engine (Arcaflow 0.21.0,
``reference/workflow.md`` §8): ``enabling`` → ``execute`` → ``outputs`` or ``failed``, with
``disabled`` and ``closed`` as the early ends. The reference declares ``execute`` as the initial
stage but starts in ``enabling``; here ``enabling`` is the initial stage. The ``closed`` output
has the plugin provider's shape (``{cancelled, close_requested}``), and the ``failed`` output's
schema says what its data holds: ``data`` and ``messages``, maps keyed by the item's index.
``failed`` is not ``fatal`` (the reference's is): failed items are an ordinary error output,
and ``fatal`` means crashed or not deployed here.

The stage schemas that depend on the sub-workflow (``items``, ``success``, ``error``) are built
by :func:`foreach_lifecycle` from its input scope and its ``success`` output schema.
"""

from __future__ import annotations

import enum
from typing import Final

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema
from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
    TypeSchema,
)

__all__ = [
    "CLOSED_OUTPUT",
    "DISABLED_OUTPUT",
    "ENABLED_OUTPUT",
    "FOREACH_LIFECYCLE",
    "ForeachStage",
    "InputField",
    "foreach_lifecycle",
]


class ForeachStage(enum.StrEnum):
    """The stage ids of the ``foreach`` provider (the reference engine's ids)."""

    ENABLING = "enabling"
    EXECUTE = "execute"
    OUTPUTS = "outputs"
    FAILED = "failed"
    DISABLED = "disabled"
    CLOSED = "closed"


class InputField(enum.StrEnum):
    """The step-definition keys the foreach provider's stages take."""

    ENABLED = "enabled"
    ITEMS = "items"
    PARALLELISM = "parallelism"
    WAIT_FOR = "wait_for"


S = ForeachStage

FOREACH_LIFECYCLE: Final = Lifecycle(
    initial_stage=S.ENABLING,
    stages=(
        LifecycleStage(
            id=S.ENABLING,
            waiting_name="waiting to be enabled",
            running_name="enabling",
            finished_name="enablement determined",
            input_fields={InputField.ENABLED},
            next_stages={S.EXECUTE, S.DISABLED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.EXECUTE,
            waiting_name="waiting for execution",
            running_name="executing",
            finished_name="finished",
            input_fields={InputField.ITEMS, InputField.PARALLELISM, InputField.WAIT_FOR},
            next_stages={S.OUTPUTS, S.FAILED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.OUTPUTS,
            waiting_name="waiting for output",
            running_name="output",
            finished_name="output",
        ),
        LifecycleStage(
            id=S.FAILED,
            waiting_name="processing error",
            running_name="processing error",
            finished_name="error",
        ),
        LifecycleStage(
            id=S.DISABLED,
            waiting_name="waiting for the step to be disabled",
            running_name="disabling",
            finished_name="disabled",
        ),
        LifecycleStage(
            id=S.CLOSED, waiting_name="closed", running_name="closed", finished_name="closed"
        ),
    ),
)


def _required(type_: TypeSchema, name: str, description: str) -> PropertySchema:
    return PropertySchema(
        type=type_, required=True, display=DisplayValue(name=name, description=description)
    )


def _output(
    object_id: str, properties: dict[str, PropertySchema], *, error: bool, description: str
) -> StepOutputSchema:
    return StepOutputSchema(
        schema=ScopeSchema(
            root=object_id, objects={object_id: ObjectSchema(id=object_id, properties=properties)}
        ),
        display=DisplayValue(description=description),
        error=error,
    )


#: ``enabling`` → ``resolved``.
ENABLED_OUTPUT: Final = _output(
    "EnabledOutput",
    {"enabled": _required(BoolSchema(), "Enabled", "Whether the step runs.")},
    error=False,
    description="Whether the step runs.",
)
#: ``disabled`` → ``output``.
DISABLED_OUTPUT: Final = _output(
    "DisabledMessageOutput",
    {"message": _required(StringSchema(), "Message", "Why the step did not run.")},
    error=False,
    description="The step was disabled.",
)
#: ``closed`` → ``result``.
CLOSED_OUTPUT: Final = _output(
    "ClosedInfo",
    {
        "cancelled": _required(BoolSchema(), "Cancelled", "Whether the step was cancelled."),
        "close_requested": _required(
            BoolSchema(), "Close requested", "Whether the step was closed by its host."
        ),
    },
    error=True,
    description="The step was closed before every item finished.",
)

_ENABLED: Final = PropertySchema(
    type=BoolSchema(),
    display=DisplayValue(
        name="Enabled", description="Whether the step runs (default true); false disables it."
    ),
)
_PARALLELISM: Final = PropertySchema(
    type=IntSchema(min=1),
    default="1",
    display=DisplayValue(
        name="Parallelism", description="How many items' sub-workflows run at the same time."
    ),
)
_WAIT_FOR: Final = PropertySchema(
    type=AnySchema(),
    display=DisplayValue(
        name="Wait for", description="Start only after this value is available; otherwise unused."
    ),
)


def foreach_lifecycle(
    input_scope: ScopeSchema, success: ScopeSchema
) -> Lifecycle[LifecycleStageWithSchema]:
    """Return the lifecycle with schemas for a sub-workflow with this input scope and this
    ``success`` output schema."""
    items = _required(
        ListSchema(items=input_scope),
        "Items",
        "One input of the sub-workflow per item; the sub-workflow runs once for each.",
    )
    outputs: dict[str, dict[str, StepOutputSchema]] = {
        S.ENABLING: {"resolved": ENABLED_OUTPUT},
        S.OUTPUTS: {
            "success": _output(
                "data",
                {
                    "data": _required(
                        ListSchema(items=success),
                        "Data",
                        "The success output of each item's sub-workflow, in item order.",
                    )
                },
                error=False,
                description="Every item's sub-workflow ended with its success output.",
            )
        },
        S.FAILED: {
            "error": _output(
                "error",
                {
                    "data": _required(
                        MapSchema(keys=IntSchema(), values=success),
                        "Data",
                        "The success output of each item that succeeded, by item index.",
                    ),
                    "messages": _required(
                        MapSchema(keys=IntSchema(), values=StringSchema()),
                        "Messages",
                        "Why each failed item failed, by item index.",
                    ),
                },
                error=True,
                description="At least one item's sub-workflow did not end with success.",
            )
        },
        S.DISABLED: {"output": DISABLED_OUTPUT},
        S.CLOSED: {"result": CLOSED_OUTPUT},
    }
    inputs: dict[str, dict[str, PropertySchema]] = {
        S.ENABLING: {InputField.ENABLED: _ENABLED},
        S.EXECUTE: {
            InputField.ITEMS: items,
            InputField.PARALLELISM: _PARALLELISM,
            InputField.WAIT_FOR: _WAIT_FOR,
        },
    }
    return Lifecycle(
        initial_stage=FOREACH_LIFECYCLE.initial_stage,
        stages=tuple(
            LifecycleStageWithSchema(
                stage=stage,
                input_schema={str(k): v for k, v in inputs.get(stage.id, {}).items()},
                outputs=dict(outputs.get(stage.id, {})),
            )
            for stage in FOREACH_LIFECYCLE.stages
        ),
    )
