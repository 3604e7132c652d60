"""Local plugin processes: the local deployers' connection
(:class:`~arcaflow_steps_builtin.deployers.PluginConnection`).

Theory of operation: a plugin runs as a child process in **its own process group** (a new
session), so stopping it also stops anything it started. Its stdin and stdout are the ATP
stream; its stderr is never part of the protocol and is drained by a daemon thread into a
bounded tail buffer, so a noisy plugin can neither block on a full pipe nor grow our memory.

``close()`` is the only way a connection ends, and it is idempotent and bounded in time:

1. close the plugin's stdin (the ATP client has already sent CLIENT_DONE, so a well-behaved
   plugin is already on its way out),
2. wait up to a grace period for it to exit on its own,
3. ``SIGTERM`` the process group, wait a little, then ``SIGKILL`` it,
4. once the leader has exited (but before it is reaped, so its process group id cannot be
   reused), ``SIGKILL`` whatever is left in its group, then reap it,
5. remove the temporary directory it ran in.

No step of it waits for a descriptor someone else may hold: a grandchild that inherited the
plugin's stdout keeps the pipe open, and closing a pipe while a reader thread is blocked in it
would block until that grandchild ends. The pipes are closed on a helper thread, waited for a
bounded time (:mod:`._pipe_closer`: the helpers are reused; the fork server kills such
grandchildren when the plugin ends, see :mod:`._zygote`).

Waiting uses a pidfd, so a plugin that exits after 3 ms is noticed after 3 ms (no polling).
Every live connection is recorded in a :class:`~._live.LiveSet`, which kills what is left when
the interpreter ends, so nothing outlives the CLI even on an unexpected exit path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Final, Protocol, final

from arcaflow_steps import DeploymentError

from ._live import LiveSet
from ._pipe_closer import close_pipes
from ._stderr_tail import DEFAULT_STDERR_LIMIT, StderrTail

__all__ = [
    "DEFAULT_STDERR_LIMIT",
    "ChildProcess",
    "PopenHandle",
    "ProcessConnection",
    "ProcessHandle",
    "StderrTail",
    "describe_returncode",
    "descriptor_reason",
    "kill_all_connections",
    "live_connection_count",
    "remove_temp_dir",
    "spawn",
]

#: Share of the close timeout granted to a plugin to exit by itself after CLIENT_DONE.
_GRACE_SHARE: Final = 0.5
#: How long to wait after SIGTERM before SIGKILL (at most).
_TERM_WAIT: Final = 1.0
#: How long close() waits for the pipes to close (a blocked reader holds their locks).
_PIPE_CLOSE_WAIT: Final = 1.0


def describe_returncode(returncode: int) -> str:
    """Return ``exit status N`` or ``killed by SIGNAME`` for a Popen-style return code."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"killed by {name}"


#: Every connection not closed yet; killed at interpreter exit.
_LIVE: Final[LiveSet[ProcessConnection]] = LiveSet(lambda connection: connection.kill())


def live_connection_count() -> int:
    """Return how many local plugin processes are currently running (for tests)."""
    return len(_LIVE)


def kill_all_connections() -> None:
    """Kill every live plugin process at once and remove its directory (exit-time safety net)."""
    _LIVE.stop_all()


class ProcessHandle(Protocol):
    """How a :class:`ProcessConnection` waits for, signals and reaps its process."""

    @property
    def pid(self) -> int:
        """The process id (also its process group id: it leads its own session)."""

    def peek_returncode(self) -> int | None:
        """Return the return code if the process has exited (without reaping), else None."""

    def wait_exited(self, timeout: float) -> bool:
        """Wait (bounded) until the process has exited; return whether it has."""

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process group, unless the process is already reaped.

        May be called from any thread, also while another thread reaps.
        """

    def reap(self, timeout: float) -> int | None:
        """Reap the exited process and return its return code (None if it cannot be)."""

    def exit_note(self) -> str:
        """Say why the process ended when that was not its own doing or ours, else ``""``."""


class ChildProcess(Protocol):
    """A child process of ours as :class:`PopenHandle` uses it: a ``subprocess.Popen``, or a
    zygote forked from this process (:mod:`._forkserver`)."""

    @property
    def pid(self) -> int:
        """The process id."""

    @property
    def returncode(self) -> int | None:
        """The return code once reaped (negative: killed by that signal), else None."""

    def poll(self) -> int | None:
        """Reap the process if it has exited; return :attr:`returncode`."""

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to exit, reap it and return its return code.

        Raises:
            subprocess.TimeoutExpired: it is still running after ``timeout`` seconds.
        """


