"""The engine side of the Arcaflow Transport Protocol (ATP), versions 3 and 1.

Public API (the ``plugin`` provider codes against exactly this)::

    client = ATPClient(connection)              # a PluginConnection from a deployer
    hello = client.handshake(timeout=10.0)      # -> Hello(version, schema_data)
    schema = parse_plugin_schema(hello.schema_data)
    run = client.start_run("hello", "hello-world", {"name": "Arca"})   # -> RunHandle
    client.send_signal("hello", "cancel", {})   # -> bool: False if the run already ended
    result = run.result(timeout=60.0)           # -> RunResult(output_id, output_data, ...)
    client.close(timeout=5.0)                   # CLIENT_DONE, drain to EOF, fail what is left
    connection.close()                          # the deployer stops the plugin

``ATPClient(connection: PluginConnection, *, description: str | None = None)``
    ``handshake(timeout: float) -> Hello``
        Send the CBOR ``null`` start message, read the hello, check the version (1 and 3
        are spoken; any other is refused naming it and the supported ones). Once only.
    ``hello -> Hello | None`` (property), ``version -> int | None`` (property)
    ``start_run(run_id: str, step_id: str, config: Any) -> RunHandle``
        Send WORK_START (v1: the bare work start; one run per process). Never blocks on the
        pipe (a writer thread sends). A run id may be used again once its run has ended (as
        the Python SDK allows). Raises ``LocalProtocolError`` for our mistakes (before the
        handshake, after ``close``, an empty ``run_id`` or one still running, an undeclared
        ``step_id``, an un-encodable ``config``, a second v1 run) and
        ``RemoteProtocolError`` when the connection already failed.
    ``send_signal(run_id: str, signal_id: str, data: Any = None) -> bool``
        Send SIGNAL (``data`` defaults to ``{}``). Returns False, sending nothing, when the
        run has already ended. ``LocalProtocolError`` for an unknown run, a signal the step
        does not declare, v1, or a closed client.
    ``errors() -> tuple[ErrorMessage, ...]``: non-fatal ERRORs not tied to a known run.
    ``failure() -> PluginProtocolError | None``: why the connection is unusable, if it is.
    ``close(timeout: float = 5.0) -> None``
        Send CLIENT_DONE (v3), keep reading until the plugin closes its stdout (the Python
        SDK still sends WORK_DONE for running steps), at most ``timeout`` seconds, then fail
        every run still pending with ``LocalProtocolError``. Idempotent. It does not stop
        the plugin: that is ``PluginConnection.close()``, which also ends the reader thread
        if the plugin never closed its stdout.

``RunHandle`` (from ``start_run``): ``run_id``, ``step_id``; ``done() -> bool``;
``wait(timeout: float | None) -> bool``; ``result(timeout: float | None) -> RunResult``
(raises the run's ``PluginProtocolError``, or ``ATPTimeoutError`` if not done in time);
``exception(timeout) -> PluginProtocolError | None``; ``errors()`` (non-fatal ERRORs for
this run, so far); ``signals()`` (SIGNALs the plugin sent for this run);
``add_done_callback(callback: Callable[[RunHandle], None])`` (called once, outside every
lock, on the thread that ends the run — usually the reader thread, or ``close()``'s caller
— or at once if it has already ended).

``RunResult``: ``run_id``, ``step_id``, ``output_id``, ``output_data``, ``debug_logs``,
``errors`` (the run's non-fatal ERROR messages). ``RemoteStepError(RemoteProtocolError)``
carries a fatal ERROR message (``.message: ErrorMessage``); it is what a step that raised
ends with. A step-fatal ERROR fails its run (with run id ``""``: every pending run) and the
connection stays usable; a server-fatal one fails the connection.
``ATPTimeoutError(ArcaflowStepsError, TimeoutError)`` only says a wait ran out. These four
live in ``_atp_runs`` and are re-exported here; the message records live in
``_atp_messages``.

Theory of operation. One reader thread per connection decodes every frame exactly once into
the records of ``_atp_messages`` and dispatches it by ``run_id``; one writer thread writes
the frames callers queue, so no public method blocks on a full pipe. All waits take a
timeout. Whatever the plugin does wrong — garbage or stray text on stdout, truncated CBOR,
EOF, a message of the wrong shape, an unknown run id, an undeclared output id, a second
WORK_DONE, a server-fatal ERROR — becomes one ``RemoteProtocolError`` that ends every
pending run. From then on its stdout is not trusted: the reader only drains it to EOF (so
the plugin never blocks on a full pipe) and new runs are refused. Non-fatal ERRORs are
logged and kept (``RunHandle.errors()``, ``RunResult.errors``, ``ATPClient.errors()``); the
run continues.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import Any, Final, final

import attrs

from arcaflow_steps import (
    LocalProtocolError,
    PluginProtocolError,
    RemoteProtocolError,
)

from .._task_threads import TaskThread
from ..deployers._protocols import PluginConnection
from ._atp_frames import (
    RAW_PREVIEW,
    EndOfStreamError,
    FrameLimitError,
    FrameReader,
    TruncatedFrameError,
    max_message_bytes_from_env,
)
from ._atp_messages import (
    START_OUTPUT,
    SUPPORTED_VERSIONS,
    BareWorkStart,
    ClientDone,
    ErrorMessage,
    Hello,
    RuntimeMessage,
    Signal,
    WorkDone,
    WorkStart,
    decode_bare_work_done,
    decode_hello,
    decode_runtime_message,
    encode,
    wire_name,
)
from ._atp_runs import (
    MAX_KEPT_MESSAGES,
    ATPTimeoutError,
    BoundedMessages,
    RemoteStepError,
    RunHandle,
    RunResult,
    _Ended,
)

__all__ = [
    "ATPClient",
    "ATPTimeoutError",
    "RemoteStepError",
    "RunHandle",
    "RunResult",
]

_LOGGER: Final = logging.getLogger(__name__)

#: How long, after EOF, we wait for the plugin's exit status to describe its end.
_EXIT_STATUS_WAIT: Final = 0.5
#: Chunk size when draining an untrusted stdout.
_DRAIN_CHUNK: Final = 65536
#: How many characters of the stderr tail an error message quotes.
_STDERR_IN_MESSAGE: Final = 2000
#: The last hello read, if its bytes are at most this long: every process of a source sends
#: the same, so the next hello's bytes are first compared with these and, when equal, neither
#: walked nor decoded (``FrameReader.take_frame``): the record is shared, it is immutable.
#: Replaced whole by each reader thread; a stale value only costs the walk and the decoding.
_REMEMBERED_HELLO_BYTES: Final = 1 << 20
_last_hello: Hello | None = None


@attrs.frozen
class _Outgoing:
    """A frame for the writer thread; ``run`` is the run that fails if it cannot be sent."""

    frame: bytes
    what: str
    run: RunHandle | None = None


_STOP_WRITER: Final = object()


@final
class ATPClient:
    """An ATP client on one plugin connection; see the module docstring for the API.

    Thread safety: safe to share; start runs, send signals and close from any thread.
    """

    def __init__(
        self,
        connection: PluginConnection,
        *,
        description: str | None = None,
        max_message_bytes: int | None = None,
    ) -> None:
        self._connection = connection
        self._description = description or _describe(connection)
        if max_message_bytes is None:
            max_message_bytes = max_message_bytes_from_env()
        self._reader = FrameReader(connection.stdout, max_message_bytes=max_message_bytes)
        self._outbox: queue.SimpleQueue[_Outgoing | object] = queue.SimpleQueue()
        self._hello_event = threading.Event()
        self._reader_done = threading.Event()
        self._writer_done = threading.Event()
        # Guards every attribute below: handshake and close progress, the run table, the
        # connection failure and the connection-level errors.
        self._lock = threading.Lock()
        self._handshake_started = False
        self._hello: Hello | None = None
        self._closing = False
        # We are stopping the plugin (or closed the client): what it writes on its way out
        # is not worth a warning.
        self._stopping = False
        self._failure: PluginProtocolError | None = None
        self._runs: dict[str, RunHandle] = {}
        self._errors: BoundedMessages[ErrorMessage] = BoundedMessages()
        self._reader_thread: TaskThread | None = None
        self._writer_thread: TaskThread | None = None

    def __repr__(self) -> str:
        return f"<ATPClient {self._description}>"

    @property
    def description(self) -> str:
        """Say which plugin this client talks to, as error messages do."""
        return self._description

    @property
    def hello(self) -> Hello | None:
        """The plugin's hello, once the handshake succeeded."""
        with self._lock:
            return self._hello

    @property
    def version(self) -> int | None:
        """The ATP version the plugin speaks, once the handshake succeeded."""
        hello = self.hello
        return hello.version if hello is not None else None

    def errors(self) -> tuple[ErrorMessage, ...]:
        """Return the non-fatal ERROR messages not tied to a known run."""
        with self._lock:
            return tuple(self._errors.kept)

    def stopping(self) -> None:
        """Say that the plugin is being stopped under the client (its stdin is about to close).

        The Python SDK, for one, writes ``Error while decoding CBOR: premature end of stream``
        into stdout when its stdin ends: that fails the connection as before, but what
        follows is not logged as a warning. Idempotent; call from any thread.
        """
        with self._lock:
            self._stopping = True

    def failure(self) -> PluginProtocolError | None:
        """Return why the connection is no longer usable, or None while it is."""
        with self._lock:
            return self._failure

    # -- handshake ---------------------------------------------------------------------------

    def handshake(self, timeout: float) -> Hello:
        """Send the start message and return the plugin's hello.

        Raises:
            RemoteProtocolError: no hello within ``timeout`` seconds, a malformed hello, an
                unsupported version, or the plugin ended first.
            LocalProtocolError: called twice, or after ``close``.
        """
        with self._lock:
            if self._handshake_started:
                raise LocalProtocolError(f"plugin {self._description}: handshake already done")
            if self._closing:
                raise LocalProtocolError(f"plugin {self._description}: client already closed")
            self._handshake_started = True
        self._outbox.put(_Outgoing(START_OUTPUT, "the start message"))
        name = f"atp-{self._description}"
        self._writer_thread = TaskThread(self._write_loop, name=f"{name}-writer")
        self._reader_thread = TaskThread(self._read_loop, name=f"{name}-reader")
        self._writer_thread.start()
        self._reader_thread.start()
        if not self._hello_event.wait(timeout):
            self._fail_connection(
                RemoteProtocolError(
                    f"plugin {self._description}: sent no hello within {timeout} s"
                    f"{self._status_suffix(wait=False)}"
                )
            )
        with self._lock:
            if self._hello is not None and self._failure is None:
                return self._hello
            failure = self._failure
        assert failure is not None
        raise failure

    # -- runs and signals ----------------------------------------------------------------------

    def start_run(self, run_id: str, step_id: str, config: Any) -> RunHandle:
        """Start step ``step_id`` with ``config`` as run ``run_id``; see the module docstring."""
        if not isinstance(run_id, str) or not run_id:
            raise LocalProtocolError(f"run id must be a non-empty string, got {run_id!r}")
        with self._lock:
            hello = self._usable_hello("start a run")
        step_ids = hello.step_ids()
        if step_id not in step_ids:
            raise LocalProtocolError(
                f"plugin {self._description} has no step {step_id!r}; valid steps: "
                + ", ".join(repr(known) for known in step_ids)
            )
        message: WorkStart | BareWorkStart
        if hello.version == 1:
            message = BareWorkStart(step_id=step_id, config=config)
        else:
            message = WorkStart(run_id=run_id, step_id=step_id, config=config)
        # Encode outside the lock (a big config takes a while); LocalProtocolError if the
        # config is not CBOR-encodable.
        frame = encode(message)
        with self._lock:
            self._usable_hello("start a run")  # again: close() or a failure may have come
            previous = self._runs.get(run_id)
            if previous is not None and not previous.done():
                raise LocalProtocolError(
                    f"plugin {self._description}: run id {run_id!r} is already running on this "
                    "connection"
                )
            if hello.version == 1 and self._runs:
                raise LocalProtocolError(
                    f"plugin {self._description} speaks ATP v1, which allows one run per "
                    f"process; run {next(iter(self._runs))!r} already started"
                )
            handle = RunHandle(run_id, step_id)
            self._runs[run_id] = handle
            self._outbox.put(_Outgoing(frame, f"WORK_START for run {run_id!r}", handle))
        return handle

    def send_signal(self, run_id: str, signal_id: str, data: Any = None) -> bool:
        """Send signal ``signal_id`` to run ``run_id``; False if the run already ended."""
        with self._lock:
            hello = self._usable_hello("send a signal")
            if hello.version == 1:
                raise LocalProtocolError(
                    f"plugin {self._description} speaks ATP v1, which has no signals"
                )
            handle = self._runs.get(run_id)
            if handle is None:
                raise LocalProtocolError(
                    f"plugin {self._description}: no run {run_id!r} to signal; runs: "
                    + (", ".join(repr(known) for known in sorted(self._runs)) or "none")
                )
            accepted = hello.signal_handler_ids(handle.step_id)
            if signal_id not in accepted:
                raise LocalProtocolError(
                    f"plugin {self._description}: step {handle.step_id!r} has no signal "
                    f"handler {signal_id!r}; valid signals: "
                    + (", ".join(repr(known) for known in sorted(accepted)) or "none")
                )
            if handle.done():
                return False
            frame = encode(
                Signal(run_id=run_id, signal_id=signal_id, data={} if data is None else data)
            )
            self._outbox.put(_Outgoing(frame, f"SIGNAL {signal_id!r} for run {run_id!r}"))
        return True

    def _usable_hello(self, action: str) -> Hello:
        """Return the hello if runs may start now; call with the lock held."""
        if self._closing:
            raise LocalProtocolError(f"plugin {self._description}: cannot {action}: closed")
        if self._failure is not None:
            raise RemoteProtocolError(
                f"plugin {self._description}: cannot {action}, the connection failed: "
                f"{_strip_prefix(str(self._failure), self._description)}"
            )
        if self._hello is None:
            raise LocalProtocolError(
                f"plugin {self._description}: cannot {action} before the handshake"
            )
        return self._hello

    # -- close -------------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Send CLIENT_DONE, drain stdout until EOF (at most ``timeout`` s), fail what is left.

        Idempotent; does not stop the plugin (``PluginConnection.close()`` does).
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            first = not self._closing
            self._closing = True
            started = self._handshake_started
            send_done = (
                first
                and self._hello is not None
                and self._hello.version != 1
                and self._failure is None
            )
            pending = any(not handle.done() for handle in self._runs.values())
            # Drain to EOF when the plugin still owes us something or was told to finish.
            waits_for_eof = started and (pending or send_done)
        if send_done:
            self._outbox.put(_Outgoing(encode(ClientDone()), "CLIENT_DONE"))
        if started and first:
            self._outbox.put(_STOP_WRITER)
        reader = self._reader_thread
        if waits_for_eof and not (reader is not None and reader.is_current()):
            # (A done callback calling close() runs on the reader thread: it cannot wait.)
            self._reader_done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftover = [handle for handle in self._runs.values() if not handle.done()]
        for handle in leftover:
            handle._fail(
                LocalProtocolError(
                    f"plugin {self._description}: run {handle.run_id!r} of step "
                    f"{handle.step_id!r} had not ended when the client closed (waited "
                    f"{timeout} s after CLIENT_DONE)"
                ),
                how=_Ended.ABANDONED,
            )

    # -- writer thread -------------------------------------------------------------------------

    def _write_loop(self) -> None:
        stdin = self._connection.stdin
        broken: str | None = None
        try:
            while True:
                item = self._outbox.get()
                if item is _STOP_WRITER:
                    return
                assert isinstance(item, _Outgoing)
                if broken is None:
                    try:
                        stdin.write(item.frame)
                        stdin.flush()
                        continue
                    except (OSError, ValueError) as exc:
                        broken = str(exc) or type(exc).__name__
                        _LOGGER.debug("cannot write to %s: %s", self._description, broken)
                self._on_write_failed(item, broken)
        finally:
            self._writer_done.set()

    def _on_write_failed(self, item: _Outgoing, reason: str) -> None:
        if item.run is not None:
            item.run._fail(
                RemoteProtocolError(
                    f"plugin {self._description}: could not send {item.what}, its stdin is "
                    f"closed ({reason}){self._status_suffix(wait=True)}"
                )
            )

    # -- reader thread -------------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            global _last_hello
            hello = _last_hello
            if hello is None or hello.raw is None or not self._reader.take_frame(hello.raw):
                item = self._read_frame("the hello message")
                hello = attrs.evolve(
                    _check_version(decode_hello(item)), raw=self._reader.frame_bytes
                )
                if hello.raw is not None and len(hello.raw) <= _REMEMBERED_HELLO_BYTES:
                    _last_hello = hello
            with self._lock:
                if self._failure is not None:  # the handshake timed out meanwhile
                    return
                self._hello = hello
            self._hello_event.set()
            if hello.version == 1:
                self._read_v1()
            else:
                while True:
                    self._dispatch(decode_runtime_message(self._read_frame("a runtime message")))
        except EndOfStreamError:
            self._on_eof()
        except PluginProtocolError as exc:
            self._fail_connection(self._with_context(exc))
        except Exception as exc:  # a bug of ours must still end every pending run
            _LOGGER.exception("ATP reader for %s failed", self._description)
            self._fail_connection(
                LocalProtocolError(f"plugin {self._description}: ATP reader failed: {exc!r}")
            )
        finally:
            self._hello_event.set()
            self._drain()
            self._reader_done.set()

    def _read_frame(self, what: str) -> object:
        """Decode one CBOR item from stdout; raise ``EndOfStreamError`` at a clean EOF."""
        try:
            return self._reader.read_frame()
        except TruncatedFrameError as exc:
            raise RemoteProtocolError(
                str(exc).replace("in the middle of a message", f"in the middle of {what}", 1)
            ) from None
        except FrameLimitError as exc:
            raise RemoteProtocolError(str(exc)) from None
        except RemoteProtocolError as exc:  # one type downstream (``_with_context`` copies it)
            raise RemoteProtocolError(
                str(exc).replace("malformed CBOR:", f"malformed CBOR instead of {what}:", 1)
            ) from exc.__cause__

    def _with_context(self, exc: PluginProtocolError) -> PluginProtocolError:
        """Prefix a decode error with the plugin and add a hint when the frame was text."""
        if isinstance(exc, RemoteStepError) or str(exc).startswith("plugin "):
            return exc
        head = bytes(self._reader.head)
        hint = ""
        if _looks_like_text(head):
            hint = (
                f"; stdout carried text {head.decode('ascii', 'replace')!r}, so the plugin "
                "printed to stdout (e.g. at import time), which corrupts the ATP stream"
            )
        return type(exc)(f"plugin {self._description}: {exc}{hint}")

    def _read_v1(self) -> None:
        """ATP v1: one bare result for the one run, then the plugin exits."""
        item = self._read_frame("the v1 work done message")
        done = decode_bare_work_done(item)
        with self._lock:
            handles = list(self._runs.values())
        if not handles:
            raise RemoteProtocolError("sent a v1 result before any work was started")
        handle = handles[0]
        self._check_output_id(handle, done.output_id)
        handle._succeed(
            WorkDone(
                run_id=handle.run_id,
                output_id=done.output_id,
                output_data=done.output_data,
                debug_logs=done.debug_logs,
            )
        )

    def _known_run(self, run_id: str, what: str) -> RunHandle:
        with self._lock:
            handle = self._runs.get(run_id)
            if handle is not None:
                return handle
            known = ", ".join(repr(known) for known in sorted(self._runs)) or "none"
        raise RemoteProtocolError(
            f"plugin {self._description}: {what} for unknown run id {run_id!r}; runs on this "
            f"connection: {known}"
        )

    def _check_output_id(self, handle: RunHandle, output_id: str) -> None:
        hello = self.hello
        assert hello is not None
        declared = hello.output_ids(handle.step_id)
        if output_id not in declared:
            raise RemoteProtocolError(
                f"plugin {self._description}: run {handle.run_id!r} of step "
                f"{handle.step_id!r} returned undeclared output id {output_id!r}; declared: "
                + ", ".join(repr(known) for known in sorted(declared))
            )

    def _dispatch(self, message: RuntimeMessage) -> None:
        match message:
            case WorkDone():
                handle = self._known_run(message.run_id, "WORK_DONE")
                ended = handle._ended_how()
                if ended is _Ended.ABANDONED:
                    return
                if ended is not None:
                    raise RemoteProtocolError(
                        f"plugin {self._description}: WORK_DONE for run {message.run_id!r}, "
                        "which has already ended"
                    )
                self._check_output_id(handle, message.output_id)
                handle._succeed(message)
            case ErrorMessage():
                self._on_error_message(message)
            case Signal():
                dropped = self._known_run(message.run_id, "SIGNAL")._add_signal(message)
                self._log_kept(dropped, "SIGNAL", message, level=logging.DEBUG)
            case WorkStart() | ClientDone():
                raise RemoteProtocolError(
                    f"plugin {self._description}: sent {wire_name(message)}, which only the "
                    "engine sends"
                )

    def _on_error_message(self, message: ErrorMessage) -> None:
        if message.server_fatal:
            _LOGGER.warning("plugin %s: %s", self._description, message)
            raise RemoteStepError(self._description, message, step_id=None)
        if not message.step_fatal:
            if message.run_id == "":
                with self._lock:
                    dropped = self._errors.add(message)
            else:
                dropped = self._known_run(message.run_id, "non-fatal ERROR")._add_error(message)
            self._log_kept(dropped, "non-fatal ERROR", message)
            return
        if message.run_id == "":
            _LOGGER.warning("plugin %s: %s", self._description, message)
            with self._lock:
                self._errors.add(message)
                pending = [handle for handle in self._runs.values() if not handle.done()]
            for handle in pending:
                handle._fail(RemoteStepError(self._description, message, step_id=None))
            return
        handle = self._known_run(message.run_id, "step-fatal ERROR")
        ended = handle._ended_how()
        if ended is _Ended.ABANDONED:
            return
        if ended is not None:
            raise RemoteProtocolError(
                f"plugin {self._description}: step-fatal ERROR for run {message.run_id!r}, "
                f"which has already ended: {message.error}"
            )
        _LOGGER.info("plugin %s: %s", self._description, message)
        handle._fail(RemoteStepError(self._description, message, step_id=handle.step_id))

    def _log_kept(
        self, dropped: int, what: str, message: object, *, level: int = logging.WARNING
    ) -> None:
        """Log a kept message; say once when a run's (or the connection's) messages overflow."""
        if not dropped:
            _LOGGER.log(level, "plugin %s: %s", self._description, message)
        elif dropped == 1:
            run_id = getattr(message, "run_id", "")
            _LOGGER.warning(
                "plugin %s: more than %d %s messages for %s; keeping the first %d, dropping "
                "the rest",
                self._description,
                MAX_KEPT_MESSAGES,
                what,
                f"run {run_id!r}" if run_id else "the connection",
                MAX_KEPT_MESSAGES,
            )

    def _on_eof(self) -> None:
        with self._lock:
            pending = sorted(
                (handle for handle in self._runs.values() if not handle.done()),
                key=lambda handle: handle.run_id,
            )
            closing = self._closing
        if not pending and closing:
            return
        runs = ", ".join(repr(handle.run_id) for handle in pending)
        detail = f" before finishing run(s) {runs}" if pending else ""
        self._fail_connection(
            RemoteProtocolError(
                f"plugin {self._description}: stdout ended (EOF){detail}"
                f"{self._status_suffix(wait=True)}"
            )
        )

    def _fail_connection(self, error: PluginProtocolError) -> None:
        """Mark the connection unusable and end every pending run with ``error``."""
        with self._lock:
            if self._failure is None:
                self._failure = error
            pending = [handle for handle in self._runs.values() if not handle.done()]
        self._hello_event.set()
        for handle in pending:
            handle._fail(error)

    def _drain(self) -> None:
        """Read and discard stdout until EOF so the plugin never blocks writing to it."""
        stream = self._connection.stdout
        read = getattr(stream, "read1", stream.read)
        first = True
        # After a failure inside a frame (truncated: typically the plugin was stopped while
        # it wrote; malformed; too large) what is buffered and read next is the rest of that
        # frame, which the error message already shows: only bytes after a whole frame are
        # worth a warning.
        after_frame = not self._reader.mid_frame
        leftover = self._reader.take_buffered()
        with contextlib.suppress(OSError, ValueError):
            while chunk := leftover or read(_DRAIN_CHUNK):
                leftover = b""
                if first and after_frame and self.failure() is not None:
                    # The error message shows only the offending frame; say what followed.
                    # Unless we closed the client or are stopping the plugin: a plugin told
                    # to finish, or whose stdin we closed, may write anything on its way out
                    # (the Python SDK writes "premature end of stream" on stdin EOF).
                    with self._lock:
                        expected = self._closing or self._stopping
                    _LOGGER.log(
                        logging.DEBUG if expected else logging.WARNING,
                        "plugin %s: discarding its stdout after a protocol error; it continues "
                        "with %r",
                        self._description,
                        chunk[: RAW_PREVIEW * 2],
                    )
                first = False

    def _status_suffix(self, *, wait: bool) -> str:
        """Return ``; exit status 1; stderr: …`` for messages, as far as known."""
        status: str | None = None
        deadline = time.monotonic() + (_EXIT_STATUS_WAIT if wait else 0.0)
        while True:
            try:
                status = self._connection.exit_status()
            except Exception:  # a broken connection must not hide the real error
                status = None
            if status is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        parts = [f"; {status}" if status else ""]
        try:
            stderr = self._connection.stderr_tail().strip()
        except Exception:
            stderr = ""
        if stderr:
            parts.append(f"; stderr: {stderr[-_STDERR_IN_MESSAGE:]}")
        return "".join(parts)


def _check_version(hello: Hello) -> Hello:
    if hello.version not in SUPPORTED_VERSIONS:
        raise RemoteProtocolError(
            f"unsupported ATP version {hello.version}; supported versions: "
            + ", ".join(str(version) for version in SUPPORTED_VERSIONS)
        )
    return hello


def _describe(connection: PluginConnection) -> str:
    try:
        return str(connection.description)
    except Exception:
        return repr(connection)


def _strip_prefix(text: str, description: str) -> str:
    prefix = f"plugin {description}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _looks_like_text(data: bytes) -> bool:
    """Return whether ``data`` is mostly printable ASCII (someone printed to stdout)."""
    if len(data) < 2 or not 32 <= data[0] < 127:
        return False
    printable = sum(1 for byte in data if 32 <= byte < 127 or byte in b"\r\n\t")
    return printable >= 0.9 * len(data)
