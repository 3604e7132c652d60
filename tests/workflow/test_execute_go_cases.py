"""The Go engine's ``workflow/workflow_test.go`` cases, run from YAML through the whole layer.

Each workflow is the Go test's, read by ``read_workflow``, planned by ``plan_workflow`` and run
by ``WorkflowPlan.run``, with real plugins (``tests/plugins/plugin_steps.py``, python
deployer) in place of the Go tests' in-process ``test-impl`` steps: ``wait {wait_time_ms}``
is ``sleep {seconds}`` (or ``hang``/``cancellable`` where it must outlive the test), ``hello
{fail}`` is ``hello``/``fail``. Ported: TestWaitForSerial, TestWaitForMultiple,
TestWaitForStarted, TestStepCancellation, TestEarlyContextCancellation,
TestInputDisabledStepWorkflow, TestGracefullyDisabledStepWorkflow,
TestMultiStepWaitForGracefullyDisabledStepWorkflow,
TestShorthandGracefullyDisabledStepWorkflow, TestOptionalFieldGracefullyDisabledStepWorkflow,
TestOptionalFieldWithFailureStepWorkflow, TestSoftOptionalFieldWorkflow,
TestDelayedDisabledStepWorkflow, TestNestedOneOfWorkflow, TestOneOfInListWorkflow,
TestOutputFailed, TestSingleOneofOptionWorkflow,
TestMultiDependencyWorkflowFailureWithDisabling,
…WithCancellation and …WithErrorOut; and, with ``plugin_slow_start`` (``plugin_steps``
whose import sleeps before the handshake) for the test deployer's ``deploy_time``,
TestDeploymentStepCancellation and TestInputCancelledStepWorkflow. Not ported here: the
foreach cases (foreach's own tests), the namespace, output-schema and expression cases
(planner and expression tests).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from exec_support import PLUGINS, PROMPT, registry

from arcaflow_steps import Registry, StepEvent, StepEventKind
from arcaflow_steps.workflow import (
    WorkflowContext,
    WorkflowPlan,
    WorkflowResult,
    plan_workflow,
    read_workflow,
)

__all__ = ["registry"]  # the fixture, from tests/builtin/plugin_support.py

pytestmark = pytest.mark.slow

PLUGIN = f"plugin: {{src: {PLUGINS / 'plugin_steps.py'}, deployment_type: python}}"
SLOW_PLUGIN = f"plugin: {{src: {PLUGINS / 'plugin_slow_start.py'}, deployment_type: python}}"
#: plugin_slow_start's start-up time (its module's START_SECONDS).
SLOW_START = 2.5


def plan(registry: Registry, tmp_path: Path, text: str) -> WorkflowPlan:
    """Plan the workflow ``text`` (``PLUGIN`` stands for the test plugin's ``plugin:``)."""
    path = tmp_path / "workflow.yaml"
    path.write_text(text.replace("SLOW_PLUGIN", SLOW_PLUGIN).replace("PLUGIN", PLUGIN))
    return plan_workflow(
        read_workflow(path), WorkflowContext(context_dir=tmp_path, registry=registry)
    )


def run(workflow: WorkflowPlan, input_data: Any = None, **options: Any) -> WorkflowResult:
    """Run ``workflow`` (bounded) and return its result."""
    started = workflow.start({} if input_data is None else input_data, **options)
    try:
        return started.wait(PROMPT)
    finally:
        started.close()


def no_more_outputs(result: WorkflowResult) -> bool:
    return result.output_id is None and (result.error or "").startswith(
        "no output can be produced any more: "
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[StepEvent] = []

    def on_event(self, event: StepEvent) -> None:
        self.events.append(event)  # list.append is atomic

    def index(self, step_id: str, kind: StepEventKind, stage: str) -> int:
        return next(
            number
            for number, event in enumerate(list(self.events))
            if (event.step_id, event.kind, event.stage) == (step_id, kind, stage)
        )


INPUT_NONE = "input: {root: R, objects: {R: {id: R, properties: {}}}}"


def bool_input(*names: str) -> str:
    properties = ", ".join(f"{name}: {{type: {{type_id: bool}}}}" for name in names)
    return f"input: {{root: R, objects: {{R: {{id: R, properties: {{{properties}}}}}}}}}"


def test_wait_for_serial(registry: Registry, tmp_path: Path) -> None:
    """TestWaitForSerial: the second step runs only after the first one's success."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  first_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0.2}}
  second_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0.01}}
    wait_for: !expr $.steps.first_wait.outputs.success
outputs:
  success:
    first_step_output: !expr $.steps.first_wait.outputs
    second_step_output: !expr $.steps.second_wait.outputs
""",
    )
    recorder = Recorder()
    result = run(workflow, observers=[recorder])
    assert "success" == result.output_id
    assert {"success": {"slept": 0.2}} == result.output_data["first_step_output"]
    first_done = recorder.index("first_wait", StepEventKind.COMPLETED, "outputs")
    assert first_done < recorder.index("second_wait", StepEventKind.STAGE_CHANGED, "running")


def test_wait_for_multiple(registry: Registry, tmp_path: Path) -> None:
    """TestWaitForMultiple: a map in ``wait_for`` waits for every entry; the soft-optional
    fields on the waited-for steps are therefore present."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  wait_a: {{PLUGIN, step: sleep, input: {{seconds: 0.05}}}}
  wait_b: {{PLUGIN, step: sleep, input: {{seconds: 0.05}}}}
  wait_c:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    wait_for:
      a: !expr $.steps.wait_a.outputs
      b: !expr $.steps.wait_b.outputs
outputs:
  success:
    wait_a: !soft-optional $.steps.wait_a.outputs
    wait_b: !soft-optional $.steps.wait_b.outputs
    wait_c: !expr $.steps.wait_c.outputs
""",
    )
    result = run(workflow)
    assert "success" == result.output_id
    assert {"wait_a", "wait_b", "wait_c"} == set(result.output_data)