@final
class PopenHandle:
    """A child process we started with ``subprocess.Popen`` (or forked); waits use a pidfd.

    Thread safety: ``signal_group`` may be called from any thread; the waits and ``reap`` only
    by the owning connection's closer (which holds its close lock).
    """

    def __init__(self, popen: ChildProcess) -> None:
        self._popen = popen
        # Guards reaping against signalling: once reaped, the pid may name another process.
        self._reap_lock = threading.Lock()
        self._pidfd: int | None
        try:
            self._pidfd = os.pidfd_open(popen.pid)
        except OSError:  # pragma: no cover - kernels before 5.3
            self._pidfd = None

    @property
    def pid(self) -> int:
        """The child's pid."""
        return self._popen.pid

    def peek_returncode(self) -> int | None:
        """Return the exit code without reaping (the group id stays ours until we reap)."""
        if self._popen.returncode is not None:
            return self._popen.returncode
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped meanwhile
            return self._popen.returncode
        if info is None:
            return None
        if info.si_code == os.CLD_EXITED:
            return info.si_status
        return -info.si_status

    def wait_exited(self, timeout: float) -> bool:
        """Wait on the pidfd (no polling) until the child has exited."""
        if self._popen.returncode is not None:
            return True
        if self._pidfd is None:  # pragma: no cover - kernels before 5.3
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        with contextlib.suppress(OSError, ValueError):
            readable, _, _ = select.select([self._pidfd], [], [], max(timeout, 0.0))
            return bool(readable)
        return self.peek_returncode() is not None

    def signal_group(self, signum: int) -> None:
        """Signal the group while the leader is not reaped (its pid still names our group)."""
        with self._reap_lock:
            if self._popen.returncode is not None:
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signum)

    def reap(self, timeout: float) -> int | None:
        """Reap the child (it has exited or was SIGKILLed)."""
        with self._reap_lock:
            try:
                returncode: int | None = self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                returncode = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return returncode

    def exit_note(self) -> str:
        """Return ``""``: a child of ours ends by itself or by us."""
        return ""


