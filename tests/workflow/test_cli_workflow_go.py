"""``arcaflow-steps workflow`` against the Go engine 0.21.0 on the same workflows: the same
exit code, output id and output data (the same stdout bytes; JSON holds the same data).

Needs what ``bench/setup.sh`` installs (the engine binary and the bench plugin's pre-built
venv, under ``$BENCH_WORK``, default ``bench/.work``); skipped without it. Both engines run
the bench plugin with the same interpreter: the Go engine through its python deployer (the
``module@git+URL`` source found in a pre-built venv, linked into a per-test workdir so its
temporary directories land there), ours through the module form of the source.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli_support import ROOT, descendants, wait_gone, workflow_cli

WORK = Path(os.environ.get("BENCH_WORK", ROOT / "bench" / ".work"))
GO = next(iter(sorted(WORK.glob("go-venv/lib/python*/site-packages/arcaflow/bin/arcaflow"))), None)
VENVS = sorted(WORK.glob("go-python/connector_*_1/arcaflow-plugin-bench_latest/venv"))
GO_SOURCE = "arcaflow-plugin-bench@git+https://example.invalid/arcaflow-plugin-bench"
OUR_SOURCE = "arcaflow_plugin_bench"

pytestmark = pytest.mark.skipif(
    GO is None or not VENVS,
    reason=f"the Go engine is not installed under {WORK} (run bench/setup.sh or set BENCH_WORK)",
)

CASES = {
    "chain": (
        """\
version: v0.2.0
input:
  root: R
  objects:
    R: {id: R, properties: {name: {type: {type_id: string}}, n: {type: {type_id: integer}}}}
steps:
  a:
    plugin: {src: SRC, deployment_type: python}
    step: hello
    input: {name: !expr $.input.name}
  b:
    plugin: {src: SRC, deployment_type: python}
    step: hello
    input: {name: !expr $.steps.a.outputs.success.message}
outputs:
  success:
    first: !expr $.steps.a.outputs.success.message
    second: !expr $.steps.b.outputs.success
    count: !expr $.input.n
""",
        "name: Arca\nn: 7\n",
    ),
    "error-output": (
        """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  a:
    plugin: {src: SRC, deployment_type: python}
    step: hello
    input: {name: x}
outputs:
  error: {reason: !expr $.steps.a.outputs.success.message}
""",
        "{}\n",
    ),
    "disabled-no-output": (
        """\
version: v0.2.0
input:
  root: R
  objects: {R: {id: R, properties: {on: {type: {type_id: bool}}}}}
steps:
  a:
    plugin: {src: SRC, deployment_type: python}
    step: hello
    enabled: !expr $.input.on
    input: {name: x}
outputs:
  success: {m: !expr $.steps.a.outputs.success.message}
""",
        "'on': false\n",
    ),
    "foreach": (
        """\
version: v0.2.0
input:
  root: R
  objects:
    R:
      id: R
      properties:
        names:
          type:
            type_id: list
            items: {type_id: ref, id: Item, namespace: $.steps.each.execute.inputs.items}
steps:
  each:
    kind: foreach
    workflow: sub.yaml
    items: !expr $.input.names
    parallelism: 2
outputs:
  success: {all: !expr $.steps.each.outputs.success.data}
""",
        "names: [{name: a}, {name: b}]\n",
    ),
}

#: Sub-workflows, written beside every case's workflow.
SUB_WORKFLOWS = {
    "sub.yaml": """\
version: v0.2.0
input:
  root: Item
  objects:
    Item: {id: Item, properties: {name: {type: {type_id: string}}}}
steps:
  h:
    plugin: {src: SRC, deployment_type: python}
    step: hello
    input: {name: !expr $.input.name}
outputs:
  success: {m: !expr $.steps.h.outputs.success.message}
""",
}


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    assert set() == wait_gone(descendants()), "processes left behind"


def _setup(tmp_path: Path, case: str) -> tuple[Path, Path]:
    """Write the case for both engines; return the Go and our context directories."""
    workflow, input_text = CASES[case]
    venv = VENVS[0]
    connector = venv.parent.parent.name
    python = venv / "bin" / "python"
    semver = connector.split("_")[1].replace("-", ".")
    go, ours = tmp_path / "go", tmp_path / "ours"
    linked = go / "work" / connector / venv.parent.name
    linked.mkdir(parents=True)
    (linked / "venv").symlink_to(venv)
    (go / "workflow.yaml").write_text(workflow.replace("SRC", GO_SOURCE))
    (go / "config.yaml").write_text(
        "log: {level: error}\ndeployers:\n  python: {deployer_name: python, "
        f"workdir: {go / 'work'}, pythonPath: {python}, pythonSemver: {semver}, "
        "modulePullPolicy: IfNotPresent}\n"
    )
    ours.mkdir()
    (ours / "workflow.yaml").write_text(workflow.replace("SRC", OUR_SOURCE))
    (ours / "config.yaml").write_text(
        f"deployers:\n  python: {{deployer_name: python, pythonPath: {python}}}\n"
    )
    for directory, source in ((go, GO_SOURCE), (ours, OUR_SOURCE)):
        (directory / "input.yaml").write_text(input_text)
        for name, text in SUB_WORKFLOWS.items():
            (directory / name).write_text(text.replace("SRC", source))
    return go, ours


def _go(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert GO is not None
    return subprocess.run(
        [str(GO), *args], cwd=cwd, capture_output=True, text=True, timeout=90, check=False
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [("chain", 0), ("error-output", 2), ("disabled-no-output", 3), ("foreach", 0)],
)
def test_same_exit_code_output_id_and_data(tmp_path: Path, case: str, code: int) -> None:
    """``-context DIR -config config.yaml -input input.yaml``: both engines agree."""
    go_dir, our_dir = _setup(tmp_path, case)
    args = ("-config", "config.yaml", "-input", "input.yaml")
    theirs = _go("-context", str(go_dir), *args, cwd=tmp_path)
    ours = workflow_cli("-context", str(our_dir), *args, cwd=tmp_path)
    assert code == theirs.returncode, theirs.stderr
    assert code == ours.returncode, ours.stderr
    assert theirs.stdout == ours.stdout
    if code != 3:
        as_json = workflow_cli("-context", str(our_dir), *args, "-format=json", cwd=tmp_path)
        assert yaml.safe_load(theirs.stdout) == json.loads(as_json.stdout)


@pytest.mark.parametrize("case", ["chain", "foreach"])
def test_same_namespace_table(tmp_path: Path, case: str) -> None:
    """``-get-namespaces`` prints the same bytes (plugin steps; a foreach step)."""
    go_dir, our_dir = _setup(tmp_path, case)
    theirs = _go("-context", str(go_dir), "-config", "config.yaml", "-get-namespaces", cwd=go_dir)
    ours = workflow_cli("-config", "config.yaml", "-get-namespaces", cwd=our_dir)
    assert (0, 0) == (theirs.returncode, ours.returncode), (theirs.stderr, ours.stderr)
    assert theirs.stdout == ours.stdout
