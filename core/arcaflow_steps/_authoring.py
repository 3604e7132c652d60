"""The authoring aid: a base class that makes a correct provider a few dozen lines of stage logic.

A provider written with it declares its lifecycle (with schemas), a typed configuration (an
attrs class) and one method per stage. The base does the bookkeeping: state, locks, the
``StageChangeHandler`` callbacks in order, stage input, ``close()`` and ``force_close()``. It
checks each outcome against the lifecycle's transition table before reporting it, so it never
reports an illegal move::

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

Stage methods return an :data:`~arcaflow_steps.authoring.Outcome` (``Move``, ``Finish`` or
``WaitForInput``, see ``_outcomes.py``). A stage that declares input fields runs once its input
arrived; the method receives it.

Threads. With ``blocking = False`` (the default) a step has no thread: stage methods run on the
thread that made progress possible (``start()``, ``provide_stage_input()`` or ``close()``), so
they must not block. With ``blocking = True`` each step gets one thread that runs the stage
methods; they may block, and should wait with :meth:`BaseRunningStep.sleep` or
:meth:`BaseRunningStep.wait_for_input` (or poll :attr:`BaseRunningStep.is_closing`) so
``close()`` ends them quickly.

Close. ``close()`` lets a running stage method return, then ends the step with
:meth:`BaseRunningStep.closed_outcome` (``forced=False``); after ``close_timeout`` seconds, or
on ``force_close()``, it ends the step at once with ``forced=True`` and discards whatever the
stage method returns later. A stage method still running after that is logged as a warning
naming the step and its thread.

Bugs. A stage method (or ``closed_outcome``) that raises, or returns an outcome the lifecycle
does not allow, crashes the step: the base calls ``closed_outcome(stage, forced=True)`` to let
it release what it holds (its result is discarded) and reports a
:class:`~arcaflow_steps.ProviderBugError` with the traceback; the runner ends the step in a
fatal terminal stage (or, without one, the first terminal stage reachable), without output,
with the error — ``arcaflow-steps run`` exits 3.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ._errors import quote, quote_sorted
from ._lifecycle import Lifecycle, LifecycleStageWithSchema
from ._outcomes import STAGE_MARK, Finish, Outcome, WaitForInput
from ._protocols import RunningStepState
from ._rules import rules_for
from ._step_book import Action, CloseMode, StepBook
from ._step_reports import Failure, StepReporter

if TYPE_CHECKING:
    from ._protocols import StageChangeHandler

__all__ = ["BaseRunningStep"]

_log: Final = logging.getLogger("arcaflow_steps.authoring")


class BaseRunningStep(abc.ABC):
    """A running step that does the bookkeeping; subclasses write one method per stage.

    Subclasses call ``super().__init__()``, mark stage methods with :func:`on_stage` and
    implement :meth:`closed_outcome`. :class:`SimpleRunnableStep` (or your own runnable) calls
    :meth:`bind` and :meth:`begin`. The base keeps its state in name-mangled attributes, which
    a subclass cannot shadow by accident.

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
                stage = getattr(value, STAGE_MARK, None)
                if stage is not None:
                    methods[stage] = name
        cls.__stage_methods = methods

    def __init__(self) -> None:
        self.__book = StepBook()
        self.__reporter = StepReporter(self, self.__book, self.closed_outcome)
        self.__thread: threading.Thread | None = None

    # -- wiring (called by the runnable) -----------------------------------------------------

    def bind(
        self,
        handler: StageChangeHandler,
        lifecycle: Lifecycle[LifecycleStageWithSchema],
        run_id: str,
    ) -> None:
        """Attach the handler to report to and the lifecycle to obey (before :meth:`begin`)."""
        self.__reporter.handler = handler
        self.__reporter.run_id = run_id
        self.__book.rules = rules_for(lifecycle)

    def begin(self) -> None:
        """Enter the initial stage and run as far as possible without blocking (or start the
        step's thread when ``blocking``)."""
        book = self.__book
        if book.rules is None:
            raise RuntimeError("bind() must be called before begin()")
        with book.lock:
            if not book.take_token():
                return
        if self.blocking:
            self.__thread = threading.Thread(
                target=self.__loop, name=f"arcaflow-steps-step-{self.run_id}", daemon=True
            )
            self.__thread.start()
        else:
            self.__loop()

    # -- for stage methods -------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """Return the id the runner gave this execution."""
        return self.__reporter.run_id

    @property
    def is_closing(self) -> bool:
        """Return whether ``close()`` or ``force_close()`` was called."""
        with self.__book.lock:
            return self.__book.close is not CloseMode.NONE

    def stage_input(self, stage: str) -> Mapping[str, Any] | None:
        """Return the input provided for ``stage`` so far, or ``None``."""
        with self.__book.lock:
            return self.__book.inputs.get(str(stage))

    def wait_for_input(self, stage: str) -> WaitForInput:
        """Return the outcome that waits for ``stage``'s input, then runs this stage again.

        The step reports ``waiting_for_input`` meanwhile; the input (or a close) wakes it at
        once — no polling. Works for blocking and non-blocking steps alike.
        """
        return WaitForInput(stage=str(stage))

    def set_waiting_for_input(self, waiting: bool) -> None:
        """Say whether a (blocking) stage method is blocked on input right now.

        Only ``state()`` changes (``waiting_for_input`` or ``running``), which is what deadlock
        detection and progress display read; no callback is made.
        """
        book = self.__book
        with book.lock:
            if not book.finished and book.stage is not None:
                book.state = (
                    RunningStepState.WAITING_FOR_INPUT if waiting else RunningStepState.RUNNING
                )

    def sleep(self, seconds: float, *, wake_on_input: bool = False) -> bool:
        """Sleep up to ``seconds``; return ``False`` early when the step is closing.

        With ``wake_on_input``, also return (``True``) as soon as any stage input arrives, so
        a blocking method that also watches something else (a file, a terminal) sees late
        input at once instead of at its next poll.
        """
        book = self.__book
        with book.lock:
            count = book.input_count

            def woken() -> bool:
                return book.close is not CloseMode.NONE or (
                    wake_on_input and book.input_count != count
                )

            book.condition().wait_for(woken, seconds)
            return book.close is CloseMode.NONE

    @abc.abstractmethod
    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """Return how the step ends when closed in ``stage`` (a ``Finish`` allowed from it).

        Release what the step holds here (kill a process, abort a request). It is also called
        with ``forced=True`` after a crash, to release; its result is then discarded.
        """

    # -- RunningStep -------------------------------------------------------------------------

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Record ``stage``'s input and make progress with it.

        A stage may get its input in several calls (the runner gives what the step definition
        set at start, someone else the rest later); the fields are merged, and stage methods
        see the merged mapping. A stage counts as having its input from the first call.

        Raises:
            StageInputError: the stage is not declared, a field is not one of its input fields,
                a field was already provided, or the step has finished.
        """
        book = self.__book
        stage = str(stage)
        book.check_input(self.run_id, stage, input)
        with book.lock:
            take = book.add_input(self.run_id, stage, input)
        if take:
            self.__loop()

    def current_stage(self) -> str:
        """Return the current stage (the initial stage before the step entered it)."""
        book = self.__book
        with book.lock:
            if book.stage is not None:
                return book.stage
        return book.bound_rules().table.initial_stage

    def state(self) -> RunningStepState:
        """Return the state: starting, waiting for input, running or finished."""
        with self.__book.lock:
            return self.__book.state

    def close(self) -> None:
        """End the step gracefully (bounded by ``close_timeout``); idempotent."""
        book = self.__book
        with book.lock:
            book.close = max(book.close, CloseMode.GRACEFUL)
            book.notify()
            take = book.take_token()
        if take:
            self.__loop()
        elif book.loop_thread == threading.get_ident():
            return  # called from inside this step's own loop (a handler's observer): it closes
        with book.lock:
            done = book.condition().wait_for(lambda: book.done, self.close_timeout)
        if not done:
            self.__reporter.force_finish()
        self.__join()

    def force_close(self) -> None:
        """End the step at once; idempotent."""
        book = self.__book
        with book.lock:
            book.close = CloseMode.FORCED
            book.notify()
        self.__reporter.force_finish()
        self.__join()

    # -- the loop ----------------------------------------------------------------------------

    def __loop(self) -> None:
        """Make progress until blocked or done; the caller holds the busy token."""
        book = self.__book
        book.loop_thread = threading.get_ident()  # only the token holder writes it
        try:
            while True:
                with book.lock:
                    action, stage = book.decide()
                    if action is Action.WAIT and self.blocking:
                        book.condition().wait()
                        continue
                    if action in (Action.WAIT, Action.DONE):
                        book.busy = False
                        book.loop_thread = None
                        return
                    inputs = book.inputs.get(stage, {}) if stage is not None else {}
                    forced = book.close is CloseMode.FORCED
                if action is Action.ENTER:
                    self.__reporter.enter_initial()
                elif action is Action.CLOSE:
                    assert stage is not None
                    self.__reporter.apply(stage, self.__reporter.closed(stage, forced=forced), None)
                else:
                    assert stage is not None
                    name = self.__stage_methods.get(stage)
                    self.__reporter.apply(stage, self.__run_stage(stage, name, inputs), name)
        except BaseException:
            with book.lock:
                book.busy = False
                book.loop_thread = None
            raise

    def __run_stage(
        self, stage: str, name: str | None, inputs: Mapping[str, Any]
    ) -> Outcome | Failure:
        if name is None:
            return Failure(
                what=f"{type(self).__name__} has no method for stage {quote(stage)}; stages with "
                f"methods: {quote_sorted(self.__stage_methods)}"
            )
        try:
            outcome: Outcome = getattr(self, name)(inputs)
        except Exception as exc:
            return Failure(what=f"stage method {name}() raised {exc!r}", cause=exc)
        return outcome

    def __join(self) -> None:
        thread = self.__thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(self.close_timeout)
        if thread.is_alive():
            _log.warning(
                "step %r: a stage method did not return within %g s of close(); the step "
                "ended without it and its thread %r is left running",
                self.run_id,
                self.close_timeout,
                thread.name,
            )
