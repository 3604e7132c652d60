"""The registry: finds installed providers and deployers, loads them on demand, isolates failures.

Theory of operation: :meth:`Registry.from_entry_points` reads entry-point metadata only
(:mod:`._entry_points`), so the installed kinds, their distributions and kinds declared twice
are known without importing any provider code. A kind's module is imported the first time the
kind is asked for (:meth:`Registry.get`, :meth:`Registry.check`), registered with a pluggy
``PluginManager`` (which validates its hook implementations against :mod:`.hookspecs`; we then
call ``check_pending()``), and its ``arcaflow_steps_providers`` hook is called once. The
registry verifies that the module really provides the kind its entry point is named after and
that the provider follows the rules of :mod:`._provider_rules`. Anything that goes wrong becomes a
:class:`LoadFailure` for that kind alone, naming the distribution, the entry point and the
cause; every other kind keeps working. Deployers follow the same path through the
``arcaflow.step_deployers`` group when a provider first asks for them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from ._entry_points import (
    DEPLOYER_GROUP,
    OBSERVER_GROUP,
    PROVIDER_GROUP,
    REGISTRY_GROUPS,
    EntryPointInfo,
    metadata_problems,
    parse_blocked,
    scan_groups,
)
from ._error_records import KindSource
from ._errors import (
    ArcaflowStepsError,
    DuplicateKindError,
    ProviderLoadError,
    RegistryError,
    UnknownKindError,
    quote_sorted,
)

if TYPE_CHECKING:  # imported when a provider is first loaded: ``list`` never needs them
    import pluggy

    from ._deployment import DeployerFactory
    from ._events import StepEvent, StepResult
    from ._protocols import AnyProvider
    from .hookspecs import ProviderContext

__all__ = [
    "BlockedKindError",
    "DeployerLoadError",
    "DuplicateDeployerError",
    "LoadFailure",
    "Registry",
]

_LOG: Final = logging.getLogger("arcaflow_steps.registry")

_PROVIDERS_HOOK: Final = "arcaflow_steps_providers"
_DEPLOYERS_HOOK: Final = "arcaflow_steps_deployers"


class DeployerLoadError(RegistryError):
    """A deployer package failed to import, register or provide its deployer."""

    def __init__(self, deployer_name: str, source: KindSource | None, cause: str) -> None:
        self.deployer_name = deployer_name
        self.source = source
        self.cause = cause
        origin = f" from {source}" if source is not None else ""
        super().__init__(f"deployer {deployer_name!r}{origin} failed to load: {cause}")


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


class DuplicateDeployerError(RegistryError):
    """Two deployers of one deployment type share a ``deployer_name``."""

    def __init__(self, deployment_type: str, deployer_name: str, sources: Sequence[str]) -> None:
        self.deployment_type = deployment_type
        self.deployer_name = deployer_name
        self.sources = tuple(sources)
        super().__init__(
            f"deployer {deployer_name!r} of deployment type {deployment_type!r} is provided "
            f"{len(self.sources)} times: by {' and by '.join(self.sources)}; neither is used"
        )


@attrs.frozen(kw_only=True)
class LoadFailure:
    """A kind or deployer that cannot be used, with where it came from and why.

    Thread safety: safe to share (immutable).
    """

    #: ``provider``, ``deployer`` or ``observer``.
    what: str
    #: The kind or deployer name (the entry point name).
    name: str
    #: Where it came from: one source, or several for a name declared twice.
    sources: tuple[KindSource, ...]
    #: The error ``get()`` raises for it.
    error: ArcaflowStepsError = attrs.field(eq=False)

    @property
    def message(self) -> str:
        """Return the error message."""
        return str(self.error)

    @property
    def distributions(self) -> tuple[str, ...]:
        """Return the distributions involved, as ``name version``."""
        return tuple(f"{source.distribution} {source.version}" for source in self.sources)


def _adapt(provider: Any) -> AnyProvider:
    from ._provider_rules import adapt_provider  # imported when a provider is first loaded

    return adapt_provider(provider)


def _validate(provider: AnyProvider) -> None:
    from ._provider_rules import validate_provider

    validate_provider(provider)


def _plugin_source(plugin: object, index: int) -> KindSource:
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    return KindSource(distribution=f"<plugin {name}>", version=str(index), entry_point=name)


def _describe_exception(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@attrs.frozen
class _Loaded:
    """A plugin object registered with the plugin manager, with its hooks' results cached."""

    plugin: object
    pluggy_name: str


