"""The authoring base: a provider written with it is short, obeys the lifecycle, and closes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import pytest
from runner_fakes import LIFECYCLE, RUN_SCHEMA, OneProvider, Stage

from arcaflow_steps import (
    PreparedStep,
    RunningStepState,
    SchemaValidationError,
    StageInputError,
    StepEventKind,
    StepResult,
    StepRunner,
    prepare_step,
)
from arcaflow_steps._guard import StepGuard
from arcaflow_steps._rules import LifecycleRules
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

#: What the stage ``work`` does, chosen per test.
WorkLogic = Callable[["ScriptedStep", Mapping[str, Any]], Outcome]


class ScriptedStep(BaseRunningStep):
    """``prepare`` moves on with ``ready``; ``work`` runs the test's logic; terminals finish."""

    def __init__(self, work: WorkLogic, ready: Any = None) -> None:
        super().__init__()
        self.work_logic = work
        self.ready = {} if ready is None else ready
        self.closed_with: list[tuple[str | None, bool]] = []

    @on_stage(Stage.PREPARE)
    def prepare(self, inputs: Mapping[str, Any]) -> Outcome:
        return Move(to=Stage.WORK, output_id="ready", output=self.ready)

    @on_stage(Stage.WORK)
    def work(self, inputs: Mapping[str, Any]) -> Outcome:
        return self.work_logic(self, inputs)

    @on_stage(Stage.DONE)
    def done(self, inputs: Mapping[str, Any]) -> Outcome:
        return Finish(output_id="success", output={"value": 42})

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        self.closed_with.append((stage, forced))
        return Finish(output_id="result", output={"cancelled": True}, stage=Stage.CLOSED)


class BlockingStep(ScriptedStep):
    blocking: ClassVar[bool] = True
    close_timeout: ClassVar[float] = 0.3


def run(
    work: WorkLogic,
    *,
    step_type: type[ScriptedStep] = ScriptedStep,
    ready: Any = None,
    **definition: Any,
) -> Any:
    steps: list[ScriptedStep] = []

    def create(run_input: Mapping[str, Any], run_id: str) -> ScriptedStep:
        steps.append(step_type(work, ready))
        return steps[-1]

    runnable = SimpleRunnableStep(LIFECYCLE, RUN_SCHEMA, create)
    prepared = PreparedStep(
        step_id="s",
        kind="scripted",
        runnable=runnable,
        run_input={},
        lifecycle=LIFECYCLE,
        stage_inputs={"prepare": {"go": True}, **definition},
    )
    runner = StepRunner(close_timeout=2)
    return runner, runner.start(prepared), steps


def stages(result: StepResult) -> list[str | None]:
    return [e.stage for e in result.events if e.kind is StepEventKind.STAGE_CHANGED]


def test_inline_step_runs_to_completion_without_a_thread() -> None:
    """A non-blocking step runs inline on the runner's thread, through every stage."""
    before = threading.active_count()
    _, execution, _ = run(lambda step, inputs: Move(to=Stage.DONE))
    result = execution.wait(0)
    assert before == threading.active_count()
    assert ["prepare", "work", "done"] == stages(result)
    assert ("done", "success", {"value": 42}, ()) == (
        result.stage,
        result.output_id,
        result.output_data,
        result.refused,
    )
    assert result.events[0].waiting_for_input  # the runner provides inputs after start()


