"""One execution of a plugin step: the stage logic of the ``plugin`` provider.

Theory of operation. :meth:`PluginRunningStep.start` starts one thread that walks the stages in
order and reports each move to the (runner's) handler; everything that can block waits on one
condition variable, so stage input, ``stop_if``, ``close()`` and the run's result all wake it:

``deploy``
    waits for the ``deploy`` input, then takes a lease on a plugin process from the pool
    (:class:`~._process_pool.ProcessLease`) and obtains it: the parked schema probe when the
    deployer configuration matches, the shared process (``multiplex``), or a fresh deploy
    (which includes the ATP handshake). Failure → ``deploy_failed`` ``{error}``. When the
    ``enabled: false`` input is already known, nothing is deployed (the reference deploys).
``enabling``
    waits for ``enabled``; false → ``disabled`` (the plugin is stopped).
``starting``
    waits for ``input`` (validated against the plugin step's own input schema and sent typed),
    ``wait_for`` and ``closure_wait_timeout``; sends WORK_START. Failure → ``crashed``.
``running``
    waits for the run's result, or for a cancel. The result's output is validated against its
    declared schema → ``outputs``; an ATP error, EOF or invalid output → ``crashed``
    ``{output}`` with the plugin's exit status and stderr tail.

Cancel (``stop_if`` set to anything but false/null, ``close()``): before ``running`` the step
ends ``closed``. While running, the plugin gets its ``cancel`` signal once, when its step
declares that handler, and ``closure_wait_timeout`` ms to answer: an answer is an ordinary
output (``outputs``); otherwise the plugin is stopped and the step ends ``closed`` with
``{cancelled: true, close_requested}``, never ``crashed``. A step without a cancel handler is
stopped at once. ``force_close()`` stops the plugin at once in every case.

The plugin process is closed (CLIENT_DONE, grace, SIGTERM, SIGKILL, reaped) *before* the final
``on_step_complete``, so no process outlives a finished step. (The ``docker`` deployer's close
returns once the plugin has ended; dockerd may still be removing its container, which the
deployer's own close waits for: ``deployers/_docker_attach.py``.)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, final

from arcaflow_steps import (
    ArcaflowStepsError,
    IllegalStageTransitionError,
    RunningStepState,
    SchemaValidationError,
    StageChangeHandler,
    StageInputError,
)
from arcaflow_steps.schema import PropertySchema, StepSchema, validate, validate_properties

from .._stage_reports import StageReports
from .._task_threads import TaskThread
from ..deployers._protocols import PluginConnection
from ._plugin_process import CLOSE_TIMEOUT, PluginProcess, describe_death
from ._stages import DEFAULT_CLOSURE_WAIT_TIMEOUT_MS, InputField, PluginStage

if TYPE_CHECKING:
    from ._atp import RunHandle
    from ._process_pool import ProcessLease

__all__ = ["PluginRunningStep"]

_LOG: Final = logging.getLogger("arcaflow_steps_builtin.plugin")
S = PluginStage
#: Stages that take no input; input for them is accepted when empty and ignored.
_NO_INPUT_STAGES: Final = frozenset(
    {S.RUNNING, S.OUTPUTS, S.CRASHED, S.CLOSED, S.DEPLOY_FAILED, S.DISABLED}
)
#: Seconds a crashed plugin gets to exit after CLIENT_DONE before it is stopped.
_CRASH_CLOSE_TIMEOUT: Final = 1.0
#: Extra seconds ``close()`` waits beyond the closure wait timeout.
_CLOSE_SLACK: Final = 15.0
#: Seconds the runner should allow beyond the closure wait timeout for a graceful close (the
#: plugin's answer is in by then, or it is being stopped).
_STOP_MARGIN: Final = 2.0


class _StageUnreachableError(Exception):
    """Why a stage will not be reached (reported to the handler, never raised)."""


class _CancelledError(Exception):
    """The step was cancelled while waiting (internal control flow)."""


def _is_stop(value: Any) -> bool:
    return value is not None and value is not False


@final
class PluginRunningStep(StageReports[PluginStage]):
    """A plugin step execution; created by :meth:`PluginRunnableStep.start`.

    Thread safety: safe to share. Stage callbacks arrive on the step's own thread, one at a
    time; ``provide_stage_input``, ``close`` and ``force_close`` may be called from any thread.
    """

    def __init__(
        self,
        *,
        step: StepSchema,
        stage_inputs: Mapping[str, Mapping[str, PropertySchema]],
        lease: Callable[[Mapping[str, Any] | None], ProcessLease],
        handler: StageChangeHandler,
        run_id: str,
    ) -> None:
        """``stage_inputs``: the input schemas of the stages that take input; ``lease``: gives
        the lease on a process for a ``deploy`` input (raises ``ArcaflowStepsError``)."""
        self._step = step
        self._lease_for = lease
        self._handler = handler
        self._run_id = run_id
        self._has_cancel_handler = "cancel" in step.signal_handlers
        self._stage_schemas = stage_inputs
        # Guards every field below; the condition wakes the step thread on any change.
        self._cond = threading.Condition()
        self._stage: PluginStage = S.DEPLOY
        self._state = RunningStepState.STARTING
        self._inputs: dict[PluginStage, dict[str, Any]] = {}
        self._cancel = False
        self._close_requested = False
        self._force = False
        self._lease: ProcessLease | None = None
        self._process: PluginProcess | None = None
        self._deploying: PluginConnection | None = None
        self._result_ready = False
        self._finished = threading.Event()
        self._closure_wait_ms = DEFAULT_CLOSURE_WAIT_TIMEOUT_MS
        self._thread = TaskThread(self._main, name=f"plugin-step-{run_id}")

    # -- public API ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the step thread (called once by the runnable)."""
        self._thread.start()

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Give a stage its input fields (validated); ``stop_if`` may arrive at any time."""
        try:
            plugin_stage = PluginStage(stage)
        except ValueError:
            raise StageInputError(
                self._run_id,
                stage,
                "unknown stage; stages taking input: "
                + ", ".join(
                    repr(str(s)) for s in sorted(self._stage_schemas) if s not in _NO_INPUT_STAGES
                ),
            ) from None
        if plugin_stage in _NO_INPUT_STAGES:
            if input:
                raise StageInputError(
                    self._run_id, stage, f"stage takes no input fields, got {sorted(input)!r}"
                )
            return
        try:
            validated = validate_properties(
                self._stage_schemas[plugin_stage], input, path=f"$.steps.{self._run_id}"
            )
        except SchemaValidationError as exc:
            raise StageInputError(self._run_id, stage, str(exc)) from exc
        if plugin_stage is S.CANCELLED:
            if _is_stop(validated.get(InputField.STOP_IF)):
                self._request_cancel(close_requested=False, force=False)
            return
        with self._cond:
            if plugin_stage in self._inputs:
                raise StageInputError(self._run_id, stage, "input provided more than once")
            self._inputs[plugin_stage] = validated
            if plugin_stage is self._stage and self._state is RunningStepState.WAITING_FOR_INPUT:
                self._state = RunningStepState.RUNNING
            self._cond.notify_all()

    def current_stage(self) -> str:
        """Return the id of the stage the step is in."""
        with self._cond:
            return str(self._stage)

    def state(self) -> RunningStepState:
        """Return the coarse state of the step."""
        with self._cond:
            return self._state

    def close(self) -> None:
        """Cancel the step (cancel signal, closure wait, stop) and wait until it finished."""
        self._request_cancel(close_requested=True, force=False)
        self._wait_finished(self._closure_wait_ms / 1000 + _CLOSE_SLACK)

    @property
    def close_grace(self) -> float:
        """Seconds a graceful ``close()`` takes at most before it stops the plugin: the
        closure wait timeout and a margin (:class:`arcaflow_steps.GracefulRunningStep`)."""
        with self._cond:
            return self._closure_wait_ms / 1000 + _STOP_MARGIN

    def force_close(self) -> None:
        """Stop the plugin at once and wait until the step finished."""
        self._request_cancel(close_requested=True, force=True)
        self._wait_finished(_CLOSE_SLACK)

    # -- cancellation ----------------------------------------------------------------------

    def _request_cancel(self, *, close_requested: bool, force: bool) -> None:
        with self._cond:
            if self._finished.is_set():
                return
            self._cancel = True
            self._close_requested = self._close_requested or close_requested
            self._force = self._force or force
            lease = self._lease
            deploying, self._deploying = self._deploying, None
            self._cond.notify_all()
        if deploying is not None:  # a plugin that has not greeted yet: nothing to cancel
            TaskThread(deploying.close, name="plugin-deploy-close", args=(0.0,)).start()
        if lease is not None:
            lease.interrupt()  # a deploy waiting for a process slot stops waiting
            if force:
                lease.stop()

    def _wait_finished(self, timeout: float) -> None:
        if self._thread.is_current():
            return
        self._thread.join(timeout)  # at once if never started

    # -- the step thread -------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._drive()
        except IllegalStageTransitionError:
            pass  # the runner refused a report: it ends the step itself (we stop the plugin)
        except Exception as exc:  # a bug of ours: end in a terminal stage anyway
            _LOG.exception("plugin step %r failed unexpectedly", self._run_id)
            self._release(graceful=False)
            self._end_after_bug(exc)
        finally:
            self._release(graceful=False)
            with self._cond:
                self._state = RunningStepState.FINISHED
            self._finished.set()

    def _end_after_bug(self, exc: Exception) -> None:
        with self._cond:
            stage = self._stage
        with contextlib.suppress(Exception):
            if stage is S.DEPLOY:
                self._move(S.DEPLOY, S.DEPLOY_FAILED)
                self._complete(S.DEPLOY_FAILED, "error", {"error": f"internal error: {exc}"})
            elif stage in (S.ENABLING, S.STARTING, S.RUNNING):
                self._move(stage, S.CRASHED)
                self._complete(S.CRASHED, "error", {"output": f"internal error: {exc}"})

    def _await_input(self, stage: PluginStage) -> dict[str, Any]:
        """Wait for a stage's input; raise ``_CancelledError`` when the step is cancelled first."""
        with self._cond:
            while True:
                if self._cancel:
                    raise _CancelledError
                if stage in self._inputs:
                    self._state = RunningStepState.RUNNING
                    return self._inputs[stage]
                self._state = RunningStepState.WAITING_FOR_INPUT
                self._cond.wait()

    def _closed_output(self) -> dict[str, bool]:
        with self._cond:
            return {"cancelled": True, "close_requested": self._close_requested}

    def _end_closed(self, stage: PluginStage) -> None:
        self._release(graceful=False)
        self._move(stage, S.CLOSED)
        self._complete(S.CLOSED, "result", self._closed_output())

    def _release(self, *, graceful: bool, timeout: float = CLOSE_TIMEOUT) -> None:
        """Give the plugin process back: close it (or release the shared one)."""
        with self._cond:
            self._process = None
            lease = self._lease
        if lease is not None:
            lease.release(graceful=graceful, timeout=timeout)

    def _drive(self) -> None:
        """Walk the stages; each ``_stage_*`` returns False once the step has ended."""
        self._move(None, S.DEPLOY, waiting=not self._has_input(S.DEPLOY))
        if not self._stage_deploy():
            return None
        self._move(S.DEPLOY, S.ENABLING, waiting=not self._has_input(S.ENABLING))
        if not self._stage_enabling():
            return None
        try:
            starting = self._await_input(S.STARTING)
        except _CancelledError:
            return self._end_closed(S.STARTING)
        with self._cond:
            self._closure_wait_ms = int(
                starting.get(InputField.CLOSURE_WAIT_TIMEOUT, DEFAULT_CLOSURE_WAIT_TIMEOUT_MS)
            )
        return self._run(starting.get(InputField.INPUT) or {})

    def _stage_deploy(self) -> bool:
        try:
            deploy_input = self._await_input(S.DEPLOY)
        except _CancelledError:
            self._end_closed(S.DEPLOY)
            return False
        with self._cond:
            enabling = self._inputs.get(S.ENABLING)
        if enabling is not None and enabling.get(InputField.ENABLED) is False:
            return True  # known to be disabled: deploy nothing (the reference deploys anyway)
        try:
            lease = self._lease_for(deploy_input.get(InputField.DEPLOY))
            with self._cond:
                self._lease = lease
                cancelled = self._cancel
            if cancelled:  # cancelled before it saw the lease: do not wait for a slot
                lease.interrupt()
            process = lease.obtain(self._on_deployed)
        except ArcaflowStepsError as exc:
            with self._cond:
                self._deploying = None
                cancelled = self._cancel
            if cancelled:  # we stopped it while it was starting: not a failure
                self._end_closed(S.DEPLOY)
                return False
            self._move(S.DEPLOY, S.DEPLOY_FAILED)
            self._complete(S.DEPLOY_FAILED, "error", {"error": str(exc)})
            return False
        with self._cond:
            self._deploying = None
            self._process = process
            cancelled = self._cancel
        if cancelled:
            self._end_closed(S.DEPLOY)
            return False
        return True

    def _on_deployed(self, connection: PluginConnection) -> None:
        """Remember a plugin being greeted, so a cancel can stop it (deploy thread)."""
        with self._cond:
            cancelled = self._cancel
            if not cancelled:
                self._deploying = connection
        if cancelled:
            connection.close(0.0)

    def _stage_enabling(self) -> bool:
        try:
            enabling = self._await_input(S.ENABLING)
        except _CancelledError:
            self._end_closed(S.ENABLING)
            return False
        if enabling.get(InputField.ENABLED) is False:
            self._release(graceful=True)
            self._move(S.ENABLING, S.DISABLED, "resolved", {"enabled": False})
            self._complete(
                S.DISABLED, "output", {"message": f"Step {self._run_id}/{self._step.id} disabled"}
            )
            return False
        self._handler.on_stage_failure(
            self,
            str(S.DISABLED),
            _StageUnreachableError("step enabled; cannot be disabled anymore"),
        )
        self._move(
            S.ENABLING,
            S.STARTING,
            "resolved",
            {"enabled": True},
            waiting=not self._has_input(S.STARTING),
        )
        return True

    def _run(self, config: Mapping[str, Any]) -> None:
        with self._cond:
            process = self._process
        assert process is not None
        atp_run_id = process.reserve_run_id(self._run_id)
        try:
            try:
                handle = process.start_run(atp_run_id, self._step.id, config)
            except ArcaflowStepsError as exc:
                return self._crash(
                    S.STARTING, process, f"the plugin could not start the step: {exc}"
                )
            self._move(S.STARTING, S.RUNNING, "started", {})
            return self._await_result(process, handle, atp_run_id)
        finally:
            process.release_run_id(atp_run_id)

    def _await_result(self, process: PluginProcess, handle: RunHandle, atp_run_id: str) -> None:
        handle.add_done_callback(self._on_result_ready)
        with self._cond:
            while not self._result_ready and not self._cancel:
                self._cond.wait()
            cancelled = self._cancel and not self._result_ready
            force = self._force
        if cancelled:
            if force or not self._has_cancel_handler:
                return self._stop_cancelled(atp_run_id)
            process.send_cancel(atp_run_id)
            deadline = time.monotonic() + self._closure_wait_ms / 1000
            with self._cond:
                while not self._result_ready and not self._force:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                answered = self._result_ready
            if not answered:
                return self._stop_cancelled(atp_run_id)
        return self._finish(process, handle)

    def _on_result_ready(self, _handle: RunHandle) -> None:
        with self._cond:
            self._result_ready = True
            self._cond.notify_all()

    def _stop_cancelled(self, atp_run_id: str) -> None:
        with self._cond:
            lease = self._lease
        if lease is not None:  # a shared process is not stopped: it stops with its last user
            lease.abandon(atp_run_id)
        self._end_closed(S.RUNNING)

    def _finish(self, process: PluginProcess, handle: RunHandle) -> None:
        try:
            done = handle.result(0)
        except ArcaflowStepsError as exc:
            with self._cond:
                cancelled = self._cancel
            if cancelled:  # we stopped it (or it died while being cancelled): not a crash
                return self._end_closed(S.RUNNING)
            return self._crash(S.RUNNING, process, f"the plugin failed to run the step: {exc}")
        output_id, output_data = done.output_id, done.output_data
        if done.debug_logs and _LOG.isEnabledFor(logging.DEBUG):
            for line in process.new_debug_logs(done.debug_logs).splitlines():
                if line.strip():
                    _LOG.debug("step %r debug: %s", self._run_id, line)
        declared = self._step.outputs.get(output_id)
        if declared is None:
            return self._crash(
                S.RUNNING,
                process,
                f"the plugin returned undeclared output {output_id!r}; declared outputs: "
                + ", ".join(repr(o) for o in sorted(self._step.outputs)),
            )
        try:
            output_data = validate(declared.schema, output_data, path=f"$.outputs.{output_id}")
        except SchemaValidationError as exc:
            return self._crash(
                S.RUNNING,
                process,
                f"the plugin's output {output_id!r} does not match its schema:\n{exc}",
            )
        self._release(graceful=True)
        self._move(S.RUNNING, S.OUTPUTS)
        return self._complete(S.OUTPUTS, output_id, output_data)

    def _crash(self, stage: PluginStage, process: PluginProcess, reason: str) -> None:
        died = process.connection.exit_status() or ""  # before we stop it ourselves
        self._release(graceful=True, timeout=_CRASH_CLOSE_TIMEOUT)
        message = reason + describe_death(process.connection, already=reason, status=died)
        self._move(stage, S.CRASHED)
        self._complete(S.CRASHED, "error", {"output": message})
