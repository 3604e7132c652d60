"""Side-by-side benchmark: the ``plugin`` provider against the reference Go engine and the floor.

Theory of operation
-------------------
Every engine runs the same benchmark plugin (``bench/plugins/arcaflow_plugin_bench``, built with
``arcaflow-plugin-sdk==0.14.3``) through a python deployer, on these cases:

* ``hello x1``, ``hello x32``, ``hello x128``: N independent ``hello`` steps in one file;
* ``sleep x32``: 32 independent steps that each sleep 0.5 s;
* ``spin x32``: 32 independent steps that each burn 0.1 s of CPU in pure Python (no target: it
  shows what multiplexing costs when steps are CPU-bound, as they share one GIL).

Engines (each one a separate OS process, timed from spawn to exit, as a user would see it):

* ``go``: ``arcaflow -input -config -workflow`` (``pip install arcaflow==0.21.0``), its python
  deployer pointed at a pre-built venv (``modulePullPolicy: IfNotPresent``, never pulls). The
  workflow's output references every step, so the engine waits for all of them.
* ``ours``: ``arcaflow-steps run FILE --parallelism N`` with a ``steps:`` map.
* ``ours-mux``: the same with ``plugin.multiplex: true`` (one plugin process per source; ATP
  multiplexes the runs by run id).
* ``ours-spawn``: the same with the python deployer's fork server off (``deploy:
  {deployer_name: python, forkServer: false}``): a fresh interpreter per plugin process, as in
  the Go engine (diagnostic; the deploy config differs from the schema probe's, so the probe
  process is not reused for the first step).
* ``floor``: the plugin without any engine, ``hello x1`` only: ``python -m arcaflow_plugin_bench
  -s hello -f input.yaml`` (``floor-cli``), and its ATP server driven from the benchmark process
  over pipes (``floor-atp``: handshake, one run, client done, exit).

Method: one warm-up run per (engine, case), then ``--runs`` (default 5) timed runs, interleaved
across engines, median reported. Wall time is ``time.perf_counter`` around the process, from
``fork`` to ``wait4``. Memory is measured in separate runs (sampling perturbs timing on a small
machine): the peak over time of the summed RSS of the whole process tree (the engine and every
descendant), read from ``/proc`` every ``--sample-interval`` seconds. The timed runs also record
the largest single-process peak RSS from ``wait4``'s ``ru_maxrss`` (exact, no sampling).

Usage (after ``bench/setup.sh``)::

    python bench/plugin_vs_go.py                      # everything, 5 runs each
    python bench/plugin_vs_go.py --engines go --cases hello-1 --runs 3
    python bench/plugin_vs_go.py --runs 1 --no-write  # quick look

Writes ``bench/results/plugin_vs_go.md`` (tables) and ``plugin_vs_go.json`` (raw numbers).
An engine that cannot run a case (for example our CLI before it supports plugin steps) is
reported as "not available" with the reason, and the script goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CASES", "Case", "Measurement", "main"]

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = Path(os.environ.get("BENCH_WORK", HERE / ".work"))
PLUGIN_PROJECT = HERE / "plugins" / "arcaflow_plugin_bench"
PLUGIN_PACKAGE = PLUGIN_PROJECT / "arcaflow_plugin_bench"
PLUGIN_MODULE = "arcaflow_plugin_bench"
#: The Go python deployer wants ``<module-name>@git+<url>``; the URL is never contacted because
#: the venv is pre-built and the pull policy is IfNotPresent.
GO_PLUGIN_SRC = "arcaflow-plugin-bench@git+https://example.invalid/arcaflow-plugin-bench"
GO_PLUGIN_DIR = "arcaflow-plugin-bench_latest"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
RUN_TIMEOUT = 600.0


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark configuration: ``count`` independent steps of plugin step ``step``."""

    name: str
    step: str
    count: int
    #: ``("ratio", x)``: ours/Go ≤ x; ``("wall", s)``: our wall time ≤ s; ``("none", 0)``.
    target: tuple[str, float]

    def step_input(self, index: int) -> dict[str, Any]:
        """Return the plugin input of step ``index``."""
        if self.step == "sleep":
            return {"seconds": 0.5}
        if self.step == "spin":
            return {"seconds": 0.1}
        return {"name": f"s{index}"}

    def expected_marker(self) -> str:
        """Return the text that appears once per successful step in an engine's output."""
        return {"sleep": "slept:", "spin": "iterations:"}.get(self.step, "Hello, s")


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case(name="hello-1", step="hello", count=1, target=("ratio", 1.0)),
        Case(name="hello-32", step="hello", count=32, target=("ratio", 0.35)),
        Case(name="hello-128", step="hello", count=128, target=("ratio", 0.35)),
        Case(name="sleep-32", step="sleep", count=32, target=("wall", 1.5)),
        Case(name="spin-32", step="spin", count=32, target=("none", 0.0)),
    )
}
ENGINES = ("go", "ours", "ours-mux", "ours-spawn", "floor-cli", "floor-atp")
OUR_ENGINES = ("ours", "ours-mux", "ours-spawn")
FLOOR_ENGINES = ("floor-cli", "floor-atp")