def test_wait_for_started(registry: Registry, tmp_path: Path) -> None:
    """TestWaitForStarted: ``wait_for`` on another step's ``starting.started``."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  pre_wait: {{PLUGIN, step: sleep, input: {{seconds: 0.01}}}}
  first_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0.01}}
    wait_for: !expr $.steps.pre_wait.outputs
  second_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0.01}}
    wait_for: !expr $.steps.first_wait.starting.started
outputs:
  success:
    second_step_output: !expr $.steps.second_wait.outputs
""",
    )
    assert "success" == run(workflow).output_id


def test_step_cancellation(registry: Registry, tmp_path: Path) -> None:
    """TestStepCancellation: ``stop_if`` on another step's outputs cancels the long step,
    whose own ``cancelled`` output is the workflow's output."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  long_wait:
    PLUGIN
    step: cancellable
    input: {{seconds: 60}}
    stop_if: !expr $.steps.short_wait.outputs
  short_wait: {{PLUGIN, step: sleep, input: {{seconds: 0.3}}}}
outputs:
  a:
    cancelled_step_output: !expr $.steps.long_wait.outputs
""",
    )
    result = run(workflow)
    assert "a" == result.output_id
    assert {"cancelled"} == set(result.output_data["cancelled_step_output"])


def test_early_context_cancellation(registry: Registry, tmp_path: Path) -> None:
    """TestEarlyContextCancellation: closing the run ends it promptly."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  long_wait:
    PLUGIN
    step: cancellable
    closure_wait_timeout: 5000
    input: {{seconds: 60}}
outputs:
  success:
    first_step_output: !expr $.steps.long_wait.outputs
""",
    )
    started = time.monotonic()
    running = workflow.start({})
    time.sleep(0.01)
    running.close()
    result = running.wait(PROMPT)
    assert time.monotonic() - started < PROMPT
    if result.output_id is None:  # closed before the plugin ran
        assert "workflow closed before an output was produced" == result.error
    else:  # the plugin answered the cancel: an output produced while closing counts
        assert {"cancelled"} == set(result.output_data["first_step_output"])


