"""The shared runner: the guard's rules, derived unreachable stages, close, inputs, slots."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from runner_fakes import (
    CloseBehaviour,
    FakeProvider,
    FakeRegistry,
    FakeRunnable,
    FakeRunningStep,
    RecordingObserver,
    Stage,
)

from arcaflow_steps import (
    IllegalStageTransitionError,
    PreparedStep,
    RunnerClosedError,
    RunningStepState,
    SchemaValidationError,
    StageInputError,
    StepDefinitionError,
    StepEventKind,
    StepExecution,
    StepRunner,
    prepare_step,
)

CLOSE_TIMEOUT = 0.3


def prepare(runnable: FakeRunnable, step_id: str = "s", **definition: Any) -> PreparedStep:
    registry = FakeRegistry(FakeProvider(runnable))
    return prepare_step(registry, step_id, {"kind": "fake", "go": True, **definition})


def start(
    runnable: FakeRunnable | None = None, runner: StepRunner | None = None, **definition: Any
) -> tuple[StepExecution, FakeRunningStep]:
    runnable = runnable or FakeRunnable()
    runner = runner or StepRunner(close_timeout=CLOSE_TIMEOUT)
    execution = runner.start(prepare(runnable, **definition))
    return execution, runnable.steps[-1]


def kinds(execution: StepExecution) -> list[tuple[StepEventKind, str | None]]:
    return [(event.kind, event.stage) for event in execution.events()]


def test_legal_sequence_is_recorded_with_sequence_numbers() -> None:
    """A legal run records each change, derived unreachable stages and one completion."""
    execution, step = start()
    step.move(Stage.PREPARE)
    step.move(Stage.WORK, "ready", {})
    step.move(Stage.DONE)
    step.complete("success", {"value": 3})
    result = execution.wait(1)
    assert [
        (StepEventKind.STAGE_CHANGED, "prepare"),
        (StepEventKind.STAGE_CHANGED, "work"),
        (StepEventKind.STAGE_CHANGED, "done"),
        (StepEventKind.STAGE_UNREACHABLE, "closed"),
        (StepEventKind.STAGE_UNREACHABLE, "failed"),
        (StepEventKind.COMPLETED, "done"),
    ] == kinds(execution)
    assert [1, 2, 3, 4, 5, 6] == [event.sequence for event in result.events]
    assert ("done", "success", {"value": 3}, False) == (
        result.stage,
        result.output_id,
        result.output_data,
        result.is_error,
    )
    changed = result.events[1]
    assert ("prepare", "ready", {}) == (
        changed.previous_stage,
        changed.previous_output_id,
        changed.previous_output,
    )


def test_entering_a_stage_marks_stages_behind_it_unreachable() -> None:
    """Entering 'closed' from 'prepare' makes work, done and failed unreachable at once."""
    execution, step = start()
    step.move(Stage.PREPARE)
    step.move(Stage.CLOSED)
    assert [
        (StepEventKind.STAGE_CHANGED, "prepare"),
        (StepEventKind.STAGE_CHANGED, "closed"),
        (StepEventKind.STAGE_UNREACHABLE, "done"),
        (StepEventKind.STAGE_UNREACHABLE, "failed"),
        (StepEventKind.STAGE_UNREACHABLE, "work"),
    ] == kinds(execution)
    assert frozenset({"done", "failed", "work"}) == execution.recorded_state().unreachable


def _prepare(step: FakeRunningStep) -> None:
    step.move(Stage.PREPARE)


def _to_work(step: FakeRunningStep) -> None:
    step.move(Stage.PREPARE)
    step.move(Stage.WORK)


def _to_done(step: FakeRunningStep) -> None:
    _to_work(step)
    step.move(Stage.DONE)


def _nothing(step: FakeRunningStep) -> None:
    del step


REFUSALS: list[Any] = [
    pytest.param(
        _nothing,
        lambda step: step.move(Stage.WORK),
        "step 's' before its first stage: cannot start in stage 'work'; allowed: 'prepare'",
        id="wrong-first-stage",
    ),
    pytest.param(
        _prepare,
        lambda step: step.move(Stage.DONE),
        "step 's' in stage 'prepare': cannot move to stage 'done'; allowed: 'closed', 'work'",
        id="undeclared-next-stage",
    ),
    pytest.param(
        _prepare,
        lambda step: step.move(Stage.WORK, "surprise", {}),
        "step 's' in stage 'prepare': reported undeclared output 'surprise' of stage "
        "'prepare'; allowed: 'ready'",
        id="undeclared-output-id",
    ),
    pytest.param(
        _to_done,
        lambda step: step.complete("success", {"value": "ten"}),
        "step 's' in stage 'done': reported output 'success' that does not match its schema "
        "(expected an integer, got 'ten' @ $.value); allowed: 'success'",
        id="output-fails-schema",
    ),
    pytest.param(
        _to_work,
        lambda step: step.complete(None, None),
        "step 's' in stage 'work': completed in non-terminal stage 'work'; allowed: 'closed', "
        "'done', 'failed'",
        id="completion-from-non-terminal",
    ),
    pytest.param(
        _prepare,
        lambda step: step.move(Stage.WORK, previous=Stage.WORK),
        "step 's' in stage 'prepare': reported a move to stage 'work' from stage 'work'; "
        "allowed: 'prepare'",
        id="wrong-previous-stage",
    ),
    pytest.param(
        _prepare,
        lambda step: step.move(Stage.WORK, None, {"x": 1}),
        "step 's' in stage 'prepare': reported output data without an output id; allowed: 'ready'",
        id="output-without-id",
    ),
    pytest.param(
        _to_done,
        lambda step: step.complete(None, None),
        "step 's' in stage 'done': completed without an output id; allowed: 'success'",
        id="completion-without-output",
    ),
    pytest.param(
        _prepare,
        lambda step: step.fail("nowhere", None),
        "step 's' in stage 'prepare': reported a failure of undeclared stage 'nowhere'; "
        "allowed: 'closed', 'done', 'failed', 'prepare', 'work'",
        id="failure-of-undeclared-stage",
    ),
]


@pytest.mark.parametrize(("setup", "report", "message"), REFUSALS)
def test_illegal_report_is_refused_and_changes_nothing(
    setup: Callable[[FakeRunningStep], None],
    report: Callable[[FakeRunningStep], None],
    message: str,
) -> None:
    """An illegal report raises, changes no recorded state, and the step ends failed."""
    gate = threading.Event()
    execution, step = start(FakeRunnable(gate=gate))
    setup(step)
    before = execution.recorded_state()
    with pytest.raises(IllegalStageTransitionError) as excinfo:
        report(step)
    assert message == str(excinfo.value)
    assert before == execution.recorded_state()
    assert (StepEventKind.REFUSED, message) == (
        execution.events()[-1].kind,
        execution.events()[-1].error,
    )
    gate.set()
    result = execution.wait(5)
    assert 1 == step.force_close_calls
    assert result.is_error
    assert (excinfo.value,) == result.refused
    assert f"refused report: {message}" == result.error
    assert 1 == sum(event.kind is StepEventKind.COMPLETED for event in result.events)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        pytest.param(
            lambda step: step.move(Stage.CLOSED, previous=Stage.DONE),
            "step 's' in stage 'done': reported a move to stage 'closed' after the step "
            "completed; allowed: none",
            id="move",
        ),
        pytest.param(
            lambda step: step.complete("success", {"value": 2}, stage=Stage.DONE),
            "step 's' in stage 'done': reported completion after the step completed; allowed: none",
            id="second-completion",
        ),
        pytest.param(
            lambda step: step.fail(Stage.CLOSED, RuntimeError("late")),
            "step 's' in stage 'done': reported a stage failure after the step completed; "
            "allowed: none",
            id="stage-failure",
        ),
    ],
)
def test_reports_after_completion_are_refused(
    report: Callable[[FakeRunningStep], None], message: str
) -> None:
    """After completion every report is refused and the result stays as it was."""
    execution, step = start()
    _to_done(step)
    step.complete("success", {"value": 1})
    result = execution.wait(1)
    with pytest.raises(IllegalStageTransitionError) as excinfo:
        report(step)
    assert message == str(excinfo.value)
    assert result is execution.wait(0)
    assert (False, ()) == (result.is_error, result.refused)
    assert 0 == step.force_close_calls


def test_provider_that_never_ends_gets_a_synthetic_terminal_result() -> None:
    """After a refusal, a provider that ignores force_close ends in a fallback stage in time."""
    execution, step = start(FakeRunnable(close_behaviour=CloseBehaviour.IGNORES))
    began = time.monotonic()
    with pytest.raises(IllegalStageTransitionError):
        step.move(Stage.WORK)
    result = execution.wait(5)
    assert time.monotonic() - began < CLOSE_TIMEOUT * 4
    assert ("failed", None, None, True) == (
        result.stage,
        result.output_id,
        result.output_data,
        result.is_error,
    )
    assert (
        "refused report: step 's' before its first stage: cannot start in stage 'work'; "
        "allowed: 'prepare'"
    ) == result.error
    completed = result.events[-1]
    assert (StepEventKind.COMPLETED, "failed", result.error) == (
        completed.kind,
        completed.stage,
        completed.error,
    )
    with pytest.raises(IllegalStageTransitionError):
        step.move(Stage.PREPARE, previous=None)


def test_refusal_in_terminal_stage_keeps_that_stage() -> None:
    """A step refused inside a terminal stage it never completed ends in that stage."""
    execution, step = start(FakeRunnable(close_behaviour=CloseBehaviour.IGNORES))
    _to_work(step)
    step.move(Stage.CLOSED)
    with pytest.raises(IllegalStageTransitionError):
        step.complete("result", {"cancelled": "maybe"})
    result = execution.wait(5)
    assert ("closed", None) == (result.stage, result.output_id)


def test_stage_failure_reports() -> None:
    """The current stage's failure is STAGE_FAILED; a future stage's makes it unreachable."""
    execution, step = start()
    _to_work(step)
    step.fail(Stage.WORK, RuntimeError("no output"))
    step.fail(Stage.DONE, RuntimeError("will not finish"))
    step.fail(Stage.DONE, None)  # already known: nothing new
    step.fail(Stage.PREPARE, None)  # a past stage: nothing new
    assert [
        (StepEventKind.STAGE_FAILED, "work", "no output"),
        (StepEventKind.STAGE_UNREACHABLE, "done", "will not finish"),
    ] == [(event.kind, event.stage, event.error) for event in execution.events()[2:]]
    with pytest.raises(IllegalStageTransitionError) as excinfo:
        step.move(Stage.DONE)
    assert (
        "step 's' in stage 'work': cannot move to stage 'done' (it was reported as failed); "
        "allowed: 'closed', 'failed'"
    ) == str(excinfo.value)


def test_stage_inputs_are_provided_right_after_start() -> None:
    """Every stage taking input gets its validated fields at start, in lifecycle order."""
    execution, step = start(stop_if={"any": "thing"})
    assert [("prepare", {"go": True}), ("stop", {"stop_if": {"any": "thing"}})] == step.inputs
    assert RunningStepState.STARTING == execution.state()


def test_provide_stage_input_validates() -> None:
    """Stage input given later is validated against the stage's schema first."""
    execution, step = start()
    with pytest.raises(StageInputError) as unknown:
        execution.provide_stage_input("nope", {})
    assert "step 's' stage 'nope': no such stage; stages taking input: 'prepare', 'stop'" == str(
        unknown.value
    )
    with pytest.raises(StageInputError) as no_input:
        execution.provide_stage_input("work", {})
    assert (
        "step 's' stage 'work': the stage takes no input; stages taking input: 'prepare', 'stop'"
    ) == str(no_input.value)
    with pytest.raises(SchemaValidationError) as invalid:
        execution.provide_stage_input("prepare", {"go": "maybe"})
    assert "expected a boolean, got 'maybe' @ $.steps.s.go" == str(invalid.value)
    with pytest.raises(StageInputError) as unknown_field:
        execution.provide_stage_input("prepare", {"gone": True})
    assert "step 's' stage 'prepare': unknown input field 'gone'; valid fields: 'go'" == str(
        unknown_field.value
    )
    execution.provide_stage_input("stop", {"stop_if": True})
    assert ("stop", {"stop_if": True}) == step.inputs[-1]
    execution.provide_stage_input("prepare", {})  # required fields came at start
    assert ("prepare", {}) == step.inputs[-1]


