"""Multi-step ATP test plugin (the ``step`` keyword is required): good and bad behaviour.

Steps (see README.md): ``hello``, ``echo`` (typed inputs echoed back), ``fail`` (error
output), ``raise`` (the step raises), ``exit`` (``os._exit`` mid-step), ``sleep``,
``cancellable`` (a cancel handler makes it return ``cancelled``, ``answer_after`` s later),
``ignore-cancel`` (a cancel handler that does nothing, then it hangs), ``hang`` (hangs, no
signal handler).

Run: ``python plugin_steps.py --atp`` or ``python -m plugin_steps --atp``.
"""

import dataclasses
import os
import sys
import threading
import time
import typing

from arcaflow_plugin_sdk import plugin, predefined_schemas, schema

# -- hello ----------------------------------------------------------------------------------


@dataclasses.dataclass
class HelloInput:
    name: typing.Annotated[str, schema.name("Name"), schema.description("Who to greet")]


@dataclasses.dataclass
class HelloOutput:
    message: str


@dataclasses.dataclass
class ErrorOutput:
    error: str


@plugin.step(
    id="hello",
    name="Hello",
    description="Says hello; error output for the name 'nobody'",
    outputs={"success": HelloOutput, "error": ErrorOutput},
)
def hello(
    params: HelloInput,
) -> tuple[str, HelloOutput | ErrorOutput]:
    if params.name.lower() == "nobody":
        return "error", ErrorOutput(f"plugin says no to {params.name}")
    return "success", HelloOutput(f"Hello, {params.name}!")


# -- echo: typed inputs -------------------------------------------------------------------------


@dataclasses.dataclass
class Inner:
    label: str
    weight: float = 1.5


@dataclasses.dataclass
class EchoInput:
    count: int
    ratio: float
    flag: bool
    tags: list[str]
    inner: Inner
    scores: dict[str, int]
    note: typing.Optional[str] = None  # noqa: UP045 (the SDK cannot read X | None)
    default_int: int = 7
    default_text: str = "seven"
    default_flag: bool = False


@dataclasses.dataclass
class EchoOutput:
    count: int
    ratio: float
    flag: bool
    tags: list[str]
    inner: Inner
    scores: dict[str, int]
    default_int: int
    default_text: str
    default_flag: bool
    types: dict[str, str]
    note: typing.Optional[str] = None  # noqa: UP045 (the SDK cannot read X | None)


@plugin.step(
    id="echo",
    name="Echo",
    description="Returns its typed input, with the Python type names it received",
    outputs={"success": EchoOutput},
)
def echo(params: EchoInput) -> tuple[str, EchoOutput]:
    types = {
        field.name: type(getattr(params, field.name)).__name__
        for field in dataclasses.fields(params)
    }
    return "success", EchoOutput(
        count=params.count,
        ratio=params.ratio,
        flag=params.flag,
        tags=params.tags,
        inner=params.inner,
        scores=params.scores,
        note=params.note,
        default_int=params.default_int,
        default_text=params.default_text,
        default_flag=params.default_flag,
        types=types,
    )


# -- failures -------------------------------------------------------------------------------


@dataclasses.dataclass
class Empty:
    pass


@plugin.step(
    id="fail",
    name="Fail",
    description="Always returns the error output",
    outputs={"success": HelloOutput, "error": ErrorOutput},
)
def fail(params: Empty) -> tuple[str, HelloOutput | ErrorOutput]:
    return "error", ErrorOutput("failing on purpose")


@plugin.step(
    id="raise",
    name="Raise",
    description="Raises an exception inside the step",
    outputs={"success": HelloOutput},
)
def raise_step(params: Empty) -> tuple[str, HelloOutput]:
    raise RuntimeError("boom from raise step")


@dataclasses.dataclass
class ExitInput:
    code: int = 1
    delay: float = 0.0


