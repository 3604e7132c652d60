"""Runner overhead: N ``dummy`` steps through their whole lifecycle in one process.

Each N runs in a fresh child process (so peak memory is that N's own) and in two modes:

The registry is loaded and one warm-up step run first (importing the provider through its entry
point and loading its schema is a once-per-process cost, not a per-step one).

* ``sequential-inputs`` — what ``arcaflow-steps run`` does: ``prepare_step`` every definition
  through the real registry (entry point ``dummy``), then ``StepRunner.run_all``; each step
  gets its stage input right after start and completes inline. Reports prepare, run and
  end-to-end steps per second.
* ``concurrent`` — every step is started *without* its input, so all N are alive at once,
  waiting for input (the runner and the authoring base hold them without a thread each);
  then every input is provided and every step completes. Reports the peak RSS with all N
  alive, and the start and finish rates.

Usage::

    python bench/runner_overhead.py                 # N = 1,000 and 10,000
    python bench/runner_overhead.py --n 100000 --json

Rates are wall-clock steps per second, plus steps per CPU second of the process (robust when
other work loads the machine). Targets (issue "Core"): at least 5,000 steps/s, under 300 MB for
10,000 concurrent steps.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import subprocess
import sys
import time
from typing import Any

import attrs


def _rss_mb() -> float:
    """Return this process's peak resident set size in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _definitions(n: int) -> dict[str, dict[str, Any]]:
    return {f"step{i}": {"kind": "dummy", "name": f"Arca {i}"} for i in range(n)}


def child(n: int) -> dict[str, Any]:
    """Run both modes for ``n`` steps in this process and return the measurements."""
    from arcaflow_steps import Registry, StepRunner, prepare_step

    registry = Registry.from_entry_points()
    # Warm up: import the provider through its entry point and load its schema once, as any
    # real run does before its first step; not part of the per-step cost.
    with StepRunner() as warm:
        warm.run_all([prepare_step(registry, "warmup", {"kind": "dummy", "name": "Arca"})])
    base_rss = _rss_mb()
    definitions = _definitions(n)

    # Mode 1: prepare + run_all, inputs fed at start (steps complete inline).
    began, cpu_began = time.perf_counter(), time.process_time()
    prepared = [prepare_step(registry, sid, d) for sid, d in definitions.items()]
    prepared_at = time.perf_counter()
    with StepRunner() as runner:
        results = runner.run_all(prepared)
    finished_at, cpu_finished = time.perf_counter(), time.process_time()
    assert len(results) == n
    assert all(result.output_id == "success" for result in results.values())
    sequential = {
        "prepare_steps_per_s": n / (prepared_at - began),
        "run_steps_per_s": n / (finished_at - prepared_at),
        "end_to_end_steps_per_s": n / (finished_at - began),
        "end_to_end_steps_per_cpu_s": n / (cpu_finished - cpu_began),
    }
    del results, runner
    gc.collect()

    # Mode 2: all N alive at once, waiting for input; then fed and finished.
    waiting = [attrs.evolve(step, stage_inputs={}) for step in prepared]
    del prepared
    gc.collect()
    runner = StepRunner()
    began, cpu_began = time.perf_counter(), time.process_time()
    executions = [runner.start(step) for step in waiting]
    started_at = time.perf_counter()
    alive = sum(1 for execution in executions if not execution.is_finished())
    peak_alive_rss = _rss_mb()
    for execution in executions:
        execution.provide_stage_input("greet", {"name": "Arca"})
    for execution in executions:
        assert execution.wait(10).output_id == "success"
    finished_at, cpu_finished = time.perf_counter(), time.process_time()
    concurrent = {
        "end_to_end_steps_per_cpu_s": n / (cpu_finished - cpu_began),
        "alive_at_once": alive,
        "start_steps_per_s": n / (started_at - began),
        "finish_steps_per_s": n / (finished_at - started_at),
        "end_to_end_steps_per_s": n / (finished_at - began),
        "peak_rss_mb_with_all_alive": peak_alive_rss,
        "rss_mb_before_steps": base_rss,
    }
    return {"n": n, "sequential_inputs": sequential, "concurrent": concurrent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per N; the best is shown")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        json.dump(child(args.child), sys.stdout)
        return
    rows = []
    for n in args.n:
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--child", str(n)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for _ in range(args.repeat)
        ]
        best = max(runs, key=lambda run: run["sequential_inputs"]["end_to_end_steps_per_s"])
        best["peak_rss_mb_max_over_runs"] = max(
            run["concurrent"]["peak_rss_mb_with_all_alive"] for run in runs
        )
        rows.append(best)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return
    print(f"python {platform.python_version()} on {platform.machine()}, best of {args.repeat}")
    print(
        f"{'N':>7}  {'prepare/s':>10}  {'run/s':>8}  {'end-to-end/s':>12}  {'per CPU s':>10}  "
        f"{'concurrent/s':>12}  {'per CPU s':>10}  {'peak RSS, all alive':>20}"
    )
    for row in rows:
        seq, conc = row["sequential_inputs"], row["concurrent"]
        print(
            f"{row['n']:>7,}  {seq['prepare_steps_per_s']:>10,.0f}  {seq['run_steps_per_s']:>8,.0f}"
            f"  {seq['end_to_end_steps_per_s']:>12,.0f}"
            f"  {seq['end_to_end_steps_per_cpu_s']:>10,.0f}"
            f"  {conc['end_to_end_steps_per_s']:>12,.0f}"
            f"  {conc['end_to_end_steps_per_cpu_s']:>10,.0f}"
            f"  {row['peak_rss_mb_max_over_runs']:>16,.0f} MB"
        )


if __name__ == "__main__":
    main()
