"""Benchmark plugin: ``hello`` answers at once, ``sleep`` waits, ``spin`` burns CPU.

``hello`` and ``sleep`` are as cheap as a plugin step can be, so a benchmark that runs them
measures the engine (deploy, schema, handshake, run, close), not the plugin. ``sleep`` has a
``cancel`` signal handler, so ``stop_if`` works on it in both engines. ``spin`` keeps one core
busy (holding the GIL) for ``seconds``: it shows what running many steps in one plugin
process (multiplexing) costs when the steps are CPU-bound.

Run: ``python -m arcaflow_plugin_bench --atp`` (ATP server) or
``python -m arcaflow_plugin_bench -s hello -f input.yaml`` (one run, no engine).
"""

import dataclasses
import threading
import time
import typing

from arcaflow_plugin_sdk import plugin, predefined_schemas, schema

__all__ = [
    "SCHEMA",
    "HelloInput",
    "HelloOutput",
    "SleepInput",
    "SleepOutput",
    "SpinInput",
    "SpinOutput",
]


@dataclasses.dataclass
class HelloInput:
    """Who to greet."""

    name: typing.Annotated[str, schema.name("Name"), schema.description("Who to greet")]


@dataclasses.dataclass
class HelloOutput:
    """The greeting."""

    message: str


@dataclasses.dataclass
class SleepInput:
    """How long to sleep."""

    seconds: typing.Annotated[
        float, schema.name("Seconds"), schema.description("How long to sleep, in seconds")
    ]


@dataclasses.dataclass
class SleepOutput:
    """How long the step slept."""

    slept: float


@dataclasses.dataclass
class CancelledOutput:
    """The step was cancelled before it finished sleeping."""

    slept: float


@dataclasses.dataclass
class SpinInput:
    """How much CPU time to burn."""

    seconds: typing.Annotated[
        float, schema.name("Seconds"), schema.description("CPU seconds to burn in a busy loop")
    ]


@dataclasses.dataclass
class SpinOutput:
    """How many loop iterations the step ran."""

    iterations: int


@plugin.step(
    id="spin",
    name="Spin",
    description="Burns the given number of CPU seconds in a pure-Python loop",
    outputs={"success": SpinOutput},
)
def spin(params: SpinInput) -> tuple[str, SpinOutput]:
    """Busy-loop until this thread has used ``params.seconds`` of CPU time."""
    deadline = time.thread_time() + params.seconds
    iterations = 0
    while time.thread_time() < deadline:
        for _ in range(1000):
            iterations += 1
    return "success", SpinOutput(iterations)


@plugin.step(
    id="hello",
    name="Hello",
    description="Greets the given name at once",
    outputs={"success": HelloOutput},
)
def hello(params: HelloInput) -> tuple[str, HelloOutput]:
    """Greet ``params.name``."""
    return "success", HelloOutput(f"Hello, {params.name}!")


class SleepStep:
    """The ``sleep`` step: waits ``seconds`` unless cancelled."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()

    @plugin.step_with_signals(
        id="sleep",
        name="Sleep",
        description="Sleeps for the given number of seconds",
        outputs={"success": SleepOutput, "cancelled": CancelledOutput},
        signal_handler_method_names=["cancel"],
        signal_emitters=[],
        step_object_constructor=lambda: SleepStep(),  # noqa: PLW0108 (not yet defined)
    )
    def sleep(self, params: SleepInput) -> tuple[str, SleepOutput | CancelledOutput]:
        """Sleep ``params.seconds`` seconds, or until cancelled."""
        started = time.monotonic()
        if self._cancelled.wait(params.seconds):
            return "cancelled", CancelledOutput(time.monotonic() - started)
        return "success", SleepOutput(params.seconds)

    @plugin.signal_handler(
        id=predefined_schemas.cancel_signal_schema.id,
        name=predefined_schemas.cancel_signal_schema.display.name,
        description=predefined_schemas.cancel_signal_schema.display.description,
        icon=predefined_schemas.cancel_signal_schema.display.icon,
    )
    def cancel(self, _input: predefined_schemas.cancelInput) -> None:
        """Stop sleeping."""
        self._cancelled.set()


SCHEMA = plugin.build_schema(hello, SleepStep.sleep, spin)
