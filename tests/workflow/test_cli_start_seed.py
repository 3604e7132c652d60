"""The workflow command's plugin zygote is its start-up seed (``arcaflow_steps._start_seed``):
a fork of the CLI from before its imports, so plugin processes do not carry them; and no seed
outlives a run, whether a warm-up claimed it or not."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from cli_support import PLUGINS, workflow_cli

FACTS = str(PLUGINS / "plugin_import_facts.py")


def write_workflow(tmp_path: Path, modules: list[str], deploy: dict[str, Any] | None) -> None:
    steps = {
        f"s{index}": {
            "plugin": {"src": FACTS, "deployment_type": "python"},
            "step": "facts",
            "input": {"module": module},
            **({"deploy": deploy} if deploy else {}),
        }
        for index, module in enumerate(modules)
    }
    outputs = {
        "success": {
            f"s{index}": f"!expr $.steps.s{index}.outputs.success.module_loaded"
            for index in range(len(modules))
        }
    }
    document = {
        "version": "v0.2.0",
        "input": {"root": "R", "objects": {"R": {"id": "R", "properties": {}}}},
        "steps": steps,
        "outputs": outputs,
    }
    text = yaml.safe_dump(document).replace("'!expr ", "!expr '")
    (tmp_path / "workflow.yaml").write_text(text)


def marked(marker: str) -> set[int]:
    """Return the live processes whose environment holds ``SEED_TEST_MARKER=marker``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                variables = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"SEED_TEST_MARKER={marker}".encode() in variables:
                found.add(int(entry))
    return found


def run_and_check_nothing_left(tmp_path: Path) -> dict[str, Any]:
    marker = uuid.uuid4().hex
    result = workflow_cli("-context", str(tmp_path), cwd=tmp_path, env={"SEED_TEST_MARKER": marker})
    assert 0 == result.returncode, result.stderr
    deadline = time.monotonic() + 5
    while marked(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set() == marked(marker)
    document = yaml.safe_load(result.stdout)
    assert "success" == document["output_id"]
    return dict(document["output_data"])


def test_plugins_do_not_carry_the_modules_the_cli_imported(tmp_path: Path) -> None:
    """The CLI imported the expression parser (lark) to read the workflow before its warm-up
    started the zygote; the plugin forked from that zygote has the SDK, not lark."""
    write_workflow(tmp_path, ["lark", "yaml", "arcaflow_plugin_sdk"], deploy=None)
    assert {"s0": False, "s1": True, "s2": True} == run_and_check_nothing_left(tmp_path)


def test_an_unclaimed_seed_is_not_left(tmp_path: Path) -> None:
    """Without a fork server each plugin is a new interpreter: the seed is released."""
    write_workflow(tmp_path, ["lark"], deploy={"deployer_name": "python", "forkServer": False})
    assert {"s0": False} == run_and_check_nothing_left(tmp_path)
