"""Fork server ("zygote") for Python plugins; run as a script by the plugin's interpreter.

Usage: ``python _zygote.py CONTROL_FD [MODULE_TO_PRELOAD ...]``. Standard library only (it runs
in a plugin's virtual environment, without arcaflow-steps), Python 3.9+ like the plugin SDK.

It preloads the given modules (``arcaflow_plugin_sdk.plugin``: most of a plugin's start-up
time), then serves requests on the AF_UNIX SOCK_SEQPACKET control socket. A request is one JSON
packet carrying three file descriptors (the child's stdin, stdout and stderr):
``{"id", "argv", "cwd", "env", "sys_path", "module" | "path"}``. For each, it forks a child that
becomes a session (and process group) leader, takes the descriptors as 0/1/2 and runs the
module or file as ``__main__`` like ``python -m``/``python FILE`` would. Replies:
``{"id", "pid"}`` or ``{"id", "error"}``, then ``{"exit": pid, "code": returncode}`` when a
child ends (negative: killed by that signal).

Source zygotes. A request with ``"preload": true`` counts towards its source (``_source_key``:
module or path, argv, environment, ``sys.path`` without the run's own directory). From the
source's ``_PRELOAD_FROM``th request on, it goes to the source's *source zygote*: a child
forked from here (:mod:`._zygote_source`, loaded by path; contained as a plugin is: its own
session, subreaper, parent-death signal) that imports the plugin once (:mod:`._zygote_preload`)
and then forks each run from that state, replying ``{"id", "pid", "source"}`` and the runs'
exits on the control socket it inherited. Its requests come over a socket pair of its own,
forwarded with their descriptors. Starting one is synchronous (at most ``_PRELOAD_LIMIT``
seconds, and not past the client's end); if the source cannot be preloaded, it says why and
exits, and that source is forked here as before. It imports in a directory inside the run
directory of the request that started it, so a kill in the middle leaves nothing the run's
clean-up does not remove. When a source zygote ends (it is killed; its plugins die with it),
the zygote reports ``{"source_exit": pid}`` and forks that source itself from then on.

A request with ``"exec": true`` runs ``argv`` with ``execvpe`` in the child instead (the
``command`` deployer and ``forkServer: false`` use such a *launcher*, a zygote that preloads
nothing); a failed exec is replied as an error, and its child's exit is not reported.

Containment (theory of operation). The zygote is a child subreaper
(``PR_SET_CHILD_SUBREAPER``) and so is every child it forks, which also gets
``PR_SET_PDEATHSIG=SIGKILL`` (the zygote is single-threaded, so "the forking thread" is the
zygote itself). A process a plugin starts therefore stays in the plugin's subtree however it
detaches (background, ``setsid``, double fork): while the plugin lives its orphans are
reparented to the plugin; once the plugin is gone they are reparented to the zygote. Any child
of the zygote that is not a plugin it forked is such an orphan of a finished plugin, and the
zygote SIGKILLs it (``_sweep``) whenever a child ends, *before* it reports the plugin's exit.
Every child also carries ``ARCAFLOW_STEPS_OWNER`` (the request's ``owner`` token) in its
environment, so the client can still find and kill them if the zygote itself is SIGKILLed.

When the control socket closes (the client closed it, or died), every child is killed, then
every orphan until none is left, the directories named by the requests' ``cleanup`` fields are
removed, and the zygote exits: nothing outlives its client.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import gc
import io
import json
import os
import runpy
import select
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

_MAX_PACKET = 1 << 20
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
#: Environment variable naming the client that owns a plugin (for the client's last resort).
OWNER_VARIABLE = "ARCAFLOW_STEPS_OWNER"
#: Seconds the zygote, once its client is gone, spends killing and reaping before it gives up.
_SHUTDOWN_LIMIT = 10
_prctl: Any = None
#: Upper bound of the descriptors closed in a forked zygote.
_MAX_FD = 65536
#: What a zygote for plugin SDK plugins preloads: ``plugin.run()`` imports the ATP server lazily,
#: and building its message schemas costs ~10 ms of CPU per process; predefined_schemas holds
#: the cancel signal.
SDK_MODULES = (
    "arcaflow_plugin_sdk.plugin",
    "arcaflow_plugin_sdk.atp",
    "arcaflow_plugin_sdk.predefined_schemas",
)
#: The block-buffered stdout :func:`prepare_seed` imported the SDK with (the SDK bound it).
_prepared_stdout: Any = None
#: Directories to remove if our client dies (it removes them itself when it closes a plugin).
_CLEANUP: set[str] = set()
#: Fewest entries of _CLEANUP that make the next request drop the directories already removed.
_PRUNE_FROM = 64
_prune_at = _PRUNE_FROM
#: Seconds a source zygote may take to import its plugin before the source falls back (the
#: zygote serves nothing else meanwhile; a slower import is paid by each run, as before).
_PRELOAD_LIMIT = 5
#: The request of a source that starts its source zygote. Not the second: a probe process is
#: reused by the first run, so two starts are often a two-step workflow, for which the source
#: zygote would be one import and one process more and save nothing.
_PRELOAD_FROM = 3
#: How many preloadable requests each source key has had (up to _PRELOAD_FROM).
_SEEN: dict[str, int] = {}
#: Source key -> the request socket of its source zygote; None: the source cannot be preloaded.
_SOURCES: dict[str, socket.socket | None] = {}
#: Pid of each live source zygote -> its source key.
_SOURCE_PIDS: dict[int, str] = {}


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _recv(sock: socket.socket) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(_MAX_PACKET, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)


def _load_prctl() -> None:
    """Bind ``prctl(2)`` once (before forking, so children need not load ctypes)."""
    global _prctl
    with contextlib.suppress(Exception):  # not Linux, or no ctypes: no containment
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).prctl
        function.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        function.restype = ctypes.c_int
        _prctl = function


def _set(option: int, value: int) -> None:
    if _prctl is not None:
        _prctl(option, value, 0, 0, 0)


def _own_children() -> list[int]:
    """Return the pids of our children (reparented orphans included)."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: scan every process
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{entry}/stat") as stat:
                    raw = stat.read()
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry))
    return found


