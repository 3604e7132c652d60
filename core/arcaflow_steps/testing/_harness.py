"""Starting a provider's step the way the runner would, and recording what it does.

:class:`StartedStep` starts one execution of a prepared case with a
:class:`~arcaflow_steps.testing.RecordingStageChangeHandler` and offers bounded ``close()`` /
``force_close()`` calls from another thread; :meth:`StartedStep.wait` returns a
:class:`~arcaflow_steps.testing.StepOutcome` whose assertion helpers print the stage history
on failure.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from .._errors import quote
from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from .._protocols import RunningStep, RunningStepState
from .._rules import rules_for
from ._cases import ConformanceCase, PreparedCase, StepOutcome
from ._history import Rule
from ._recording import RecordingStageChangeHandler

__all__ = ["KIT_THREAD_PREFIX", "StartedStep", "call_bounded"]

#: Threads the kit starts are named with this prefix (and never count as leaked).
KIT_THREAD_PREFIX: Final = "arcaflow-steps-testing-"
#: How long threads a step started may take to end after ``close()`` returned.
THREAD_GRACE: Final = 1.0

_run_numbers = itertools.count(1)


def call_bounded(
    function: Callable[[], object], timeout: float, name: str
) -> tuple[bool, BaseException | None, float]:
    """Call ``function`` on a new kit thread; return (returned in time, error, seconds taken)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            function()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name=KIT_THREAD_PREFIX + name, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout)
    returned = not thread.is_alive()
    return returned, (errors[0] if errors else None), time.monotonic() - started


def _is_error_output(
    lifecycle: Lifecycle[LifecycleStageWithSchema], stage: str, output_id: str | None
) -> bool:
    """Apply the runner's error-output rule (one authority: ``LifecycleRules``)."""
    return rules_for(lifecycle).is_error_output(stage, output_id)


class StartedStep:
    """One execution started by the kit: the running step, its recorder and helpers.

    Thread safety: safe to share; ``close()``/``force_close()`` may be called from any thread.
    """

    def __init__(self, prepared: PreparedCase, *, withhold: Collection[str] = ()) -> None:
        self.prepared: Final = prepared
        self.kind: Final = prepared.provider.kind
        self.run_id: Final = f"{prepared.case.id}-{next(_run_numbers)}"
        self.handler: Final = RecordingStageChangeHandler(
            lifecycle=prepared.lifecycle, step_id=self.run_id
        )
        self._threads_before = {thread.ident for thread in threading.enumerate()}
        # Guards _provided (stage inputs handed over so far).
        self._lock = threading.Lock()
        self._provided: set[str] = set()
        self.running: RunningStep = prepared.runnable.start(
            prepared.run_input, self.handler, self.run_id
        )
        for stage in prepared.stage_inputs:
            if stage not in withhold:
                try:
                    self.provide_stage_input(stage)
                except Exception as exc:  # the runner would end such a step; so do we
                    self.handler.add_violation(
                        Rule.CASE, f"provide_stage_input({quote(stage)}, ...) raised {exc!r}"
                    )
                    self.close(force=True)
                    break

    @property
    def case(self) -> ConformanceCase:
        """Return the case this execution runs."""
        return self.prepared.case

    def provide_stage_input(self, stage: str, input: Mapping[str, Any] | None = None) -> None:
        """Give ``stage`` its input (the case's input when ``input`` is None), recorded."""
        value = self.prepared.stage_inputs.get(stage, {}) if input is None else input
        with self._lock:
            self._provided.add(stage)
        self.handler.record_action(f"provide_stage_input({quote(stage)}, {value!r})")
        self.running.provide_stage_input(stage, value)

    def wait_for_stage(self, stage: str, timeout: float | None = None) -> bool:
        """Wait until the step entered ``stage``; False when it completed or timed out first."""
        return self.handler.wait_for_stage(stage, self.case.timeout if timeout is None else timeout)

    def close(self, *, force: bool = False, rule: Rule | None = None) -> bool:
        """Call ``close()`` (or ``force_close()``) on a kit thread, bounded by the case.

        Records a violation of ``rule`` (CLOSE / FORCE_CLOSE by default) when the call raises
        or does not return within ``close_timeout``; returns whether it returned cleanly.
        """
        name = "force_close" if force else "close"
        rule = rule or (Rule.FORCE_CLOSE if force else Rule.CLOSE)
        function = self.running.force_close if force else self.running.close
        self.handler.record_action(f"{name}() from thread {KIT_THREAD_PREFIX}{name}")
        returned, error, took = call_bounded(function, self.case.close_timeout, name)
        if not returned:
            self.handler.add_violation(
                rule,
                f"{name}() did not return within {self.case.close_timeout} s "
                f"(stage {self.handler.current_stage()!r})",
            )
            return False
        if error is not None:
            self.handler.add_violation(rule, f"{name}() raised {error!r}")
            return False
        self.handler.record_action(f"{name}() returned after {took:.3f}s")
        return True

    def state(self) -> RunningStepState | None:
        """Return ``state()`` of the step, or None (recording a violation) when it raises."""
        try:
            return self.running.state()
        except Exception as exc:
            self.handler.add_violation(Rule.WAITING_FOR_INPUT, f"state() raised {exc!r}")
            return None

    def wait(self, timeout: float | None = None, *, close: bool = True) -> StepOutcome:
        """Wait until the step completed, then (``close``) close it and check for leaked threads.

        A step that does not complete in time is recorded as a violation and force-closed. A
        case with ``close_after`` is closed after that many seconds instead.
        """
        limit = self.case.timeout if timeout is None else timeout
        close_after = self.case.close_after
        if close_after is not None and not self.handler.wait_for_completion(close_after):
            self.handler.record_action(f"closing after {close_after} s, as the case says")
            self.close()
            limit = self.case.close_timeout
        if not self.handler.wait_for_completion(limit):
            self.handler.add_violation(
                Rule.ONE_TERMINAL_STAGE,
                f"did not reach a terminal stage within {limit} s; it is in stage "
                f"{self.handler.current_stage()!r} (state {self.state()!s})",
            )
            self.close(force=True)
            self.handler.wait_for_completion(self.case.close_timeout)
        if close:
            self.close()
            self.check_threads()
        return self.outcome()

    def check_threads(self, grace: float = THREAD_GRACE) -> None:
        """Record a violation for threads started since ``start()`` still alive after ``grace``."""
        deadline = time.monotonic() + grace
        while True:
            leaked = [
                thread
                for thread in threading.enumerate()
                if thread.ident not in self._threads_before
                and not thread.name.startswith(KIT_THREAD_PREFIX)
                and thread.is_alive()
            ]
            if not leaked or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if leaked:
            names = ", ".join(sorted(repr(thread.name) for thread in leaked))
            self.handler.add_violation(
                Rule.NO_THREAD_LEFT,
                f"{len(leaked)} thread(s) started by the step still running {grace} s after "
                f"close() returned: {names}",
            )

    def outcome(self) -> StepOutcome:
        """Return what the step did so far."""
        completion = self.handler.completion()
        stage = None if completion is None else completion.stage
        output_id = None if completion is None else completion.output_id
        return StepOutcome(
            kind=self.kind,
            case_id=self.case.id,
            records=self.handler.records(),
            violations=self.handler.violations(),
            history=self.handler.format_history(),
            stage=stage,
            output_id=output_id,
            output_data=None if completion is None else completion.output,
            is_error=stage is not None
            and _is_error_output(self.prepared.lifecycle, stage, output_id),
            state=self.state(),
        )


StartedStep.__module__ = "arcaflow_steps.testing"