class NotAvailableError(Exception):
    """An engine cannot run a case here; the message says why."""


@dataclasses.dataclass
class Measurement:
    """The runs of one (engine, case)."""

    engine: str
    case: str
    walls: list[float] = dataclasses.field(default_factory=list)
    #: CPU seconds (user + system, whole tree) per timed run.
    cpus: list[float] = dataclasses.field(default_factory=list)
    #: 1-minute load average before each timed run.
    loads: list[float] = dataclasses.field(default_factory=list)
    #: Largest single-process peak RSS (bytes) per timed run, from wait4.
    max_process_rss: list[int] = dataclasses.field(default_factory=list)
    #: Peak summed RSS of the process tree (bytes) per memory run, sampled.
    tree_rss: list[int] = dataclasses.field(default_factory=list)
    #: Peak summed PSS of the process tree (bytes) per memory run, sampled.
    tree_pss: list[int] = dataclasses.field(default_factory=list)
    unavailable: str | None = None
    #: Runs that failed (the shared work tree may be mid-edit); retried, not counted. Run 0 is
    #: the warm-up, run -1 a memory run.
    failures: list[str] = dataclasses.field(default_factory=list)

    @property
    def median(self) -> float | None:
        """Return the median wall time, or None without runs or when the cell failed."""
        if self.unavailable or not self.walls:
            return None
        return statistics.median(self.walls)


# --------------------------------------------------------------------------------------------
# Process measurement


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        # Field 4 is the ppid; the command name (field 2) may contain spaces and parentheses.
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _pss(pid: int) -> int:
    """Return the proportional set size (bytes) of ``pid``: shared pages split among sharers."""
    with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
        for line in rollup:
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_memory(root: int) -> tuple[int, int]:
    """Return the summed RSS and PSS (bytes) of ``root`` and all its descendants.

    RSS counts a page shared by several processes (the interpreter, and with a fork server
    everything imported before the fork) once per process; PSS divides it among them.
    """
    children = _children_map()
    rss = pss = 0
    stack = [root]
    seen: set[int] = set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                rss += int(statm.read().split()[1]) * PAGE_SIZE
            pss += _pss(pid)
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return rss, pss


def tree_rss(root: int) -> int:
    """Return the summed resident set size (bytes) of ``root`` and all its descendants."""
    return tree_memory(root)[0]


