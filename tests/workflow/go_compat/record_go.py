"""Record what the Go engine 0.21.0 does with each case of this directory (``expected.yaml``).

Run by hand after ``bench/setup.sh`` (it installs the engine and pre-builds the benchmark
plugin's venv where the engine's python deployer looks for it)::

    python tests/workflow/go_compat/record_go.py [CASE ...]

Each case directory holds ``workflow.yaml`` (and sub-workflows, ``input.yaml``) with the
placeholder ``BENCH_PLUGIN`` as plugin source. The Go engine runs it with ``src:
arcaflow-plugin-bench@git+…`` and its python deployer; ``expected.yaml`` records its exit code,
stdout and the output id and data. ``DIFFERENCES`` holds the cases where we differ on purpose
(docs/workflow-differences.md): the exit code we give instead, and why.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from plugin_vs_go import DEFAULT_WORK, GO_PLUGIN_SRC, Setup, clean_go_workdir  # noqa: E402

#: case -> (our exit code, why we differ from the Go engine).
DIFFERENCES: dict[str, tuple[int, str]] = {
    "invalid_input_data": (1, "invalid input data is a usage error (exit 1); Go exits 3"),
}


def record(setup: Setup, case: Path) -> dict[str, object]:
    """Run the Go engine on ``case``; return what it did."""
    with tempfile.TemporaryDirectory(prefix="go-compat-") as temporary:
        work = Path(temporary)
        for path in case.iterdir():
            if path.suffix == ".yaml" and path.name != "expected.yaml":
                text = path.read_text().replace("BENCH_PLUGIN", GO_PLUGIN_SRC)
                (work / path.name).write_text(text)
        if not (work / "input.yaml").exists():
            (work / "input.yaml").write_text("{}\n")
        venv_python = setup.plugin_venv / "bin" / "python"
        (work / "config.yaml").write_text(
            "log: {level: error}\n"
            "deployers:\n  python:\n    deployer_name: python\n"
            "    modulePullPolicy: IfNotPresent\n"
            f"    workdir: {setup.go_python_workdir}\n"
            f"    pythonPath: {venv_python}\n"
            f"    pythonSemver: {setup.python_semver}\n"
        )
        argv = [str(setup.go_binary), "-context", str(work), "-config", "config.yaml"]
        argv += ["-input", "input.yaml"]
        args_file = case / "args.txt"
        if args_file.exists():
            argv += args_file.read_text().split()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        clean_go_workdir(setup)
    recorded: dict[str, object] = {"go_exit_code": done.returncode, "go_stdout": done.stdout}
    if done.returncode in (0, 2) and done.stdout.startswith("output_data:"):
        document = yaml.safe_load(done.stdout)
        recorded["output_id"] = document["output_id"]
    else:
        recorded["go_stderr_tail"] = done.stderr.strip().splitlines()[-3:]
    ours = DIFFERENCES.get(case.name)
    recorded["exit_code"] = done.returncode if ours is None else ours[0]
    recorded["difference"] = None if ours is None else ours[1]
    return recorded


def main(names: list[str]) -> int:
    """Record every case (or the named ones)."""
    setup = Setup(
        work=DEFAULT_WORK, go_venv=DEFAULT_WORK / "go-venv", ours_cli=None, ours_python=None
    )
    cases = (
        [HERE / name for name in names]
        if names
        else sorted(path for path in HERE.iterdir() if (path / "workflow.yaml").is_file())
    )
    for case in cases:
        recorded = record(setup, case)
        (case / "expected.yaml").write_text(
            "# Recorded from the Go engine 0.21.0 by record_go.py; do not edit by hand.\n"
            + yaml.safe_dump(recorded, sort_keys=False, allow_unicode=True, width=100)
        )
        print(f"{case.name}: exit {recorded['go_exit_code']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
