"""Ending one running step, bounded in time, whatever its provider does.

:class:`StepCloser` escalates: the provider's ``close()`` and ``close_timeout`` seconds, then
``force_close()`` and another ``close_timeout``, then the runner records a terminal result itself
(:meth:`~arcaflow_steps._guard.StepGuard.complete_synthetic`). A step that declares a longer
graceful close (:class:`~arcaflow_steps.GracefulRunningStep`'s ``close_grace``: a plugin's
``closure_wait_timeout``) gets that long before it is forced. A ``close()`` that raises while the
step runs is a provider bug: the step's result becomes a crash with the traceback.
"""

from __future__ import annotations

import enum
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Final

from ._authoring import BaseRunningStep
from ._errors import ProviderBugError
from ._guard import StepGuard
from ._protocols import RunningStep

__all__ = ["CloseLevel", "StepCloser"]

_log: Final = logging.getLogger("arcaflow_steps.runner")
#: The longest graceful close the runner waits for (a plugin's closure_wait_timeout is at most
#: 7 days), so that a wait never overflows.
_MAX_GRACE: Final = 8 * 24 * 3600.0


class CloseLevel(enum.IntEnum):
    """How far closing a step has gone (only ever escalates)."""

    NONE = 0
    GRACEFUL = 1
    FORCED = 2


class StepCloser:
    """Closes one execution's running step, bounded, escalating to force and to the runner.

    ``launched(timeout)`` makes sure the step was launched and returns its running step
    (``None`` when its start failed or did not finish in time).

    Thread safety: safe to share; close may be requested from any thread.
    """

    __slots__ = ("_grace", "_guard", "_launched", "_level", "_lock", "close_timeout", "step_id")

    def __init__(
        self,
        step_id: str,
        guard: StepGuard,
        close_timeout: float,
        launched: Callable[[float], RunningStep | None],
    ) -> None:
        self.step_id: Final = step_id
        self.close_timeout: Final = close_timeout
        self._guard = guard
        self._launched = launched
        # Guards _level.
        self._lock = threading.Lock()
        self._level = CloseLevel.NONE
        # How long the graceful close may take: close_timeout, or the step's longer grace.
        self._grace = close_timeout

    def close_at(self, level: CloseLevel) -> None:
        """Close at ``level`` and wait (bounded) until the step ended; a repeat only waits."""
        with self._lock:
            escalate = level > self._level
            if escalate:
                self._level = level
        if escalate:
            self._close(force=level is CloseLevel.FORCED, reason=None)
        else:
            self._guard.wait_done(self._grace + self.close_timeout * 2)
            self._end_if_running(None)

    def close_in_background(self, reason: str) -> None:
        """Force-close the step on a thread of its own; ``reason`` explains a runner ending."""
        with self._lock:
            if self._level is CloseLevel.FORCED:
                return
            self._level = CloseLevel.FORCED
        threading.Thread(
            target=self._close,
            kwargs={"force": True, "reason": reason},
            name=f"arcaflow-steps-end-{self.step_id}",
            daemon=True,
        ).start()

    def _close(self, *, force: bool, reason: str | None) -> None:
        timeout = self.close_timeout
        running = self._launched(timeout)
        if running is None or self._guard.is_done():
            self._end_if_running(reason)
            return
        if not force:
            self._grace = max(timeout, _grace_of(running))
        closed = not force and self._call_bounded(running, running.close, "close")
        if closed and self._guard.wait_done(self._grace):
            return
        self._call_bounded(running, running.force_close, "force_close")
        self._guard.wait_done(timeout)
        self._end_if_running(reason)

    def _end_if_running(self, reason: str | None) -> None:
        if self._guard.is_done():
            return
        self._guard.complete_synthetic(
            reason
            or f"step {self.step_id!r} did not reach a terminal stage within "
            f"{self._grace:g} s after close"
        )

    def _call_bounded(self, running: RunningStep, method: Callable[[], None], name: str) -> bool:
        """Call the provider's ``close``/``force_close`` without waiting more than we must.

        Return ``False`` when it raised (known at once only for the authoring base, whose
        close is bounded and called here; others run on a thread of their own).
        """
        raised = False

        def call() -> None:
            nonlocal raised
            try:
                method()
            except Exception as exc:
                raised = True
                self._close_raised(name, exc)

        if isinstance(running, BaseRunningStep):
            call()  # bounded by construction
            return not raised
        threading.Thread(
            target=call, name=f"arcaflow-steps-{name}-{self.step_id}", daemon=True
        ).start()
        return True

    def _close_raised(self, name: str, exc: Exception) -> None:
        """A raising close of a running step is a crash; after the end, a warning."""
        if self._guard.is_done():
            _log.warning("step %r: %s() raised after the step ended: %r", self.step_id, name, exc)
            return
        bug = ProviderBugError(
            self.step_id,
            self._guard.current_stage(),
            f"{name}() raised {exc!r}",
            "".join(traceback.format_exception(exc)),
        )
        _log.warning("%s", bug)
        self._guard.mark_failed(f"{bug}\n{bug.detail.rstrip()}")


def _grace_of(running: RunningStep) -> float:
    """Return the step's ``close_grace`` (:class:`GracefulRunningStep`), 0 when it has none
    or it is not a usable number of seconds."""
    try:
        grace = float(getattr(running, "close_grace", 0.0))
    except Exception:  # a provider bug must not stop the close
        _log.warning("close_grace of a running step failed", exc_info=True)
        return 0.0
    if not grace > 0:  # NaN too
        return 0.0
    return min(grace, _MAX_GRACE)
