"""The registry: the index of installed kinds, loaded on demand, with failures isolated per kind.

Theory of operation: :meth:`Registry.from_entry_points` reads entry-point metadata only
(:mod:`._entry_points`), so the installed kinds, their distributions and kinds declared twice
are known without importing any provider code. A kind's module is imported the first time the
kind is asked for (:meth:`Registry.get`, :meth:`Registry.check`) and turned into a checked
provider by the one loading path of :mod:`._loader`. Anything that goes wrong becomes a
:class:`LoadFailure` for that kind alone, naming the distribution, the entry point and the
cause; every other kind keeps working. Observer hooks are delivered by :mod:`._observers`, and
the entry-point groups providers load for themselves by
:mod:`._extensions`: the registry only keeps their failures next to the kinds'.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, final

from ._entry_points import (
    OBSERVER_GROUP,
    PROVIDER_GROUP,
    REGISTRY_GROUPS,
    EntryPointInfo,
    metadata_problems,
    parse_blocked,
    scan_groups,
)
from ._errors import (
    ArcaflowStepsError,
    BlockedKindError,
    UnknownKindError,
)
from ._extensions import ExtensionGroups
from ._loader import HookLoader, LoadFailure, ProviderLoader
from ._provider_rules import closable, extension_owner

if TYPE_CHECKING:
    from ._error_records import KindSource
    from ._extensions import ExtensionGroup, Extensions
    from ._observers import ObserverHooks
    from ._protocols import AnyProvider
    from .hookspecs import ProviderContext

__all__ = ["Registry"]

_LOG: Final = logging.getLogger("arcaflow_steps.registry")


@final
class Registry:
    """The installed providers of one process (or of one test).

    Build one with :meth:`from_entry_points` (what the CLI does) or :meth:`from_plugins` (tests,
    applications embedding providers). Providers load lazily and are cached; failures are
    recorded per kind and never affect another kind.

    Thread safety: safe to share; loading happens under one re-entrant lock.
    """

    def __init__(
        self,
        *,
        provider_entry_points: Sequence[EntryPointInfo] = (),
        observer_entry_points: Sequence[EntryPointInfo] = (),
        extension_entry_points: Mapping[str, Sequence[EntryPointInfo]] | None = None,
        blocked: Iterable[str] = (),
    ) -> None:
        """Create a registry over already scanned entry points (see :meth:`from_entry_points`).

        ``extension_entry_points`` maps an extension group to its entry points; a group not
        given is read from the installed metadata when a provider first asks for it.
        """
        from . import hookspecs

        self._blocked = frozenset(blocked)
        by_kind: dict[str, list[EntryPointInfo]] = {}
        for info in provider_entry_points:
            if info.name not in self._blocked:
                by_kind.setdefault(info.name, []).append(info)
        self._provider_eps: dict[str, list[EntryPointInfo]] = by_kind
        # Guards everything below but the extensions: the plugin manager, caches and failures.
        # Re-entrant because a provider hook may ask its context for things while its kind is
        # being loaded.
        self._lock = threading.RLock()
        self._hooks = HookLoader(hookspecs.PROJECT_NAME, (hookspecs,))
        self._loader = ProviderLoader(self._hooks, self._provider_context)
        self._context: ProviderContext | None = None
        self._providers: dict[str, AnyProvider] = {}
        self._failures: dict[str, LoadFailure] = {}
        self._observers: ObserverHooks | None = None
        self._observer_eps = tuple(
            info for info in observer_entry_points if info.name not in self._blocked
        )
        self._groups = ExtensionGroups(
            entry_points=extension_entry_points or {}, blocked=self._blocked
        )
        self._metadata_failures: dict[str, LoadFailure] = {}
        for problem in metadata_problems(provider_entry_points):
            if problem.kind in by_kind:
                self._metadata_failures[problem.kind] = LoadFailure(
                    what="provider",
                    name=problem.kind,
                    sources=tuple(info.source for info in problem.entry_points),
                    error=problem.error(),
                )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_entry_points(
        cls, *, blocked: Iterable[str] = (), environ: Mapping[str, str] | None = None
    ) -> Registry:
        """Return a registry of the installed distributions (metadata only; imports nothing).

        Entry points named in ``blocked`` or in ``ARCAFLOW_STEPS_DISABLE_PLUGINS`` (read from
        ``environ``, default ``os.environ``) are left out.
        """
        names = parse_blocked(environ, blocked)
        return cls.from_scan(scan_groups(REGISTRY_GROUPS, blocked=names), blocked=names)

    @classmethod
    def from_scan(
        cls, found: Mapping[str, Sequence[EntryPointInfo]], *, blocked: Iterable[str] = ()
    ) -> Registry:
        """Return a registry of entry points already scanned (``scan_groups`` of at least
        :data:`REGISTRY_GROUPS`), so a caller that needs other groups reads metadata once."""
        return cls(
            provider_entry_points=found[PROVIDER_GROUP],
            observer_entry_points=found[OBSERVER_GROUP],
            extension_entry_points={
                group: infos
                for group, infos in found.items()
                if group not in (PROVIDER_GROUP, OBSERVER_GROUP)
            },
            blocked=blocked,
        )

    @classmethod
    def from_plugins(cls, plugins: Iterable[object]) -> Registry:
        """Return a registry of explicit plugin objects (modules or instances with hookimpls).

        Every plugin is registered at once; the kinds come from their
        ``arcaflow_steps_providers`` hooks. The same objects make up every extension group a
        provider asks for (see :class:`~arcaflow_steps.ExtensionGroup`). Problems are recorded
        as load failures, as with entry points.
        """
        registry = cls()
        registry._add_plugins(tuple(plugins))
        return registry

    def _add_plugins(self, plugins: tuple[object, ...]) -> None:
        with self._lock:
            self._groups.use_plugins(plugins)
            self._providers, self._failures = self._loader.from_plugins(plugins)
            self.observers().load()

    # -- metadata -----------------------------------------------------------------------------

    def entries(self) -> tuple[EntryPointInfo, ...]:
        """Return the provider entry points, sorted by kind (metadata only; imports nothing)."""
        return tuple(
            info for kind in sorted(self._provider_eps) for info in self._provider_eps[kind]
        )

    def blocked(self) -> frozenset[str]:
        """Return the entry-point names that were blocked."""
        return self._blocked

    def metadata_failures(self) -> tuple[LoadFailure, ...]:
        """Return the problems visible from metadata alone (kinds declared twice, bad names)."""
        return tuple(self._metadata_failures[name] for name in sorted(self._metadata_failures))

    def kinds(self) -> tuple[str, ...]:
        """Return every known kind, sorted (including kinds that fail to load)."""
        with self._lock:
            return tuple(sorted({*self._provider_eps, *self._providers, *self._failures}))

    def source(self, kind: str) -> KindSource | None:
        """Return where ``kind`` comes from (None when it was not installed by entry point)."""
        infos = self._provider_eps.get(kind)
        return infos[0].source if infos and len(infos) == 1 else None

    # -- providers ----------------------------------------------------------------------------

    def get(self, kind: str, *, step_id: str | None = None) -> AnyProvider:
        """Return the provider of ``kind``, importing its package on first use.

        Raises:
            UnknownKindError: no installed provider has that kind (lists the valid kinds);
                ``BlockedKindError`` when its entry point was blocked.
            DuplicateKindError: two distributions declare the kind.
            ProviderLoadError: the package failed to import or register, does not provide the
                kind, or the provider breaks the rules (colliding keywords, bad lifecycle).
        """
        with self._lock:
            provider = self._providers.get(kind)
            if provider is not None:
                return provider
            failure = self._metadata_failures.get(kind) or self._failures.get(kind)
            if failure is not None:  # the same error each time, without old tracebacks
                raise failure.error.with_traceback(None)
            infos = self._provider_eps.get(kind)
            if not infos:
                if kind in self._blocked:
                    raise BlockedKindError(kind, self.kinds(), step_id=step_id)
                raise UnknownKindError(kind, self.kinds(), step_id=step_id)
            (info,) = infos
            try:
                provider = self._loader.from_entry_point(info)
            except ArcaflowStepsError as exc:
                self._failures[kind] = LoadFailure(
                    what="provider", name=kind, sources=(info.source,), error=exc
                )
                raise
            self._providers[kind] = provider
            return provider

    def _provider_context(self) -> ProviderContext:
        """Return the context passed to ``arcaflow_steps_providers`` (one per registry)."""
        if self._context is None:
            from .hookspecs import ProviderContext

            self._context = ProviderContext(self.extensions)
        return self._context

    def check(self) -> tuple[LoadFailure, ...]:
        """Load every kind, observer and extension group; return every failure, sorted."""
        for kind in self.kinds():
            with contextlib.suppress(ArcaflowStepsError):
                self.get(kind)
        for provider in self.loaded_providers():
            owner = extension_owner(provider)
            for group in owner.extension_groups() if owner is not None else ():
                self.extensions(group)
        self.observers().load()
        return self.failures()

    def failures(self) -> tuple[LoadFailure, ...]:
        """Return the failures recorded so far (metadata, loading, extension groups,
        observers), kinds first, each part sorted by name."""
        with self._lock:
            found = {**self._failures, **self._metadata_failures}
            providers = [found[name] for name in sorted(found)]
        extensions = self._groups.failures()
        observers = self._observers.failures() if self._observers is not None else ()
        return (*providers, *extensions, *observers)

    def loaded_providers(self) -> tuple[AnyProvider, ...]:
        """Return the providers loaded so far, sorted by kind."""
        with self._lock:
            return tuple(self._providers[kind] for kind in sorted(self._providers))

    def step_definition_json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of step files over every kind that loads (see ``schema``)."""
        from ._step_json_schema import step_definition_json_schema

        self.check()
        return step_definition_json_schema(self.loaded_providers())

    # -- what providers load for themselves, and who observes ---------------------------------

    def extensions(self, group: ExtensionGroup) -> Extensions:
        """Return a provider's extension group, loaded on first call (see
        :class:`~arcaflow_steps.ExtensionGroup`); its failures join :meth:`failures`."""
        return self._groups.get(group)

    def loaded_extensions(self) -> tuple[Extensions, ...]:
        """Return the extension groups loaded so far, sorted by entry-point group."""
        return self._groups.loaded()

    def observers(self) -> ObserverHooks:
        """Return the observer hooks of every loaded package, as one ``StepObserver``.

        Hand it to :class:`~arcaflow_steps.StepRunner` (``observers=``) and pass each final
        result to its ``on_result``; ``arcaflow-steps run`` does both.
        """
        with self._lock:
            if self._observers is None:
                from ._observers import ObserverHooks

                self._observers = ObserverHooks(self._hooks, self._observer_eps, self._lock)
            return self._observers

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every loaded provider that holds resources (:class:`ClosableProvider`)."""
        for provider in self.loaded_providers():
            if (resource := closable(provider)) is not None:
                try:
                    resource.close()
                except Exception:
                    _LOG.exception("closing provider %r raised; ignored", provider.kind)


Registry.__module__ = "arcaflow_steps"
