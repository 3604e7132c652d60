"""The one error hierarchy of arcaflow-steps.

Every error we raise derives from :class:`ArcaflowStepsError`, so one ``except`` catches all of
ours. Subclasses are split by what the caller can do about them. Each error keeps its context as
attributes and builds its message from them in ``__init__``, so the wording stays consistent and
tests can inspect the data::

    ArcaflowStepsError
    ├── SchemaError
    │   ├── InvalidSchemaError            a schema itself is malformed (cannot be read)
    │   └── SchemaValidationError         a value does not match a schema (ValueError)
    ├── StepDefinitionError               a step file or definition is unusable (ValueError)
    ├── RegistryError
    │   ├── UnknownKindError              no provider for a kind (LookupError)
    │   │   └── BlockedKindError          the kind's entry point was blocked by name
    │   ├── DuplicateKindError            two distributions provide one kind
    │   ├── ProviderLoadError             a provider package failed to import or register
    │   ├── InvalidProviderError          keywords collide, or the provider is malformed
    │   │   └── InvalidLifecycleError     the lifecycle is not a valid DAG
    │   ├── ExtensionLoadError            a package of a provider's own group failed to load
    │   └── DuplicateExtensionError       two packages offer one extension name
    ├── StageInputError                   a stage input is invalid or not accepted (ValueError)
    ├── IllegalStageTransitionError       a provider reported a move its lifecycle forbids
    ├── RunnerClosedError                 a step was started on a closed runner (RuntimeError)
    ├── ProviderBugError                  a provider's own code failed while running a step
    ├── DeploymentError                   a step's program could not be started or stopped
    └── PluginProtocolError               the ATP conversation failed
        ├── LocalProtocolError            we broke the protocol
        └── RemoteProtocolError           the plugin process broke it
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._error_records import KindSource, ValidationProblem

__all__ = [
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
]

_PUBLIC_MODULE: Final = "arcaflow_steps"


def quote(value: object) -> str:
    """Return ``value`` quoted for a message: a string (a ``StrEnum`` stage id too) as its
    ``!r`` of the plain string (``'input'``, never ``<InputField.INPUT: 'input'>``)."""
    return repr(str(value)) if isinstance(value, str) else repr(value)


def quote_sorted(values: Iterable[object]) -> str:
    """Return the values quoted with ``!r``, sorted and comma-separated ('none' when empty)."""
    items = sorted(repr(str(value)) for value in values)
    return ", ".join(items) if items else "none"


class ArcaflowStepsError(Exception):
    """The base of every error arcaflow-steps raises.

    Thread safety: safe to share; an error's attributes are set once, in ``__init__``, for
    every class of the tree.
    """


class SchemaError(ArcaflowStepsError):
    """A schema, or a value checked against one, is wrong."""


class InvalidSchemaError(SchemaError, ValueError):
    """A schema itself is malformed: it cannot be read or does not make sense."""

    def __init__(self, reason: str, *, path: str = "$") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"invalid schema: {reason} @ {path}")


class SchemaValidationError(SchemaError, ValueError):
    """A value does not match its schema; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ValidationProblem]) -> None:
        self.problems: tuple[ValidationProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class StepDefinitionError(ArcaflowStepsError, ValueError):
    """A step definition or step file cannot be used; the message says where and why.

    ``problem`` is the message without its place; ``path`` the place in the definition
    (``$.steps.hello.kind``) when one is known, appended to the message as ``@ path``.
    """

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None) -> None:
        self.source = source
        self.problem = message
        self.path = path
        self.detail = message if path is None else f"{message} @ {path}"
        super().__init__(f"{source}: {self.detail}" if source else self.detail)


class RegistryError(ArcaflowStepsError):
    """Finding, loading or validating providers failed."""


class UnknownKindError(RegistryError, LookupError):
    """No installed provider implements the requested kind."""

    def __init__(
        self, kind: str, valid_kinds: Iterable[str], *, step_id: str | None = None
    ) -> None:
        self.kind = kind
        self.valid_kinds = tuple(sorted(valid_kinds))
        self.step_id = step_id
        where = f" in step {step_id!r}" if step_id is not None else ""
        super().__init__(
            f"unknown provider kind {kind!r}{where}; valid kinds: {quote_sorted(self.valid_kinds)}"
        )

    def __str__(self) -> str:  # LookupError would otherwise repr() the message
        return str(self.args[0])


class BlockedKindError(UnknownKindError):
    """The kind's entry point was blocked by name, so the kind is not available."""

    def __init__(
        self, kind: str, valid_kinds: Iterable[str], *, step_id: str | None = None
    ) -> None:
        super().__init__(kind, valid_kinds, step_id=step_id)
        where = f" in step {step_id!r}" if step_id is not None else ""
        self.args = (
            f"provider kind {kind!r}{where} is blocked (ARCAFLOW_STEPS_DISABLE_PLUGINS or "
            f"-p no:{kind}); valid kinds: {quote_sorted(self.valid_kinds)}",
        )


