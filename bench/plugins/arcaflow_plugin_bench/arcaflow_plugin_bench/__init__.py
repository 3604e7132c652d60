"""Benchmark plugin: ``hello`` answers at once, ``sleep`` waits ``seconds`` then answers.

Both steps are as cheap as a plugin step can be, so a benchmark that runs them measures the
engine (deploy, schema, handshake, run, close), not the plugin. ``sleep`` has a ``cancel``
signal handler, so ``stop_if`` works on it in both engines.

Run: ``python -m arcaflow_plugin_bench --atp`` (ATP server) or
``python -m arcaflow_plugin_bench -s hello -f input.yaml`` (one run, no engine).
"""

import dataclasses
import threading
import time
import typing

from arcaflow_plugin_sdk import plugin, predefined_schemas, schema

__all__ = ["SCHEMA", "HelloInput", "HelloOutput", "SleepInput", "SleepOutput"]


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


SCHEMA = plugin.build_schema(hello, SleepStep.sleep)
