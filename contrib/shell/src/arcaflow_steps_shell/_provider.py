"""The ``shell`` provider: run a command as a step.

Step definition::

    kind: shell
    command: [sh, -c, "make test"]   # run keyword: the argv to run (required)
    stdin: "input text"              # stage input of ``start`` (optional)
    shell:                           # provider keyword (optional)
      cwd: /src                      #   working directory
      env: {CI: "1"}                 #   added to the environment
      timeout: 600                   #   seconds before the command is stopped
      grace_period: 2                #   seconds between SIGTERM and SIGKILL
      tail_bytes: 4096               #   how much of stdout/stderr the outputs keep

Lifecycle::

    start ──> running ──> success    output success {exit_code, stdout, stderr}
      │          ├──────> failure    output error   {exit_code, message, stdout, stderr}
      │          ├──────> timeout    output timeout {timeout, stdout, stderr}
      │          └──────> closed     output closed  {cancelled, stdout, stderr}
      ├────────────────> failure    (the command could not be started)
      └────────────────> closed

``start`` waits for its stage input (``stdin``, possibly empty), starts the command in its own
process group and reports the ``started`` output ``{pid}``. ``close()`` sends SIGTERM to the
whole group, then SIGKILL after ``grace_period``; ``force_close()`` sends SIGKILL at once.
"""

from __future__ import annotations

import enum
import signal
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import attrs

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema
from arcaflow_steps.authoring import (
    BaseRunningStep,
    Finish,
    Move,
    Outcome,
    SimpleRunnableStep,
    StepProviderBase,
    on_stage,
    without_schemas,
)
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    FloatSchema,
    IntSchema,
    ListSchema,
    PropertySchema,
    StepOutputSchema,
    StringSchema,
    object_scope,
)

from ._process import ShellProcess

__all__ = ["LIFECYCLE", "ShellConfig", "ShellProvider", "ShellStage", "ShellStep"]


class ShellStage(enum.StrEnum):
    """The stages of a shell step."""

    START = "start"
    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class ShellConfig:
    """The ``shell`` provider keyword: where and how long commands run."""

    __arcaflow_id__ = "ShellConfig"

    cwd: str | None = attrs.field(default=None, metadata={"name": "Working directory", "min": 1})
    env: dict[str, str] = attrs.field(
        factory=dict, metadata={"name": "Environment", "description": "Added to the environment."}
    )
    timeout: float | None = attrs.field(
        default=None,
        metadata={
            "name": "Timeout",
            "description": "Seconds before the command is stopped.",
            "min": 0,
        },
    )
    grace_period: float = attrs.field(
        default=2.0,
        metadata={
            "name": "Grace period",
            "description": "Seconds from SIGTERM to SIGKILL.",
            "min": 0,
        },
    )
    tail_bytes: int = attrs.field(
        default=4096,
        metadata={"name": "Tail size", "description": "Bytes of stdout/stderr kept.", "min": 0},
    )


def _text(name: str) -> PropertySchema:
    return PropertySchema(type=StringSchema(), required=True, display=DisplayValue(name=name))


_TAILS: Final = {
    "stdout": _text("Standard output (tail)"),
    "stderr": _text("Standard error (tail)"),
}

_STARTED: Final = StepOutputSchema(
    schema=object_scope("ShellStarted", pid=PropertySchema(type=IntSchema(), required=True))
)
_SUCCESS: Final = StepOutputSchema(
    schema=object_scope(
        "ShellSuccess", exit_code=PropertySchema(type=IntSchema(), required=True), **_TAILS
    ),
    display=DisplayValue(name="Exited with status 0"),
)
_ERROR: Final = StepOutputSchema(
    schema=object_scope(
        "ShellError",
        exit_code=PropertySchema(type=IntSchema()),
        message=_text("What went wrong"),
        **_TAILS,
    ),
    display=DisplayValue(name="Failed"),
    error=True,
)
_TIMEOUT: Final = StepOutputSchema(
    schema=object_scope(
        "ShellTimeout", timeout=PropertySchema(type=FloatSchema(), required=True), **_TAILS
    ),
    display=DisplayValue(name="Timed out"),
    error=True,
)
_CLOSED: Final = StepOutputSchema(
    schema=object_scope(
        "ShellClosed", cancelled=PropertySchema(type=BoolSchema(), required=True), **_TAILS
    ),
    display=DisplayValue(name="Closed"),
)


def _stage(
    stage: ShellStage,
    *next_stages: ShellStage,
    waiting_name: str = "",
    running_name: str = "",
    finished_name: str = "",
) -> LifecycleStage:
    return LifecycleStage(
        id=stage,
        next_stages=set(next_stages),
        waiting_name=waiting_name,
        running_name=running_name,
        finished_name=finished_name,
    )