def test_waits_for_input_and_reports_it() -> None:
    """A stage awaiting another stage's input reports waiting_for_input until it arrives."""

    def wait_for_stop(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        stop = step.stage_input(Stage.STOP)
        if stop is None:
            return step.wait_for_input(Stage.STOP)
        return Finish(output_id="error", output={"message": str(stop)}, stage=Stage.FAILED)

    _, execution, steps = run(wait_for_stop)
    assert (RunningStepState.WAITING_FOR_INPUT, "work") == (
        execution.state(),
        execution.current_stage(),
    )
    execution.provide_stage_input("stop", {"stop_if": 1})
    result = execution.wait(0)
    assert ("failed", "error", {"message": "{'stop_if': 1}"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )
    assert RunningStepState.FINISHED == steps[0].state()


def test_close_while_waiting_uses_closed_outcome() -> None:
    """close() of a waiting step ends it with closed_outcome(forced=False), once."""
    _, execution, steps = run(lambda step, inputs: step.wait_for_input(Stage.STOP))
    execution.close()
    execution.close()
    result = execution.wait(0)
    assert ("closed", "result", True) == (result.stage, result.output_id, result.is_error)
    assert [("work", False)] == steps[0].closed_with
    assert RunningStepState.FINISHED == steps[0].state()


@pytest.mark.parametrize(
    ("logic", "what"),
    [
        pytest.param(
            lambda step, inputs: Move(to=Stage.PREPARE),
            "stage method work() returned an illegal outcome: cannot move from stage 'work' to "
            "'prepare'; allowed next: 'closed', 'done', 'failed'",
            id="undeclared-move",
        ),
        pytest.param(
            lambda step, inputs: Finish(output_id="nope", stage=Stage.DONE),
            "stage method work() returned an illegal outcome: stage 'done' has no output "
            "'nope'; declared: 'success'",
            id="undeclared-output",
        ),
        pytest.param(
            lambda step, inputs: Finish(output_id=None),
            "stage method work() returned an illegal outcome: cannot complete in non-terminal "
            "stage 'work'",
            id="finish-in-non-terminal",
        ),
        pytest.param(
            lambda step, inputs: 42,
            "stage method work() returned an illegal outcome: 42 is not a Move, Finish or "
            "WaitForInput",
            id="not-an-outcome",
        ),
        pytest.param(
            lambda step, inputs: 1 / 0,
            "stage method work() raised ZeroDivisionError('division by zero')",
            id="raises",
        ),
    ],
)
def test_provider_bugs_crash_the_step(logic: WorkLogic, what: str) -> None:
    """A stage method that raises or returns an illegal outcome crashes the step: the runner
    ends it in the fatal stage with the error (and traceback), after closed_outcome released."""
    _, execution, steps = run(logic)
    result = execution.wait(0)
    assert ("failed", None, None, True, ()) == (
        result.stage,
        result.output_id,
        result.output_data,
        result.is_error,
        result.refused,
    )
    assert result.error is not None
    assert f"step 's' crashed in stage 'work': {what}" == result.error.splitlines()[0]
    assert [("work", True)] == steps[0].closed_with
    assert StepEventKind.REFUSED not in {event.kind for event in result.events}
    assert RunningStepState.FINISHED == steps[0].state()


def test_crash_carries_the_traceback() -> None:
    """The crash record of a raising stage method holds the exception's traceback."""

    def broken(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        raise KeyError("missing")

    _, execution, _ = run(broken)
    error = execution.wait(0).error
    assert error is not None
    lines = error.splitlines()
    assert "Traceback (most recent call last):" == lines[1]
    assert "KeyError: 'missing'" == lines[-1]
    assert "in broken" in error


def test_output_refused_by_the_runner_ends_the_step_as_failed() -> None:
    """Output data failing its schema is refused by the runner, which ends the step."""
    _, execution, steps = run(lambda step, inputs: Move(to=Stage.DONE), ready={"x": 1})
    result = execution.wait(5)
    assert ("failed", True, 1) == (result.stage, result.is_error, len(result.refused))
    assert (
        "step 's' in stage 'prepare': reported output 'ready' that does not match its schema "
        "(unknown field 'x'; valid fields: none @ $); allowed: 'ready'"
    ) == str(result.refused[0])
    assert [("work", True)] == steps[0].closed_with  # released


def test_blocking_step_is_closed_promptly() -> None:
    """A blocking stage that sleeps is woken by close(); its thread is gone afterwards."""
    started = threading.Event()

    def slow(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        started.set()
        if step.sleep(30):
            return Move(to=Stage.DONE)
        return step.closed_outcome(Stage.WORK, forced=False)

    _, execution, steps = run(slow, step_type=BlockingStep)
    assert started.wait(5)
    assert RunningStepState.RUNNING == execution.state()
    began = time.monotonic()
    execution.close()
    assert time.monotonic() - began < 2
    assert "closed" == execution.wait(0).stage
    thread = steps[0]._BaseRunningStep__thread  # the base's (name-mangled) step thread
    assert thread is not None
    assert not thread.is_alive()


def test_force_close_does_not_wait_for_a_stuck_stage() -> None:
    """force_close() ends the step at once; what the stuck stage returns later is dropped."""
    release = threading.Event()

    def stuck(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        release.wait(10)
        return Move(to=Stage.DONE)

    _, execution, steps = run(stuck, step_type=BlockingStep)
    time.sleep(0.05)
    execution.force_close()
    result = execution.wait(0)
    assert ("closed", [("work", True)]) == (result.stage, steps[0].closed_with)
    release.set()
    thread = steps[0]._BaseRunningStep__thread  # the base's (name-mangled) step thread
    assert thread is not None
    thread.join(5)
    assert result is execution.wait(0)
    assert 1 == sum(event.kind is StepEventKind.COMPLETED for event in execution.events())


def test_graceful_close_of_a_stuck_blocking_stage_escalates_after_close_timeout() -> None:
    """close() waits close_timeout for a stage that ignores it, then forces the end."""
    release = threading.Event()

    def stuck(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        release.wait(10)
        return Move(to=Stage.DONE)

    _, execution, steps = run(stuck, step_type=BlockingStep)
    time.sleep(0.05)
    began = time.monotonic()
    steps[0].close()
    assert 0.25 < time.monotonic() - began < 2
    assert [("work", True)] == steps[0].closed_with
    assert "closed" == execution.wait(0).stage
    release.set()


def test_provide_stage_input_is_checked() -> None:
    """Input for an unknown stage or field, or given twice, raises StageInputError."""
    guard = StepGuard("s", LifecycleRules.of(LIFECYCLE))
    runnable = SimpleRunnableStep(
        LIFECYCLE, RUN_SCHEMA, lambda run_input, run_id: ScriptedStep(lambda s, i: Move(to="x"))
    )
    step = runnable.start({}, guard, "s")
    assert (RunningStepState.WAITING_FOR_INPUT, "prepare") == (step.state(), step.current_stage())
    with pytest.raises(StageInputError) as unknown_stage:
        step.provide_stage_input("nope", {})
    assert "step 's' stage 'nope': no such stage; stages taking input: 'prepare', 'stop'" == str(
        unknown_stage.value
    )
    with pytest.raises(StageInputError) as unknown_field:
        step.provide_stage_input("stop", {"go": True})
    assert "step 's' stage 'stop': unknown input field 'go'; valid fields: 'stop_if'" == str(
        unknown_field.value
    )
    step.provide_stage_input("stop", {})
    step.provide_stage_input("stop", {"stop_if": 1})  # merged into the first input
    assert {"stop_if": 1} == step.stage_input("stop")
    with pytest.raises(StageInputError) as twice:
        step.provide_stage_input("stop", {"stop_if": 2})
    assert "step 's' stage 'stop': input field 'stop_if' was already provided" == str(twice.value)
    step.force_close()


def test_blocking_stage_can_say_it_waits() -> None:
    """set_waiting_for_input() switches state() while a blocking stage method polls."""
    polling = threading.Event()

    def poll(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        step.set_waiting_for_input(True)
        polling.set()
        while step.stage_input(Stage.STOP) is None and not step.is_closing:
            step.sleep(0.01)
        step.set_waiting_for_input(False)
        return Move(to=Stage.DONE)

    _, execution, _ = run(poll, step_type=BlockingStep)
    assert polling.wait(5)
    assert RunningStepState.WAITING_FOR_INPUT == execution.state()
    execution.provide_stage_input("stop", {"stop_if": True})
    assert "done" == execution.wait(5).stage


@attrs.frozen
class ToolConfig:
    """A typed configuration."""

    mode: str
    retries: int = attrs.field(default=3, metadata={"min": 0})


class ToolProvider(StepProviderBase[ToolConfig]):
    kind = "tool"
    provider_keyword = "tool"
    run_keyword = "value"
    config_type = ToolConfig

    def __init__(self) -> None:
        self.configs: list[ToolConfig] = []

    def lifecycle(self) -> Any:
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: ToolConfig) -> SimpleRunnableStep:
        self.configs.append(provider_input)
        return SimpleRunnableStep(
            LIFECYCLE,
            RUN_SCHEMA,
            lambda run_input, run_id: ScriptedStep(lambda step, inputs: Move(to=Stage.DONE)),
        )


def test_typed_provider_any_validates_and_structures() -> None:
    """any() validates the raw mapping, applies defaults and structures the attrs class."""
    provider = ToolProvider()
    adapter = provider.any()
    assert (True, "tool", "value") == (
        adapter.provider_schema()["tool"].required,
        adapter.kind,
        adapter.run_keyword,
    )
    prepared = prepare_step(
        OneProvider(adapter), "s", {"kind": "tool", "tool": {"mode": "fast"}, "go": True}
    )
    assert [ToolConfig(mode="fast", retries=3)] == provider.configs
    result = StepRunner().run_all([prepared])["s"]
    assert ("done", {"value": 42}) == (result.stage, result.output_data)
    with pytest.raises(SchemaValidationError) as excinfo:
        adapter.load_schema({"tool": {"mode": "x", "retries": -1}})
    assert "expected at least 0, got -1 @ $.tool.retries" == str(excinfo.value)


def test_close_from_inside_a_stage_method_does_not_wait_for_itself() -> None:
    """close() called on the thread running the step's loop returns; the loop then closes."""

    def close_myself(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        step.close()
        return step.wait_for_input(Stage.STOP)

    began = time.monotonic()
    _, execution, steps = run(close_myself)
    result = execution.wait(5)
    assert time.monotonic() - began < 1
    assert ("closed", [("work", False)]) == (result.stage, steps[0].closed_with)


class NoWorkMethod(BaseRunningStep):
    """Has a method for 'prepare' but none for 'work'."""

    def __init__(self, work: WorkLogic, ready: Any = None) -> None:
        super().__init__()
        self.closed_with: list[tuple[str | None, bool]] = []

    @on_stage(Stage.PREPARE)
    def prepare(self, inputs: Mapping[str, Any]) -> Outcome:
        return Move(to=Stage.WORK, output_id="ready", output={})

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        self.closed_with.append((stage, forced))
        return Finish(output_id="result", output={"cancelled": True}, stage=Stage.CLOSED)


def test_stage_without_a_method_crashes_the_step() -> None:
    """A stage the subclass has no method for crashes the step, naming the methods it has."""
    _, execution, steps = run(
        lambda step, inputs: Move(to=Stage.DONE),
        step_type=NoWorkMethod,  # type: ignore[arg-type]
    )
    result = execution.wait(5)
    assert (
        "failed",
        "step 's' crashed in stage 'work': NoWorkMethod has no method for stage 'work'; "
        "stages with methods: 'prepare'",
        [("work", True)],
    ) == (result.stage, result.error, steps[0].closed_with)


class BrokenClose(ScriptedStep):
    """closed_outcome raises."""

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        self.closed_with.append((stage, forced))
        raise RuntimeError("cannot close")


class IllegalClose(ScriptedStep):
    """closed_outcome names a stage the step cannot reach."""

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        self.closed_with.append((stage, forced))
        return Finish(output_id="result", output={"cancelled": True}, stage=Stage.PREPARE)


@pytest.mark.parametrize(
    ("step_type", "expected"),
    [
        (BrokenClose, "raised RuntimeError('cannot close')"),
        (
            IllegalClose,
            "returned an illegal outcome: cannot complete in non-terminal stage 'prepare'",
        ),
    ],
    ids=["raises", "illegal"],
)
def test_unusable_closed_outcome_crashes_the_step(
    step_type: type[ScriptedStep], expected: str
) -> None:
    """When closed_outcome cannot end the step, it crashes: the runner records the result."""
    steps: list[ScriptedStep] = []

    def create(run_input: Mapping[str, Any], run_id: str) -> ScriptedStep:
        steps.append(step_type(lambda step, inputs: step.wait_for_input(Stage.STOP)))
        return steps[-1]

    runnable = SimpleRunnableStep(LIFECYCLE, RUN_SCHEMA, create)
    prepared = PreparedStep(
        step_id="s",
        kind="scripted",
        runnable=runnable,
        run_input={},
        lifecycle=LIFECYCLE,
        stage_inputs={"prepare": {"go": True}},
    )
    execution = StepRunner(close_timeout=0.2).start(prepared)
    execution.close()
    result = execution.wait(0)
    assert ("failed", None, True) == (result.stage, result.output_id, result.is_error)
    assert [("work", False)] == steps[0].closed_with  # not called again to release
    assert RunningStepState.FINISHED == steps[0].state()
    assert result.error is not None
    assert (
        f"step 's' crashed in stage 'work': closed_outcome() {expected}"
        == result.error.splitlines()[0]
    )


def test_force_close_before_begin_enters_the_initial_stage_first() -> None:
    """A bound step force-closed before begin() still reports its initial stage first."""
    guard = StepGuard("s", LifecycleRules.of(LIFECYCLE))
    step = ScriptedStep(lambda s, i: Move(to=Stage.DONE))
    step.bind(guard, LIFECYCLE, "s")
    assert ("s", "prepare", False) == (step.run_id, step.current_stage(), step.is_closing)
    step.force_close()
    result = guard.result()
    assert result is not None
    assert ["prepare", "closed"] == stages(result)
    with pytest.raises(RuntimeError, match=r"^bind\(\) must be called before begin\(\)$"):
        ScriptedStep(lambda s, i: Move(to=Stage.DONE)).begin()


def test_many_blocking_steps_with_concurrent_closes_each_end_once() -> None:
    """Blocking steps under a parallelism bound, closed from many threads, end exactly once."""

    def nap(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        if step.sleep(0.01 * (hash(step.run_id) % 5)):
            return Move(to=Stage.DONE)
        return step.closed_outcome(Stage.WORK, forced=False)

    def create(run_input: Mapping[str, Any], run_id: str) -> ScriptedStep:
        return BlockingStep(nap)

    runnable = SimpleRunnableStep(LIFECYCLE, RUN_SCHEMA, create)
    runner = StepRunner(parallelism=8, close_timeout=2)
    executions = [
        runner.start(
            PreparedStep(
                step_id=f"s{index}",
                kind="scripted",
                runnable=runnable,
                run_input={},
                lifecycle=LIFECYCLE,
                stage_inputs={"prepare": {"go": True}},
            )
        )
        for index in range(60)
    ]
    closers = [
        threading.Thread(target=execution.close if index % 2 else execution.force_close)
        for index, execution in enumerate(executions[::3])
    ]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join(10)
    results = [execution.wait(10) for execution in executions]
    assert {"done", "closed"} >= {result.stage for result in results}
    for result in results:
        assert 1 == sum(event.kind is StepEventKind.COMPLETED for event in result.events)
        assert () == result.refused
    runner.close()


class ShadowingStep(BlockingStep):
    """A step whose own names are the ones a base class would most likely use privately."""

    def __init__(self, work: WorkLogic, ready: Any = None) -> None:
        super().__init__(work, ready)
        self._lock = "mine"
        self._state = "mine"
        self._stage = "mine"
        self._thread = "mine"
        self._inputs = "mine"
        self._handler = "mine"
        self._finished = "mine"

    def _report(self, *args: Any) -> None:
        raise AssertionError("the base called a subclass helper")

    def _loop(self) -> None:
        raise AssertionError("the base called a subclass helper")

    def _close(self) -> None:
        raise AssertionError("the base called a subclass helper")


def test_subclass_names_do_not_shadow_the_bases_state() -> None:
    """A subclass may name its attributes and helpers _lock, _state, _report, _loop...: the
    base's own are name-mangled, so the step still runs, waits, closes and reports."""

    def wait_for_stop(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        if step.stage_input(Stage.STOP) is None:
            return step.wait_for_input(Stage.STOP)
        return Move(to=Stage.DONE)

    _, execution, steps = run(wait_for_stop, step_type=ShadowingStep)
    deadline = time.monotonic() + 5
    while execution.state() is not RunningStepState.WAITING_FOR_INPUT:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    execution.provide_stage_input("stop", {"stop_if": True})
    result = execution.wait(5)
    assert ["prepare", "work", "done"] == stages(result)
    assert ("done", "success") == (result.stage, result.output_id)
    assert ("mine", "mine") == (steps[0]._lock, steps[0]._state)


def test_crash_makes_run_exit_3() -> None:
    """The runner's crash record of a raising stage method is exit code 3 for ``run``."""
    from arcaflow_steps.cli._run import exit_code

    _, execution, _ = run(lambda step, inputs: 1 / 0)
    assert 3 == exit_code({"s": execution.wait(0)}, {"s": frozenset()})


class ConsistencyProbe:
    """A handler that records what the step says about itself inside each callback."""

    def __init__(self) -> None:
        self.guard = StepGuard("s", LifecycleRules.of(LIFECYCLE))
        self.seen: list[tuple[str, str, str, RunningStepState]] = []

    def on_stage_change(  # noqa: PLR0917 - the StageChangeHandler protocol's signature
        self,
        step: Any,
        previous_stage: str | None,
        previous_output_id: str | None,
        previous_output: Any,
        new_stage: str,
        waiting_for_input: bool,
    ) -> None:
        self.seen.append(("change", str(new_stage), step.current_stage(), step.state()))
        self.guard.on_stage_change(
            step, previous_stage, previous_output_id, previous_output, new_stage, waiting_for_input
        )

    def on_step_complete(
        self, step: Any, previous_stage: str, output_id: str | None, output: Any
    ) -> None:
        self.seen.append(("complete", str(previous_stage), step.current_stage(), step.state()))
        self.guard.on_step_complete(step, previous_stage, output_id, output)

    def on_stage_failure(self, step: Any, stage: str, error: Exception | None) -> None:
        self.guard.on_stage_failure(step, stage, error)


@pytest.mark.parametrize("step_type", [ScriptedStep, BlockingStep], ids=["inline", "blocking"])
def test_stage_and_state_are_updated_before_each_callback(
    step_type: type[ScriptedStep],
) -> None:
    """Inside on_stage_change the step is already in the new stage; inside on_step_complete
    it is already finished (the seed: stage and state are consistent at all times)."""
    probe = ConsistencyProbe()
    step = step_type(lambda s, inputs: Move(to=Stage.DONE))
    step.bind(probe, LIFECYCLE, "s")
    step.begin()
    step.provide_stage_input("prepare", {"go": True})
    assert probe.guard.wait_done(5)
    step.close()
    assert [
        ("change", "prepare", "prepare", RunningStepState.WAITING_FOR_INPUT),
        ("change", "work", "work", RunningStepState.RUNNING),
        ("change", "done", "done", RunningStepState.RUNNING),
        ("complete", "done", "done", RunningStepState.FINISHED),
    ] == probe.seen


def test_stage_input_after_completion_is_refused() -> None:
    """provide_stage_input after the step finished raises the documented StageInputError."""
    _, execution, steps = run(lambda step, inputs: Move(to=Stage.DONE))
    assert "done" == execution.wait(0).stage
    with pytest.raises(StageInputError) as excinfo:
        steps[0].provide_stage_input("stop", {"stop_if": True})
    assert "step 's' stage 'stop': the step has finished; it takes no more input" == str(
        excinfo.value
    )


class IgnoresClose(BlockingStep):
    """A blocking stage method that never looks at is_closing."""

    close_timeout: ClassVar[float] = 0.2


def test_stage_method_ignoring_close_is_ended_and_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """close() of a step whose stage method ignores it stays bounded, ends the step closed and
    warns, naming the step and the thread left running."""
    release = threading.Event()
    started = threading.Event()

    def stubborn(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        started.set()
        release.wait(10)
        return Move(to=Stage.DONE)

    _, execution, steps = run(stubborn, step_type=IgnoresClose)
    assert started.wait(5)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="arcaflow_steps.authoring"):
        steps[0].close()
    assert time.monotonic() - began < 2
    assert ("closed", "result") == (execution.wait(1).stage, execution.wait(1).output_id)
    assert [
        "step 's': a stage method did not return within 0.2 s of close(); the step ended "
        "without it and its thread 'arcaflow-steps-step-s' is left running"
    ] == [record.getMessage() for record in caplog.records]
    release.set()
    thread = steps[0]._BaseRunningStep__thread
    thread.join(5)
    assert not thread.is_alive()


class RaisingToolProvider(ToolProvider):
    """The tool provider, but its stage method ``work`` raises."""

    def load_schema(self, provider_input: ToolConfig) -> SimpleRunnableStep:
        def work(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
            raise ValueError("bad value")

        return SimpleRunnableStep(
            LIFECYCLE, RUN_SCHEMA, lambda run_input, run_id: ScriptedStep(work)
        )


def test_kit_fails_a_provider_whose_stage_method_raises() -> None:
    """The conformance kit fails a base provider whose stage method raises, naming the rule
    and showing the traceback."""
    from arcaflow_steps.testing import ConformanceCase, ConformanceError, Rule, run_case

    case = ConformanceCase(id="raises", definition={"tool": {"mode": "x"}, "go": True})
    with pytest.raises(ConformanceError) as excinfo:
        run_case(RaisingToolProvider(), case).assert_conforms(Rule.NO_CRASH)
    message = str(excinfo.value)
    assert message.startswith(
        "provider 'tool' in case 'raises' breaks the rule: [no stage method raises or returns "
        "an illegal outcome] step 'raises-"
    )
    assert "crashed in stage 'work': stage method work() raised ValueError('bad value')" in message
    assert "ValueError: bad value" in message


def test_sleep_wakes_on_input_when_asked() -> None:
    """sleep(..., wake_on_input=True) returns as soon as stage input arrives, not at its end."""
    woke_after: list[float] = []

    def nap(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        began = time.monotonic()
        step.sleep(30, wake_on_input=True)
        woke_after.append(time.monotonic() - began)
        return Move(to=Stage.DONE)

    _, execution, _ = run(nap, step_type=BlockingStep)
    deadline = time.monotonic() + 5
    while execution.current_stage() != "work":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    execution.provide_stage_input("stop", {"stop_if": False})
    assert "done" == execution.wait(5).stage
    assert woke_after[0] < 5


class RaisingClose(BlockingStep):
    """Overrides close() and raises before letting the base close."""

    def close(self) -> None:
        raise RuntimeError("cannot close today")


def test_close_override_that_raises_crashes_the_step() -> None:
    """A close() override that raises is a crash (exit 3): the runner still ends the step,
    bounded, through force_close, and the error names close() with its traceback."""
    started = threading.Event()

    def wait_for_close(step: ScriptedStep, inputs: Mapping[str, Any]) -> Outcome:
        started.set()
        step.sleep(30)
        return step.closed_outcome(Stage.WORK, forced=False)

    runner, execution, _ = run(wait_for_close, step_type=RaisingClose)
    assert started.wait(5)
    began = time.monotonic()
    execution.close()
    result = execution.wait(0)
    assert time.monotonic() - began < 2
    assert ("closed", True) == (result.stage, result.is_error)
    assert result.error is not None
    lines = result.error.splitlines()
    assert (
        "step 's' crashed in stage 'work': close() raised RuntimeError('cannot close today')",
        "RuntimeError: cannot close today",
    ) == (lines[0], lines[-1])
    from arcaflow_steps.cli._run import exit_code

    assert 3 == exit_code({"s": result}, {"s": frozenset()})
    runner.close()