def _sweep(children: set[int]) -> None:
    """SIGKILL every child that is not a plugin we forked: an orphan of an ended plugin."""
    for pid in _own_children():
        if pid not in children and pid not in _SOURCE_PIDS:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 1


def _system_exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1


def _run_target(request: dict[str, Any]) -> int:
    try:
        if request.get("module"):
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(request["path"], run_name="__main__")
    except SystemExit as exc:
        return _system_exit_code(exc)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _contain(zygote: int) -> None:
    """Die with the zygote, and keep whatever we start in our subtree (see the module doc)."""
    _set(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:  # the zygote died before the line above
        os._exit(1)
    _set(_PR_SET_CHILD_SUBREAPER, 1)


def _exec_child(request: dict[str, Any], fds: list[int], zygote: int, report: int) -> None:
    """Become the command ``argv`` (never returns); a failure is written to ``report``."""
    try:
        os.setsid()
        _contain(zygote)
        for target, fd in enumerate(fds):
            if fd != target:
                os.dup2(fd, target)
        keep = report if report > 2 else _MAX_FD
        os.closerange(3, keep)
        os.closerange(keep + 1, _MAX_FD)
        os.chdir(request["cwd"])
        env = dict(request["env"])
        env["PWD"] = request["cwd"]  # as a shell would say after `cd`
        if request.get("owner"):
            env[OWNER_VARIABLE] = request["owner"]
        os.execvpe(request["argv"][0], request["argv"], env)
    except BaseException as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        with contextlib.suppress(BaseException):
            os.write(report, (message or type(exc).__name__).encode()[:4096])
    finally:
        os._exit(127)


def _run_preloaded(preloaded: Any) -> int:
    try:
        return int(preloaded.start())
    except SystemExit as exc:
        return _system_exit_code(exc)
    except BaseException:
        traceback.print_exc()
        return 1


def _run_child(request: dict[str, Any], fds: list[int], zygote: int, preloaded: Any = None) -> None:
    """Become the plugin process (never returns); ``preloaded``: continue a source zygote's
    import of the plugin (its ``plugin.run`` call) instead of running the module."""
    code = 1
    try:
        os.setsid()
        _contain(zygote)
        if len(fds) != len((0, 1, 2)):  # stdin, stdout, stderr
            os._exit(1)
        for target, fd in enumerate(fds):
            if fd != target:
                os.dup2(fd, target)
        os.closerange(3, _MAX_FD)
        os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        os.environ["PWD"] = request["cwd"]
        if request.get("owner"):
            os.environ[OWNER_VARIABLE] = request["owner"]
        sys.argv[:] = request["argv"]
        if preloaded is None:
            sys.path[:0] = request.get("sys_path", [])
            code = _run_target(request)
        else:
            sys.path[: len(request.get("sys_path", []))] = request.get("sys_path", [])
            code = _run_preloaded(preloaded)
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()  # join non-daemon threads, as interpreter exit would
        atexit._run_exitfuncs()
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code & 0xFF if code >= 0 else 1)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _reap(control: socket.socket, children: set[int]) -> None:
    """Reap every ended child; kill the orphans of ended plugins, then report the plugins."""
    ended: list[tuple[int, int | None]] = []
    reaped = False
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped = True  # a plugin, or an orphan whose own children are now ours
        if pid in _SOURCE_PIDS:  # a source zygote died: its plugins died with it
            key = _SOURCE_PIDS.pop(pid)
            request_socket = _SOURCES.get(key)
            if request_socket is not None:
                request_socket.close()
            _SOURCES[key] = None  # do not start it again
            ended.append((pid, None))
        elif pid in children:
            children.discard(pid)
            ended.append((pid, _exit_code(status)))
    if reaped:
        _sweep(children)
    for pid, code in ended:
        if code is None:
            _send(control, {"source_exit": pid})
        else:
            _send(control, {"exit": pid, "code": code})


