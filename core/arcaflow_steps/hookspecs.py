"""The hooks a provider package implements: how arcaflow-steps finds providers and observers.

A provider package declares one entry point per kind it provides, named after the kind, in the
group ``arcaflow.step_providers``; the entry point names a module implementing some of these
hooks with :data:`hookimpl`::

    # pyproject.toml
    [project.entry-points."arcaflow.step_providers"]
    shell = "shell_steps"

    # shell_steps/__init__.py
    from arcaflow_steps import hookimpl

    @hookimpl
    def arcaflow_steps_providers(context):
        return [ShellProvider()]

A provider may load an entry-point group of its own (the ``plugin`` provider's extensions)
through :meth:`ProviderContext.extensions`: that group has its own hook specifications and
markers, described by the provider that owns it.

Observer hooks (:func:`arcaflow_steps_stage_changed`, :func:`arcaflow_steps_step_completed`) let
a package add metrics, audit logs or notifications without touching providers. Every loaded
module may implement them; a package that only observes declares an entry point (any name) in
the group ``arcaflow.step_observers``. Observers are loaded when steps first run.

Entry points of any group can be blocked by name: ``ARCAFLOW_STEPS_DISABLE_PLUGINS=a,b`` or the
CLI's ``-p no:NAME``.

Hook implementations are validated against these specifications when the registry registers
them (pluggy ``check_pending()``): a misspelled hook name or an unknown argument is a load
failure naming the distribution and entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, final

import pluggy

if TYPE_CHECKING:
    from ._events import StepEvent, StepResult
    from ._extensions import ExtensionGroup, Extensions
    from ._protocols import AnyProvider, Provider

__all__ = [
    "PROJECT_NAME",
    "ProviderContext",
    "arcaflow_steps_providers",
    "arcaflow_steps_stage_changed",
    "arcaflow_steps_step_completed",
    "hookimpl",
    "hookspec",
]

#: The pluggy project name of arcaflow-steps hooks.
PROJECT_NAME: Final = "arcaflow_steps"

#: Marks a function as the specification of an arcaflow-steps hook (used by this module).
hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a function in a provider package as the implementation of an arcaflow-steps hook.
hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)


@final
class ProviderContext:
    """What a provider gets from the registry when it is created.

    ``extensions(group)`` is lazy: a provider's own entry-point group is loaded the first time
    the provider asks, never when providers are merely listed, with the registry's isolation,
    blocking and uniqueness rules (see :class:`~arcaflow_steps.ExtensionGroup`).

    Thread safety: safe to share; the registry loads each group once, under its lock.
    """

    def __init__(self, extensions: Callable[[ExtensionGroup], Extensions]) -> None:
        self._extensions = extensions

    def extensions(self, group: ExtensionGroup) -> Extensions:
        """Return the usable items of ``group`` and its load failures (loaded on first call).

        Packages that failed to load are left out of the items; ``arcaflow-steps check``
        reports them when the provider declares the group
        (:class:`~arcaflow_steps.ExtensionOwner`).
        """
        return self._extensions(group)


@hookspec
def arcaflow_steps_providers(context: ProviderContext) -> Sequence[Provider[Any] | AnyProvider]:
    """Return the providers this package offers.

    Called once per registry, when a kind of this package is first described, checked or run
    (never for ``arcaflow-steps list``), on the thread that asked for the kind. The module is
    loaded through an entry point named after a kind, and the registry verifies that the
    returned providers include that kind. An implementation may omit ``context``.

    A provider typed in its configuration (``Provider``) is adapted with its ``any()``; an
    untyped one (``AnyProvider``) is used as is. The provider keyword, run keyword and stage
    input fields must be distinct and none may be ``kind``; the lifecycle must be a DAG with one
    initial stage from which every stage is reachable.
    """
    raise NotImplementedError  # pragma: no cover - a specification, never called


@hookspec
def arcaflow_steps_stage_changed(event: StepEvent) -> None:
    """Observe one event of a running step.

    Called for every event the runner records (stage changed, stage unreachable, stage failed,
    step completed, report refused) in each step's sequence order, on the thread that reported
    the change (a provider thread, or the thread feeding stage input), after the runner released
    its locks, when ``Registry.observers()`` is one of the runner's observers
    (``arcaflow-steps run`` does that). Keep it quick; an exception is logged and does not
    affect the step or other observers.
    """


@hookspec
def arcaflow_steps_step_completed(result: StepResult) -> None:
    """Observe the final result of a step.

    Called once per step by ``arcaflow-steps run`` (or an application calling
    ``ObserverHooks.on_result``) after every step reached its terminal stage, on the main thread.
    An exception is logged and does not affect the other observers.
    """


for _obj in (ProviderContext,):
    _obj.__module__ = "arcaflow_steps"
