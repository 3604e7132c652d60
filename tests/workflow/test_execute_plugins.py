"""The executor with real plugin steps (``tests/plugins/plugin_steps.py``, python deployer).

Data passing, ``wait_for``, ``enabled`` with a ``!ordisabled`` output, ``stop_if`` on a
cancellable plugin, a crash that propagates, an output that ends the run while another step
still runs (closed, nothing left behind: the ``registry`` fixture checks for leftover
processes), ``close()`` and ``timeout``.

Ported from the Go engine's ``workflow/workflow_test.go`` (as cases this engine can run
without the CLI; the Go ``wait`` test step is ``plugin_steps``' ``sleep``/``hang`` here):
``TestSimpleValidWaitWorkflow`` (data passing), ``TestWaitForSerial`` (``wait_for``),
``TestStepCancellation`` (``stop_if``), ``TestInputDisabledStepWorkflow`` and
``TestShorthandGracefullyDisabledStepWorkflow`` (``enabled`` + ``!ordisabled``),
``TestMultiDependencyWorkflowFailureWithDisabling`` and ``…WithErrorOut`` (no more
possible outputs, at once, while a long step still runs), ``TestEarlyContextCancellation``
(``close()``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from exec_support import PLUGINS, PROMPT, e, hand_plan, output, registry

from arcaflow_steps import Registry, StepEvent, StepEventKind
from arcaflow_steps.schema import AnySchema
from arcaflow_steps.workflow._execute import CLOSED_BEFORE_OUTPUT, run_workflow
from arcaflow_steps.workflow._template import OneOf

__all__ = ["registry"]  # the fixture, from tests/builtin/plugin_support.py

pytestmark = pytest.mark.slow


def plugin_step(step: str, step_input: Any, **extra: Any) -> dict[str, Any]:
    """A ``plugin_steps`` step run by the python deployer."""
    return {
        "plugin": {"src": str(PLUGINS / "plugin_steps.py"), "deployment_type": "python"},
        "step": step,
        "input": step_input,
        **extra,
    }


class Recorder:
    """Records every event in arrival order (observers are called before the run reacts)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[StepEvent] = []

    def on_event(self, event: StepEvent) -> None:
        with self.lock:
            self.events.append(event)

    def index(self, step_id: str, kind: StepEventKind, stage: str) -> int:
        with self.lock:
            return next(
                number
                for number, event in enumerate(self.events)
                if (event.step_id, event.kind, event.stage) == (step_id, kind, stage)
            )


def test_data_passes_from_plugin_to_plugin(registry: Registry) -> None:
    """b's input is a's output; the workflow output is b's."""
    plan = hand_plan(
        registry,
        {
            "a": plugin_step("hello", {"name": e("$.input.name")}),
            "b": plugin_step("hello", {"name": e("$.steps.a.outputs.success.message")}),
        },
        [output("success", {"message": e("$.steps.b.outputs.success.message")})],
    )
    result = plan.run({"name": "Arca"})
    assert ("success", {"message": "Hello, Hello, Arca!!"}) == (
        result.output_id,
        result.output_data,
    )
    assert {"a": "outputs", "b": "outputs"} == {
        step_id: step.stage for step_id, step in result.step_results.items()
    }


def test_wait_for_starts_the_step_after_its_dependency(registry: Registry) -> None:
    """With ``wait_for: $.steps.a.outputs`` b deploys at once but runs only after a ended."""
    recorder = Recorder()
    plan = hand_plan(
        registry,
        {
            "a": plugin_step("sleep", {"seconds": 0.3}),
            "b": plugin_step("hello", {"name": "B"}, wait_for=e("$.steps.a.outputs")),
        },
        [output("success", {"message": e("$.steps.b.outputs.success.message")})],
        observers=[recorder],
    )
    result = plan.run()
    assert "success" == result.output_id
    a_done = recorder.index("a", StepEventKind.COMPLETED, "outputs")
    b_runs = recorder.index("b", StepEventKind.STAGE_CHANGED, "running")
    b_deployed = recorder.index("b", StepEventKind.STAGE_CHANGED, "enabling")
    assert b_deployed < a_done < b_runs


@pytest.mark.parametrize(
    ("enabled", "expected"),
    [
        (False, {"result": "disabled", "message": "Step a/hello disabled"}),
        (True, {"result": "enabled", "message": "Hello, Arca!"}),
    ],
    ids=["disabled", "enabled"],
)
def test_enabled_expression_and_ordisabled(
    registry: Registry, enabled: bool, expected: dict[str, Any]
) -> None:
    """``enabled: !expr $.input.enabled``; the ``!ordisabled`` output takes either branch."""
    ordisabled = OneOf(
        "result",
        (
            ("enabled", e("$.steps.a.outputs.success")),
            ("disabled", e("$.steps.a.disabled.output")),
        ),
        "outputs.success",
    )
    plan = hand_plan(
        registry,
        {"a": plugin_step("hello", {"name": "Arca"}, enabled=e("$.input.enabled"))},
        [output("success", ordisabled, fields={"result": AnySchema(), "message": AnySchema()})],
    )
    result = plan.run({"enabled": enabled})
    assert ("success", expected) == (result.output_id, result.output_data)