@final
class Registry:
    """The installed providers and deployers of one process (or of one test).

    Build one with :meth:`from_entry_points` (what the CLI does) or :meth:`from_plugins` (tests,
    applications embedding providers). Providers load lazily and are cached; failures are
    recorded per kind and never affect another kind.

    Thread safety: safe to share; loading happens under one re-entrant lock.
    """

    def __init__(
        self,
        *,
        provider_entry_points: Sequence[EntryPointInfo] = (),
        deployer_entry_points: Sequence[EntryPointInfo] = (),
        observer_entry_points: Sequence[EntryPointInfo] = (),
        blocked: Iterable[str] = (),
    ) -> None:
        """Create a registry over already scanned entry points (see :meth:`from_entry_points`)."""
        self._blocked = frozenset(blocked)
        by_kind: dict[str, list[EntryPointInfo]] = {}
        for info in provider_entry_points:
            if info.name not in self._blocked:
                by_kind.setdefault(info.name, []).append(info)
        self._provider_eps: dict[str, list[EntryPointInfo]] = by_kind
        self._deployer_eps = tuple(
            info for info in deployer_entry_points if info.name not in self._blocked
        )
        self._observer_eps = tuple(
            info for info in observer_entry_points if info.name not in self._blocked
        )
        # Guards everything below: the plugin manager, caches and failures. Re-entrant because
        # a provider hook may ask its context for deployers while its kind is being loaded.
        self._lock = threading.RLock()
        self._manager: pluggy.PluginManager | None = None
        self._context: ProviderContext | None = None
        self._modules: dict[int, _Loaded | ArcaflowStepsError] = {}
        self._hook_results: dict[tuple[int, str], list[Any]] = {}
        self._providers: dict[str, AnyProvider] = {}
        self._failures: dict[str, LoadFailure] = {}
        self._deployers: tuple[DeployerFactory, ...] | None = None
        self._deployer_failures: list[LoadFailure] = []
        self._observers_loaded = False
        self._observer_failures: list[LoadFailure] = []
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
            deployer_entry_points=found[DEPLOYER_GROUP],
            observer_entry_points=found[OBSERVER_GROUP],
            blocked=blocked,
        )

    @classmethod
    def from_plugins(cls, plugins: Iterable[object]) -> Registry:
        """Return a registry of explicit plugin objects (modules or instances with hookimpls).

        Every plugin is registered at once; the kinds come from their
        ``arcaflow_steps_providers`` hooks, the deployers from their ``arcaflow_steps_deployers``
        hooks. Problems are recorded as load failures, as with entry points.
        """
        registry = cls()
        registry._add_plugins(list(plugins))
        return registry

    def _add_plugins(self, plugins: list[object]) -> None:
        candidates: dict[str, list[tuple[KindSource, AnyProvider | ArcaflowStepsError]]] = {}
        factories: list[tuple[KindSource, DeployerFactory]] = []
        with self._lock:
            for index, plugin in enumerate(plugins):
                source = _plugin_source(plugin, index)
                loaded = self._register(plugin, source, what="provider", name=source.entry_point)
                if isinstance(loaded, ArcaflowStepsError):
                    self._failures[source.entry_point] = LoadFailure(
                        what="provider", name=source.entry_point, sources=(source,), error=loaded
                    )
                    continue
                try:
                    raw = self._call_hook(loaded, _PROVIDERS_HOOK, source)
                except ProviderLoadError as exc:
                    self._failures[source.entry_point] = LoadFailure(
                        what="provider", name=source.entry_point, sources=(source,), error=exc
                    )
                    raw = []
                for provider in raw:
                    try:
                        adapted = _adapt(provider)
                        _validate(adapted)
                        candidates.setdefault(adapted.kind, []).append((source, adapted))
                    except ArcaflowStepsError as exc:
                        kind = str(getattr(provider, "kind", source.entry_point))
                        candidates.setdefault(kind, []).append(
                            (source, ProviderLoadError(kind, source, str(exc)))
                        )
                    except Exception as exc:  # a provider's own bug, isolated
                        kind = str(getattr(provider, "kind", source.entry_point))
                        candidates.setdefault(kind, []).append(
                            (source, ProviderLoadError(kind, source, _describe_exception(exc)))
                        )
                try:
                    deployers = self._call_hook(loaded, _DEPLOYERS_HOOK, source)
                except ProviderLoadError as exc:
                    self._deployer_failures.append(
                        LoadFailure(
                            what="deployer", name=source.entry_point, sources=(source,), error=exc
                        )
                    )
                    deployers = []
                factories.extend((source, factory) for factory in deployers)
            for kind, found in sorted(candidates.items()):
                sources = tuple(source for source, _ in found)
                if len(found) > 1:
                    error: ArcaflowStepsError = DuplicateKindError(kind, sources)
                    self._failures[kind] = LoadFailure(
                        what="provider", name=kind, sources=sources, error=error
                    )
                    continue
                ((source, result),) = found
                if isinstance(result, ArcaflowStepsError):
                    self._failures[kind] = LoadFailure(
                        what="provider", name=kind, sources=(source,), error=result
                    )
                else:
                    self._providers[kind] = result
            self._deployers = self._unique_deployers(factories)
            self._observers_loaded = True

    # -- metadata -----------------------------------------------------------------------------

    def entries(self) -> tuple[EntryPointInfo, ...]:
        """Return the provider entry points, sorted by kind (metadata only; imports nothing)."""
        return tuple(
            info for kind in sorted(self._provider_eps) for info in self._provider_eps[kind]
        )

    def deployer_entries(self) -> tuple[EntryPointInfo, ...]:
        """Return the deployer entry points, sorted by name (metadata only)."""
        return self._deployer_eps

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

    # -- providers ----------------------------------------------------------------------------

    def get(self, kind: str, *, step_id: str | None = None) -> AnyProvider:
        """Return the provider of ``kind``, importing its package on first use.

        Raises:
            UnknownKindError: no installed provider has that kind (lists the valid kinds).
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
                provider = self._load_provider(info)
            except ArcaflowStepsError as exc:
                self._failures[kind] = LoadFailure(
                    what="provider", name=kind, sources=(info.source,), error=exc
                )
                raise
            self._providers[kind] = provider
            return provider

    def _load_provider(self, info: EntryPointInfo) -> AnyProvider:
        kind, source = info.name, info.source
        try:
            plugin = info.load()
        except Exception as exc:
            raise ProviderLoadError(
                kind, source, f"importing {info.value!r} raised {_describe_exception(exc)}"
            ) from exc
        loaded = self._register(plugin, source, what="provider", name=kind)
        if isinstance(loaded, ArcaflowStepsError):
            raise loaded
        raw = self._call_hook(loaded, _PROVIDERS_HOOK, source)
        matches: list[AnyProvider] = []
        offered: list[str] = []
        for provider in raw:
            try:
                adapted = _adapt(provider)
                offered.append(str(adapted.kind))
            except ArcaflowStepsError as exc:
                raise ProviderLoadError(kind, source, str(exc)) from exc
            except Exception as exc:
                raise ProviderLoadError(
                    kind, source, f"adapting a provider raised {_describe_exception(exc)}"
                ) from exc
            if adapted.kind == kind:
                matches.append(adapted)
        if len(matches) != 1:
            problem = "does not provide" if not matches else f"provides {len(matches)} times"
            raise ProviderLoadError(
                kind,
                source,
                f"module {info.value!r} {problem} kind {kind!r}; "
                f"its {_PROVIDERS_HOOK} hook returned kinds: {quote_sorted(offered)}",
            )
        provider = matches[0]
        try:
            _validate(provider)
        except ArcaflowStepsError as exc:
            raise ProviderLoadError(kind, source, str(exc)) from exc
        except Exception as exc:
            raise ProviderLoadError(
                kind, source, f"validating the provider raised {_describe_exception(exc)}"
            ) from exc
        return provider

    def _register(
        self, plugin: object, source: KindSource, *, what: str, name: str
    ) -> _Loaded | ArcaflowStepsError:
        """Register ``plugin`` once (several entry points may name one module)."""
        key = id(plugin)
        known = self._modules.get(key)
        if known is not None:
            return known
        pluggy_name = getattr(plugin, "__name__", None) if isinstance(plugin, ModuleType) else None
        pluggy_name = pluggy_name or f"{source.distribution}:{source.entry_point}:{key}"
        result: _Loaded | ArcaflowStepsError
        import pluggy

        from . import hookspecs

        manager = self._plugin_manager()
        try:
            manager.register(plugin, name=pluggy_name)
            try:
                manager.check_pending()
            except pluggy.PluginValidationError:
                manager.unregister(plugin)
                raise
        except (pluggy.PluginValidationError, ValueError) as exc:
            valid = quote_sorted(
                name for name in dir(hookspecs) if name.startswith(hookspecs.PROJECT_NAME + "_")
            )
            cause = f"its hooks do not match arcaflow_steps.hookspecs: {exc}; valid hooks: {valid}"
            result = (
                DeployerLoadError(name, source, cause)
                if what == "deployer"
                else ProviderLoadError(name, source, cause)
            )
        else:
            result = _Loaded(plugin=plugin, pluggy_name=pluggy_name)
        self._modules[key] = result
        return result

    def _plugin_manager(self) -> pluggy.PluginManager:
        """Return the plugin manager, created on first use (listing kinds never needs it)."""
        if self._manager is None:
            import pluggy

            from . import hookspecs

            manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            manager.add_hookspecs(hookspecs)
            self._manager = manager
        return self._manager

    def _provider_context(self) -> ProviderContext:
        """Return the context passed to ``arcaflow_steps_providers`` (one per registry)."""
        if self._context is None:
            from .hookspecs import ProviderContext

            self._context = ProviderContext(self.deployer_factories)
        return self._context

    def _call_hook(self, loaded: _Loaded, hook_name: str, source: KindSource) -> list[Any]:
        """Call one plugin's implementation of a hook once; cache and return its list."""
        key = (id(loaded.plugin), hook_name)
        cached = self._hook_results.get(key)
        if cached is not None:
            return cached
        caller = getattr(self._plugin_manager().hook, hook_name)
        result: list[Any] = []
        for impl in caller.get_hookimpls():
            if impl.plugin is not loaded.plugin:
                continue
            kwargs = {"context": self._provider_context()}
            try:
                returned = impl.function(*[kwargs[arg] for arg in impl.argnames])
                result.extend(returned or ())
            except Exception as exc:
                error_cls = DeployerLoadError if hook_name == _DEPLOYERS_HOOK else ProviderLoadError
                raise error_cls(
                    source.entry_point,
                    source,
                    f"{hook_name}() raised {_describe_exception(exc)}",
                ) from exc
        self._hook_results[key] = result
        return result

    def check(self) -> tuple[LoadFailure, ...]:
        """Load every kind, deployer and observer; return every failure, sorted by name."""
        for kind in self.kinds():
            with contextlib.suppress(ArcaflowStepsError):
                self.get(kind)
        self.deployer_factories()
        self._load_observers()
        return self.failures()

    def failures(self) -> tuple[LoadFailure, ...]:
        """Return the failures recorded so far (metadata and loading), sorted by name."""
        with self._lock:
            found = {**self._failures, **self._metadata_failures}
            providers = [found[name] for name in sorted(found)]
            return (
                *providers,
                *sorted(self._deployer_failures, key=lambda failure: failure.name),
                *sorted(self._observer_failures, key=lambda failure: failure.name),
            )

    def loaded_providers(self) -> tuple[AnyProvider, ...]:
        """Return the providers loaded so far, sorted by kind."""
        with self._lock:
            return tuple(self._providers[kind] for kind in sorted(self._providers))

    def source(self, kind: str) -> KindSource | None:
        """Return where ``kind`` comes from (None when it was not installed by entry point)."""
        infos = self._provider_eps.get(kind)
        return infos[0].source if infos and len(infos) == 1 else None

    def step_definition_json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of step files over every kind that loads (see ``schema``)."""
        from ._step_json_schema import step_definition_json_schema

        self.check()
        return step_definition_json_schema(self.loaded_providers())

    # -- deployers ----------------------------------------------------------------------------

    def deployer_factories(self) -> tuple[DeployerFactory, ...]:
        """Return every usable deployer factory, sorted by deployment type and deployer name.

        Loads the ``arcaflow.step_deployers`` entry points on first call. The module of entry
        point ``N`` must offer a factory whose ``deployer_name`` is ``N``; a ``deployer_name``
        offered twice for one deployment type is refused.
        """
        with self._lock:
            if self._deployers is None:
                factories: list[tuple[KindSource, DeployerFactory]] = []
                for info in self._deployer_eps:
                    try:
                        factories.extend((info.source, f) for f in self._load_deployers(info))
                    except ArcaflowStepsError as exc:
                        self._deployer_failures.append(
                            LoadFailure(
                                what="deployer", name=info.name, sources=(info.source,), error=exc
                            )
                        )
                self._deployers = self._unique_deployers(factories)
            return self._deployers

    def _load_deployers(self, info: EntryPointInfo) -> list[DeployerFactory]:
        name, source = info.name, info.source
        try:
            plugin = info.load()
        except Exception as exc:
            raise DeployerLoadError(
                name, source, f"importing {info.value!r} raised {_describe_exception(exc)}"
            ) from exc
        loaded = self._register(plugin, source, what="deployer", name=name)
        if isinstance(loaded, ArcaflowStepsError):
            raise loaded
        try:
            raw = self._call_hook(loaded, _DEPLOYERS_HOOK, source)
        except ProviderLoadError as exc:  # pragma: no cover - _call_hook picks the class
            raise DeployerLoadError(name, source, exc.cause) from exc
        matches: list[DeployerFactory] = []
        offered: list[str] = []
        for factory in raw:
            try:
                factory_name = str(factory.deployer_name)
                str(factory.deployment_type)
            except Exception as exc:
                raise DeployerLoadError(
                    name, source, f"a deployer factory is malformed: {_describe_exception(exc)}"
                ) from exc
            offered.append(factory_name)
            if factory_name == name:
                matches.append(factory)
        if not matches:
            raise DeployerLoadError(
                name,
                source,
                f"module {info.value!r} does not provide deployer {name!r}; its "
                f"{_DEPLOYERS_HOOK} hook returned deployers: {quote_sorted(offered)}",
            )
        return matches

    def _unique_deployers(
        self, factories: list[tuple[KindSource, DeployerFactory]]
    ) -> tuple[DeployerFactory, ...]:
        grouped: dict[tuple[str, str], list[tuple[KindSource, DeployerFactory]]] = {}
        for source, factory in factories:
            key = (str(factory.deployment_type), str(factory.deployer_name))
            grouped.setdefault(key, []).append((source, factory))
        usable: list[DeployerFactory] = []
        for (deployment_type, name), found in sorted(grouped.items()):
            if len(found) == 1:
                usable.append(found[0][1])
                continue
            sources = tuple(source for source, _ in found)
            self._deployer_failures.append(
                LoadFailure(
                    what="deployer",
                    name=name,
                    sources=sources,
                    error=DuplicateDeployerError(
                        deployment_type, name, [str(source) for source in sources]
                    ),
                )
            )
        return tuple(usable)

    def deployer_failures(self) -> tuple[LoadFailure, ...]:
        """Return the deployer failures recorded so far."""
        with self._lock:
            return tuple(self._deployer_failures)

    # -- observers ----------------------------------------------------------------------------

    def _load_observers(self) -> None:
        with self._lock:
            if self._observers_loaded:
                return
            self._observers_loaded = True
            for info in self._observer_eps:
                try:
                    plugin = info.load()
                except Exception as exc:
                    error: ArcaflowStepsError = RegistryError(
                        f"observer {info.name!r} from {info.source} failed to load: importing "
                        f"{info.value!r} raised {_describe_exception(exc)}"
                    )
                else:
                    loaded = self._register(plugin, info.source, what="observer", name=info.name)
                    if not isinstance(loaded, ArcaflowStepsError):
                        continue
                    error = loaded
                self._observer_failures.append(
                    LoadFailure(
                        what="observer", name=info.name, sources=(info.source,), error=error
                    )
                )

    def notify_event(self, event: StepEvent) -> None:
        """Pass a stage event to every ``arcaflow_steps_stage_changed`` implementation.

        Observer packages are loaded on first use. An observer that raises is logged and
        skipped; the others still see the event.
        """
        self._load_observers()
        self._notify("arcaflow_steps_stage_changed", event=event)

    def notify_result(self, result: StepResult) -> None:
        """Pass a step result to every ``arcaflow_steps_step_completed`` implementation."""
        self._load_observers()
        self._notify("arcaflow_steps_step_completed", result=result)

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        with self._lock:
            if self._manager is None:
                return
            impls = list(getattr(self._manager.hook, hook_name).get_hookimpls())
        for impl in impls:
            try:
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception:
                _LOG.exception("observer %s of %r raised; ignored", hook_name, impl.plugin_name)

    def on_event(self, event: StepEvent) -> None:
        """Observe a runner event (the registry is a ``StepObserver``): see :meth:`notify_event`."""
        self.notify_event(event)

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Call ``close()`` on every loaded provider that has one (e.g. parked plugin processes)."""
        for provider in self.loaded_providers():
            close = getattr(provider, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    _LOG.exception("closing provider %r raised; ignored", provider.kind)


for _cls in (Registry, LoadFailure, BlockedKindError, DeployerLoadError, DuplicateDeployerError):
    _cls.__module__ = "arcaflow_steps"