def test_provider_refusing_input_ends_the_step() -> None:
    """A provider that rejects the prepared stage input is closed and the step ends failed."""

    def reject(step: FakeRunningStep, stage: str, value: Any) -> None:
        raise StageInputError("s", stage, "not today")

    execution, _ = start(FakeRunnable(on_input=reject))
    result = execution.wait(5)
    assert (
        "step 's' refused input for stage 'prepare': step 's' stage 'prepare': not today"
    ) == result.error
    assert ("closed", "result", True) == (result.stage, result.output_id, result.is_error)


def test_state_follows_reports_and_provider() -> None:
    """state() is starting, then the provider's view, then finished once completed."""
    execution, step = start()
    assert RunningStepState.STARTING == execution.state()
    step.move(Stage.PREPARE, waiting=True)
    assert RunningStepState.WAITING_FOR_INPUT == execution.state()
    step.reported_state = RunningStepState.RUNNING
    assert RunningStepState.RUNNING == execution.state()
    assert "prepare" == execution.current_stage()
    step.move(Stage.CLOSED)
    step.complete("result", {"cancelled": False})
    assert RunningStepState.FINISHED == execution.state()


def test_start_failure_ends_in_a_terminal_stage() -> None:
    """A runnable whose start() raises still yields one terminal result."""
    runnable = FakeRunnable()
    runnable.start_error = RuntimeError("boom")
    runner = StepRunner(close_timeout=CLOSE_TIMEOUT)
    execution = runner.start(prepare(runnable))
    result = execution.wait(1)
    assert ("failed", "step 's' failed to start: boom", True) == (
        result.stage,
        result.error,
        result.is_error,
    )


