"""One execution of a foreach step: a sub-workflow run per item, at most ``parallelism`` at once.

Theory of operation. :meth:`ForeachRunningStep.start` starts one thread, the *driver*, that walks
the stages and reports each move to the (runner's) handler; whatever can block waits on one
condition variable, so stage input, ``close()`` and finished items all wake it:

``enabling``
    waits for ``enabled``; ``false`` → ``disabled`` ``{message: "Step foreach <id> disabled"}``.
``execute``
    waits for ``items``, ``parallelism`` and ``wait_for``. Every item is checked against the
    sub-workflow's input first (:meth:`WorkflowPlan.validate_input`); a bad item fails the step
    before any item runs (``failed``, its index and problem in ``messages``). Then
    ``min(parallelism, len(items))`` worker threads take the items in order, each starting the
    item's sub-workflow run (``plan.start(item, step_id_prefix="<id>[<index>].",
    background=False)``) and processing its events itself until the run ended (no executor
    thread per item). An item succeeds when its run ends with the output ``success``; any other
    output, or a failed run, fails the item.
``outputs`` / ``failed``
    every item succeeded → ``outputs`` ``success {data: [...]}`` in item order; otherwise
    ``failed`` ``error {data: {index: success data}, messages: {index: why}}``. No items →
    ``success {data: []}`` at once.

Close. ``close()`` stops workers from starting more items and closes every item's run (each in
its own thread, at once), then waits for the driver, which ends the step ``closed``
``{cancelled: true, close_requested: true}``. ``force_close()`` does the same with
``WorkflowRun.force_close()``. Each run closes its own steps, so a nested foreach closes its
items' runs in turn: closing the outermost step closes every sub-workflow step below it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, final

from arcaflow_steps import (
    ArcaflowStepsError,
    IllegalStageTransitionError,
    RunningStepState,
    StageChangeHandler,
    StageInputError,
)
from arcaflow_steps.schema import IntSchema, validate

from .._stage_reports import StageReports
from ._stages import ForeachStage, InputField

if TYPE_CHECKING:
    from arcaflow_steps.workflow import WorkflowPlan, WorkflowRun

__all__ = ["ForeachRunningStep"]

_LOG: Final = logging.getLogger("arcaflow_steps_builtin.foreach")
S = ForeachStage
#: Stages that take input.
_INPUT_FIELDS: Final = {
    S.ENABLING: frozenset({InputField.ENABLED}),
    S.EXECUTE: frozenset({InputField.ITEMS, InputField.PARALLELISM, InputField.WAIT_FOR}),
}
#: Seconds ``close()`` waits for the driver after the item runs were closed, before forcing.
_CLOSE_TIMEOUT: Final = 60.0
#: Seconds ``force_close()`` waits for the driver.
_FORCE_CLOSE_TIMEOUT: Final = 15.0
_PARALLELISM_SCHEMA: Final = IntSchema(min=1)


class _ClosedError(Exception):
    """The step was closed while it waited (internal control flow)."""


@final
class ForeachRunningStep(StageReports[ForeachStage]):
    """A foreach step execution; created by :meth:`ForeachRunnableStep.start`.

    Thread safety: safe to share. Stage callbacks arrive on the step's own thread, one at a
    time; ``provide_stage_input``, ``close`` and ``force_close`` may be called from any thread.
    """

    def __init__(
        self, *, plan: WorkflowPlan, workflow: str, handler: StageChangeHandler, run_id: str
    ) -> None:
        """``plan``: the planned sub-workflow; ``workflow``: its path as written, for messages."""
        self._plan = plan
        self._workflow = workflow
        self._handler = handler
        self._run_id = run_id
        # Guards every field below; the condition wakes the driver on any change.
        self._cond = threading.Condition()
        self._stage = S.ENABLING
        self._state = RunningStepState.STARTING
        self._inputs: dict[ForeachStage, Mapping[str, Any]] = {}
        self._cancel = False
        self._force = False
        self._items: Sequence[Any] = ()
        self._next_item = 0
        self._runs: dict[int, WorkflowRun] = {}
        self._data: dict[int, Any] = {}
        self._messages: dict[int, str] = {}
        self._driver = threading.Thread(
            target=self._main, name=f"foreach-step-{run_id}", daemon=True
        )

    # -- RunningStep -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the driver thread (called once by the runnable)."""
        self._driver.start()

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Give ``enabling`` or ``execute`` its input fields (items are checked when they run).

        Raises:
            StageInputError: unknown stage or field, a stage given twice, a value of the
                wrong type.
        """
        try:
            foreach_stage = ForeachStage(stage)
        except ValueError:
            raise StageInputError(
                self._run_id, stage, "unknown stage; stages taking input: 'enabling', 'execute'"
            ) from None
        fields = _INPUT_FIELDS.get(foreach_stage, frozenset())
        unknown = sorted(set(input) - fields)
        if unknown:
            valid = ", ".join(repr(str(field)) for field in sorted(fields)) or "none"
            raise StageInputError(
                self._run_id, stage, f"unknown input fields {unknown!r}; valid fields: {valid}"
            )
        if not fields:
            return
        self._check_input(stage, input)
        with self._cond:
            if foreach_stage in self._inputs:
                raise StageInputError(self._run_id, stage, "input provided more than once")
            self._inputs[foreach_stage] = dict(input)
            if foreach_stage is self._stage and self._state is RunningStepState.WAITING_FOR_INPUT:
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
        """Close every item's run gracefully and wait until the step ended ``closed``."""
        self._request_close(force=False)
        if not self._join(_CLOSE_TIMEOUT):
            _LOG.warning(
                "foreach step %r did not close within %g s; forcing", self._run_id, _CLOSE_TIMEOUT
            )
            self.force_close()

    @property
    def close_grace(self) -> float:
        """Seconds a graceful ``close()`` may take: the items' steps close within it (a
        plugin's closure wait included), then they are forced
        (:class:`arcaflow_steps.GracefulRunningStep`)."""
        return _CLOSE_TIMEOUT

    def force_close(self) -> None:
        """Force-close every item's run and wait until the step ended ``closed``."""
        self._request_close(force=True)
        self._join(_FORCE_CLOSE_TIMEOUT)

    # -- closing ---------------------------------------------------------------------------

    def _request_close(self, *, force: bool) -> None:
        with self._cond:
            if self._state is RunningStepState.FINISHED:
                return
            self._cancel = True
            self._force = self._force or force
            runs = list(self._runs.values())
            self._cond.notify_all()
        _close_all(runs, force=force)

    def _join(self, timeout: float) -> bool:
        """Wait for the driver; return whether it ended (``True`` on the driver itself)."""
        if threading.current_thread() is self._driver or not self._driver.ident:
            return True
        self._driver.join(timeout)
        return not self._driver.is_alive()

    # -- input -----------------------------------------------------------------------------

    def _check_input(self, stage: str, input: Mapping[str, Any]) -> None:
        problem: str | None = None
        enabled = input.get(InputField.ENABLED)
        items = input.get(InputField.ITEMS)
        if enabled is not None and not isinstance(enabled, bool):
            problem = f"'enabled' must be a boolean, got {enabled!r}"
        elif stage == S.EXECUTE and not isinstance(items, list | tuple):
            problem = f"'items' must be a list, got {items!r}"
        elif input.get(InputField.PARALLELISM) is not None:
            try:
                validate(
                    _PARALLELISM_SCHEMA,
                    input[InputField.PARALLELISM],
                    path=f"$.steps.{self._run_id}.parallelism",
                )
            except ArcaflowStepsError as exc:
                problem = str(exc)
        if problem is not None:
            raise StageInputError(self._run_id, stage, problem)

    def _await_input(self, stage: ForeachStage) -> Mapping[str, Any]:
        """Wait for a stage's input; raise ``_ClosedError`` when the step is closed first."""
        with self._cond:
            while True:
                if self._cancel:
                    raise _ClosedError
                if stage in self._inputs:
                    self._state = RunningStepState.RUNNING
                    return self._inputs[stage]
                self._state = RunningStepState.WAITING_FOR_INPUT
                self._cond.wait()

    # -- reporting -------------------------------------------------------------------------

    def _end_closed(self, stage: ForeachStage) -> None:
        self._move(stage, S.CLOSED)
        self._complete(S.CLOSED, "result", {"cancelled": True, "close_requested": True})

    # -- the driver ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._drive()
        except IllegalStageTransitionError:
            pass  # the runner refused a report: it ends the step itself
        except Exception as exc:  # a bug of ours: end in a terminal stage anyway
            _LOG.exception("foreach step %r failed unexpectedly", self._run_id)
            self._end_after_bug(exc)
        finally:
            with self._cond:
                self._state = RunningStepState.FINISHED
                runs = list(self._runs.values())
            _close_all(runs, force=True)  # only after a bug: workers are done otherwise

    def _end_after_bug(self, exc: Exception) -> None:
        with self._cond:
            self._cancel = True  # workers still running take no more items
            self._force = True  # and close the runs they start at once
            stage = self._stage
            finished = self._state is RunningStepState.FINISHED
        if finished:
            return
        with contextlib.suppress(Exception):
            if stage is S.ENABLING:
                self._end_closed(stage)
            elif stage is S.EXECUTE:
                self._move(stage, S.FAILED)
                self._complete(
                    S.FAILED, "error", {"data": {}, "messages": {-1: f"internal error: {exc}"}}
                )

    def _drive(self) -> None:
        if self._enable():
            self._execute()

    def _enable(self) -> bool:
        """Walk ``enabling``; return whether the step goes on to ``execute``."""
        self._move(None, S.ENABLING, waiting=not self._has_input(S.ENABLING))
        try:
            enabling = self._await_input(S.ENABLING)
        except _ClosedError:
            self._end_closed(S.ENABLING)
            return False
        if enabling.get(InputField.ENABLED) is False:
            self._move(S.ENABLING, S.DISABLED, "resolved", {"enabled": False})
            self._complete(
                S.DISABLED, "output", {"message": f"Step foreach {self._run_id} disabled"}
            )
            return False
        self._move(
            S.ENABLING,
            S.EXECUTE,
            "resolved",
            {"enabled": True},
            waiting=not self._has_input(S.EXECUTE),
        )
        return True

    def _execute(self) -> None:
        """Walk ``execute`` and end in ``outputs``, ``failed`` or ``closed``."""
        try:
            execute = self._await_input(S.EXECUTE)
        except _ClosedError:
            return self._end_closed(S.EXECUTE)
        items = list(execute[InputField.ITEMS])
        problems = self._invalid_items(items)
        if problems:
            self._move(S.EXECUTE, S.FAILED)
            return self._complete(S.FAILED, "error", {"data": {}, "messages": problems})
        self._run_items(items, int(execute.get(InputField.PARALLELISM) or 1))
        with self._cond:
            cancelled = self._cancel
            data, messages = dict(self._data), dict(self._messages)
        if cancelled:
            return self._end_closed(S.EXECUTE)
        if messages:
            self._move(S.EXECUTE, S.FAILED)
            return self._complete(S.FAILED, "error", {"data": data, "messages": messages})
        self._move(S.EXECUTE, S.OUTPUTS)
        return self._complete(S.OUTPUTS, "success", {"data": [data[i] for i in range(len(items))]})

    def _invalid_items(self, items: Sequence[Any]) -> dict[int, str]:
        problems: dict[int, str] = {}
        for index, item in enumerate(items):
            try:
                self._plan.validate_input(item)
            except ArcaflowStepsError as exc:
                problems[index] = f"item {index} is not an input of {self._workflow}: {exc}"
        return problems

    def _run_items(self, items: Sequence[Any], parallelism: int) -> None:
        """Run every item (at most ``parallelism`` at once, in order); return when all ended
        or the step was closed and every started run ended."""
        with self._cond:
            self._items = items
        workers = [
            threading.Thread(
                target=self._work, name=f"foreach-item-{self._run_id}-{number}", daemon=True
            )
            for number in range(min(parallelism, len(items)))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _work(self) -> None:
        """Take the next item, run its sub-workflow, record its result; until none is left."""
        while True:
            with self._cond:
                if self._cancel or self._next_item >= len(self._items):
                    return
                index = self._next_item
                self._next_item += 1
                item = self._items[index]
            self._run_item(index, item)

    def _run_item(self, index: int, item: Any) -> None:
        try:
            run = self._plan.start(
                item, step_id_prefix=f"{self._run_id}[{index}].", background=False
            )
        except Exception as exc:  # ours (bad input) or a bug: the item fails, not the step
            if not isinstance(exc, ArcaflowStepsError):
                _LOG.exception("foreach step %r: starting item %d failed", self._run_id, index)
            self._record(index, message=f"item {index} could not start: {exc}")
            return
        with self._cond:
            self._runs[index] = run
            cancel, force = self._cancel, self._force
        if cancel:  # closed while it started: close() did not see this run
            _close_all([run], force=force)
        try:
            result = run.run_to_end()  # this worker processes the item's events
        except Exception as exc:
            _LOG.exception("foreach step %r: waiting for item %d failed", self._run_id, index)
            self._record(index, message=f"item {index} failed: {exc}")
            return
        finally:
            with self._cond:
                self._runs.pop(index, None)
        if result.output_id is None:
            self._record(index, message=f"item {index} failed: {result.error}")
        elif result.output_id != "success":
            self._record(index, message=f"item {index} ended with output {result.output_id!r}")
        else:
            self._record(index, data=result.output_data)

    def _record(self, index: int, *, data: Any = None, message: str | None = None) -> None:
        with self._cond:
            if message is None:
                self._data[index] = data
            else:
                self._messages[index] = message
            self._cond.notify_all()


def _close_all(runs: Sequence[WorkflowRun], *, force: bool) -> None:
    """Close (or force-close) every run at the same time; return when all returned."""
    if not runs:
        return
    threads = [
        threading.Thread(
            target=_close_one, args=(run, force), name="foreach-close-item", daemon=True
        )
        for run in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _close_one(run: WorkflowRun, force: bool) -> None:
    try:
        if force:
            run.force_close()
        else:
            run.close()
    except Exception:
        _LOG.exception("closing a foreach item's run failed")
