"""Planning a workflow: steps split and loaded, the type of ``$``, outputs, namespaces, input.

Models are built from records here (the YAML loader is tested on its own); dummy steps for the
planner's logic, real SDK plugins (python deployer) where a schema probe matters.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from plan_support import (
    HELLO,
    INPUT,
    STEPS,
    expr,
    greet,
    model,
    planning_error,
)

from arcaflow_steps import Registry, hookimpl
from arcaflow_steps.schema import (
    ObjectSchema,
    PropertySchema,
    StepOutputSchema,
    StringSchema,
    object_scope,
)
from arcaflow_steps.workflow import (
    WorkflowContext,
    WorkflowInputError,
    WorkflowPlan,
    current_workflow_context,
    plan_workflow,
)
from arcaflow_steps_builtin.dummy import DummyConfig, DummyProvider


def test_literal_stages_are_validated_and_expression_stages_deferred(
    dummy_context: WorkflowContext,
) -> None:
    """A stage without expressions is validated like a step of ``run``; a stage with one is
    left to the executor, all its given fields together."""
    name = expr("$.steps.a.greet.success.message")
    plan = plan_workflow(model({"a": greet(), "b": greet(name, nickname="Bee")}), dummy_context)
    assert ["a", "b"] == list(plan.steps)
    a, b = plan.steps["a"], plan.steps["b"]
    assert ("a", "dummy", "steps.a") == (a.step_id, a.kind, a.path)
    assert {"greet": {"name": "Arca"}} == a.prepared.stage_inputs
    assert {} == a.deferred_inputs
    assert {} == b.prepared.stage_inputs
    assert {"greet": {"name": name, "nickname": "Bee"}} == b.deferred_inputs
    assert dummy_context is plan.context


def test_root_type_names_input_steps_stages_and_outputs(dummy_context: WorkflowContext) -> None:
    """``$`` is {input, steps}; a step lists its stages with outputs, a stage its output ids
    (each the output's scope, none required)."""
    plan = plan_workflow(model({"a": greet(), "b": greet()}), dummy_context)
    root = plan.root_type
    assert ["input", "steps"] == list(root.properties)
    assert INPUT is root.properties["input"].type
    steps = root.properties["steps"].type
    assert isinstance(steps, ObjectSchema)
    assert ["a", "b"] == list(steps.properties)
    step = steps.properties["a"].type
    assert isinstance(step, ObjectSchema)
    assert ["greet"] == list(step.properties)
    stage = step.properties["greet"].type
    assert isinstance(stage, ObjectSchema)
    lifecycle = plan.steps["a"].prepared.lifecycle
    assert {
        output_id: (output.schema, False)
        for output_id, output in lifecycle.stage("greet").outputs.items()
    } == {output_id: (prop.type, prop.required) for output_id, prop in stage.properties.items()}


def test_steps_of_one_lifecycle_share_one_step_type(dummy_context: WorkflowContext) -> None:
    """1,000 steps of one provider configuration share the work: one runnable, one lifecycle,
    one step type object."""
    steps = {f"s{index}": greet() for index in range(1000)}
    plan = plan_workflow(model(steps), dummy_context)
    steps_type = plan.root_type.properties["steps"].type
    assert isinstance(steps_type, ObjectSchema)
    assert 1 == len({id(prop.type) for prop in steps_type.properties.values()})
    assert 1 == len({id(step.prepared.runnable) for step in plan.steps.values()})


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        pytest.param(
            {"kind": "dumy", "name": "x"},
            "workflow.yaml: steps.a.kind: unknown provider kind 'dumy' in step 'a'; "
            "valid kinds: 'dummy'",
            id="unknown-kind",
        ),
        pytest.param(
            {"kind": expr("$.input.kind"), "name": "x"},
            "workflow.yaml: steps.a: 'kind' must be a literal string, got an expression",
            id="kind-expression",
        ),
        pytest.param(
            {"kind": "dummy", "name": "x", "nmae": "y"},
            "workflow.yaml: steps.a: unknown key 'nmae' in step 'a' of kind 'dummy'; "
            "valid keys: 'dummy', 'kind', 'name', 'nickname', 'step'",
            id="unknown-key",
        ),
        pytest.param(
            {"kind": "dummy", "name": "x", "dummy": {"greeting": expr("$.input.name")}},
            "workflow.yaml: steps.a.dummy: the provider keyword 'dummy' of kind 'dummy' must "
            "be a literal value, not an expression",
            id="provider-keyword-expression",
        ),
        pytest.param(
            {"kind": "dummy", "name": "x", "step": expr("$.input.name")},
            "workflow.yaml: steps.a.step: the run keyword 'step' of kind 'dummy' must be a "
            "literal value, not an expression",
            id="run-keyword-expression",
        ),
        pytest.param(
            {"kind": "dummy", "name": ""},
            "workflow.yaml: steps.a.name: expected at least 1 character, got 0",
            id="literal-stage-invalid",
        ),
        pytest.param(
            {"kind": "dummy", "name": 5.5, "nickname": ""},
            "workflow.yaml: steps.a: 2 problems:\n"
            "  steps.a.name: expected a string, got 5.5\n"
            "  steps.a.nickname: expected at least 1 character, got 0",
            id="literal-stage-two-problems",
        ),
        pytest.param(
            {"kind": "dummy"},
            "workflow.yaml: steps.a: missing required field 'name'",
            id="literal-stage-missing-field",
        ),
        pytest.param(
            {"kind": "dummy", "name": "x", "step": "wave"},
            "workflow.yaml: steps.a.step: expected one of 'greet', got 'wave'",
            id="run-keyword-invalid",
        ),
    ],
)
def test_step_problems_name_their_place(
    dummy_context: WorkflowContext, definition: dict[str, Any], expected: str
) -> None:
    """Every problem of a step definition is an InvalidWorkflowError with its path."""
    assert expected == planning_error(model({"a": definition}), dummy_context)