@dataclasses.dataclass
class ProcessResult:
    """What one measured process run produced."""

    wall: float
    returncode: int
    stdout: str
    stderr: str
    max_process_rss: int
    tree_rss: int | None
    tree_pss: int | None = None
    #: User + system CPU seconds of the process and its reaped descendants (wait4).
    cpu: float = 0.0
    #: The 1-minute load average just before the run.
    load: float = 0.0


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    sample_interval: float | None = None,
    timeout: float = RUN_TIMEOUT,
) -> ProcessResult:
    """Run ``argv`` in its own session; time it from spawn to reap; optionally sample memory."""
    load = load_average()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            assert sample_interval is not None
            while not done.is_set():
                rss, pss = tree_memory(process.pid)
                peak[0] = max(peak[0], rss)
                peak[1] = max(peak[1], pss)
                done.wait(sample_interval)

        sampler = threading.Thread(target=sample, daemon=True) if sample_interval else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, _kill_group, (process.pid,))
        timer.start()
        try:
            _, status, rusage = os.wait4(process.pid, 0)
        finally:
            wall = time.perf_counter() - start
            timer.cancel()
            done.set()
            process.returncode = os.waitstatus_to_exitcode(status)
            # Anything the engine left behind in its session goes too.
            _kill_group(process.pid)
        if sampler:
            sampler.join()
        out.seek(0)
        err.seek(0)
        return ProcessResult(
            wall=wall,
            returncode=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            max_process_rss=rusage.ru_maxrss * 1024,
            tree_rss=peak[0] if sampler else None,
            tree_pss=peak[1] if sampler else None,
            cpu=rusage.ru_utime + rusage.ru_stime,
            load=load,
        )


def load_average() -> float:
    """Return the 1-minute load average (other work on the machine skews wall times)."""
    return os.getloadavg()[0]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Engines


def _yaml_scalar(value: Any) -> str:
    return json.dumps(value)  # JSON scalars are valid YAML scalars


def _yaml_map(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {_yaml_scalar(value)}" for key, value in mapping.items()) + "}"


@dataclasses.dataclass
class Setup:
    """Paths of the benchmark environment made by ``bench/setup.sh``."""

    work: Path
    go_venv: Path
    ours_cli: str | None
    ours_python: str | None

    @property
    def go_binary(self) -> Path:
        """Return the Go engine binary shipped in the ``arcaflow`` wheel."""
        matches = sorted(self.go_venv.glob("lib/python*/site-packages/arcaflow/bin/arcaflow"))
        if not matches:
            raise NotAvailableError(f"no arcaflow binary in {self.go_venv}; run bench/setup.sh")
        return matches[0]

    @property
    def go_python_workdir(self) -> Path:
        """Return the Go python deployer's workdir."""
        return self.work / "go-python"

    @property
    def plugin_venv(self) -> Path:
        """Return the pre-built plugin venv the Go python deployer (connector 1) uses."""
        matches = sorted(self.go_python_workdir.glob(f"connector_*_1/{GO_PLUGIN_DIR}/venv"))
        if not matches:
            raise NotAvailableError(f"no pre-built plugin venv under {self.go_python_workdir}")
        return matches[0]

    @property
    def python_semver(self) -> str:
        """Return the Python version the plugin venv was made for (from its directory name)."""
        connector = self.plugin_venv.parent.parent.name  # connector_3-11-7_1
        return connector.split("_")[1].replace("-", ".")


