"""The conformance checks: one function per group of rules, usable without pytest.

Each check raises :class:`~arcaflow_steps.testing.ConformanceError` naming every broken rule,
the case and the stage history. The kit re-encodes no rule: kind, keywords and provider schema
are decided by the registry's ``validate_provider``, the lifecycle by
:meth:`~arcaflow_steps.Lifecycle.validate`, and every report of a running step by the runner's
own guard (through :class:`~arcaflow_steps.testing.RecordingStageChangeHandler`), which consults
the lifecycle's :class:`~arcaflow_steps._lifecycle.TransitionTable`. What the kit adds is
behaviour under test: it withholds input, closes from other threads and at every stage, and
watches threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Final

from .._errors import (
    ArcaflowStepsError,
    InvalidLifecycleError,
    InvalidProviderError,
)
from .._lifecycle import Lifecycle, LifecycleStage
from .._protocols import AnyProvider, Provider, RunningStepState
from .._provider_rules import adapt_provider, validate_provider
from .._schema_rules import lifecycle_schema_problems, properties_problems
from ._cases import (
    ConformanceCase,
    ConformanceError,
    PreparedCase,
    StepOutcome,
    as_any_provider,
    prepare_case,
)
from ._harness import KIT_THREAD_PREFIX, StartedStep
from ._history import RecordKind, Rule, Violation

__all__ = [
    "check_close",
    "check_conformance",
    "check_kind_and_keywords",
    "check_lifecycle",
    "check_schemas",
    "check_waiting_for_input",
    "run_case",
]

#: How long a step blocked on input must stay blocked before the kit gives it the input.
BLOCKED_FOR: Final = 0.2

ProviderLike = Provider[Any] | AnyProvider


def _raise_if(kind: str, violations: Sequence[Violation], **kwargs: Any) -> None:
    if violations:
        raise ConformanceError(kind, violations, **kwargs)


def check_kind_and_keywords(provider: ProviderLike) -> None:
    """Check the kind's syntax and that keywords and stage input fields are distinct.

    The provider keyword, the run keyword and every stage input field must be different from
    each other and from ``kind``. The registry's own rules decide
    (``arcaflow_steps._provider_rules.validate_provider``), so the kit and ``arcaflow-steps
    check`` never disagree; lifecycle problems are left to :func:`check_lifecycle`.
    """
    try:
        any_provider = adapt_provider(provider)
        validate_provider(any_provider)
    except InvalidLifecycleError:
        return
    except InvalidProviderError as exc:
        raise ConformanceError(
            exc.kind, [Violation(rule=Rule.KIND_AND_KEYWORDS, message=exc.reason)]
        ) from exc


def check_lifecycle(provider: ProviderLike) -> None:
    """Check the lifecycle is a DAG whose one root is the initial stage (core's own check)."""
    any_provider = as_any_provider(provider)
    lifecycle = any_provider.lifecycle()
    if not isinstance(lifecycle, Lifecycle) or not all(
        isinstance(stage, LifecycleStage) for stage in lifecycle.stages
    ):
        raise ConformanceError(
            any_provider.kind,
            [
                Violation(
                    rule=Rule.LIFECYCLE,
                    message="lifecycle() must return a Lifecycle of LifecycleStage records, got "
                    f"{lifecycle!r}",
                )
            ],
        )
    try:
        lifecycle.validate(any_provider.kind)
    except ArcaflowStepsError as exc:
        raise ConformanceError(
            any_provider.kind, [Violation(rule=Rule.LIFECYCLE, message=str(exc))]
        ) from exc


def _schema_violations(problems: Iterable[str]) -> list[Violation]:
    return [Violation(rule=Rule.SCHEMAS, message=problem) for problem in problems]


def check_schemas(provider: ProviderLike, cases: Sequence[ConformanceCase]) -> None:
    """Check the provider, run, stage input and output schemas, and that every case fits them.

    The schema-carrying lifecycle must be the provider's lifecycle (same stages, transitions
    and input fields); each stage describes exactly its input fields; outputs are
    ``StepOutputSchema`` records with a scope.
    """
    any_provider = as_any_provider(provider)
    kind = any_provider.kind
    problems: list[Violation] = []
    problems += _schema_violations(
        properties_problems(
            "provider_schema()", any_provider.provider_schema(), [any_provider.provider_keyword]
        )
    )
    _raise_if(kind, problems)
    base = any_provider.lifecycle()
    for case in cases:
        prepared = prepare_case(any_provider, case)
        problems += _schema_violations(
            properties_problems(
                "run_schema()", prepared.runnable.run_schema(), [any_provider.run_keyword]
            )
        )
        _check_lifecycle_with_schema(base, prepared, problems)
        _raise_if(kind, problems, case_id=case.id)


def _check_lifecycle_with_schema(
    base: Lifecycle[LifecycleStage], prepared: PreparedCase, problems: list[Violation]
) -> None:
    lifecycle = prepared.lifecycle
    if lifecycle.base() != base:
        problems.append(
            Violation(
                rule=Rule.SCHEMAS,
                message="RunnableStep.lifecycle() differs from Provider.lifecycle(): "
                f"{lifecycle.base()!r} != {base!r}",
            )
        )
    problems += _schema_violations(lifecycle_schema_problems(lifecycle))


def _start(prepared: PreparedCase, *, withhold: Iterable[str] = ()) -> StartedStep:
    try:
        return prepared.start(withhold=frozenset(withhold))
    except Exception as exc:
        raise ConformanceError(
            prepared.provider.kind,
            [Violation(rule=Rule.CASE, message=f"start() raised {exc!r}")],
            case_id=prepared.case.id,
        ) from exc


def run_case(provider: ProviderLike, case: ConformanceCase) -> StepOutcome:
    """Run ``case`` undisturbed and return what happened (violations recorded, not raised).

    The step gets all its stage inputs right after ``start()``, must complete within
    ``case.timeout``, is then closed, and must leave no thread behind. An outcome that differs
    from ``expected_stage``/``expected_output_id`` is recorded as a violation of the case.
    """
    started = _start(prepare_case(provider, case))
    started.wait()
    completion = started.handler.completion()
    if completion is not None:
        if case.expected_stage is not None and completion.stage != case.expected_stage:
            started.handler.add_violation(
                Rule.CASE,
                f"expected to end in stage {case.expected_stage!r}, ended in {completion.stage!r}",
            )
        if case.expected_output_id is not None and completion.output_id != case.expected_output_id:
            started.handler.add_violation(
                Rule.CASE,
                f"expected output {case.expected_output_id!r}, got {completion.output_id!r}",
            )
    return started.outcome()


def check_waiting_for_input(provider: ProviderLike, case: ConformanceCase) -> list[StepOutcome]:
    """Check that a step blocked on a stage's input says so and stays blocked until it arrives.

    For every stage with input that an undisturbed run of ``case`` enters, the kit runs the case
    again withholding that stage's input: on entering the stage the step must report
    ``waiting_for_input=True``, ``state()`` must be ``waiting_for_input`` and the step must not
    move on; once the input arrives it must complete.
    """
    prepared = prepare_case(provider, case)
    undisturbed = run_case(provider, case)
    undisturbed.assert_conforms()
    outcomes = []
    for stage in dict.fromkeys(undisturbed.stages_entered):
        if stage not in prepared.stage_inputs or prepared.lifecycle.stage(stage).input_only:
            continue
        started = _start(prepared, withhold=[stage])
        started.handler.record_action(f"withholding the input of {stage!r}")
        _check_blocked(started, stage)
        started.provide_stage_input(stage)
        outcome = started.wait()
        outcome.assert_conforms()
        outcomes.append(outcome)
    return outcomes


def _check_blocked(started: StartedStep, stage: str) -> None:
    handler = started.handler
    rule = Rule.WAITING_FOR_INPUT
    if not started.wait_for_stage(stage):
        handler.add_violation(rule, f"never entered {stage!r} while its input was withheld")
        return
    entering = next(
        record
        for record in handler.records()
        if record.kind is RecordKind.STAGE_CHANGE and record.stage == stage
    )
    if not entering.waiting_for_input:
        handler.add_violation(
            rule,
            f"entered {stage!r} without its input but reported waiting_for_input=False "
            f"(record {entering.sequence})",
        )
    time.sleep(BLOCKED_FOR)
    state = started.state()
    if handler.current_stage() != stage or handler.completion() is not None:
        handler.add_violation(
            rule,
            f"moved on from {stage!r} to {handler.current_stage()!r} without its input",
        )
    elif state is not RunningStepState.WAITING_FOR_INPUT:
        handler.add_violation(
            rule,
            f"state() is {state!s} while blocked in {stage!r} on its input; expected "
            f"{RunningStepState.WAITING_FOR_INPUT.value!r}",
        )


def check_close(
    provider: ProviderLike,
    case: ConformanceCase,
    *,
    force: bool = False,
    rules: Collection[Rule] = (),
) -> list[StepOutcome]:
    """Check ``close()`` (or ``force_close()``) from every stage an undisturbed run enters.

    For each point — right after ``start()``, on entering each non-terminal stage (held there by
    withholding its input where it takes one), and after completion — the kit calls the method
    twice at once from two other threads, then again, then the other method: every call must
    return within ``case.close_timeout`` without raising, the step must complete exactly once in
    a terminal stage, report nothing afterwards and leave no thread running. With ``rules``,
    only violations of those rules are raised.
    """
    prepared = prepare_case(provider, case)
    undisturbed = run_case(provider, case)
    terminal = prepared.lifecycle.terminal_stage_ids()
    points: list[str | None] = [None]
    points.extend(
        stage for stage in dict.fromkeys(undisturbed.stages_entered) if stage not in terminal
    )
    outcomes = []
    for point in points:
        held = [point] if point is not None and point in prepared.stage_inputs else []
        started = _start(prepared, withhold=held)
        if point is not None:
            started.wait_for_stage(point)
        outcomes.append(_close_twice(started, force=force, at=point))
    finished = _start(prepared)
    finished.wait(close=False)
    outcomes.append(_close_twice(finished, force=force, at="completion"))
    rule = Rule.FORCE_CLOSE if force else Rule.CLOSE
    for outcome in outcomes:
        broken = [v for v in outcome.violations if not rules or v.rule in rules]
        if broken:
            raise ConformanceError(
                outcome.kind,
                broken,
                case_id=f"{case.id}, {rule.name.lower()}",
                history=outcome.history,
            )
    return outcomes


def _close_twice(started: StartedStep, *, force: bool, at: str | None) -> StepOutcome:
    handler = started.handler
    handler.record_action(f"closing at {'start' if at is None else repr(at)}")
    results: list[bool] = []
    callers = [
        threading.Thread(
            target=lambda: results.append(started.close(force=force)),
            name=f"{KIT_THREAD_PREFIX}caller-{number}",
            daemon=True,
        )
        for number in (1, 2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(started.case.close_timeout * 2)
    rule = Rule.FORCE_CLOSE if force else Rule.CLOSE
    if not handler.wait_for_completion(started.case.close_timeout):
        handler.add_violation(
            rule,
            f"{'force_close' if force else 'close'}() returned but the step did not reach a "
            f"terminal stage within {started.case.close_timeout} s; it is in "
            f"{handler.current_stage()!r}",
        )
    started.close(force=force)
    started.close(force=not force, rule=rule)
    started.check_threads()
    time.sleep(0.02)  # anything reported after completion shows up as a violation
    return started.outcome()


def check_conformance(provider: ProviderLike, cases: Sequence[ConformanceCase]) -> None:
    """Run every check on ``provider`` with ``cases``; raise on the first broken rule."""
    check_kind_and_keywords(provider)
    check_lifecycle(provider)
    check_schemas(provider, cases)
    for case in cases:
        run_case(provider, case).assert_conforms()
        check_waiting_for_input(provider, case)
        check_close(provider, case)
        check_close(provider, case, force=True)
