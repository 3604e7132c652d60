"""Fork server ("zygote") for Python plugins; run as a script by the plugin's interpreter.

Usage: ``python _zygote.py CONTROL_FD [MODULE_TO_PRELOAD ...]``. Standard library only (it runs
in a plugin's virtual environment, without arcaflow-steps), Python 3.8+.

It preloads the given modules (``arcaflow_plugin_sdk.plugin``: most of a plugin's start-up
time), then serves requests on the AF_UNIX SOCK_SEQPACKET control socket. A request is one JSON
packet carrying three file descriptors (the child's stdin, stdout and stderr):
``{"id", "argv", "cwd", "env", "sys_path", "module" | "path"}``. For each, it forks a child that
becomes a session (and process group) leader, takes the descriptors as 0/1/2 and runs the
module or file as ``__main__`` like ``python -m``/``python FILE`` would. Replies:
``{"id", "pid"}`` or ``{"id", "error"}``, then ``{"exit": pid, "code": returncode}`` when a
child ends (negative: killed by that signal).

When the control socket closes (the client closed it, or died), every child's process group is
killed and the zygote exits: nothing outlives its client.
"""

import array
import atexit
import json
import os
import runpy
import select
import signal
import socket
import sys
import threading
import traceback

_MAX_PACKET = 1 << 20


def _send(sock, message):
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass


def _recv(sock):
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(_MAX_PACKET, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)


def _exit_code(status):
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 1


def _run_child(request, fds):
    code = 1
    try:
        os.setsid()
        for target, fd in zip((0, 1, 2), fds):
            if fd != target:
                os.dup2(fd, target)
        os.closerange(3, 65536)
        os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        sys.argv[:] = request["argv"]
        sys.path[:0] = request.get("sys_path", [])
        code = 0
        try:
            if request.get("module"):
                runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(request["path"], run_name="__main__")
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                sys.stderr.write(str(exc.code) + "\n")
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()  # join non-daemon threads, as interpreter exit would
        atexit._run_exitfuncs()
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code & 0xFF if code >= 0 else 1)


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    preload = sys.argv[2:]
    # The SDK binds argv and the std streams as defaults when imported: make them the child's.
    sys.argv[:] = ["plugin", "--atp"]
    if sys.path and os.path.dirname(os.path.abspath(__file__)) == os.path.abspath(sys.path[0]):
        del sys.path[0]  # our own directory is not the plugin's
    for module in preload:
        try:
            __import__(module)
        except Exception:  # the plugin may not use it: it then pays its own import
            pass
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children = set()
    running = True
    while running:
        try:
            ready, _, _ = select.select([control, wake_read], [], [])
        except InterruptedError:
            continue
        if wake_read in ready:
            try:
                while os.read(wake_read, 512):
                    pass
            except BlockingIOError:
                pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            _send(control, {"exit": pid, "code": _exit_code(status)})
        if control not in ready:
            continue
        try:
            data, fds = _recv(control)
        except OSError:
            data, fds = b"", []
        if not data:
            running = False
            break
        try:
            request = json.loads(data)
        except ValueError as exc:
            for fd in fds:
                os.close(fd)
            _send(control, {"id": None, "error": "bad request: %s" % exc})
            continue
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            _send(control, {"id": request.get("id"), "error": "expected 3 descriptors"})
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(control, {"id": request.get("id"), "error": "fork failed: %s" % exc})
            continue
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _run_child(request, fds)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        _send(control, {"id": request.get("id"), "pid": pid})
    for pid in children:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass


if __name__ == "__main__":
    main()
