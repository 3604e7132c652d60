"""Hypothesis drives the runner as a state machine: random legal and illegal reports, stage
inputs and concurrent ``close()`` calls, against a model written independently of the table."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from runner_fakes import NEXT, OUTPUTS, TERMINAL, FakeProvider, FakeRegistry, FakeRunnable

from arcaflow_steps import (
    IllegalStageTransitionError,
    SchemaValidationError,
    StageInputError,
    StepEventKind,
    StepRunner,
    prepare_step,
)

STAGES = ["prepare", "work", "done", "failed", "closed", "stop", "bogus"]
OUTPUT_IDS = [None, "ready", "success", "error", "result", "surprise"]
DATA: list[Any] = [None, {}, {"value": 1}, {"value": "ten"}, {"message": "m"}, {"cancelled": True}]
VALID_DATA: dict[str, list[Any]] = {
    "ready": [{}],
    "success": [{"value": 1}],
    "error": [{"message": "m"}],
    "result": [{"cancelled": True}],
}
INPUTS: list[tuple[str, dict[str, Any]]] = [
    ("prepare", {"go": True}),
    ("prepare", {"go": "maybe"}),
    ("prepare", {}),
    ("stop", {"stop_if": 1}),
    ("stop", {}),
    ("work", {}),
    ("bogus", {"x": 1}),
]


def reachable(stage: str) -> set[str]:
    """Return the stages reachable from ``stage`` (itself included), from the model's NEXT."""
    seen = {stage}
    todo = [stage]
    while todo:
        for target in NEXT[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def output_is_legal(stage: str, output_id: str | None, data: Any, *, completing: bool) -> bool:
    if output_id is None:
        return data is None and not (completing and OUTPUTS[stage])
    return output_id in OUTPUTS[stage] and data in VALID_DATA[output_id]


class RunnerMachine(RuleBasedStateMachine):
    """One step of the fake provider under the runner; the test plays the provider."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        runnable = FakeRunnable(gate=self.gate)
        registry = FakeRegistry(FakeProvider(runnable))
        # Long enough that no background close acts between a refusal and the check after it.
        self.runner = StepRunner(close_timeout=0.5)
        self.execution = self.runner.start(
            prepare_step(registry, "s", {"kind": "fake", "go": True})
        )
        self.step = runnable.steps[-1]
        self.stage: str | None = None
        self.failed: set[str] = set()
        self.completed = False
        self.inputs = 2  # prepare and stop are fed at start

    # -- helpers -----------------------------------------------------------------------------

    def refused(self, report: Any) -> None:
        """Assert that ``report`` is refused and changes nothing; then let the step end."""
        before = self.execution.recorded_state()
        with pytest.raises(IllegalStageTransitionError):
            report()
        assert before == self.execution.recorded_state()
        if not self.completed:
            self.gate.set()
            result = self.execution.wait(5)
            assert result.is_error
            assert result.refused
            self.completed = True

    # -- rules -------------------------------------------------------------------------------

    @rule(
        new_stage=st.sampled_from(STAGES),
        output_id=st.sampled_from(OUTPUT_IDS),
        data=st.sampled_from(DATA),
        previous=st.sampled_from(["current", None, "prepare", "work"]),
    )
    def move(self, new_stage: str, output_id: str | None, data: Any, previous: Any) -> None:
        said = self.stage if previous == "current" else previous
        if self.stage is None:
            legal = (
                new_stage == "prepare"
                and new_stage not in self.failed
                and output_id is None
                and data is None
            )
        else:
            legal = (
                new_stage in NEXT[self.stage]
                and new_stage not in self.failed
                and output_is_legal(self.stage, output_id, data, completing=False)
            )
        legal = legal and not self.completed and said == self.stage

        def report() -> None:
            self.step.move(new_stage, output_id, data, previous=said)

        if legal:
            report()
            self.stage = new_stage
        else:
            self.refused(report)

    @rule(
        stage=st.sampled_from(["current", *STAGES]),
        output_id=st.sampled_from(OUTPUT_IDS),
        data=st.sampled_from(DATA),
    )
    def complete(self, stage: str, output_id: str | None, data: Any) -> None:
        said = self.stage if stage == "current" else stage
        legal = (
            not self.completed
            and self.stage is not None
            and said == self.stage
            and self.stage in TERMINAL
            and output_is_legal(self.stage, output_id, data, completing=True)
        )

        def report() -> None:
            self.step.complete(output_id, data, stage=said)

        if legal:
            report()
            self.completed = True
            result = self.execution.wait(0)
            assert (self.stage, output_id, data) == (
                result.stage,
                result.output_id,
                result.output_data,
            )
        else:
            self.refused(report)

    @rule(stage=st.sampled_from(STAGES))
    def fail(self, stage: str) -> None:
        legal = not self.completed and stage in NEXT

        def report() -> None:
            self.step.fail(stage, RuntimeError("no output"))

        if legal:
            visited = self.execution.recorded_state().visited
            report()
            if stage != self.stage and stage not in visited:
                self.failed.add(stage)
        else:
            self.refused(report)

    @rule(index=st.integers(0, len(INPUTS) - 1))
    def provide_input(self, index: int) -> None:
        stage, value = INPUTS[index]
        before = self.execution.recorded_state()
        if stage not in ("prepare", "stop"):
            with pytest.raises(StageInputError):
                self.execution.provide_stage_input(stage, value)
        elif stage == "prepare" and value == {"go": "maybe"}:
            with pytest.raises(SchemaValidationError):
                self.execution.provide_stage_input(stage, value)
        else:
            self.execution.provide_stage_input(stage, value)
            self.inputs += 1
        assert before == self.execution.recorded_state()
        assert self.inputs == len(self.step.inputs)

    @precondition(lambda self: not self.completed)
    @rule(callers=st.integers(1, 3), force=st.booleans())
    def close_concurrently(self, callers: int, force: bool) -> None:
        self.gate.set()
        methods = [self.execution.close] * callers + ([self.execution.force_close] if force else [])
        threads = [threading.Thread(target=method) for method in methods]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert self.execution.is_finished()
        assert 1 == self.step.close_calls
        self.completed = True

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def stage_is_reachable_from_the_initial_stage(self) -> None:
        recorded = self.execution.recorded_state()
        assert recorded.stage is None or recorded.stage in reachable("prepare")
        assert not recorded.visited & recorded.unreachable
        if not self.completed:
            assert self.stage == recorded.stage

    @invariant()
    def exactly_one_completion_once_finished(self) -> None:
        events = self.execution.events()
        assert list(range(1, len(events) + 1)) == [event.sequence for event in events]
        completions = [event for event in events if event.kind is StepEventKind.COMPLETED]
        assert len(completions) == (1 if self.completed else 0)
        if self.completed:
            result = self.execution.wait(0)
            assert result.stage in TERMINAL
            assert result.stage in reachable("prepare")

    def teardown(self) -> None:
        self.gate.set()
        self.runner.close()
        assert self.execution.is_finished()


RunnerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("RUNNER_MACHINE_EXAMPLES", "40")),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_runner_state_machine = RunnerMachine.TestCase
