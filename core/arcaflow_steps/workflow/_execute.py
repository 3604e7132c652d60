"""Running a planned workflow: every step started at once, stage inputs fed as they resolve.

Theory of operation (the Go engine's model, ``reference/workflow.md`` §7). A
:class:`WorkflowRun` builds the run's dependency graph (``_run_graph``), starts every step on
one :class:`~arcaflow_steps.StepRunner` (no parallelism bound; literal stage inputs are given by
the runner at launch), and processes the runner's events on one thread (its own or its
caller's), in the order a queueing observer queued them (never on a provider's thread):

* a step leaving a stage with an output stores ``$.steps.<id>.<stage> = {output: data}`` and
  resolves that stage and output node; the stage's other outputs become unresolvable;
* a stage left without output, unreachable or failed makes its nodes unresolvable; a
  completion settles every node of the step;
* a deferred stage input whose dependencies resolved is evaluated (all its fields together)
  and provided; an evaluation error or a refused input ends the step with that message. One
  whose dependencies became unresolvable is never provided: the step cannot go on and is
  closed at once (a ``stop_if``-like input-only stage is just left alone);
* the first workflow output whose dependencies resolved (file order among those ready
  together) is evaluated and validated; it ends the run. A failing one is dropped. When no
  output can come any more, the run fails at once, naming what each output needed.

Then every step still running is closed (bounded by the runner); the result holds each step's.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

import attrs

from .._errors import ArcaflowStepsError
from .._events import StepEvent, StepObserver, StepResult
from .._execution import StepExecution
from .._runner import DEFAULT_CLOSE_TIMEOUT, StepRunner
from ..schema import validate
from ._context import WorkflowContext
from ._errors import WorkflowError
from ._explain import explain
from ._graph import GraphChanges
from ._plan_records import PlannedOutput, PlannedStep
from ._resolve import resolve_template
from ._result import WorkflowResult
from ._run_graph import Node, RunGraph

__all__ = ["CLOSED_BEFORE_OUTPUT", "PlanToRun", "WorkflowRun", "run_workflow", "start_workflow"]

_log: Final = logging.getLogger("arcaflow_steps.workflow")

#: The error of a run closed (Ctrl-C) before any output was produced.
CLOSED_BEFORE_OUTPUT: Final = "workflow closed before an output was produced"


class PlanToRun(Protocol):
    """What the executor needs of a :class:`~arcaflow_steps.workflow.WorkflowPlan`."""

    @property
    def context(self) -> WorkflowContext:
        """Where the workflow runs (its observers are the run's too)."""

    @property
    def steps(self) -> Mapping[str, PlannedStep]:
        """Every step, prepared, in file order."""

    @property
    def outputs(self) -> Mapping[str, PlannedOutput]:
        """Every workflow output, in file order."""

    def validate_input(self, data: Any) -> dict[str, Any]:
        """Return the input validated, defaults applied (``WorkflowInputError``)."""


def start_workflow(
    plan: PlanToRun,
    input_data: Any,
    *,
    step_id_prefix: str = "",
    observers: Sequence[StepObserver] = (),
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    background: bool = True,
) -> WorkflowRun:
    """Validate the input, start every step of ``plan`` and return the running workflow
    (``WorkflowInputError``: the input does not match the input schema; nothing started)."""
    validated = plan.validate_input(input_data)
    return WorkflowRun(
        plan,
        validated,
        step_id_prefix=step_id_prefix,
        observers=observers,
        close_timeout=close_timeout,
        background=background,
    )


def run_workflow(
    plan: PlanToRun, input_data: Any, *, timeout: float | None = None
) -> WorkflowResult:
    """Start ``plan`` with ``input_data`` and wait for its result (``WorkflowInputError``).

    After ``timeout`` seconds without an output every step is closed and the result's error
    says so (an output produced while closing still counts). An exception while waiting
    (``KeyboardInterrupt``) closes the run before it propagates."""
    run = start_workflow(plan, input_data)
    try:
        return run.wait(timeout)
    except TimeoutError:
        run._close(f"workflow produced no output within {timeout} s", force=False)
        return run.wait()
    except BaseException:
        run.close()
        raise


class _Enqueue:
    """The run's own observer: queues every event for the executor thread."""

    def __init__(self, events: queue.SimpleQueue[StepEvent | None]) -> None:
        self._events = events

    def on_event(self, event: StepEvent) -> None:
        self._events.put(event)


@attrs.frozen
class _Outcome:
    output_id: str | None
    output_data: Any
    is_error: bool
    error: str | None


def _result(
    outcome: _Outcome | None, executions: Mapping[str, StepExecution], timeout: float
) -> WorkflowResult:
    assert outcome is not None  # decided before the run's end
    results: dict[str, StepResult] = {}
    for step_id, execution in executions.items():
        try:
            results[step_id] = execution.wait(timeout)
        except TimeoutError:  # pragma: no cover - the runner records a result in time
            _log.error("step %r has no result after the workflow closed it", step_id)
    return WorkflowResult(
        output_id=outcome.output_id,
        output_data=outcome.output_data,
        is_error=outcome.is_error,
        error=outcome.error,
        step_results=results,
    )


class WorkflowRun:
    """One run of a planned workflow (see the module docstring); made by
    :meth:`WorkflowPlan.start <arcaflow_steps.workflow.WorkflowPlan.start>`.

    Its events are processed on an executor thread of its own, or (``background=False``) by
    the thread that calls :meth:`run_to_end`, which must then be called.

    Thread safety: safe to share; ``wait``, ``close`` and ``force_close`` may be called from
    any thread.
    """

    def __init__(
        self,
        plan: PlanToRun,
        input_data: Mapping[str, Any],
        *,
        step_id_prefix: str = "",
        observers: Sequence[StepObserver] = (),
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        background: bool = True,
    ) -> None:
        self._steps: Final = dict(plan.steps)
        self._outputs: Final = dict(plan.outputs)
        self._file_order: Final = {
            output_id: index for index, output_id in enumerate(self._outputs)
        }
        self._graph = RunGraph(self._steps, self._outputs)
        self._first_changes: GraphChanges[Node] | None = self._graph.seal()
        # Touched only by the executor thread once it runs:
        self._root: dict[str, Any] = {"input": input_data, "steps": {}}
        self._outputs_left = set(self._outputs)
        self._failed_outputs: dict[str, str] = {}
        #: step id -> why it was closed early (its input can never come).
        self._blocked: dict[str, str] = {}
        #: Threads closing single steps (a step that cannot go on).
        self._closers: list[threading.Thread] = []
        self._outcome: _Outcome | None = None
        # Set by close()/force_close() from any thread; read by the executor thread.
        self._closing_reason: str | None = None
        self._events_lock = threading.Lock()  # guards _first_changes
        self._done = threading.Event()
        self._result: WorkflowResult | None = None
        self._events: queue.SimpleQueue[StepEvent | None] = queue.SimpleQueue()
        self._runner = StepRunner(
            # The run's queue last: every other observer sees an event before the run
            # reacts to it (a dependant's events never come before their cause's).
            observers=(*plan.context.observers, *observers, _Enqueue(self._events)),
            close_timeout=close_timeout,
        )
        self._step_ids = {step_id_prefix + step_id: step_id for step_id in self._steps}
        self._executions: dict[str, StepExecution] = {}
        try:
            for step_id, step in self._steps.items():
                prepared = step.prepared
                if step_id_prefix:
                    prepared = attrs.evolve(prepared, step_id=step_id_prefix + step_id)
                self._executions[step_id] = self._runner.start(prepared)
        except BaseException:
            self._runner.force_close()
            raise
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._main, name="arcaflow-steps-workflow", daemon=True
            )
            self._thread.start()

    # -- public ------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> WorkflowResult:
        """Wait until the run ended (every step closed) and return its result.

        Raises:
            TimeoutError: the run did not end within ``timeout`` seconds.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f"workflow did not finish within {timeout} s")
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join()  # it only returns after setting done: nothing left behind
        assert self._result is not None
        return self._result

    def run_to_end(self) -> WorkflowResult:
        """Process the events of a run made with ``background=False`` on this thread until it
        ended; return its result. RuntimeError: another thread processes them."""
        with self._events_lock:
            if self._thread is not None or self._first_changes is None:
                raise RuntimeError("this workflow run's events are processed elsewhere")
        self._main()
        return self.wait()

    def close(self) -> None:
        """Close every running step gracefully and wait for them (bounded).

        An output produced meanwhile still counts; otherwise the result's error is
        ``workflow closed before an output was produced``.
        """
        self._close(CLOSED_BEFORE_OUTPUT, force=False)

    def force_close(self) -> None:
        """Force-close every running step and wait for them (bounded)."""
        self._close(CLOSED_BEFORE_OUTPUT, force=True)

    def executions(self) -> tuple[StepExecution, ...]:
        """Return the executions of the steps (for progress display)."""
        return tuple(self._executions.values())

    def _close(self, reason: str, *, force: bool) -> None:
        if self._closing_reason is None:
            self._closing_reason = reason
        self._events.put(None)  # wake the executor: it checks the closing reason
        if force:
            self._runner.force_close()
        else:
            self._runner.close()

    # -- processing the events ---------------------------------------------------------------

    def _main(self) -> None:
        with self._events_lock:
            first_changes, self._first_changes = self._first_changes, None
        assert first_changes is not None
        try:
            self._handle(first_changes)
            while self._outcome is None:
                event = self._events.get()
                if event is not None:
                    self._on_event(event)
        except Exception as exc:  # a bug of ours must still end the run and its steps
            _log.exception("workflow executor failed")
            self._decide(_Outcome(None, None, False, f"workflow executor failed: {exc!r}"))
        finally:
            self._decide(_Outcome(None, None, False, "workflow executor stopped"))  # if not yet
            self._runner.close()
            for closer in self._closers:  # their steps ended: they are returning
                closer.join(self._runner.close_timeout)
            self._result = _result(self._outcome, self._executions, self._runner.close_timeout)
            self._done.set()

    def _decide(self, outcome: _Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome

    # -- events ------------------------------------------------------------------------------

    def _on_event(self, event: StepEvent) -> None:
        step_id = self._step_ids.get(event.step_id)
        if step_id is not None:
            self._handle(self._graph.apply_event(step_id, event, self._root["steps"]))

    # -- graph changes -----------------------------------------------------------------------

    def _handle(self, changes: GraphChanges[Node]) -> None:
        self._graph.note_resolved(changes)
        ready_outputs = sorted(
            (node for node in changes.ready if node[0] == "workflow_output"),
            key=lambda node: self._file_order[node[1]],
        )
        for node in ready_outputs:
            if self._produce(node[1]):
                return
        for node in changes.ready:
            if node[0] == "consumer":
                self._provide(node[1], node[2])
        for node in changes.unresolvable:
            if node[0] == "consumer":
                self._never_provided(node)
            elif node[0] == "workflow_output":
                self._outputs_left.discard(node[1])
        if not self._outputs_left:
            self._decide(_Outcome(None, None, False, self._no_output_error()))

    def _produce(self, output_id: str) -> bool:
        """Evaluate and validate the output; return whether it ended the run."""
        planned = self._outputs[output_id]
        try:
            data = resolve_template(planned.template, self._root, self._graph)
            data = validate(planned.schema.schema, data, path=planned.path)
        except ArcaflowStepsError as exc:
            reason = str(exc).replace("\n", "; ")
            _log.warning("output %r cannot be produced: %s", output_id, reason)
            self._failed_outputs[output_id] = reason
            self._outputs_left.discard(output_id)
            self._graph.graph.fail(("workflow_output", output_id))
            return False
        _log.info("workflow output %r produced", output_id)
        self._decide(_Outcome(output_id, data, planned.schema.error, None))
        return True

    def _provide(self, step_id: str, stage: str) -> None:
        execution = self._executions[step_id]
        if execution.is_finished():
            return
        fields = dict(self._steps[step_id].deferred_inputs[stage])
        try:
            values = resolve_template(fields, self._root, self._graph)
        except WorkflowError as exc:
            self._end_step(execution, f"input for stage {stage!r} cannot be evaluated: {exc}")
            return
        try:
            execution.provide_stage_input(stage, values)
        except Exception as exc:  # refused input, or a provider bug: the step cannot go on
            if not execution.is_finished():
                message = str(exc).replace("\n", "; ")
                self._end_step(execution, f"refused input for stage {stage!r}: {message}")

    def _never_provided(self, consumer: Node) -> None:
        _, step_id, stage = consumer
        execution = self._executions[step_id]
        if execution.is_finished():
            return
        if self._steps[step_id].prepared.lifecycle.stage(stage).input_only:
            return  # e.g. a stop condition that never comes: the step goes on
        reason = self._blocked[step_id] = f"its input for stage {stage!r} {self._explain(consumer)}"
        _log.info("step %r closed: %s", step_id, reason)
        self._close_step(execution)

    def _end_step(self, execution: StepExecution, problem: str) -> None:
        reason = f"step {self._step_ids[execution.step_id]!r}: {problem}"
        _log.warning("%s", reason)
        execution.guard.mark_failed(reason)
        self._close_step(execution)

    def _close_step(self, execution: StepExecution) -> None:
        """Close one step on a thread of its own (a close waits for the step to end, and
        its events must go on being processed here meanwhile)."""
        closer = threading.Thread(target=execution.close, name="arcaflow-steps-close", daemon=True)
        self._closers.append(closer)
        closer.start()

    # -- messages ----------------------------------------------------------------------------

    def _no_output_error(self) -> str:
        if self._closing_reason is not None:
            return self._closing_reason
        reasons = [
            f"{output_id} failed: {self._failed_outputs[output_id]}"
            if output_id in self._failed_outputs
            else f"{output_id} {self._explain(('workflow_output', output_id))}"
            for output_id in self._outputs
        ]
        return "no output can be produced any more: " + "; ".join(reasons)

    def _explain(self, node: Node) -> str:
        return explain(self._graph, node, self._executions, self._blocked)


WorkflowRun.__module__ = "arcaflow_steps.workflow"