def _serve(control: socket.socket, children: set[int]) -> bool:  # noqa: PLR0911 - one per outcome
    """Handle one request; return False when the control socket closed."""
    try:
        data, fds = _recv(control)
    except OSError:
        data, fds = b"", []
    if not data:
        _close_all(fds)
        return False
    try:
        request = json.loads(data)
    except ValueError as exc:
        _close_all(fds)
        _send(control, {"id": None, "error": f"bad request: {exc}"})
        return True
    if len(fds) != 3:
        _close_all(fds)
        _send(control, {"id": request.get("id"), "error": "expected 3 descriptors"})
        return True
    if request.get("cleanup"):
        _remember_cleanup(request["cleanup"])
    if request.get("preload") and _forward(control, request, data, fds):
        return True
    executes = bool(request.get("exec"))
    report_read, report_write = os.pipe2(os.O_CLOEXEC) if executes else (-1, -1)
    zygote = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        _close_all([*fds, report_read, report_write] if executes else fds)
        _send(control, {"id": request.get("id"), "error": f"fork failed: {exc}"})
        return True
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if executes:  # what subprocess.Popen(restore_signals=True) gives a command
            for signum in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(signum, signal.SIG_DFL)
            os.close(report_read)
            _exec_child(request, fds, zygote, report_write)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _run_child(request, fds, zygote)
    _close_all(fds)
    children.add(pid)
    if executes:
        os.close(report_write)
        failure = _read_all(report_read)
        os.close(report_read)
        if failure:  # the child exits 127: no plugin, so reaped without an exit report
            children.discard(pid)
            reason = failure.decode(errors="replace")
            _send(control, {"id": request.get("id"), "error": reason, "exec_failed": True})
            return True
    _send(control, {"id": request.get("id"), "pid": pid})
    return True


def _source_key(request: dict[str, Any]) -> str:
    """Return what must be equal for two requests to run one preloaded import: the target,
    argv, environment and ``sys.path`` (the run's own directory left out)."""
    cwd = request.get("cwd")
    sys_path = [None if entry == cwd else entry for entry in request.get("sys_path", [])]
    target = [request.get("module"), request.get("path"), request.get("argv"), sys_path]
    return json.dumps([*target, request.get("env")], sort_keys=True)


