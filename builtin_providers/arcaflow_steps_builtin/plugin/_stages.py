"""The ``plugin`` provider's stage ids, its lifecycle table and its fixed stage schemas.

Stage ids, names, input fields and outputs follow the reference engine (Arcaflow 0.21.0,
``reference/plugin-provider.md`` §2). Next stages are the moves a step really makes (the
reference lists DAG dependencies instead): ``deploy`` → ``enabling`` → ``starting`` →
``running`` → ``outputs``, with the failure and early-end exits below. ``cancelled`` is an
input-only pseudo-stage: it takes ``stop_if`` at any time and is never entered.

Unlike the reference, the ``deploy_failed`` and ``crashed`` outputs are plain mappings that
match their declared schemas (``{"error": …}`` and ``{"output": …}``).
"""

from __future__ import annotations

import enum
from typing import Final

from arcaflow_steps import Lifecycle, LifecycleStage
from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    IntSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)

__all__ = [
    "CLOSED_OUTPUT",
    "CLOSURE_WAIT_TIMEOUT_PROPERTY",
    "CRASHED_OUTPUT",
    "DEFAULT_CLOSURE_WAIT_TIMEOUT_MS",
    "DEPLOY_FAILED_OUTPUT",
    "DISABLED_OUTPUT",
    "ENABLED_OUTPUT",
    "ENABLED_PROPERTY",
    "PLUGIN_LIFECYCLE",
    "STARTED_OUTPUT",
    "STOP_IF_PROPERTY",
    "WAIT_FOR_PROPERTY",
    "InputField",
    "PluginStage",
]


class PluginStage(enum.StrEnum):
    """The stage ids of the ``plugin`` provider (the reference engine's ids)."""

    DEPLOY = "deploy"
    DEPLOY_FAILED = "deploy_failed"
    ENABLING = "enabling"
    STARTING = "starting"
    RUNNING = "running"
    CANCELLED = "cancelled"
    DISABLED = "disabled"
    OUTPUTS = "outputs"
    CRASHED = "crashed"
    CLOSED = "closed"


class InputField(enum.StrEnum):
    """The step-definition keys the plugin provider's stages take."""

    DEPLOY = "deploy"
    ENABLED = "enabled"
    INPUT = "input"
    WAIT_FOR = "wait_for"
    CLOSURE_WAIT_TIMEOUT = "closure_wait_timeout"
    STOP_IF = "stop_if"


#: Milliseconds a cancelled step waits for the plugin's answer before it is stopped.
DEFAULT_CLOSURE_WAIT_TIMEOUT_MS: Final = 5000

S = PluginStage