def write_go_files(setup: Setup, case: Case, directory: Path) -> list[str]:
    """Write the Go engine workflow, config and input; return the engine argv."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "version: v0.2.0",
        "input:",
        "  root: RootObject",
        "  objects:",
        "    RootObject:",
        "      id: RootObject",
        "      properties: {}",
        "steps:",
    ]
    for index in range(case.count):
        lines += [
            f"  s{index}:",
            "    plugin:",
            f"      src: {GO_PLUGIN_SRC}",
            "      deployment_type: python",
            f"    step: {case.step}",
            f"    input: {_yaml_map(case.step_input(index))}",
        ]
    lines += ["outputs:", "  success:"]
    lines += [f"    s{i}: !expr $.steps.s{i}.outputs.success" for i in range(case.count)]
    (directory / "workflow.yaml").write_text("\n".join(lines) + "\n")
    (directory / "input.yaml").write_text("{}\n")
    venv_python = setup.plugin_venv / "bin" / "python"
    (directory / "config.yaml").write_text(
        "log:\n"
        "  level: info\n"
        "deployers:\n"
        "  python:\n"
        "    deployer_name: python\n"
        "    modulePullPolicy: IfNotPresent\n"
        f"    workdir: {setup.go_python_workdir}\n"
        f"    pythonPath: {venv_python}\n"
        f"    pythonSemver: {setup.python_semver}\n"
    )
    return [
        str(setup.go_binary),
        "-context",
        str(directory),
        "-input",
        str(directory / "input.yaml"),
        "-config",
        str(directory / "config.yaml"),
        "-workflow",
        str(directory / "workflow.yaml"),
    ]


def clean_go_workdir(setup: Setup) -> None:
    """Remove the per-run temporary directories the Go python deployer leaves behind."""
    for connector in setup.go_python_workdir.glob("connector_*"):
        for entry in connector.iterdir():
            if entry.name != GO_PLUGIN_DIR and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
        if connector.name.endswith("_1"):
            continue
        if not any(connector.iterdir()):
            connector.rmdir()


def write_ours_file(
    setup: Setup, case: Case, directory: Path, *, multiplex: bool = False, spawn: bool = False
) -> list[str]:
    """Write our step file; return the CLI argv.

    ``spawn`` turns the python deployer's fork server off (every plugin process is a fresh
    interpreter, as in the Go engine).
    """
    if setup.ours_cli is None:
        raise NotAvailableError("no arcaflow-steps executable found (--ours-cli)")
    directory.mkdir(parents=True, exist_ok=True)
    plugin: dict[str, Any] = {"src": str(PLUGIN_PACKAGE), "deployment_type": "python"}
    if multiplex:
        plugin["multiplex"] = True
    lines = ["steps:"]
    for index in range(case.count):
        lines += [
            f"  s{index}:",
            f"    plugin: {_yaml_map(plugin)}",
            f"    step: {case.step}",
            f"    input: {_yaml_map(case.step_input(index))}",
        ]
        deploy: dict[str, Any] = {}
        if setup.ours_python:
            deploy["pythonPath"] = setup.ours_python
        if spawn:
            deploy["forkServer"] = False
        if deploy:
            deploy = {"deployer_name": "python", **deploy}
            lines.append(f"    deploy: {_yaml_map(deploy)}")
    name = "steps-mux" if multiplex else "steps-spawn" if spawn else "steps"
    path = directory / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return [setup.ours_cli, "run", str(path), "--parallelism", str(case.count)]


def write_floor_cli(setup: Setup, case: Case, directory: Path) -> list[str]:
    """Write the plugin's input file; return ``python -m module -s step -f input``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "floor-input.yaml"
    path.write_text(_yaml_map(case.step_input(0)) + "\n")
    python = setup.plugin_venv / "bin" / "python"
    return [str(python), "-m", PLUGIN_MODULE, "-s", case.step, "-f", str(path)]


def floor_atp_argv(setup: Setup) -> list[str]:
    """Return the argv of the plugin's ATP server (driven by :func:`run_floor_atp`)."""
    return [str(setup.plugin_venv / "bin" / "python"), "-m", PLUGIN_MODULE, "--atp"]


