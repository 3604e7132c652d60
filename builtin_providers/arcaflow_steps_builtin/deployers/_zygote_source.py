"""The source zygote: a fork of the fork server's zygote that imports one plugin source once,
then forks each of its runs from that state.

Standard library only, Python 3.9+ (it runs in the plugin's interpreter, without
arcaflow-steps): :mod:`._zygote` loads this file by path (it may itself run as a script) in
the child it forks for a source (``_start_source``), and hands over its own module as
``zygote``, whose plumbing both share: containment, the control socket's messages, reaping
and shutting down. When a source zygote starts and how requests reach it: :mod:`._zygote`,
"Source zygotes". The import itself, and when it is refused: :mod:`._zygote_preload`.

Theory of operation. :func:`become_source` makes the child a contained session leader (as a
plugin is), closes every descriptor but the control socket and its request socket, and
imports the plugin the way its runs would, inside a directory of its own with stdout and
stderr into a file (:func:`_preload`). It answers ``ready`` or why the plugin cannot be
preloaded on its request socket, then serves: one fork per request, each child continuing the
import at the SDK's ``plugin.run``, replying ``{"id", "pid", "source"}`` and the runs' exits on
the control socket. When its request socket closes, it kills its runs and exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
from types import ModuleType
from typing import Any, NoReturn

__all__ = ["become_source"]


def become_source(
    zygote: ModuleType,
    control: socket.socket,
    requests: socket.socket,
    request: dict[str, Any],
    zygote_pid: int,
) -> NoReturn:
    """Be a source zygote: import the plugin of ``request`` once, then fork each run that
    comes on ``requests`` from that state, replying on ``control`` (never returns).

    ``zygote`` is the fork server zygote's module (:mod:`._zygote`, in this process), whose
    plumbing the source zygote shares; ``zygote_pid`` is the zygote's pid."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        zygote._contain(zygote_pid)
        keep = sorted((control.fileno(), requests.fileno()))
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, zygote._MAX_FD)
        zygote._SEEN.clear()
        zygote._SOURCES.clear()
        zygote._SOURCE_PIDS.clear()
        zygote._CLEANUP.clear()  # our client's: the fork server zygote removes them
        preloaded = _preload(zygote, request)
        if isinstance(preloaded, str):
            zygote._send(requests, {"error": preloaded})
            code = 0
        else:
            requests.send(b"ready")
            gc.freeze()
            _serve_source(zygote, control, requests, preloaded)
            code = 0
    finally:
        os._exit(code)


def _preload(zygote: ModuleType, request: dict[str, Any]) -> Any:
    """Import the plugin as its runs would (argv, environment, ``sys.path``, an empty working
    directory of its own, stdout and stderr into a file); return the preloaded call, or why
    the plugin cannot be preloaded."""
    try:
        import arcaflow_plugin_sdk.plugin as sdk
    except BaseException:  # not an SDK plugin's interpreter
        return "no arcaflow_plugin_sdk"
    preloader = zygote._load_sibling("_zygote_preload.py", "_arcaflow_zygote_preload")
    # Inside the directory of the request that started us (removed with it whoever dies),
    # and gone before that request's run is forked into it.
    directory = os.path.join(request["cwd"], ".arcaflow-preload")
    os.mkdir(directory, 0o700)
    output = os.open(directory + ".out", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.unlink(directory + ".out")
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.chdir(directory)
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        os.environ["PWD"] = directory
        if request.get("owner"):
            os.environ[zygote.OWNER_VARIABLE] = request["owner"]
        sys.argv[:] = request["argv"]
        cwd = request["cwd"]
        sys.path[:0] = [directory if entry == cwd else entry for entry in request["sys_path"]]
        descriptors = _open_descriptors()
        result = preloader.preload(sdk, request.get("module"), request.get("path"), directory)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        if not isinstance(result, str) and os.fstat(output).st_size:
            result = "the module wrote to stdout or stderr"
        if not isinstance(result, str) and _open_descriptors() - descriptors:
            # A run's child closes every descriptor beyond stdio, and one shared by every
            # run would share its offset: a file the module opened must be each run's own.
            result = "the module left a file descriptor open"
        if not isinstance(result, str) and signal.set_wakeup_fd(-1) != -1:
            result = "the module set a signal wakeup descriptor"
    finally:
        for target, fd in enumerate(saved, start=1):
            os.dup2(fd, target)
            os.close(fd)
        os.close(output)
        shutil.rmtree(directory, ignore_errors=True)
    return result


def _open_descriptors() -> set[int]:
    """Return our open descriptors (not the one that lists them, closed by then)."""
    found = set()
    for entry in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            os.fstat(int(entry))
            found.add(int(entry))
    return found


def _serve_source(
    zygote: ModuleType, control: socket.socket, requests: socket.socket, preloaded: Any
) -> None:
    """Fork a child continuing ``preloaded`` for each request until ``requests`` closes."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGCHLD, signal.SIGINT)}
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source = os.getpid()
    children: set[int] = set()
    while True:
        try:
            ready, _, _ = select.select([requests.fileno(), wake_read], [], [])
        except InterruptedError:
            continue
        if wake_read in ready:
            zygote._drain(wake_read)
        zygote._reap(control, children)
        if requests.fileno() not in ready:
            continue
        try:
            data, fds = zygote._recv(requests)
        except OSError:
            data, fds = b"", []
        if not data:
            zygote._close_all(fds)
            break
        request = json.loads(data)  # the fork server zygote checked it
        try:
            pid = os.fork()
        except OSError as exc:
            zygote._close_all(fds)
            zygote._send(control, {"id": request.get("id"), "error": f"fork failed: {exc}"})
            continue
        if pid == 0:
            signal.set_wakeup_fd(-1)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            zygote._run_child(request, fds, source, preloaded)
        zygote._close_all(fds)
        children.add(pid)
        zygote._send(control, {"id": request.get("id"), "pid": pid, "source": source})
    zygote._shut_down(children)
