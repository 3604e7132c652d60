"""Start Python plugins by forking a preloaded interpreter instead of exec'ing a new one.

Theory of operation. Most of a Python plugin's start-up (about 70 ms of CPU) is importing
``arcaflow-plugin-sdk``. A :class:`ForkServer` starts one *zygote* per interpreter
(:mod:`._zygote`, run by that interpreter, so it works for cached venvs too), which imports the
SDK once; every plugin is then a ``fork()`` of it (a few ms) that runs the plugin module as
``__main__`` with fresh stdio pipes we pass over an AF_UNIX socket (``SCM_RIGHTS``). The child
leads its own session and process group, like a spawned plugin, and is stopped the same way
(:class:`~._process.ProcessConnection`); its exit code comes back over the control socket.

The zygote preloads only the SDK. From the third start of one source (module or file, argv,
environment, ``sys.path``), it forks a *source zygote* that runs the plugin module once up to
its ``plugin.run(...)`` call and forks each later run from there (:mod:`._zygote_preload` says
when a source is not preloaded, e.g. a ``print`` at import, and what stays different: module-level
code runs once per source zygote). Children of one zygote share the zygote's hash seed.

The zygote exits, killing every child's process group, when its control socket closes: on
:meth:`ForkServer.close`, at interpreter exit (``atexit``), or when our process dies.

A *launcher* (``ForkServer(python, launcher=True)``) is a zygote that preloads nothing and
``exec``s commands (:meth:`ForkServer.execute`): the ``command`` deployer and ``forkServer:
false`` start their plugins through one, so they get the same containment as forked plugins
(:mod:`._zygote`: subreaper, parent-death signal, orphans killed, directories removed when we
die). If a zygote is SIGKILLed, its plugins die with it (parent-death signal), and what they
started is found by the zygote's owner token in the environment and killed here.
"""

from __future__ import annotations

import array
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, final

from arcaflow_steps import DeploymentError

from . import _zygote  # standard library only, like the script it also is
from ._leftovers import owner_token
from ._live import LiveSet
from ._process import (
    DEFAULT_STDERR_LIMIT,
    ChildProcess,
    PopenHandle,
    ProcessConnection,
    describe_returncode,
    descriptor_reason,
)
from ._zygote_process import (
    ForkedHandle,
    fork_zygote,
    is_running_interpreter,
    kill_owned_processes,
    runs_with_default_options,
)

__all__ = [
    "ForkServer",
    "ForkServers",
    "ForkedHandle",
    "acquire_fork_server",
    "close_all_fork_servers",
    "release_fork_server",
    "shared_launcher",
]

_ZYGOTE: Final = str(Path(__file__).with_name("_zygote.py"))
_REPLY_TIMEOUT: Final = 30.0
_MAX_PACKET: Final = 1 << 16
#: The error of a request whose zygote died before it answered.
_EXITED: Final = "the fork server exited"
#: Modules every zygote preloads.
DEFAULT_PRELOAD: Final = _zygote.SDK_MODULES

#: Every fork server not closed yet; closed at interpreter exit (their zygotes kill the rest).
_SERVERS: Final[LiveSet[ForkServer]] = LiveSet(lambda server: server.close())


def close_all_fork_servers() -> None:
    """Close every fork server (their zygotes kill what is left); used at exit and by tests."""
    _SERVERS.stop_all()


