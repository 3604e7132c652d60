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

When the control socket closes (the client closed it, or died), every child's process group is
killed, the directories named by the requests' ``cleanup`` fields are removed, and the zygote
exits: nothing outlives its client.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import gc
import json
import os
import runpy
import select
import shutil
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

_MAX_PACKET = 1 << 20
#: Upper bound of the descriptors closed in a forked zygote.
_MAX_FD = 65536
#: Directories to remove if our client dies (it removes them itself when it closes a plugin).
_CLEANUP: set[str] = set()


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


def _run_child(request: dict[str, Any], fds: list[int]) -> None:
    """Become the plugin process (never returns)."""
    code = 1
    try:
        os.setsid()
        if len(fds) != len((0, 1, 2)):  # stdin, stdout, stderr
            os._exit(1)
        # Not zip(strict=True): the zygote runs on every interpreter the SDK supports (3.9+).
        for target, fd in zip((0, 1, 2), fds):  # noqa: B905
            if fd != target:
                os.dup2(fd, target)
        os.closerange(3, _MAX_FD)
        os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        sys.argv[:] = request["argv"]
        sys.path[:0] = request.get("sys_path", [])
        code = _run_target(request)
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
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(control, {"exit": pid, "code": _exit_code(status)})


def _serve(control: socket.socket, children: set[int]) -> bool:
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
    try:
        pid = os.fork()
    except OSError as exc:
        _close_all(fds)
        _send(control, {"id": request.get("id"), "error": f"fork failed: {exc}"})
        return True
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _run_child(request, fds)
    _close_all(fds)
    children.add(pid)
    if request.get("cleanup"):
        _CLEANUP.add(request["cleanup"])
    _send(control, {"id": request.get("id"), "pid": pid})
    return True


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def serve(control: socket.socket, preload: Sequence[str]) -> None:
    """Preload ``preload``, then fork plugins on request until ``control`` closes."""
    # The SDK binds argv and the std streams as defaults when imported: make them the child's.
    sys.argv[:] = ["plugin", "--atp"]
    for module in preload:
        with contextlib.suppress(Exception):  # unused by the plugin? It pays its own import
            __import__(module)
    # Children share the preloaded objects copy-on-write; keep the collector from touching
    # (and so copying) them in every child. (No gc.collect() first: it costs 5-15 ms on the
    # first plugin's start-up, for a few KiB of import garbage.)
    gc.freeze()
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
    for pid in children:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
    for directory in _CLEANUP:
        shutil.rmtree(directory, ignore_errors=True)


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
