"""Starting a provider's step the way the runner would, and recording what it does.

A :class:`ConformanceCase` is a step definition (what a user writes after ``kind:``) plus what
the author expects. :func:`prepare_case` splits it by the provider's keywords into provider
input, run input and stage inputs, validates each against the provider's schemas and loads the
runnable step. :class:`StartedStep` starts one execution with a
:class:`~arcaflow_steps.testing.RecordingStageChangeHandler` and offers bounded ``close()`` /
``force_close()`` calls from another thread; :meth:`StartedStep.wait` returns a
:class:`StepOutcome` whose assertion helpers print the stage history on failure.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final

import attrs

from .._errors import ArcaflowStepsError, quote, quote_sorted
from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from .._protocols import AnyProvider, Provider, RunnableStep, RunningStep, RunningStepState
from .._rules import rules_for
from .._schema import validate_properties
from .._schema_rules import lifecycle_schema_problems, properties_problems
from ._recording import RecordingStageChangeHandler, RecordKind, Rule, StepRecord, Violation

__all__ = [
    "KIT_THREAD_PREFIX",
    "ConformanceCase",
    "ConformanceError",
    "PreparedCase",
    "StartedStep",
    "StepOutcome",
    "as_any_provider",
    "prepare_case",
]

#: Threads the kit starts are named with this prefix (and never count as leaked).
KIT_THREAD_PREFIX: Final = "arcaflow-steps-testing-"
#: How long threads a step started may take to end after ``close()`` returned.
THREAD_GRACE: Final = 1.0

_run_numbers = itertools.count(1)


class ConformanceError(ArcaflowStepsError, AssertionError):
    """A provider broke one or more conformance rules; the message shows the stage history.

    It is an ``AssertionError``, so pytest reports it as a test failure.
    """

    def __init__(
        self,
        kind: str,
        violations: Iterable[Violation],
        *,
        case_id: str | None = None,
        history: str = "",
    ) -> None:
        self.kind = kind
        self.violations = tuple(violations)
        self.case_id = case_id
        self.history = history
        where = f" in case {case_id!r}" if case_id is not None else ""
        count = len(self.violations)
        head = (
            f"provider {kind!r}{where} breaks the rule: {self.violations[0]}"
            if count == 1
            else f"provider {kind!r}{where} breaks {count} rules:\n"
            + "\n".join(f"  {violation}" for violation in self.violations)
        )
        super().__init__(f"{head}\n{history}" if history else head)

    @property
    def rules(self) -> frozenset[Rule]:
        """Return the rules that were broken."""
        return frozenset(violation.rule for violation in self.violations)


@attrs.frozen(kw_only=True)
class ConformanceCase:
    """One way to run a provider: a step definition and what the author expects of it.

    ``definition`` is the step definition without ``kind``: the provider keyword, the run
    keyword and stage input fields, exactly as a user writes them in a step file.

    Thread safety: safe to share (immutable).
    """

    #: Names the case in messages and test ids.
    id: str
    definition: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    #: The terminal stage the step must end in, when it runs undisturbed.
    expected_stage: str | None = None
    #: The output id it must end with, when it runs undisturbed.
    expected_output_id: str | None = None
    #: Seconds the step may take to complete when it runs undisturbed.
    timeout: float = 10.0
    #: Seconds ``close()``/``force_close()`` may take, and the step to complete after them.
    close_timeout: float = 5.0
    #: For a step that works until it is closed (``sleep 600``, a gate nobody answers): the
    #: seconds after which the kit closes an otherwise undisturbed run. The run then must end
    #: in ``expected_stage`` as any other.
    close_after: float | None = None


@attrs.frozen(kw_only=True)
class StepOutcome:
    """What one execution did, with assertion helpers that print the stage history on failure.

    Thread safety: safe to share (immutable).
    """

    kind: str
    case_id: str
    records: tuple[StepRecord, ...]
    violations: tuple[Violation, ...]
    #: The stage history as text (see :meth:`RecordingStageChangeHandler.format_history`).
    history: str
    #: The terminal stage the step completed in, or None when it never completed.
    stage: str | None
    output_id: str | None
    output_data: Any = attrs.field(eq=False, hash=False)
    #: Whether the output is an error output (its schema's ``error`` flag, or id ``error``).
    is_error: bool
    #: ``state()`` of the step when it was last asked.
    state: RunningStepState | None

    @property
    def stages_entered(self) -> tuple[str, ...]:
        """Return the stages the step entered, in order."""
        return tuple(
            str(record.stage) for record in self.records if record.kind is RecordKind.STAGE_CHANGE
        )

    def fail(self, rule: Rule, message: str) -> ConformanceError:
        """Return a :class:`ConformanceError` for this outcome (raise it)."""
        violation = Violation(rule=rule, message=message)
        return ConformanceError(self.kind, [violation], case_id=self.case_id, history=self.history)

    def assert_conforms(self, *rules: Rule) -> None:
        """Raise unless no rule (or none of ``rules``, when given) was broken."""
        broken = [v for v in self.violations if not rules or v.rule in rules]
        if broken:
            raise ConformanceError(self.kind, broken, case_id=self.case_id, history=self.history)

    def assert_completed(self) -> None:
        """Raise unless the step conforms and completed in a terminal stage."""
        self.assert_conforms()
        if self.stage is None:
            raise self.fail(Rule.ONE_TERMINAL_STAGE, "the step never completed")

    def assert_output(
        self, output_id: str, *, stage: str | None = None, data: Any = attrs.NOTHING
    ) -> None:
        """Raise unless the step conforms and completed with ``output_id`` (and ``data``)."""
        self.assert_completed()
        if stage is not None and stage != self.stage:
            raise self.fail(
                Rule.CASE, f"expected terminal stage {quote(stage)}, got {quote(self.stage)}"
            )
        if output_id != self.output_id:
            raise self.fail(Rule.CASE, f"expected output {output_id!r}, got {self.output_id!r}")
        if data is not attrs.NOTHING and data != self.output_data:
            raise self.fail(Rule.CASE, f"expected output data {data!r}, got {self.output_data!r}")

    def assert_success(self, output_id: str | None = None) -> None:
        """Raise unless the step conforms and completed with a non-error output."""
        self.assert_completed()
        if self.output_id is None or self.is_error:
            raise self.fail(
                Rule.CASE,
                f"expected a successful output, got {self.output_id!r} in stage "
                f"{quote(self.stage)}",
            )
        if output_id is not None:
            self.assert_output(output_id)

    def assert_error(self, output_id: str | None = None) -> None:
        """Raise unless the step conforms and completed with an error output."""
        self.assert_completed()
        if not self.is_error:
            raise self.fail(
                Rule.CASE,
                f"expected an error output, got {self.output_id!r} in stage {quote(self.stage)}",
            )
        if output_id is not None:
            self.assert_output(output_id)


def as_any_provider(provider: Provider[Any] | AnyProvider) -> AnyProvider:
    """Return the untyped face of ``provider`` (``provider.any()`` when it has one)."""
    to_any = getattr(provider, "any", None)
    if callable(to_any):
        result: AnyProvider = to_any()
        return result
    return provider


@attrs.frozen(kw_only=True)
class PreparedCase:
    """A case split and validated against the provider, with its runnable step loaded.

    Thread safety: safe to share (immutable; the runnable step is the provider's).
    """

    case: ConformanceCase
    provider: AnyProvider = attrs.field(eq=False)
    runnable: RunnableStep = attrs.field(eq=False)
    run_input: Mapping[str, Any] = attrs.field(hash=False)
    lifecycle: Lifecycle[LifecycleStageWithSchema]
    #: stage id -> validated stage input, for every stage with input fields (input-only stages
    #: included), possibly empty: what the runner provides right after ``start()``.
    stage_inputs: Mapping[str, Mapping[str, Any]] = attrs.field(hash=False)

    def start(self, *, withhold: Collection[str] = ()) -> StartedStep:
        """Start one execution; stage inputs follow at once, except those of ``withhold``."""
        return StartedStep(self, withhold=withhold)


def _case_error(
    kind: str, case: ConformanceCase, message: str, rule: Rule = Rule.CASE
) -> Exception:
    return ConformanceError(kind, [Violation(rule=rule, message=message)], case_id=case.id)


def _raise_schema_problems(kind: str, case: ConformanceCase, problems: list[str]) -> None:
    if problems:
        raise ConformanceError(
            kind,
            [Violation(rule=Rule.SCHEMAS, message=problem) for problem in problems],
            case_id=case.id,
        )


def prepare_case(provider: Provider[Any] | AnyProvider, case: ConformanceCase) -> PreparedCase:
    """Split ``case.definition`` by the provider's keywords, validate it and load the schema.

    Raises:
        ConformanceError: the definition does not fit the provider's schemas, or loading failed.
    """
    any_provider = as_any_provider(provider)
    kind = any_provider.kind
    definition = dict(case.definition)
    if definition.get("kind", kind) != kind:
        raise _case_error(kind, case, f"definition is for kind {definition['kind']!r}")
    definition.pop("kind", None)
    base = any_provider.lifecycle()
    keywords = {any_provider.provider_keyword, any_provider.run_keyword}
    fields = {field for stage in base.stages for field in stage.input_fields}
    unknown = sorted(set(definition) - keywords - fields)
    if unknown:
        raise _case_error(
            kind,
            case,
            f"definition has unknown key {unknown[0]!r}; valid keys: "
            f"{quote_sorted(keywords | fields)}",
        )
    provider_keyword = any_provider.provider_keyword
    provider_input = (
        {provider_keyword: definition[provider_keyword]} if provider_keyword in definition else {}
    )
    # The schemas are checked before any case value is validated against them (as run and
    # check do): a broken schema blames the provider, not the case.
    _raise_schema_problems(
        kind,
        case,
        properties_problems(
            "provider_schema()", any_provider.provider_schema(), [provider_keyword]
        ),
    )
    try:
        provider_input = validate_properties(any_provider.provider_schema(), provider_input)
        runnable = any_provider.load_schema(provider_input)
    except ArcaflowStepsError as exc:
        raise _case_error(kind, case, f"loading the schema failed: {exc}") from exc
    except Exception as exc:  # a bug in the provider: say where, keep the traceback as cause
        raise _case_error(
            kind, case, f"load_schema() raised {exc!r}; raise an ArcaflowStepsError instead"
        ) from exc
    run_keyword = any_provider.run_keyword
    run_input = {run_keyword: definition[run_keyword]} if run_keyword in definition else {}
    try:
        run_schema = runnable.run_schema()
    except Exception as exc:
        raise _case_error(kind, case, f"run_schema() raised {exc!r}", Rule.SCHEMAS) from exc
    _raise_schema_problems(
        kind, case, properties_problems("run_schema()", run_schema, [run_keyword])
    )
    try:
        run_input = validate_properties(run_schema, run_input)
        lifecycle = runnable.lifecycle(run_input)
    except ArcaflowStepsError as exc:
        raise _case_error(kind, case, f"the run input is not usable: {exc}") from exc
    except Exception as exc:
        raise _case_error(
            kind, case, f"run_schema() or lifecycle() raised {exc!r}", Rule.SCHEMAS
        ) from exc
    _raise_schema_problems(kind, case, lifecycle_schema_problems(lifecycle))
    stage_inputs: dict[str, Mapping[str, Any]] = {}
    for stage in lifecycle.stages:
        given = {field: definition[field] for field in stage.input_fields if field in definition}
        if not stage.input_fields:
            continue
        try:
            stage_inputs[str(stage.id)] = validate_properties(
                stage.input_schema, given, path=f"$.{stage.id}"
            )
        except ArcaflowStepsError as exc:
            raise _case_error(
                kind, case, f"stage input of {str(stage.id)!r} is invalid: {exc}"
            ) from exc
    return PreparedCase(
        case=case,
        provider=any_provider,
        runnable=runnable,
        run_input=run_input,
        lifecycle=lifecycle,
        stage_inputs=stage_inputs,
    )


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


for _cls in (ConformanceError, ConformanceCase, StepOutcome, PreparedCase, StartedStep):
    _cls.__module__ = "arcaflow_steps.testing"