def _forward(control: socket.socket, request: dict[str, Any], data: bytes, fds: list[int]) -> bool:
    """Hand a plugin request to its source zygote (started by the source's ``_PRELOAD_FROM``th
    request); return False when it is to be forked here, as before."""
    key = _source_key(request)
    seen = _SEEN.get(key, 0) + 1
    _SEEN[key] = min(seen, _PRELOAD_FROM)
    if seen < _PRELOAD_FROM or _SOURCES.get(key, False) is None:
        return False
    if key not in _SOURCES:
        started = _start_source(control, request)
        _SOURCES[key] = None if started is None else started[1]
        if started is not None:
            _SOURCE_PIDS[started[0]] = key
    request_socket = _SOURCES[key]
    if request_socket is None:
        return False
    try:
        request_socket.sendmsg(
            [data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        )
    except OSError:  # it is dying: we will reap it (and tell our client); fork this one here
        return False
    _close_all(fds)
    return True


def _start_source(
    control: socket.socket, request: dict[str, Any]
) -> tuple[int, socket.socket] | None:
    """Fork a source zygote for ``request``'s source; wait until it imported the plugin.

    Returns its pid and request socket, or None when the plugin cannot be preloaded (the zygote said
    why, died, or took longer than ``_PRELOAD_LIMIT``; it is killed and reaped as an orphan).
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        return None
    if pid == 0:
        ours.close()
        try:
            source = _load_sibling("_zygote_source.py", "_arcaflow_zygote_source")
            source.become_source(sys.modules[__name__], control, theirs, request, zygote)
        finally:
            os._exit(1)
    theirs.close()
    status = b""
    # Wait for its answer, but not past our client's end: nothing may outlive it long.
    poller = select.poll()
    poller.register(ours, select.POLLIN)
    poller.register(control, select.POLLRDHUP)
    deadline = time.monotonic() + _PRELOAD_LIMIT
    with contextlib.suppress(OSError):
        while not status and (remaining := deadline - time.monotonic()) > 0:
            events = dict(poller.poll(remaining * 1000))
            if control.fileno() in events:
                break  # our client is gone: _serve sees it next and we shut down
            if ours.fileno() in events:
                status = ours.recv(_MAX_PACKET) or b"ended"
    if status != b"ready":
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        ours.close()
        return None
    return pid, ours


def _load_sibling(filename: str, name: str) -> Any:
    """Load the module in ``filename`` beside this file (we may run as a script)."""
    import importlib.util

    location = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
    spec = importlib.util.spec_from_file_location(name, location)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _remember_cleanup(directory: str) -> None:
    """Add ``directory`` to the ones removed if our client dies.

    The client removes a plugin's directory when it closes the plugin; whenever the set has
    doubled, the directories already gone are dropped, so it holds about as many entries as
    directories exist rather than one per request ever served.
    """
    global _prune_at
    if len(_CLEANUP) >= _prune_at:
        _CLEANUP.difference_update([path for path in _CLEANUP if not os.path.lexists(path)])
        _prune_at = max(_PRUNE_FROM, 2 * len(_CLEANUP))
    _CLEANUP.add(directory)


def _read_all(fd: int) -> bytes:
    """Read until EOF (the exec succeeded, closing the pipe) or the child's failure report."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:
            continue
        if not chunk:
            return data
        data += chunk


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def _buffer_stdout() -> None:
    """Give the children a block-buffered ``sys.stdout`` on descriptor 1, even under ``-u`` or
    ``PYTHONUNBUFFERED`` (and in a zygote forked from a client that replaced its stdout).

    A plugin's stdout carries ATP and the SDK flushes it after every message; unbuffered, the
    CBOR encoder's every item is a write of its own (~400 for a small plugin's hello), each
    waking our reader. Text a plugin prints to stdout outside a step goes to the same buffer
    (``write_through``), so it still reaches the pipe in order, with the next message, and
    breaks the stream as it would unbuffered (a ``print`` at import time: before the hello).
    """
    stream = sys.stdout
    with contextlib.suppress(Exception):  # no usable descriptor 1: each child gets one anyway
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
            encoding=getattr(stream, "encoding", None) or "utf-8",
            errors=getattr(stream, "errors", None) or "strict",
            write_through=True,  # text keeps its place among the SDK's binary writes
        )