def run_floor_atp(
    argv: Sequence[str], case: Case, *, sample_interval: float | None = None
) -> ProcessResult:
    """Drive one ATP exchange with the plugin from this process; time spawn to reap.

    Handshake (``null`` → hello), one WORK_START → WORK_DONE, CLIENT_DONE, stdin EOF, exit: the
    least any engine must do to run one step of a plugin process over ATP.
    """
    try:
        import cbor2  # only this measurement needs it
    except ImportError as exc:
        raise NotAvailableError("cbor2 is not importable by the benchmark's interpreter") from exc
    load = load_average()
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdin is not None
    assert process.stdout is not None
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        assert sample_interval is not None
        while not done.is_set():
            rss, pss = tree_memory(process.pid)
            peak[0] = max(peak[0], rss)
            peak[1] = max(peak[1], pss)
            done.wait(sample_interval)

    sampler = threading.Thread(target=sample, daemon=True) if sample_interval else None
    if sampler:
        sampler.start()
    decoder = cbor2.CBORDecoder(process.stdout)

    def send(message: Any) -> None:
        assert process.stdin is not None
        process.stdin.write(cbor2.dumps(message))
        process.stdin.flush()

    try:
        send(None)
        hello: Any = decoder.decode()
        send({"id": 1, "run_id": "r", "data": {"id": case.step, "config": case.step_input(0)}})
        work_done: Any = decoder.decode()
        send({"id": 4, "run_id": "", "data": {}})
        process.stdin.close()
        _, status, rusage = os.wait4(process.pid, 0)
    finally:
        wall = time.perf_counter() - start
        done.set()
        _kill_group(process.pid)
    if sampler:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    ok = hello.get("version") == 3 and work_done.get("id") == 2
    return ProcessResult(
        wall=wall,
        returncode=process.returncode if ok else 1,
        stdout=json.dumps(work_done, default=repr),
        stderr="" if ok else f"unexpected ATP exchange: {hello!r} / {work_done!r}",
        max_process_rss=rusage.ru_maxrss * 1024,
        tree_rss=peak[0] if sampler else None,
        tree_pss=peak[1] if sampler else None,
        cpu=rusage.ru_utime + rusage.ru_stime,
        load=load,
    )


def engine_argv(setup: Setup, engine: str, case: Case, directory: Path) -> list[str]:
    """Return the argv that runs ``case`` on ``engine``, writing its files into ``directory``."""
    if engine == "go":
        return write_go_files(setup, case, directory / "go")
    if engine == "ours":
        return write_ours_file(setup, case, directory / "ours", multiplex=False)
    if engine == "ours-mux":
        return write_ours_file(setup, case, directory / "ours", multiplex=True)
    if engine == "ours-spawn":
        return write_ours_file(setup, case, directory / "ours", spawn=True)
    if case.count != 1 or case.step != "hello":
        raise NotAvailableError("the floor is measured for hello x1 only")
    if engine == "floor-cli":
        return write_floor_cli(setup, case, directory / "floor")
    if engine == "floor-atp":
        return floor_atp_argv(setup)
    raise ValueError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")


def measure_once(
    setup: Setup,
    engine: str,
    case: Case,
    argv: list[str],
    *,
    sample_interval: float | None = None,
) -> ProcessResult:
    """Run ``argv`` once and check that every step succeeded; raise NotAvailableError otherwise."""
    if engine == "floor-atp":
        result = run_floor_atp(argv, case, sample_interval=sample_interval)
    else:
        result = run_process(argv, cwd=HERE.parent, sample_interval=sample_interval)
    if engine == "go":
        clean_go_workdir(setup)
    expected = 1 if engine in FLOOR_ENGINES else case.count
    if engine == "floor-atp":
        found = expected if result.returncode == 0 else 0
    else:
        found = result.stdout.count(case.expected_marker())
    if result.returncode != 0 or found != expected:
        tail = (result.stderr.strip().splitlines() or ["(no stderr)"])[-1][:300]
        raise NotAvailableError(
            f"exit {result.returncode}, {found}/{expected} step outputs; last stderr line: {tail}"
        )
    return result


def measure_with_retries(
    setup: Setup,
    measurement: Measurement,
    argv: list[str],
    *,
    run: int,
    log: Callable[[str], None],
    attempts: int = 3,
    sample_interval: float | None = None,
) -> ProcessResult | None:
    """Measure one run; record failures; give up on the cell after ``attempts``.

    A memory run (``sample_interval`` set) that keeps failing leaves the cell's timings alone.
    """
    for attempt in range(attempts):
        if attempt:
            time.sleep(2.0)  # let a half-saved edit in the shared tree finish
        try:
            return measure_once(
                setup,
                measurement.engine,
                CASES[measurement.case],
                argv,
                sample_interval=sample_interval,
            )
        except NotAvailableError as exc:
            measurement.failures.append(f"run {run}: {exc}")
            log(f"  failed: {measurement.engine} {measurement.case}: {exc}")
    if sample_interval is None:
        measurement.unavailable = (
            f"{attempts} attempts of run {run} failed: {measurement.failures[-1]}"
        )
    return None