class DuplicateKindError(RegistryError):
    """Two or more installed distributions declare the same kind."""

    def __init__(self, kind: str, sources: Sequence[KindSource]) -> None:
        self.kind = kind
        self.sources = tuple(sources)
        by = " and by ".join(str(source) for source in self.sources)
        super().__init__(f"kind {kind!r} is provided {len(self.sources)} times: by {by}")


class ProviderLoadError(RegistryError):
    """A provider package failed to import, register or validate."""

    def __init__(self, kind: str, source: KindSource | None, cause: str) -> None:
        self.kind = kind
        self.source = source
        self.cause = cause
        origin = f" from {source}" if source is not None else ""
        super().__init__(f"provider for kind {kind!r}{origin} failed to load: {cause}")


class InvalidProviderError(RegistryError):
    """A provider is malformed: colliding keywords, bad schema or similar."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"provider {kind!r} is invalid: {reason}")


class InvalidLifecycleError(InvalidProviderError):
    """A provider's lifecycle is not a valid DAG with one initial stage."""


class ExtensionLoadError(RegistryError):
    """A package of a provider's extension group failed to import, register or offer."""

    def __init__(self, what: str, name: str, source: KindSource | None, cause: str) -> None:
        self.what = what
        self.name = name
        self.source = source
        self.cause = cause
        origin = f" from {source}" if source is not None else ""
        super().__init__(f"{what} {name!r}{origin} failed to load: {cause}")


class DuplicateExtensionError(RegistryError):
    """Two packages offer one extension name (within its scope); neither is used."""

    def __init__(self, what: str, name: str, scope: str, sources: Sequence[KindSource]) -> None:
        self.what = what
        self.name = name
        self.scope = scope
        self.sources = tuple(sources)
        within = f" of {scope}" if scope else ""
        by = " and by ".join(str(source) for source in self.sources)
        super().__init__(
            f"{what} {name!r}{within} is provided {len(self.sources)} times: by {by}; "
            "neither is used"
        )


class StageInputError(ArcaflowStepsError, ValueError):
    """A stage input was refused: unknown stage, unknown field, given twice or invalid."""

    def __init__(self, step_id: str, stage: str, reason: str) -> None:
        self.step_id = step_id
        self.stage = stage
        self.reason = reason
        super().__init__(f"step {step_id!r} stage {quote(stage)}: {reason}")


class IllegalStageTransitionError(ArcaflowStepsError):
    """A provider reported something its lifecycle does not allow; the report was refused."""

    def __init__(self, step_id: str, stage: str | None, what: str, allowed: Iterable[str]) -> None:
        self.step_id = step_id
        self.stage = stage
        self.what = what
        self.allowed = tuple(sorted(allowed))
        where = f"in stage {quote(stage)}" if stage is not None else "before its first stage"
        super().__init__(f"step {step_id!r} {where}: {what}; allowed: {quote_sorted(self.allowed)}")


class ProviderBugError(ArcaflowStepsError):
    """A provider's own code failed while running a step: the step crashed.

    Raised (or reported through ``StageChangeHandler.on_stage_failure`` for the stage the step
    is in) when a stage method raises, returns a move its lifecycle does not allow, or
    ``close()`` raises. ``detail`` holds the cause with its traceback, for the step's error
    output. The runner then ends the step itself: in a fatal terminal stage reachable from the
    current one if there is one, without output, with ``StepResult.error`` set (exit code 3).
    """

    def __init__(self, step_id: str, stage: str | None, what: str, detail: str = "") -> None:
        self.step_id = step_id
        self.stage = None if stage is None else str(stage)
        self.what = what
        self.detail = detail
        where = f"in stage {self.stage!r}" if stage is not None else "before its first stage"
        super().__init__(f"step {step_id!r} crashed {where}: {what}")


class DeploymentError(ArcaflowStepsError):
    """A step's program (a plugin) could not be started, reached or stopped."""


class RunnerClosedError(ArcaflowStepsError, RuntimeError):
    """A step was started on a runner that has been closed."""

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id
        super().__init__(f"cannot start step {step_id!r}: the runner is closed")


class PluginProtocolError(ArcaflowStepsError):
    """The ATP conversation with a plugin failed."""


class LocalProtocolError(PluginProtocolError):
    """We broke the protocol (for example sent an undeclared step id)."""


class RemoteProtocolError(PluginProtocolError):
    """The plugin process broke the protocol: garbage, EOF, wrong version, bad message."""


for _error in (
    ArcaflowStepsError,
    SchemaError,
    InvalidSchemaError,
    SchemaValidationError,
    StepDefinitionError,
    RegistryError,
    UnknownKindError,
    BlockedKindError,
    DuplicateKindError,
    ProviderLoadError,
    InvalidProviderError,
    InvalidLifecycleError,
    ExtensionLoadError,
    DuplicateExtensionError,
    StageInputError,
    IllegalStageTransitionError,
    ProviderBugError,
    DeploymentError,
    PluginProtocolError,
    LocalProtocolError,
    RemoteProtocolError,
    RunnerClosedError,
):
    _error.__module__ = _PUBLIC_MODULE