@final
class ProcessConnection:
    """A plugin running as a local process in its own process group, stdio piped.

    Thread safety: safe to share; ``stdin`` has one writer and ``stdout`` one reader (the ATP
    client guarantees both); ``close()`` and ``kill()`` may be called from any thread.
    """

    def __init__(
        self,
        handle: ProcessHandle,
        *,
        stdin: IO[bytes],
        stdout: IO[bytes],
        stderr: IO[bytes],
        description: str,
        temp_dir: str | None = None,
        stderr_limit: int = DEFAULT_STDERR_LIMIT,
    ) -> None:
        self._handle = handle
        self._stdin = stdin
        self._stdout = stdout
        self._stderr_pipe = stderr
        self._description = f"{description} (pid {handle.pid})"
        self._temp_dir = temp_dir
        self._stderr = StderrTail(stderr, limit=stderr_limit, name=f"stderr-{handle.pid}")
        # Guards _closed and _returncode; close() holds it for its whole (bounded) duration so
        # a second caller waits for the first to finish.
        self._close_lock = threading.Lock()
        self._closed = False
        self._returncode: int | None = None
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        """The plugin's process id (also its process group id)."""
        return self._handle.pid

    @property
    def stdin(self) -> IO[bytes]:
        """The plugin's stdin (buffered: flush after every message)."""
        return self._stdin

    @property
    def stdout(self) -> IO[bytes]:
        """The plugin's stdout (buffered reader)."""
        return self._stdout

    @property
    def description(self) -> str:
        """Say what runs, e.g. ``python -m arcaflow_plugin_hello (pid 123)``."""
        return self._description

    def stderr_tail(self) -> str:
        """Return the last bytes the plugin wrote to stderr."""
        return self._stderr.text()

    def exit_status(self) -> str | None:
        """Return how the plugin ended, or None while it runs (never reaps)."""
        returncode = self._returncode
        if returncode is None:
            returncode = self._handle.peek_returncode()
        if returncode is None:
            return None
        note = self._handle.exit_note()
        return describe_returncode(returncode) + (f" ({note})" if note else "")

    def wait_exited(self, timeout: float) -> bool:
        """Wait (bounded) until the process has exited, without reaping it."""
        return self._handle.wait_exited(timeout)

    def _reap(self) -> None:
        self._handle.signal_group(signal.SIGKILL)  # leftovers in the group, if any
        self._returncode = self._handle.reap(_TERM_WAIT * 5)
        self._stderr.join(1.0)
        close_pipes((self._stdin, self._stdout, self._stderr_pipe), _PIPE_CLOSE_WAIT)
        if self._temp_dir is not None:
            remove_temp_dir(self._temp_dir)
        _LIVE.discard(self)

    def close(self, timeout: float = 5.0) -> None:
        """Let the plugin exit (grace), then SIGTERM, then SIGKILL; reap it; idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            deadline = time.monotonic() + max(timeout, 0.1)
            close_pipes((self._stdin,), _PIPE_CLOSE_WAIT)
            if not self._handle.wait_exited(timeout * _GRACE_SHARE):
                self._handle.signal_group(signal.SIGTERM)
                remaining = deadline - time.monotonic()
                if not self._handle.wait_exited(min(_TERM_WAIT, max(remaining, 0.05))):
                    self._handle.signal_group(signal.SIGKILL)
            self._reap()

    def kill(self) -> None:
        """SIGKILL the process group at once, reap it and remove its directory; idempotent.

        Also cuts short a graceful :meth:`close` running in another thread.
        """
        self._handle.signal_group(signal.SIGKILL)
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._handle.signal_group(signal.SIGKILL)
            close_pipes((self._stdin,), _PIPE_CLOSE_WAIT)
            self._reap()


def remove_temp_dir(path: str) -> None:
    """Remove a plugin's temporary directory; an empty one without opening a descriptor, so
    that it goes also when the process has none left (``shutil.rmtree`` opens the directory
    and, with ``ignore_errors``, silently leaves it on EMFILE)."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def descriptor_reason(exc: OSError) -> str:
    """Return why an ``OSError`` happened, in words; running out of descriptors (EMFILE,
    ENFILE) names the limit and what to do about it."""
    if exc.errno in (errno.EMFILE, errno.ENFILE):
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return (
            f"too many open files (the limit is {soft}; run fewer steps at once with "
            "--parallelism, or raise it with ulimit -n)"
        )
    return exc.strerror or str(exc)


def spawn(
    argv: Sequence[str],
    *,
    description: str,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    temp_dir: str | None = None,
    stderr_limit: int = DEFAULT_STDERR_LIMIT,
) -> ProcessConnection:
    """Start ``argv`` in its own process group with piped stdio; raise ``DeploymentError``.

    ``temp_dir``, if given, is removed when the connection closes (also when spawning fails).
    """
    if cwd is not None:  # PWD says where the process runs, as a shell's `cd` would
        env = {**(os.environ if env is None else env), "PWD": cwd}
    try:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        if temp_dir is not None:
            remove_temp_dir(temp_dir)
        raise DeploymentError(f"cannot start {description}: {descriptor_reason(exc)}") from exc
    assert popen.stdin is not None
    assert popen.stdout is not None
    assert popen.stderr is not None
    return ProcessConnection(
        PopenHandle(popen),
        stdin=popen.stdin,
        stdout=popen.stdout,
        stderr=popen.stderr,
        description=description,
        temp_dir=temp_dir,
        stderr_limit=stderr_limit,
    )
