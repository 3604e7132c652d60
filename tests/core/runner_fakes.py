"""Fakes of our own protocols for the runner tests: a provider the test scripts by hand.

Lifecycle of kind ``fake`` (``work`` may also end ``closed``; so may ``prepare``)::

    prepare (input go, output ready{}) -> work -> done (success{value:int})
                                              -> failed (error{message}, fatal)
                                       -> closed (result{cancelled:bool})
    stop (input-only, input stop_if)
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from typing import Any

from arcaflow_steps import (
    Lifecycle,
    LifecycleStage,
    LifecycleStageWithSchema,
    RunningStepState,
    StageChangeHandler,
)
from arcaflow_steps.authoring import without_schemas
from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    IntSchema,
    PropertySchema,
    StepOutputSchema,
    StringSchema,
    object_scope,
)


class Stage(enum.StrEnum):
    PREPARE = "prepare"
    WORK = "work"
    DONE = "done"
    FAILED = "failed"
    CLOSED = "closed"
    STOP = "stop"


#: The expected transitions, written out independently of TransitionTable (the test's model).
NEXT: dict[str, set[str]] = {
    "prepare": {"work", "closed"},
    "work": {"done", "failed", "closed"},
    "done": set(),
    "failed": set(),
    "closed": set(),
}
OUTPUTS: dict[str, set[str]] = {
    "prepare": {"ready"},
    "work": set(),
    "done": {"success"},
    "failed": {"error"},
    "closed": {"result"},
}
TERMINAL = frozenset(stage for stage, nexts in NEXT.items() if not nexts)


def _output(name: str, error: bool = False, **properties: PropertySchema) -> StepOutputSchema:
    return StepOutputSchema(schema=object_scope(name, **properties), error=error)


LIFECYCLE = Lifecycle(
    initial_stage=Stage.PREPARE,
    stages=[
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=Stage.PREPARE, input_fields={"go"}, next_stages={Stage.WORK, Stage.CLOSED}
            ),
            input_schema={"go": PropertySchema(type=BoolSchema(), required=True)},
            outputs={"ready": _output("Ready")},
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=Stage.WORK, next_stages={Stage.DONE, Stage.FAILED, Stage.CLOSED}
            ),
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=Stage.DONE),
            outputs={
                "success": _output("Success", value=PropertySchema(type=IntSchema(), required=True))
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=Stage.FAILED, fatal=True),
            outputs={
                "error": _output(
                    "Error", True, message=PropertySchema(type=StringSchema(), required=True)
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=Stage.CLOSED),
            outputs={
                "result": _output(
                    "Closed", True, cancelled=PropertySchema(type=BoolSchema(), required=True)
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=Stage.STOP, input_fields={"stop_if"}, next_stages={Stage.CLOSED}, input_only=True
            ),
            input_schema={"stop_if": PropertySchema(type=AnySchema())},
        ),
    ],
)

RUN_SCHEMA = {"value": PropertySchema(type=IntSchema(), default="1")}
PROVIDER_SCHEMA = {
    "fake": PropertySchema(
        type=object_scope("FakeConfig", mode=PropertySchema(type=StringSchema(), default='"x"'))
    )
}


class CloseBehaviour(enum.Enum):
    """What the fake does when closed."""

    #: Moves to ``closed`` (if allowed) and completes there; completes a terminal stage.
    CLOSES = "closes"
    #: Does nothing: the runner has to end the step itself.
    IGNORES = "ignores"


class FakeRunningStep:
    """A running step whose reports the test makes by hand (``move``, ``complete``…).

    ``close()``/``force_close()`` behave as ``close_behaviour`` says, after ``gate`` is set
    (bounded), so a test can look at the state before a background close acts.
    """

    def __init__(
        self,
        handler: StageChangeHandler,
        *,
        close_behaviour: CloseBehaviour = CloseBehaviour.CLOSES,
        gate: threading.Event | None = None,
        on_input: Callable[[FakeRunningStep, str, Mapping[str, Any]], None] | None = None,
    ) -> None:
        self.handler = handler
        self.close_behaviour = close_behaviour
        self.gate = gate
        self.on_input = on_input
        # Held while reporting, so a close on another thread sees the stage the guard has.
        self.lock = threading.RLock()
        self.stage: str | None = None
        self.completed = False
        self.inputs: list[tuple[str, dict[str, Any]]] = []
        self.close_calls = 0
        self.force_close_calls = 0
        self.reported_state = RunningStepState.STARTING

    # -- reports -----------------------------------------------------------------------------

    def move(
        self,
        new_stage: str,
        output_id: str | None = None,
        output: Any = None,
        *,
        previous: Any = "current",
        waiting: bool = False,
    ) -> None:
        with self.lock:
            previous_stage = self.stage if previous == "current" else previous
            self.handler.on_stage_change(
                self, previous_stage, output_id, output, new_stage, waiting
            )
            self.stage = new_stage
            self.reported_state = (
                RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING
            )

    def complete(self, output_id: str | None, output: Any, *, stage: Any = "current") -> None:
        with self.lock:
            terminal = self.stage if stage == "current" else stage
            self.handler.on_step_complete(self, terminal, output_id, output)  # type: ignore[arg-type]
            self.completed = True
            self.reported_state = RunningStepState.FINISHED

    def fail(self, stage: str, error: Exception | None) -> None:
        self.handler.on_stage_failure(self, stage, error)

    # -- RunningStep -------------------------------------------------------------------------

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        self.inputs.append((stage, dict(input)))
        if self.on_input is not None:
            self.on_input(self, stage, input)

    def current_stage(self) -> str:
        return self.stage or Stage.PREPARE

    def state(self) -> RunningStepState:
        return self.reported_state

    def close(self) -> None:
        self.close_calls += 1
        self._end()

    def force_close(self) -> None:
        self.force_close_calls += 1
        self._end()

    def _end(self) -> None:
        if self.gate is not None:
            self.gate.wait(5)
        with self.lock:
            if self.completed or self.close_behaviour is CloseBehaviour.IGNORES:
                return
            try:
                if self.stage is None:
                    self.move(Stage.PREPARE)
                if self.stage in TERMINAL:
                    output_id = sorted(OUTPUTS[self.stage])[0]
                    data = {
                        "success": {"value": 0},
                        "error": {"message": "closed"},
                        "result": {"cancelled": True},
                    }[output_id]
                    self.complete(output_id, data)
                elif Stage.CLOSED in NEXT[str(self.stage)]:
                    self.move(Stage.CLOSED)
                    self.complete("result", {"cancelled": True})
            except Exception:  # refused: the runner ends the step
                self.completed = True


class FakeRunnable:
    """A runnable whose executions are :class:`FakeRunningStep`s, kept in ``steps``."""

    def __init__(self, **step_options: Any) -> None:
        self.step_options = step_options
        self.steps: list[FakeRunningStep] = []
        self.start_error: Exception | None = None
        self.on_start: Callable[[FakeRunningStep], None] | None = None

    def run_schema(self) -> Mapping[str, PropertySchema]:
        return RUN_SCHEMA

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        return LIFECYCLE

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> FakeRunningStep:
        if self.start_error is not None:
            raise self.start_error
        step = FakeRunningStep(handler, **self.step_options)
        self.steps.append(step)
        if self.on_start is not None:
            self.on_start(step)
        return step


class FakeProvider:
    """An untyped provider of kind ``fake``; counts ``load_schema`` calls."""

    kind = "fake"
    provider_keyword = "fake"
    run_keyword = "value"

    def __init__(self, runnable: FakeRunnable | None = None) -> None:
        self.runnable = runnable or FakeRunnable()
        self.loads: list[Mapping[str, Any]] = []

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        return without_schemas(LIFECYCLE)

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        return PROVIDER_SCHEMA

    def load_schema(self, provider_input: Mapping[str, Any]) -> FakeRunnable:
        self.loads.append(provider_input)
        return self.runnable


class FakeRegistry:
    """A provider source holding explicit providers."""

    def __init__(self, *providers: Any) -> None:
        self.providers = {provider.kind: provider for provider in providers}

    def get(self, kind: str) -> Any:
        from arcaflow_steps import UnknownKindError

        try:
            return self.providers[kind]
        except KeyError:
            raise UnknownKindError(kind, self.providers) from None


class RecordingObserver:
    """Collects every event it observes."""

    def __init__(self) -> None:
        # Held while reporting, so a close on another thread sees the stage the guard has.
        self.lock = threading.RLock()
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)


class OneProvider:
    """A provider source (what prepare_step looks kinds up in) holding one provider."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def get(self, kind: str) -> Any:
        return self.provider
