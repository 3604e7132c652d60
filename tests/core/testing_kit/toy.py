"""A small provider written straight against the protocols, and broken copies of it.

``ToyProvider()`` obeys every rule. ``ToyProvider(flaw=Flaw.X)`` breaks exactly one rule the
conformance kit checks, so each test shows the kit catches that violation with a clear message.

Lifecycle: ``prepare`` (input ``go``) -> ``work`` -> ``done`` (output ``success``) or ``failed``
(error output ``error``); ``prepare`` and ``work`` may also end in ``closed``.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Mapping
from typing import Any

from arcaflow_steps import (
    AnyProvider,
    Lifecycle,
    LifecycleStage,
    LifecycleStageWithSchema,
    ProviderBugError,
    RunningStepState,
    StageChangeHandler,
)
from arcaflow_steps.schema import (
    BoolSchema,
    FloatSchema,
    IntSchema,
    ObjectSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)


class ToyStage(enum.StrEnum):
    PREPARE = "prepare"
    WORK = "work"
    DONE = "done"
    FAILED = "failed"
    CLOSED = "closed"


class Flaw(enum.Enum):
    """One deliberate violation each; the comment names the rule it breaks."""

    NONE = "none"
    BAD_KIND = "bad kind"  # kind and keywords
    RUN_KEYWORD_IS_KIND = "run keyword is 'kind'"  # kind and keywords
    FIELD_IS_PROVIDER_KEYWORD = "stage input field equals the provider keyword"  # keywords
    CYCLE = "lifecycle has a cycle"  # lifecycle
    TWO_ROOTS = "two stages without inbound edge"  # lifecycle
    PROVIDER_SCHEMA_KEY = "provider schema names another key"  # schemas
    INPUT_SCHEMA_MISSING = "stage input schema lacks its field"  # schemas
    WRONG_FIRST_STAGE = "first report is 'work'"  # initial stage
    UNDECLARED_TRANSITION = "moves prepare -> done"  # declared transitions
    UNDECLARED_OUTPUT = "reports output 'surprise'"  # declared outputs
    OUTPUT_MISMATCH = "output data does not match its schema"  # declared outputs
    COMPLETES_TWICE = "reports completion twice"  # one terminal stage
    COMPLETES_IN_WORK = "completes in non-terminal 'work'"  # one terminal stage
    NEVER_COMPLETES = "never reports completion"  # one terminal stage
    NOT_REPORTED_WAITING = "enters prepare with waiting_for_input=False"  # waiting for input
    STATE_RUNNING_WHILE_BLOCKED = "state() says running while blocked"  # waiting for input
    IGNORES_INPUT = "does not wait for its input"  # waiting for input
    CLOSE_RAISES_TWICE = "second close() raises"  # close
    CLOSE_HANGS = "close() never returns while working"  # close
    FORCE_CLOSE_IGNORED = "force_close() does nothing"  # force close
    THREAD_LEFT = "close() leaves a thread running"  # no thread left
    REFUSES_INPUT = "provide_stage_input() raises"  # the case (the runner would end it)
    LOAD_RAISES = "load_schema() raises a foreign exception"  # the case
    DANGLING_REF = "an output schema refers to an object its scope lacks"  # schemas
    STALE_STATE = "calls on_stage_change before updating its stage"  # consistent state
    CRASHES = "reports a crash (ProviderBugError) in 'work'"  # no crash


def _scope(name: str, **properties: PropertySchema) -> ScopeSchema:
    return ScopeSchema(root=name, objects={name: ObjectSchema(id=name, properties=properties)})


_CONFIG = _scope("ToyConfig", delay=PropertySchema(type=FloatSchema(min=0), default="0.0"))
_SUCCESS = _scope("Success", value=PropertySchema(type=IntSchema(), required=True))
_DANGLING = _scope("Success", value=PropertySchema(type=RefSchema(id="Missing"), required=True))
_ERROR = _scope("Error", message=PropertySchema(type=StringSchema(), required=True))
_CLOSED = _scope("Closed", cancelled=PropertySchema(type=BoolSchema(), required=True))


class ToyProvider:
    """A provider of kind ``toy``: ``toy: {delay}`` configures it, ``value`` is what it returns.

    Thread safety: safe to share (immutable).
    """

    def __init__(self, flaw: Flaw = Flaw.NONE) -> None:
        self.flaw = flaw

    @property
    def kind(self) -> str:
        return "Toy Steps" if self.flaw is Flaw.BAD_KIND else "toy"

    @property
    def provider_keyword(self) -> str:
        return "toy"

    @property
    def run_keyword(self) -> str:
        return "kind" if self.flaw is Flaw.RUN_KEYWORD_IS_KIND else "value"

    def _go_field(self) -> str:
        return "toy" if self.flaw is Flaw.FIELD_IS_PROVIDER_KEYWORD else "go"

    def _stages(self) -> list[LifecycleStage]:
        work_next = {ToyStage.DONE, ToyStage.FAILED, ToyStage.CLOSED}
        if self.flaw is Flaw.CYCLE:
            work_next.add(ToyStage.PREPARE)
        stages = [
            LifecycleStage(
                id=ToyStage.PREPARE,
                input_fields={self._go_field()},
                next_stages={ToyStage.WORK, ToyStage.CLOSED},
            ),
            LifecycleStage(id=ToyStage.WORK, next_stages=work_next),
            LifecycleStage(id=ToyStage.DONE),
            LifecycleStage(id=ToyStage.FAILED, fatal=True),
            LifecycleStage(id=ToyStage.CLOSED),
        ]
        if self.flaw is Flaw.TWO_ROOTS:
            stages.append(LifecycleStage(id="orphan", next_stages={ToyStage.DONE}))
        return stages

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        return Lifecycle(initial_stage=ToyStage.PREPARE, stages=self._stages())

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        key = "config" if self.flaw is Flaw.PROVIDER_SCHEMA_KEY else "toy"
        return {key: PropertySchema(type=_CONFIG, required=True)}

    def load_schema(self, provider_input: Mapping[str, Any]) -> ToyRunnable:
        if self.flaw is Flaw.LOAD_RAISES:
            raise RuntimeError("boom")
        config = provider_input.get("toy") or provider_input.get("config") or {}
        return ToyRunnable(self, float(config.get("delay", 0.0)))

    def any(self) -> AnyProvider:
        return self


class ToyRunnable:
    """The toy provider with its (fixed) schema loaded.

    Thread safety: safe to share (immutable).
    """

    def __init__(self, provider: ToyProvider, delay: float) -> None:
        self.provider = provider
        self.delay = delay

    def run_schema(self) -> Mapping[str, PropertySchema]:
        return {self.provider.run_keyword: PropertySchema(type=IntSchema(), required=True)}

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        go_field = self.provider._go_field()
        input_schema = {go_field: PropertySchema(type=BoolSchema(), required=True)}
        if self.provider.flaw is Flaw.INPUT_SCHEMA_MISSING:
            input_schema = {}
        outputs: dict[str, dict[str, StepOutputSchema]] = {
            ToyStage.DONE: {
                "success": StepOutputSchema(
                    schema=_DANGLING if self.provider.flaw is Flaw.DANGLING_REF else _SUCCESS
                )
            },
            ToyStage.FAILED: {"error": StepOutputSchema(schema=_ERROR, error=True)},
            ToyStage.CLOSED: {"result": StepOutputSchema(schema=_CLOSED)},
        }
        return Lifecycle(
            initial_stage=ToyStage.PREPARE,
            stages=[
                LifecycleStageWithSchema(
                    stage=stage,
                    input_schema=input_schema if stage.id == ToyStage.PREPARE else {},
                    outputs=outputs.get(stage.id, {}),
                )
                for stage in self.provider._stages()
            ],
        )

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> ToyRunningStep:
        value = run_input[self.provider.run_keyword]
        return ToyRunningStep(self.provider.flaw, self.delay, value, handler, run_id)


class ToyRunningStep:
    """One toy execution on its own thread.

    Thread safety: safe to share; every method may be called from any thread.
    """

    def __init__(
        self, flaw: Flaw, delay: float, value: int, handler: StageChangeHandler, run_id: str
    ) -> None:
        self._flaw = flaw
        self._delay = delay
        self._value = value
        self._handler = handler
        # Guards _stage, _state, _closes.
        self._lock = threading.Lock()
        self._stage: str = ToyStage.PREPARE
        self._state = RunningStepState.STARTING
        self._closes = 0
        self._go = threading.Event()
        self._stop = threading.Event()
        self._forced = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"toy-{run_id}", daemon=True)
        self._thread.start()

    # -- RunningStep --------------------------------------------------------------------------

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        if self._flaw is Flaw.REFUSES_INPUT:
            raise ValueError("no input for me")
        if stage == ToyStage.PREPARE:
            with self._lock:
                if self._state is RunningStepState.WAITING_FOR_INPUT:
                    self._state = RunningStepState.RUNNING
            self._go.set()

    def current_stage(self) -> str:
        with self._lock:
            return self._stage

    def state(self) -> RunningStepState:
        with self._lock:
            return self._state

    def close(self) -> None:
        with self._lock:
            self._closes += 1
            closes = self._closes
        if self._flaw is Flaw.CLOSE_RAISES_TWICE and closes > 1:
            raise RuntimeError("already closed")
        if self._flaw is Flaw.CLOSE_HANGS and self.current_stage() == ToyStage.WORK:
            threading.Event().wait(30)
        self._stop.set()
        self._join()

    def force_close(self) -> None:
        if self._flaw is Flaw.FORCE_CLOSE_IGNORED:
            return
        self._forced.set()
        self._stop.set()
        self._join()

    # -- the stage logic ----------------------------------------------------------------------

    def _join(self) -> None:
        if self._flaw is Flaw.THREAD_LEFT:
            return
        if threading.current_thread() is not self._thread:
            self._thread.join(5)

    def _move(self, new_stage: str, output_id: str | None = None, output: Any = None) -> None:
        with self._lock:
            previous = self._stage if self._state is not RunningStepState.STARTING else None
            self._stage = new_stage
            waiting = new_stage == ToyStage.PREPARE and not self._go.is_set()
            if self._flaw is Flaw.IGNORES_INPUT:
                waiting = False
            self._state = (
                RunningStepState.WAITING_FOR_INPUT
                if waiting and self._flaw is not Flaw.STATE_RUNNING_WHILE_BLOCKED
                else RunningStepState.RUNNING
            )
        if self._flaw is Flaw.NOT_REPORTED_WAITING:
            waiting = False
        if self._flaw is Flaw.STALE_STATE and previous is not None:
            with self._lock:
                self._stage = previous
            self._handler.on_stage_change(self, previous, output_id, output, new_stage, waiting)
            with self._lock:
                self._stage = new_stage
            return
        self._handler.on_stage_change(self, previous, output_id, output, new_stage, waiting)

    def _finish(self, stage: str, output_id: str, output: Any) -> None:
        self._move(stage)
        with self._lock:
            self._state = RunningStepState.FINISHED
        if self._flaw is Flaw.NEVER_COMPLETES:
            return
        self._handler.on_step_complete(self, stage, output_id, output)
        if self._flaw is Flaw.COMPLETES_TWICE:
            self._handler.on_step_complete(self, stage, output_id, output)

    def _ends_in_work(self) -> bool:
        """Break the rule of a flaw that ends the step in 'work'; return whether it did."""
        if self._flaw is Flaw.CRASHES:
            with self._lock:
                self._state = RunningStepState.FINISHED
            bug = ProviderBugError("toy", ToyStage.WORK, "stage method work() raised KeyError()")
            self._handler.on_stage_failure(self, ToyStage.WORK, bug)
            return True
        if self._flaw is Flaw.COMPLETES_IN_WORK:
            with self._lock:
                self._state = RunningStepState.FINISHED
            self._handler.on_step_complete(self, ToyStage.WORK, None, None)
            return True
        return False

    def _run(self) -> None:
        first = ToyStage.WORK if self._flaw is Flaw.WRONG_FIRST_STAGE else ToyStage.PREPARE
        self._move(first)
        if self._flaw is not Flaw.IGNORES_INPUT:
            while not self._go.wait(0.01):
                if self._stop.is_set():
                    self._finish(ToyStage.CLOSED, "result", {"cancelled": True})
                    return
        if self._flaw is Flaw.UNDECLARED_TRANSITION:
            self._finish(ToyStage.DONE, "success", {"value": self._value})
            return
        if first is not ToyStage.WORK:
            self._move(ToyStage.WORK)
        if self._stop.wait(self._delay):
            self._finish(ToyStage.CLOSED, "result", {"cancelled": True})
            if self._flaw is Flaw.THREAD_LEFT:
                time.sleep(3)
            return
        if self._ends_in_work():
            return
        if self._value < 0:
            self._finish(ToyStage.FAILED, "error", {"message": f"negative value {self._value}"})
        elif self._flaw is Flaw.UNDECLARED_OUTPUT:
            self._finish(ToyStage.DONE, "surprise", {"value": self._value})
        elif self._flaw is Flaw.OUTPUT_MISMATCH:
            self._finish(ToyStage.DONE, "success", {"value": f"{self._value}!"})
        else:
            self._finish(ToyStage.DONE, "success", {"value": self._value})
