"""The authoring aid: base classes that make a correct provider a few dozen lines of stage logic.

A provider written with these classes declares its lifecycle (with schemas), a typed
configuration (an attrs class) and one method per stage. The base does the bookkeeping: state,
locks, the ``StageChangeHandler`` callbacks in order, stage input, ``close()`` and
``force_close()``. It checks each outcome against the lifecycle's transition table before
reporting it, so it never reports an illegal move::

    class Stage(enum.StrEnum):
        GREET = "greet"

    class GreetStep(BaseRunningStep):
        @on_stage(Stage.GREET)
        def greet(self, inputs: Mapping[str, Any]) -> Outcome:
            return Finish(output_id="success", output={"message": f"Hello {inputs['name']}!"})

        def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
            return Finish(output_id="error", output={"error": "closed before greeting"})

    class GreetProvider(StepProviderBase[GreetConfig]):
        kind = "greet"
        provider_keyword = "greet"
        run_keyword = "step"
        config_type = GreetConfig

        def lifecycle(self) -> Lifecycle[LifecycleStage]:
            return without_schemas(LIFECYCLE)

        def load_schema(self, config: GreetConfig) -> RunnableStep:
            return SimpleRunnableStep(LIFECYCLE, RUN_SCHEMA, lambda run_input, run_id: GreetStep())

Stage methods return an :data:`Outcome`:

* ``Move(to=stage, output_id=..., output=...)`` — the current stage produced that output (or
  none) and the step moves on. When ``to`` is terminal, the terminal stage's method runs next
  and returns its ``Finish``.
* ``Finish(output_id=..., output=..., stage=None)`` — the step completes with that output, in
  ``stage`` (moved into first) or in the current stage when it is terminal.
* ``WaitForInput(stage)`` (from :meth:`BaseRunningStep.wait_for_input`) — call this method
  again once input for ``stage`` arrived (or the step is closing); meanwhile the step reports
  ``waiting_for_input``.

A stage that declares input fields runs once its input arrived; the method receives it.

Threads. With ``blocking = False`` (the default) a step has no thread: stage methods run on the
thread that made progress possible (``start()``, ``provide_stage_input()`` or ``close()``), so
they must not block. With ``blocking = True`` each step gets one thread that runs the stage
methods; they may block, and should poll :attr:`BaseRunningStep.is_closing` or use
:meth:`BaseRunningStep.sleep` so ``close()`` ends them quickly.

Close. ``close()`` lets a running stage method return, then ends the step with
:meth:`BaseRunningStep.closed_outcome` (``forced=False``); after ``close_timeout`` seconds, or
on ``force_close()``, it ends the step at once with ``forced=True`` and discards whatever the
stage method returns later. A stage method that raises, or an outcome the lifecycle does not
allow, ends the step with :meth:`BaseRunningStep.error_outcome`.
"""

from __future__ import annotations

import abc
import enum
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, TypeVar

import attrs

from ._errors import (
    IllegalStageTransitionError,
    StageInputError,
    quote,
    quote_sorted,
)
from ._lifecycle import Lifecycle, LifecycleStageWithSchema
from ._protocols import RunningStepState
from ._rules import LifecycleRules, rules_for

if TYPE_CHECKING:
    from ._protocols import StageChangeHandler

__all__ = [
    "BaseRunningStep",
    "Finish",
    "Move",
    "Outcome",
    "WaitForInput",
    "on_stage",
]

_log: Final = logging.getLogger("arcaflow_steps.authoring")

_F = TypeVar("_F", bound=Callable[..., Any])

_STAGE_MARK: Final = "__arcaflow_stage__"


@attrs.frozen(kw_only=True)
class Move:
    """The current stage produced ``output_id``/``output`` (or nothing); move to ``to``.

    Thread safety: safe to share (immutable).
    """

    to: str
    output_id: str | None = None
    output: Any = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class Finish:
    """Complete the step with ``output_id``/``output``, in terminal ``stage`` (moved into
    first) or, when ``stage`` is ``None``, in the current stage.

    Thread safety: safe to share (immutable).
    """

    output_id: str | None
    output: Any = attrs.field(default=None, eq=False)
    stage: str | None = None


