"""The provider-side interfaces: the Python shape of the seed's Go step interfaces.

They are ``typing.Protocol`` classes: a third-party provider need not inherit from anything of
ours. The registry validates providers when it loads them and the conformance kit
(``arcaflow_steps.testing``) checks their behaviour.

The phases of a provider:

1. :class:`Provider` — no configuration yet; it knows its ``kind``, keywords, its lifecycle and
   the schema of its provider keyword.
2. :meth:`Provider.load_schema` — given the provider keyword's value, returns a
   :class:`RunnableStep` that knows its full schema (run schema, stage input schemas, outputs).
3. :meth:`RunnableStep.start` — returns a :class:`RunningStep` that walks through the lifecycle,
   reporting every move to a :class:`StageChangeHandler`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from ._lifecycle import Lifecycle, LifecycleStage, LifecycleStageWithSchema
    from ._schema import PropertySchema

__all__ = [
    "AnyProvider",
    "ClosableProvider",
    "GracefulRunningStep",
    "Provider",
    "RunnableStep",
    "RunningStep",
    "RunningStepState",
    "SchemaHintProvider",
    "StageChangeHandler",
]

ConfigT_contra = TypeVar("ConfigT_contra", contravariant=True)


class RunningStepState(enum.StrEnum):
    """The coarse state of a running step, used to detect deadlocks and show progress.

    Thread safety: safe to share (an enum).
    """

    #: ``start()`` returned; the step has not entered its first stage yet.
    STARTING = "starting"
    #: The step is blocked until stage input arrives.
    WAITING_FOR_INPUT = "waiting_for_input"
    #: The step is doing work.
    RUNNING = "running"
    #: The step reached its terminal stage.
    FINISHED = "finished"


class StageChangeHandler(Protocol):
    """Receives a running step's reports. The runner passes its own guarded handler to
    :meth:`RunnableStep.start`; providers never see the user's handler directly.

    Thread safety: callbacks may arrive on any thread, one at a time per step; the runner's
    handler is safe to share.
    """

    def on_stage_change(  # noqa: PLR0917 - mirrors the seed's OnStageChange, one to one
        self,
        step: RunningStep,
        previous_stage: str | None,
        previous_output_id: str | None,
        previous_output: Any,
        new_stage: str,
        waiting_for_input: bool,
    ) -> None:
        """Report a move from ``previous_stage`` (None for the first stage) to ``new_stage``.

        ``previous_output_id``/``previous_output`` is the output the previous stage produced, if
        any. ``waiting_for_input`` says whether the new stage is blocked on stage input.
        """

    def on_step_complete(
        self,
        step: RunningStep,
        previous_stage: str,
        output_id: str | None,
        output: Any,
    ) -> None:
        """Report that the step finished in terminal stage ``previous_stage`` with an output."""

    def on_stage_failure(self, step: RunningStep, stage: str, error: Exception | None) -> None:
        """Report that ``stage`` will never produce output (optional; the runner derives it)."""


class RunningStep(Protocol):
    """One execution of a runnable step.

    Thread safety: implementations must be safe to share; every method may be called from any
    thread, ``close()`` while a stage method runs.
    """

    def provide_stage_input(self, stage: str, input: Mapping[str, Any]) -> None:
        """Give ``stage`` its input fields; may be called before or after the stage is entered."""

    def current_stage(self) -> str:
        """Return the id of the stage the step is in (the initial stage before it starts)."""

    def state(self) -> RunningStepState:
        """Return the coarse state of the step."""

    def close(self) -> None:
        """Stop the step gracefully and wait (bounded) until it reached a terminal stage.

        Idempotent; a second call only waits.
        """

    def force_close(self) -> None:
        """Stop the step at once and wait (bounded) until it reached a terminal stage.

        Idempotent.
        """


@runtime_checkable
class GracefulRunningStep(Protocol):
    """A running step that may need more than the runner's ``close_timeout`` to close
    gracefully (optional member of :class:`RunningStep`).

    The runner lets ``close()`` take up to ``close_grace`` seconds (when that is more than its
    own ``close_timeout``) before it forces the step: a plugin step given a
    ``closure_wait_timeout`` of 60 s gets those 60 s to answer its cancel signal.

    Thread safety: ``close_grace`` may be read from any thread.
    """

    @property
    def close_grace(self) -> float:
        """Seconds a graceful ``close()`` may take now (it may change as inputs arrive)."""


class RunnableStep(Protocol):
    """A provider with its schema loaded, ready to start executions.

    Thread safety: implementations must be safe to share; one runnable may start several steps
    from several threads at once.
    """

    def run_schema(self) -> Mapping[str, PropertySchema]:
        """Return the schema of the run keyword(s): keyword -> property."""

    def lifecycle(self, run_input: Mapping[str, Any]) -> Lifecycle[LifecycleStageWithSchema]:
        """Return the lifecycle, with stage input schemas and outputs, for this run input."""

    def start(
        self, run_input: Mapping[str, Any], handler: StageChangeHandler, run_id: str
    ) -> RunningStep:
        """Start one execution identified by ``run_id`` and return it without blocking."""


class AnyProvider(Protocol):
    """The untyped face of a provider that the registry and the runner use.

    Optional members are declared by their own protocols: :class:`SchemaHintProvider`
    (``schema_hint_fields``) and :class:`ClosableProvider` (``close``).

    Thread safety: implementations must be safe to share; the registry hands one provider to
    every step of its kind, and ``load_schema`` may run on several threads at once.
    """

    @property
    def kind(self) -> str:
        """The value written after ``kind:`` in a step definition."""

    @property
    def provider_keyword(self) -> str:
        """The step-definition key whose value configures the provider."""

    @property
    def run_keyword(self) -> str:
        """The step-definition key that picks what to run once the schema is known."""

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return the schema of the provider keyword: keyword -> property."""

    def load_schema(self, provider_input: Mapping[str, Any]) -> RunnableStep:
        """Load the runnable step from ``{provider_keyword: value}`` (already validated), plus
        the raw values of the ``schema_hint_fields`` the step definition gives."""


