"""arcaflow-steps: the pluggable step system of an Arcaflow-style workflow engine.

The top level is what a provider author and a host need: the provider protocols and lifecycle
records, ``hookimpl`` and :class:`ProviderContext`, the registry, the runner and what it
reports, and the one error tree. The rest lives in public submodules:

* :mod:`arcaflow_steps.schema` — the Arcaflow schema model (records, parse, serialize,
  validate);
* :mod:`arcaflow_steps.authoring` — the base classes that do a provider's bookkeeping;
* :mod:`arcaflow_steps.testing` — the opt-in pytest conformance kit;
* :mod:`arcaflow_steps.hookspecs` — the hooks a provider package implements.

The package imports its parts lazily (PEP 562): ``import arcaflow_steps`` costs almost nothing
until a name is used, which keeps ``arcaflow-steps list`` as fast as a bare entry-point scan.
To export a name, add it to ``_EXPORTS`` (what is loaded at run time), to the ``TYPE_CHECKING``
imports (for type checkers and readers) and to ``__all__``; ``tests/core/test_public_api.py``
checks the three agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._lazy_exports import lazy_exports

if TYPE_CHECKING:
    from ._error_records import KindSource
    from ._errors import (
        ArcaflowStepsError,
        BlockedKindError,
        DeploymentError,
        DuplicateExtensionError,
        DuplicateKindError,
        ExtensionLoadError,
        IllegalStageTransitionError,
        InvalidLifecycleError,
        InvalidProviderError,
        InvalidSchemaError,
        LocalProtocolError,
        PluginProtocolError,
        ProviderBugError,
        ProviderLoadError,
        RegistryError,
        RemoteProtocolError,
        RunnerClosedError,
        SchemaError,
        SchemaValidationError,
        StageInputError,
        StepDefinitionError,
        UnknownKindError,
    )
    from ._events import StepEvent, StepEventKind, StepObserver, StepResult
    from ._extensions import ExtensionGroup, ExtensionOwner, Extensions, ExtensionTable
    from ._lifecycle import Lifecycle, LifecycleStage, LifecycleStageWithSchema
    from ._loader import LoadFailure
    from ._observers import ObserverHooks
    from ._protocols import (
        AnyProvider,
        ClosableProvider,
        GracefulRunningStep,
        Provider,
        RunnableStep,
        RunningStep,
        RunningStepState,
        SchemaHintProvider,
        StageChangeHandler,
    )
    from ._registry import Registry
    from ._runner import StepExecution, StepRunner
    from ._step_definition import PreparedStep, prepare_step
    from .hookspecs import ProviderContext, hookimpl

__all__ = [
    "AnyProvider",
    "ArcaflowStepsError",
    "BlockedKindError",
    "ClosableProvider",
    "DeploymentError",
    "DuplicateExtensionError",
    "DuplicateKindError",
    "ExtensionGroup",
    "ExtensionLoadError",
    "ExtensionOwner",
    "ExtensionTable",
    "Extensions",
    "GracefulRunningStep",
    "IllegalStageTransitionError",
    "InvalidLifecycleError",
    "InvalidProviderError",
    "InvalidSchemaError",
    "KindSource",
    "Lifecycle",
    "LifecycleStage",
    "LifecycleStageWithSchema",
    "LoadFailure",
    "LocalProtocolError",
    "ObserverHooks",
    "PluginProtocolError",
    "PreparedStep",
    "Provider",
    "ProviderBugError",
    "ProviderContext",
    "ProviderLoadError",
    "Registry",
    "RegistryError",
    "RemoteProtocolError",
    "RunnableStep",
    "RunnerClosedError",
    "RunningStep",
    "RunningStepState",
    "SchemaError",
    "SchemaHintProvider",
    "SchemaValidationError",
    "StageChangeHandler",
    "StageInputError",
    "StepDefinitionError",
    "StepEvent",
    "StepEventKind",
    "StepExecution",
    "StepObserver",
    "StepResult",
    "StepRunner",
    "UnknownKindError",
    "hookimpl",
    "prepare_step",
]

#: module (relative to this package) -> the public names it provides.
_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "._error_records": ("KindSource",),
    "._errors": (
        "ArcaflowStepsError",
        "BlockedKindError",
        "DeploymentError",
        "DuplicateExtensionError",
        "DuplicateKindError",
        "ExtensionLoadError",
        "IllegalStageTransitionError",
        "InvalidLifecycleError",
        "InvalidProviderError",
        "InvalidSchemaError",
        "LocalProtocolError",
        "PluginProtocolError",
        "ProviderBugError",
        "ProviderLoadError",
        "RegistryError",
        "RemoteProtocolError",
        "RunnerClosedError",
        "SchemaError",
        "SchemaValidationError",
        "StageInputError",
        "StepDefinitionError",
        "UnknownKindError",
    ),
    "._events": (
        "StepEvent",
        "StepEventKind",
        "StepObserver",
        "StepResult",
    ),
    "._extensions": (
        "ExtensionGroup",
        "ExtensionOwner",
        "ExtensionTable",
        "Extensions",
    ),
    "._lifecycle": (
        "Lifecycle",
        "LifecycleStage",
        "LifecycleStageWithSchema",
    ),
    "._loader": ("LoadFailure",),
    "._observers": ("ObserverHooks",),
    "._protocols": (
        "AnyProvider",
        "ClosableProvider",
        "GracefulRunningStep",
        "Provider",
        "RunnableStep",
        "RunningStep",
        "RunningStepState",
        "SchemaHintProvider",
        "StageChangeHandler",
    ),
    "._registry": ("Registry",),
    "._runner": (
        "StepExecution",
        "StepRunner",
    ),
    "._step_definition": (
        "PreparedStep",
        "prepare_step",
    ),
    ".hookspecs": (
        "ProviderContext",
        "hookimpl",
    ),
}

_SOURCE: Final = {name: module for module, names in _EXPORTS.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCE, __all__)