LIFECYCLE: Final = Lifecycle(
    initial_stage=ShellStage.START,
    stages=[
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=ShellStage.START,
                waiting_name="waiting for stdin",
                running_name="starting",
                finished_name="started",
                input_fields={"stdin"},
                next_stages={ShellStage.RUNNING, ShellStage.FAILURE, ShellStage.CLOSED},
            ),
            input_schema={
                "stdin": PropertySchema(
                    type=StringSchema(),
                    display=DisplayValue(name="Standard input", description="Fed to the command."),
                )
            },
            outputs={"started": _STARTED},
        ),
        LifecycleStageWithSchema(
            stage=_stage(
                ShellStage.RUNNING,
                ShellStage.SUCCESS,
                ShellStage.FAILURE,
                ShellStage.TIMEOUT,
                ShellStage.CLOSED,
                waiting_name="waiting to run",
                running_name="running",
                finished_name="ran",
            ),
        ),
        LifecycleStageWithSchema(
            stage=_stage(ShellStage.SUCCESS, finished_name="succeeded"),
            outputs={"success": _SUCCESS},
        ),
        LifecycleStageWithSchema(
            stage=_stage(ShellStage.FAILURE, finished_name="failed"),
            outputs={"error": _ERROR},
        ),
        LifecycleStageWithSchema(
            stage=_stage(ShellStage.TIMEOUT, finished_name="timed out"),
            outputs={"timeout": _TIMEOUT},
        ),
        LifecycleStageWithSchema(
            stage=_stage(ShellStage.CLOSED, finished_name="closed"),
            outputs={"closed": _CLOSED},
        ),
    ],
)

RUN_SCHEMA: Final = {
    "command": PropertySchema(
        type=ListSchema(items=StringSchema(), min=1),
        required=True,
        display=DisplayValue(name="Command", description="The program and its arguments."),
    )
}

_POLL: Final = 0.05


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class ShellStep(BaseRunningStep):
    """One command run.

    Thread safety: safe to share.
    """

    blocking = True

    def __init__(self, config: ShellConfig, command: list[str]) -> None:
        super().__init__()
        self.config = config
        self.command = command
        # Guards _process and _stopped: start() publishes the process, closed_outcome() (on
        # any thread, possibly while start() is still spawning) marks the step stopped.
        self._process_lock = threading.Lock()
        self._process: ShellProcess | None = None
        self._stopped = False

    def _tails(self, process: ShellProcess) -> dict[str, str]:
        process.cleanup(timeout=1.0)
        return {"stdout": process.stdout.text(), "stderr": process.stderr.text()}

    @on_stage(ShellStage.START)
    def start(self, inputs: Mapping[str, Any]) -> Outcome:
        """Start the command in its own process group."""
        try:
            process = ShellProcess(
                self.command,
                cwd=self.config.cwd,
                env=self.config.env or None,
                stdin=inputs.get("stdin"),
                tail_bytes=self.config.tail_bytes,
                name=f"shell-{self.run_id}",
            )
        except OSError as exc:
            return Finish(
                stage=ShellStage.FAILURE,
                output_id="error",
                output={
                    "message": f"cannot start {self.command[0]!r}: {exc.strerror or exc}",
                    "stdout": "",
                    "stderr": "",
                },
            )
        with self._process_lock:
            self._process = process
            stopped = self._stopped
        if stopped:  # force-closed while spawning: nobody else will stop this process
            process.kill()
            process.cleanup(timeout=1.0)
        return Move(to=ShellStage.RUNNING, output_id="started", output={"pid": process.pid})

    @on_stage(ShellStage.RUNNING)
    def running(self, inputs: Mapping[str, Any]) -> Outcome:
        """Wait for the command to exit, time out, or the step to be closed."""
        del inputs
        process = self._process
        assert process is not None
        deadline = None if self.config.timeout is None else time.monotonic() + self.config.timeout
        while True:
            code = process.wait(_POLL)
            if code is not None:
                break
            if self.is_closing:
                return self.closed_outcome(ShellStage.RUNNING, forced=False)
            if deadline is not None and time.monotonic() >= deadline:
                process.stop(self.config.grace_period)
                return Finish(
                    stage=ShellStage.TIMEOUT,
                    output_id="timeout",
                    output={"timeout": float(self.config.timeout or 0), **self._tails(process)},
                )
        tails = self._tails(process)
        if code == 0:
            return Finish(
                stage=ShellStage.SUCCESS, output_id="success", output={"exit_code": 0, **tails}
            )
        return Finish(
            stage=ShellStage.FAILURE,
            output_id="error",
            output={"exit_code": code, "message": _describe_exit(code), **tails},
        )

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """Stop the whole process group (SIGKILL when forced) and end in ``closed``."""
        del stage
        with self._process_lock:
            self._stopped = True
            process = self._process
        tails = {"stdout": "", "stderr": ""}
        if process is not None:
            if forced:
                process.kill()
            else:
                process.stop(self.config.grace_period)
            tails = self._tails(process)
        return Finish(
            stage=ShellStage.CLOSED, output_id="closed", output={"cancelled": True, **tails}
        )


class ShellProvider(StepProviderBase[ShellConfig]):
    """The provider of kind ``shell``.

    Thread safety: safe to share (immutable).
    """

    kind = "shell"
    provider_keyword = "shell"
    run_keyword = "command"
    config_type = ShellConfig

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: ShellConfig) -> SimpleRunnableStep:
        """Return the runnable shell step for this configuration."""
        return SimpleRunnableStep(
            LIFECYCLE,
            RUN_SCHEMA,
            lambda run_input, run_id: ShellStep(provider_input, list(run_input["command"])),
        )
