"""Run throwaway cases through the Go engine 0.21.0 and our ``workflow`` command side by side,
and print where they differ: the quick way to find a difference before recording a case.

Run by hand after ``bench/setup.sh`` (as ``record_go.py``)::

    python tests/workflow/go_compat/probe_go.py --expr '-2 + 3' --expr 'toUpper($.input.s)'
    python tests/workflow/go_compat/probe_go.py --case tests/workflow/go_compat/functions

An ``--expr`` becomes the only field of the ``success`` output of a workflow with one ``hello``
step of the benchmark plugin and a typed input (:data:`INPUT_FIELDS`, given as
:data:`INPUT_DATA`). A ``--case`` is a directory as this directory's cases are
(``workflow.yaml`` with the placeholder ``BENCH_PLUGIN``, optional ``input.yaml`` and
sub-workflows). Each is compared on exit code, output id and output data (both documents
read with our YAML 1.2 loader); a Go panic (exit 2 without a document) against our exit 3 is
the documented difference (docs/workflow-differences.md) and counts as the same. Exit status:
1 when any case differs.

A session with ~180 such cases (expressions, every function's edge cases, YAML scalars and
tags, input coercions, the stage-input tags, error outputs, foreach) found only differences
docs/workflow-differences.md lists.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from record_go import DEFAULT_WORK, ROOT, Setup, record

from arcaflow_steps.workflow._yaml import load_data_yaml

PLUGIN_PACKAGE = ROOT / "bench" / "plugins" / "arcaflow_plugin_bench" / "arcaflow_plugin_bench"
CLI = str(Path(sys.executable).parent / "arcaflow-steps")
INPUT_FIELDS = """\
        n: {type: {type_id: integer}, required: false}
        x: {type: {type_id: float}, required: false}
        s: {type: {type_id: string}, required: false}
        b: {type: {type_id: bool}, required: false}
        l: {type: {type_id: list, items: {type_id: integer}}, required: false}
        ls: {type: {type_id: list, items: {type_id: string}}, required: false}
        m:
          type: {type_id: map, keys: {type_id: string}, values: {type_id: integer}}
          required: false
        a: {type: {type_id: any}, required: false}
"""
INPUT_DATA = (
    'n: 7\nx: 2.5\ns: "Hello World"\nb: true\nl: [1, 2, 3]\nls: [a, b]\nm: {a: 1, "b-c": 2}\n'
)


def expression_workflow(expression: str) -> str:
    """Return the workflow whose ``success`` output is ``{v: !expr <expression>}``."""
    quoted = "'" + expression.replace("'", "''") + "'"
    return (
        "version: v0.2.0\ninput:\n  root: R\n  objects:\n    R:\n      id: R\n      properties:\n"
        + INPUT_FIELDS
        + "steps:\n  h:\n    plugin: {src: BENCH_PLUGIN, deployment_type: python}\n"
        "    step: hello\n    input: {name: world}\n"
        f"outputs:\n  success:\n    v: !expr {quoted}\n"
    )


def run_ours(case: Path) -> tuple[int, str]:
    """Run our CLI on a copy of ``case``; return (exit code, stdout)."""
    with tempfile.TemporaryDirectory(prefix="probe-ours-") as temporary:
        work = Path(temporary)
        for path in case.iterdir():
            if path.is_file() and path.name != "expected.yaml":
                text = path.read_text().replace("BENCH_PLUGIN", str(PLUGIN_PACKAGE))
                (work / path.name).write_text(text)
        if not (work / "input.yaml").exists():
            (work / "input.yaml").write_text("{}\n")
        argv = [CLI, "workflow", "-context", str(work), "-input", "input.yaml"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout


def outcome(code: int, stdout: str) -> tuple[int, Any, Any]:
    """Return (exit code, output id, output data) of one engine's run."""
    if not stdout.startswith("output_data:"):
        return code, None, None
    document = load_data_yaml(stdout, "stdout")
    return code, document.get("output_id"), document.get("output_data")


def compare(setup: Setup, name: str, case: Path) -> bool:
    """Run ``case`` on both engines; print the outcome; return whether they agree."""
    go = record(setup, case)
    theirs = outcome(int(go["go_exit_code"]), str(go["go_stdout"]))
    ours = outcome(*run_ours(case))
    same = theirs == ours or (theirs == (2, None, None) and ours[0] == 3)
    print(f"{'same' if same else 'DIFFERENT'} {name}\n  go:   {theirs}\n  ours: {ours}")
    if not same and "go_stderr_tail" in go:
        print(f"  go stderr: {go['go_stderr_tail']}")
    return same


def main(argv: list[str]) -> int:
    """Compare every ``--expr`` and ``--case``; exit 1 when any differs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--expr", action="append", default=[], help="an expression (repeatable)")
    parser.add_argument("--case", action="append", default=[], type=Path, help="a case directory")
    args = parser.parse_args(argv)
    if not args.expr and not args.case:
        parser.error("give at least one --expr or --case")
    setup = Setup(
        work=DEFAULT_WORK, go_venv=DEFAULT_WORK / "go-venv", ours_cli=None, ours_python=None
    )
    agree = True
    for expression in args.expr:
        with tempfile.TemporaryDirectory(prefix="probe-case-") as temporary:
            case = Path(temporary)
            (case / "workflow.yaml").write_text(expression_workflow(expression))
            (case / "input.yaml").write_text(INPUT_DATA)
            agree &= compare(setup, expression, case)
    for case in args.case:
        if not (case / "workflow.yaml").is_file():
            parser.error(f"{case}: no workflow.yaml in it")
        agree &= compare(setup, str(case), case)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
