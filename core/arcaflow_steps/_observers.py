"""Observer hooks: the installed packages' ``arcaflow_steps_stage_changed`` and
``arcaflow_steps_step_completed`` implementations, as one :class:`~arcaflow_steps.StepObserver`.

Every module the registry loaded (provider modules included) may implement the observer hooks;
a package that only observes declares an entry point in ``arcaflow.step_observers``. Those are
imported the first time an event arrives (or by ``arcaflow-steps check``). A host hands
:meth:`Registry.observers() <arcaflow_steps.Registry.observers>` to the runner with its other
observers and passes each final result to :meth:`ObserverHooks.on_result`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, final

from ._errors import ArcaflowStepsError, RegistryError
from ._loader import HookLoader, LoadFailure, LoadProblemError, import_entry_point

if TYPE_CHECKING:
    from ._entry_points import EntryPointInfo
    from ._events import StepEvent, StepResult

__all__ = ["ObserverHooks"]

_LOG: Final = logging.getLogger("arcaflow_steps.registry")


@final
class ObserverHooks:
    """Delivers step events and results to every observer hook implementation.

    A ``StepObserver`` for :class:`~arcaflow_steps.StepRunner`. An implementation that raises
    is logged and skipped; the others still see the event.

    Thread safety: safe to share; loading happens under the registry's lock.
    """

    def __init__(
        self, hooks: HookLoader, entry_points: Sequence[EntryPointInfo], lock: threading.RLock
    ) -> None:
        """Observe through ``hooks`` (shared with the registry), loading ``entry_points``."""
        self._hooks = hooks
        self._entry_points = tuple(entry_points)
        # The registry's lock: it guards the plugin manager, _loaded and _failures.
        self._lock = lock
        self._loaded = False
        self._failures: list[LoadFailure] = []

    def load(self) -> None:
        """Import and register the observer-only packages (once)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            for info in self._entry_points:
                try:
                    self._hooks.register(import_entry_point(info), info.source)
                except LoadProblemError as exc:
                    error: ArcaflowStepsError = RegistryError(
                        f"observer {info.name!r} from {info.source} failed to load: {exc.cause}"
                    )
                    self._failures.append(
                        LoadFailure(
                            what="observer", name=info.name, sources=(info.source,), error=error
                        )
                    )

    def failures(self) -> tuple[LoadFailure, ...]:
        """Return the observer packages that failed to load, sorted by name."""
        with self._lock:
            return tuple(sorted(self._failures, key=lambda failure: failure.name))

    def on_event(self, event: StepEvent) -> None:
        """Pass a stage event to every ``arcaflow_steps_stage_changed`` implementation."""
        self.load()
        self._notify("arcaflow_steps_stage_changed", event=event)

    def on_result(self, result: StepResult) -> None:
        """Pass a step's final result to every ``arcaflow_steps_step_completed`` implementation."""
        self.load()
        self._notify("arcaflow_steps_step_completed", result=result)

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        with self._lock:
            if not self._hooks.is_loaded():
                return
            impls = list(getattr(self._hooks.manager.hook, hook_name).get_hookimpls())
        # Each implementation is called on its own rather than through ``pm.hook.<name>()``:
        # pluggy stops a hook call at the first implementation that raises, and one observer's
        # bug must not hide the event from the others. Called outside the lock, so an observer
        # may ask the registry for a kind.
        for impl in impls:
            try:
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception:
                _LOG.exception("observer %s of %r raised; ignored", hook_name, impl.plugin_name)


ObserverHooks.__module__ = "arcaflow_steps"