def test_deployment_step_cancellation(registry: Registry, tmp_path: Path) -> None:
    """TestDeploymentStepCancellation: steps cancelled by ``stop_if`` while they deploy end at
    once, without their output, and the output that does not need them comes promptly.

    The two steps to cancel start ``plugin_slow_start`` (2.5 s to its handshake): one of them
    gets the process its schema was read with, the other deploys a new one and is cancelled
    in the middle of it (our probe process is reused by a first run, the Go engine has none).
    """
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{INPUT_NONE}
steps:
  end_wait: {{PLUGIN, step: sleep, input: {{seconds: 0.02}}}}
  step_to_cancel:
    SLOW_PLUGIN
    step: cancellable
    input: {{seconds: 1}}
    stop_if: !expr $.steps.short_wait.outputs
  twin_to_cancel:
    SLOW_PLUGIN
    step: cancellable
    input: {{seconds: 1}}
    stop_if: !expr $.steps.short_wait.outputs
  short_wait: {{PLUGIN, step: sleep, input: {{seconds: 0}}}}
outputs:
  fail_case:
    unattainable: !expr $.steps.step_to_cancel.outputs.success
  correct_case:
    a: !expr $.steps.end_wait.outputs
""",
    )
    recorder = Recorder()
    started = time.monotonic()
    result = run(workflow, observers=(recorder,))
    assert time.monotonic() - started < SLOW_START
    assert "correct_case" == result.output_id
    assert {"success": {"slept": 0.02}} == result.output_data["a"]
    ends = {
        event.step_id: (event.stage, event.previous_output_id)
        for event in recorder.events
        if event.kind == StepEventKind.COMPLETED and event.step_id.endswith("to_cancel")
    }
    assert ("closed", "result") in ends.values()  # the one cancelled while it deployed
    assert all(end in {("closed", "result"), ("outputs", "cancelled")} for end in ends.values())


def test_input_cancelled_step(registry: Registry, tmp_path: Path) -> None:
    """TestInputCancelledStepWorkflow: the only step, cancelled by its input before it is
    deployed, ends at once; no output can be produced any more (no deadlock). The Go test's
    literal ``stop_if: $.input.step_cancelled`` cancels there because every literal does; here
    the expression says it."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("step_cancelled")}
steps:
  simple_wait:
    SLOW_PLUGIN
    step: sleep
    input: {{seconds: 0}}
    stop_if: !expr $.input.step_cancelled
outputs:
  did-not-cancel:
    simple_wait_output: !expr $.steps.simple_wait.outputs.success
""",
    )
    started = time.monotonic()
    result = run(workflow, {"step_cancelled": True})
    assert time.monotonic() - started < SLOW_START
    assert no_more_outputs(result), result.error


GRACEFULLY_DISABLED = f"""
version: v0.2.0
{bool_input("step_enabled")}
steps:
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    enabled: !expr $.input.step_enabled
outputs:
  both:
    simple_wait_output: !oneof
      discriminator: "result"
      one_of:
        success_wait_output: !expr $.steps.simple_wait.outputs.success
        disabled_wait_output: !expr $.steps.simple_wait.disabled.output
"""


@pytest.mark.parametrize(
    ("enabled", "expected"),
    [
        (True, {"result": "success_wait_output", "slept": 0.0}),
        (False, {"result": "disabled_wait_output", "message": "Step simple_wait/sleep disabled"}),
    ],
    ids=["enabled", "disabled"],
)
def test_gracefully_disabled_step(
    registry: Registry, tmp_path: Path, enabled: bool, expected: dict[str, Any]
) -> None:
    """TestGracefullyDisabledStepWorkflow: a ``!oneof`` output takes either branch."""
    result = run(plan(registry, tmp_path, GRACEFULLY_DISABLED), {"step_enabled": enabled})
    assert ("both", {"simple_wait_output": expected}) == (result.output_id, result.output_data)


def test_input_disabled_step(registry: Registry, tmp_path: Path) -> None:
    """TestInputDisabledStepWorkflow: an output needing a disabled step's success cannot come."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("step_enabled")}
