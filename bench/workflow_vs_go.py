"""Side-by-side benchmark of workflows: ``arcaflow-steps workflow`` against the Go engine.

Theory of operation
-------------------
Both engines run the same Arcaflow workflow files (``version: v0.2.0``), through their own CLI,
as a user would (``-context -config -workflow -input``), each run a separate OS process timed
from spawn to exit (``plugin_vs_go.run_process``). Cases (issue 11's targets):

* ``foreach-256``: a ``foreach`` step over 256 items, ``parallelism: 64``; the sub-workflow
  has one quick plugin step (``hello``) whose output is the item's ``success`` output.
  Targets: python deployer ≤ 0.1x Go; docker ≤ 0.5x Go; docker with ``multiplex: true`` (one
  container serving many runs, ours only) ≤ 0.1x Go's docker.
* ``chain-32``: 32 plugin steps in sequence, each one's input the previous one's output
  (``name: !expr $.steps.s{i-1}.outputs.success.message``). Target: ≤ 0.35x Go with either
  deployer.

Plugins: with the python deployer both engines run the benchmark plugin
(``bench/plugins/arcaflow_plugin_bench``, step ``hello``): the Go engine from the venv
``bench/setup.sh`` pre-built (never pulled), ours from the package directory with the
interpreter of ``bench/.work/ours-venv``. With docker both run the test image
``arcaflow-steps-test/plugin_hello:latest`` (step ``hello-world``; ``bash .ci/containers.sh``
builds it), never pulled.

Engines: ``go-python``, ``go-docker``, ``ours-python``, ``ours-docker``, ``ours-docker-mux``.
One warm-up run per cell, then ``--runs`` timed runs interleaved across engines; the median is
reported. Every run must exit 0 and print the expected number of greetings, or the cell fails.
Before each run the harness waits (at most 30 s) until at most 15 % of the CPUs are busy over
half a second (``settle``): a docker cell leaves seconds of container and network-namespace
teardown behind it, which would otherwise land on the next cell.

Usage (after ``bench/setup.sh`` and ``bash .ci/containers.sh``)::

    python bench/workflow_vs_go.py                       # everything, 3 runs each
    python bench/workflow_vs_go.py --cases chain-32 --engines go-python,ours-python --runs 1

Writes ``bench/results/workflow_vs_go.md`` and ``workflow_vs_go.json`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plugin_vs_go import (
    DEFAULT_WORK,
    GO_PLUGIN_SRC,
    PLUGIN_PACKAGE,
    NotAvailableError,
    Setup,
    clean_go_workdir,
    find_ours_cli,
    machine_description,
    run_process,
)

__all__ = ["CASES", "ENGINES", "main"]

HERE = Path(__file__).resolve().parent
IMAGE = "arcaflow-steps-test/plugin_hello:latest"
#: In run order, grouped by deployer: a python cell run right after a docker cell of 256
#: containers ran 10-20 % slower (ours-python after go-docker: 1.52/1.26/1.39 s, after
#: go-python: 1.19-1.30 s), though the CPUs were idle again (``settle``).
ENGINES = ("go-python", "ours-python", "go-docker", "ours-docker", "ours-docker-mux")


@dataclasses.dataclass(frozen=True)
class Case:
    """One workflow shape: ``foreach`` over ``count`` items, or a chain of ``count`` steps."""

    name: str
    shape: str
    count: int
    parallelism: int = 1


CASES = {
    case.name: case
    for case in (
        Case(name="foreach-256", shape="foreach", count=256, parallelism=64),
        Case(name="chain-32", shape="chain", count=32),
    )
}
#: (case, engine) -> (the Go engine it is compared with, the target ratio ours/Go).
TARGETS = {
    ("foreach-256", "ours-python"): ("go-python", 0.1),
    ("foreach-256", "ours-docker"): ("go-docker", 0.5),
    ("foreach-256", "ours-docker-mux"): ("go-docker", 0.1),
    ("chain-32", "ours-python"): ("go-python", 0.35),
    ("chain-32", "ours-docker"): ("go-docker", 0.35),
    ("chain-32", "ours-docker-mux"): ("go-docker", 0.35),
}

_INPUT_SCOPE = (
    "input:\n"
    "  root: RootObject\n"
    "  objects:\n"
    "    RootObject:\n"
    "      id: RootObject\n"
    "      properties: {props}\n"
)
_NAME_SCOPE = (
    "input:\n"
    "  root: Item\n"
    "  objects:\n"
    "    Item:\n"
    "      id: Item\n"
    "      properties:\n"
    "        name: {type: {type_id: string}}\n"
)


def _plugin_block(engine: str, setup: Setup) -> tuple[str, str]:
    """Return the ``plugin:`` mapping (flow style) and the ``step`` id for ``engine``."""
    if engine == "go-python":
        return f"{{src: '{GO_PLUGIN_SRC}', deployment_type: python}}", "hello"
    if engine == "ours-python":
        return f"{{src: '{PLUGIN_PACKAGE}', deployment_type: python}}", "hello"
    multiplex = ", multiplex: true" if engine == "ours-docker-mux" else ""
    del setup
    return f"{{src: '{IMAGE}', deployment_type: image{multiplex}}}", "hello-world"


def _config(engine: str, setup: Setup) -> str:
    if engine == "go-python":
        venv_python = setup.plugin_venv / "bin" / "python"
        return (
            "log:\n  level: error\n"
            "deployers:\n  python:\n    deployer_name: python\n"
            "    modulePullPolicy: IfNotPresent\n"
            f"    workdir: {setup.go_python_workdir}\n"
            f"    pythonPath: {venv_python}\n"
            f"    pythonSemver: {setup.python_semver}\n"
        )
    if engine == "ours-python":
        python = setup.ours_python or sys.executable
        return (
            "log:\n  level: error\n"
            f"deployers:\n  python:\n    deployer_name: python\n    pythonPath: {python}\n"
        )
    return "log:\n  level: error\ndeployers:\n  image:\n    deployer_name: docker\n"


def write_files(setup: Setup, engine: str, case: Case, directory: Path) -> list[str]:
    """Write workflow, sub-workflow, config and input for ``engine``; return its argv."""
    directory.mkdir(parents=True, exist_ok=True)
    plugin, step = _plugin_block(engine, setup)
    if case.shape == "foreach":
        (directory / "sub.yaml").write_text(
            "version: v0.2.0\n"
            + _NAME_SCOPE
            + "steps:\n  h:\n"
            + f"    plugin: {plugin}\n    step: {step}\n"
            + "    input: {name: !expr $.input.name}\n"
            + "outputs:\n  success: {message: !expr $.steps.h.outputs.success.message}\n"
        )
        items = ", ".join(f"{{name: i{index}}}" for index in range(case.count))
        workflow = (
            "version: v0.2.0\n"
            + _INPUT_SCOPE.format(props="{}")
            + "steps:\n  loop:\n    kind: foreach\n    workflow: sub.yaml\n"
            + f"    parallelism: {case.parallelism}\n    items: [{items}]\n"
            + "outputs:\n  success: {all: !expr $.steps.loop.outputs.success.data}\n"
        )
    else:
        lines = ["version: v0.2.0", _INPUT_SCOPE.format(props="{}").rstrip("\n"), "steps:"]
        for index in range(case.count):
            name = "first" if index == 0 else f"!expr $.steps.s{index - 1}.outputs.success.message"
            lines += [
                f"  s{index}:",
                f"    plugin: {plugin}",
                f"    step: {step}",
                f"    input: {{name: {name}}}",
            ]
        last = case.count - 1
        lines += ["outputs:", f"  success: {{last: !expr $.steps.s{last}.outputs.success}}"]
        workflow = "\n".join(lines) + "\n"
    (directory / "workflow.yaml").write_text(workflow)
    (directory / "input.yaml").write_text("{}\n")
    (directory / "config.yaml").write_text(_config(engine, setup))
    if engine.startswith("go-"):
        binary = str(setup.go_binary)
        argv = [binary]
    else:
        if setup.ours_cli is None:
            raise NotAvailableError("no arcaflow-steps executable found (--ours-cli)")
        argv = [setup.ours_cli, "workflow"]
    return [
        *argv,
        "-context",
        str(directory),
        "-config",
        "config.yaml",
        "-workflow",
        "workflow.yaml",
        "-input",
        "input.yaml",
    ]


def expected_greetings(case: Case) -> int:
    """Return how many ``Hello, `` the output document holds when the run succeeded."""
    return case.count if case.shape == "foreach" else 1


@dataclasses.dataclass
class Cell:
    """The runs of one (engine, case)."""

    engine: str
    case: str
    walls: list[float] = dataclasses.field(default_factory=list)
    cpus: list[float] = dataclasses.field(default_factory=list)
    loads: list[float] = dataclasses.field(default_factory=list)
    #: Seconds waited for a quiet machine before each run (warm-up included).
    settled: list[float] = dataclasses.field(default_factory=list)
    failure: str | None = None

    @property
    def median(self) -> float | None:
        """Return the median wall time, or None when the cell failed or has no runs."""
        return None if self.failure or not self.walls else statistics.median(self.walls)


#: Before each run: wait (at most this many seconds) until the CPUs are quiet.
SETTLE_LIMIT = 30.0
#: Quiet: at most this share of the CPUs busy over one window of this many seconds.
SETTLE_BUSY = 0.15
SETTLE_WINDOW = 0.5


def _cpu_times() -> tuple[int, int]:
    """Return (busy, total) jiffies of all CPUs (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def settle() -> float:
    """Wait until the machine is quiet (see ``SETTLE_*``); return how long that took.

    A docker cell leaves the daemon and the kernel removing hundreds of containers and their
    network namespaces for seconds after the engine exited: without this, that work lands on
    whichever cell runs next (ours-python followed go-docker in every run)."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_LIMIT:
        busy, total = _cpu_times()
        time.sleep(SETTLE_WINDOW)
        busy_after, total_after = _cpu_times()
        if (busy_after - busy) <= SETTLE_BUSY * max(total_after - total, 1):
            break
    return time.monotonic() - started


def run_cell_once(setup: Setup, cell: Cell, case: Case, directory: Path, *, timed: bool) -> None:
    """Run one (engine, case) once, on a quiet machine; record the run or the failure."""
    if cell.failure:
        return
    cell.settled.append(settle())
    try:
        argv = write_files(setup, cell.engine, case, directory)
    except NotAvailableError as exc:
        cell.failure = f"not available: {exc}"
        return
    result = run_process(argv, cwd=directory)
    if cell.engine == "go-python":
        clean_go_workdir(setup)
    greetings = result.stdout.count("Hello, ")
    if result.returncode != 0 or greetings < expected_greetings(case):
        tail = (result.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
        cell.failure = (
            f"exit {result.returncode}, {greetings} greetings on stdout; stderr: "
            + " | ".join(tail)
        )
        return
    if timed:
        cell.walls.append(result.wall)
        cell.cpus.append(result.cpu)
        cell.loads.append(result.load)


def render(
    cells: dict[tuple[str, str], Cell], cases: Sequence[Case], engines: Sequence[str]
) -> str:
    """Return the Markdown report."""
    lines = [
        "| case | engine | wall (median) | CPU s | ours / Go | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        for engine in engines:
            cell = cells[(case.name, engine)]
            if cell.failure:
                lines.append(f"| {case.name} | {engine} | {cell.failure} | | | | |")
                continue
            median = cell.median
            cpu = statistics.median(cell.cpus) if cell.cpus else None
            ratio = target = verdict = ""
            if (case.name, engine) in TARGETS:
                go_engine, limit = TARGETS[(case.name, engine)]
                go = cells.get((case.name, go_engine))
                if go is not None and go.median and median is not None:
                    value = median / go.median
                    ratio = f"{value:.3f} (vs {go_engine})"
                    verdict = "met" if value <= limit else "NOT met"
                target = f"≤ {limit}"
            wall = f"{median:.2f} s" if median is not None else "-"
            cpu_text = f"{cpu:.2f}" if cpu is not None else "-"
            lines.append(
                f"| {case.name} | {engine} | {wall} | {cpu_text} | {ratio} | {target} | {verdict} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the Markdown report and write it under bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per cell (median)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--go-venv", type=Path, default=None)
    parser.add_argument("--ours-cli", default=None)
    parser.add_argument("--nice", type=int, default=None, help="run at this niceness (root)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.nice is not None:
        os.nice(args.nice - os.nice(0))
    engines = [engine for engine in args.engines.split(",") if engine]
    cases = [CASES[name] for name in args.cases.split(",") if name]
    ours_cli = find_ours_cli(args.ours_cli, args.work)
    ours_python = args.work / "ours-venv" / "bin" / "python"
    setup = Setup(
        work=args.work,
        go_venv=args.go_venv or args.work / "go-venv",
        ours_cli=ours_cli,
        ours_python=str(ours_python) if ours_python.is_file() else None,
    )
    cells = {(case.name, engine): Cell(engine, case.name) for case in cases for engine in engines}
    started = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory(prefix="workflow-bench-") as temporary:
        root = Path(temporary)
        for run in range(args.runs + 1):  # run 0 warms up
            for case in cases:
                for engine in engines:
                    cell = cells[(case.name, engine)]
                    run_cell_once(setup, cell, case, root / case.name / engine, timed=run > 0)
                    median = cell.walls[-1] if cell.walls and run > 0 else None
                    status = cell.failure or (f"{median:.2f} s" if median else "warm-up")
                    waited = f" (waited {cell.settled[-1]:.1f} s for quiet)" if cell.settled else ""
                    print(f"[run {run}] {case.name} {engine}: {status}{waited}", file=sys.stderr)
    report = (
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine_description()}; "
        f"{args.runs} timed runs per cell after one warm-up, each started on a quiet machine, "
        "median wall time.\n\n" + render(cells, cases, engines)
    )
    print(report)
    if not args.no_write:
        results = HERE / "results"
        results.mkdir(exist_ok=True)
        (results / "workflow_vs_go.md").write_text(report)
        raw = {
            f"{case}/{engine}": dataclasses.asdict(cell) for (case, engine), cell in cells.items()
        }
        (results / "workflow_vs_go.json").write_text(json.dumps(raw, indent=2) + "\n")
    return 0 if all(not cell.failure for cell in cells.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
