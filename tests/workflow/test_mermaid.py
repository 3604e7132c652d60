"""``-debug`` dumps the workflow's graph as a Mermaid flowchart (``workflow/_mermaid.py``)."""

from __future__ import annotations

from pathlib import Path

from cli_support import STEPS, workflow_cli

from arcaflow_steps.workflow import WorkflowContext, plan_workflow, read_workflow
from arcaflow_steps.workflow._mermaid import workflow_mermaid

GREETERS = """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {name: {type: {type_id: string}}}}}}
steps:
  a: {kind: dummy, name: !expr $.input.name}
  b: {kind: dummy, name: !expr $.steps.a.greet.success.message}
outputs:
  success:
    m: !expr $.steps.b.greet.success.message
    e: !wait-optional $.steps.a.greet.error.error
  failed: {m: !soft-optional $.steps.a.greet.error.error}
"""


def test_the_chart_has_lifecycles_and_dependencies_split_by_path(
    tmp_path: Path, dummy_context: WorkflowContext
) -> None:
    (tmp_path / "workflow.yaml").write_text(GREETERS)
    plan = plan_workflow(read_workflow(tmp_path / "workflow.yaml"), dummy_context)
    assert [
        "%% Mermaid markdown workflow",
        "flowchart LR",
        "%% Success path",
        "group0-.->outputs.success",
        "group1-.->outputs.failed",
        "steps.a.greet-->steps.a.greet.success",
        "steps.a.greet.success-->steps.b.greet",
        "steps.b.greet-->steps.b.greet.success",
        "steps.b.greet.success-->outputs.success",
        "%% Error path",
        "steps.a.greet-->steps.a.greet.error",
        "steps.a.greet.error-->group0",
        "steps.a.greet.error-->group1",
        "steps.b.greet-->steps.b.greet.error",
        "%% Mermaid end",
    ] == workflow_mermaid(plan.steps, plan.outputs).splitlines()


def test_debug_prints_the_chart_of_a_plugin_chain_at_the_start(tmp_path: Path) -> None:
    """Lifecycle edges of a real plugin step, as the Go engine dumps them (ours go from
    ``deploy`` to ``enabling``: our lifecycle; every error output is on the error path)."""
    (tmp_path / "workflow.yaml").write_text(
        f"""\
version: v0.2.0
input: {{root: R, objects: {{R: {{id: R, properties: {{}}}}}}}}
steps:
  s0:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: hello
    input: {{name: first}}
  s1:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: hello
    input: {{name: !expr $.steps.s0.outputs.success.message}}
outputs:
  success: {{last: !expr $.steps.s1.outputs.success}}
"""
    )
    completed = workflow_cli("-debug", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    start = "\tdebug\tsource=executor\tStarting workflow execution...\n"
    assert start in completed.stderr
    chart = completed.stderr.split(start, 1)[1].split("%% Mermaid end\n", 1)[0].splitlines()
    success = chart[chart.index("%% Success path") + 1 : chart.index("%% Error path")]
    error = chart[chart.index("%% Error path") + 1 :]
    for step in ("s0", "s1"):
        assert {
            f"steps.{step}.cancelled-->steps.{step}.closed",
            f"steps.{step}.cancelled-->steps.{step}.outputs",
            f"steps.{step}.deploy-->steps.{step}.closed",
            f"steps.{step}.deploy-->steps.{step}.enabling",
            f"steps.{step}.disabled-->steps.{step}.disabled.output",
            f"steps.{step}.enabling-->steps.{step}.closed",
            f"steps.{step}.enabling-->steps.{step}.disabled",
            f"steps.{step}.enabling-->steps.{step}.enabling.resolved",
            f"steps.{step}.enabling-->steps.{step}.starting",
            f"steps.{step}.outputs-->steps.{step}.outputs.success",
            f"steps.{step}.running-->steps.{step}.closed",
            f"steps.{step}.running-->steps.{step}.outputs",
            f"steps.{step}.starting-->steps.{step}.closed",
            f"steps.{step}.starting-->steps.{step}.running",
            f"steps.{step}.starting-->steps.{step}.starting.started",
        } <= set(success)
        assert {
            f"steps.{step}.cancelled-->steps.{step}.crashed",
            f"steps.{step}.crashed-->steps.{step}.crashed.error",
            f"steps.{step}.deploy-->steps.{step}.deploy_failed",
            f"steps.{step}.closed-->steps.{step}.closed.result",
        } <= set(error)
    assert "steps.s0.outputs.success-->steps.s1.starting" in success
    assert "steps.s1.outputs.success-->outputs.success" in success
    assert sorted(success) == success
    assert sorted(error) == error


def test_without_debug_there_is_no_chart(tmp_path: Path) -> None:
    (tmp_path / "workflow.yaml").write_text(GREETERS)
    (tmp_path / "input.yaml").write_text("name: x\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert "Mermaid" not in completed.stderr