@attrs.frozen(kw_only=True)
class WaitForInput:
    """Run the current stage's method again once input for ``stage`` arrived (or on close).

    Thread safety: safe to share (immutable).
    """

    stage: str


#: What a stage method returns.
Outcome: TypeAlias = Move | Finish | WaitForInput


def on_stage(stage: str) -> Callable[[_F], _F]:
    """Mark a :class:`BaseRunningStep` method as the logic of ``stage``.

    The method takes the stage's input (a mapping, empty for a stage without input fields)
    and returns an :data:`Outcome`.
    """

    def mark(method: _F) -> _F:
        setattr(method, _STAGE_MARK, str(stage))
        return method

    return mark


class _Close(enum.IntEnum):
    NONE = 0
    GRACEFUL = 1
    FORCED = 2


class _Action(enum.Enum):
    ENTER = "enter"
    RUN = "run"
    CLOSE = "close"
    WAIT = "wait"
    DONE = "done"


class _RefusedError(Exception):
    """An outcome the lifecycle does not allow (caught inside the base)."""


class BaseRunningStep(abc.ABC):
    """A running step that does the bookkeeping; subclasses write one method per stage.

    Subclasses call ``super().__init__()``, mark stage methods with :func:`on_stage` and
    implement :meth:`closed_outcome`. :class:`SimpleRunnableStep` (or your own runnable) calls
    :meth:`bind` and :meth:`begin`.

    Thread safety: safe to share; every method of the ``RunningStep`` protocol may be called
    from any thread.
    """

    #: Whether stage methods may block: then each step runs them on its own thread.
    blocking: ClassVar[bool] = False
    #: Seconds ``close()`` waits for a running stage method before ending the step at once.
    close_timeout: ClassVar[float] = 5.0
    __stage_methods: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        methods: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                stage = getattr(value, _STAGE_MARK, None)
                if stage is not None:
                    methods[stage] = name
        cls.__stage_methods = methods

    def __init__(self) -> None:
        # Guards every attribute below except __thread. The condition waited on for input and
        # close shares it and is made on first need (most steps never wait).
        self.__lock = threading.Lock()
        self.__waitable: threading.Condition | None = None
        # Held while reporting to the handler, so reports are ordered and none follows the
        # completion (re-entrant: a handler's observer may close the step).
        self.__report_lock = threading.RLock()
        self.__handler: StageChangeHandler | None = None
        self.__rules: LifecycleRules | None = None
        self.__run_id = ""
        self.__stage: str | None = None
        self.__inputs: dict[str, Mapping[str, Any]] = {}
        self.__awaiting: str | None = None
        self.__state = RunningStepState.STARTING
        self.__busy = False
        # The thread running __loop (holding the busy token), if any.
        self.__loop_thread: int | None = None
        self.__close = _Close.NONE
        self.__finished = False
        self.__thread: threading.Thread | None = None

    # -- wiring (called by the runnable) -----------------------------------------------------

    def bind(
        self,
        handler: StageChangeHandler,
        lifecycle: Lifecycle[LifecycleStageWithSchema],
        run_id: str,
    ) -> None:
        """Attach the handler to report to and the lifecycle to obey (before :meth:`begin`)."""
        self.__handler = handler
        self.__rules = rules_for(lifecycle)
        self.__run_id = run_id

    def begin(self) -> None:
        """Enter the initial stage and run as far as possible without blocking (or start the
        step's thread when ``blocking``)."""
        if self.__rules is None:
            raise RuntimeError("bind() must be called before begin()")
        with self.__lock:
            if self.__busy:
                return
            self.__busy = True
        if self.blocking:
            self.__thread = threading.Thread(
                target=self.__loop, name=f"arcaflow-steps-step-{self.__run_id}", daemon=True
            )
            self.__thread.start()
        else:
            self.__loop()

    # -- for stage methods -------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """Return the id the runner gave this execution."""
        return self.__run_id

    @property
    def is_closing(self) -> bool:
        """Return whether ``close()`` or ``force_close()`` was called."""
        with self.__lock:
            return self.__close is not _Close.NONE

    def stage_input(self, stage: str) -> Mapping[str, Any] | None:
        """Return the input provided for ``stage`` so far, or ``None``."""
        with self.__lock:
            return self.__inputs.get(str(stage))

    def wait_for_input(self, stage: str) -> WaitForInput:
        """Return the outcome that waits for ``stage``'s input, then runs this stage again."""
        return WaitForInput(stage=str(stage))

    def set_waiting_for_input(self, waiting: bool) -> None:
        """Say whether a (blocking) stage method is blocked on input right now.

        Only ``state()`` changes (``waiting_for_input`` or ``running``), which is what deadlock
        detection and progress display read; no callback is made.
        """
        with self.__lock:
            if not self.__finished and self.__stage is not None:
                self.__state = (
                    RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING
                )

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return ``False`` early when the step is closing."""
        with self.__lock:
            return not self.__condition().wait_for(lambda: self.__close is not _Close.NONE, seconds)

    @abc.abstractmethod
    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """Return how the step ends when closed in ``stage`` (a ``Finish`` allowed from it)."""

    def error_outcome(self, stage: str, error: Exception) -> Finish:
        """Return how the step ends when a stage method raised or returned an illegal outcome.

        The default ends it as if force-closed.
        """
        del error
        return self.closed_outcome(stage, forced=True)

    # -- RunningStep -------------------------------------------------------------------------

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Record ``stage``'s input and make progress with it.

        A stage may get its input in several calls (the runner gives what the step definition
        set at start, someone else the rest later); the fields are merged, and stage methods
        see the merged mapping. A stage counts as having its input from the first call.

        Raises:
            StageInputError: the stage is not declared, a field is not one of its input fields,
                or a field was already provided.
        """
        rules = self.__bound_rules()
        stage = str(stage)
        fields = rules.table.input_fields.get(stage)
        if fields is None:
            raise StageInputError(
                self.__run_id,
                stage,
                "no such stage; stages taking input: "
                + quote_sorted(s for s, f in rules.table.input_fields.items() if f),
            )
        unknown = sorted(str(key) for key in input if key not in fields)
        if unknown:
            raise StageInputError(
                self.__run_id,
                stage,
                f"unknown input field {quote(unknown[0])}; valid fields: {quote_sorted(fields)}",
            )
        with self.__lock:
            if self.__finished:
                return
            given = self.__inputs.get(stage)
            if given is not None:
                again = sorted(str(key) for key in input if key in given)
                if again:
                    raise StageInputError(
                        self.__run_id, stage, f"input field {again[0]!r} was already provided"
                    )
                self.__inputs[stage] = {**given, **input}
            else:
                self.__inputs[stage] = input
            self.__notify()
            take = not self.__busy
            if take:
                self.__busy = True
        if take:
            self.__loop()

    def current_stage(self) -> str:
        """Return the current stage (the initial stage before the step entered it)."""
        with self.__lock:
            if self.__stage is not None:
                return self.__stage
        return self.__bound_rules().table.initial_stage

    def state(self) -> RunningStepState:
        """Return the state: starting, waiting for input, running or finished."""
        with self.__lock:
            return self.__state

    def close(self) -> None:
        """End the step gracefully (bounded by ``close_timeout``); idempotent."""
        with self.__lock:
            self.__close = max(self.__close, _Close.GRACEFUL)
            self.__notify()
            take = not self.__busy and not self.__finished
            if take:
                self.__busy = True
        if take:
            self.__loop()
        elif self.__loop_thread == threading.get_ident():
            return  # called from inside this step's own loop (a handler's observer): it closes
        with self.__lock:
            finished = self.__condition().wait_for(lambda: self.__finished, self.close_timeout)
        if not finished:
            self.__force_finish()
        self.__join()

    def force_close(self) -> None:
        """End the step at once; idempotent."""
        with self.__lock:
            self.__close = _Close.FORCED
            self.__notify()
        self.__force_finish()
        self.__join()

    # -- the loop ----------------------------------------------------------------------------

    def __condition(self) -> threading.Condition:
        """Return the condition on ``_lock`` (call with ``_lock`` held)."""
        if self.__waitable is None:
            self.__waitable = threading.Condition(self.__lock)
        return self.__waitable

    def __notify(self) -> None:
        """Wake every waiter (call with ``_lock`` held)."""
        if self.__waitable is not None:
            self.__waitable.notify_all()

    def __bound_rules(self) -> LifecycleRules:
        if self.__rules is None:
            raise RuntimeError("the step was not bound to a handler and lifecycle")
        return self.__rules

    def __decide(self) -> tuple[_Action, str | None]:
        """Decide the next action (with ``_lock`` held)."""
        if self.__finished:
            return _Action.DONE, None
        stage = self.__stage
        if stage is None:
            return _Action.ENTER, None
        if self.__close is not _Close.NONE:
            return _Action.CLOSE, stage
        awaited = self.__awaiting
        if awaited is None and self.__bound_rules().table.input_fields.get(stage):
            awaited = stage
        if awaited is not None and awaited not in self.__inputs:
            self.__state = RunningStepState.WAITING_FOR_INPUT
            return _Action.WAIT, stage
        self.__awaiting = None
        self.__state = RunningStepState.RUNNING
        return _Action.RUN, stage

    def __loop(self) -> None:
        """Make progress until blocked or done; the caller holds the busy token."""
        self.__loop_thread = threading.get_ident()  # only the token holder writes it
        try:
            while True:
                with self.__lock:
                    action, stage = self.__decide()
                    if action is _Action.WAIT and self.blocking:
                        self.__condition().wait()
                        continue
                    if action in (_Action.WAIT, _Action.DONE):
                        self.__busy = False
                        self.__loop_thread = None
                        return
                    inputs = self.__inputs.get(stage, {}) if stage is not None else {}
                    forced = self.__close is _Close.FORCED
                if action is _Action.ENTER:
                    self.__enter_initial()
                elif action is _Action.CLOSE:
                    assert stage is not None
                    self.__apply(stage, self.__closed(stage, forced=forced), closing=True)
                else:
                    assert stage is not None
                    self.__apply(stage, self.__run_stage(stage, inputs), closing=False)
        except BaseException:
            with self.__lock:
                self.__busy = False
                self.__loop_thread = None
            raise

    def __run_stage(self, stage: str, inputs: Mapping[str, Any]) -> Outcome | Exception:
        name = self.__stage_methods.get(stage)
        if name is None:
            return LookupError(
                f"{type(self).__name__} has no method for stage {quote(stage)}; stages with "
                f"methods: {quote_sorted(self.__stage_methods)}"
            )
        try:
            outcome: Outcome = getattr(self, name)(inputs)
        except Exception as exc:
            _log.warning("stage %r of step %r raised: %r", stage, self.__run_id, exc)
            return exc
        return outcome

    def __closed(self, stage: str, *, forced: bool) -> Outcome | Exception:
        try:
            return self.closed_outcome(stage, forced=forced)
        except Exception as exc:
            _log.exception("closed_outcome() of step %r failed", self.__run_id)
            return exc

    def __enter_initial(self) -> None:
        rules = self.__bound_rules()
        initial = rules.table.initial_stage
        with self.__report_lock:
            with self.__lock:
                if self.__finished or self.__stage is not None:
                    return
                waiting = bool(rules.table.input_fields.get(initial)) and (
                    initial not in self.__inputs
                )
            self.__report_change(None, None, None, initial, waiting)

    def __apply(self, stage: str, outcome: Outcome | Exception, *, closing: bool) -> None:
        """Report ``outcome`` of ``stage``; on trouble, end the step with a fallback."""
        with self.__report_lock:
            with self.__lock:
                if self.__finished or self.__stage != stage:
                    return  # force-closed (or already moved on) while the method ran
            if isinstance(outcome, WaitForInput):
                with self.__lock:
                    self.__awaiting = outcome.stage
                return
            try:
                self.__report(stage, outcome)
            except (_RefusedError, IllegalStageTransitionError) as exc:
                with self.__lock:
                    current = self.__stage or stage  # a Finish may have moved before refusal
                if closing:
                    self.__give_up(current, exc)
                    return
                try:
                    self.__report(current, self.error_outcome(current, exc))
                except Exception as second:  # the fallback is author code too
                    self.__give_up(current, second)

    def __give_up(self, stage: str, error: Exception) -> None:
        _log.error(
            "step %r cannot end legally from stage %r (%s); the runner will end it",
            self.__run_id,
            stage,
            error,
        )
        with self.__lock:
            self.__finished = True
            self.__state = RunningStepState.FINISHED
            self.__notify()

    def __report(self, stage: str, outcome: Outcome | Exception) -> None:
        """Check ``outcome`` against the table and report it (``_report_lock`` held)."""
        table = self.__bound_rules().table
        if isinstance(outcome, Exception):
            raise _RefusedError(str(outcome))
        if isinstance(outcome, WaitForInput):
            raise _RefusedError("waiting for input is not a way to end a step")
        if isinstance(outcome, Move):
            target = str(outcome.to)
            self.__check_move(stage, target)
            self.__check_output(stage, outcome.output_id)
            with self.__lock:
                waiting = bool(table.input_fields.get(target)) and target not in self.__inputs
            self.__report_change(stage, outcome.output_id, outcome.output, target, waiting)
            return
        target = stage if outcome.stage is None else str(outcome.stage)
        if not table.is_terminal(target):
            raise _RefusedError(f"cannot complete in non-terminal stage {quote(target)}")
        self.__check_output(target, outcome.output_id)
        if target != stage:
            self.__check_move(stage, target)
            self.__report_change(stage, None, None, target, False)
        handler = self.__handler
        assert handler is not None
        handler.on_step_complete(self, target, outcome.output_id, outcome.output)
        with self.__lock:
            self.__finished = True
            self.__state = RunningStepState.FINISHED
            self.__notify()

    def __check_move(self, stage: str, target: str) -> None:
        table = self.__bound_rules().table
        if not table.allows(stage, target):
            raise _RefusedError(
                f"cannot move from stage {quote(stage)} to {quote(target)}; allowed next: "
                f"{quote_sorted(table.allowed_next(stage))}"
            )

    def __check_output(self, stage: str, output_id: str | None) -> None:
        declared = self.__bound_rules().table.output_ids.get(stage, frozenset())
        if output_id is not None and output_id not in declared:
            raise _RefusedError(
                f"stage {quote(stage)} has no output {quote(output_id)}; declared: "
                f"{quote_sorted(declared)}"
            )

    def __report_change(
        self,
        previous: str | None,
        output_id: str | None,
        output: Any,
        target: str,
        waiting: bool,
    ) -> None:
        handler = self.__handler
        assert handler is not None
        handler.on_stage_change(self, previous, output_id, output, target, waiting)
        with self.__lock:
            self.__stage = target
            self.__state = (
                RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING
            )

    def __force_finish(self) -> None:
        """End the step now with ``closed_outcome(forced=True)``, whatever is running."""
        rules = self.__bound_rules()
        with self.__report_lock:
            with self.__lock:
                if self.__finished:
                    return
                stage = self.__stage
            if stage is None:
                self.__report_change(None, None, None, rules.table.initial_stage, False)
                stage = rules.table.initial_stage
            outcome = self.__closed(stage, forced=True)
            try:
                self.__report(stage, outcome)
            except (_RefusedError, IllegalStageTransitionError) as exc:
                self.__give_up(stage, exc)

    def __join(self) -> None:
        thread = self.__thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.close_timeout)


for _cls in (BaseRunningStep, Finish, Move, WaitForInput):
    _cls.__module__ = "arcaflow_steps"
