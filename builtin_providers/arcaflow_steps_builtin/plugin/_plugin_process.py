"""A deployed plugin with its ATP conversation open: what a step runs on.

:func:`open_plugin` deploys a source with a deployer, performs the ATP handshake and parses the
schema the plugin sends. A :class:`PluginProcess` then carries runs (one per step by default,
several when processes are shared) until it is closed: gracefully (CLIENT_DONE, then the
deployer's close: grace, SIGTERM, SIGKILL) or at once (:meth:`PluginProcess.terminate`).

Failures are translated here, at the boundary: a plugin that cannot be started or does not
greet raises :class:`~arcaflow_steps.DeploymentError` carrying its exit status and the tail of
its stderr, so a user sees *why* (``ModuleNotFoundError …``), not just ``EOF``.

Every process of a source sends the same hello, and parsing its schema costs ~1-2 ms of CPU (a
third of our side of a quick step): :func:`plugin_schema_of` keeps the parsed schemas of the
last :data:`SCHEMA_CACHE_SIZE` distinct hellos, keyed by the hello's exact bytes (equal bytes,
equal schema; the records are immutable, so sharing them is safe).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, final

from arcaflow_steps import ArcaflowStepsError, DeploymentError
from arcaflow_steps.schema import PluginSchema, parse_plugin_schema

from ..deployers._protocols import Deployer, PluginConnection

if TYPE_CHECKING:
    from ._atp import ATPClient, RunHandle
    from ._atp_messages import Hello

__all__ = [
    "CLOSE_TIMEOUT",
    "HANDSHAKE_TIMEOUT",
    "SCHEMA_CACHE_SIZE",
    "PluginProcess",
    "describe_death",
    "open_plugin",
    "plugin_schema_of",
]

#: Seconds a freshly deployed plugin has to send its hello.
HANDSHAKE_TIMEOUT: Final = 60.0
#: Seconds a graceful close may take (CLIENT_DONE, drain, then the deployer's close).
CLOSE_TIMEOUT: Final = 5.0
_STDERR_IN_MESSAGES: Final = 2000
#: How many distinct hellos' parsed schemas are kept (oldest dropped first).
SCHEMA_CACHE_SIZE: Final = 32
#: Hellos larger than this are parsed every time (they would pin their bytes in memory).
_CACHED_HELLO_BYTES: Final = 1 << 20
# Guards _SCHEMAS: hello bytes -> the schema parsed from them, oldest first.
_SCHEMAS_LOCK: Final = threading.Lock()
_SCHEMAS: Final[dict[bytes, PluginSchema]] = {}


def plugin_schema_of(hello: Hello) -> PluginSchema:
    """Return the plugin schema the hello carries, parsed once per distinct hello bytes.

    Raises:
        InvalidSchemaError: the schema is not valid (never cached).
    """
    raw = hello.raw
    if raw is None or len(raw) > _CACHED_HELLO_BYTES:
        return parse_plugin_schema(hello.schema_data)
    with _SCHEMAS_LOCK:
        schema = _SCHEMAS.get(raw)
    if schema is not None:
        return schema
    schema = parse_plugin_schema(hello.schema_data)
    with _SCHEMAS_LOCK:
        _SCHEMAS[raw] = schema
        while len(_SCHEMAS) > SCHEMA_CACHE_SIZE:
            del _SCHEMAS[next(iter(_SCHEMAS))]
    return schema


def describe_death(
    connection: PluginConnection, *, already: str = "", status: str | None = None
) -> str:
    """Return ``; plugin exit status 1; stderr: …`` — what ``already`` does not say yet.

    ``status`` is the exit status to report (default: the connection's current one); pass
    the status from *before* we stopped the plugin, so our own stop is not reported.
    """
    parts = []
    if status is None:
        status = connection.exit_status()
    if status and status not in already:
        parts.append(f"plugin {status}")
    tail = connection.stderr_tail().strip()
    if tail and "stderr" not in already:
        if len(tail) > _STDERR_IN_MESSAGES:
            tail = "…" + tail[-_STDERR_IN_MESSAGES:]
        parts.append(f"stderr:\n{tail}")
    return "".join(f"; {part}" for part in parts)


@final
class PluginProcess:
    """A deployed plugin after a successful ATP handshake.

    Thread safety: safe to share; runs are multiplexed by run id, and closing is idempotent.
    """

    def __init__(
        self, *, source: str, connection: PluginConnection, client: ATPClient, schema: PluginSchema
    ) -> None:
        self.source = source
        self.connection = connection
        self.client = client
        self.schema = schema
        # Guards _run_ids (run ids in use on this connection), _closed, _abandoned and
        # _logs_seen.
        self._lock = threading.Lock()
        self._run_ids: set[str] = set()
        self._counter = itertools.count(2)
        self._closed = False
        self._abandoned = 0
        self._logs_seen = 0
        self._on_closed: list[Callable[[], None]] = []

    def on_closed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the process is closed (at once if it already is)."""
        with self._lock:
            if not self._closed:
                self._on_closed.append(callback)
                return
        callback()

    def _closed_now(self) -> None:
        with self._lock:
            callbacks, self._on_closed = self._on_closed, []
        for callback in callbacks:
            callback()

    @property
    def is_closed(self) -> bool:
        """Return whether the process was closed."""
        with self._lock:
            return self._closed

    @property
    def is_usable(self) -> bool:
        """Return whether new runs can start: not closed, connection healthy, still running."""
        return (
            not self.is_closed
            and self.client.failure() is None
            and self.connection.exit_status() is None
        )

    def new_debug_logs(self, debug_logs: str) -> str:
        """Return the part of a run's ``debug_logs`` not seen in an earlier run's.

        The Python SDK sends everything printed since the process started (one buffer for all
        runs), so later runs repeat earlier lines; the Go SDK sends nothing.
        """
        with self._lock:
            seen = self._logs_seen if len(debug_logs) >= self._logs_seen else 0
            self._logs_seen = max(self._logs_seen, len(debug_logs))
        return debug_logs[seen:]

    @property
    def abandoned_runs(self) -> int:
        """Return how many runs were given up while still running (cancel ignored)."""
        with self._lock:
            return self._abandoned

    def abandon_run(self, run_id: str) -> None:
        """Record that a run was given up (its step ended closed) while it may still run."""
        with self._lock:
            self._abandoned += 1
        del run_id

    def reserve_run_id(self, wanted: str) -> str:
        """Return a run id unique on this connection, ``wanted`` when it is free."""
        with self._lock:
            run_id = wanted
            while run_id in self._run_ids:
                run_id = f"{wanted}#{next(self._counter)}"
            self._run_ids.add(run_id)
            return run_id

    def release_run_id(self, run_id: str) -> None:
        """Free a run id reserved with :meth:`reserve_run_id`."""
        with self._lock:
            self._run_ids.discard(run_id)

    def start_run(self, run_id: str, step_id: str, config: Mapping[str, Any]) -> RunHandle:
        """Send WORK_START for one run; raise ``PluginProtocolError`` when that fails."""
        return self.client.start_run(run_id, step_id, config)

    def send_cancel(self, run_id: str) -> None:
        """Send the predefined ``cancel`` signal to a run (errors are ignored: best effort)."""
        with contextlib.suppress(ArcaflowStepsError, OSError):
            self.client.send_signal(run_id, "cancel", {})

    def _mark_closed(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            return True

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Send CLIENT_DONE, let the plugin finish, then close the deployment; idempotent."""
        if not self._mark_closed():
            return
        try:
            with contextlib.suppress(ArcaflowStepsError, OSError):
                self.client.close(timeout)
        finally:
            try:
                self.connection.close(timeout)
            finally:
                self._closed_now()

    def terminate(self) -> None:
        """Stop the plugin now (SIGTERM its group, then SIGKILL); idempotent.

        If a graceful :meth:`close` is under way, a local process is killed at once instead
        of waiting for it to exit.
        """
        if not self._mark_closed():
            kill = getattr(self.connection, "kill", None)  # ProcessConnection has it
            if callable(kill):
                kill()
            return
        self.client.stopping()  # what it writes as its stdin closes is no news
        try:
            self.connection.close(0.0)
        finally:
            try:
                with contextlib.suppress(ArcaflowStepsError, OSError):
                    self.client.close(1.0)
            finally:
                self._closed_now()


def open_plugin(
    deployer: Deployer,
    source: str,
    *,
    timeout: float = HANDSHAKE_TIMEOUT,
    on_deployed: Callable[[PluginConnection], None] | None = None,
) -> PluginProcess:
    """Deploy ``source``, greet it over ATP and read its schema.

    ``on_deployed`` receives the connection before the handshake, so a caller can stop a
    plugin that never greets (closing the connection ends the handshake at once).

    Raises:
        DeploymentError: the deployer failed, or the plugin died, sent garbage or no hello.
    """
    connection = deployer.deploy(source)
    try:
        if on_deployed is not None:
            on_deployed(connection)
        # Imported here, not at module level: the ATP client (cbor2, logging, …) then loads
        # while the plugin process starts, instead of before it (N=1 critical path).
        from ._atp import ATPClient
    except BaseException:  # an interrupt while importing, say: the plugin is stopped
        connection.close(1.0)
        raise
    client: ATPClient | None = None
    try:
        client = ATPClient(connection)
        hello = client.handshake(timeout)
        schema = plugin_schema_of(hello)
    except ArcaflowStepsError as exc:
        died = connection.exit_status() or ""  # before we stop it ourselves
        if client is not None:
            with contextlib.suppress(ArcaflowStepsError, OSError):
                client.close(0.5)
        connection.close(1.0)
        raise DeploymentError(
            f"plugin {source!r} did not start: {exc}"
            + describe_death(connection, already=str(exc), status=died)
        ) from exc
    except BaseException:
        connection.close(1.0)
        raise
    return PluginProcess(source=source, connection=connection, client=client, schema=schema)