steps:
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0.02}}
    enabled: !expr $.input.step_enabled
outputs:
  workflow-success:
    simple_wait_output: !expr $.steps.simple_wait.outputs.success
""",
    )
    assert "workflow-success" == run(workflow, {"step_enabled": True}).output_id
    result = run(workflow, {"step_enabled": False})
    assert (
        "no output can be produced any more: workflow-success needs "
        "steps.simple_wait.outputs.success, but step 'simple_wait' ended in stage 'disabled' "
        "with output 'output': Step simple_wait/sleep disabled"
    ) == result.error


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (False, False, "all_disabled"),
        (True, False, "success"),
        (False, True, "success"),
        (True, True, "success"),
    ],
)
def test_multi_step_wait_for_gracefully_disabled(
    registry: Registry, tmp_path: Path, a: bool, b: bool, expected: str
) -> None:
    """TestMultiStepWaitForGracefullyDisabledStepWorkflow: ``wait_for: !oneof`` over two
    steps that may be disabled; ``!wait-optional`` outputs."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("a_enabled", "b_enabled")}
steps:
  a: {{PLUGIN, step: sleep, input: {{seconds: 0}}, enabled: !expr $.input.a_enabled}}
  b: {{PLUGIN, step: sleep, input: {{seconds: 0}}, enabled: !expr $.input.b_enabled}}
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    wait_for: !oneof
      discriminator: "n/a"
      one_of:
        a: !expr $.steps.a.outputs.success
        b: !expr $.steps.b.outputs.success
outputs:
  success:
    a_output: !wait-optional $.steps.a.outputs.success
    b_output: !wait-optional $.steps.b.outputs.success
    simple_wait_output: !expr $.steps.simple_wait.outputs.success
  all_disabled:
    a_disabled: !expr $.steps.a.disabled.output
    b_disabled: !expr $.steps.b.disabled.output
""",
    )
    result = run(workflow, {"a_enabled": a, "b_enabled": b})
    assert expected == result.output_id
    if expected == "success":
        present = {name for name, on in (("a_output", a), ("b_output", b)) if on}
        assert present | {"simple_wait_output"} == set(result.output_data)


def test_shorthand_gracefully_disabled(registry: Registry, tmp_path: Path) -> None:
    """TestShorthandGracefullyDisabledStepWorkflow: ``!ordisabled``."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("step_enabled")}
steps:
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    enabled: !expr $.input.step_enabled
outputs:
  success:
    simple_wait_output: !ordisabled $.steps.simple_wait.outputs.success
""",
    )
    assert {"simple_wait_output": {"result": "enabled", "slept": 0.0}} == (
        run(workflow, {"step_enabled": True}).output_data
    )
    assert {
        "simple_wait_output": {"result": "disabled", "message": "Step simple_wait/sleep disabled"}
    } == run(workflow, {"step_enabled": False}).output_data


def test_optional_field_gracefully_disabled(registry: Registry, tmp_path: Path) -> None:
    """TestOptionalFieldGracefullyDisabledStepWorkflow: a ``!wait-optional`` field is there
    for an enabled step and left out (an empty output) for a disabled one."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("step_enabled")}
steps:
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    enabled: !expr $.input.step_enabled
outputs:
  workflow-success:
    success_output: !wait-optional $.steps.simple_wait.outputs.success