@plugin.step(
    id="exit",
    name="Exit",
    description="Calls os._exit(code) in the middle of the step",
    outputs={"success": HelloOutput},
)
def exit_step(params: ExitInput) -> tuple[str, HelloOutput]:
    time.sleep(params.delay)
    os.write(2, f"exit step: calling os._exit({params.code})\n".encode())
    os._exit(params.code)


# -- time -----------------------------------------------------------------------------------


@dataclasses.dataclass
class SleepInput:
    seconds: float


@dataclasses.dataclass
class SleepOutput:
    slept: float


@plugin.step(
    id="sleep",
    name="Sleep",
    description="Sleeps for the given number of seconds",
    outputs={"success": SleepOutput},
)
def sleep(params: SleepInput) -> tuple[str, SleepOutput]:
    time.sleep(params.seconds)
    return "success", SleepOutput(params.seconds)


@dataclasses.dataclass
class HangInput:
    seconds: float = 60.0


@plugin.step(
    id="hang",
    name="Hang",
    description="Sleeps for a long time and has no signal handler",
    outputs={"success": SleepOutput},
)
def hang(params: HangInput) -> tuple[str, SleepOutput]:
    time.sleep(params.seconds)
    return "success", SleepOutput(params.seconds)


@dataclasses.dataclass
class CancelledOutput:
    cancelled: bool
    waited: float


@dataclasses.dataclass
class CancellableInput:
    seconds: float = 60.0
    answer_after: float = 0.0


class CancellableStep:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    @plugin.step_with_signals(
        id="cancellable",
        name="Cancellable",
        description="Waits up to 'seconds'; the cancel signal makes it return 'cancelled' "
        "'answer_after' seconds later",
        outputs={"success": SleepOutput, "cancelled": CancelledOutput},
        signal_handler_method_names=["cancel"],
        signal_emitters=[],
        step_object_constructor=lambda: CancellableStep(),  # noqa: PLW0108 (defined later)
    )
    def cancellable(self, params: CancellableInput) -> tuple[str, SleepOutput | CancelledOutput]:
        started = time.monotonic()
        if self.cancelled.wait(params.seconds):
            time.sleep(params.answer_after)  # a clean-up that takes a while
            return "cancelled", CancelledOutput(True, time.monotonic() - started)
        return "success", SleepOutput(params.seconds)

    @plugin.signal_handler(
        id=predefined_schemas.cancel_signal_schema.id,
        name=predefined_schemas.cancel_signal_schema.display.name,
        description=predefined_schemas.cancel_signal_schema.display.description,
    )
    def cancel(self, _input: predefined_schemas.cancelInput) -> None:
        self.cancelled.set()


class IgnoreCancelStep:
    def __init__(self) -> None:
        self.cancel_count = 0

    @plugin.step_with_signals(
        id="ignore-cancel",
        name="Ignore cancel",
        description="Has a cancel handler that does nothing, then sleeps 'seconds'",
        outputs={"success": SleepOutput},
        signal_handler_method_names=["cancel"],
        signal_emitters=[],
        step_object_constructor=lambda: IgnoreCancelStep(),  # noqa: PLW0108 (defined later)
    )
    def ignore_cancel(self, params: HangInput) -> tuple[str, SleepOutput]:
        time.sleep(params.seconds)
        return "success", SleepOutput(params.seconds)

    @plugin.signal_handler(
        id=predefined_schemas.cancel_signal_schema.id,
        name=predefined_schemas.cancel_signal_schema.display.name,
        description=predefined_schemas.cancel_signal_schema.display.description,
    )
    def cancel(self, _input: predefined_schemas.cancelInput) -> None:
        self.cancel_count += 1  # and otherwise ignore it


SCHEMA = plugin.build_schema(
    hello,
    echo,
    fail,
    raise_step,
    exit_step,
    sleep,
    hang,
    CancellableStep.cancellable,
    IgnoreCancelStep.ignore_cancel,
)

if __name__ == "__main__":
    sys.exit(plugin.run(SCHEMA))