class Provider(Protocol[ConfigT_contra]):
    """A step provider, optionally typed in its configuration (an attrs class).

    ``load_schema`` takes the structured configuration; :meth:`any` returns the untyped
    :class:`AnyProvider` adapter, which validates the raw mapping against
    :meth:`provider_schema` and structures it (cattrs) before calling ``load_schema``.

    Thread safety: implementations must be safe to share, as for :class:`AnyProvider`.
    """

    @property
    def kind(self) -> str:
        """The value written after ``kind:`` in a step definition."""

    @property
    def provider_keyword(self) -> str:
        """The step-definition key whose value configures the provider."""

    @property
    def run_keyword(self) -> str:
        """The step-definition key that picks what to run once the schema is known."""

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return the schema of the provider keyword: keyword -> property."""

    def load_schema(self, provider_input: ConfigT_contra) -> RunnableStep:
        """Load the runnable step from the structured provider configuration."""

    def any(self) -> AnyProvider:
        """Return the untyped adapter the registry and runner use."""


# The optional members below are declared, not runtime-checkable: ``validate_provider`` checks
# them when a provider is registered, and the registry reads them by name with a typed cast
# (``_provider_rules.schema_hint_fields``/``closable``), not with ``isinstance``.


class SchemaHintProvider(Protocol):
    """A provider whose schema depends on some stage input fields (optional member).

    When a step definition gives one of the ``schema_hint_fields`` (stage input field names),
    :func:`~arcaflow_steps.prepare_step` passes its raw, not yet validated value to
    :meth:`AnyProvider.load_schema` too, next to the provider keyword, so the schema can be
    loaded the way the step will run (the ``plugin`` provider probes with the step's
    ``deploy``). The field is still validated as stage input once the lifecycle is known;
    ``load_schema`` must treat the hint as a hint and never fail because of it. The registry
    refuses a provider whose ``schema_hint_fields`` is not a collection of strings.

    Thread safety: read from any thread; the value must not change once registered.
    """

    @property
    def schema_hint_fields(self) -> frozenset[str]:
        """The stage input fields passed to ``load_schema`` as hints."""


class ClosableProvider(Protocol):
    """A provider that holds resources across steps (optional member ``close``).

    :meth:`Registry.close() <arcaflow_steps.Registry.close>` calls it once, after the last
    step of the host ended (the ``plugin`` provider stops its parked plugin processes). It must
    be idempotent; an exception is logged and does not stop other providers from closing. The
    registry refuses a provider whose ``close`` is not callable.

    Thread safety: called once, on the thread that closes the registry, after every step ended.
    """

    def close(self) -> None:
        """Release what the provider holds."""


for _cls in (
    SchemaHintProvider,
    ClosableProvider,
    GracefulRunningStep,
    RunningStepState,
    StageChangeHandler,
    RunningStep,
    RunnableStep,
    AnyProvider,
    Provider,
):
    _cls.__module__ = "arcaflow_steps"
