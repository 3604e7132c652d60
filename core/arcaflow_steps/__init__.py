"""arcaflow-steps: the pluggable step system of an Arcaflow-style workflow engine.

Provider authors import only from here (protocols, records, errors, ``hookimpl``) and from
``arcaflow_steps.testing`` (the conformance kit).

The package imports its parts lazily (PEP 562): ``import arcaflow_steps`` costs almost nothing
until a name is used, which keeps ``arcaflow-steps list`` as fast as a bare entry-point scan.
To export a name, add it in three places, which ``tests/core/test_public_api.py`` checks agree:
the ``TYPE_CHECKING`` imports (for type checkers and readers), ``_EXPORTS`` (what is loaded at
run time) and ``__all__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._authoring import BaseRunningStep, Finish, Move, Outcome, WaitForInput, on_stage
    from ._deployment import Deployer, DeployerFactory, PluginConnection
    from ._entry_points import EntryPointInfo
    from ._error_records import KindSource, ValidationProblem
    from ._errors import (
        ArcaflowStepsError,
        DeploymentError,
        DuplicateKindError,
        IllegalStageTransitionError,
        InvalidLifecycleError,
        InvalidProviderError,
        InvalidSchemaError,
        LocalProtocolError,
        PluginProtocolError,
        ProviderLoadError,
        RegistryError,
        RemoteProtocolError,
        SchemaError,
        SchemaValidationError,
        StageInputError,
        StepDefinitionError,
        UnknownDeployerError,
        UnknownKindError,
    )
    from ._events import StepEvent, StepEventKind, StepObserver, StepResult
    from ._guard import RecordedState, StepGuard
    from ._lifecycle import Lifecycle, LifecycleStage, LifecycleStageWithSchema, TransitionTable
    from ._protocols import (
        AnyProvider,
        Provider,
        RunnableStep,
        RunningStep,
        RunningStepState,
        StageChangeHandler,
    )
    from ._provider_base import (
        SimpleRunnableStep,
        StepProviderBase,
        TypedProviderAdapter,
        without_schemas,
    )
    from ._registry import (
        BlockedKindError,
        DeployerLoadError,
        DuplicateDeployerError,
        LoadFailure,
        Registry,
    )
    from ._rules import LifecycleRules
    from ._runner import DEFAULT_CLOSE_TIMEOUT, RunnerClosedError, StepExecution, StepRunner
    from ._schema import (
        AnySchema,
        BoolSchema,
        DisplayValue,
        FloatSchema,
        IntEnumSchema,
        IntSchema,
        ListSchema,
        MapSchema,
        ObjectSchema,
        OneOfIntSchema,
        OneOfStringSchema,
        PatternSchema,
        PluginSchema,
        PropertySchema,
        RefSchema,
        ScopeSchema,
        SignalSchema,
        StepOutputSchema,
        StepSchema,
        StringEnumSchema,
        StringSchema,
        TypeSchema,
        Unit,
        Units,
        object_scope,
        parse_plugin_schema,
        parse_property,
        parse_schema,
        parse_scope,
        parse_step,
        scope_from_attrs,
        serialize_plugin_schema,
        serialize_property,
        serialize_schema,
        serialize_scope,
        serialize_step,
        to_json_schema,
        validate,
        validate_properties,
    )
    from ._step_definition import (
        DEFAULT_KIND,
        PreparedStep,
        ProviderSource,
        RunnableCache,
        prepare_step,
    )
    from .hookspecs import ProviderContext, hookimpl

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KIND",
    "AnyProvider",
    "AnySchema",
    "ArcaflowStepsError",
    "BaseRunningStep",
    "BlockedKindError",
    "BoolSchema",
    "Deployer",
    "DeployerFactory",
    "DeployerLoadError",
    "DeploymentError",
    "DisplayValue",
    "DuplicateDeployerError",
    "DuplicateKindError",
    "EntryPointInfo",
    "Finish",
    "FloatSchema",
    "IllegalStageTransitionError",
    "IntEnumSchema",
    "IntSchema",
    "InvalidLifecycleError",
    "InvalidProviderError",
    "InvalidSchemaError",
    "KindSource",
    "Lifecycle",
    "LifecycleRules",
    "LifecycleStage",
    "LifecycleStageWithSchema",
    "ListSchema",
    "LoadFailure",
    "LocalProtocolError",
    "MapSchema",
    "Move",
    "ObjectSchema",
    "OneOfIntSchema",
    "OneOfStringSchema",
    "Outcome",
    "PatternSchema",
    "PluginConnection",
    "PluginProtocolError",
    "PluginSchema",
    "PreparedStep",
    "PropertySchema",
    "Provider",
    "ProviderContext",
    "ProviderLoadError",
    "ProviderSource",
    "RecordedState",
    "RefSchema",
    "Registry",
    "RegistryError",
    "RemoteProtocolError",
    "RunnableCache",
    "RunnableStep",
    "RunnerClosedError",
    "RunningStep",
    "RunningStepState",
    "SchemaError",
    "SchemaValidationError",
    "ScopeSchema",
    "SignalSchema",
    "SimpleRunnableStep",
    "StageChangeHandler",
    "StageInputError",
    "StepDefinitionError",
    "StepEvent",
    "StepEventKind",
    "StepExecution",
    "StepGuard",
    "StepObserver",
    "StepOutputSchema",
    "StepProviderBase",
    "StepResult",
    "StepRunner",
    "StepSchema",
    "StringEnumSchema",
    "StringSchema",
    "TransitionTable",
    "TypeSchema",
    "TypedProviderAdapter",
    "Unit",
    "Units",
    "UnknownDeployerError",
    "UnknownKindError",
    "ValidationProblem",
    "WaitForInput",
    "hookimpl",
    "object_scope",
    "on_stage",
    "parse_plugin_schema",
    "parse_property",
    "parse_schema",
    "parse_scope",
    "parse_step",
    "prepare_step",
    "scope_from_attrs",
    "serialize_plugin_schema",
    "serialize_property",
    "serialize_schema",
    "serialize_scope",
    "serialize_step",
    "to_json_schema",
    "validate",
    "validate_properties",
    "without_schemas",
]

#: module (relative to this package) -> the public names it provides.
_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "._authoring": (
        "BaseRunningStep",
        "Finish",
        "Move",
        "Outcome",
        "WaitForInput",
        "on_stage",
    ),
    "._deployment": (
        "Deployer",
        "DeployerFactory",
        "PluginConnection",
    ),
    "._entry_points": ("EntryPointInfo",),
    "._error_records": ("KindSource", "ValidationProblem"),
    "._errors": (
        "ArcaflowStepsError",
        "DeploymentError",
        "DuplicateKindError",
        "IllegalStageTransitionError",
        "InvalidLifecycleError",
        "InvalidProviderError",
        "InvalidSchemaError",
        "LocalProtocolError",
        "PluginProtocolError",
        "ProviderLoadError",
        "RegistryError",
        "RemoteProtocolError",
        "SchemaError",
        "SchemaValidationError",
        "StageInputError",
        "StepDefinitionError",
        "UnknownDeployerError",
        "UnknownKindError",
    ),
    "._events": (
        "StepEvent",
        "StepEventKind",
        "StepObserver",
        "StepResult",
    ),
    "._guard": (
        "RecordedState",
        "StepGuard",
    ),
    "._lifecycle": (
        "Lifecycle",
        "LifecycleStage",
        "LifecycleStageWithSchema",
        "TransitionTable",
    ),
    "._provider_base": (
        "SimpleRunnableStep",
        "StepProviderBase",
        "TypedProviderAdapter",
        "without_schemas",
    ),
    "._protocols": (
        "AnyProvider",
        "Provider",
        "RunnableStep",
        "RunningStep",
        "RunningStepState",
        "StageChangeHandler",
    ),
    "._registry": (
        "BlockedKindError",
        "DeployerLoadError",
        "DuplicateDeployerError",
        "LoadFailure",
        "Registry",
    ),
    "._rules": ("LifecycleRules",),
    "._runner": (
        "DEFAULT_CLOSE_TIMEOUT",
        "RunnerClosedError",
        "StepExecution",
        "StepRunner",
    ),
    "._schema": (
        "AnySchema",
        "BoolSchema",
        "DisplayValue",
        "FloatSchema",
        "IntEnumSchema",
        "IntSchema",
        "ListSchema",
        "MapSchema",
        "ObjectSchema",
        "OneOfIntSchema",
        "OneOfStringSchema",
        "PatternSchema",
        "PluginSchema",
        "PropertySchema",
        "RefSchema",
        "ScopeSchema",
        "SignalSchema",
        "StepOutputSchema",
        "StepSchema",
        "StringEnumSchema",
        "StringSchema",
        "TypeSchema",
        "Unit",
        "Units",
        "object_scope",
        "parse_plugin_schema",
        "parse_property",
        "parse_schema",
        "parse_scope",
        "parse_step",
        "scope_from_attrs",
        "serialize_plugin_schema",
        "serialize_property",
        "serialize_schema",
        "serialize_scope",
        "serialize_step",
        "to_json_schema",
        "validate",
        "validate_properties",
    ),
    "._step_definition": (
        "DEFAULT_KIND",
        "PreparedStep",
        "ProviderSource",
        "RunnableCache",
        "prepare_step",
    ),
    ".hookspecs": (
        "ProviderContext",
        "hookimpl",
    ),
}

_SOURCE: Final = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import the submodule that provides ``name`` on first use (PEP 562)."""
    module = _SOURCE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