""",
    )
    assert {"success_output": {"slept": 0.0}} == run(workflow, {"step_enabled": True}).output_data
    result = run(workflow, {"step_enabled": False})
    assert ("workflow-success", {}) == (result.output_id, result.output_data)


@pytest.mark.parametrize("fail", [False, True], ids=["succeeds", "fails"])
def test_optional_field_with_failure(registry: Registry, tmp_path: Path, fail: bool) -> None:
    """TestOptionalFieldWithFailureStepWorkflow: a failed step's ``!wait-optional`` field is
    left out; the output still comes."""
    workflow = plan(
        registry,
        tmp_path,
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {name: {type: {type_id: string}}}}}}
steps:
  hello_step: {PLUGIN, step: hello, input: {name: !expr $.input.name}}
  wait_step: {PLUGIN, step: sleep, input: {seconds: 0}}
outputs:
  workflow-success:
    hello_output: !wait-optional $.steps.hello_step.outputs.success
    wait_output: !expr $.steps.wait_step.outputs.success
""",
    )
    result = run(workflow, {"name": "nobody" if fail else "Arca"})
    expected: dict[str, Any] = {"wait_output": {"slept": 0.0}}
    if not fail:
        expected["hello_output"] = {"message": "Hello, Arca!"}
    assert ("workflow-success", expected) == (result.output_id, result.output_data)


SOFT_OPTIONAL = """
version: v0.2.0
input:
  root: R
  objects:
    R:
      id: R
      properties:
        wait_1: {type: {type_id: float}}
        wait_2: {type: {type_id: float}}
        wait_1_enabled: {type: {type_id: bool}}
        wait_2_enabled: {type: {type_id: bool}}
steps:
  wait_step_1:
    PLUGIN
    step: sleep
    input: {seconds: !expr $.input.wait_1}
    enabled: !expr $.input.wait_1_enabled
  wait_step_2:
    PLUGIN
    step: sleep
    input: {seconds: !expr $.input.wait_2}
    enabled: !expr $.input.wait_2_enabled
outputs:
  workflow-success:
    required_output: !expr $.steps.wait_step_1.outputs.success
    optional_output: !soft-optional $.steps.wait_step_2.outputs.success
"""


@pytest.mark.parametrize(
    ("case", "keys"),
    [
        ((0.0, 3.0, True), {"required_output"}),
        ((3.0, 0.0, True), {"required_output", "optional_output"}),
        ((0.0, 0.0, False), {"required_output"}),
    ],
    ids=["optional-late", "optional-early", "optional-disabled"],
)
def test_soft_optional_field(
    registry: Registry, tmp_path: Path, case: tuple[float, float, bool], keys: set[str]
) -> None:
    """TestSoftOptionalFieldWorkflow: the soft field is there only if it resolved first."""
    wait_1, wait_2, enabled_2 = case
    input_data = {
        "wait_1": wait_1,
        "wait_2": wait_2,
        "wait_1_enabled": True,
        "wait_2_enabled": enabled_2,
    }
    result = run(plan(registry, tmp_path, SOFT_OPTIONAL), input_data)
    assert ("workflow-success", keys) == (result.output_id, set(result.output_data))


def test_soft_optional_field_without_its_required_step(registry: Registry, tmp_path: Path) -> None:
    """TestSoftOptionalFieldWorkflow, last case: the required step disabled, no output."""
    input_data = {"wait_1": 0.0, "wait_2": 0.0, "wait_1_enabled": False, "wait_2_enabled": True}
    assert no_more_outputs(run(plan(registry, tmp_path, SOFT_OPTIONAL), input_data))


@pytest.mark.parametrize(
    ("sleep", "expected"), [(0.05, "success"), (0.04, "disabled")], ids=["enabled", "disabled"]
)
def test_delayed_disabled_step(
    registry: Registry, tmp_path: Path, sleep: float, expected: str
) -> None:
    """TestDelayedDisabledStepWorkflow: ``enabled`` computed from another step's output."""
    workflow = plan(
        registry,
        tmp_path,
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {sleep: {type: {type_id: float}}}}}}
steps:
  initial_wait: {PLUGIN, step: sleep, input: {seconds: !expr $.input.sleep}}
  toggled_wait:
    PLUGIN
    step: sleep
    input: {seconds: 0}
    enabled: !expr $.steps.initial_wait.outputs.success.slept == 0.05
