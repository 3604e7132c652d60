"""A plugin source with its schema loaded: run schema, lifecycle with schemas, ``start``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, final

from arcaflow_steps import (
    Lifecycle,
    LifecycleStageWithSchema,
    StageChangeHandler,
    StepDefinitionError,
)
from arcaflow_steps.schema import (
    DisplayValue,
    PluginSchema,
    PropertySchema,
    StepOutputSchema,
    StepSchema,
    StringEnumSchema,
)

from ._plugin_process import open_plugin
from ._running import PluginRunningStep
from ._stages import (
    CLOSED_OUTPUT,
    CLOSURE_WAIT_TIMEOUT_PROPERTY,
    CRASHED_OUTPUT,
    DEPLOY_FAILED_OUTPUT,
    DISABLED_OUTPUT,
    ENABLED_OUTPUT,
    ENABLED_PROPERTY,
    PLUGIN_LIFECYCLE,
    STARTED_OUTPUT,
    STOP_IF_PROPERTY,
    WAIT_FOR_PROPERTY,
    InputField,
    PluginStage,
)

if TYPE_CHECKING:
    from ._deploy_config import DeployerCatalog, DeployerChoice
    from ._process_pool import ProcessLease, ProcessPool

__all__ = ["PluginRunnableStep", "is_error_output"]

S = PluginStage
RUN_KEYWORD = "step"


def _step_ids(steps: Mapping[str, Any]) -> str:
    """Return the step ids quoted and sorted, for messages."""
    return ", ".join(sorted(repr(str(step_id)) for step_id in steps)) or "none"


def is_error_output(output_id: str, output: StepOutputSchema) -> bool:
    """Return whether an output is an error output: flagged by its schema, or named ``error``.

    The Python SDK marks every output ``error: false``, even one named ``error``, so the id
    counts too (the reference engine infers the same from the id).
    """
    return output.error or output_id == "error"


def _input_property(step: StepSchema) -> PropertySchema:
    root = step.input.objects.get(step.input.root)
    needs_input = root is None or any(prop.required for prop in root.properties.values())
    return PropertySchema(
        type=step.input,
        required=needs_input,
        default=None if needs_input else "{}",
        display=DisplayValue(name="Input", description=f"Input of plugin step {step.id!r}."),
    )


@final
class PluginRunnableStep:
    """A plugin source with its schema loaded, ready to start steps.

    Thread safety: safe to share (immutable apart from the shared pool and catalog).
    """

    def __init__(
        self,
        *,
        source: str,
        deployment_type: str,
        multiplex: bool,
        schema: PluginSchema,
        catalog: DeployerCatalog,
        pool: ProcessPool,
        default_choice: DeployerChoice | None = None,
    ) -> None:
        self.source = source
        self.deployment_type = deployment_type
        self.multiplex = multiplex
        self.schema = schema
        self._catalog = catalog
        self._pool = pool
        #: The deployer used when a step gives no ``deploy`` (the one that read the schema).
        self.default_choice = default_choice

    def pool_key(self, choice_key: str) -> tuple[str, str, str]:
        """Return the pool key of this source with a deployer configuration."""
        return (self.deployment_type, self.source, choice_key)

    def run_schema(self) -> Mapping[str, PropertySchema]:
        """Return ``{step: …}``: an enum of the plugin's step ids, optional with one step."""
        steps = self.schema.steps
        only = next(iter(steps)) if len(steps) == 1 else None
        values = {
            step_id: step.display or DisplayValue(name=step_id) for step_id, step in steps.items()
        }
        return {
            RUN_KEYWORD: PropertySchema(
                type=StringEnumSchema(values=values),
                required=only is None,
                default=None if only is None else json.dumps(only),
                display=DisplayValue(
                    name="Step",
                    description="The plugin step to run; optional when the plugin has one step.",
                ),
            )
        }

    def step_schema(self, run_input: Mapping[str, Any]) -> StepSchema:
        """Return the plugin step ``run_input`` selects, with a clear error when it cannot."""
        steps = self.schema.steps
        step_id = run_input.get(RUN_KEYWORD)
        if step_id is None:
            if len(steps) == 1:
                return next(iter(steps.values()))
            raise StepDefinitionError(
                f"the {RUN_KEYWORD!r} field is required for plugin {self.source!r}, which has "
                f"{len(steps)} steps: {_step_ids(steps)}"
            )
        step = steps.get(step_id)
        if step is None:
            raise StepDefinitionError(
                f"plugin {self.source!r} has no step {step_id!r}; valid steps: {_step_ids(steps)}"
            )
        return step

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        """Return the lifecycle with the stage input schemas and outputs of the chosen step."""
        return self.lifecycle_for(self.step_schema(run_input))

    def stage_inputs(self, step: StepSchema) -> dict[str, dict[str, PropertySchema]]:
        """Return the input schemas of the stages that take input, for one plugin step."""
        return {
            S.DEPLOY: {InputField.DEPLOY: self._catalog.deploy_property(self.deployment_type)},
            S.ENABLING: {InputField.ENABLED: ENABLED_PROPERTY},
            S.STARTING: {
                InputField.INPUT: _input_property(step),
                InputField.WAIT_FOR: WAIT_FOR_PROPERTY,
                InputField.CLOSURE_WAIT_TIMEOUT: CLOSURE_WAIT_TIMEOUT_PROPERTY,
            },
            S.CANCELLED: {InputField.STOP_IF: STOP_IF_PROPERTY},
        }

    def lifecycle_for(self, step: StepSchema) -> Lifecycle[LifecycleStageWithSchema]:
        """Return the lifecycle with schemas of one plugin step (the runner caches it)."""
        inputs = self.stage_inputs(step)
        step_outputs = {
            output_id: StepOutputSchema(
                schema=output.schema,
                display=output.display,
                error=is_error_output(output_id, output),
            )
            for output_id, output in step.outputs.items()
        }
        outputs: dict[str, Mapping[str, StepOutputSchema]] = {
            S.DEPLOY_FAILED: {"error": DEPLOY_FAILED_OUTPUT},
            S.ENABLING: {"resolved": ENABLED_OUTPUT},
            S.STARTING: {"started": STARTED_OUTPUT},
            S.DISABLED: {"output": DISABLED_OUTPUT},
            S.OUTPUTS: step_outputs,
            S.CRASHED: {"error": CRASHED_OUTPUT},
            S.CLOSED: {"result": CLOSED_OUTPUT},
        }
        return Lifecycle(
            initial_stage=PLUGIN_LIFECYCLE.initial_stage,
            stages=tuple(
                LifecycleStageWithSchema(
                    stage=stage,
                    input_schema=inputs.get(stage.id, {}),
                    outputs=outputs.get(stage.id, {}),
                )
                for stage in PLUGIN_LIFECYCLE.stages
            ),
        )

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> PluginRunningStep:
        """Start one execution of the chosen plugin step; returns at once."""
        step = self.step_schema(run_input)
        running = PluginRunningStep(
            step=step,
            stage_inputs=self.stage_inputs(step),
            lease=self.lease,
            handler=handler,
            run_id=run_id,
        )
        running.start()
        return running

    def lease(self, deploy_input: Mapping[str, Any] | None) -> ProcessLease:
        """Return a lease on a plugin process for one step, deployed as ``deploy_input`` says
        (none: the deployer that read the schema).

        Raises:
            ArcaflowStepsError: ``deploy_input`` names no usable deployer.
        """
        if not deploy_input and self.default_choice is not None:
            choice = self.default_choice
        else:
            choice = self._catalog.resolve(self.deployment_type, deploy_input)
        deployer = self._catalog.deployer(choice)
        source = self.source
        return self._pool.lease(
            self.pool_key(choice.key),
            lambda on_deployed: open_plugin(deployer, source, on_deployed=on_deployed),
            multiplex=self.multiplex,
        )
