"""Provider and runnable bases of the authoring aid (see :mod:`arcaflow_steps._authoring`).

:class:`StepProviderBase` is a provider typed in its configuration (an attrs class); its
:meth:`~StepProviderBase.any` returns :class:`TypedProviderAdapter`, which validates the raw
provider keyword against the schema built from the class and structures it with cattrs.
:class:`SimpleRunnableStep` is a runnable with a fixed lifecycle whose executions are
:class:`~arcaflow_steps.authoring.BaseRunningStep` subclasses.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

import attrs

from ._authoring import BaseRunningStep
from ._error_records import ValidationProblem
from ._errors import SchemaValidationError
from ._lifecycle import Lifecycle, LifecycleStage, LifecycleStageWithSchema
from ._rules import rules_for
from ._schema import PropertySchema, scope_from_attrs, validate

if TYPE_CHECKING:
    from ._protocols import AnyProvider, RunnableStep, StageChangeHandler

__all__ = [
    "SimpleRunnableStep",
    "StepProviderBase",
    "TypedProviderAdapter",
    "without_schemas",
]

ConfigT = TypeVar("ConfigT")


def without_schemas(lifecycle: Lifecycle[LifecycleStageWithSchema]) -> Lifecycle[LifecycleStage]:
    """Return ``lifecycle`` without its schemas (what ``Provider.lifecycle()`` returns)."""
    return Lifecycle(
        initial_stage=lifecycle.initial_stage, stages=[stage.stage for stage in lifecycle.stages]
    )


class SimpleRunnableStep:
    """A runnable step with a fixed lifecycle whose executions are :class:`BaseRunningStep`s.

    ``create`` makes one (unbound) step per execution from the run input and run id.

    Thread safety: safe to share (immutable).
    """

    def __init__(
        self,
        lifecycle: Lifecycle[LifecycleStageWithSchema],
        run_schema: Mapping[str, PropertySchema],
        create: Callable[[Mapping[str, Any], str], BaseRunningStep],
    ) -> None:
        self._lifecycle = lifecycle
        self._run_schema = dict(run_schema)
        self._create = create
        rules_for(lifecycle)  # compute the rules once, up front

    def run_schema(self) -> Mapping[str, PropertySchema]:
        """Return the schema of the run keyword(s)."""
        return self._run_schema

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        """Return the fixed lifecycle."""
        del run_input
        return self._lifecycle

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> BaseRunningStep:
        """Create, bind and begin one execution."""
        step = self._create(run_input, run_id)
        step.bind(handler, self._lifecycle, run_id)
        step.begin()
        return step


@functools.cache
def _converter() -> Any:
    """Return the cattrs converter, imported on first use (cattrs is slow to import)."""
    import cattrs

    return cattrs.Converter()


class StepProviderBase(abc.ABC, Generic[ConfigT]):
    """A provider typed in its configuration, an attrs class ``config_type``.

    Subclasses set ``kind``, ``provider_keyword``, ``run_keyword`` and ``config_type``, and
    implement :meth:`lifecycle` and :meth:`load_schema`. The provider keyword's schema is
    built from ``config_type`` (:func:`~arcaflow_steps.schema.scope_from_attrs`); it is required
    unless every attribute has a default. :meth:`any` returns the untyped adapter.

    Thread safety: safe to share (subclasses keep no mutable state).
    """

    kind: ClassVar[str]
    provider_keyword: ClassVar[str]
    run_keyword: ClassVar[str]
    config_type: ClassVar[type[Any]]

    @abc.abstractmethod
    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return ``{provider_keyword: property}`` built from ``config_type``."""
        scope = scope_from_attrs(self.config_type)
        required = any(field.default is attrs.NOTHING for field in attrs.fields(self.config_type))
        return {self.provider_keyword: PropertySchema(type=scope, required=required)}

    @abc.abstractmethod
    def load_schema(self, provider_input: ConfigT) -> RunnableStep:
        """Return the runnable step for the structured configuration."""

    def any(self) -> AnyProvider:
        """Return the untyped adapter the registry and runner use."""
        return TypedProviderAdapter(self)


class TypedProviderAdapter(Generic[ConfigT]):
    """The untyped face of a :class:`StepProviderBase`: validates, structures, loads.

    Thread safety: safe to share (immutable).
    """

    def __init__(self, provider: StepProviderBase[ConfigT]) -> None:
        self.provider: Final = provider
        self._schema = provider.provider_schema()

    @property
    def kind(self) -> str:
        """The provider's kind."""
        return self.provider.kind

    @property
    def provider_keyword(self) -> str:
        """The provider keyword."""
        return self.provider.provider_keyword

    @property
    def run_keyword(self) -> str:
        """The run keyword."""
        return self.provider.run_keyword

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the provider's lifecycle without schemas."""
        return self.provider.lifecycle()

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return the provider keyword's schema."""
        return self._schema

    def load_schema(self, provider_input: Mapping[str, Any]) -> RunnableStep:
        """Validate ``{provider_keyword: value}``, structure it and load the runnable step.

        Raises:
            SchemaValidationError: the value does not match the configuration's schema.
        """
        keyword = self.provider.provider_keyword
        prop = self._schema[keyword]
        value = provider_input.get(keyword)
        if value is None and not prop.required:
            value = {}
        validated = validate(prop.type, value, path=f"$.{keyword}")
        try:
            config: ConfigT = _converter().structure(validated, self.provider.config_type)
        except Exception as exc:  # cattrs groups; validation should have caught these
            raise SchemaValidationError(
                [ValidationProblem(path=f"$.{keyword}", message=f"cannot structure: {exc}")]
            ) from exc
        return self.provider.load_schema(config)


for _cls in (SimpleRunnableStep, StepProviderBase, TypedProviderAdapter):
    _cls.__module__ = "arcaflow_steps"
