"""Whatever a plugin starts ends with its step, its zygote or the CLI (issue 9 §1, §2 local).

Every test runs ``arcaflow-steps run`` with ``tests/plugins/plugin_detach.py``, whose steps leave
a process behind (inheriting stdio, redirected, a double-fork ``setsid`` daemon), in every local
deployment mode: a zygote forked from the CLI, a started zygote (another interpreter path), a
fresh interpreter per plugin (``forkServer: false``) and the ``command`` deployer. The leftover
is found by the unique marker in its argv, since a daemon leaves our process tree.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from plugin_support import PLUGINS, ROOT, descendants, is_running, marked, wait_gone
from test_plugin_cli import CLI

from arcaflow_steps_builtin.deployers._container_owner import ContainerOwner
from arcaflow_steps_builtin.deployers._leftovers import remove_stale_temp_dirs
from arcaflow_steps_builtin.deployers._process import spawn

DETACH = str(PLUGINS / "plugin_detach.py")
#: The interpreter under another name: the CLI cannot fork the zygote from itself, it starts one.
OTHER_NAME = f"{os.path.dirname(sys.executable)}/./{os.path.basename(sys.executable)}"
MODES: dict[str, dict[str, Any]] = {
    "forked-zygote": {"plugin": {"src": DETACH, "deployment_type": "python"}},
    "started-zygote": {
        "plugin": {"src": DETACH, "deployment_type": "python"},
        "deploy": {"deployer_name": "python", "pythonPath": OTHER_NAME},
    },
    "no-fork-server": {
        "plugin": {"src": DETACH, "deployment_type": "python"},
        "deploy": {"deployer_name": "python", "forkServer": False},
    },
    "command": {"plugin": {"src": f"{sys.executable} {DETACH}", "deployment_type": "command"}},
}
DETACHING_STEPS = ("background-inherit", "background-redirected", "daemon")


def step(mode: str, step_id: str, marker: str, **inputs: Any) -> dict[str, Any]:
    """Return a step definition of ``plugin_detach`` in ``mode``."""
    return {**MODES[mode], "step": step_id, "input": {"marker": marker, **inputs}}


def start_cli(tmp_path: Path, steps: dict[str, Any]) -> subprocess.Popen[str]:
    """Start ``arcaflow-steps run`` on ``steps`` with its own (empty) TMPDIR."""
    (tmp_path / "tmp").mkdir()
    return start_cli_in(tmp_path, steps)


def start_cli_in(tmp_path: Path, steps: dict[str, Any]) -> subprocess.Popen[str]:
    """Start ``arcaflow-steps run`` on ``steps`` with the TMPDIR ``tmp_path / "tmp"``."""
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}))
    return subprocess.Popen(
        [CLI, "run", "--format", "yaml", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
    )


def wait_marked(marker: str, process: subprocess.Popen[str]) -> set[int]:
    """Wait (bounded) until the process marked ``marker`` runs; return it."""
    deadline = time.monotonic() + 30
    while not (found := marked(marker)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the plugin never started its child"
        time.sleep(0.05)
    return found


def assert_nothing_left(marker: str, plugins: set[int], tmp_path: Path) -> None:
    """No marked process, no plugin process and no temporary directory is left."""
    deadline = time.monotonic() + 10
    while marked(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set() == marked(marker)
    assert set() == wait_gone(plugins)
    assert [] == sorted(path.name for path in (tmp_path / "tmp").iterdir())


@pytest.fixture
def marker() -> str:
    """A marker unique to this test (it also tells who left a process behind)."""
    return f"containment-{uuid.uuid4().hex}"


@pytest.mark.parametrize("mode", MODES)
def test_every_detached_child_ends_with_its_step(mode: str, marker: str, tmp_path: Path) -> None:
    """Children that inherit stdout, redirect their stdio or daemonize end with their step,
    and the run ends at once (a child holding the plugin's stdout used to hang it)."""
    process = start_cli(
        tmp_path, {name: step(mode, name, f"{marker}-{name}") for name in DETACHING_STEPS}
    )
    stdout, stderr = process.communicate(timeout=60)
    assert 0 == process.returncode, stderr
    results = yaml.safe_load(stdout)
    assert dict.fromkeys(DETACHING_STEPS, "success") == {
        name: result["output_id"] for name, result in results.items()
    }
    for name in DETACHING_STEPS:
        assert_nothing_left(f"{marker}-{name}", set(), tmp_path)


@pytest.mark.parametrize("mode", MODES)
def test_a_plugin_runs_in_its_own_directory_and_pwd_names_it(mode: str, tmp_path: Path) -> None:
    """Each plugin runs in a fresh directory, and ``PWD`` says so (not the CLI's directory),
    as the Go engine's python deployer sets it; the directory goes with the step."""
    (tmp_path / "tmp").mkdir()
    definition = {**MODES[mode], "step": "where", "input": {}}
    process = start_cli_in(tmp_path, {"a": definition, "b": definition})
    stdout, stderr = process.communicate(timeout=60)
    assert 0 == process.returncode, stderr
    results = yaml.safe_load(stdout)
    directories = {result["output_data"]["cwd"] for result in results.values()}
    assert len(directories) == 2
    for result in results.values():
        data = result["output_data"]
        assert data["pwd"] == data["cwd"]
        assert Path(data["cwd"]).parent == tmp_path / "tmp"
    assert [] == list((tmp_path / "tmp").iterdir())


@pytest.mark.parametrize("mode", MODES)
def test_sigkill_of_the_cli_leaves_nothing(mode: str, marker: str, tmp_path: Path) -> None:
    """After ``kill -9`` of the CLI, the plugin, the daemon it started and its directory go."""
    process = start_cli(tmp_path, {"s": step(mode, "daemon", marker, linger=60)})
    wait_marked(marker, process)
    plugins = descendants(process.pid)
    process.kill()
    process.communicate(timeout=10)
    assert_nothing_left(marker, plugins, tmp_path)


def zygotes_of(cli: int) -> dict[int, str]:
    """Return the CLI's children (its zygotes and launchers), each with its ``comm``."""
    children = {
        int(pid)
        for task in Path(f"/proc/{cli}/task").iterdir()
        for pid in (task / "children").read_text().split()
    }
    return {pid: Path(f"/proc/{pid}/comm").read_text().strip() for pid in children}


@pytest.mark.parametrize("mode", MODES)
def test_sigkill_of_the_zygote_crashes_its_steps(mode: str, marker: str, tmp_path: Path) -> None:
    """A SIGKILLed zygote ends its plugin's step ``crashed``, saying so; the run ends (exit 3),
    and neither the plugin nor the daemon it started is left."""
    process = start_cli(tmp_path, {"s": step(mode, "daemon", marker, linger=60)})
    wait_marked(marker, process)
    plugins = descendants(process.pid)
    (zygote,) = zygotes_of(process.pid)
    os.kill(zygote, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=30)
    assert 3 == process.returncode, stderr
    result = yaml.safe_load(stdout)["s"]
    assert "crashed" == result["stage"]
    assert f"(its fork server, zygote pid {zygote}, died: killed by SIGKILL)" in " ".join(
        result["output_data"]["output"].split()
    )
    assert_nothing_left(marker, plugins, tmp_path)


def test_sigint_still_ends_the_run_after_a_zygote_died(marker: str, tmp_path: Path) -> None:
    """With one step crashed by its zygote's death, SIGINT still closes the other (exit 130)."""
    process = start_cli(
        tmp_path,
        {
            "forked": step("forked-zygote", "daemon", marker, linger=60),
            "launched": step("command", "daemon", f"{marker}-launched", linger=60),
        },
    )
    wait_marked(marker, process)
    wait_marked(f"{marker}-launched", process)
    plugins = descendants(process.pid)
    (zygote,) = {pid for pid, comm in zygotes_of(process.pid).items() if comm == "arcaflow-zygote"}
    os.kill(zygote, signal.SIGKILL)
    assert process.stderr is not None
    progress = ""  # the progress lines on stderr: wait for the crash (then it is final)
    while not re.search(r"^forked +-> crashed$", progress, re.MULTILINE):
        ready, _, _ = select.select([process.stderr], [], [], 20)
        assert ready, f"no crash reported: {progress!r}"
        line = process.stderr.readline()
        assert line, f"no crash reported: {progress!r}"
        progress += line
    assert is_running(process.pid)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert 128 + signal.SIGINT == process.returncode, stderr
    results = yaml.safe_load(stdout)
    assert {"forked": "crashed", "launched": "closed"} == {
        name: result["stage"] for name, result in results.items()
    }
    assert_nothing_left(marker, plugins, tmp_path)
    assert_nothing_left(f"{marker}-launched", plugins, tmp_path)


def test_close_does_not_wait_for_a_pipe_a_stranger_holds(marker: str) -> None:
    """A process outside the plugin's group that holds its stdout (a podman-style plain spawn,
    no zygote) cannot make close() wait: the reader blocked on the pipe is left behind."""
    sleeper = "import time; time.sleep(60)"
    script = f"setsid {sys.executable} -c '{sleeper}' {marker} & exec cat"
    connection = spawn(["sh", "-c", script], description="holder")
    stranger = wait_marked_pid(marker)
    reader = threading.Thread(target=connection.stdout.read, daemon=True)
    reader.start()
    started = time.monotonic()
    connection.close(1.0)
    try:
        assert time.monotonic() - started < 5.0
        assert connection.exit_status() is not None
        assert reader.is_alive()  # still blocked: the stranger holds the write end
    finally:
        os.kill(stranger, signal.SIGKILL)
    reader.join(10)
    assert not reader.is_alive()


def wait_marked_pid(marker: str) -> int:
    """Wait (bounded) for the one process marked ``marker``; return its pid."""
    deadline = time.monotonic() + 10
    while not (found := marked(marker)):
        assert time.monotonic() < deadline, "the marked process never started"
        time.sleep(0.02)
    (pid,) = found
    return pid


def test_the_next_run_removes_what_a_killed_run_and_zygote_left(
    marker: str, tmp_path: Path
) -> None:
    """With the CLI and its zygote both SIGKILLed, the daemon a plugin started survives and its
    directory stays; the next run kills and removes them (their owner has ended)."""
    process = start_cli(tmp_path, {"s": step("command", "daemon", marker, linger=60)})
    wait_marked(marker, process)
    plugins = descendants(process.pid)
    (zygote,) = zygotes_of(process.pid)
    # Stop both first: once either sees the other die it cleans up (the CLI kills a dead
    # zygote's leftovers by its token; a zygote whose CLI is gone kills its plugins), and here
    # neither may. A stopped process still dies of SIGKILL.
    os.kill(process.pid, signal.SIGSTOP)
    os.kill(zygote, signal.SIGSTOP)
    os.kill(zygote, signal.SIGKILL)
    process.kill()
    process.communicate(timeout=10)
    (left,) = (tmp_path / "tmp").iterdir()
    assert left.name.startswith(f"arcaflow-steps-command-{process.pid}.")
    assert marked(marker)  # what no one is left to kill
    again = start_cli_in(tmp_path, {"s": step("command", "background-redirected", f"{marker}-2")})
    _, stderr = again.communicate(timeout=60)
    assert 0 == again.returncode, stderr
    assert_killed(marker, plugins)
    assert [] == list((tmp_path / "tmp").iterdir())


def assert_killed(marker: str, plugins: set[int]) -> None:
    """No marked process and no plugin process is left."""
    deadline = time.monotonic() + 10
    while marked(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set() == marked(marker)
    assert set() == wait_gone(plugins)


def test_only_directories_of_ended_owners_are_removed(tmp_path: Path) -> None:
    """A directory is removed only when its name says its owner ran here (same boot and pid
    namespace) and that process has ended; foreign, live and unnamed ones stay."""
    me = ContainerOwner.current()
    assert me is not None
    boot = me.boot_id.replace("-", "")
    ended = subprocess.Popen(["true"])
    ended.wait()
    names = {
        "ended": f"arcaflow-steps-python-{ended.pid}.1.{me.pid_ns}.{boot}-abc",
        "live": f"arcaflow-steps-command-{me.pid}.{me.start}.{me.pid_ns}.{boot}-abc",
        "other-boot": f"arcaflow-steps-python-{ended.pid}.1.{me.pid_ns}.{'0' * 32}-abc",
        "other-namespace": f"arcaflow-steps-python-{ended.pid}.1.1.{boot}-abc",
        "unnamed": "arcaflow-steps-python-abc",
        "another-kind": f"arcaflow-steps-docker-tls-{ended.pid}.1.{me.pid_ns}.{boot}-abc",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    removed = remove_stale_temp_dirs(str(tmp_path))
    assert [str(tmp_path / names["ended"])] == removed
    assert sorted(set(names.values()) - {names["ended"]}) == sorted(
        path.name for path in tmp_path.iterdir()
    )