outputs:
  success:
    initial_wait_output: !expr $.steps.initial_wait.outputs.success
    toggled_wait_output: !expr $.steps.toggled_wait.outputs.success
  disabled:
    initial_wait_output: !expr $.steps.initial_wait.outputs.success
    toggled_wait_output: !expr $.steps.toggled_wait.disabled.output
""",
    )
    result = run(workflow, {"sleep": sleep})
    assert expected == result.output_id
    if expected == "disabled":
        assert {"message": "Step toggled_wait/sleep disabled"} == (
            result.output_data["toggled_wait_output"]
        )


@pytest.mark.parametrize(
    "failing",
    [
        "disabled_step: {PLUGIN, step: sleep, input: {seconds: 0}, enabled: !expr '!$.input.fail'}",
        "canceled_step: {PLUGIN, step: cancellable, input: {seconds: 60}, "
        "stop_if: !expr $.input.fail}",
        "failed_step: {PLUGIN, step: hello, input: {name: nobody}}",
    ],
    ids=["disabling", "cancellation", "error-out"],
)
def test_multi_dependency_failure_ends_at_once(
    registry: Registry, tmp_path: Path, failing: str
) -> None:
    """TestMultiDependencyWorkflowFailureWith{Disabling,Cancellation,ErrorOut}: when one
    dependency of the only output fails, the run fails at once, not after the long step."""
    step_id = failing.split(":", maxsplit=1)[0]
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("fail")}
steps:
  {failing}
  long_wait:
    PLUGIN
    step: hang
    closure_wait_timeout: 0
    input: {{seconds: 60}}
outputs:
  workflow-success:
    first_output: !expr $.steps.{step_id}.outputs.success
    long_wait_output: !expr $.steps.long_wait.outputs.success
""",
    )
    started = time.monotonic()
    result = run(workflow, {"fail": True})
    assert time.monotonic() - started < PROMPT
    assert no_more_outputs(result), result.error
    assert result.step_results["long_wait"].stage != "outputs"


TWO_TOGGLED_STEPS = f"""
version: v0.2.0
{bool_input("step_1_enabled", "step_2_enabled")}
steps:
  wait_1: {{PLUGIN, step: sleep, input: {{seconds: 0}}, enabled: !expr $.input.step_1_enabled}}
  wait_2: {{PLUGIN, step: sleep, input: {{seconds: 0.001}}, enabled: !expr $.input.step_2_enabled}}
"""
SLEPT_0 = {"slept": 0.0}
SLEPT_1 = {"slept": 0.001}
DISABLED_1 = {"message": "Step wait_1/sleep disabled"}
DISABLED_2 = {"message": "Step wait_2/sleep disabled"}


@pytest.mark.parametrize(
    ("enabled", "expected"),
    [
        (
            (True, True),
            {"result": "a", "simple": SLEPT_1, "sub_oneof": {"sub-result": "a", **SLEPT_0}},
        ),
        (
            (False, True),
            {"result": "a", "simple": SLEPT_1, "sub_oneof": {"sub-result": "b", **DISABLED_1}},
        ),
        ((True, False), {"result": "b", **DISABLED_2}),
        ((False, False), {"result": "b", **DISABLED_2}),
    ],
    ids=["both", "only-2", "only-1", "none"],
)
def test_nested_oneof(
    registry: Registry, tmp_path: Path, enabled: tuple[bool, bool], expected: dict[str, Any]
) -> None:
    """TestNestedOneOfWorkflow: a ``!oneof`` inside an option of another (same option ids)."""
    workflow = plan(
        registry,
        tmp_path,
        TWO_TOGGLED_STEPS
        + """
outputs:
  all:
    simple_wait_output: !oneof
      discriminator: "result"
      one_of:
        a:
          simple: !expr $.steps.wait_2.outputs.success
          sub_oneof: !oneof
            discriminator: "sub-result"
            one_of:
              a: !expr $.steps.wait_1.outputs.success
              b: !expr $.steps.wait_1.disabled.output
        b: !expr $.steps.wait_2.disabled.output
""",
    )
    result = run(workflow, {"step_1_enabled": enabled[0], "step_2_enabled": enabled[1]})
    assert ("all", {"simple_wait_output": expected}) == (result.output_id, result.output_data)


