"""Workflow engine overhead: N ``dummy`` steps run as one workflow, in one process.

Two shapes, each planned once with :func:`arcaflow_steps.workflow.plan_workflow` (a
``WorkflowModel`` built in memory, no YAML) and then run ``--runs`` times:

* ``chain`` — step ``s<i>`` greets ``$.steps.s<i-1>.greet.success.message``: every step waits
  for the one before it, so each of the N steps goes through the whole executor path (event
  queued, graph updated, consumer ready, template evaluated, stage input provided) one after
  the other; the output reads the last step.
* ``fan`` — N independent steps with literal names; the output is a list reading every
  step's greeting, so the run ends only after all N completed.

Method: the registry is loaded and a one-step workflow run first (entry points, schema
load); then each shape's plan is built (reported as ``plan s``, not part of the run) and run
``--runs`` times (default 5). ``run s`` is the median wall time of ``plan.run(input)`` — from
starting every step to the result with every step's result, threads joined — and
``steps/s`` is N divided by it; ``cpu s`` is the process CPU time of the same run (all
threads) and ``per cpu s`` N divided by that (robust when other work loads the machine).
The dummy step itself does almost nothing, so this is the engine's own cost per workflow
step (target, issue 11: at least 2,000 steps/s).

Usage::

    python bench/workflow_overhead.py               # N = 1,000
    python bench/workflow_overhead.py --n 1000 5000 --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

#: One registry for every plan of the process (loaded by the warm-up).
_REGISTRY: dict[str, Any] = {}


def _plan(shape: str, n: int) -> Any:
    from arcaflow_steps import Registry
    from arcaflow_steps.schema import object_scope
    from arcaflow_steps.workflow import WorkflowContext, WorkflowModel, plan_workflow
    from arcaflow_steps.workflow._expressions import parse_expression
    from arcaflow_steps.workflow._template import Expr

    def ref(step_id: str, path: str) -> Expr:
        return Expr(parse_expression(f"$.steps.{step_id}.greet.success.message"), path)

    steps: dict[str, dict[str, Any]] = {}
    for i in range(n):
        name: Any = ref(f"s{i - 1}", f"steps.s{i}.name") if shape == "chain" and i else "Arca"
        steps[f"s{i}"] = {"kind": "dummy", "name": name}
    if shape == "chain":
        outputs: dict[str, Any] = {"success": {"message": ref(f"s{n - 1}", "outputs.success")}}
    else:
        outputs = {"success": {"all": [ref(f"s{i}", "outputs.success") for i in range(n)]}}
    model = WorkflowModel(
        version="v0.2.0", input=object_scope("Input"), steps=steps, outputs=outputs
    )
    if "registry" not in _REGISTRY:
        _REGISTRY["registry"] = Registry.from_entry_points()
    context = WorkflowContext(context_dir=Path("."), registry=_REGISTRY["registry"])
    return plan_workflow(model, context)


def measure(shape: str, n: int, runs: int) -> dict[str, Any]:
    """Plan ``shape`` with ``n`` steps once and run it ``runs`` times."""
    started = time.perf_counter()
    plan = _plan(shape, n)
    plan_s = time.perf_counter() - started
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = plan.run({})
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert result.output_id == "success", result.error
        assert len(result.step_results) == n
    run_s = statistics.median(walls)
    return {
        "shape": shape,
        "n": n,
        "plan_s": round(plan_s, 3),
        "run_s": round(run_s, 3),
        "cpu_s": round(statistics.median(cpus), 3),
        "steps_per_s": round(n / run_s),
        "steps_per_cpu_s": round(n / statistics.median(cpus)),
        "runs": [round(wall, 3) for wall in walls],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    measure("chain", 1, 1)  # warm-up: entry points, schema load
    rows = [measure(shape, n, args.runs) for n in args.n for shape in ("chain", "fan")]
    if args.json:
        print(json.dumps({"python": platform.python_version(), "rows": rows}, indent=2))
        return 0
    print(f"python {platform.python_version()}, {args.runs} runs, median")
    print(
        f"{'shape':<6} {'N':>6} {'plan s':>7} {'run s':>7} {'cpu s':>7} {'steps/s':>8} "
        f"{'per cpu s':>9}"
    )
    for row in rows:
        print(
            f"{row['shape']:<6} {row['n']:>6} {row['plan_s']:>7} {row['run_s']:>7} "
            f"{row['cpu_s']:>7} {row['steps_per_s']:>8} {row['steps_per_cpu_s']:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
