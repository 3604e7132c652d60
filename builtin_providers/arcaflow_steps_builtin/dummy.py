"""The ``dummy`` provider: greets someone. The smallest complete provider, built with the
authoring base; the runner's benchmark and the CLI's first example use it.

Step definition::

    kind: dummy
    name: Arca            # required (stage ``greet``)
    nickname: Arcy        # optional (stage ``greet``); greeted instead of the name
    dummy: {greeting: Hi} # optional provider configuration (default greeting "Hello")

Lifecycle: one stage, ``greet``, initial and terminal. It waits for its input, then completes
with ``success`` ``{message: "Hello Arca!"}``, or with the error output ``error`` ``{error}``
when the name is blank or the step is closed before it greeted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

import attrs

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema, hookimpl
from arcaflow_steps.authoring import (
    BaseRunningStep,
    Finish,
    Outcome,
    SimpleRunnableStep,
    StepProviderBase,
    on_stage,
    without_schemas,
)
from arcaflow_steps.schema import (
    DisplayValue,
    PropertySchema,
    StepOutputSchema,
    StringEnumSchema,
    StringSchema,
    object_scope,
)

__all__ = ["DummyConfig", "DummyProvider", "DummyStage", "arcaflow_steps_providers"]


class DummyStage(enum.StrEnum):
    """The stages of a dummy step."""

    GREET = "greet"


@attrs.frozen(kw_only=True)
class DummyConfig:
    """The ``dummy`` provider keyword: how to greet."""

    __arcaflow_id__ = "DummyConfig"

    greeting: str = attrs.field(
        default="Hello",
        metadata={"name": "Greeting", "description": "The word to greet with.", "min": 1},
    )


_NAME: Final = PropertySchema(
    type=StringSchema(min=1),
    required=True,
    display=DisplayValue(name="Name", description="Who to greet."),
)
_NICKNAME: Final = PropertySchema(
    type=StringSchema(min=1),
    display=DisplayValue(name="Nickname", description="Greeted instead of the name."),
)
_SUCCESS: Final = StepOutputSchema(
    schema=object_scope(
        "GreetingOutput", message=PropertySchema(type=StringSchema(), required=True)
    ),
    display=DisplayValue(name="Greeting"),
)
_ERROR: Final = StepOutputSchema(
    schema=object_scope("GreetingError", error=PropertySchema(type=StringSchema(), required=True)),
    display=DisplayValue(name="Error"),
    error=True,
)

LIFECYCLE: Final = Lifecycle(
    initial_stage=DummyStage.GREET,
    stages=[
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=DummyStage.GREET,
                waiting_name="waiting for a name",
                running_name="greeting",
                finished_name="greeted",
                input_fields={"name", "nickname"},
            ),
            input_schema={"name": _NAME, "nickname": _NICKNAME},
            outputs={"success": _SUCCESS, "error": _ERROR},
        )
    ],
)

RUN_SCHEMA: Final = {
    "step": PropertySchema(
        type=StringEnumSchema(values={"greet": DisplayValue(name="Greet")}),
        default='"greet"',
        display=DisplayValue(name="Step", description="What to run; the dummy only greets."),
    )
}


class DummyStep(BaseRunningStep):
    """One greeting.

    Thread safety: safe to share.
    """

    def __init__(self, config: DummyConfig) -> None:
        super().__init__()
        self.config = config

    @on_stage(DummyStage.GREET)
    def greet(self, inputs: Mapping[str, Any]) -> Outcome:
        """Greet the nickname, or the name."""
        name: str = inputs["name"]
        if not name.strip():
            return Finish(output_id="error", output={"error": "cannot greet a blank name"})
        who = inputs.get("nickname") or name
        return Finish(output_id="success", output={"message": f"{self.config.greeting} {who}!"})

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """End with the error output: nobody was greeted."""
        del stage, forced
        return Finish(output_id="error", output={"error": "step closed before it greeted"})


class DummyProvider(StepProviderBase[DummyConfig]):
    """The provider of kind ``dummy``.

    Thread safety: safe to share (immutable).
    """

    kind = "dummy"
    provider_keyword = "dummy"
    run_keyword = "step"
    config_type = DummyConfig

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the one-stage lifecycle."""
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: DummyConfig) -> SimpleRunnableStep:
        """Return the runnable dummy step for this configuration."""
        return SimpleRunnableStep(
            LIFECYCLE, RUN_SCHEMA, lambda run_input, run_id: DummyStep(provider_input)
        )


@hookimpl
def arcaflow_steps_providers() -> list[DummyProvider]:
    """Offer the ``dummy`` provider."""
    return [DummyProvider()]
