"""Planning workflow files as users write them (YAML with the engine tags), real plugins."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_support import read

from arcaflow_steps.workflow import InvalidWorkflowError, WorkflowContext, plan_workflow

#: reference/workflow.md's hello.yaml, with the test plugin.
HELLO_YAML = """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {name: {type: {type_id: string}}}}}}
steps:
  h:
    plugin: {src: "{HELLO}", deployment_type: python}
    input: {name: !expr $.input.name}
outputs:
  success: {msg: !expr $.steps.h.outputs.success.message}
"""


def test_the_reference_hello_workflow_plans(plugin_context: WorkflowContext) -> None:
    """The reference's hello.yaml plans: ``starting`` is deferred (it reads ``$.input``), the
    other stages are literal."""
    plan = plan_workflow(read(HELLO_YAML, plugin_context.context_dir), plugin_context)
    step = plan.steps["h"]
    assert ["starting"] == list(step.deferred_inputs)
    assert ["input"] == list(step.deferred_inputs["starting"])
    assert "starting" not in step.prepared.stage_inputs
    assert ["success"] == list(plan.outputs)


def test_errors_name_the_file_and_the_key_path(plugin_context: WorkflowContext) -> None:
    """A planning error names the workflow file as read and the key path in it."""
    text = HELLO_YAML.replace("$.steps.h.outputs.success.message", "$.steps.h.outputs.sucess")
    workflow = read(text, plugin_context.context_dir, "wf.yaml")
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan_workflow(workflow, plugin_context)
    source = str(Path(plugin_context.context_dir) / "wf.yaml")
    assert (
        f"{source}: outputs.success.msg: $.steps.h.outputs: no output 'sucess'; outputs: "
        "error, success (in expression '$.steps.h.outputs.sucess') (line 8, column 13)"
    ) == str(excinfo.value)
    assert ("outputs.success.msg", source) == (excinfo.value.path, excinfo.value.source)