def test_stop_if_cancels_a_running_cancellable_plugin(registry: Registry) -> None:
    """``stop_if`` on another step's output cancels the plugin, which answers ``cancelled``."""
    plan = hand_plan(
        registry,
        {
            "long": plugin_step(
                "cancellable", {"seconds": 60}, stop_if=e("$.steps.short.outputs.success")
            ),
            "short": plugin_step("sleep", {"seconds": 0.5}),
        },
        [output("success", {"cancelled": e("$.steps.long.outputs.cancelled.cancelled")})],
    )
    started = time.monotonic()
    result = plan.run()
    assert ("success", {"cancelled": True}) == (result.output_id, result.output_data)
    assert time.monotonic() - started < PROMPT


def test_an_output_ends_the_run_and_closes_a_step_still_running(registry: Registry) -> None:
    """The first output ends the run at once; a hanging step is closed, nothing left behind."""
    plan = hand_plan(
        registry,
        {
            "quick": plugin_step("hello", {"name": "Q"}),
            "stuck": plugin_step("hang", {"seconds": 60}),
        },
        [
            output("late", {"x": e("$.steps.stuck.outputs.success")}),
            output("success", {"message": e("$.steps.quick.outputs.success.message")}),
        ],
    )
    started = time.monotonic()
    result = plan.run()
    assert ("success", {"message": "Hello, Q!"}) == (result.output_id, result.output_data)
    assert time.monotonic() - started < PROMPT
    assert "outputs" != result.step_results["stuck"].stage


def test_a_crash_makes_its_dependants_unresolvable_at_once(registry: Registry) -> None:
    """A crashed step's dependant is closed, and the run fails while a long step still runs."""
    plan = hand_plan(
        registry,
        {
            "broken": plugin_step("exit", {"code": 3}),
            "after": plugin_step("hello", {"name": e("$.steps.broken.outputs.success.message")}),
            "long": plugin_step("hang", {"seconds": 60}),
        },
        [
            output(
                "success",
                {
                    "a": e("$.steps.after.outputs.success.message"),
                    "b": e("$.steps.long.outputs.success"),
                },
            )
        ],
    )
    started = time.monotonic()
    result = plan.run()
    assert time.monotonic() - started < PROMPT
    assert result.output_id is None
    assert result.error is not None
    prefix = (
        "no output can be produced any more: success needs steps.after.outputs.success, but "
        "step 'after' was closed: its input for stage 'starting' needs "
        "steps.broken.outputs.success, but step 'broken' ended in stage 'crashed' with output "
        "'error': "
    )
    assert prefix == result.error[: len(prefix)]
    assert "crashed" == result.step_results["broken"].stage
    assert "closed" == result.step_results["after"].stage


def test_close_before_an_output_ends_every_step(registry: Registry) -> None:
    """``close()`` (Ctrl-C) closes the running steps; without an output the run says so."""
    plan = hand_plan(
        registry,
        {"stuck": plugin_step("hang", {"seconds": 60})},
        [output("success", {"x": e("$.steps.stuck.outputs.success")})],
    )
    run = plan.start({})
    run.close()
    result = run.wait(PROMPT)
    assert (None, CLOSED_BEFORE_OUTPUT) == (result.output_id, result.error)
    assert "outputs" != result.step_results["stuck"].stage


def test_a_timeout_closes_the_run(registry: Registry) -> None:
    """``run(timeout=…)`` closes the steps after the timeout and says so."""
    plan = hand_plan(
        registry,
        {"stuck": plugin_step("hang", {"seconds": 60})},
        [output("success", {"x": e("$.steps.stuck.outputs.success")})],
    )
    result = run_workflow(plan, {}, timeout=0.5)
    assert "workflow produced no output within 0.5 s" == result.error


def test_force_close_ends_every_step(registry: Registry) -> None:
    """``force_close()`` (the second Ctrl-C) stops a hanging step at once."""
    plan = hand_plan(
        registry,
        {"stuck": plugin_step("hang", {"seconds": 60})},
        [output("success", {"x": e("$.steps.stuck.outputs.success")})],
    )
    run = plan.start({})
    run.force_close()
    result = run.wait(PROMPT)
    assert (None, CLOSED_BEFORE_OUTPUT) == (result.output_id, result.error)


def test_a_stop_condition_that_never_comes_leaves_the_step_alone(registry: Registry) -> None:
    """``stop_if`` on an output that will never come is not a reason to close the step: it
    runs to its own success."""
    plan = hand_plan(
        registry,
        {
            "refused": plugin_step("hello", {"name": "nobody"}),
            "waiting": plugin_step(
                "cancellable", {"seconds": 0.3}, stop_if=e("$.steps.refused.outputs.success")
            ),
        },
        [output("success", {"slept": e("$.steps.waiting.outputs.success.slept")})],
    )
    result = plan.run()
    assert ("success", {"slept": 0.3}) == (result.output_id, result.output_data)
    assert "error" == result.step_results["refused"].output_id
