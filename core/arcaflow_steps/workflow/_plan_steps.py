"""Planning the steps of a workflow: split each definition, load its runnable, prepare it.

Theory of operation: a step definition is the flat mapping the user wrote (``kind``, the
provider keyword, the run keyword, stage input fields), its values templates. A stage with an
expression anywhere in its fields is *deferred* (the executor provides it when its
dependencies resolved); every other stage is literal and is validated here, like a step of
``arcaflow-steps run``. :func:`~arcaflow_steps._step_definition.prepare_step` does the
splitting, validation and loading, told which stages are deferred.

Loading a runnable can take long (a plugin step deploys the plugin to read its schema), so
steps are loaded concurrently: one step per distinct ``(kind, provider keyword, schema hints)``
goes to a thread pool (the *representatives*), then every step is prepared in file order,
the representatives' results reused and the others served by the :class:`RunnableCache` the
representatives filled. 32 distinct plugins probe side by side; 1,000 steps of one plugin probe
once. The first problem in file order is raised.

Thread safety: :func:`plan_steps` is safe to call from any thread.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
from collections.abc import Mapping
from typing import Any, Final

from .._entry_points import DEFAULT_KIND, KIND_KEY
from .._errors import (
    ArcaflowStepsError,
    SchemaValidationError,
    StepDefinitionError,
    UnknownKindError,
)
from .._provider_rules import schema_hint_fields
from .._schema._validate import describe_value
from .._step_definition import RunnableCache, _canonical, prepare_step
from ._context import WorkflowContext, workflow_context
from ._errors import InvalidWorkflowError
from ._plan_records import PlannedStep
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional, is_literal

__all__ = ["plan_steps", "problems_error"]

#: At most this many runnables load at once (each may deploy a plugin for its schema).
MAX_CONCURRENT_LOADS: Final = 32


def problems_error(
    error: SchemaValidationError, *, path: str, source: str | None
) -> InvalidWorkflowError:
    """Return the workflow error for a validation error whose problems have file paths."""
    problems = error.problems
    if len(problems) == 1:
        return InvalidWorkflowError(problems[0].message, path=problems[0].path, source=source)
    lines = "".join(f"\n  {problem.path}: {problem.message}" for problem in problems)
    return InvalidWorkflowError(f"{len(problems)} problems:{lines}", path=path, source=source)


def _describe(value: Any) -> str:
    if isinstance(value, Expr | OneOf | WaitOptional | SoftOptional):
        return "an expression"
    return describe_value(value)


class _StepLoader:
    """Loads the steps of one workflow (one planning call).

    Thread safety: :meth:`prepare` is safe to call from several threads at once.
    """

    def __init__(self, context: WorkflowContext, source: str) -> None:
        self.context = context
        self.source = source
        # One cache per planning call: runnables of a provider keyword relative to the
        # context (foreach's ``workflow``) must not be shared across contexts.
        self.cache = RunnableCache()
        # kind -> (stage id, its input fields) of the provider's lifecycle, read once.
        self._stage_fields: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {}

    def error(self, problem: str, path: str) -> InvalidWorkflowError:
        return InvalidWorkflowError(problem, path=path, source=self.source)

    def definition(self, step_id: str, raw: Mapping[str, Template]) -> Mapping[str, Template]:
        """Return the definition with the host's defaults applied; check ``kind``."""
        path = f"steps.{step_id}"
        kind = raw.get(KIND_KEY, DEFAULT_KIND)
        if not isinstance(kind, str):
            raise self.error(f"'kind' must be a literal string, got {_describe(kind)}", path)
        if self.context.step_defaults is None:
            return raw
        return self.context.step_defaults(step_id, kind, raw)

    def key(self, definition: Mapping[str, Template]) -> str:
        """Return what decides the runnable a definition loads (kind, keyword, hints)."""
        kind = definition.get(KIND_KEY, DEFAULT_KIND)
        try:
            provider = self.context.registry.get(kind)
        except UnknownKindError:
            return _canonical([kind])
        hints = sorted(schema_hint_fields(provider) & set(definition))
        return _canonical(
            [
                kind,
                definition.get(provider.provider_keyword),
                [[hint, definition[hint]] for hint in hints],
            ]
        )

    def prepare(self, step_id: str, definition: Mapping[str, Template]) -> PlannedStep:
        """Return the step planned: split, checked, its runnable loaded."""
        path = f"steps.{step_id}"
        kind: str = definition.get(KIND_KEY, DEFAULT_KIND)
        try:
            provider = self.context.registry.get(kind)
        except UnknownKindError as exc:
            # A blocked kind says so (BlockedKindError), not merely "unknown".
            unknown = type(exc)(exc.kind, exc.valid_kinds, step_id=step_id)
            raise self.error(str(unknown), f"{path}.{KIND_KEY}") from None
        for role, keyword in (
            ("provider keyword", provider.provider_keyword),
            ("run keyword", provider.run_keyword),
        ):
            if keyword in definition and not is_literal(definition[keyword]):
                raise self.error(
                    f"the {role} {keyword!r} of kind {kind!r} must be a literal value, "
                    "not an expression",
                    f"{path}.{keyword}",
                )
        stage_fields = self._stage_fields.get(kind)
        if stage_fields is None:  # a race computes it twice, harmlessly
            stage_fields = tuple(
                (str(stage.id), stage.input_fields) for stage in provider.lifecycle().stages
            )
            self._stage_fields[kind] = stage_fields
        deferred_inputs: dict[str, dict[str, Template]] = {}
        for stage_id, fields in stage_fields:
            given = {field: definition[field] for field in fields if field in definition}
            if not all(is_literal(value) for value in given.values()):
                deferred_inputs[stage_id] = given
        try:
            with workflow_context(self.context):
                prepared = prepare_step(
                    self.context.registry,
                    step_id,
                    definition,
                    path=path,
                    cache=self.cache,
                    deferred_stages=frozenset(deferred_inputs),
                )
        except StepDefinitionError as exc:
            raise self.error(exc.problem, exc.path or path) from None
        except SchemaValidationError as exc:
            raise problems_error(exc, path=path, source=self.source) from None
        except InvalidWorkflowError:
            raise  # a sub-workflow's problem (foreach) says where it is itself
        except ArcaflowStepsError as exc:
            raise self.error(str(exc), path) from exc
        return PlannedStep(
            step_id=step_id,
            kind=kind,
            path=path,
            prepared=prepared,
            deferred_inputs=deferred_inputs,
        )


