"""Schema once per source, the probe process handed to the first run, and shared processes.

Theory of operation. Loading a step's schema needs a running plugin (the schema arrives in the
ATP hello). The reference engine deploys a probe process for every step, closes it, then
deploys again to run. Here:

* **Schema cache.** The schema is read once per (deployment type, source, deployer name and
  configuration) for the life of the pool (one per provider, so one per registry). Concurrent
  loads of one key wait for the first (a per-key lock), so a source is never probed twice.
* **Probe reuse.** The probe process is not closed: it is parked *idle*, and the first run
  deployed with the same deployer configuration takes it (:meth:`ProcessPool.take_idle`),
  so a one-step run starts exactly one plugin process. An idle probe nobody takes is closed
  after ``idle_timeout`` seconds, when the pool closes, or at interpreter exit.
* **Shared processes** (opt-in, ``plugin.multiplex: true``). Steps of one key run as
  concurrent ATP runs on one process (:meth:`ProcessPool.acquire_shared`), reference-counted
  and closed when the last run releases it. A process whose connection failed is replaced.
  The Python SDK then accumulates ``debug_logs`` across runs, and one crash ends every run on
  that process.
* **Process slots.** Every process the pool deploys first takes a slot of
  :func:`~._process_slots.process_slots` (bounded by the open file limit) and gives it back
  when it is closed; when none is free, a parked probe is closed to make room, else the deploy
  waits, until a slot frees or the step is cancelled (:meth:`ProcessLease.interrupt`).
* **Leases.** A running step holds its process through a :class:`ProcessLease` from
  :meth:`ProcessPool.lease`: obtain, release, stop, abandon a run. The lease alone knows
  whether the process is the step's own or shared (``multiplex``), so the step never calls
  back into its runnable or the pool.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from typing import Final, final

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import PluginSchema

from ..deployers._protocols import PluginConnection, deploy_cancelled
from ._plugin_process import CLOSE_TIMEOUT, PluginProcess
from ._process_slots import ProcessSlots, process_slots

__all__ = ["DEFAULT_IDLE_TIMEOUT", "Opener", "ProcessLease", "ProcessPool"]

#: Seconds an unused probe process stays parked before it is closed.
DEFAULT_IDLE_TIMEOUT: Final = 30.0

PoolKey = Hashable
#: Deploys a fresh plugin process; receives the connection callback of :func:`open_plugin`.
Opener = Callable[[Callable[[PluginConnection], None] | None], PluginProcess]


@final
class _Shared:
    def __init__(self, process: PluginProcess) -> None:
        self.process = process
        self.users = 0


@final
class ProcessPool:
    """Schemas by key, parked probe processes and shared processes.

    Thread safety: safe to share. Deploying happens outside the pool lock, under a per-key lock.
    """

    def __init__(
        self, *, idle_timeout: float = DEFAULT_IDLE_TIMEOUT, slots: ProcessSlots | None = None
    ) -> None:
        self._idle_timeout = idle_timeout
        self.slots: Final = process_slots() if slots is None else slots
        # Guards every dict below and _closed; never held while deploying or closing a process.
        self._lock = threading.Lock()
        self._key_locks: dict[PoolKey, threading.Lock] = {}
        self._schemas: dict[PoolKey, PluginSchema] = {}
        self._idle: dict[PoolKey, tuple[PluginProcess, threading.Timer]] = {}
        self._shared: dict[PoolKey, _Shared] = {}
        self._closed = False
        #: How many processes were deployed to read a schema (for tests and benchmarks).
        self.probe_count = 0

    def _key_lock(self, key: PoolKey) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def schema(self, key: PoolKey, opener: Callable[[], PluginProcess]) -> PluginSchema:
        """Return the schema of ``key``, probing once with ``opener`` (the probe is parked)."""
        with self._lock:
            cached = self._schemas.get(key)
        if cached is not None:
            return cached
        with self._key_lock(key):
            with self._lock:
                cached = self._schemas.get(key)
            if cached is not None:
                return cached
            process = self.open(opener)
            with self._lock:
                self.probe_count += 1
                self._schemas[key] = process.schema
            self._park(key, process)
            return process.schema

    def _park(self, key: PoolKey, process: PluginProcess) -> None:
        timer = threading.Timer(self._idle_timeout, self._expire, args=(key, process))
        timer.daemon = True
        with self._lock:
            previous = None if self._closed else self._idle.pop(key, None)
            if not self._closed:
                self._idle[key] = (process, timer)
                timer.start()
        if previous is not None:
            previous[1].cancel()
            previous[0].close()
        if self._closed:
            process.close()

    def _expire(self, key: PoolKey, process: PluginProcess) -> None:
        with self._lock:
            entry = self._idle.get(key)
            if entry is None or entry[0] is not process:
                return
            del self._idle[key]
        process.close()

    def open(
        self, opener: Callable[[], PluginProcess], cancelled: Callable[[], bool] = lambda: False
    ) -> PluginProcess:
        """Deploy a process with ``opener`` once a slot is free; the slot is given back when
        the process closes.

        Raises:
            DeploymentError: ``cancelled()`` came true while waiting, or the deploy failed.
        """
        if cancelled() or not self.slots.take(cancelled=cancelled, make_room=self._close_idle):
            raise DeploymentError("cancelled while waiting for a free plugin process slot")
        token = deploy_cancelled.set(cancelled)
        try:
            process = opener()
        except BaseException:
            self.slots.release()
            raise
        finally:
            deploy_cancelled.reset(token)
        process.on_closed(self.slots.release)
        return process

    def _close_idle(self) -> bool:
        """Close one parked probe to free its slot; return whether there was one."""
        with self._lock:
            if not self._idle:
                return False
            key = next(iter(self._idle))
            process, timer = self._idle.pop(key)
        timer.cancel()
        process.close()
        return True

    def take_idle(self, key: PoolKey) -> PluginProcess | None:
        """Return the parked probe process of ``key`` (still healthy), or None; it is yours."""
        with self._lock:
            entry = self._idle.pop(key, None)
        if entry is None:
            return None
        process, timer = entry
        timer.cancel()
        if not process.is_usable:
            process.close()
            return None
        return process

    def acquire_shared(
        self,
        key: PoolKey,
        opener: Callable[[], PluginProcess],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> PluginProcess:
        """Return the shared process of ``key`` (deploying it if needed) and count one user."""
        with self._key_lock(key):
            with self._lock:
                shared = self._shared.get(key)
                if shared is not None and shared.process.is_usable:
                    shared.users += 1
                    return shared.process
            process = self.take_idle(key) or self.open(opener, cancelled)
            with self._lock:
                shared = _Shared(process)
                shared.users = 1
                self._shared[key] = shared
            return process

    def release_shared(self, key: PoolKey, process: PluginProcess) -> None:
        """Drop one user of a shared process; close it when it was the last."""
        with self._lock:
            shared = self._shared.get(key)
            if shared is None or shared.process is not process:
                last = True
            else:
                shared.users -= 1
                last = shared.users <= 0
                if last:
                    del self._shared[key]
        if not last:
            return
        if process.abandoned_runs:  # a run ignored its cancel: do not wait for it
            process.terminate()
        else:
            process.close()

    def lease(self, key: PoolKey, opener: Opener, *, multiplex: bool) -> ProcessLease:
        """Return a lease on a process of ``key`` for one step (nothing is deployed yet)."""
        return ProcessLease(self, key, opener, multiplex=multiplex)

    def close(self) -> None:
        """Close every parked probe (shared processes close with their last run)."""
        with self._lock:
            self._closed = True
            idle = list(self._idle.values())
            self._idle.clear()
        for process, timer in idle:
            timer.cancel()
            with contextlib.suppress(Exception):
                process.close()


@final
class ProcessLease:
    """One step's hold on a plugin process of a :class:`ProcessPool`.

    :meth:`obtain` gets the process: the step's own (the parked probe, else a fresh deploy),
    or with ``multiplex`` the pool's shared one. :meth:`release` gives it back: closes the
    step's own process (gracefully or at once), or drops one user of the shared one (the last
    closes it). :meth:`stop` and :meth:`abandon` act on a cancel.

    Thread safety: safe to share; :meth:`stop` may be called from any thread while the step's
    thread obtains or releases.
    """

    def __init__(self, pool: ProcessPool, key: PoolKey, opener: Opener, *, multiplex: bool) -> None:
        self._pool = pool
        self._key = key
        self._opener = opener
        self.multiplex: Final = multiplex
        # Guards _process (the obtained process, until released).
        self._lock = threading.Lock()
        self._process: PluginProcess | None = None
        self._interrupted = threading.Event()

    def obtain(
        self, on_deployed: Callable[[PluginConnection], None] | None = None
    ) -> PluginProcess:
        """Return the process for the step; ``on_deployed`` sees a fresh deploy's connection.

        Raises:
            DeploymentError: the deployer failed, the plugin did not greet, or
                :meth:`interrupt` came while waiting for a process slot.
        """
        cancelled = self._interrupted.is_set
        if self.multiplex:  # a shared process is never stopped on one step's behalf
            process = self._pool.acquire_shared(self._key, lambda: self._opener(None), cancelled)
        else:
            process = self._pool.take_idle(self._key) or self._pool.open(
                lambda: self._opener(on_deployed), cancelled
            )
        with self._lock:
            self._process = process
        return process

    def release(self, *, graceful: bool, timeout: float = CLOSE_TIMEOUT) -> None:
        """Give the process back (idempotent): close the step's own (CLIENT_DONE and grace when
        ``graceful``, else at once), or drop one user of the shared one."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        if self.multiplex:
            self._pool.release_shared(self._key, process)
        elif graceful:
            process.close(timeout)
        else:
            process.terminate()

    def interrupt(self) -> None:
        """Stop waiting for a process slot: :meth:`obtain` raises ``DeploymentError``."""
        self._interrupted.set()
        self._pool.slots.wake()

    def stop(self) -> None:
        """Stop the step's own process at once (force close); a shared one serves others."""
        with self._lock:
            process = self._process
        if process is not None and not self.multiplex:
            process.terminate()

    def abandon(self, run_id: str) -> None:
        """Give up a run that did not answer its cancel: stop the step's own process; on the
        shared one, record the run, so the process stops without waiting for it."""
        with self._lock:
            process = self._process
        if process is None:
            return
        if self.multiplex:
            process.abandon_run(run_id)
        else:
            process.terminate()
