"""arcaflow-steps: the pluggable step system of an Arcaflow-style workflow engine.

Provider authors import only from here (protocols, records, errors, ``hookimpl``) and from
``arcaflow_steps.testing`` (the conformance kit).
"""

from ._deployment import Deployer, DeployerFactory, PluginConnection
from ._errors import (
    ArcaflowStepsError,
    DeploymentError,
    DuplicateKindError,
    IllegalStageTransitionError,
    InvalidLifecycleError,
    InvalidProviderError,
    InvalidSchemaError,
    KindSource,
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
    ValidationProblem,
)
from ._lifecycle import Lifecycle, LifecycleStage, LifecycleStageWithSchema, TransitionTable
from ._protocols import (
    AnyProvider,
    Provider,
    RunnableStep,
    RunningStep,
    RunningStepState,
    StageChangeHandler,
)

__all__ = [
    "AnyProvider",
    "ArcaflowStepsError",
    "Deployer",
    "DeployerFactory",
    "DeploymentError",
    "DuplicateKindError",
    "IllegalStageTransitionError",
    "InvalidLifecycleError",
    "InvalidProviderError",
    "InvalidSchemaError",
    "KindSource",
    "Lifecycle",
    "LifecycleStage",
    "LifecycleStageWithSchema",
    "LocalProtocolError",
    "PluginConnection",
    "PluginProtocolError",
    "Provider",
    "ProviderLoadError",
    "RegistryError",
    "RemoteProtocolError",
    "RunnableStep",
    "RunningStep",
    "RunningStepState",
    "SchemaError",
    "SchemaValidationError",
    "StageChangeHandler",
    "StageInputError",
    "StepDefinitionError",
    "TransitionTable",
    "UnknownDeployerError",
    "UnknownKindError",
    "ValidationProblem",
]