def test_first_problem_in_file_order_is_reported(dummy_context: WorkflowContext) -> None:
    """Of several broken steps the first in the file is reported, whatever loads first."""
    steps = {
        "ok": greet(),
        "first": {"kind": "dummy", "name": "x", "dummy": {"greeting": ""}},
        "second": {"kind": "nope"},
    }
    assert (
        "workflow.yaml: steps.first.dummy.greeting: expected at least 1 "
        "character, got 0" == planning_error(model(steps), dummy_context)
    )


def test_host_defaults_are_applied_before_planning(dummy_context: WorkflowContext) -> None:
    """``step_defaults`` sees each raw definition with its kind and may fill in keys."""
    seen: list[tuple[str, str]] = []

    def defaults(step_id: str, kind: str, definition: Mapping[str, Any]) -> Mapping[str, Any]:
        seen.append((step_id, kind))
        return {"dummy": {"greeting": "Hi"}, **definition}

    context = WorkflowContext(
        context_dir=Path("."), registry=dummy_context.registry, step_defaults=defaults
    )
    plan = plan_workflow(model({"a": greet(), "b": greet()}), context)
    assert [("a", "dummy"), ("b", "dummy")] == seen
    assert {"dummy": {"greeting": "Hi"}} == plan.steps["b"].prepared.provider_input


class _ProbeProvider(DummyProvider):
    """A dummy whose ``load_schema`` records the current workflow context and waits until
    ``parties`` loads are under way at once (so serial loading would time out)."""

    kind = "probe"

    def __init__(self, barrier: threading.Barrier, seen: list[Any]) -> None:
        self.barrier = barrier
        self.seen = seen

    def load_schema(self, provider_input: DummyConfig) -> Any:
        self.seen.append(current_workflow_context())
        self.barrier.wait()
        return super().load_schema(provider_input)


class _ProbePlugin:
    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=20)
        self.seen: list[Any] = []

    @hookimpl
    def arcaflow_steps_providers(self) -> list[Any]:
        return [_ProbeProvider(self.barrier, self.seen)]


def test_distinct_runnables_load_concurrently_in_the_context() -> None:
    """Steps configuring the provider differently load side by side (a plugin probe each),
    steps configured alike load once, and the workflow's context is current meanwhile."""
    probe = _ProbePlugin(parties=4)
    context = WorkflowContext(context_dir=Path("."), registry=Registry.from_plugins([probe]))
    steps = {
        f"s{index}": {"kind": "probe", "name": "x", "dummy": {"greeting": f"Hi{index % 4}"}}
        for index in range(12)
    }
    outputs = {"success": {"m": expr("$.steps.s0.greet.success.message")}}
    plan_workflow(model(steps, outputs), context)
    assert [context] * 4 == probe.seen
    assert current_workflow_context() is None


def test_plans_do_not_share_runnables(dummy_context: WorkflowContext) -> None:
    """Each planning call loads its own runnables (a provider keyword may be relative to the
    context, as foreach's is)."""
    workflow = model({"a": greet()})
    first = plan_workflow(workflow, dummy_context)
    second = plan_workflow(workflow, dummy_context)
    assert first.steps["a"].prepared.runnable is not second.steps["a"].prepared.runnable


