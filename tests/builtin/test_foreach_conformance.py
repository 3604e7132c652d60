"""The foreach provider passes the conformance kit (arcaflow_steps.testing).

A foreach step loads its sub-workflow from the workflow being planned, so the kit runs inside
a current workflow context (as the planner provides it) whose directory holds the files.
"""

from __future__ import annotations

from pathlib import Path

from foreach_support import HELLO_SUB, NAME_INPUT, foreach_registry, write

from arcaflow_steps import Registry
from arcaflow_steps.testing import ConformanceCase, check_conformance
from arcaflow_steps.workflow import WorkflowContext
from arcaflow_steps.workflow._context import workflow_context
from arcaflow_steps_builtin.foreach import ForeachProvider

__all__ = ["foreach_registry"]  # the fixture, imported for pytest

HANG_SUB = (
    "version: v0.2.0\n"
    + NAME_INPUT
    + """
steps:
  wait:
    plugin: {src: "{steps}", deployment_type: python}
    step: hang
    input: {seconds: 60}
outputs:
  success: {slept: !expr $.steps.wait.outputs.success.slept}
"""
)

CASES = [
    ConformanceCase(
        id="success",
        definition={
            "workflow": "hello.yaml",
            "items": [{"name": "a"}, {"name": "b"}],
            "parallelism": 2,
        },
        expected_stage="outputs",
        expected_output_id="success",
    ),
    ConformanceCase(
        id="empty",
        definition={"workflow": "hello.yaml", "items": []},
        expected_stage="outputs",
        expected_output_id="success",
    ),
    ConformanceCase(
        id="failed-item",
        definition={"workflow": "hello.yaml", "items": [{"name": "nobody"}]},
        expected_stage="failed",
        expected_output_id="error",
    ),
    ConformanceCase(
        id="disabled",
        definition={"workflow": "hello.yaml", "enabled": False, "items": [{"name": "a"}]},
        expected_stage="disabled",
        expected_output_id="output",
    ),
    ConformanceCase(
        id="hang",
        definition={"workflow": "hang.yaml", "items": [{"name": "a"}, {"name": "b"}]},
        expected_stage="closed",
        expected_output_id="result",
        close_after=0.5,
    ),
]


def test_foreach_provider_passes_the_conformance_kit(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Every rule of the kit holds for the foreach provider across its stage paths."""
    write(tmp_path, "hello.yaml", HELLO_SUB)
    write(tmp_path, "hang.yaml", HANG_SUB)
    with workflow_context(WorkflowContext(context_dir=tmp_path, registry=foreach_registry)):
        check_conformance(ForeachProvider(), CASES)
