"""A small configurable provider shared by the registry's test distributions.

``EchoProvider`` has the lifecycle ``starting`` (input field ``input``) -> ``outputs`` (terminal,
outputs ``success`` and ``error``) or ``closed``. Its step echoes ``input.message`` with the
provider keyword's ``prefix``; the message ``fail`` produces the ``error`` output. Keywords and
the lifecycle are constructor arguments, so broken variants are one line each.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema, RunningStepState
from arcaflow_steps.schema import (
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)

STARTING, OUTPUTS, CLOSED = "starting", "outputs", "closed"


def _scope(object_id: str, **fields: PropertySchema) -> ScopeSchema:
    return ScopeSchema(
        root=object_id, objects={object_id: ObjectSchema(id=object_id, properties=fields)}
    )


_STRING = PropertySchema(type=StringSchema(), required=True)


def echo_lifecycle(input_field: str = "input") -> Lifecycle[LifecycleStage]:
    return Lifecycle(
        initial_stage=STARTING,
        stages=(
            LifecycleStage(
                id=STARTING,
                waiting_name="waiting for input",
                running_name="echoing",
                finished_name="echoed",
                input_fields={input_field},
                next_stages={OUTPUTS, CLOSED},
            ),
            LifecycleStage(id=OUTPUTS, finished_name="finished"),
            LifecycleStage(id=CLOSED, finished_name="closed", fatal=True),
        ),
    )


class EchoProvider:
    """An untyped provider (``AnyProvider``) whose steps echo a message."""

    def __init__(
        self,
        kind: str = "echo",
        *,
        provider_keyword: str = "echo",
        run_keyword: str = "mode",
        input_field: str = "input",
        lifecycle: Lifecycle[LifecycleStage] | None = None,
    ) -> None:
        self.kind = kind
        self.provider_keyword = provider_keyword
        self.run_keyword = run_keyword
        self.input_field = input_field
        self._lifecycle = lifecycle or echo_lifecycle(input_field)

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        return self._lifecycle

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        return {
            self.provider_keyword: PropertySchema(
                type=_scope("EchoConfig", prefix=_STRING), required=True
            )
        }

    def load_schema(self, provider_input: Mapping[str, Any]) -> EchoRunnable:
        prefix = str(provider_input[self.provider_keyword]["prefix"])
        if prefix == "slow schema":  # like a plugin that takes long to deploy
            sys.stderr.write("echo is loading its schema\n")
            sys.stderr.flush()
            time.sleep(30)
        return EchoRunnable(self, prefix)


class EchoRunnable:
    def __init__(self, provider: EchoProvider, prefix: str) -> None:
        self.provider = provider
        self.prefix = prefix

    def run_schema(self) -> Mapping[str, PropertySchema]:
        return {self.provider.run_keyword: PropertySchema(type=StringSchema(), required=False)}

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        base = self.provider.lifecycle()
        message = _scope("Message", message=_STRING)
        schemas = {
            STARTING: LifecycleStageWithSchema(
                stage=base.stage(STARTING),
                input_schema={
                    self.provider.input_field: PropertySchema(type=message, required=True)
                },
            ),
            OUTPUTS: LifecycleStageWithSchema(
                stage=base.stage(OUTPUTS),
                outputs={
                    "success": StepOutputSchema(schema=message),
                    "error": StepOutputSchema(schema=_scope("Error", reason=_STRING), error=True),
                },
            ),
            CLOSED: LifecycleStageWithSchema(
                stage=base.stage(CLOSED),
                outputs={"result": StepOutputSchema(schema=_scope("Closed"), error=True)},
            ),
        }
        return Lifecycle(
            initial_stage=base.initial_stage,
            stages=tuple(schemas[stage.id] for stage in base.stages),
        )

    def start(self, run_input: Mapping[str, Any], handler: Any, run_id: str) -> EchoRunning:
        running = EchoRunning(self, handler)
        threading.Thread(target=running._enter, name=f"echo-{run_id}", daemon=True).start()
        return running


class EchoRunning:
    """Echoes the message; ``fail`` is an error output, ``crash`` ends in the fatal ``closed``,
    ``wait`` blocks until close() and ``stubborn`` until force_close()."""

    def __init__(self, runnable: EchoRunnable, handler: Any) -> None:
        self._runnable = runnable
        self._handler = handler
        # Guards _stage, _state, _input, _entered, _working.
        self._lock = threading.Lock()
        self._stage = STARTING
        self._state = RunningStepState.STARTING
        self._input: Mapping[str, Any] | None = None
        self._entered = False
        self._working = False
        self._close_requested = threading.Event()
        self._force_requested = threading.Event()
        self._done = threading.Event()

    def _enter(self) -> None:
        self._handler.on_stage_change(self, None, None, None, STARTING, True)
        with self._lock:
            self._entered = True
            if self._state == RunningStepState.STARTING:
                self._state = RunningStepState.WAITING_FOR_INPUT
            ready = self._input is not None
        if ready:
            self._work()

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        with self._lock:
            self._input = input
            go = self._entered
        if go:
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        with self._lock:
            if self._working or self._stage != STARTING or self._input is None:
                return
            self._working = True
            self._state = RunningStepState.RUNNING
        message = str(self._input[self._runnable.provider.input_field]["message"])
        if message == "crash":
            self._end_closed()
            return
        if message in ("wait", "stubborn"):
            # Tests wait for this line before they signal, so the step is really working.
            sys.stderr.write(f"echo step is working ({message})\n")
            sys.stderr.flush()
        if message == "wait":
            self._close_requested.wait(60)
            self._end_closed()
            return
        if message == "stubborn":
            self._force_requested.wait(60)
            self._end_closed()
            return
        with self._lock:
            if self._stage != STARTING:
                return
            self._stage = OUTPUTS
            self._state = RunningStepState.FINISHED
        self._handler.on_stage_change(self, STARTING, None, None, OUTPUTS, False)
        if message == "fail":
            self._handler.on_step_complete(self, OUTPUTS, "error", {"reason": "asked to fail"})
        else:
            text = f"{self._runnable.prefix}{message}"
            self._handler.on_step_complete(self, OUTPUTS, "success", {"message": text})
        self._done.set()

    def _end_closed(self) -> None:
        with self._lock:
            if self._stage != STARTING:
                return
            self._stage = CLOSED
            self._state = RunningStepState.FINISHED
        self._handler.on_stage_change(self, STARTING, None, None, CLOSED, False)
        self._handler.on_step_complete(self, CLOSED, "result", {})
        self._done.set()

    def current_stage(self) -> str:
        with self._lock:
            return self._stage

    def state(self) -> RunningStepState:
        with self._lock:
            return self._state

    def close(self) -> None:
        self._close_requested.set()
        with self._lock:
            working = self._working
        if not working:
            self._end_closed()
        self._done.wait(5)

    def force_close(self) -> None:
        self._force_requested.set()
        self.close()


def providers(*extra: EchoProvider) -> Sequence[EchoProvider]:
    return list(extra)
