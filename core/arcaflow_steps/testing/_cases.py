"""Conformance cases: a step definition plus what the author expects, prepared like ``run``.

A :class:`ConformanceCase` is a step definition (what a user writes after ``kind:``) plus what
the author expects. :func:`prepare_case` checks the provider's schemas with the one rule set
``check`` and ``run`` use, splits the definition by the provider's keywords into provider
input, run input and stage inputs, validates each and loads the runnable step.
:class:`StepOutcome` is what an execution did, with assertion helpers that print the stage
history on failure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import ArcaflowStepsError, quote, quote_sorted
from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from .._protocols import AnyProvider, Provider, RunnableStep, RunningStepState
from .._schema import validate_properties
from .._schema_rules import lifecycle_schema_problems, properties_problems
from ._history import RecordKind, Rule, StepRecord, Violation

if TYPE_CHECKING:
    from ._harness import StartedStep

__all__ = [
    "ConformanceCase",
    "ConformanceError",
    "PreparedCase",
    "StepOutcome",
    "as_any_provider",
    "prepare_case",
]


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
        from ._harness import StartedStep  # the harness runs what a case prepared

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


for _cls in (ConformanceError, ConformanceCase, StepOutcome, PreparedCase):
    _cls.__module__ = "arcaflow_steps.testing"
