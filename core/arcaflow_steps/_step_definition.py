"""Step definitions: from what a user writes after ``steps.<id>:`` to a :class:`PreparedStep`.

A step definition is a mapping with the keys ``kind`` (default ``plugin``), the provider keyword,
the run keyword(s) and the stage input fields of the provider's lifecycle. :func:`prepare_step`
splits it by those keys, validates each part against its schema and loads the runnable step.
Runnable steps are cached per ``(kind, provider input)``, so one schema load serves every step
that configures the provider the same way; lifecycles are cached per ``(runnable, run input)``.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, Protocol, TypeVar

import attrs

from ._entry_points import DEFAULT_KIND, KIND_KEY
from ._error_records import ValidationProblem
from ._errors import (
    InvalidProviderError,
    SchemaValidationError,
    StepDefinitionError,
    UnknownKindError,
    quote,
    quote_sorted,
)
from ._lifecycle import Lifecycle, LifecycleStageWithSchema
from ._protocols import AnyProvider, RunnableStep
from ._provider_rules import schema_hint_fields
from ._rules import LifecycleRules, rules_for
from ._schema import PropertySchema, StringEnumSchema, validate_properties
from ._schema._validate import describe_value
from ._schema_rules import lifecycle_schema_problems, properties_problems

__all__ = [
    "DEFAULT_KIND",
    "PreparedStep",
    "ProviderSource",
    "RunnableCache",
    "prepare_step",
]


_T = TypeVar("_T")


class ProviderSource(Protocol):
    """Where :func:`prepare_step` gets providers from (a ``Registry``, or a test's fake)."""

    def get(self, kind: str) -> AnyProvider:
        """Return the provider of ``kind``; raise ``UnknownKindError`` listing valid kinds."""


def _rules_of(step: PreparedStep) -> LifecycleRules:
    return rules_for(step.lifecycle)


@attrs.frozen(kw_only=True, eq=False)
class PreparedStep:
    """A validated step definition with its runnable step loaded, ready for the runner.

    Thread safety: safe to share (treat as immutable).
    """

    step_id: str
    kind: str
    runnable: RunnableStep
    #: The run keyword(s) and their validated values.
    run_input: Mapping[str, Any]
    lifecycle: Lifecycle[LifecycleStageWithSchema]
    #: stage id -> validated input fields, for every stage that declares input fields, in
    #: lifecycle order (fields the definition left out are absent, defaults applied).
    stage_inputs: Mapping[str, Mapping[str, Any]]
    #: ``{provider_keyword: value}`` as validated (what the runnable was loaded from).
    provider_input: Mapping[str, Any] = attrs.field(factory=dict)
    #: Where the definition lives, for messages (``$.steps.hello``).
    path: str = "$"
    #: The lifecycle's rules, computed once per lifecycle object.
    rules: LifecycleRules = attrs.field(
        init=False, default=attrs.Factory(_rules_of, takes_self=True), repr=False
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


@attrs.define
class _Slot:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    value: Any = None
    loaded: bool = False


def _checked_runnable(provider: AnyProvider, provider_input: Mapping[str, Any]) -> RunnableStep:
    """Load the runnable and check its run schema (once per cache entry)."""
    runnable = provider.load_schema(provider_input)
    problems = properties_problems("run_schema()", runnable.run_schema(), [provider.run_keyword])
    if problems:
        raise InvalidProviderError(provider.kind, "; ".join(problems))
    return runnable


def _checked_lifecycle(
    kind: str, runnable: RunnableStep, run_input: Mapping[str, Any]
) -> Lifecycle[LifecycleStageWithSchema]:
    """Return the lifecycle with schemas after checking them (once per cache entry)."""
    lifecycle = runnable.lifecycle(run_input)
    problems = lifecycle_schema_problems(lifecycle)
    if problems:
        raise InvalidProviderError(kind, "; ".join(problems))
    return lifecycle


class RunnableCache:
    """Runnable steps per ``(kind, provider input)`` and lifecycles per run input.

    A value is loaded once even when many threads ask for it at the same time; a failed load
    is not cached.

    Thread safety: safe to share.
    """

    def __init__(self) -> None:
        # Guards _slots (the slot's own lock guards its value while it loads).
        self._lock = threading.Lock()
        self._slots: dict[tuple[Any, ...], _Slot] = {}

    def _get(self, key: tuple[Any, ...], load: Callable[[], _T]) -> _T:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
        with slot.lock:
            if not slot.loaded:
                slot.value = load()
                slot.loaded = True
            value: _T = slot.value
            return value

    def runnable(self, provider: AnyProvider, provider_input: Mapping[str, Any]) -> RunnableStep:
        """Return the runnable step of ``provider`` for ``provider_input``, loading it once."""
        key = ("runnable", provider.kind, id(provider), _canonical(provider_input))
        return self._get(key, lambda: _checked_runnable(provider, provider_input))

    def lifecycle(
        self, runnable: RunnableStep, run_input: Mapping[str, Any], kind: str = "?"
    ) -> Lifecycle[LifecycleStageWithSchema]:
        """Return ``runnable.lifecycle(run_input)``, computed once per runnable and input."""
        key = ("lifecycle", id(runnable), _canonical(run_input))
        return self._get(key, lambda: _checked_lifecycle(kind, runnable, run_input))

    def clear(self) -> None:
        """Forget everything cached."""
        with self._lock:
            self._slots.clear()


_default_caches_lock: Final = threading.Lock()
_default_caches: weakref.WeakKeyDictionary[Any, RunnableCache] = weakref.WeakKeyDictionary()


def _cache_for(registry: ProviderSource) -> RunnableCache:
    with _default_caches_lock:
        try:
            cache = _default_caches.get(registry)
            if cache is None:
                cache = _default_caches[registry] = RunnableCache()
        except TypeError:  # not weak-referenceable: no sharing across calls
            return RunnableCache()
        return cache


def _definition_error(message: str, path: str) -> StepDefinitionError:
    return StepDefinitionError(message, path=path)


def prepare_step(
    registry: ProviderSource,
    step_id: str,
    definition: Mapping[str, Any],
    *,
    path: str | None = None,
    cache: RunnableCache | None = None,
    deferred_stages: Collection[str] = frozenset(),
) -> PreparedStep:
    """Validate a step definition, load its runnable step and return it prepared.

    ``path`` is where the definition lives, for messages (default ``$.steps.<step_id>``).
    ``cache`` defaults to one cache per registry. ``deferred_stages`` are stages whose input
    is given later, not from the definition (a workflow's stages with expressions in their
    fields): their fields are neither validated nor passed as schema hints, and the stages are
    left out of ``stage_inputs``.

    Raises:
        StepDefinitionError: the definition is not a mapping, ``kind`` is not a string, or a
            key is not valid for the kind (the message lists the valid keys).
        UnknownKindError: no provider implements ``kind`` (the message lists the valid kinds).
        SchemaValidationError: the provider keyword, run keyword(s) or stage input fields do
            not match their schemas (every problem, with its path).
    """
    where = f"$.steps.{step_id}" if path is None else path
    if not isinstance(definition, Mapping):
        raise _definition_error(
            f"step {step_id!r} must be a mapping, got {describe_value(definition)}", where
        )
    kind = definition.get(KIND_KEY, DEFAULT_KIND)
    if not isinstance(kind, str):
        raise _definition_error(
            f"'kind' of step {step_id!r} must be a string, got {describe_value(kind)}",
            f"{where}.kind",
        )
    try:
        provider = registry.get(kind)
    except UnknownKindError as exc:
        # A blocked kind says so (BlockedKindError), not merely "unknown".
        raise type(exc)(exc.kind, exc.valid_kinds, step_id=step_id) from None
    plain = provider.lifecycle()
    stage_fields = {field for stage in plain.stages for field in stage.input_fields}
    keyword = provider.provider_keyword
    known = {KIND_KEY, keyword, provider.run_keyword, *stage_fields}
    unknown = sorted(str(key) for key in definition if key not in known)

    provider_input = validate_properties(
        provider.provider_schema(),
        {keyword: definition[keyword]} if keyword in definition else {},
        path=where,
    )
    cache = _cache_for(registry) if cache is None else cache
    deferred_fields = {
        field
        for stage in plain.stages
        if str(stage.id) in deferred_stages
        for field in stage.input_fields
    }
    hints = {
        field: definition[field]
        for field in schema_hint_fields(provider)
        if field in stage_fields and field in definition and field not in deferred_fields
    }
    runnable = cache.runnable(provider, {**provider_input, **hints})
    run_schema = runnable.run_schema()
    if unknown:
        known |= set(run_schema)
        unknown = [key for key in unknown if key not in known]
        if unknown:
            raise _definition_error(
                f"unknown key{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(key) for key in unknown)} in step {step_id!r} of kind "
                f"{kind!r}; valid keys: {quote_sorted(known)}",
                where,
            )
    problems: list[ValidationProblem] = []
    run_input = _collect(
        problems,
        run_schema,
        {key: definition[key] for key in run_schema if key in definition},
        where,
    )
    if problems:
        raise SchemaValidationError(_with_choices(problems, run_schema, where))
    lifecycle = cache.lifecycle(runnable, run_input, kind)
    stage_inputs: dict[str, Mapping[str, Any]] = {}
    for stage in lifecycle.stages:
        if (not stage.input_fields and not stage.input_schema) or stage.id in deferred_stages:
            continue
        given = {field: definition[field] for field in stage.input_fields if field in definition}
        stage_inputs[str(stage.id)] = _collect(problems, stage.input_schema, given, where)
    if problems:
        raise SchemaValidationError(problems)
    return PreparedStep(
        step_id=step_id,
        kind=kind,
        runnable=runnable,
        run_input=run_input,
        lifecycle=lifecycle,
        stage_inputs=stage_inputs,
        provider_input=provider_input,
        path=where,
    )


def _with_choices(
    problems: list[ValidationProblem], run_schema: Mapping[str, PropertySchema], where: str
) -> list[ValidationProblem]:
    """Return ``problems`` where a missing run keyword with a fixed set of values names them
    (a plugin with several steps and no ``step:`` lists its step ids)."""
    choices = {
        f"missing required field {quote(key)}": prop.type.values
        for key, prop in run_schema.items()
        if isinstance(prop.type, StringEnumSchema)
    }
    return [
        ValidationProblem(
            path=where,
            message=f"{problem.message}; valid values: {quote_sorted(choices[problem.message])}",
        )
        if problem.path == where and problem.message in choices
        else problem
        for problem in problems
    ]


def _collect(
    problems: list[ValidationProblem],
    properties: Mapping[str, PropertySchema],
    value: Mapping[str, Any],
    path: str,
) -> dict[str, Any]:
    """Return ``value`` validated, or ``{}`` after adding its problems to ``problems``."""
    try:
        return validate_properties(properties, value, path=path)
    except SchemaValidationError as exc:
        problems.extend(exc.problems)
        return {}


PreparedStep.__module__ = "arcaflow_steps"
