"""Static types in the plan: expressions typed against ``$``, deferred stage fields checked
against their schemas, outputs inferred."""

from __future__ import annotations

import pytest
from plan_support import expr, greet, hello, model, planning_error

from arcaflow_steps.schema import (
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)
from arcaflow_steps.workflow import WorkflowContext, plan_workflow
from arcaflow_steps.workflow._template import OneOf, Template


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        pytest.param(
            greet(expr("$.steps.a.greet.success.nme")),
            "steps.b.name: $.steps.a.greet.success: no field 'nme'; fields: message (in "
            "expression '$.steps.a.greet.success.nme')",
            id="no-field",
        ),
        pytest.param(
            greet(expr("$.input.count > 1")),
            "steps.b.name: expected a string, got a boolean (from expression '$.input.count > 1')",
            id="not-assignable",
        ),
        pytest.param(
            greet([expr("$.input.name")]),
            "steps.b.name: expected a string, got a list of strings",
            id="compound-not-assignable",
        ),
        pytest.param(
            greet(expr("$.input.count + 'x'")),
            "steps.b.name: left (integer) and right (string) types do not match for binary "
            "expression '$.input.count + \"x\"' (in expression \"$.input.count + 'x'\")",
            id="operands",
        ),
        pytest.param(
            greet(expr("$.input.name"), nickname=""),
            "steps.b.nickname: expected at least 1 character, got 0",
            id="literal-field-of-a-deferred-stage",
        ),
        pytest.param(
            {"kind": "dummy", "nickname": expr("$.input.name")},
            "steps.b: missing required field 'name'",
            id="required-field-missing",
        ),
    ],
)
def test_deferred_stage_fields_are_typed(
    dummy_context: WorkflowContext, b: dict[str, Template], expected: str
) -> None:
    """Each expression types against ``$``, each field fits the stage's input schema, and
    required fields are given: every problem with its path."""
    workflow = model({"a": greet(), "b": b})
    assert f"workflow.yaml: {expected}" == planning_error(workflow, dummy_context)


def test_fitting_fields_plan(dummy_context: WorkflowContext) -> None:
    """An integer fits a string field (the SDKs convert it), a string a string."""
    workflow = model(
        {
            "a": greet(),
            "b": greet(expr("$.steps.a.greet.success.message"), nickname=expr("$.input.count")),
        }
    )
    assert ["a", "b"] == list(plan_workflow(workflow, dummy_context).steps)


def test_plugin_input_object_must_fit(plugin_context: WorkflowContext) -> None:
    """A whole plugin input given by one expression must be an object that fits."""
    workflow = model({"h": {**hello(), "input": expr("$.input.name")}}, {"success": {"m": 1}})
    assert (
        "workflow.yaml: steps.h.input: expected object 'InputParams', got a string (from "
        "expression '$.input.name')" == planning_error(workflow, plugin_context)
    )
    workflow = model({"h": hello(expr("$.input.count > 1"))}, {"success": {"m": 1}})
    assert (
        "workflow.yaml: steps.h.input.name: expected a string, got a boolean (from expression "
        "'$.input.count > 1')" == planning_error(workflow, plugin_context)
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(expr("$.input.name"), "string", id="expression"),
        pytest.param("x", "string", id="literal"),
        pytest.param([1], "list", id="list"),
        pytest.param(
            OneOf(discriminator="r", options=(("a", expr("$.steps.a.greet.success")),), path=""),
            "one_of_string",
            id="oneof",
        ),
    ],
)
def test_an_output_must_be_an_object(
    dummy_context: WorkflowContext, template: Template, expected: str
) -> None:
    """An output that is not an object is refused, as by the Go engine (which says so for a
    ``!oneof`` / ``!ordisabled`` output too)."""
    workflow = model({"a": greet()}, {"success": template})
    assert f"workflow.yaml: outputs.success: must be an object, got {expected}" == planning_error(
        workflow, dummy_context
    )


def test_output_schemas_are_inferred_and_error_iff_named_error(
    dummy_context: WorkflowContext,
) -> None:
    """An expression naming a stage output gives that output's scope; a mapping its keys; the
    output ``error`` is the error output."""
    workflow = model(
        {"a": greet()},
        {
            "success": expr("$.steps.a.greet.success"),
            "error": {"why": expr("$.steps.a.greet.error.error")},
        },
    )
    plan = plan_workflow(workflow, dummy_context)
    success, error = plan.outputs["success"], plan.outputs["error"]
    lifecycle = plan.steps["a"].prepared.lifecycle
    assert lifecycle.stage("greet").outputs["success"].schema == success.schema.schema
    assert (False, True) == (success.schema.error, error.schema.error)
    why = error.schema.schema.root_object.properties["why"]
    assert (StringSchema(), True) == (why.type, why.required)


def test_output_schema_given_is_used_as_is(dummy_context: WorkflowContext) -> None:
    """With ``outputSchema`` the given schema and error flag are used, but the expressions
    are still typed."""
    scope = ScopeSchema(
        root="Out",
        objects={
            "Out": ObjectSchema(
                id="Out", properties={"m": PropertySchema(type=StringSchema(), required=True)}
            )
        },
    )
    given = {"done": StepOutputSchema(schema=scope, error=True)}
    workflow = model({"a": greet()}, {"done": {"m": expr("$.input.count")}}, output_schema=given)
    assert given["done"] is plan_workflow(workflow, dummy_context).outputs["done"].schema
    workflow = model({"a": greet()}, {"done": {"m": expr("$.input.nope")}}, output_schema=given)
    assert (
        "workflow.yaml: outputs.done.m: $.input: no field 'nope'; fields: count, name (in "
        "expression '$.input.nope')"
    ) == planning_error(workflow, dummy_context)
