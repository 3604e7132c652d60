"""The run side of the ATP client: a run's handle, its result and how it can fail.

:class:`RunHandle` is what :meth:`ATPClient.start_run <._atp.ATPClient.start_run>` returns. The
client's reader thread ends a handle exactly once, with a :class:`RunResult` or an error; the
caller waits with a timeout or registers a done callback.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar, final

import attrs

from arcaflow_steps import ArcaflowStepsError, PluginProtocolError, RemoteProtocolError

from ._atp_messages import ErrorMessage, Signal, WorkDone

__all__ = ["ATPTimeoutError", "RemoteStepError", "RunHandle", "RunResult"]

_LOGGER: Final = logging.getLogger(__name__)


class ATPTimeoutError(ArcaflowStepsError, TimeoutError):
    """A run did not end within the time the caller was willing to wait."""

    def __init__(self, run_id: str, timeout: float | None) -> None:
        self.run_id = run_id
        self.timeout = timeout
        super().__init__(f"run {run_id!r} has not ended within {timeout} s")


class RemoteStepError(RemoteProtocolError):
    """The plugin sent a fatal ERROR message (the step raised, or the plugin gave up)."""

    def __init__(self, description: str, message: ErrorMessage, *, step_id: str | None) -> None:
        self.message = message
        self.step_id = step_id
        where = f"step {step_id!r} (run {message.run_id!r})" if step_id else "the plugin"
        if message.server_fatal:
            kind = "server-fatal"
        elif message.step_fatal:
            kind = "step-fatal"
        else:
            kind = "non-fatal"
        super().__init__(
            f"plugin {description}: {where} failed with a {kind} error: {message.error}"
        )


@attrs.frozen(kw_only=True)
class RunResult:
    """What a run produced: the output id and data, and what the plugin logged meanwhile."""

    run_id: str
    step_id: str
    output_id: str
    output_data: Any
    #: What the plugin printed (Python SDK: cumulative across runs of the process).
    debug_logs: str = ""
    #: The non-fatal ERROR messages the plugin sent for this run.
    errors: tuple[ErrorMessage, ...] = ()


class _Ended(enum.Enum):
    """How a run handle ended."""

    RESULT = "result"
    FAILED = "failed"
    ABANDONED = "abandoned"  # failed by close(); late messages are ignored


#: How many non-fatal ERRORs, and how many SIGNALs, a run (or a connection) keeps: a plugin
#: sending them without end must not grow our memory without end. Later ones are dropped.
MAX_KEPT_MESSAGES: Final = 1000

_M = TypeVar("_M")


@final
class BoundedMessages(Generic[_M]):
    """The first ``MAX_KEPT_MESSAGES`` messages of one kind, and how many more were dropped.

    Thread safety: not thread-safe; its owner's lock guards it.
    """

    def __init__(self) -> None:
        self.kept: list[_M] = []
        self.dropped = 0

    def add(self, message: _M) -> int:
        """Keep ``message`` if there is room; return how many were dropped (0: it was kept)."""
        if len(self.kept) < MAX_KEPT_MESSAGES:
            self.kept.append(message)
            return 0
        self.dropped += 1
        return self.dropped


@final
class RunHandle:
    """One run on an :class:`ATPClient`: wait for its result, inspect its errors.

    Thread safety: safe to share; callbacks run on the thread that ends the run.
    """

    def __init__(self, run_id: str, step_id: str) -> None:
        self.run_id: Final = run_id
        self.step_id: Final = step_id
        self._done_event = threading.Event()
        # Guards _ended, _result, _error, _errors, _signals and _callbacks.
        self._lock = threading.Lock()
        self._ended: _Ended | None = None
        self._result: RunResult | None = None
        self._error: PluginProtocolError | None = None
        self._errors: BoundedMessages[ErrorMessage] = BoundedMessages()
        self._signals: BoundedMessages[Signal] = BoundedMessages()
        self._callbacks: list[Callable[[RunHandle], None]] = []

    def __repr__(self) -> str:
        return f"<RunHandle run_id={self.run_id!r} step_id={self.step_id!r} ended={self._ended}>"

    def done(self) -> bool:
        """Return whether the run has ended (with a result or an error)."""
        return self._done_event.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for the run to end; return whether it has."""
        return self._done_event.wait(timeout)

    def result(self, timeout: float | None) -> RunResult:
        """Return the run's result, waiting up to ``timeout`` seconds.

        Raises:
            PluginProtocolError: the run failed (``RemoteStepError`` for a fatal ERROR).
            ATPTimeoutError: the run has not ended in time.
        """
        if not self._done_event.wait(timeout):
            raise ATPTimeoutError(self.run_id, timeout)
        with self._lock:
            if self._error is not None:
                raise self._error
            assert self._result is not None
            return self._result

    def exception(self, timeout: float | None) -> PluginProtocolError | None:
        """Return the run's error (None if it produced a result); see :meth:`result`."""
        if not self._done_event.wait(timeout):
            raise ATPTimeoutError(self.run_id, timeout)
        with self._lock:
            return self._error

    def errors(self) -> tuple[ErrorMessage, ...]:
        """Return the non-fatal ERROR messages the plugin sent for this run so far."""
        with self._lock:
            return tuple(self._errors.kept)

    def signals(self) -> tuple[Signal, ...]:
        """Return the SIGNAL messages the plugin sent for this run so far."""
        with self._lock:
            return tuple(self._signals.kept)

    def add_done_callback(self, callback: Callable[[RunHandle], None]) -> None:
        """Call ``callback(self)`` once the run ends (at once if it already has)."""
        with self._lock:
            if self._ended is None:
                self._callbacks.append(callback)
                return
        callback(self)

    # -- used by ATPClient -------------------------------------------------------------------

    def _ended_how(self) -> _Ended | None:
        with self._lock:
            return self._ended

    def _add_error(self, message: ErrorMessage) -> int:
        """Keep a non-fatal ERROR; return how many were dropped so far (0: this one is kept)."""
        with self._lock:
            return self._errors.add(message)

    def _add_signal(self, message: Signal) -> int:
        """Keep a SIGNAL; return how many were dropped so far (0: this one is kept)."""
        with self._lock:
            return self._signals.add(message)

    def _succeed(self, done: WorkDone | RunResult) -> bool:
        with self._lock:
            if self._ended is not None:
                return False
            self._ended = _Ended.RESULT
            self._result = RunResult(
                run_id=self.run_id,
                step_id=self.step_id,
                output_id=done.output_id,
                output_data=done.output_data,
                debug_logs=done.debug_logs,
                errors=tuple(self._errors.kept),
            )
            callbacks, self._callbacks = self._callbacks, []
        self._done_event.set()
        self._run_callbacks(callbacks)
        return True

    def _fail(self, error: PluginProtocolError, *, how: _Ended = _Ended.FAILED) -> bool:
        with self._lock:
            if self._ended is not None:
                return False
            self._ended = how
            self._error = error
            callbacks, self._callbacks = self._callbacks, []
        self._done_event.set()
        self._run_callbacks(callbacks)
        return True

    def _run_callbacks(self, callbacks: list[Callable[[RunHandle], None]]) -> None:
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                _LOGGER.exception("done callback of run %r failed", self.run_id)
