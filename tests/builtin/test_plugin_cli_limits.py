"""`arcaflow-steps run` at the host's limits: few descriptors, signals at any moment (issue 9
§4). Each run is a real CLI process; nothing may be left: no process, no temp dir."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plugin_support import HELLO, PLUGINS, PROMPT, ROOT, descendants, wait_gone

_BESIDE = Path(sys.executable).with_name("arcaflow-steps")
CLI = str(_BESIDE) if _BESIDE.exists() else (shutil.which("arcaflow-steps") or "arcaflow-steps")
PRLIMIT = shutil.which("prlimit")
needs_prlimit = pytest.mark.skipif(PRLIMIT is None, reason="prlimit (util-linux) not installed")
#: What a step that found no descriptor left reports (the python deployer, forked).
EMFILE_REASON = (
    "too many open files (the limit is 256; run fewer steps at once with --parallelism, or "
    "raise it with ulimit -n)"
)


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    assert set() == wait_gone(descendants()), "processes left behind"


@pytest.fixture
def temp(tmp_path: Path) -> Path:
    """The TMPDIR of the CLI under test: empty again when the run is over."""
    path = tmp_path / "tmp"
    path.mkdir()
    return path


def hello_steps(tmp_path: Path, count: int, **deploy: object) -> str:
    steps = {
        f"s{i}": {
            "plugin": {"src": HELLO, "deployment_type": "python"},
            "input": {"name": f"n{i}"},
            **({"deploy": {"deployer_name": "python", **deploy}} if deploy else {}),
        }
        for i in range(count)
    }
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}))
    return str(path)


def limited_run(
    temp: Path, *args: str, nofile: int = 256, pass_fds: tuple[int, ...] = ()
) -> subprocess.CompletedProcess[str]:
    assert PRLIMIT is not None
    return subprocess.run(
        [PRLIMIT, f"--nofile={nofile}:{nofile}", CLI, "run", "--format", "json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": str(temp)},
        pass_fds=pass_fds,
    )


#: What the plugin provider says when a deploy waits for a process slot (limit 256).
BOUND_NOTE = "running at most 32 plugin processes at once (open file limit)\n"


@pytest.fixture
def used_elsewhere() -> Iterator[tuple[int, ...]]:
    """150 descriptors the CLI inherits: used elsewhere, not counted by the bound."""
    pipes = [os.pipe() for _ in range(75)]
    yield tuple(fd for pipe in pipes for fd in pipe)
    for pipe in pipes:
        for fd in pipe:
            os.close(fd)


@needs_prlimit
@pytest.mark.timeout(150)
def test_many_plugin_steps_wait_for_descriptors(tmp_path: Path, temp: Path) -> None:
    """128 plugin steps under a limit of 256 open files all succeed: the plugin provider keeps
    as many processes open at once as the limit allows and says so; no traceback, no temp dir
    left."""
    completed = limited_run(temp, hello_steps(tmp_path, 128))
    assert 0 == completed.returncode, completed.stderr
    results = json.loads(completed.stdout)
    assert {("outputs", "success"): 128} == Counter(
        (result["stage"], result["output_id"]) for result in results.values()
    )
    assert 1 == completed.stderr.count(BOUND_NOTE), completed.stderr
    assert "Traceback" not in completed.stderr
    assert [] == list(temp.iterdir())


@needs_prlimit
@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    ("fork_server", "prefix"),
    [
        (True, f"fork server for {sys.executable!r} cannot open pipes for a plugin: "),
        # forkServer: false execs the plugin from the shared launcher (a zygote) instead.
        (False, f"fork server for {sys.executable!r} cannot open pipes for a plugin: "),
    ],
    ids=["forked", "spawned"],
)
def test_steps_beyond_the_descriptor_limit_fail_cleanly(
    tmp_path: Path, temp: Path, fork_server: bool, prefix: str, used_elsewhere: tuple[int, ...]
) -> None:
    """With descriptors used elsewhere (150 inherited), the steps that find no descriptor end
    deploy_failed with the reason and what to do (exit 3); the rest succeed; no traceback, no
    temp dir."""
    completed = limited_run(
        temp, hello_steps(tmp_path, 128, forkServer=fork_server), pass_fds=used_elsewhere
    )
    assert 3 == completed.returncode, completed.stderr
    outcomes = Counter(
        (result["stage"], result["output_id"], str(result["output_data"].get("error")))
        for result in json.loads(completed.stdout).values()
    )
    failed = ("deploy_failed", "error", prefix + EMFILE_REASON)
    assert {("outputs", "success", "None"), failed} >= set(outcomes), outcomes
    assert outcomes[failed] > 0
    assert "Traceback" not in completed.stderr
    assert [] == list(temp.iterdir())


@needs_prlimit
@pytest.mark.timeout(150)
def test_other_steps_are_not_queued_by_the_plugin_process_bound(tmp_path: Path, temp: Path) -> None:
    """300 dummy steps under a limit of 256 open files hold no plugin process: none waits for
    a slot (no note), all succeed; so do --parallelism 128 plugin steps, now queued by the
    provider instead of failing."""
    steps = {f"d{i}": {"kind": "dummy", "name": f"n{i}"} for i in range(300)}
    path = tmp_path / "dummies.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}))
    completed = limited_run(temp, str(path))
    assert 0 == completed.returncode, completed.stderr
    results = json.loads(completed.stdout)
    assert {("greet", "success"): 300} == Counter(
        (result["stage"], result["output_id"]) for result in results.values()
    )
    assert "open file limit" not in completed.stderr
    completed = limited_run(temp, "--parallelism", "128", hello_steps(tmp_path, 128))
    assert 0 == completed.returncode, completed.stderr
    assert {("outputs", "success"): 128} == Counter(
        (result["stage"], result["output_id"]) for result in json.loads(completed.stdout).values()
    )
    assert [] == list(temp.iterdir())


SILENT = str(PLUGINS / "fake_silent.py")
TERMINAL = {"outputs", "closed", "deploy_failed", "crashed", "disabled"}


def start_cli(temp: Path, *args: str, nofile: int | None = None) -> subprocess.Popen[str]:
    limit = [] if nofile is None or PRLIMIT is None else [PRLIMIT, f"--nofile={nofile}:{nofile}"]
    return subprocess.Popen(
        [*limit, CLI, "run", "--format", "json", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )


def wait_for_temp_dir(temp: Path) -> None:
    deadline = time.monotonic() + PROMPT
    while not any(temp.iterdir()):
        assert time.monotonic() < deadline, "no plugin was ever deployed"
        time.sleep(0.002)


def finish(process: subprocess.Popen[str], temp: Path) -> tuple[dict[str, Any], str]:
    """Wait for the interrupted CLI; check exit 130, no traceback, no process, no temp dir."""
    pids = descendants(process.pid)
    stdout, stderr = process.communicate(timeout=60)
    assert 128 + signal.SIGINT == process.returncode, stderr
    assert "Traceback" not in stderr
    assert set() == wait_gone(pids)
    assert [] == list(temp.iterdir())
    return json.loads(stdout), stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("gap", [0.0, 0.003, 0.01, 0.03], ids=lambda gap: f"gap-{gap}")
@pytest.mark.parametrize(
    "definition",
    [
        {
            "plugin": {"src": SILENT, "deployment_type": "python"},
            "deploy": {"deployer_name": "python", "forkServer": False},
        },
        {"plugin": {"src": f"{sys.executable} {SILENT}", "deployment_type": "command"}},
    ],
    ids=["python-spawned", "command"],
)
def test_two_sigints_during_a_schema_handshake_leave_nothing(
    tmp_path: Path, temp: Path, definition: dict[str, object], gap: float
) -> None:
    """Two SIGINTs while a plugin that never greets is asked for its schema: the second never
    cuts the clean-up short (the temp dir went, the process too); the step is reported as
    not started; exit 130."""
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": {"silent": {**definition, "input": {}}}}))
    process = start_cli(temp, str(path))
    wait_for_temp_dir(temp)
    time.sleep(0.1)  # the plugin runs; the handshake waits for its hello
    process.send_signal(signal.SIGINT)
    time.sleep(gap)
    process.send_signal(signal.SIGINT)
    results, stderr = finish(process, temp)
    assert {
        "silent": {
            "stage": None,
            "output_id": None,
            "output_data": None,
            "error": "not started: interrupted by SIGINT while preparing steps",
        }
    } == results
    assert "arcaflow-steps: interrupted while preparing steps\n" == stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("moment", "parallelism"),
    [("while-deploying", "128"), ("while-deploying-queued", "4"), ("while-running", "128")],
)
def test_sigint_at_the_start_of_a_large_run_reports_every_step(
    tmp_path: Path, temp: Path, moment: str, parallelism: str
) -> None:
    """SIGINT as the first steps deploy (all at once, or most still queued) or once they
    run: every step is reported in a terminal stage (never "the runner is closed"), exit 130,
    nothing left behind."""
    file = hello_steps(tmp_path, 128)
    process = start_cli(temp, "--parallelism", parallelism, file)
    assert process.stderr is not None
    wanted = "-> deploy" if moment.startswith("while-deploying") else "-> running"
    deadline = time.monotonic() + PROMPT
    while wanted not in process.stderr.readline():
        assert time.monotonic() < deadline, f"never saw {wanted!r}"
    process.send_signal(signal.SIGINT)
    results, stderr = finish(process, temp)
    assert {f"s{i}" for i in range(128)} == set(results)
    stages = Counter(result["stage"] for result in results.values())
    assert TERMINAL >= set(stages), stages
    assert stages["closed"] > 0, stages
    assert "SIGINT: closing every running step (again to force)" in stderr
    assert "the runner is closed" not in stderr


@needs_prlimit
@pytest.mark.timeout(120)
def test_sigint_while_steps_wait_for_a_plugin_process_slot(tmp_path: Path, temp: Path) -> None:
    """SIGINT once the plugin provider's bound is reached (128 steps, limit 256: 96 wait for a
    slot): the waiting steps stop waiting and end closed, every step is reported, exit 130,
    nothing left behind."""
    process = start_cli(temp, hello_steps(tmp_path, 128), nofile=256)
    assert process.stderr is not None
    deadline = time.monotonic() + PROMPT
    while BOUND_NOTE not in process.stderr.readline():
        assert time.monotonic() < deadline, "the bound was never reached"
    process.send_signal(signal.SIGINT)
    results, stderr = finish(process, temp)
    assert {f"s{i}" for i in range(128)} == set(results)
    stages = Counter(result["stage"] for result in results.values())
    assert TERMINAL >= set(stages), stages
    assert stages["closed"] > 0, stages
    assert "the runner is closed" not in stderr


@pytest.mark.timeout(90)
def test_sigint_while_reading_schemas_reports_every_step_not_started(
    tmp_path: Path, temp: Path
) -> None:
    """SIGINT while the plugin's schema is read (before any step starts): every step is
    reported as not started, exit 130, no probe process or temp dir left."""
    file = hello_steps(tmp_path, 32, forkServer=False)
    process = start_cli(temp, file)
    wait_for_temp_dir(temp)
    process.send_signal(signal.SIGINT)
    results, _stderr = finish(process, temp)
    assert {f"s{i}" for i in range(32)} == set(results)
    # Either the probe was still greeting (nothing started), or the steps had just begun.
    stages = Counter(result["stage"] for result in results.values())
    assert {None} == set(stages) or TERMINAL >= set(stages), stages