# --------------------------------------------------------------------------------------------
# Reporting


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _max(values: list[int]) -> int | None:
    return max(values) if values else None


def verdict(case: Case, ours: Measurement | None, go: Measurement | None) -> tuple[str, str]:
    """Return (the target text, pass/fail/n.a.) for ``case``."""
    kind, limit = case.target
    if kind == "none":
        return "(none)", "-"
    if kind == "ratio":
        text = f"ours/Go ≤ {limit:g}"
        if ours is None or go is None or ours.median is None or go.median is None:
            return text, "n/a"
        return text, "pass" if ours.median / go.median <= limit else "FAIL"
    text = f"ours ≤ {limit:g} s"
    if ours is None or ours.median is None:
        return text, "n/a"
    return text, "pass" if ours.median <= limit else "FAIL"


def render(
    results: dict[tuple[str, str], Measurement], cases: list[Case], meta: dict[str, Any]
) -> str:
    """Return the markdown report."""
    out = [
        "# plugin provider vs Go engine 0.21.0",
        "",
        f"{meta['date']} on {meta['machine']}, niceness {meta.get('nice', 0)}. "
        f"{meta['runs']} timed runs per cell after one "
        f"warm-up; memory from {meta['memory_runs']} separate sampled run(s), every "
        f"{meta['sample_interval'] * 1000:.0f} ms. Generated by `bench/plugin_vs_go.py`.",
        "",
        "Wall time in seconds: median (min). Ratio = median ours / median Go.",
        "",
        "| case | Go | ours | ours/Go | ours-mux | mux/Go | ours-spawn | spawn/Go | target "
        "| ours | mux |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]

    def get(engine: str, case: Case) -> Measurement | None:
        return results.get((engine, case.name))

    def wall(measurement: Measurement | None) -> str:
        if measurement is None:
            return "-"
        if measurement.unavailable or measurement.median is None:
            return "n/a"
        return f"{measurement.median:.3f} ({min(measurement.walls):.3f})"

    def ratio(a: Measurement | None, b: Measurement | None) -> str:
        if a is None or b is None or a.median is None or b.median is None:
            return "-"
        return f"{a.median / b.median:.2f}"

    def per_engine(case: Case, cell: Any) -> str:
        cells = []
        for engine in ("go", *OUR_ENGINES):
            measurement = get(engine, case)
            if measurement is None:
                cells.append("-")
            elif measurement.unavailable or not measurement.walls:
                cells.append("n/a")
            else:
                cells.append(cell(measurement))
        return f"| {case.name} | " + " | ".join(cells) + " |"

    for case in cases:
        go, ours, mux = get("go", case), get("ours", case), get("ours-mux", case)
        spawn = get("ours-spawn", case)
        target, ours_verdict = verdict(case, ours, go)
        _, mux_verdict = verdict(case, mux, go)
        out.append(
            f"| {case.name} | {wall(go)} | {wall(ours)} | {ratio(ours, go)} | {wall(mux)} | "
            f"{ratio(mux, go)} | {wall(spawn)} | {ratio(spawn, go)} | {target} | "
            f"{ours_verdict} | {mux_verdict} |"
        )
    out += [
        "",
        "CPU seconds (user + system of the engine and every reaped descendant, from `wait4`), "
        "median; less sensitive than wall time to other work on the machine.",
        "",
        "| case | Go | ours | ours-mux | ours-spawn |",
        "|---|---:|---:|---:|---:|",
    ]
    out += [per_engine(case, lambda m: f"{statistics.median(m.cpus):.2f}") for case in cases]
    out += [
        "",
        "Memory in MiB: peak summed RSS of the process tree / peak summed PSS (shared pages "
        "divided among the processes sharing them; both sampled) / largest single process's "
        "peak RSS (`ru_maxrss`, max over the timed runs).",
        "",
        "| case | Go | ours | ours-mux | ours-spawn |",
        "|---|---:|---:|---:|---:|",
    ]
    out += [
        per_engine(
            case,
            lambda m: (
                f"{_mib(_max(m.tree_rss))} / {_mib(_max(m.tree_pss))} / "
                f"{_mib(_max(m.max_process_rss))}"
            ),
        )
        for case in cases
    ]
    floors = [
        (engine, results[(engine, "hello-1")])
        for engine in FLOOR_ENGINES
        if (engine, "hello-1") in results
    ]
    if floors:
        out += [
            "",
            "Floor (hello x1, no engine):",
            "",
            "| how | wall median (min) | CPU s | tree RSS MiB | what |",
            "|---|---:|---:|---:|---|",
        ]
        notes = {
            "floor-cli": "`python -m arcaflow_plugin_bench -s hello -f input.yaml`",
            "floor-atp": "`python -m arcaflow_plugin_bench --atp`: handshake, one run, "
            "client done, exit",
        }
        for engine, measurement in floors:
            cpu = f"{statistics.median(measurement.cpus):.2f}" if measurement.cpus else "-"
            out.append(
                f"| {engine} | {wall(measurement)} | {cpu} | "
                f"{_mib(_max(measurement.tree_rss))} | {notes[engine]} |"
            )
    unavailable = [m for m in results.values() if m.unavailable]
    if unavailable:
        out += ["", "Not available:", ""]
        out += [f"- {m.engine} {m.case}: {m.unavailable}" for m in unavailable]
    failed = [m for m in results.values() if m.failures and not m.unavailable]
    if failed:
        out += ["", "Failed runs (retried, not counted):", ""]
        out += [f"- {m.engine} {m.case}: {f}" for m in failed for f in m.failures]
    runs = [
        f"- {m.engine} {m.case}: "
        + ", ".join(
            f"{w:.3f}/{c:.2f}/{load:.1f}"
            for w, c, load in zip(m.walls, m.cpus, m.loads, strict=True)
        )
        for m in results.values()
        if m.walls
    ]
    out += ["", "Every timed run (wall s / CPU s / 1-min load average before it):", "", *runs, ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main


def find_ours_cli(explicit: str | None, work: Path) -> str | None:
    """Return the ``arcaflow-steps`` executable: explicit, setup.sh's ``ours-venv``, beside this
    interpreter, or on PATH."""
    if explicit:
        return explicit
    installed = work / "ours-venv" / "bin" / "arcaflow-steps"
    if installed.is_file():
        return str(installed)
    beside = Path(sys.executable).parent / "arcaflow-steps"
    if beside.is_file():
        return str(beside)
    return shutil.which("arcaflow-steps")


def machine_description() -> str:
    """Return a one-line description of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0912, PLR0915 (a linear script)
    """Run the benchmark; print the markdown report and write it under bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per cell (median)")
    parser.add_argument("--memory-runs", type=int, default=1, help="sampled runs per cell")
    parser.add_argument("--sample-interval", type=float, default=0.02, help="seconds")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="bench/setup.sh's work dir")
    parser.add_argument(
        "--go-venv",
        type=Path,
        default=Path(os.environ["BENCH_GO_VENV"]) if "BENCH_GO_VENV" in os.environ else None,
        help="venv with arcaflow==0.21.0 (default: <work>/go-venv, or $BENCH_GO_VENV)",
    )
    parser.add_argument(
        "--ours-cli",
        help="arcaflow-steps executable (default: <work>/ours-venv from setup.sh, else the one "
        "beside this interpreter, else PATH)",
    )
    parser.add_argument(
        "--ours-python",
        help="run our plugin processes with this interpreter (a deploy: pythonPath per step); "
        "default: the interpreter arcaflow-steps runs on",
    )
    parser.add_argument("--no-write", action="store_true", help="only print the report")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "plugin_vs_go")
    parser.add_argument("--render", type=Path, help="only re-render the report of a JSON file")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="add this to the scheduling niceness of the benchmark and every engine it runs "
        "(negative needs root): on a machine shared with other work, -10 gives the measured "
        "processes most of the CPU, the same for every engine",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE if set (by default it is removed for the engines, so "
        "an editable install is measured with its .pyc files, like an installed one)",
    )
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    if not args.no_bytecode:
        # Without .pyc files every run of an editable install recompiles ~50 modules (0.09 s).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.render:
        raw = json.loads(args.render.read_text())
        loaded = [Measurement(**item) for item in raw["results"]]
        names = list(dict.fromkeys(m.case for m in loaded))
        print(
            render({(m.engine, m.case): m for m in loaded}, [CASES[n] for n in names], raw["meta"])
        )
        return 0

    setup = Setup(
        work=args.work,
        go_venv=args.go_venv or args.work / "go-venv",
        ours_cli=find_ours_cli(args.ours_cli, args.work),
        ours_python=args.ours_python,
    )
    engines = [e for e in args.engines.split(",") if e]
    cases = [CASES[c] for c in args.cases.split(",") if c]
    generated = args.work / "generated"
    results: dict[tuple[str, str], Measurement] = {}
    plans: dict[tuple[str, str], list[str]] = {}

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    for case in cases:
        for engine in engines:
            if engine in FLOOR_ENGINES and case.name != "hello-1":
                continue
            measurement = Measurement(engine=engine, case=case.name)
            results[(engine, case.name)] = measurement
            try:
                argv_ = engine_argv(setup, engine, case, generated / case.name)
            except NotAvailableError as exc:
                measurement.unavailable = str(exc)
                log(f"  not available: {engine} {case.name}: {exc}")
                continue
            log(f"warm-up {engine} {case.name}")
            if measure_with_retries(setup, measurement, argv_, run=0, log=log) is not None:
                plans[(engine, case.name)] = argv_

    for run in range(args.runs):
        for (engine, case_name), argv_ in plans.items():
            measurement = results[(engine, case_name)]
            if measurement.unavailable:
                continue
            result = measure_with_retries(setup, measurement, argv_, run=run + 1, log=log)
            if result is None:
                continue
            measurement.walls.append(result.wall)
            measurement.cpus.append(result.cpu)
            measurement.loads.append(result.load)
            measurement.max_process_rss.append(result.max_process_rss)
            log(
                f"run {run + 1}/{args.runs} {engine} {case_name}: {result.wall:.3f} s wall, "
                f"{result.cpu:.2f} s CPU, load {result.load:.1f}"
            )

    for (engine, case_name), argv_ in plans.items():
        measurement = results[(engine, case_name)]
        for _ in range(args.memory_runs if not measurement.unavailable else 0):
            result = measure_with_retries(
                setup,
                measurement,
                argv_,
                run=-1,
                log=log,
                sample_interval=args.sample_interval,
            )
            if result is None:
                continue
            assert result.tree_rss is not None
            measurement.tree_rss.append(result.tree_rss)
            measurement.tree_pss.append(result.tree_pss or 0)
            log(
                f"memory {engine} {case_name}: RSS {result.tree_rss / 2**20:.0f} MiB, "
                f"PSS {(result.tree_pss or 0) / 2**20:.0f} MiB"
            )

    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "runs": args.runs,
        "memory_runs": args.memory_runs,
        "sample_interval": args.sample_interval,
    }
    report = render(results, cases, meta)
    print(report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.with_suffix(".md").write_text(report)
        raw = {
            "meta": meta,
            "results": [dataclasses.asdict(m) for m in results.values()],
        }
        args.output.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
