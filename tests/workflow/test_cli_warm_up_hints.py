"""What ``arcaflow-steps workflow`` shows the warm-ups: every step definition, with the
config's defaults, including the steps of the sub-workflows that ``foreach`` steps name, so
the python deployer's fork server starts while the CLI plans a foreach of plugin steps.

Each test definition carries a ``marker`` (its step id): hints are definitions, without ids.
"""

from __future__ import annotations

import os
from pathlib import Path

from arcaflow_steps.cli._workflow import _definitions
from arcaflow_steps.cli._workflow_config import parse_config
from arcaflow_steps.workflow._workflow_file import read_workflow

HEAD = "version: v0.2.0\ninput: {root: R, objects: {R: {id: R, properties: {}}}}\nsteps:\n"
OUTPUTS = "outputs:\n  success: {done: true}\n"


def foreach(step_id: str, workflow: str) -> str:
    return f"  {step_id}:\n    kind: foreach\n    workflow: {workflow}\n    marker: {step_id}\n"


def plugin(step_id: str, src: str) -> str:
    return (
        f"  {step_id}:\n    plugin: {{src: {src}, deployment_type: python}}\n"
        f"    input: {{name: x}}\n    marker: {step_id}\n"
    )


def test_hints_include_nested_sub_workflows_with_the_config_defaults(tmp_path: Path) -> None:
    """Nested foreach files are followed (relative to the context directory, as foreach
    resolves them), each read once; plugin steps get the config's deployer as ``deploy``."""
    (tmp_path / "main.yaml").write_text(
        HEAD + foreach("outer", "middle.yaml") + foreach("again", "./middle.yaml") + OUTPUTS
    )
    (tmp_path / "middle.yaml").write_text(
        HEAD + plugin("m", "middle_plugin") + foreach("inner", "deeper/leaf.yaml") + OUTPUTS
    )
    (tmp_path / "deeper").mkdir()
    (tmp_path / "deeper" / "leaf.yaml").write_text(
        HEAD + plugin("l", "leaf_plugin") + foreach("loop", "main.yaml") + OUTPUTS
    )
    config = parse_config({"deployers": {"python": {"deployer_name": "python"}}})
    hints = _definitions(read_workflow(tmp_path / "main.yaml"), config, tmp_path)
    # main.yaml's steps come once more as loop's sub-workflow; middle.yaml is read once.
    assert ["outer", "again", "m", "inner", "l", "loop", "outer", "again"] == [
        hint["marker"] for hint in hints
    ]
    plugins = [hint for hint in hints if "plugin" in hint]
    assert [{"deployer_name": "python"}] * 2 == [hint["deploy"] for hint in plugins]


def test_unreadable_sub_workflows_add_no_hints(tmp_path: Path) -> None:
    """A missing file, a directory, a file that is not a workflow, a FIFO (which only the
    planner may read) and a ``workflow`` that is no path add nothing and raise nothing:
    planning reports them."""
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "broken.yaml").write_text("steps: [unclosed\n")
    names = ("missing.yaml", "folder.yaml", "broken.yaml", "pipe.yaml", "[not, a, path]")
    (tmp_path / "main.yaml").write_text(
        HEAD + "".join(foreach(f"s{index}", name) for index, name in enumerate(names)) + OUTPUTS
    )
    hints = _definitions(read_workflow(tmp_path / "main.yaml"), parse_config(None), tmp_path)
    assert ["s0", "s1", "s2", "s3", "s4"] == [hint["marker"] for hint in hints]
