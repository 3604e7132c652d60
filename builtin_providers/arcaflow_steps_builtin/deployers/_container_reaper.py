"""Containers do not outlive the process that started them, even when it is killed.

Theory of operation. Three mechanisms, from the most to the least common case:

1. A step's connection closes its container (EOF on stdin, a bounded wait, force removal):
   :mod:`._docker_attach` and :mod:`.podman`. An ``atexit`` hook closes what is left. (A
   docker step ends once its plugin has ended; dockerd removes the container just after,
   and the deployer's close waits for that removal.)
2. **The watchdog.** When its process dies without closing (``kill -9``, OOM killer), nothing
   in it runs, and the plugin does not end by itself: the engine closes its stdin (Docker's
   stdin-once attach, podman's ``-i``), but the Python SDK, on EOF, waits for its running
   steps to finish first. So each deployer starts, before its first container, one watchdog:
   this module's :func:`main` in a new interpreter (``python -S``, niced, in its own session:
   a few milliseconds of CPU to start), holding the read end of a pipe from the
   deployer and a pidfd of the owner. It does nothing until one of three things happens:
   ``exit`` on the pipe (the deployer closed: the watchdog ends), the owner ends (pidfd
   readable), or EOF on the pipe (then it waits up to two seconds for the owner to end, since
   a dying process closes its descriptors just before it becomes a zombie). When the owner is
   gone it force-removes every container labelled with the owner's identity, a second time a
   moment later (a create request may still have been in flight), removes the deployer's
   temporary files (TLS material), and exits. For podman it first kills the owner's
   ``podman run`` clients (found by the owner labels on their command lines): once their
   parent is gone they would wait forever, even after their container is removed. One
   watchdog per deployer; it uses the deployer's engine access (docker-py with the same
   address and TLS files; the same ``podman`` command and connection).
3. **The sweep.** A watchdog dies with its owner when the kill takes the whole session or
   cgroup, and a kill between two API calls may leave a container created but never started.
   So each deployer, on first use, lists the containers labelled ``org.arcaflow-steps.deployer``
   in a background thread and removes those whose owner is certainly gone
   (:func:`._container_owner.is_orphan`: same host, boot and pid namespace, and the owner's
   pid no longer runs with its recorded start time), after killing such owners' ``podman
   run`` clients. Containers of a live owner, of another host, or without owner labels are
   never touched.

Engines are reached through small adapters (:class:`DockerContainers`,
:class:`PodmanContainers`) that list our containers with their labels and remove them by id.
The watchdog imports docker-py only once its owner is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, final

from ._container_owner import CONTAINER_LABEL, ContainerOwner, is_orphan

__all__ = [
    "ContainerWatchdog",
    "DockerContainers",
    "PodmanContainers",
    "at_exit",
    "reap",
    "start_sweep",
    "sweep",
]

_LOG = logging.getLogger("arcaflow_steps_builtin.deployers.containers")
#: How long the watchdog waits, after EOF on its pipe, for the owner to be seen as ended.
_DEATH_GRACE: Final = 2.0
#: Delay of the watchdog's second removal pass (requests in flight when the owner died).
_SECOND_PASS: Final = 1.5
_PODMAN_TIMEOUT: Final = 60.0
_EXIT: Final = b"exit\n"
#: The directory holding the ``arcaflow_steps_builtin`` package (site-packages when installed).
_PACKAGE_ROOT: Final = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: How the watchdog starts: nice first, no site-packages (``-S``; an editable install's path
#: hooks alone take ~35 ms), this package from its root; site-packages only once it reaps.
_BOOTSTRAP: Final = (
    "import os, sys\n"
    "os.nice(10)\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import importlib\n"
    "sys.exit(importlib.import_module(sys.argv[2]).main(sys.argv[3:]))\n"
)
#: How long interpreter exit waits for sweeps still removing containers.
_SWEEP_EXIT_WAIT: Final = 5.0

_OPEN_LOCK: Final = threading.Lock()
_OPEN: set[ContainerWatchdog] = set()  # guarded by _OPEN_LOCK
_SWEEPS: list[threading.Thread] = []  # guarded by _OPEN_LOCK
_AT_EXIT: list[Callable[[], None]] = []  # appended at import time only


class EngineContainers(Protocol):
    """Our containers on one engine: list them with their labels, remove them by id."""

    def list(self) -> list[tuple[str, dict[str, str]]]:
        """Return (id, labels) of every container labelled ``org.arcaflow-steps.deployer``."""
        ...

    def remove(self, container_ids: Sequence[str]) -> None:
        """Force-remove containers (stopping them first); gone ones are no error."""
        ...

    def end_clients(self, judge: Callable[[Mapping[str, str]], bool]) -> None:
        """Kill local client processes of containers whose labels ``judge`` condemns."""
        ...


@final
class DockerContainers:
    """Our containers on a Docker engine, through a docker-py ``APIClient``.

    Thread safety: safe to share (docker-py's client is).
    """

    def __init__(self, api: Any) -> None:
        self._api = api

    def list(self) -> list[tuple[str, dict[str, str]]]:
        """Return (id, labels) of our containers, running or not."""
        found = self._api.containers(all=True, filters={"label": [CONTAINER_LABEL]})
        return [(str(item["Id"]), dict(item.get("Labels") or {})) for item in found]

    def remove(self, container_ids: Sequence[str]) -> None:
        """Force-remove each container; one that is gone (or going) is skipped."""
        for container_id in container_ids:
            try:
                self._api.remove_container(container_id, force=True)
            except Exception as exc:
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if status not in (404, 409):  # gone / removal already in progress
                    raise

    def end_clients(self, judge: Callable[[Mapping[str, str]], bool]) -> None:
        """Nothing to do: the attach connection lives in the deployer's own process."""


@final
class PodmanContainers:
    """Our containers in podman, through its command line.

    Thread safety: safe to share (each call runs its own podman process).
    """

    def __init__(self, command: Sequence[str]) -> None:
        self._command = list(command)  # podman [--connection NAME]

    def _run(self, *arguments: str) -> str:
        completed = subprocess.run(
            [*self._command, *arguments],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_PODMAN_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            error = completed.stderr.decode("utf-8", errors="replace").strip()
            raise RuntimeError(f"podman {arguments[0]} failed: {error}")
        return completed.stdout.decode("utf-8", errors="replace")

    def list(self) -> list[tuple[str, dict[str, str]]]:
        """Return (id, labels) of our containers, running or not."""
        output = self._run(
            "ps", "--all", "--filter", f"label={CONTAINER_LABEL}", "--format", "json"
        )
        found = json.loads(output or "[]") or []
        return [(str(item["Id"]), dict(item.get("Labels") or {})) for item in found]

    def remove(self, container_ids: Sequence[str]) -> None:
        """Force-remove the containers at once (no stop timeout); gone ones are ignored."""
        if container_ids:
            self._run("rm", "--force", "--ignore", "--time", "0", *container_ids)

    def end_clients(self, judge: Callable[[Mapping[str, str]], bool]) -> None:
        """Kill the ``podman run`` clients of condemned containers (see :func:`kill_clients`)."""
        kill_clients(judge)


def sweep(engine: EngineContainers) -> list[str]:
    """Remove our containers (and their clients) whose owner is certainly gone; return ids."""
    engine.end_clients(is_orphan)
    orphans = [container_id for container_id, labels in engine.list() if is_orphan(labels)]
    engine.remove(orphans)
    return orphans


def start_sweep(engine: EngineContainers, description: str) -> threading.Thread:
    """Run :func:`sweep` in a daemon thread (errors are logged, never raised)."""

    def run() -> None:
        try:
            removed = sweep(engine)
        except Exception as exc:
            _LOG.debug("cannot look for containers of ended runs on %s: %s", description, exc)
            return
        if removed:
            _LOG.info(
                "removed %d container(s) left on %s by runs that ended without closing them",
                len(removed),
                description,
            )

    thread = threading.Thread(target=run, name="container-sweep", daemon=True)
    with _OPEN_LOCK:
        _SWEEPS[:] = [sweeping for sweeping in _SWEEPS if sweeping.is_alive()]
        _SWEEPS.append(thread)
    thread.start()
    return thread


def reap(engine: EngineContainers, owner_labels: Mapping[str, str]) -> list[str]:
    """Remove every container (and client) carrying all of ``owner_labels``; return ids.

    Clients first: one still creating its container would otherwise start it after the list.
    """
    wanted = owner_labels.items()
    engine.end_clients(lambda labels: wanted <= labels.items())
    owned = [container_id for container_id, labels in engine.list() if wanted <= labels.items()]
    engine.remove(owned)
    return owned


def _client_labels(argv: Sequence[bytes]) -> dict[str, str] | None:
    """Return the ``--label KEY=VALUE`` pairs of a command line if it is a client of ours."""
    labels: dict[str, str] = {}
    for index in range(len(argv) - 1):
        if argv[index] == b"--label":
            key, _, value = argv[index + 1].decode("utf-8", errors="replace").partition("=")
            labels[key] = value
    return labels if CONTAINER_LABEL in labels else None


def kill_clients(judge: Callable[[Mapping[str, str]], bool]) -> list[int]:
    """SIGKILL the ``podman run`` processes whose labels ``judge`` condemns; return their pids.

    A ``podman run -i`` whose parent died keeps waiting even after its container is removed;
    its command line carries the container's labels (``--label KEY=VALUE``), owner included.
    """
    killed: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                labels = _client_labels(file.read().split(b"\0"))
        except OSError:
            continue
        if labels is not None and judge(labels):
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
    return killed


# -- the deployer's side --------------------------------------------------------------------


def at_exit(close_live_containers: Callable[[], None]) -> None:
    """Register a function that closes a deployer type's live containers at interpreter exit.

    They run before the watchdogs are told to end, whatever the import order.
    """
    _AT_EXIT.append(close_live_containers)


def _at_exit() -> None:
    """At interpreter exit: close live containers, end the watchdogs nobody closed, and give
    sweeps still removing containers a few seconds (a short run would cut them off)."""
    for close_live_containers in _AT_EXIT:
        close_live_containers()
    with _OPEN_LOCK:
        watchdogs = list(_OPEN)
        sweeps = list(_SWEEPS)
    deadline = time.monotonic() + _SWEEP_EXIT_WAIT
    for thread in sweeps:
        thread.join(max(deadline - time.monotonic(), 0.0))
    for watchdog in watchdogs:
        watchdog.close()


atexit.register(_at_exit)


@final
class ContainerWatchdog:
    """The watchdog process of one deployer (see the module docstring).

    Thread safety: safe to share; ``close()`` is idempotent.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._owner_pid = os.getpid()
        # Guards _closed and writes to the process's stdin.
        self._lock = threading.Lock()
        self._closed = False
        with _OPEN_LOCK:
            _OPEN.add(self)

    @property
    def pid(self) -> int:
        """The watchdog's process id."""
        return self._process.pid

    @classmethod
    def start(
        cls, engine: Mapping[str, Any], *, remove_paths: Sequence[str] = ()
    ) -> ContainerWatchdog | None:
        """Start a watchdog for containers of this process on ``engine``; None if it cannot.

        ``engine`` is ``{"docker": {client settings}}`` or ``{"podman": [command]}``;
        ``remove_paths`` are removed once the owner is gone (its temporary files).
        """
        owner = ContainerOwner.current()
        if owner is None:  # no /proc: the owner could not be told apart from another
            return None
        config = {**engine, "owner": owner.labels(), "remove_paths": list(remove_paths)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-S", "-c", _BOOTSTRAP, _PACKAGE_ROOT, __name__, str(owner.pid)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # no terminal signals; survives its owner
                close_fds=True,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(config).encode() + b"\n")
            process.stdin.flush()
        except (OSError, ValueError) as exc:
            _LOG.warning(
                "cannot start the container watchdog (%s): containers may outlive this process "
                "if it is killed; a later run removes them",
                exc,
            )
            return None
        return cls(process)

    def close(self) -> None:
        """Tell the watchdog to end without removing anything; a thread reaps it.

        Nothing waits for it to exit (its interpreter shutdown would add ~30 ms to every run).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            stdin = self._process.stdin
            assert stdin is not None
            if os.getpid() == self._owner_pid:  # a forked child only drops its copy
                with contextlib.suppress(OSError, ValueError):
                    stdin.write(_EXIT)
            with contextlib.suppress(OSError, ValueError):
                stdin.close()
        with _OPEN_LOCK:
            _OPEN.discard(self)
        if os.getpid() == self._owner_pid:
            threading.Thread(
                target=self._process.wait, name="container-watchdog-reaper", daemon=True
            ).start()


# -- the watchdog process -------------------------------------------------------------------


def _docker_engine(settings: Mapping[str, Any]) -> DockerContainers:
    import site

    site.main()  # started with -S: site-packages (docker-py) only now
    import docker

    tls_settings = settings.get("tls")
    tls: Any = tls_settings if isinstance(tls_settings, bool) or tls_settings is None else None
    if isinstance(tls_settings, dict):
        cert = tls_settings.get("client_cert")
        tls = docker.tls.TLSConfig(
            client_cert=tuple(cert) if cert else None,
            ca_cert=tls_settings.get("ca_cert"),
            verify=tls_settings.get("verify"),
        )
    api = docker.APIClient(
        base_url=settings["base_url"],
        version=settings.get("version"),
        timeout=settings.get("timeout", 15.0),
        tls=tls,
        use_ssh_client=bool(settings.get("use_ssh_client")),
    )
    if tls:
        api.trust_env = False
    return DockerContainers(api)


def _engine(config: Mapping[str, Any]) -> EngineContainers:
    if "docker" in config:
        return _docker_engine(config["docker"])
    return PodmanContainers(config["podman"])


def _read_config(fd: int) -> tuple[dict[str, Any] | None, bytes]:
    """Return the first line of the pipe as JSON (None at EOF) and what followed it."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk:
            return None, b""
        data += chunk
    line, _, rest = data.partition(b"\n")
    return json.loads(line), rest


def _pidfd(pid: int) -> int | None:
    with contextlib.suppress(OSError, AttributeError):
        return os.pidfd_open(pid)
    return None


def _owner_ended(owner: ContainerOwner, pidfd: int | None, timeout: float) -> bool:
    """Return whether the owner ends within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if owner.is_gone():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if pidfd is not None:
            if select.select([pidfd], [], [], remaining)[0]:
                return True
        else:
            time.sleep(min(remaining, 0.05))


def _watch(fd: int, owner: ContainerOwner, pending: bytes) -> bool:
    """Wait for ``exit`` (False), the owner's end or EOF then its end (True)."""
    pidfd = _pidfd(owner.pid)
    buffer = pending
    while _EXIT not in buffer:
        readable = [fd] if pidfd is None else [fd, pidfd]
        ready = select.select(readable, [], [], None if pidfd is not None else 0.5)[0]
        if pidfd is not None and pidfd in ready:
            return True
        if fd in ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return _owner_ended(owner, pidfd, _DEATH_GRACE)
            buffer += chunk
        if pidfd is None and owner.is_gone():
            return True
    return False


def main(argv: Sequence[str]) -> int:
    """Run the watchdog (arguments: OWNER_PID; its configuration comes on stdin)."""
    for name in ("SIGINT", "SIGHUP", "SIGPIPE"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    fd = sys.stdin.fileno()
    config, pending = _read_config(fd)
    if config is None:
        return 0
    owner = ContainerOwner.from_labels(config["owner"])
    if owner is None or str(owner.pid) != argv[0]:
        return 2
    if not _watch(fd, owner, pending):
        return 0
    engine: EngineContainers | None = None
    for attempt in range(2):
        if attempt:
            time.sleep(_SECOND_PASS)
        try:
            engine = engine or _engine(config)
            reap(engine, config["owner"])
        except Exception as exc:  # nobody to tell: stderr is /dev/null; the sweep remains
            print(f"container watchdog: {exc}", file=sys.stderr)
    for path in config.get("remove_paths") or ():
        shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
