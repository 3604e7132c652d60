"""``arcaflow-steps workflow`` with nested foreach steps: one Ctrl-C closes every step of
every sub-workflow, and nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import CLI, STEPS, descendants, wait_gone

OUTER = """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  outer:
    kind: foreach
    workflow: middle.yaml
    items: [{names: [{name: a}, {name: b}]}, {names: [{name: c}, {name: d}]}]
    parallelism: 2
outputs:
  success: {all: !expr $.steps.outer.outputs.success.data}
"""
MIDDLE = """
version: v0.2.0
input:
  root: M
  objects:
    M: {id: M, properties: {names: {type: {type_id: list, items: {type_id: ref, id: N}}}}}
    N: {id: N, properties: {name: {type: {type_id: string}}}}
steps:
  inner:
    kind: foreach
    workflow: leaf.yaml
    items: !expr $.input.names
    parallelism: 2
outputs:
  success: {inner: !expr $.steps.inner.outputs.success.data}
"""
LEAF = f"""
version: v0.2.0
input: {{root: N, objects: {{N: {{id: N, properties: {{name: {{type: {{type_id: string}}}}}}}}}}}}
steps:
  c:
    plugin: {{src: "{STEPS}", deployment_type: python}}
    step: ignore-cancel
    input: {{seconds: 60}}
    closure_wait_timeout: 500
outputs:
  success: {{slept: !expr $.steps.c.outputs.success.slept}}
"""
RUNNING = re.compile(r"^outer\[\d\]\.inner\[\d\]\.c +-> running$", re.M)
CLOSED = re.compile(r"^outer\[\d\]\.inner\[\d\]\.c +finished in closed", re.M)


@pytest.mark.parametrize(
    ("closure_wait_ms", "signals"),
    [pytest.param(500, 1, id="graceful"), pytest.param(60000, 2, id="second-signal-forces")],
)
def test_interrupts_close_every_step_of_every_sub_workflow(
    tmp_path: Path, closure_wait_ms: int, signals: int
) -> None:
    """SIGINT while four leaf steps of two foreach levels run (they ignore cancel): every
    leaf step ends closed, no plugin process or temporary directory is left, nothing on
    stdout, exit 130. With a minute of closure wait, the second SIGINT forces them at once."""
    leaf = LEAF.replace("closure_wait_timeout: 500", f"closure_wait_timeout: {closure_wait_ms}")
    for name, text in (("workflow.yaml", OUTER), ("middle.yaml", MIDDLE), ("leaf.yaml", leaf)):
        (tmp_path / name).write_text(text)
    temp = tmp_path / "tmp"
    temp.mkdir()
    err = tmp_path / "stderr.txt"
    with err.open("w") as err_file:
        process = subprocess.Popen(
            [CLI, "workflow"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=err_file,
            text=True,
            env={**os.environ, "TMPDIR": str(temp)},
        )
        deadline = time.monotonic() + 60
        while len(RUNNING.findall(err.read_text())) < 4:
            assert time.monotonic() < deadline, err.read_text()
            assert process.poll() is None, err.read_text()
            time.sleep(0.05)
        plugin_pids = descendants(process.pid)
        started = time.monotonic()
        os.kill(process.pid, signal.SIGINT)
        if signals == 2:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(1.0)
            assert process.poll() is None, "the first signal did not wait for the steps"
            os.kill(process.pid, signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    assert time.monotonic() - started < 20
    stderr = err.read_text()
    assert (130, "") == (process.returncode, stdout), stderr
    assert 4 == len(CLOSED.findall(stderr)), stderr
    assert set() == wait_gone(plugin_pids)
    assert [] == list(temp.iterdir())


def test_run_refuses_a_foreach_step_outside_a_workflow(tmp_path: Path) -> None:
    """``arcaflow-steps run`` of a foreach step: one clear line, exit 1 (no workflow to plan
    the sub-workflow in)."""
    (tmp_path / "step.yaml").write_text("kind: foreach\nworkflow: sub.yaml\nitems: []\n")
    completed = subprocess.run(
        [CLI, "run", "step.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (1, "") == (completed.returncode, completed.stdout)
    assert (
        "arcaflow-steps: error: step.yaml: foreach steps run only inside a workflow "
        "(arcaflow-steps workflow); cannot run the sub-workflow 'sub.yaml' on its own\n"
    ) == completed.stderr