def prepare_seed() -> None:
    """Import :data:`SDK_MODULES` in the start-up seed (``arcaflow_steps._start_seed``; entry
    point group ``arcaflow.start_seed``) as :func:`serve` would, while the CLI still imports
    itself: a zygote made of the seed then starts ~30 ms sooner. ``sys.argv`` and
    ``sys.stdout`` are put back afterwards (the seed may become something else); :func:`serve`
    takes the stdout the SDK bound."""
    global _prepared_stdout
    argv, stdout = list(sys.argv), sys.stdout
    sys.argv[:] = ["plugin", "--atp"]
    _buffer_stdout()
    try:
        for module in SDK_MODULES:
            with contextlib.suppress(Exception):  # no SDK here: a zygote imports nothing then
                __import__(module)
    finally:
        _prepared_stdout = sys.stdout
        sys.argv[:] = argv
        sys.stdout = stdout


def serve(control: socket.socket, preload: Sequence[str]) -> None:
    """Preload ``preload``, then fork plugins on request until ``control`` closes."""
    # The SDK binds argv and the std streams as defaults when imported: make them the child's.
    sys.argv[:] = ["plugin", "--atp"]
    if _prepared_stdout is None:
        _buffer_stdout()
    else:  # the SDK was imported in the start-up seed, bound to this one
        sys.stdout = _prepared_stdout
    for module in preload:
        with contextlib.suppress(Exception):  # unused by the plugin? It pays its own import
            __import__(module)
    # Children share the preloaded objects copy-on-write; keep the collector from touching
    # (and so copying) them in every child. (No gc.collect() first: it costs 5-15 ms on the
    # first plugin's start-up, for a few KiB of import garbage.)
    gc.freeze()
    _load_prctl()
    _set(_PR_SET_CHILD_SUBREAPER, 1)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    while True:
        try:
            ready, _, _ = select.select([control.fileno(), wake_read], [], [])
        except InterruptedError:
            continue
        if wake_read in ready:
            _drain(wake_read)
        _reap(control, children)
        if control.fileno() in ready and not _serve(control, children):
            break
    _shut_down(children)


def _shut_down(children: set[int]) -> None:
    """Kill every plugin and every orphan until no child is left; remove the directories."""
    # A child stuck in the kernel must not keep us (and the directories) forever.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(1))
    signal.alarm(_SHUTDOWN_LIMIT)
    for pid in [*children, *_SOURCE_PIDS]:  # a source zygote's plugins die with it
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)
    _SOURCE_PIDS.clear()
    while True:
        _sweep(set())
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
    for directory in _CLEANUP:
        shutil.rmtree(directory, ignore_errors=True)
    signal.alarm(0)


def main() -> None:
    """Serve on the control socket and preload the modules named on the command line."""
    if sys.path and os.path.dirname(os.path.abspath(__file__)) == os.path.abspath(sys.path[0]):
        del sys.path[0]  # our own directory is not the plugin's
    serve(socket.socket(fileno=int(sys.argv[1])), sys.argv[2:])


def run_forked(control_fd: int, preload: Sequence[str]) -> NoReturn:
    """Become the zygote in the child of an ``os.fork()`` of its client (never returns).

    The client forks instead of starting ``python _zygote.py`` when the plugins run on its own
    interpreter and it has no other thread: the zygote then starts without an interpreter
    start-up and with the modules the client already imported (a third of the SDK's import
    time). First undo what belongs to the client, so the zygote's children see what a fresh
    interpreter's would: a session of their own, no client atexit handlers or signal handlers,
    stdio on /dev/null, no other descriptor than the control socket, and ``sys.path`` without
    the client's script directory.
    """
    code = 0
    try:
        os.setsid()
        # For ps and top (the command line stays the client's).
        with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
            comm.write("arcaflow-zygote")
        atexit._clear()
        for signum in signal.valid_signals():
            with contextlib.suppress(OSError, ValueError):
                handler = signal.getsignal(signum)
                if callable(handler) and handler is not signal.default_int_handler:
                    signal.signal(signum, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, control_fd)
        os.closerange(control_fd + 1, _MAX_FD)
        if sys.path and not sys.flags.safe_path:
            del sys.path[0]  # the client's script directory (or '' for -c, the cwd for -m)
        serve(socket.socket(fileno=control_fd), preload)
    except BaseException:  # nothing to report to: the client sees the socket close
        code = 1
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
    # Nothing to flush or finalize: skip tearing down the preloaded SDK (~10-20 ms), so the
    # client's close (at CLI exit) returns sooner.
    os._exit(0)
