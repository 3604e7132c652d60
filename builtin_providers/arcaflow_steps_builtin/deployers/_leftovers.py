"""What a run killed together with its zygote left: plugin processes and directories.

A plugin and what it started end with its step, and its directory is removed, by us or, when
arcaflow-steps dies, by its zygote (:mod:`._zygote`). When both died at once (``kill -9`` of
both, say), what the plugin started may still run and the directory stays. Both record their
owner: the ``ARCAFLOW_STEPS_OWNER`` token in every plugin's environment and the directory's
name, ``arcaflow-steps-python-TAG-XXXXXXXX``, where ``TAG`` is ``PID.START.PIDNS.BOOTID`` (the
owner's pid, its start time in clock ticks after boot, its pid namespace and the boot id, as
the container owner labels do: :mod:`._container_owner`). The first deploy of a later run
sweeps, in a background thread: it SIGKILLs the processes and removes the directories whose
owner has certainly ended (same boot and pid namespace, and that pid no longer runs with that
start time). What belongs to a live owner, to another machine, namespace or user, or carries
no such tag, is never touched.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from typing import Final

from ._container_owner import ContainerOwner, process_start

__all__ = ["kill_ended_owners_processes", "make_temp_dir", "owner_token", "remove_stale_temp_dirs"]

_TAG: Final = r"(?P<pid>\d+)\.(?P<start>\d+)\.(?P<pid_ns>\d+)\.(?P<boot_id>[0-9a-f]+)"
_NAME_RE: Final = re.compile(rf"^arcaflow-steps-(?:python|command)-{_TAG}-[^/]+$")
_TOKEN_RE: Final = re.compile(rf"^{_TAG}-[0-9a-f]+$")
_VARIABLE: Final = b"ARCAFLOW_STEPS_OWNER="
#: Seconds interpreter exit waits for a sweep still removing directories.
_SWEEP_EXIT_WAIT: Final = 2.0
#: Random names (48 bits each) tried for a new temporary directory before giving up.
_NAME_ATTEMPTS: Final = 100

_SWEEP_LOCK: Final = threading.Lock()
_sweep: threading.Thread | None = None  # guarded by _SWEEP_LOCK


def _owner_tag() -> str | None:
    owner = ContainerOwner.current()
    if owner is None:
        return None
    return f"{owner.pid}.{owner.start}.{owner.pid_ns}.{owner.boot_id.replace('-', '')}"


def owner_token() -> str:
    """Return a new token for ``ARCAFLOW_STEPS_OWNER``: this process's tag and a random part."""
    return f"{_owner_tag() or os.getpid()}-{secrets.token_hex(8)}"


def _has_ended(match: re.Match[str], me: ContainerOwner) -> bool:
    """Return whether the owner a tag names has certainly ended (see the module doc)."""
    return (
        match["boot_id"] == me.boot_id.replace("-", "")
        and match["pid_ns"] == me.pid_ns
        and process_start(int(match["pid"])) != match["start"]
    )


def kill_ended_owners_processes() -> list[int]:
    """SIGKILL the processes of ours whose ``ARCAFLOW_STEPS_OWNER`` names an ended owner;
    return their pids."""
    me = ContainerOwner.current()
    if me is None:
        return []
    killed = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != os.getuid():
                continue
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except OSError:
            continue
        for variable in variables:
            if variable.startswith(_VARIABLE):
                match = _TOKEN_RE.match(variable[len(_VARIABLE) :].decode("ascii", "replace"))
                if match is not None and _has_ended(match, me):
                    with contextlib.suppress(OSError):
                        os.kill(int(entry), signal.SIGKILL)
                        killed.append(int(entry))
                break
    return killed


def make_temp_dir(kind: str, made: list[str]) -> str:
    """Create a plugin's temporary directory (``kind``: ``python`` or ``command``), named after
    this process, and return its path; the first call also starts the sweep of directories of
    ended runs.

    The path is appended to ``made`` before the directory exists, so an exception raised at
    any moment (a signal handler's ``Interrupted``, right after the directory was made) leaves
    it to the caller, who removes what ``made`` holds (:func:`._process.remove_temp_dir`
    ignores a path never made). ``tempfile.mkdtemp`` loses the path then.
    """
    _start_sweep()
    tag = _owner_tag()
    prefix = f"arcaflow-steps-{kind}-" + (f"{tag}-" if tag else "")
    parent = _temp_parent()
    for _attempt in range(_NAME_ATTEMPTS):
        path = os.path.join(parent, prefix + secrets.token_hex(6))
        made.append(path)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            made.pop()  # another's: never ours to remove
            continue
        except OSError:
            made.pop()
            raise
        return path
    raise FileExistsError(errno.EEXIST, "no unused temporary directory name", parent)


def _temp_parent() -> str:
    """Return the temporary directory; resolved (once per process) on a helper thread.

    Its resolution creates and removes a probe file (``tempfile.gettempdir``): an exception a
    signal handler raises in the main thread between the two would leave the file behind.
    The helper runs it to the end even then (not a daemon: the interpreter waits for it).
    """
    if tempfile.tempdir is None:
        resolver = threading.Thread(target=tempfile.gettempdir, name="temp-dir-probe")
        resolver.start()
        resolver.join()
    return tempfile.gettempdir()


def remove_stale_temp_dirs(directory: str | None = None) -> list[str]:
    """Remove the plugin directories in ``directory`` (default: the temporary directory) whose
    owner has certainly ended; return their paths."""
    me = ContainerOwner.current()
    if me is None:
        return []
    parent = directory or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    for entry in entries:
        match = _NAME_RE.match(entry.name)
        if match is None or not _has_ended(match, me):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _sweep_leftovers() -> None:
    """Kill the processes of ended runs, then remove their directories."""
    kill_ended_owners_processes()
    remove_stale_temp_dirs()


def _start_sweep() -> None:
    global _sweep
    with _SWEEP_LOCK:
        if _sweep is not None:
            return
        _sweep = threading.Thread(target=_sweep_leftovers, name="leftover-sweep", daemon=True)
    _sweep.start()


def _wait_for_sweep() -> None:
    with _SWEEP_LOCK:
        sweep = _sweep
    if sweep is not None and sweep.ident is not None:
        sweep.join(_SWEEP_EXIT_WAIT)


atexit.register(_wait_for_sweep)
