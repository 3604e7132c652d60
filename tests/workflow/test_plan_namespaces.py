"""Namespaces: the objects steps publish, and workflow input refs that reuse them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plan_support import INPUT, expr, greet, hello, model, planning_error, read

import arcaflow_steps_builtin.foreach as foreach_module
import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import Registry
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
from arcaflow_steps_builtin.deployers import _hooks as deployers_module
from arcaflow_steps_builtin.deployers._process import live_connection_count

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


SUB_YAML = """\
version: v0.2.0
input:
  root: Item
  objects:
    Item:
      id: Item
      properties:
        hi: {type: {type_id: ref, id: InputParams, namespace: $.steps.h.starting.inputs.input}}
steps:
  h:
    plugin: {src: "{HELLO}", deployment_type: python}
    input: !expr $.input.hi
outputs:
  success: {m: !expr $.steps.h.outputs.success.message}
"""
PARENT_YAML = """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  loop: {kind: foreach, workflow: sub.yaml, items: [{hi: {name: a}}]}
outputs:
  success: {all: !expr $.steps.loop.outputs.success.data}
"""


@pytest.fixture
def foreach_context(tmp_path: Path) -> Iterator[WorkflowContext]:
    """A context in ``tmp_path`` with the plugin and foreach providers."""
    registry = Registry.from_plugins([plugin_module, deployers_module, foreach_module])
    yield WorkflowContext(context_dir=tmp_path, registry=registry)
    registry.close()
    assert 0 == live_connection_count()


def test_a_reused_object_of_a_sub_workflow_input_is_published_too(
    foreach_context: WorkflowContext,
) -> None:
    """A sub-workflow input property typed through a namespace is published below the
    foreach ``items`` namespace, as the Go engine does (``<namespace>.<property>``)."""
    directory = foreach_context.context_dir
    read(SUB_YAML, directory, "sub.yaml")
    plan = plan_workflow(read(PARENT_YAML, directory), foreach_context)
    items = "$.steps.loop.execute.inputs.items"
    assert [("Item", items), ("InputParams", f"{items}.hi")] == [
        row for row in plan.namespaces() if row[1].startswith(items)
    ]