def test_concurrent_close_calls_close_the_provider_once() -> None:
    """close() from several threads is idempotent: one provider close, one terminal stage."""
    execution, step = start()
    step.move(Stage.PREPARE)
    threads = [threading.Thread(target=execution.close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    execution.force_close()
    assert (1, 0) == (step.close_calls, step.force_close_calls)
    result = execution.wait(0)
    assert ("closed", "result", {"cancelled": True}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )


def test_close_is_bounded_when_the_provider_ignores_it() -> None:
    """close() escalates to force_close and then records a result itself, in bounded time."""
    execution, step = start(FakeRunnable(close_behaviour=CloseBehaviour.IGNORES))
    step.move(Stage.PREPARE)
    began = time.monotonic()
    execution.close()
    assert time.monotonic() - began < CLOSE_TIMEOUT * 3
    assert (1, 1) == (step.close_calls, step.force_close_calls)
    result = execution.wait(0)
    assert (
        "failed",
        "step 's' did not reach a terminal stage within 0.3 s after close",
    ) == (result.stage, result.error)


def test_parallelism_bounds_running_steps() -> None:
    """With parallelism 2 only two steps run; a finished one frees its slot."""
    runnable = FakeRunnable()
    runner = StepRunner(parallelism=2, close_timeout=CLOSE_TIMEOUT)
    executions = [runner.start(prepare(runnable, f"s{index}")) for index in range(5)]
    assert 2 == len(runnable.steps)
    starters: list[str] = []
    runnable.on_start = lambda step: starters.append(threading.current_thread().name)
    first = runnable.steps[0]
    first.move(Stage.PREPARE)
    first.move(Stage.CLOSED)
    first.complete("result", {"cancelled": False})
    deadline = time.monotonic() + 5
    while len(runnable.steps) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 3 == len(runnable.steps)
    # not on the thread that reported the completion (it may hold the provider's locks)
    assert ["arcaflow-steps-launcher"] == starters
    assert executions[0].is_finished()
    runner.close()
    assert all(execution.is_finished() for execution in executions)
    assert 5 == len(runnable.steps)  # queued steps were launched to be closed


def test_run_all_runs_inline_steps_to_completion() -> None:
    """run_all returns every result when steps complete while being started."""

    def run_through(step: FakeRunningStep) -> None:
        step.move(Stage.PREPARE)
        step.move(Stage.CLOSED)
        step.complete("result", {"cancelled": False})

    runnable = FakeRunnable()
    runnable.on_start = run_through
    with StepRunner(parallelism=1) as runner:
        results = runner.run_all(prepare(runnable, f"s{index}") for index in range(20))
    assert [f"s{index}" for index in range(20)] == list(results)
    assert {"closed"} == {result.stage for result in results.values()}


def test_run_all_timeout_closes_the_rest() -> None:
    """After the timeout, run_all closes unfinished steps and still returns every result."""
    runnable = FakeRunnable()
    runner = StepRunner(close_timeout=CLOSE_TIMEOUT)
    results = runner.run_all([prepare(runnable, "a"), prepare(runnable, "b")], timeout=0.05)
    assert {"a": "closed", "b": "closed"} == {key: value.stage for key, value in results.items()}


def test_run_all_refuses_duplicate_ids() -> None:
    """Two steps with one id cannot run together."""
    runnable = FakeRunnable()
    with pytest.raises(StepDefinitionError) as excinfo:
        StepRunner().run_all([prepare(runnable, "a"), prepare(runnable, "a")])
    assert "step ids given more than once: 'a'" == str(excinfo.value)


def test_same_id_cannot_run_twice_at_once() -> None:
    """A step id still running cannot be started again."""
    runnable = FakeRunnable()
    runner = StepRunner(close_timeout=CLOSE_TIMEOUT)
    runner.start(prepare(runnable, "a"))
    with pytest.raises(StepDefinitionError) as excinfo:
        runner.start(prepare(runnable, "a"))
    assert "step 'a' is already running in this runner" == str(excinfo.value)
    runner.close()
    with pytest.raises(RunnerClosedError) as closed:
        runner.start(prepare(runnable, "b"))
    assert "cannot start step 'b': the runner is closed" == str(closed.value)


def test_observers_see_every_event_in_order_and_failures_are_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Observers get each event once, in order; one that raises is logged and ignored."""

    class Broken:
        def on_event(self, event: Any) -> None:
            raise RuntimeError("observer bug")

    recorder = RecordingObserver()
    runner = StepRunner(observers=[Broken(), recorder], close_timeout=CLOSE_TIMEOUT)
    execution, step = start(runner=runner)
    with caplog.at_level(logging.ERROR, logger="arcaflow_steps.runner"):
        _to_done(step)
        step.complete("success", {"value": 5})
    assert list(execution.events()) == recorder.events
    assert 6 == len(caplog.records)
    assert "observer" in caplog.records[0].getMessage()


def test_a_failing_log_of_a_failing_observer_does_not_stop_the_delivery() -> None:
    """An observer that raises is logged; when that log raises too (a handler writing into a
    closed pipe), the step's later events are still delivered to every other observer and
    the step still finishes (before, the delivery stopped for good: whoever waited for the
    step's end waited forever)."""

    class Broken:
        def on_event(self, event: Any) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    class RaisingHandler(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:
            raise BrokenPipeError(32, "Broken pipe")

    logger = logging.getLogger("arcaflow_steps.runner")
    handler = RaisingHandler()
    logger.addHandler(handler)
    try:
        recorder = RecordingObserver()
        runner = StepRunner(observers=[Broken(), recorder], close_timeout=CLOSE_TIMEOUT)
        execution, step = start(runner=runner)
        _to_done(step)
        step.complete("success", {"value": 5})
        assert "success" == execution.wait(10).output_id
        assert list(execution.events()) == recorder.events
    finally:
        logger.removeHandler(handler)


def test_observer_may_close_the_step_it_observes() -> None:
    """An observer calling close() from inside a report does not deadlock."""
    holder: dict[str, StepExecution] = {}

    class Closer:
        def on_event(self, event: Any) -> None:
            if event.kind is StepEventKind.STAGE_CHANGED and event.stage == "work":
                threading.Thread(target=holder["execution"].close).start()

    runner = StepRunner(observers=[Closer()], close_timeout=CLOSE_TIMEOUT)
    execution, step = start(runner=runner)
    holder["execution"] = execution
    _to_work(step)
    result = execution.wait(5)
    assert "closed" == result.stage


def test_wait_times_out() -> None:
    """wait() with a timeout raises TimeoutError naming the step."""
    execution, _ = start()
    with pytest.raises(TimeoutError) as excinfo:
        execution.wait(0.01)
    assert "step 's' did not finish within 0.01 s" == str(excinfo.value)
    execution.close()


def test_runner_arguments_are_checked() -> None:
    """parallelism and close_timeout must be positive."""
    with pytest.raises(ValueError, match=r"^parallelism must be at least 1 or None, got 0$"):
        StepRunner(parallelism=0)
    with pytest.raises(ValueError, match=r"^close_timeout must be positive, got 0$"):
        StepRunner(close_timeout=0)


def test_provider_errors_in_close_and_state_are_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """state() that raises is logged; close() that raises crashes the step (exit 3 in run),
    with the traceback in its error; the step still ends in a terminal stage."""
    execution, step = start(FakeRunnable(close_behaviour=CloseBehaviour.IGNORES))
    step.move(Stage.PREPARE)

    def broken() -> Any:
        raise RuntimeError("provider bug")

    step.close = broken  # type: ignore[method-assign]
    step.force_close = broken  # type: ignore[method-assign]
    step.state = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="arcaflow_steps.runner"):
        assert RunningStepState.RUNNING == execution.state()
        execution.close()
    result = execution.wait(1)
    assert "failed" == result.stage
    assert result.error is not None
    lines = result.error.splitlines()
    assert (
        "step 's' crashed in stage 'prepare': close() raised RuntimeError('provider bug')",
        "RuntimeError: provider bug",
    ) == (lines[0], lines[-1])
    assert {
        "state() of step 's' failed",
        "step 's' crashed in stage 'prepare': close() raised RuntimeError('provider bug')",
        "step 's' crashed in stage 'prepare': force_close() raised RuntimeError('provider bug')",
        "step 's' did not reach a terminal stage within 2 s after close",
    } >= {record.getMessage() for record in caplog.records}
