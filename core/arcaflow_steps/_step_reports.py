"""How the authoring base reports: check each outcome, update the step, then call the handler.

:class:`StepReporter` turns what a stage method (or ``closed_outcome``) returned into
``StageChangeHandler`` callbacks. It checks the outcome against the lifecycle's transition
table first, so the base never reports an illegal move, and it updates the step's
:class:`~arcaflow_steps._step_book.StepBook` *before* each callback, so inside
``on_stage_change`` the step is already in the new stage and inside ``on_step_complete`` it is
already ``finished`` (the seed: stage and state are consistent at all times).

A provider bug — a method that raised, an outcome the lifecycle does not allow — is never
papered over with an ordinary output: the reporter releases what the step holds
(``closed_outcome(forced=True)``, its result discarded) and reports a
:class:`~arcaflow_steps.ProviderBugError` with the traceback through ``on_stage_failure``; the
runner then ends the step as crashed.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._errors import IllegalStageTransitionError, ProviderBugError, quote, quote_sorted
from ._outcomes import Finish, Move, Outcome, WaitForInput
from ._step_book import StepBook

if TYPE_CHECKING:
    from ._protocols import RunningStep, StageChangeHandler

__all__ = ["Failure", "StepReporter"]

_log: Final = logging.getLogger("arcaflow_steps.authoring")


@attrs.frozen(kw_only=True)
class Failure:
    """A provider bug found before anything was reported: what happened, and its cause.

    Thread safety: safe to share (immutable).
    """

    what: str
    cause: BaseException | None = attrs.field(default=None, eq=False)
    #: Whether ``closed_outcome`` may still be called to release what the step holds.
    release: bool = True


class _RefusedError(Exception):
    """An outcome the lifecycle does not allow (caught inside the reporter)."""


class StepReporter:
    """Reports one step's outcomes to its handler, in order, never an illegal one.

    Thread safety: safe to share; reports are serialised by a re-entrant lock (a handler's
    observer may close the step from inside a callback).
    """

    __slots__ = ("book", "closed_outcome", "handler", "report_lock", "run_id", "step")

    def __init__(
        self, step: RunningStep, book: StepBook, closed_outcome: Callable[..., Finish]
    ) -> None:
        self.step: Final = step
        self.book: Final = book
        #: The step's ``closed_outcome(stage, *, forced)``.
        self.closed_outcome: Final = closed_outcome
        self.handler: StageChangeHandler | None = None
        self.run_id = ""
        # Held while reporting, so reports are ordered and none follows the completion.
        self.report_lock: Final = threading.RLock()

    def bound_handler(self) -> StageChangeHandler:
        """Return the handler (raise if the step was not bound)."""
        if self.handler is None:
            raise RuntimeError("the step was not bound to a handler and lifecycle")
        return self.handler

    def closed(self, stage: str, *, forced: bool) -> Outcome | Failure:
        """Return the step's ``closed_outcome`` for ``stage``, or the failure it raised."""
        try:
            outcome: Outcome = self.closed_outcome(stage, forced=forced)
        except Exception as exc:
            return Failure(what=f"closed_outcome() raised {exc!r}", cause=exc, release=False)
        return outcome

    def release(self, stage: str) -> None:
        """Let the step release what it holds after a crash (``closed_outcome``, discarded)."""
        try:
            self.closed_outcome(stage, forced=True)
        except Exception:
            _log.exception("closed_outcome() of crashed step %r failed", self.run_id)

    def force_finish(self) -> None:
        """End the step now with ``closed_outcome(forced=True)``, whatever is running."""
        book = self.book
        with self.report_lock:
            with book.lock:
                if book.finished:
                    return
            self.enter_initial()
            with book.lock:
                stage = book.stage
                if book.finished or stage is None:
                    return
            self.apply(stage, self.closed(stage, forced=True), None)

    def enter_initial(self) -> None:
        """Report the initial stage, unless the step is already past it."""
        book = self.book
        with self.report_lock:
            with book.lock:
                if book.finished or book.stage is not None:
                    return
                initial = book.bound_rules().table.initial_stage
                waiting = book.is_waiting_in(initial)
            try:
                self._change(None, None, None, initial, waiting)
            except IllegalStageTransitionError:
                self._abandon(initial)

    def apply(self, stage: str, outcome: Outcome | Failure, method: str | None) -> None:
        """Report ``outcome`` of ``stage``, returned by stage method ``method`` (``None``:
        by ``closed_outcome``, which is then not called again to release); a bug crashes the
        step."""
        closing = method is None
        book = self.book
        with self.report_lock:
            with book.lock:
                if book.finished or book.stage != stage:
                    return  # force-closed (or already moved on) while the method ran
                if isinstance(outcome, WaitForInput):
                    book.awaiting = str(outcome.stage)
                    return
            if isinstance(outcome, Failure):
                self.crash(stage, outcome)
                return
            try:
                self._report(stage, outcome)
            except _RefusedError as refused:
                with book.lock:
                    current = book.stage or stage  # a Finish may have moved before refusal
                source = "closed_outcome()" if method is None else f"stage method {method}()"
                what = f"{source} returned an illegal outcome: {refused}"
                self.crash(current, Failure(what=what, release=not closing))
            except IllegalStageTransitionError:
                # The handler refused (e.g. output data that does not match its schema): the
                # handler knows, and the runner ends the step; release and report nothing more.
                with book.lock:
                    current = book.stage or stage
                self._abandon(current, release=not closing)

    def crash(self, stage: str, failure: Failure) -> None:
        """End the step as crashed in ``stage``: release, then report a ProviderBugError."""
        cause = failure.cause
        detail = "".join(traceback.format_exception(cause)) if cause is not None else ""
        bug = ProviderBugError(self.run_id, stage, failure.what, detail)
        _log.warning("%s", bug)
        if failure.release:
            self.release(stage)
        with self.book.lock:
            self.book.finish()
        try:
            self.bound_handler().on_stage_failure(self.step, stage, bug)
        except IllegalStageTransitionError:
            pass  # already ended by someone else; nothing more to say
        finally:
            with self.book.lock:
                self.book.mark_done()

    def _abandon(self, stage: str, *, release: bool = True) -> None:
        if release:
            self.release(stage)
        with self.book.lock:
            self.book.mark_done()

    def _report(self, stage: str, outcome: Move | Finish) -> None:
        book = self.book
        table = book.bound_rules().table
        if isinstance(outcome, Move):
            target = str(outcome.to)
            self._check_move(stage, target)
            self._check_output(stage, outcome.output_id)
            with book.lock:
                waiting = book.is_waiting_in(target)
            self._change(stage, outcome.output_id, outcome.output, target, waiting)
            return
        if not isinstance(outcome, Finish):
            raise _RefusedError(f"{outcome!r} is not a Move, Finish or WaitForInput")
        target = stage if outcome.stage is None else str(outcome.stage)
        if not table.is_terminal(target):
            raise _RefusedError(f"cannot complete in non-terminal stage {quote(target)}")
        self._check_output(target, outcome.output_id)
        if target != stage:
            self._check_move(stage, target)
            self._change(stage, None, None, target, False)
        with book.lock:
            book.finish()
        self.bound_handler().on_step_complete(self.step, target, outcome.output_id, outcome.output)
        with book.lock:
            book.mark_done()

    def _change(
        self,
        previous: str | None,
        output_id: str | None,
        output: Any,
        target: str,
        waiting: bool,
    ) -> None:
        with self.book.lock:
            self.book.enter(target, waiting=waiting)
        self.bound_handler().on_stage_change(
            self.step, previous, output_id, output, target, waiting
        )

    def _check_move(self, stage: str, target: str) -> None:
        table = self.book.bound_rules().table
        if not table.allows(stage, target):
            raise _RefusedError(
                f"cannot move from stage {quote(stage)} to {quote(target)}; allowed next: "
                f"{quote_sorted(table.allowed_next(stage))}"
            )

    def _check_output(self, stage: str, output_id: str | None) -> None:
        declared = self.book.bound_rules().table.output_ids.get(stage, frozenset())
        if output_id is not None and output_id not in declared:
            raise _RefusedError(
                f"stage {quote(stage)} has no output {quote(output_id)}; declared: "
                f"{quote_sorted(declared)}"
            )
