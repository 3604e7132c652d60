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
claimant would import anyway (so a claim costs no more time than a fork at that moment),
calls the *preparations* installed distributions name (entry point group
:data:`PREPARATIONS_GROUP`, found by :func:`preparations` without importing
``importlib.metadata``: a claimant's imports, done while the CLI is still importing itself;
not those ``ARCAFLOW_STEPS_DISABLE_PLUGINS`` blocks, and none when the command line may block
some: ``plant(prepare=False)``), and waits for one message (checking every second, during the
preparations too, that its parent lives). :func:`claim` hands the seed out once;
:meth:`StartSeed.become` sends the message, with descriptors: the seed imports a module and
calls one of its functions with them, and from then on the seed is that function's process
(the function must not return: if it returns or raises, the seed exits). The claimant reaps
it (it is our child).

Only a warm-up may claim the seed (:mod:`arcaflow_steps._warm_up`), so once the warm-ups were
called, :func:`release` kills and reaps an unclaimed seed (also at interpreter exit:
:func:`plant` registers it; when this process dies, even by SIGKILL, the kernel closes the
socket and the seed exits). The seed also checks every second that its parent is still
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
from collections.abc import Collection, Sequence
from typing import Final, final

from ._blocked_names import parse_blocked

__all__ = ["PREPARATIONS_GROUP", "StartSeed", "claim", "plant", "preparations", "release"]

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
#: The entry point group of the seed's preparations: ``name = "module:function"``, a function
#: without arguments the seed calls before it waits for its claim.
PREPARATIONS_GROUP: Final = "arcaflow.start_seed"
#: Seconds between the seed's checks that its parent is still alive.
_PARENT_CHECK: Final = 1.0
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
            self._reap()
            raise
        finally:
            self._control.close()
        return self.pid

    def _close(self) -> None:
        """End the unclaimed seed (it may be in the middle of a preparation) and reap it."""
        self._control.close()
        self._reap()

    def _reap(self) -> None:
        """Kill the seed (a seed has nothing to finish) and reap it."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def plant(*, prepare: bool = True) -> bool:
    """Fork the seed (once per process, from its main thread while it has no other thread);
    return whether a seed is planted. Does nothing where ``os.fork`` is missing.

    ``prepare=False``: the seed calls no preparation (the command line does so when its
    arguments may block entry points: they are not parsed yet, and a blocked distribution's
    code must not run)."""
    global _seed
    with _lock:
        if _seed is not None:
            return True
        if (
            not hasattr(os, "fork")
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
                _serve(theirs, parent=os.getppid(), prepare=prepare)
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
    """End an unclaimed seed and reap it (idempotent)."""
    global _seed
    with _lock:
        seed, _seed = _seed, None
    if seed is not None:
        seed._close()


def _serve(  # pragma: no cover - in the seed
    control: socket.socket, *, parent: int, prepare: bool
) -> None:
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
        if prepare:
            _prepare_all(parent)
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


def preparations(
    path: Sequence[str] | None = None, blocked: Collection[str] = frozenset()
) -> list[str]:
    """Return the ``module:function`` values of the :data:`PREPARATIONS_GROUP` entry points of
    the distributions on ``path`` (default ``sys.path``), each once, in ``path`` order (of two
    distributions of one name, the first counts, as for ``importlib.metadata``), but those
    whose name is ``blocked``."""
    values: list[str] = []
    distributions: set[str] = set()
    for entry in sys.path if path is None else path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            distribution = stem.split("-", 1)[0].lower().replace(".", "_")
            if distribution in distributions:
                continue
            distributions.add(distribution)
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt")) as file:
                    text = file.read()
            except (OSError, UnicodeDecodeError):
                continue
            for entry_name, value in _group_entries(text, PREPARATIONS_GROUP):
                if entry_name not in blocked and value not in values:
                    values.append(value)
    return values


def _group_entries(text: str, group: str) -> list[tuple[str, str]]:
    """Return the (name, value) of ``group``'s entries in an ``entry_points.txt`` (extras
    dropped from the values)."""
    entries = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, rest = line.partition("=")
            value = rest.partition("[")[0].strip()
            if value:
                entries.append((name.strip(), value))
    return entries


def _prepare_all(parent: int) -> None:  # pragma: no cover - in the seed
    """Call every installed preparation; checking every second meanwhile that ``parent`` is
    still our parent (a preparation that hangs must not outlive the CLI)."""
    values = preparations(blocked=parse_blocked())
    if not values:
        return

    def check_parent(_signum: int, _frame: object) -> None:
        if os.getppid() != parent:
            os._exit(0)

    previous = signal.signal(signal.SIGALRM, check_parent)
    signal.setitimer(signal.ITIMER_REAL, _PARENT_CHECK, _PARENT_CHECK)
    try:
        for value in values:
            _prepare(value)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _prepare(value: str) -> None:  # pragma: no cover - in the seed
    """Call the preparation ``module:function``; one that fails is skipped."""
    try:
        module, _, attribute = value.partition(":")
        target: object = importlib.import_module(module.strip())
        for part in attribute.strip().split(".") if attribute.strip() else ():
            target = getattr(target, part)
        if callable(target):
            target()
    except Exception:
        pass
