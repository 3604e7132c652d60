"""A fork server's failure paths leave the descriptors, requests and children as they were.

Every test runs a real launcher zygote (:class:`ForkServer` with ``launcher=True``) and real
commands; the white-box checks read the server's bookkeeping only after a real exchange.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from plugin_support import marked, wait_gone

from arcaflow_steps import DeploymentError
from arcaflow_steps._start_seed import preparations
from arcaflow_steps_builtin.deployers import _forkserver, _zygote
from arcaflow_steps_builtin.deployers._forkserver import ForkServer
from arcaflow_steps_builtin.deployers._zygote_process import is_running_interpreter


@pytest.fixture
def launcher() -> Iterator[ForkServer]:
    """A started launcher of its own, closed after the test."""
    server = ForkServer(sys.executable, launcher=True)
    server.start()
    yield server
    server.close()


def open_fds() -> set[int]:
    """Return this process's open descriptors."""
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def run_true(server: ForkServer) -> str | None:
    """Start ``true`` through ``server``, wait for its end and return its exit status."""
    connection = server.execute(["true"], description="true", cwd="/")
    try:
        assert connection.wait_exited(10)
        return connection.exit_status()
    finally:
        connection.close()


def test_a_failed_send_closes_each_descriptor_once(
    launcher: ForkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request the zygote's socket refuses (too large) is a clean error; each pipe end is
    closed exactly once (a second close could close a descriptor another thread opened)."""
    closes: collections.Counter[int] = collections.Counter()
    real_close = os.close

    def counting_close(fd: int) -> None:
        closes[fd] += 1
        real_close(fd)

    before = open_fds()
    monkeypatch.setattr(os, "close", counting_close)
    with pytest.raises(DeploymentError) as raised:
        launcher.execute(["true"], description="true", cwd="/", env={"BIG": "x" * (1 << 20)})
    monkeypatch.undo()
    assert f"fork server for {sys.executable!r} failed: [Errno 90] Message too long" == str(
        raised.value
    )
    assert {} == {fd: count for fd, count in closes.items() if count > 1}
    assert 6 == len(closes)
    assert before == open_fds()
    assert "exit status 0" == run_true(launcher)


def test_failed_execs_leave_no_exit_report_behind(launcher: ForkServer) -> None:
    """A command that cannot be executed is an error, and its child's exit is not kept as the
    early exit of a plugin yet to come (a later child given the same pid would look ended)."""
    for _ in range(5):
        with pytest.raises(DeploymentError) as raised:
            launcher.execute(["/nonexistent-command"], description="nothing", cwd="/")
        assert "cannot start nothing: No such file or directory" == str(raised.value)
    # The zygote reaps a failed child before it replies, so its report would precede this one.
    assert "exit status 0" == run_true(launcher)
    assert launcher._zygote is not None
    assert {} == launcher._zygote.early_exits
    assert {} == launcher._zygote.pending


def wait_marked_pid(marker: str) -> int:
    """Wait (bounded) for the one process marked ``marker``; return its pid."""
    deadline = time.monotonic() + 10
    while not (found := marked(marker)):
        assert time.monotonic() < deadline, "the marked process never started"
        time.sleep(0.02)
    (pid,) = found
    return pid


@pytest.mark.parametrize("attempt", range(5))
def test_a_deploy_right_after_the_zygote_was_killed_works(
    launcher: ForkServer, attempt: int
) -> None:
    """A deploy at once after the zygote was SIGKILLed starts on a new zygote; the killed one's
    plugin ends saying why, and what that plugin started is killed (by that zygote's token)."""
    marker = f"fork-server-{uuid.uuid4().hex}"
    sleeper = f"{sys.executable} -c 'import time; time.sleep(60)' {marker}"
    plugin = launcher.execute(
        ["sh", "-c", f"{sleeper} & exec sleep 60"], description="leaver", cwd="/"
    )
    orphan = wait_marked_pid(marker)
    assert launcher._zygote is not None
    zygote = launcher._zygote.process.pid
    os.kill(zygote, signal.SIGKILL)
    try:
        assert "exit status 0" == run_true(launcher)
        assert plugin.wait_exited(10)
        assert (
            f"killed by SIGKILL (its fork server, zygote pid {zygote}, died: killed by SIGKILL)"
            == plugin.exit_status()
        )
        assert set() == wait_gone({orphan})
    finally:
        plugin.close()
        for pid in marked(marker):
            os.kill(pid, signal.SIGKILL)


class InterruptedByAlarmError(Exception):
    """Raised by the SIGALRM handler, as the CLI's SIGINT handler raises its own."""


def interrupt(_signum: int, _frame: FrameType | None) -> None:
    """Interrupt whatever the main thread waits for."""
    raise InterruptedByAlarmError


def zygote_children(pid: int) -> list[str]:
    """Return the pids of the children of the zygote ``pid``."""
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@pytest.mark.parametrize("how", ["interrupted", "timed-out"])
def test_a_request_given_up_leaves_no_descriptor_or_child(
    launcher: ForkServer, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy interrupted (or timed out) while the zygote has not answered closes its pipe
    ends and forgets its request; the child the zygote forks later is killed."""
    marker = f"fork-server-{uuid.uuid4().hex}"
    assert launcher._zygote is not None
    zygote = launcher._zygote
    before = open_fds()
    os.kill(zygote.process.pid, signal.SIGSTOP)  # it answers nothing until SIGCONT
    try:
        argv = [sys.executable, "-c", "import time; time.sleep(60)", marker]
        if how == "interrupted":
            previous = signal.signal(signal.SIGALRM, interrupt)
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            try:
                with pytest.raises(InterruptedByAlarmError):
                    launcher.execute(argv, description="sleeper", cwd="/")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        else:
            monkeypatch.setattr(_forkserver, "_REPLY_TIMEOUT", 0.3)
            with pytest.raises(DeploymentError) as raised:
                launcher.execute(argv, description="sleeper", cwd="/")
            assert f"fork server for {sys.executable!r} failed: no answer" == str(raised.value)
            monkeypatch.undo()
        assert before == open_fds()
        assert {} == zygote.pending
    finally:
        os.kill(zygote.process.pid, signal.SIGCONT)
    # Served in order: once this one ran, the given-up request's reply was read (and killed).
    assert "exit status 0" == run_true(launcher)
    deadline = time.monotonic() + 10
    while zygote.forgotten or zygote_children(zygote.process.pid):
        assert time.monotonic() < deadline, (zygote.forgotten, marked(marker))
        time.sleep(0.02)
    assert set() == marked(marker)
    assert {} == zygote.early_exits
    assert zygote is launcher._zygote


def test_the_zygote_forgets_directories_already_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directories a zygote removes if its client dies do not grow one per request: those
    the client already removed are dropped (white-box: the zygote's own function)."""
    monkeypatch.setattr(_zygote, "_CLEANUP", set())
    monkeypatch.setattr(_zygote, "_prune_at", _zygote._PRUNE_FROM)
    kept = []
    for number in range(500):
        directory = tmp_path / f"plugin-{number}"
        directory.mkdir()
        _zygote._remember_cleanup(str(directory))
        if number % 100 == 0:
            kept.append(str(directory))  # a plugin still running
        else:
            directory.rmdir()  # closed by the client
    assert set(kept) <= _zygote._CLEANUP
    assert len(_zygote._CLEANUP) <= 2 * _zygote._PRUNE_FROM


@pytest.mark.parametrize("fork_here", [False, True], ids=["started-zygote", "forked-zygote"])
def test_a_plugins_stdout_is_buffered_even_when_unbuffered_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork_here: bool
) -> None:
    """``PYTHONUNBUFFERED`` must not make the ATP stream one write per CBOR item: a forked
    plugin's ``sys.stdout`` writes through a buffer (the SDK flushes after every message)."""
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    script = tmp_path / "stdout_kind.py"
    script.write_text("import sys\nsys.stdout.write(type(sys.stdout.buffer).__name__)\n")
    server = ForkServer(sys.executable)
    try:
        if fork_here:
            server.start()  # a fork of this process when it can, else started as a script
        connection = server.spawn(
            argv=[str(script)], description="stdout kind", cwd=str(tmp_path), path=str(script)
        )
        try:
            assert b"BufferedWriter" == connection.stdout.read()
            assert connection.wait_exited(10)
            assert "exit status 0" == connection.exit_status()
        finally:
            connection.close()
    finally:
        server.close()


def test_the_start_up_seed_is_prepared_with_the_sdk_bound_as_a_zygote_binds_it(
    tmp_path: Path,
) -> None:
    """The start-up seed imports the SDK before its claim (``prepare_seed``, entry point group
    ``arcaflow.start_seed``) with the argv and buffered stdout a zygote gives it; the seed's
    own ``sys.argv`` and ``sys.stdout`` are put back, and ``serve`` takes the bound stdout."""
    assert "arcaflow_steps_builtin.deployers._zygote:prepare_seed" in preparations()
    script = tmp_path / "prepare.py"
    script.write_text(
        "import inspect, sys\n"
        "from arcaflow_steps_builtin.deployers import _zygote\n"
        "argv, stdout = list(sys.argv), sys.stdout\n"
        "_zygote.prepare_seed()\n"
        "from arcaflow_plugin_sdk import plugin\n"
        "defaults = inspect.signature(plugin.run).parameters\n"
        "print(sys.argv == argv, sys.stdout is stdout, defaults['argv'].default,\n"
        "      defaults['stdout'].default is _zygote._prepared_stdout,\n"
        "      type(_zygote._prepared_stdout.buffer).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert "True True ('plugin', '--atp') True BufferedWriter" == result.stdout.strip()


def test_the_running_interpreter_is_known_by_each_of_its_names_in_its_directory(
    tmp_path: Path,
) -> None:
    """A console script's ``#!`` may say ``bin/python3`` where ``pythonPath`` says
    ``bin/python``: one interpreter, so the zygote may still be a fork of this process. The
    same binary linked from another directory is another environment, and a bare name is a
    ``PATH`` lookup: neither is ours."""
    directory = Path(sys.executable).parent
    siblings = [
        entry
        for entry in directory.iterdir()
        if entry.name.startswith("python")
        and entry != Path(sys.executable)
        and entry.resolve() == Path(sys.executable).resolve()
    ]
    assert siblings, f"no other name for {sys.executable} in {directory}"
    assert is_running_interpreter(sys.executable)
    for sibling in siblings:
        assert is_running_interpreter(str(sibling))
    elsewhere = tmp_path / "python"
    elsewhere.symlink_to(Path(sys.executable).resolve())
    assert not is_running_interpreter(str(elsewhere))
    assert not is_running_interpreter(Path(sys.executable).name)
    assert not is_running_interpreter(str(directory / "no-such-python"))