PLUGIN_LIFECYCLE: Final = Lifecycle(
    initial_stage=S.DEPLOY,
    stages=(
        LifecycleStage(
            id=S.DEPLOY,
            waiting_name="waiting for deployment",
            running_name="deploying",
            finished_name="deployed",
            input_fields={InputField.DEPLOY},
            next_stages={S.ENABLING, S.DEPLOY_FAILED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.DEPLOY_FAILED,
            waiting_name="deploy failed",
            running_name="deploy failed",
            finished_name="deploy failed",
            fatal=True,
        ),
        LifecycleStage(
            id=S.ENABLING,
            waiting_name="waiting to be enabled",
            running_name="enabling",
            finished_name="enablement determined",
            input_fields={InputField.ENABLED},
            next_stages={S.STARTING, S.DISABLED, S.CRASHED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.STARTING,
            waiting_name="waiting to start",
            running_name="starting",
            finished_name="started",
            input_fields={InputField.INPUT, InputField.WAIT_FOR, InputField.CLOSURE_WAIT_TIMEOUT},
            next_stages={S.RUNNING, S.CRASHED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.RUNNING,
            waiting_name="waiting to run",
            running_name="running",
            finished_name="completed",
            next_stages={S.OUTPUTS, S.CRASHED, S.CLOSED},
        ),
        LifecycleStage(
            id=S.CANCELLED,
            waiting_name="waiting for stop condition",
            running_name="cancelling",
            finished_name="cancelled",
            input_fields={InputField.STOP_IF},
            next_stages={S.OUTPUTS, S.CRASHED, S.DEPLOY_FAILED, S.CLOSED},
            input_only=True,
        ),
        LifecycleStage(
            id=S.DISABLED,
            waiting_name="waiting for the step to be disabled",
            running_name="disabling",
            finished_name="disabled",
        ),
        LifecycleStage(
            id=S.OUTPUTS, waiting_name="finished", running_name="finished", finished_name="finished"
        ),
        LifecycleStage(
            id=S.CRASHED,
            waiting_name="crashed",
            running_name="crashed",
            finished_name="crashed",
            fatal=True,
        ),
        LifecycleStage(
            id=S.CLOSED, waiting_name="closed", running_name="closed", finished_name="closed"
        ),
    ),
)


def _output(
    object_id: str,
    properties: dict[str, PropertySchema],
    *,
    error: bool,
    description: str,
) -> StepOutputSchema:
    return StepOutputSchema(
        schema=ScopeSchema(
            root=object_id,
            objects={object_id: ObjectSchema(id=object_id, properties=properties)},
        ),
        display=DisplayValue(description=description),
        error=error,
    )


def _required(type_: StringSchema | BoolSchema, name: str) -> PropertySchema:
    return PropertySchema(type=type_, required=True, display=DisplayValue(name=name))


#: ``deploy_failed`` → ``error``.
DEPLOY_FAILED_OUTPUT: Final = _output(
    "DeployError",
    {"error": _required(StringSchema(), "Error")},
    error=True,
    description="The plugin could not be deployed.",
)
#: ``enabling`` → ``resolved``.
ENABLED_OUTPUT: Final = _output(
    "EnabledOutput",
    {"enabled": _required(BoolSchema(), "Enabled")},
    error=False,
    description="Whether the step runs.",
)
#: ``starting`` → ``started``.
STARTED_OUTPUT: Final = _output(
    "StartedOutput", {}, error=False, description="The plugin step was started."
)
#: ``disabled`` → ``output``.
DISABLED_OUTPUT: Final = _output(
    "DisabledMessageOutput",
    {"message": _required(StringSchema(), "Message")},
    error=False,
    description="The step was disabled.",
)
#: ``crashed`` → ``error``.
CRASHED_OUTPUT: Final = _output(
    "Crashed",
    {"output": _required(StringSchema(), "Output")},
    error=True,
    description="The plugin failed while running the step.",
)
#: ``closed`` → ``result``.
CLOSED_OUTPUT: Final = _output(
    "ClosedInfo",
    {
        "cancelled": _required(BoolSchema(), "Cancelled"),
        "close_requested": _required(BoolSchema(), "Close requested"),
    },
    error=True,
    description="The step was closed before it produced an output.",
)

#: ``enabling`` input field ``enabled``.
ENABLED_PROPERTY: Final = PropertySchema(
    type=BoolSchema(),
    display=DisplayValue(
        name="Enabled", description="Whether the step runs (default true); false disables it."
    ),
)
#: ``starting`` input field ``wait_for`` (its value is ignored; a workflow layer orders on it).
WAIT_FOR_PROPERTY: Final = PropertySchema(
    type=AnySchema(),
    display=DisplayValue(
        name="Wait for", description="Start only after this value is available; otherwise unused."
    ),
)
#: ``starting`` input field ``closure_wait_timeout``.
#: The longest ``closure_wait_timeout`` (one week, in ms): far beyond any useful wait, far
#: below what a thread can wait for (``threading.TIMEOUT_MAX``, an overflow past it).
MAX_CLOSURE_WAIT_TIMEOUT_MS: Final = 7 * 24 * 3600 * 1000
CLOSURE_WAIT_TIMEOUT_PROPERTY: Final = PropertySchema(
    type=IntSchema(min=0, max=MAX_CLOSURE_WAIT_TIMEOUT_MS),
    display=DisplayValue(
        name="Closure wait timeout",
        description="Milliseconds a cancelled or closed step waits for the plugin to answer "
        "its cancel signal before the plugin is stopped (at most one week).",
    ),
    default=str(DEFAULT_CLOSURE_WAIT_TIMEOUT_MS),
)
#: ``cancelled`` input field ``stop_if``.
STOP_IF_PROPERTY: Final = PropertySchema(
    type=AnySchema(),
    display=DisplayValue(
        name="Stop if",
        description="Cancel the step when this value is set to anything but false or null: "
        "the plugin gets its cancel signal (if it declares one), closure_wait_timeout to "
        "answer, and is then stopped; the step ends in closed with cancelled: true.",
    ),
)
