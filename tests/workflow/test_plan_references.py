"""What expressions may read, and the cycle check over the step stages they wait for."""

from __future__ import annotations

import pytest
from plan_support import expr, greet, hello, model, planning_error

from arcaflow_steps.workflow import WorkflowContext, plan_workflow
from arcaflow_steps.workflow._template import OneOf, WaitOptional


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("$", "$ alone cannot be read; fields: input, steps", id="root"),
        pytest.param("$.nope", "$: no field 'nope'; fields: input, steps", id="root-field"),
        pytest.param(
            "$.steps",
            "a step dependency must name a stage output: $.steps.<id>.<stage>[.<output>]",
            id="steps",
        ),
        pytest.param(
            "$.steps[$.input.name].greet",
            "a step dependency must name a stage output: $.steps.<id>.<stage>[.<output>]",
            id="computed-step",
        ),
        pytest.param("$.steps.x.greet", "$.steps: no step 'x'; steps: a, b", id="step"),
        pytest.param(
            "$.steps.a",
            "a step dependency must name a stage output: $.steps.a.<stage>[.<output>]; "
            "stages: greet",
            id="step-alone",
        ),
        pytest.param(
            "$.steps.a.running.x",
            "$.steps.a: no stage 'running' with outputs; stages: greet",
            id="stage",
        ),
        pytest.param(
            "toLower($.steps.a.greet.nope.message)",
            "$.steps.a.greet: no output 'nope'; outputs: error, success",
            id="output-in-call",
        ),
    ],
)
def test_paths_must_name_input_or_a_stage_output(
    dummy_context: WorkflowContext, text: str, expected: str
) -> None:
    """Every path an expression reads names ``$.input…`` or a declared stage output; the
    error gives the expression and where it is written."""
    workflow = model({"a": greet(), "b": greet(expr(text))})
    assert f"workflow.yaml: steps.b.name: {expected} (in expression {text!r})" == planning_error(
        workflow, dummy_context
    )


def test_error_names_the_place_inside_a_template(dummy_context: WorkflowContext) -> None:
    """Inside maps, lists and ``!oneof`` options the path goes down to the expression."""
    option = OneOf(
        discriminator="result",
        options=(("ok", {"m": expr("$.steps.a.greet.success")}), ("no", expr("$.steps.z.x"))),
        path="",
    )
    outputs = {"success": {"list": [1, {"deep": WaitOptional(expr("$.input.name"))}, option]}}
    assert (
        "workflow.yaml: outputs.success.list[2].one_of.no: $.steps: no step 'z'; steps: a "
        "(in expression '$.steps.z.x')"
        == planning_error(model({"a": greet()}, outputs), dummy_context)
    )


def test_bracket_access_and_input_paths_are_fine(dummy_context: WorkflowContext) -> None:
    """``$.steps["a"]`` names step ``a``; ``$.input…`` needs no step."""
    workflow = model(
        {
            "a": greet(expr("$.input.name")),
            "b": greet(expr('$.steps["a"].greet.success.message'), nickname=expr("$.input.name")),
        }
    )
    plan = plan_workflow(workflow, dummy_context)
    assert {"name", "nickname"} == set(plan.steps["b"].deferred_inputs["greet"])


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            {"a": greet(), "b": greet(expr("$.steps.b.greet.success.message"))},
            "steps.b: dependency cycle: steps.b.greet -> steps.b.greet",
            id="self",
        ),
        pytest.param(
            {
                "a": greet(expr("$.steps.c.greet.success.message")),
                "b": greet(expr("$.steps.a.greet.success.message")),
                "c": greet(nickname=expr("$.steps.b.greet.error.error")),
            },
            "steps.a: dependency cycle: steps.a.greet -> steps.c.greet -> steps.b.greet -> "
            "steps.a.greet",
            id="three-steps",
        ),
        pytest.param(
            {
                "ok": greet(),
                "x": greet(expr("$.steps.ok.greet.success.message")),
                "y": greet(expr("$.steps.z.greet.success.message")),
                "z": greet(expr("$.steps.y.greet.success.message")),
            },
            "steps.y: dependency cycle: steps.y.greet -> steps.z.greet -> steps.y.greet",
            id="beside-a-chain",
        ),
    ],
)
def test_cycles_are_reported_as_a_chain(
    dummy_context: WorkflowContext, steps: dict[str, dict[str, object]], expected: str
) -> None:
    """A stage that waits for itself, directly or through other steps, is an error that shows
    the chain of waits."""
    outputs = {"success": {"m": "done"}}
    assert f"workflow.yaml: {expected}" == planning_error(model(steps, outputs), dummy_context)


def test_a_chain_is_no_cycle(dummy_context: WorkflowContext) -> None:
    """Each step reading the one before is fine, in any file order."""
    steps = {
        "c": greet(expr("$.steps.b.greet.success.message")),
        "a": greet(),
        "b": greet(expr("$.steps.a.greet.success.message")),
    }
    plan = plan_workflow(model(steps), dummy_context)
    assert ["c", "a", "b"] == list(plan.steps)


def test_plugin_cycles_go_through_the_lifecycle(plugin_context: WorkflowContext) -> None:
    """Plugin steps: a stage waits for the stages before it, so ``a``'s input reading ``b``'s
    outputs and ``b``'s reading ``a``'s is a cycle, shown where it enters and leaves each step;
    ``enabled`` reading the step's own outputs is one too."""
    steps = {
        "a": hello(expr("$.steps.b.outputs.success.message")),
        "b": hello(expr("$.steps.a.outputs.success.message")),
    }
    assert (
        "workflow.yaml: steps.a: dependency cycle: steps.a.starting -> steps.b.outputs -> "
        "steps.b.starting -> steps.a.outputs -> steps.a.starting"
    ) == planning_error(model(steps, {"success": {"m": 1}}), plugin_context)
    steps = {"a": hello(enabled=expr("$.steps.a.outputs.success.message == 'x'"))}
    assert (
        "workflow.yaml: steps.a: dependency cycle: steps.a.enabling -> steps.a.outputs -> "
        "steps.a.enabling"
    ) == planning_error(model(steps, {"success": {"m": 1}}), plugin_context)


def test_stop_if_holds_up_no_stage(plugin_context: WorkflowContext) -> None:
    """``stop_if`` feeds the input-only ``cancelled`` stage, which no stage waits for: reading
    another step that reads this one is no cycle."""
    steps = {
        "a": hello(stop_if=expr("$.steps.b.outputs.success.message == 'stop'")),
        "b": hello(expr("$.steps.a.outputs.success.message")),
    }
    plan = plan_workflow(model(steps, {"success": {"m": 1}}), plugin_context)
    assert ["cancelled"] == list(plan.steps["a"].deferred_inputs)
