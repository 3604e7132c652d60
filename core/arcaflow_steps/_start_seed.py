"""The start-up seed: a pristine fork of the command line, made before its imports, that a
warm-up may claim and turn into a process of its own (a fork server's zygote).

Why. A process forked from the CLI carries every page the CLI had by then. A plugin fork
server's zygote forked at warm-up time carried ~30 MB (the expression parser, attrs, YAML,
entry-point metadata, ...) that no plugin uses, and every plugin it forks paid for them: the
fork copies the page tables, the exit unmaps them, copy-on-write faults land on more pages.
Forked from the seed instead (~11 MB when planted, ~18 MB once it imported the plugin SDK),
a 256-item foreach of python plugin steps spent ~10 % less CPU in its plugin processes.

Theory of operation. :func:`plant` (``console_main``, for the commands that run steps) forks at
once. The child, the *seed*, puts /dev/null on its stdio, closes every other descriptor but
its end of a socket pair (a pipe it inherited must not stay open after the CLI: whoever reads
the CLI's output would wait for the seed too), imports a few standard library modules that a
claimant would import anyway (so a claim costs no more time than a fork at that moment), and
waits for one message. :func:`claim` hands the seed out once; :meth:`StartSeed.become` sends the
message, with descriptors: the seed imports a module and calls one of its functions with them,
and from then on the seed is that function's process (the function must not return: if it
returns or raises, the seed exits). The claimant reaps it (it is our child).

Only a warm-up may claim the seed (:mod:`arcaflow_steps._warm_up`), so once the warm-ups were
called, :func:`release` closes the socket and reaps the seed, which exits when its socket
closes (also at interpreter exit: :func:`plant` registers it; and when this process dies, even
by SIGKILL, the kernel closes it). The seed also checks every second that its parent is still
this process. Nothing of the seed is left behind either way.

Standard library only: this module is imported before the rest of arcaflow-steps.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from typing import Final, final

__all__ = ["StartSeed", "claim", "plant", "release"]

#: Standard library modules the seed imports while it waits: what a plugin SDK's zygote
#: imports first (a claim then costs no import the CLI had already done).
PRE_IMPORTS: Final = (
    "ast",
    "dataclasses",
    "datetime",
    "enum",
    "inspect",
    "json",
    "re",
    "runpy",
    "selectors",
    "signal",
    "socket",
    "threading",
    "traceback",
    "typing",
)
#: Seconds between the seed's checks that its parent is still alive.
_PARENT_CHECK: Final = 1.0
#: Seconds :func:`release` waits for an unclaimed seed to exit before it kills it.
_RELEASE_WAIT: Final = 2.0
#: The largest claim message, and how many descriptors it may carry.
_MAX_MESSAGE: Final = 1 << 16
_MAX_FDS: Final = 16

_lock = threading.Lock()
_seed: StartSeed | None = None


@final
class StartSeed:
    """The seed process; claimed by :func:`claim`, used once by :meth:`become`.

    Thread safety: owned by its claimant.
    """

    def __init__(self, pid: int, control: socket.socket) -> None:
        #: The seed's process id (our child: its claimant reaps it).
        self.pid: Final = pid
        self._control = control

    def become(
        self, module: str, function: str, fds: Sequence[int] = (), args: Sequence[object] = ()
    ) -> int:
        """Make the seed call ``module.function(*fds, *args)`` (``fds``: descriptors of ours,
        passed as the seed's own numbers; ``args``: JSON values); return its pid.

        Raises:
            OSError: the seed is gone (it was killed, or its message could not be sent); it is
                reaped then.
        """
        message = json.dumps({"module": module, "function": function, "args": list(args)})
        try:
            ancillary = (
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
            )
            self._control.sendmsg([message.encode()], ancillary)
        except OSError:
            self._reap(kill=True)
            raise
        finally:
            self._control.close()
        return self.pid

    def _close(self) -> None:
        """Close our end of the socket (an unclaimed seed exits) and reap the seed."""
        self._control.close()
        self._reap(kill=False)

    def _reap(self, *, kill: bool) -> None:
        if not kill and _wait_exited(self.pid, _RELEASE_WAIT):
            return
        with contextlib.suppress(OSError):
            os.kill(self.pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _wait_exited(pid: int, timeout: float) -> bool:
    """Reap ``pid`` once it exits, waiting up to ``timeout`` seconds (on a pidfd)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # already reaped, or no pidfds: a blocking reap is as short
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return True
    try:
        import select

        if not select.select([pidfd], [], [], timeout)[0]:
            return False
    finally:
        os.close(pidfd)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    return True


def plant() -> bool:
    """Fork the seed (once per process, from its main thread while it has no other thread);
    return whether a seed is planted. Does nothing where ``os.fork`` or pidfds are missing."""
    global _seed
    with _lock:
        if _seed is not None:
            return True
        if (
            not hasattr(os, "pidfd_open")
            or threading.current_thread() is not threading.main_thread()
            or threading.active_count() != 1
        ):
            return False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for stream in (sys.stdout, sys.stderr):  # a buffered line would be written twice
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        # A Ctrl-C between the fork and the seed's own handling would raise in the seed into
        # our caller's code (a second CLI): the signal waits until the seed is in a try block.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            ours.close()
            theirs.close()
            return False
        if pid == 0:  # pragma: no cover - the seed never returns (coverage cannot follow it)
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                ours.detach()  # closed below with every other descriptor
                _serve(theirs, parent=os.getppid())
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
        _seed = StartSeed(pid, ours)
    atexit.register(release)
    return True


def claim() -> StartSeed | None:
    """Return the planted seed, once (None: none planted, claimed already, or it exited)."""
    global _seed
    with _lock:
        seed, _seed = _seed, None
    if seed is None:
        return None
    try:
        pid, _status = os.waitpid(seed.pid, os.WNOHANG)
    except ChildProcessError:
        pid = seed.pid
    if pid:  # it exited (a Ctrl-C reaches it too): nothing to claim
        seed._control.close()
        return None
    return seed


def release() -> None:
    """Let an unclaimed seed exit, and reap it (idempotent)."""
    global _seed
    with _lock:
        seed, _seed = _seed, None
    if seed is not None:
        seed._close()


def _serve(control: socket.socket, *, parent: int) -> None:  # pragma: no cover - in the seed
    """Be the seed: wait for a claim and carry it out; never returns."""
    code = 0
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = control.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 20)
        for name in PRE_IMPORTS:
            importlib.import_module(name)
        control.settimeout(_PARENT_CHECK)
        while True:
            try:
                data, ancillary, _flags, _address = control.recvmsg(
                    _MAX_MESSAGE, socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize)
                )
                break
            except TimeoutError:
                if os.getppid() != parent:
                    os._exit(0)
        if not data:  # our creator closed its end: unclaimed
            os._exit(0)
        fds = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        control.close()
        request = json.loads(data)
        target = getattr(importlib.import_module(request["module"]), request["function"])
        target(*fds, *request["args"])
    except BaseException:  # a Ctrl-C, a failed claim: the claimant sees the process end
        code = 1
    os._exit(code)
