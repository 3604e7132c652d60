"""YAML 1.2 literals of a workflow file and its input file reach a real plugin typed.

The Go engine hands a plugin the text of every scalar (``"5"``, ``"true"``, reference §4.2)
and ``yes``/``on``/``1:30`` would be booleans and integers under YAML 1.1: here a workflow file
read by :func:`read_workflow` and an input file read by ``load_data_yaml`` give the plugin
``tests/plugins/plugin_steps.py``'s ``echo`` step (python deployer) the YAML 1.2 values, and
``echo`` reports the Python types it received.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arcaflow_steps.workflow import WorkflowContext, plan_workflow, read_workflow
from arcaflow_steps.workflow._yaml import load_data_yaml

PLUGIN_STEPS = Path(__file__).resolve().parents[1] / "plugins" / "plugin_steps.py"

pytestmark = pytest.mark.slow

WORKFLOW = f"""\
version: v0.2.0
input:
  root: In
  objects:
    In:
      id: In
      properties:
        label: {{type: {{type_id: string}}}}
        count: {{type: {{type_id: integer}}}}
steps:
  echo:
    plugin: {{src: "{PLUGIN_STEPS}", deployment_type: python}}
    step: echo
    input:
      count: !expr $.input.count
      ratio: 1e-1
      flag: true
      tags: [yes, on, "1:30", 1:30, 2024-01-01, 0b1, 1_000]
      inner: {{label: !expr $.input.label, weight: .5}}
      scores: {{hex: 0x10, octal: 0o17, plain: 007}}
      default_flag: false
outputs:
  success:
    echoed: !expr $.steps.echo.outputs.success
"""


def test_literals_and_input_reach_the_plugin_typed(
    plugin_context: WorkflowContext, tmp_path: Path
) -> None:
    """Every literal keeps its YAML 1.2 type on the way to the plugin, and so does the input
    file's data: ``yes``, ``on``, ``1:30`` and dates are strings, ``0x10`` an int."""
    path = tmp_path / "workflow.yaml"
    path.write_text(WORKFLOW)
    plan = plan_workflow(read_workflow(path), plugin_context)
    input_data = load_data_yaml("label: off\ncount: 0x10\n", "input.yaml")
    result = plan.run(input_data, timeout=60)
    assert (None, "success") == (result.error, result.output_id)
    echoed = result.output_data["echoed"]
    assert {
        "count": 16,
        "ratio": 0.1,
        "flag": True,
        "tags": ["yes", "on", "1:30", "1:30", "2024-01-01", "0b1", "1_000"],
        "inner": {"label": "off", "weight": 0.5},
        "scores": {"hex": 16, "octal": 15, "plain": 7},
        "default_flag": False,
    } == {
        key: echoed[key]
        for key in ("count", "ratio", "flag", "tags", "inner", "scores", "default_flag")
    }
    assert {"count": "int", "ratio": "float", "flag": "bool", "default_flag": "bool"} == {
        key: echoed["types"][key] for key in ("count", "ratio", "flag", "default_flag")
    }