def plan_steps(
    steps: Mapping[str, Mapping[str, Template]], context: WorkflowContext, *, source: str
) -> dict[str, PlannedStep]:
    """Return every step planned, in file order; raise the first problem in file order.

    Raises:
        InvalidWorkflowError: a step cannot be planned (with its path in the file).
    """
    loader = _StepLoader(context, source)
    definitions: dict[str, Mapping[str, Template]] = {}
    representatives: dict[str, str] = {}  # key -> the first step id with it
    for step_id, raw in steps.items():
        try:
            definition = definitions[step_id] = loader.definition(step_id, raw)
        except InvalidWorkflowError:
            break  # raised again below, in file order
        representatives.setdefault(loader.key(definition), step_id)
    early: dict[str, PlannedStep | InvalidWorkflowError] = {}
    if len(representatives) > 1:
        early = _prepare_concurrently(loader, definitions, list(representatives.values()))
    planned: dict[str, PlannedStep] = {}
    for step_id, raw in steps.items():
        definition = (
            definitions[step_id] if step_id in definitions else loader.definition(step_id, raw)
        )
        result = early.get(step_id)
        if isinstance(result, InvalidWorkflowError):
            raise result
        planned[step_id] = result or loader.prepare(step_id, definition)
    return planned


def _prepare_concurrently(
    loader: _StepLoader, definitions: Mapping[str, Mapping[str, Template]], step_ids: list[str]
) -> dict[str, PlannedStep | InvalidWorkflowError]:
    results: dict[str, PlannedStep | InvalidWorkflowError] = {}
    workers = min(MAX_CONCURRENT_LOADS, len(step_ids))
    with concurrent.futures.ThreadPoolExecutor(workers, "arcaflow-plan") as pool:
        # Each load runs in a copy of the caller's context variables: a provider that plans a
        # sub-workflow (foreach) keeps what it tracks across nesting levels there.
        futures = {
            step_id: pool.submit(
                contextvars.copy_context().run, loader.prepare, step_id, definitions[step_id]
            )
            for step_id in step_ids
        }
        for step_id, future in futures.items():
            try:
                results[step_id] = future.result()
            except InvalidWorkflowError as exc:
                results[step_id] = exc
    return results