def test_validate_input_applies_defaults_and_lists_every_problem(
    dummy_context: WorkflowContext,
) -> None:
    """The input is validated against the input scope: defaults applied, every problem with
    its ``$.input`` path in one WorkflowInputError."""
    plan = plan_workflow(model({"a": greet()}), dummy_context)
    assert {"name": "Arca", "count": 3} == plan.validate_input({"name": "Arca"})
    # Converted as a plugin converts its input (docs/schema-differences.md).
    assert {"name": "5", "count": 3} == plan.validate_input({"name": 5, "count": " 3"})
    with pytest.raises(WorkflowInputError) as excinfo:
        plan.validate_input({"name": 5.5, "count": "x", "extra": 1})
    assert (
        "invalid workflow input: unknown field 'extra'; valid fields: 'count', 'name' @ "
        "$.input; expected a string, got 5.5 @ $.input.name; expected an integer, got 'x' @ "
        "$.input.count"
    ) == str(excinfo.value)


def test_namespaces_list_every_output_object_sorted(dummy_context: WorkflowContext) -> None:
    """Every stage output publishes its objects; rows sort by namespace, then object id."""
    plan = plan_workflow(model({"b": greet(), "a": greet()}), dummy_context)
    assert (
        ("GreetingError", "$.steps.a.greet.outputs.error"),
        ("GreetingOutput", "$.steps.a.greet.outputs.success"),
        ("GreetingError", "$.steps.b.greet.outputs.error"),
        ("GreetingOutput", "$.steps.b.greet.outputs.success"),
    ) == plan.namespaces()


def test_output_schema_needs_an_entry_per_output(dummy_context: WorkflowContext) -> None:
    """With ``outputSchema`` every output id needs an entry, which gives its schema and error
    flag whatever the id."""
    scope = object_scope("Out", m=PropertySchema(type=StringSchema(), required=True))
    given = {"success": StepOutputSchema(schema=scope, error=True)}
    outputs = {"success": {"m": "x"}, "other": {"m": "y"}}
    assert (
        "workflow.yaml: outputSchema: no entry for output 'other' in outputSchema; entries: "
        "'success'"
        == planning_error(model({"a": greet()}, outputs, output_schema=given), dummy_context)
    )
    plan = plan_workflow(
        model({"a": greet()}, {"success": {"m": "x"}}, output_schema=given), dummy_context
    )
    assert given["success"] is plan.outputs["success"].schema
    assert ("success", "outputs.success") == (
        plan.outputs["success"].output_id,
        plan.outputs["success"].path,
    )


def test_plugin_steps_probe_once_and_publish_go_namespaces(plugin_context: WorkflowContext) -> None:
    """Real plugins: each distinct plugin is probed for its schema, and the namespaces are the
    Go engine's (reference §1.8) for the plugin stages."""
    hello = {"plugin": {"src": HELLO, "deployment_type": "python"}, "input": {"name": "x"}}
    again = {**hello, "input": {"name": expr("$.steps.h.outputs.success.message")}}
    steps = {
        "h": hello,
        "h2": again,
        "g": {**hello, "plugin": {"src": STEPS, "deployment_type": "python"}, "step": "hello"},
    }
    outputs = {"success": {"m": expr("$.steps.h2.outputs.success.message")}}
    plan = plan_workflow(model(steps, outputs), plugin_context)
    assert isinstance(plan, WorkflowPlan)
    assert plan.steps["h"].prepared.runnable is plan.steps["h2"].prepared.runnable
    rows = [row for row in plan.namespaces() if row[1].startswith("$.steps.h.")]
    assert [
        ("ClosedInfo", "$.steps.h.closed.outputs.result"),
        ("Crashed", "$.steps.h.crashed.outputs.error"),
        ("DeployError", "$.steps.h.deploy_failed.outputs.error"),
        ("DisabledMessageOutput", "$.steps.h.disabled.outputs.output"),
        ("EnabledOutput", "$.steps.h.enabling.outputs.resolved"),
        ("ErrorOutput", "$.steps.h.outputs.outputs.error"),
        ("SuccessOutput", "$.steps.h.outputs.outputs.success"),
        ("InputParams", "$.steps.h.starting.inputs.input"),
        ("StartedOutput", "$.steps.h.starting.outputs.started"),
    ] == rows


def test_plugin_with_several_steps_needs_the_run_keyword(plugin_context: WorkflowContext) -> None:
    """A plugin with several steps and no ``step:`` is an error naming the steps."""
    steps = {"p": {"plugin": {"src": STEPS, "deployment_type": "python"}, "input": {}}}
    message = planning_error(model(steps, {"success": {"a": 1}}), plugin_context)
    assert message.startswith(
        "workflow.yaml: steps.p: missing required field 'step'; valid values: 'cancellable', "
    ), message