@final
class ForkServers:
    """Fork servers shared by reference count, one per (interpreter, launcher or not).

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _shared: key -> (its fork server, how many holders).
        self._lock = threading.Lock()
        self._shared: dict[tuple[str, bool], tuple[ForkServer, int]] = {}

    def acquire(self, python: str, *, launcher: bool = False) -> ForkServer:
        """Return the shared fork server of ``python``, counting one holder."""
        key = (python, launcher)
        with self._lock:
            server, holders = self._shared.get(key, (None, 0))
            if server is None or server.is_closed:
                server, holders = ForkServer(python, launcher=launcher), 0
            self._shared[key] = (server, holders + 1)
            return server

    def release(self, server: ForkServer) -> None:
        """Drop one holder of a shared fork server; close it when none is left."""
        key = (server.python, server.is_launcher)
        with self._lock:
            current, holders = self._shared.get(key, (None, 0))
            if current is not server:
                last = True
            else:
                last = holders <= 1
                if last:
                    del self._shared[key]
                else:
                    self._shared[key] = (server, holders - 1)
        if last:
            server.close()


#: The fork servers of this process: the CLI's warm-up starts one that a deployer then uses.
SHARED: Final = ForkServers()


def acquire_fork_server(python: str) -> ForkServer:
    """Return the fork server of ``python`` shared by every deployer, counting one holder."""
    return SHARED.acquire(python)


def release_fork_server(server: ForkServer) -> None:
    """Drop one holder of a shared fork server; close it when none is left."""
    SHARED.release(server)


def shared_launcher() -> ForkServer:
    """Return (one more hold on) the shared launcher: a zygote that execs commands."""
    return SHARED.acquire(sys.executable, launcher=True)


def _three_pipes(python: str) -> tuple[int, int, int, int, int, int]:
    """Return the read and write ends of three pipes (stdin, stdout, stderr); on running out
    of descriptors, close what was opened and raise a ``DeploymentError`` saying so."""
    opened: list[int] = []
    try:
        for _ in range(3):
            opened.extend(os.pipe())
    except OSError as exc:
        for fd in opened:
            os.close(fd)
        raise DeploymentError(
            f"fork server for {python!r} cannot open pipes for a plugin: {descriptor_reason(exc)}"
        ) from exc
    stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w = opened
    return stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w


class _ZygoteExitedError(Exception):
    """The zygote a request went to died before it answered (the request may be retried)."""


def _kill_child(pid: int) -> None:
    """SIGKILL a zygote's child nobody will close, and its process group (from its setsid).

    Called before its exit report was read: it runs, or ended a moment ago (then, as with any
    kill by pid, the pid could have been reused in between; it is not reused that fast).
    """
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


@final
class _Zygote:
    """One zygote process and what waits on it; fields guarded by its fork server's lock."""

    __slots__ = (
        "closing",
        "control",
        "dead",
        "early_exits",
        "ended",
        "forgotten",
        "handles",
        "note",
        "owner",
        "pending",
        "process",
        "sourced",
    )

    def __init__(self, process: ChildProcess, control: socket.socket, owner: str) -> None:
        self.process: Final = process
        self.control: Final = control
        #: In every child's environment (``ARCAFLOW_STEPS_OWNER``): finds them if this zygote
        #: dies. One per zygote, so killing what a dead one left never hits its successor's.
        self.owner: Final = owner
        #: Set by ForkServer.close(): the zygote's end is expected.
        self.closing = False
        #: No new request may go to it (its socket closed or refused a request).
        self.dead = False
        #: Its reader has ended every handle and request: register no more.
        self.ended = False
        #: Why its children ended, when it died unexpectedly.
        self.note = ""
        self.pending: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self.handles: dict[int, ForkedHandle] = {}
        #: Exit reports that came before the handle was registered.
        self.early_exits: dict[int, int] = {}
        #: Children of requests given up (interrupted, timed out): killed, their exits ignored.
        self.forgotten: set[int] = set()
        #: Child pid -> the pid of the source zygote that forked it (see _zygote); an entry
        #: ``-source pid`` -> "" marks a source zygote that died.
        self.sourced: dict[int, int] = {}


