"""Namespaces: the objects steps publish, and workflow input refs that reuse them."""

from __future__ import annotations

from typing import Any

import pytest
from plan_support import INPUT, expr, greet, hello, model, planning_error

from arcaflow_steps.schema import (
    ListSchema,
    ObjectSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    parse_scope,
    serialize_scope,
)
from arcaflow_steps.workflow import WorkflowContext, WorkflowInputError, plan_workflow

GREETING = "$.steps.a.greet.outputs.success"


def with_input(**properties: PropertySchema) -> ScopeSchema:
    """Return the test input scope with more properties on its root object."""
    root = INPUT.objects["In"]
    return ScopeSchema(
        root="In",
        objects={
            "In": ObjectSchema(id="In", properties={**root.properties, **properties}),
        },
    )


def namespaced(object_id: str, namespace: str) -> RefSchema:
    """Return ``{type_id: ref, id: object_id, namespace: namespace}``."""
    return RefSchema(id=object_id, namespace=namespace)


def test_a_namespaced_ref_reads_and_writes_the_serialized_form() -> None:
    """``namespace`` of a ref is read, kept and written back; the ref need not name an object
    of its own scope (the planner resolves it)."""
    form: dict[str, Any] = {
        "root": "In",
        "objects": {
            "In": {
                "id": "In",
                "properties": {
                    "g": {
                        "type": {"type_id": "ref", "id": "X", "namespace": GREETING},
                        "required": True,
                    },
                },
            }
        },
    }
    scope = parse_scope(form)
    assert namespaced("X", GREETING) == scope.objects["In"].properties["g"].type
    assert form == serialize_scope(scope)


def test_input_refs_resolve_to_the_published_objects(dummy_context: WorkflowContext) -> None:
    """A ref into a namespace becomes a view of the step's scope rooted at the object: input
    data is validated against it, in lists too."""
    workflow = model(
        {"a": greet()},
        input=with_input(
            greeting=PropertySchema(type=namespaced("GreetingOutput", GREETING), required=True),
            more=PropertySchema(type=ListSchema(items=namespaced("GreetingOutput", GREETING))),
        ),
    )
    plan = plan_workflow(workflow, dummy_context)
    published = plan.steps["a"].prepared.lifecycle.stage("greet").outputs["success"].schema
    greeting = plan.input_schema.objects["In"].properties["greeting"].type
    assert ScopeSchema(root="GreetingOutput", objects=published.objects) == greeting
    assert workflow.input is plan.model.input
    data = {"name": "x", "greeting": {"message": "hi"}, "more": [{"message": "ho"}]}
    assert {**data, "count": 3} == plan.validate_input(data)
    with pytest.raises(WorkflowInputError) as excinfo:
        plan.validate_input({"name": "x", "greeting": {}, "more": [{"message": [1]}]})
    assert (
        "invalid workflow input: missing required field 'message' @ $.input.greeting; "
        "expected a string, got a list @ $.input.more[0].message"
    ) == str(excinfo.value)


def test_input_without_namespaced_refs_is_kept_as_is(dummy_context: WorkflowContext) -> None:
    """Nothing is rebuilt when no ref names a namespace."""
    plan = plan_workflow(model({"a": greet()}), dummy_context)
    assert INPUT is plan.input_schema


def test_unknown_namespace_lists_every_namespace(dummy_context: WorkflowContext) -> None:
    """An unknown namespace is an error listing the namespaces with their objects."""
    workflow = model(
        {"a": greet()},
        input=with_input(g=PropertySchema(type=namespaced("X", "$.steps.a.nope"))),
    )
    assert (
        "workflow.yaml: input.objects.In.properties.g.type.namespace: unknown namespace "
        "'$.steps.a.nope'; namespaces and their objects:\n"
        "  $.steps.a.greet.outputs.error: GreetingError\n"
        "  $.steps.a.greet.outputs.success: GreetingOutput"
    ) == planning_error(workflow, dummy_context)


def test_unknown_object_of_a_namespace_is_an_error(dummy_context: WorkflowContext) -> None:
    """A known namespace without the object is an error listing its objects (Go panics)."""
    workflow = model(
        {"a": greet()},
        input=with_input(g=PropertySchema(type=ListSchema(items=namespaced("Nope", GREETING)))),
    )
    assert (
        "workflow.yaml: input.objects.In.properties.g.type.items.id: namespace "
        "'$.steps.a.greet.outputs.success' has no object 'Nope'; objects: 'GreetingOutput'"
    ) == planning_error(workflow, dummy_context)


def test_plugin_input_object_is_reusable(plugin_context: WorkflowContext) -> None:
    """The Go engine's way to pass a whole input object: an input property that is the
    plugin's own input object, given with one expression."""
    namespace = "$.steps.h.starting.inputs.input"
    workflow = model(
        {"h": {**hello(), "input": expr("$.input.hi")}},
        {"success": {"m": expr("$.steps.h.outputs.success.message")}},
        input=with_input(hi=PropertySchema(type=namespaced("InputParams", namespace))),
    )
    plan = plan_workflow(workflow, plugin_context)
    assert {"name": "x", "count": 3, "hi": {"name": "Arca"}} == plan.validate_input(
        {"name": "x", "hi": {"name": "Arca"}}
    )
