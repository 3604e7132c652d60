"""The docker side of the ``plugin`` kind's warm-up: the probe's container starts first.

Why. Before a workflow's first docker step runs, the CLI imports itself, plans, and the plan
reads the plugin's schema from a *probe* container (which the first step then reuses): import
docker-py (~0.15 s of CPU), create, attach and start the container (~0.2 s), the plugin's own
start (~0.08 s), all after the CLI's ~0.27 s of start-up and imports. The warm-up starts that
container from ~0.18 s on, while the CLI still imports its planner, so the two overlap: on a
loaded 2-core machine the probe step deployed ~0.1 s earlier on average (docker-py's import
shares the GIL with the CLI's own; bench/README.md, "What bounds the misses").

Theory of operation. :func:`warm_up_docker_steps` (called by
:func:`._python_warm_up.warm_up_plugin_steps`, the entry point) picks the definitions it fully
understands (:func:`docker_step_target`: ``plugin.deployment_type: image``, a ``deploy`` with
``deployer_name: docker`` — as the workflow config fills it in —, an image name), and starts
one thread; nothing heavier than the standard library runs on the caller's thread. The thread
imports the docker deployer (and docker-py), validates each ``deploy`` with the deployer's own
schema (a configuration it refuses is left alone), creates one :class:`.docker.DockerDeployer`
per configuration, registers with it one *pre-start* per image, offers the deployer for
adoption (:data:`ADOPTABLE`), then starts each pre-started container through the deployer's
own ``deploy`` path (start queue, labels, watchdog, removals: nothing special). Once those
probe containers are started, it starts one more of each image that several steps use: the
second step of a chain needs it right after planning, and the CPU the planning leaves idle
starts it (starting it together with the probe delayed the probe, and so the planning).

The plugin provider creates its deployers through :meth:`.docker.DockerDeployerFactory.create`,
which adopts an offered deployer whose configuration equals the one asked for (waiting, briefly,
for a warm-up still preparing one); the adopted deployer's first ``deploy`` of a pre-started
image returns that container (waiting for its start if it is under way) instead of starting
another. From the adoption on, the provider owns the deployer: its ``close()`` closes an unused
pre-started container. What nobody adopted, :meth:`WarmDockerDeployers.close` closes — after
the run, or when planning failed or was interrupted — so no container of ours is left. The
deployer of a different configuration or a different image simply starts its own containers.

Standard library only at module level: this module is imported before the rest of
arcaflow-steps.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar, final

__all__ = [
    "ADOPTABLE",
    "Adoptable",
    "PrestartedConnection",
    "Prestarts",
    "WarmDockerDeployers",
    "docker_step_target",
    "prestart_targets",
    "warm_up_docker_steps",
]

DEPLOYER_NAME: Final = "docker"
DEPLOYMENT_TYPE: Final = "image"
#: At most this many probe containers are started ahead (one per image and configuration:
#: the probes planning waits for).
MAX_PRESTARTS: Final = 4
#: For an image and configuration that more than one step uses, this many more containers
#: are started once the probes are (the steps after the first need them as soon as planning
#: is done; on 2 CPUs one more was best: chain-32 docker 3-7 % faster, bench/README.md).
EXTRA_PRESTARTS: Final = 1
#: Seconds a deployer factory waits for a warm-up still preparing its deployers (importing
#: docker-py, validating): a few tenths of a second normally.
PREPARE_WAIT: Final = 5.0
#: Seconds the warm-up's close waits for its thread (each of its API calls has its timeout).
JOIN_WAIT: Final = 60.0


def _log_failure() -> None:
    import logging  # only on failure: keeps the module light

    logging.getLogger("arcaflow_steps_builtin.deployers.docker").debug(
        "docker warm-up failed; ignored", exc_info=True
    )


class PrestartedConnection(Protocol):
    """What a pre-start yields: a started plugin container (a docker plugin connection)."""

    def has_ended(self) -> bool:
        """Return whether the plugin is known to have ended."""

    def close(self, timeout: float = 5.0) -> None:
        """Stop the plugin (idempotent)."""


_C = TypeVar("_C", bound=PrestartedConnection)


class _Prestart(Generic[_C]):
    """One container to start ahead of its deploy: registered, under way, started or failed.

    Every field but ``done`` is guarded by the owning Prestarts' lock (``done`` is set under it).
    """

    def __init__(self) -> None:
        self.done = threading.Event()
        self.started = False
        #: Nobody will take it (closed, or its taker gave up): its starter closes what it got.
        self.abandoned = False
        self.connection: _C | None = None


@final
class Prestarts(Generic[_C]):
    """A deployer's pre-started containers, per image, oldest first.

    A container is closed by exactly one party: whoever swaps ``connection`` out under the lock
    (the deploy that takes it, the deployer's close, or its starter when it was abandoned).

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _by_image, _closed and every entry's fields.
        self._lock = threading.Lock()
        self._by_image: dict[str, collections.deque[_Prestart[_C]]] = {}
        self._closed = False

    def begin(self, image: str, start: Callable[[], _C | None]) -> Callable[[], None] | None:
        """Register a container to start for ``image``; return what starts it (by calling
        ``start``, which returns the connection or None), or None once closed."""
        entry: _Prestart[_C] = _Prestart()
        with self._lock:
            if self._closed:
                return None
            self._by_image.setdefault(image, collections.deque()).append(entry)

        def run() -> None:
            with self._lock:
                entry.started = not entry.abandoned
            connection = None
            try:
                if entry.started:
                    connection = start()
            finally:  # done, whatever happened: a deploy may be waiting for it
                with self._lock:
                    unwanted = entry.abandoned
                    entry.connection = None if unwanted else connection
                    entry.done.set()
                if unwanted and connection is not None:
                    connection.close()

        return run

    def take(self, image: str, timeout: float) -> _C | None:
        """Return the oldest pre-started container of ``image`` whose plugin still runs,
        waiting up to ``timeout`` for one under way; None when there is none."""
        with self._lock:
            queue = self._by_image.get(image)
            if not queue:
                return None
            entry = next((entry for entry in queue if entry.done.is_set()), queue[0])
            queue.remove(entry)
        try:
            entry.done.wait(timeout)
        except BaseException:  # interrupted: nobody takes it now
            self._abandon(entry)
            raise
        with self._lock:
            if not entry.done.is_set():
                entry.abandoned = True  # its starter closes it
                return None
            connection, entry.connection = entry.connection, None
        if connection is None:
            return None
        if connection.has_ended():  # died while it waited: a fresh one is started instead
            connection.close()
            return None
        return connection

    def _abandon(self, entry: _Prestart[_C]) -> None:
        """Close an entry's container, now or (its starter) once started."""
        with self._lock:
            entry.abandoned = True
            connection, entry.connection = entry.connection, None
        if connection is not None:
            connection.close()

    def close(self, timeout: float) -> None:
        """Close every pre-started container nobody took, waiting up to ``timeout`` for
        those under way; one registered but not under way yet never starts."""
        with self._lock:
            self._closed = True
            entries = [entry for queue in self._by_image.values() for entry in queue]
            self._by_image.clear()
            for entry in entries:
                entry.abandoned = True
            under_way = [entry for entry in entries if entry.started]
        deadline = time.monotonic() + timeout
        for entry in under_way:
            entry.done.wait(max(deadline - time.monotonic(), 0.0))
        for entry in entries:
            with self._lock:
                connection, entry.connection = entry.connection, None
            if connection is not None:
                connection.close()


class _Prepared(Protocol):
    """What the warm-up offers for adoption: a deployer with its configuration."""

    @property
    def config(self) -> object:
        """The validated configuration (compared with ``==``)."""

    def close(self) -> None:
        """Close the deployer."""


@final
class Adoptable:
    """Deployers prepared by warm-ups, each waiting for a deployer factory to adopt it.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _offered and _preparing.
        self._changed = threading.Condition()
        self._offered: list[_Prepared] = []
        self._preparing = 0

    def preparing(self) -> Callable[[], None]:
        """Announce a warm-up about to offer deployers; call the result when it is done."""
        with self._changed:
            self._preparing += 1
        finished = threading.Event()

        def done() -> None:
            if finished.is_set():
                return
            finished.set()
            with self._changed:
                self._preparing -= 1
                self._changed.notify_all()

        return done

    def offer(self, deployer: _Prepared) -> None:
        """Offer a prepared deployer for adoption."""
        with self._changed:
            self._offered.append(deployer)
            self._changed.notify_all()

    def withdraw(self, deployer: _Prepared) -> bool:
        """Take an offer back; return False when it was adopted meanwhile."""
        with self._changed:
            if deployer in self._offered:
                self._offered.remove(deployer)
                return True
            return False

    def adopt(self, config: object, wait: float = PREPARE_WAIT) -> Any:
        """Return (and remove) an offered deployer whose configuration equals ``config``,
        once no warm-up is preparing any more (at most ``wait`` seconds); else None."""
        deadline = time.monotonic() + wait
        with self._changed:
            while self._preparing and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            for index, deployer in enumerate(self._offered):
                if deployer.config == config:
                    return self._offered.pop(index)
        return None


#: The deployers warm-ups of this process prepared (see the module docstring).
ADOPTABLE: Final = Adoptable()


def docker_step_target(definition: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Return (image, raw docker configuration) of a step the docker deployer will surely
    deploy, else None: ``plugin.deployment_type: image`` and ``deploy.deployer_name: docker``
    (the configuration is validated later, in the warm-up's thread)."""
    plugin = definition.get("plugin")
    deploy = definition.get("deploy")
    if not isinstance(plugin, Mapping) or not isinstance(deploy, Mapping):
        return None
    image = plugin.get("src")
    if (
        plugin.get("deployment_type") != DEPLOYMENT_TYPE
        or deploy.get("deployer_name") != DEPLOYER_NAME
        or not isinstance(image, str)
        or not image
        or image.strip() != image
    ):
        return None
    return image, {key: value for key, value in deploy.items() if key != "deployer_name"}


@final
class WarmDockerDeployers:
    """The docker warm-up of one run; :meth:`close` closes what nobody adopted.

    Thread safety: :meth:`close` may be called from any thread, more than once.
    """

    def __init__(
        self,
        targets: Sequence[tuple[str, Mapping[str, Any]]],
        extras: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> None:
        #: (image, raw configuration) of each probe container to start.
        self.targets: Final = tuple(targets)
        #: (image, raw configuration) of each container to start once the probes are.
        self.extras: Final = tuple(extras)
        # Guards _prepared, _threads and _stopped.
        self._lock = threading.Lock()
        self._prepared: list[_Prepared] = []
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._prepare_done = ADOPTABLE.preparing()
        self._thread = threading.Thread(
            target=self._run, name="arcaflow-steps-docker-warm-up", daemon=True
        )

    def start(self) -> None:
        """Start the warm-up's thread (returns at once)."""
        self._thread.start()

    def _run(self) -> None:
        try:
            starts = self._prepare()
        except Exception:  # a hint: the deployer reports whatever is wrong
            _log_failure()
            starts = []
        finally:
            self._prepare_done()
        probes = self._start_threads(starts[: len(self.targets)])
        for thread in probes:  # the extras must not slow down what planning waits for
            thread.join()
        self._start_threads(starts[len(self.targets) :])

    def _start_threads(self, starts: Sequence[Callable[[], None] | None]) -> list[threading.Thread]:
        """Run each start in a thread of its own (none once stopped); return the threads."""
        threads: list[threading.Thread] = []
        with self._lock:
            if self._stopped:
                return threads
            for start in starts:
                if start is None:
                    continue
                thread = threading.Thread(
                    target=start, name="arcaflow-steps-docker-prestart", daemon=True
                )
                self._threads.append(thread)
                threads.append(thread)
                thread.start()
        return threads

    def _prepare(self) -> list[Callable[[], None] | None]:
        """Create the deployers (offered for adoption) and return what starts each target,
        then each extra."""
        from .docker import prepare_warm_deployers  # docker-py: never on the caller's thread

        deployers, starts = prepare_warm_deployers(self.targets + self.extras)
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._prepared.extend(deployers)
        for deployer in deployers:
            if stopped:
                deployer.close()
            else:
                ADOPTABLE.offer(deployer)
        return [] if stopped else starts

    def close(self) -> None:
        """Stop starting, wait for the thread, and close every deployer nobody adopted (and
        so its pre-started containers)."""
        with self._lock:
            self._stopped = True
        if self._thread.is_alive():
            self._thread.join(JOIN_WAIT)
        with self._lock:
            threads, self._threads = self._threads, []
            prepared, self._prepared = self._prepared, []
        for thread in threads:
            thread.join(JOIN_WAIT)
        for deployer in prepared:
            if ADOPTABLE.withdraw(deployer):
                deployer.close()


def prestart_targets(
    definitions: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """Return the (image, raw configuration) of each probe container to start for the docker
    steps among ``definitions`` (one per image and configuration, at most
    :data:`MAX_PRESTARTS`), and of each extra one (:data:`EXTRA_PRESTARTS` of each probe's
    image and configuration that several steps use)."""
    targets: dict[str, tuple[str, dict[str, Any]]] = {}
    uses: collections.Counter[str] = collections.Counter()
    for definition in definitions:
        if not isinstance(definition, Mapping):
            continue
        target = docker_step_target(definition)
        if target is None:
            continue
        try:
            key = json.dumps(target, sort_keys=True)
        except (TypeError, ValueError):  # not plain data: not understood
            continue
        if len(targets) < MAX_PRESTARTS:
            targets.setdefault(key, target)
        uses[key] += 1
    extras = [
        target
        for key, target in targets.items()
        for _ in range(min(uses[key] - 1, EXTRA_PRESTARTS))
    ]
    return list(targets.values()), extras


def warm_up_docker_steps(definitions: Sequence[Mapping[str, Any]]) -> WarmDockerDeployers | None:
    """Start the containers :func:`prestart_targets` names for ``definitions``, the probes
    first, in a thread; None when there is none."""
    targets, extras = prestart_targets(definitions)
    if not targets:
        return None
    warm = WarmDockerDeployers(targets, extras)
    warm.start()
    return warm
