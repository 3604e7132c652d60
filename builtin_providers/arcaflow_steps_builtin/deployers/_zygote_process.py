"""The processes around a fork server: the zygote as our child, and the plugins it forks.

A zygote is either started (``python _zygote.py``, a ``subprocess.Popen``) or forked from this
process (:class:`_ForkedZygote`, the part of ``Popen`` the fork server uses). A plugin forked by
a zygote is not our child: :class:`ForkedHandle` learns its exit from the zygote's report and
signals it through a pidfd. :func:`kill_owned_processes` is the last resort when a zygote was
SIGKILLed (see :mod:`._forkserver`).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Final, final

__all__ = [
    "ForkedHandle",
    "ForkedZygote",
    "fork_zygote",
    "is_running_interpreter",
    "kill_owned_processes",
    "runs_with_default_options",
]

#: Sweeps of /proc for processes of a dead zygote (each kills what it finds).
_OWNED_SWEEPS: Final = 20


def kill_owned_processes(owner: str) -> int:
    """SIGKILL every process whose environment has ``ARCAFLOW_STEPS_OWNER=owner``.

    The last resort when a zygote was SIGKILLed: its plugins die with it, but what they started
    was reparented away; their environment still names the zygote's owner token (unless they
    replaced it). Sweeps until one finds nothing (new ones may be forked meanwhile). Returns how
    many were killed.
    """
    marker = f"ARCAFLOW_STEPS_OWNER={owner}".encode()
    killed = 0
    for _ in range(_OWNED_SWEEPS):
        found = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    variables = environ.read().split(b"\0")
            except OSError:
                continue
            if marker in variables:
                with contextlib.suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
                    found += 1
        killed += found
        if not found:
            break
        time.sleep(0.01)  # let the killed exit, so the next sweep sees who they left
    return killed


def is_running_interpreter(python: str) -> bool:
    """Return whether ``python`` (a path) starts the interpreter running us, in our
    environment: ``sys.executable`` itself, or another name for it in the same directory.

    A console script's ``#!`` line may name a venv's ``bin/python3`` while the deployer's
    ``pythonPath`` says ``bin/python``: both are links to one binary, and the directory they
    are in (its parent's ``pyvenv.cfg``) decides the environment, so the two are the same
    interpreter. The same binary reached from another directory is another venv; a bare name
    (looked up on ``PATH``) or a wrapper script is never ours.
    """
    if python == sys.executable:
        return True
    if not sys.executable or os.sep not in python:
        return False
    try:
        return os.path.samefile(python, sys.executable) and os.path.samefile(
            os.path.dirname(os.path.abspath(python)), os.path.dirname(sys.executable)
        )
    except OSError:
        return False


def runs_with_default_options() -> bool:
    """Return whether this interpreter runs with the options a plain ``python`` started with
    our environment would have.

    A forked zygote inherits the interpreter's options: ``-W error`` or ``-O`` given to
    arcaflow-steps must not reach the plugins (a started zygote would not see them), so any
    such option means no fork. Warning options from ``PYTHONWARNINGS`` reach a started zygote
    as well and are fine; the flags below are refused whatever set them, to be safe.
    """
    flags = sys.flags
    from_environment = [
        option for option in os.environ.get("PYTHONWARNINGS", "").split(",") if option
    ]
    return (
        not sys._xoptions
        and sys.warnoptions == from_environment
        and not any(
            (
                flags.optimize,
                flags.dev_mode,
                flags.isolated,
                flags.ignore_environment,
                flags.no_user_site,
                flags.safe_path,
                flags.bytes_warning,
                flags.verbose,
            )
        )
    )


def fork_zygote(control_fd: int, preload: Sequence[str]) -> ForkedZygote | None:
    """Start a zygote serving on ``control_fd`` as a fork of this process (see
    :meth:`ForkServer.start`): the start-up seed if there is one (a copy of the CLI from before
    its imports, :mod:`arcaflow_steps._start_seed`: the zygote and every plugin it forks are
    ~12 MB smaller), else a fork made now if this process has no other thread; None when
    neither is possible."""
    from arcaflow_steps.warm_ups import claim_start_seed

    from . import _zygote  # standard library only, like the script it also is

    seed = claim_start_seed()
    if seed is not None:
        with contextlib.suppress(OSError):  # it died: fork here instead
            become = _zygote.run_forked
            return ForkedZygote(
                seed.become(_zygote.__name__, become.__name__, [control_fd], [list(preload)])
            )
    if threading.active_count() != 1:
        return None
    # A Ctrl-C before the child is in run_forked's try block would raise into our caller's
    # code in the child: the signal waits until then.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        raise
    if pid == 0:  # pragma: no cover - the child never returns (coverage cannot follow it)
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            _zygote.run_forked(control_fd, preload)
        finally:
            os._exit(1)
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return ForkedZygote(pid)


@final
class ForkedZygote:
    """A zygote forked from this process: the part of ``subprocess.Popen`` the fork server and
    :class:`~._process.PopenHandle` use.

    Thread safety: like ``Popen``: reaping is done by the fork server's closer.
    """

    def __init__(self, pid: int) -> None:
        self.pid: Final = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Reap the zygote if it has exited; return its return code, else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else: its status is lost
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait (bounded by ``timeout``, on a pidfd) for the zygote to exit, reap it.

        Raises:
            subprocess.TimeoutExpired: it still runs after ``timeout`` seconds.
        """
        returncode = self.poll()
        if returncode is not None:
            return returncode
        if timeout is not None:
            with contextlib.suppress(OSError):  # gone already: waitpid answers at once
                pidfd = os.pidfd_open(self.pid)
                try:
                    ready, _, _ = select.select([pidfd], [], [], timeout)
                finally:
                    os.close(pidfd)
                if not ready:
                    raise subprocess.TimeoutExpired(f"zygote {self.pid}", timeout)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped by someone else: its status is lost
            self.returncode = 0
        else:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


@final
class ForkedHandle:
    """A plugin process forked by a zygote: not our child, so the zygote reports its exit.

    Thread safety: safe to share; the exit code arrives on the fork server's reader thread.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        # Guards _pidfd: signal_group may run on another thread while reap closes it.
        self._pidfd_lock = threading.Lock()
        self._exited = threading.Event()
        self._returncode: int | None = None
        self._note = ""
        self._pidfd: int | None
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:  # already gone (and reaped by the zygote), or an old kernel
            self._pidfd = None

    @property
    def pid(self) -> int:
        """The child's pid."""
        return self._pid

    def on_exit(self, returncode: int, note: str = "") -> None:
        """Record the exit code the zygote reported (reader thread), and why if not by itself."""
        self._returncode = returncode
        self._note = note
        self._exited.set()

    def exit_note(self) -> str:
        """Say why the process ended when that was not its own doing (its zygote died)."""
        return self._note if self._exited.is_set() else ""

    def peek_returncode(self) -> int | None:
        """Return the exit code once the zygote reported it."""
        return self._returncode if self._exited.is_set() else None

    def wait_exited(self, timeout: float) -> bool:
        """Wait until the zygote reported the exit."""
        return self._exited.wait(max(timeout, 0.0))

    def signal_group(self, signum: int) -> None:
        """Signal the process group while the leader lives (pidfd guards against pid reuse)."""
        with self._pidfd_lock:
            if self._exited.is_set():
                return
            if self._pidfd is not None:
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(self._pidfd, 0)  # still the same process?
                    os.killpg(self._pid, signum)
                return
            with contextlib.suppress(OSError):
                os.killpg(self._pid, signum)

    def reap(self, timeout: float) -> int | None:
        """Wait (bounded) for the exit report; the zygote does the reaping."""
        self._exited.wait(timeout)
        with self._pidfd_lock:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self._returncode
