"""Planning cost: read and plan a generated workflow of N ``dummy`` steps in a data chain.

The workflow (``--n`` steps, default 1,000) has an input ``{name}``; step ``s0`` greets
``$.input.name``, every later step ``s<i>`` greets ``$.steps.s<i-1>.greet.success.message``
with the nickname ``toUpper($.input.name)``, and the output ``success`` reads the last step's
message. So every step holds two expressions, one of them a call, and the plan has a chain of N
data dependencies (the cycle check walks all of it).

Each run happens in a fresh child process after a warm-up plan of a 2-step workflow (imports,
the registry's entry points and the dummy's schema are once-per-process costs), and times:

* ``load``  — ``read_workflow``: YAML 1.2 with the engine tags, expressions parsed, shape
  checked;
* ``plan``  — ``plan_workflow``: steps split and prepared, the type of ``$``, every path
  checked and typed, the cycle check, outputs inferred, namespaces;
* ``total`` — both.

Usage::

    python bench/workflow_plan.py                  # N = 1,000, 5 runs
    python bench/workflow_plan.py --n 5000 --runs 3 --no-write

Target (issue 11): load + plan of 1,000 steps in under 1 s. Prints a Markdown report and writes
it with the raw numbers to ``bench/results/workflow_plan.{md,json}`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def workflow_text(n: int) -> str:
    """Return the YAML of the generated workflow with ``n`` steps."""
    lines = [
        "version: v0.2.0",
        "input:",
        "  root: In",
        "  objects:",
        "    In:",
        "      id: In",
        "      properties:",
        "        name: {type: {type_id: string}}",
        "steps:",
        "  s0: {kind: dummy, name: !expr $.input.name}",
    ]
    lines.extend(
        f"  s{index}: {{kind: dummy, name: !expr $.steps.s{index - 1}.greet.success.message, "
        "nickname: !expr toUpper($.input.name)}"
        for index in range(1, n)
    )
    lines += ["outputs:", f"  success: {{message: !expr $.steps.s{n - 1}.greet.success.message}}"]
    return "\n".join(lines) + "\n"


def child(n: int) -> dict[str, float]:
    """Time loading and planning the ``n``-step workflow in this process."""
    from arcaflow_steps import Registry
    from arcaflow_steps.workflow import WorkflowContext, plan_workflow, read_workflow

    with tempfile.TemporaryDirectory() as directory:
        context = WorkflowContext(
            context_dir=Path(directory), registry=Registry.from_entry_points()
        )
        warm_up = Path(directory) / "warm.yaml"
        warm_up.write_text(workflow_text(2))
        plan_workflow(read_workflow(warm_up), context)
        path = Path(directory) / "workflow.yaml"
        path.write_text(workflow_text(n))
        started = time.perf_counter()
        model = read_workflow(path)
        loaded = time.perf_counter()
        plan = plan_workflow(model, context)
        planned = time.perf_counter()
        assert n == len(plan.steps)
    return {"load": loaded - started, "plan": planned - loaded, "total": planned - started}


def main() -> None:
    """Run the children and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="steps (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.n)))
        return
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        output = subprocess.run(
            [sys.executable, __file__, "--child", "--n", str(args.n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(output))
    report = _report(args.n, runs)
    print(report)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "workflow_plan.md").write_text(report)
        raw: dict[str, Any] = {"n": args.n, "runs": runs, "python": platform.python_version()}
        (RESULTS / "workflow_plan.json").write_text(json.dumps(raw, indent=2) + "\n")


def _report(n: int, runs: list[dict[str, float]]) -> str:
    rows = [
        f"| {phase} | {statistics.median(run[phase] for run in runs):.3f} | "
        f"{min(run[phase] for run in runs):.3f} | {max(run[phase] for run in runs):.3f} |"
        for phase in ("load", "plan", "total")
    ]
    return "\n".join(
        [
            f"# Planning a {n:,}-step workflow (dummy steps, a data chain)",
            "",
            f"{len(runs)} runs, each in a fresh process after a warm-up; Python "
            f"{platform.python_version()}. Target: total < 1 s for 1,000 steps.",
            "",
            "| phase | median s | min s | max s |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


if __name__ == "__main__":
    main()