@final
class ForkServer:
    """One zygote for one Python interpreter, forking plugin processes on request.

    Thread safety: safe to share; requests are serialised by a lock, replies are matched by id.
    """

    def __init__(
        self,
        python: str,
        *,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        launcher: bool = False,
    ) -> None:
        self.python: Final = python
        self.is_launcher: Final = launcher
        self._python = python
        self._preload = () if launcher else tuple(preload)
        # Guards _zygote, _closed and every _Zygote's fields; _send_lock orders requests.
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._ids = itertools.count(1)
        self._closed = False
        _SERVERS.add(self)

    @property
    def is_closed(self) -> bool:
        """Return whether :meth:`close` was called."""
        with self._lock:
            return self._closed

    def start(self) -> None:
        """Start the zygote now, without waiting for its preloading (idempotent).

        When the plugins run on this very interpreter (the CLI's warm-up), the zygote is a
        fork of this process rather than a new interpreter (:func:`._zygote.run_forked`): of
        the CLI's start-up seed if it planted one, else of this process as it is now if it has
        no other thread. It skips an interpreter start and most of the standard library
        imports, ~30 ms of a one-step run.

        Raises:
            DeploymentError: the fork server is closed or the interpreter cannot be started.
        """
        self._ensure_started(fork_here=True)

    def _can_fork_here(self) -> bool:
        """Return whether the zygote may be a fork of this process (see :meth:`start`)."""
        if (
            not is_running_interpreter(self._python)
            or self.is_launcher
            or not runs_with_default_options()
        ):
            return False
        try:  # what we buffered would be written again by every plugin
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):
            return False
        return True

    def _ensure_started(self, *, fork_here: bool = False) -> _Zygote:
        with self._lock:
            if self._closed:
                raise DeploymentError("fork server is closed")
            zygote = self._zygote
            if zygote is not None and not zygote.dead and zygote.process.poll() is None:
                return zygote
            if zygote is not None:  # it died: start afresh (its reader cleans up after it)
                zygote.dead = True
                self._zygote = None
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                process: ChildProcess | None = None
                if fork_here and self._can_fork_here():
                    process = fork_zygote(theirs.fileno(), self._preload)
                if process is None:
                    # A launcher imports nothing of the plugin's: no site-packages (-I -S).
                    options = ["-I", "-S"] if self.is_launcher else []
                    process = subprocess.Popen(
                        [self._python, *options, _ZYGOTE, str(theirs.fileno()), *self._preload],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        pass_fds=(theirs.fileno(),),
                        start_new_session=True,
                        close_fds=True,
                    )
            except OSError as exc:
                ours.close()
                raise DeploymentError(
                    f"cannot start python {self._python!r}: {exc.strerror or exc}"
                ) from exc
            finally:
                theirs.close()
            zygote = _Zygote(process, ours, owner_token())
            self._zygote = zygote
            reader = threading.Thread(
                target=self._read_loop,
                args=(zygote,),
                name=f"zygote-{process.pid}",
                daemon=True,
            )
            reader.start()
            return zygote

    def _read_loop(self, zygote: _Zygote) -> None:
        control = zygote.control
        while True:
            try:
                data = control.recv(_MAX_PACKET)
            except OSError:
                data = b""
            if not data:
                break
            try:
                message = json.loads(data)
            except ValueError:
                continue
            if "source_exit" in message:
                self._after_source_death(zygote, int(message["source_exit"]))
                continue
            if "exit" in message:
                self._on_exit_report(zygote, int(message["exit"]), int(message["code"]))
                continue
            with self._lock:
                pending = zygote.pending.pop(message.get("id"), None)
                if pending is not None:
                    pending[1].update(message)
                elif "pid" in message:  # its request was given up: nobody will close it
                    zygote.forgotten.add(int(message["pid"]))
            if pending is not None:
                pending[0].set()
            elif "pid" in message:
                _kill_child(int(message["pid"]))
        with self._lock:  # before the close: a send that finds it closed knows why
            zygote.dead = True
        with contextlib.suppress(OSError):
            control.close()
        self._after_death(zygote)

    def _on_exit_report(self, zygote: _Zygote, pid: int, code: int) -> None:
        with self._lock:
            zygote.sourced.pop(pid, None)
            handle = zygote.handles.pop(pid, None)
            if handle is None and pid in zygote.forgotten:
                zygote.forgotten.discard(pid)
            elif handle is None:
                zygote.early_exits[pid] = code
        if handle is not None:
            handle.on_exit(code)

    def _after_source_death(self, zygote: _Zygote, source: int) -> None:
        """End the plugins of a source zygote that died (they died with it), and fail every
        request still waiting: one it had taken would never be answered. (A failed request is
        retried once; the zygote forks that source itself from now on.)"""
        note = f"its source zygote, pid {source}, died"
        with self._lock:
            pids = [pid for pid, parent in zygote.sourced.items() if parent == source]
            handles = [zygote.handles.pop(pid) for pid in pids if pid in zygote.handles]
            for pid in pids:
                del zygote.sourced[pid]
            zygote.sourced[-source] = source
            pending_requests = list(zygote.pending.values())
            zygote.pending.clear()
        for handle in handles:
            handle.on_exit(-signal.SIGKILL, note)
        for event, reply in pending_requests:
            reply["error"] = _EXITED
            event.set()

    def _after_death(self, zygote: _Zygote) -> None:
        """End what waits on a zygote that is gone; if it was killed, kill what it left."""
        # Every child it had is dead (it kills them, or they die with it).
        with self._lock:
            unexpected = not zygote.closing
        note = ""
        if unexpected:  # not our close(): it was killed, so nothing of its children's was
            process = zygote.process
            dead = PopenHandle(process)
            dead.wait_exited(1.0)  # its socket closes before its exit status is set
            returncode = dead.peek_returncode()
            dead.reap(0.5)  # and its pidfd closed
            ended = "ended" if returncode is None else describe_returncode(returncode)
            note = f"its fork server, zygote pid {process.pid}, died: {ended}"
            kill_owned_processes(zygote.owner)
        with self._lock:
            zygote.ended = True
            zygote.note = note
            handles = list(zygote.handles.values())
            zygote.handles.clear()
            zygote.early_exits.clear()
            pending_requests = list(zygote.pending.values())
            zygote.pending.clear()
        for handle in handles:
            handle.on_exit(-signal.SIGKILL, note)
        for event, reply in pending_requests:
            reply["error"] = _EXITED
            event.set()

    def spawn(
        self,
        *,
        argv: Sequence[str],
        description: str,
        cwd: str,
        module: str | None = None,
        path: str | None = None,
        sys_path: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        temp_dir: str | None = None,
        stderr_limit: int = DEFAULT_STDERR_LIMIT,
    ) -> ProcessConnection:
        """Fork a plugin process running ``module`` (like ``-m``) or ``path`` as ``__main__``.

        Raises:
            DeploymentError: the zygote could not be started or did not fork.
        """
        request = {
            "argv": list(argv),
            "cwd": cwd,
            "env": dict(env) if env is not None else None,
            "sys_path": list(sys_path),
            "module": module,
            "path": path,
            "preload": True,
        }
        return self._request(request, description, temp_dir, stderr_limit)

    def execute(
        self,
        argv: Sequence[str],
        *,
        description: str,
        cwd: str,
        env: Mapping[str, str] | None = None,
        temp_dir: str | None = None,
        stderr_limit: int = DEFAULT_STDERR_LIMIT,
    ) -> ProcessConnection:
        """Start the command ``argv`` (looked up on ``PATH``) in a child of the launcher.

        Raises:
            DeploymentError: the launcher could not be started, or the command not executed.
        """
        request = {
            "exec": True,
            "argv": list(argv),
            "cwd": cwd,
            "env": dict(env) if env is not None else dict(os.environ),
        }
        return self._request(request, description, temp_dir, stderr_limit)

    def _request(
        self,
        request: dict[str, Any],
        description: str,
        temp_dir: str | None,
        stderr_limit: int,
    ) -> ProcessConnection:
        try:
            zygote = self._ensure_started()
            return self._request_of(zygote, request, description, temp_dir, stderr_limit)
        except _ZygoteExitedError:
            pass  # it was killed meanwhile: one more try, on a new zygote
        try:
            zygote = self._ensure_started()
            return self._request_of(zygote, request, description, temp_dir, stderr_limit)
        except _ZygoteExitedError as exc:
            raise DeploymentError(f"fork server for {self._python!r} failed: {exc}") from None

    def _request_of(
        self,
        zygote: _Zygote,
        request: dict[str, Any],
        description: str,
        temp_dir: str | None,
        stderr_limit: int,
    ) -> ProcessConnection:
        """Send ``request`` to ``zygote``; raise ``_ZygoteExitedError`` if it died meanwhile."""
        request_id = next(self._ids)
        request = {**request, "id": request_id, "cleanup": temp_dir, "owner": zygote.owner}
        stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w = _three_pipes(self._python)
        reply: dict[str, Any] = {}
        try:
            try:
                event = self._send(zygote, request, (stdin_r, stdout_w, stderr_w), reply)
            finally:  # the child's ends are the zygote's now (or nobody's)
                for fd in (stdin_r, stdout_w, stderr_w):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            pid = self._await_pid(zygote, request_id, event, reply, description)
        except BaseException:
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            raise
        handle = ForkedHandle(pid)
        source = int(reply.get("source", 0))
        with self._lock:
            early = zygote.early_exits.pop(pid, None)
            ended, note = zygote.ended, zygote.note
            if source and -source in zygote.sourced:  # it died after it replied
                ended, note = True, f"its source zygote, pid {source}, died"
            if early is None and not ended:
                zygote.handles[pid] = handle
                if source:
                    zygote.sourced[pid] = source
        if early is not None:
            handle.on_exit(early)
        elif ended:  # its zygote died after it replied: the child died with it
            handle.on_exit(-signal.SIGKILL, note)
        return ProcessConnection(
            handle,
            stdin=os.fdopen(stdin_w, "wb"),
            stdout=os.fdopen(stdout_r, "rb"),
            stderr=os.fdopen(stderr_r, "rb"),
            description=description,
            temp_dir=temp_dir,
            stderr_limit=stderr_limit,
        )

    def _send(
        self,
        zygote: _Zygote,
        request: dict[str, Any],
        child_fds: tuple[int, int, int],
        reply: dict[str, Any],
    ) -> threading.Event:
        """Send ``request`` with the child's stdio; return the event its reply sets."""
        event = threading.Event()
        with self._lock:
            exited = zygote.ended
            if not exited:
                zygote.pending[request["id"]] = (event, reply)
        if exited:
            raise _ZygoteExitedError(_EXITED)
        fds = array.array("i", child_fds)
        try:
            with self._send_lock:
                zygote.control.sendmsg(
                    [json.dumps(request).encode()],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())],
                )
        except OSError as exc:
            with self._lock:
                zygote.pending.pop(request["id"], None)
                # Its end of the socket is closed (it is dying), or its reader closed ours.
                gone = zygote.dead or isinstance(exc, (BrokenPipeError, ConnectionError))
                zygote.dead = gone
            if gone:
                raise _ZygoteExitedError(_EXITED) from exc
            raise DeploymentError(f"fork server for {self._python!r} failed: {exc}") from exc
        return event

    def _await_pid(
        self,
        zygote: _Zygote,
        request_id: int,
        event: threading.Event,
        reply: dict[str, Any],
        description: str,
    ) -> int:
        """Wait for the reply to request ``request_id``; return the child's pid."""
        try:
            answered = event.wait(_REPLY_TIMEOUT)
        except BaseException:  # interrupted (the CLI's signal handler raises in here)
            self._give_up(zygote, request_id, reply)
            raise
        if not answered or "pid" not in reply:
            self._give_up(zygote, request_id, reply)
            reason = reply.get("error", "no answer")
            if reply.get("exec_failed"):
                raise DeploymentError(f"cannot start {description}: {reason}")
            if reason == _EXITED:
                raise _ZygoteExitedError(reason)
            raise DeploymentError(f"fork server for {self._python!r} failed: {reason}")
        return int(reply["pid"])

    def _give_up(self, zygote: _Zygote, request_id: int, reply: dict[str, Any]) -> None:
        """Forget request ``request_id``; kill its child if it was forked (now or later)."""
        with self._lock:
            waiting = zygote.pending.pop(request_id, None) is not None
            pid = None if waiting or "pid" not in reply else int(reply["pid"])
            if pid is not None and zygote.early_exits.pop(pid, None) is not None:
                pid = None  # it ended already
            elif pid is not None:
                zygote.forgotten.add(pid)
        if pid is not None:  # else a reply still to come finds no request: the reader kills
            _kill_child(pid)

    def close(self) -> None:
        """Close the control socket (the zygote kills its children and exits) and reap it."""
        with self._lock:
            self._closed = True
            zygote, self._zygote = self._zygote, None
            if zygote is not None:
                zygote.closing = True
        _SERVERS.discard(self)
        if zygote is None:
            return
        with contextlib.suppress(OSError):
            zygote.control.shutdown(socket.SHUT_RDWR)
        zygote.control.close()
        handle = PopenHandle(zygote.process)  # waits on a pidfd: no polling sleeps
        if not handle.wait_exited(5.0):
            handle.signal_group(signal.SIGKILL)
        handle.reap(5.0)