@pytest.mark.parametrize(
    ("enabled", "expected"),
    [
        ((True, True), [{"result": "a", **SLEPT_0}, {"result": "a", **SLEPT_1}]),
        ((True, False), [{"result": "a", **SLEPT_0}, {"result": "b", **DISABLED_2}]),
        ((False, True), [{"result": "b", **DISABLED_1}, {"result": "a", **SLEPT_1}]),
        ((False, False), [{"result": "b", **DISABLED_1}, {"result": "b", **DISABLED_2}]),
    ],
    ids=["both", "only-1", "only-2", "none"],
)
def test_oneof_in_list(
    registry: Registry, tmp_path: Path, enabled: tuple[bool, bool], expected: list[Any]
) -> None:
    """TestOneOfInListWorkflow: ``!oneof`` items of a list resolve independently."""
    workflow = plan(
        registry,
        tmp_path,
        TWO_TOGGLED_STEPS
        + """
outputs:
  all:
    simple_wait_output:
      - list_item: !oneof
          discriminator: "result"
          one_of:
            a: !expr $.steps.wait_1.outputs.success
            b: !expr $.steps.wait_1.disabled.output
      - list_item: !oneof
          discriminator: "result"
          one_of:
            a: !expr $.steps.wait_2.outputs.success
            b: !expr $.steps.wait_2.disabled.output
""",
    )
    result = run(workflow, {"step_1_enabled": enabled[0], "step_2_enabled": enabled[1]})
    items = [{"list_item": item} for item in expected]
    assert ("all", {"simple_wait_output": items}) == (result.output_id, result.output_data)


def test_output_failed(tmp_path: Path) -> None:
    """TestOutputFailed: the (deprecated ``output:``) output reads the dummy's error, which
    does not come: no output can be produced (the dummy's error field is ``error`` here)."""
    with_dummy = Registry.from_entry_points()
    workflow = plan(
        with_dummy,
        tmp_path,
        """
version: v0.2.0
input: {root: name, objects: {name: {id: name, properties: {name: {type: {type_id: string}}}}}}
steps:
  say_hi:
    kind: dummy
    name: !expr $.input.name
output:
  thiswillfail: !expr $.steps.say_hi.greet.error.error
""",
    )
    result = run(workflow, {"name": "Arca Lot"})
    with_dummy.close()
    assert (
        "no output can be produced any more: success needs steps.say_hi.greet.error, but "
        "step 'say_hi' ended in stage 'greet' with output 'success': Hello Arca Lot!"
    ) == result.error


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_single_oneof_option(registry: Registry, tmp_path: Path, enabled: bool) -> None:
    """TestSingleOneofOptionWorkflow: a ``!oneof`` whose only option cannot come fails."""
    workflow = plan(
        registry,
        tmp_path,
        f"""
version: v0.2.0
{bool_input("step_enabled")}
steps:
  simple_wait:
    PLUGIN
    step: sleep
    input: {{seconds: 0}}
    enabled: !expr $.input.step_enabled
outputs:
  workflow-success:
    test_object: !oneof
      discriminator: "option"
      one_of:
        test: !expr $.steps.simple_wait.outputs.success
""",
    )
    result = run(workflow, {"step_enabled": enabled})
    if enabled:
        assert {"test_object": {"option": "test", "slept": 0.0}} == result.output_data
    else:
        assert no_more_outputs(result), result.error
