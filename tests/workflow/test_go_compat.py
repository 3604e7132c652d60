"""Our ``workflow`` command against what the Go engine 0.21.0 did on the same files.

Each directory of ``go_compat/`` is a workflow (with its sub-workflows and input) that uses the
benchmark plugin (``bench/plugins/arcaflow_plugin_bench``) through the python deployer;
``expected.yaml`` is what the Go engine printed and exited with (``record_go.py`` recorded it;
it also lists where we differ on purpose, see docs/workflow-differences.md). Here our CLI runs
each case with the plugin's package directory as source and must give the same exit code,
output id and output data (both documents read with our YAML 1.2 loader). For
``-get-namespaces`` the table must match byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arcaflow_steps.workflow._yaml import load_data_yaml

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "go_compat"
PLUGIN_PACKAGE = (
    HERE.parents[1] / "bench" / "plugins" / "arcaflow_plugin_bench" / "arcaflow_plugin_bench"
)
CASES = sorted(path.name for path in CASES_DIR.iterdir() if (path / "expected.yaml").is_file())
CLI = str(Path(sys.executable).parent / "arcaflow-steps")


def _run_ours(case: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    source = CASES_DIR / case
    for path in source.iterdir():
        if path.suffix == ".yaml" and path.name != "expected.yaml":
            text = path.read_text().replace("BENCH_PLUGIN", str(PLUGIN_PACKAGE))
            (tmp_path / path.name).write_text(text)
    if not (tmp_path / "input.yaml").exists():
        (tmp_path / "input.yaml").write_text("{}\n")
    argv = [CLI, "workflow", "-context", str(tmp_path), "-input", "input.yaml"]
    args_file = source / "args.txt"
    if args_file.exists():
        argv += args_file.read_text().split()
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("case", CASES)
def test_the_same_result_as_the_go_engine(case: str, tmp_path: Path) -> None:
    expected = yaml.safe_load((CASES_DIR / case / "expected.yaml").read_text())
    done = _run_ours(case, tmp_path)
    assert done.returncode == expected["exit_code"], done.stderr
    go_stdout: str = expected["go_stdout"]
    if go_stdout.startswith("output_data:"):
        ours = load_data_yaml(done.stdout, "stdout")
        theirs = load_data_yaml(go_stdout, "go stdout")
        assert ours["output_id"] == theirs["output_id"] == expected["output_id"]
        assert ours["output_data"] == theirs["output_data"]
    elif go_stdout:
        assert done.stdout == go_stdout
    else:
        assert done.stdout == ""
        assert done.stderr.strip(), "a failed run says why on stderr"


def test_every_case_was_recorded() -> None:
    unrecorded = sorted(
        path.name
        for path in CASES_DIR.iterdir()
        if (path / "workflow.yaml").is_file() and not (path / "expected.yaml").is_file()
    )
    assert unrecorded == []
    assert shutil.which(CLI) or Path(CLI).is_file()
