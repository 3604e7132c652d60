"""Loading: an entry point or a plugin object becomes registered hooks and checked providers.

Theory of operation: a :class:`HookLoader` owns one pluggy ``PluginManager`` for one set of
hook specifications. It registers each plugin object once (pluggy validates its hook
implementations against the specifications; we then call ``check_pending()``, so a misspelled
hook fails loudly) and calls one plugin's implementation of a hook once, caching the list it
returns. :class:`ProviderLoader` is the one path from a plugin object to providers: register it,
call its ``arcaflow_steps_providers`` hook, adapt (``any()``) and validate every provider it
returns (:mod:`._provider_rules`). An entry point of kind ``K`` then keeps the one provider of
kind ``K``; an explicit plugin list keeps every provider. Whatever goes wrong is an error naming
the distribution, the entry point and the cause, never an escaping exception of the provider's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from ._error_records import KindSource
from ._errors import ArcaflowStepsError, DuplicateKindError, ProviderLoadError, quote_sorted

if TYPE_CHECKING:
    import pluggy

    from ._entry_points import EntryPointInfo
    from ._protocols import AnyProvider
    from .hookspecs import ProviderContext

__all__ = [
    "HookLoader",
    "LoadFailure",
    "LoadProblemError",
    "Offer",
    "ProviderLoader",
    "describe_exception",
    "import_entry_point",
    "plugin_source",
]

_PROVIDERS_HOOK: Final = "arcaflow_steps_providers"


@attrs.frozen(kw_only=True)
class LoadFailure:
    """A kind, extension or observer that cannot be used, with where it came from and why.

    Thread safety: safe to share (immutable).
    """

    #: ``provider``, ``observer``, ``warm-up`` or what a provider's extension group loads.
    what: str
    #: The kind or extension name (the entry point name).
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


class LoadProblemError(Exception):
    """Why a plugin object could not be loaded; the caller wraps it in its own error."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(cause)


def describe_exception(exc: BaseException) -> str:
    """Return ``Type: message`` (or ``Type``) for a foreign exception, for messages."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def plugin_source(plugin: object, index: int) -> KindSource:
    """Return the source of an explicit plugin object (position ``index`` in its list)."""
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    return KindSource(distribution=f"<plugin {name}>", version=str(index), entry_point=name)


def import_entry_point(info: EntryPointInfo) -> object:
    """Import what the entry point names.

    Raises:
        LoadProblemError: the import raised.
    """
    try:
        loaded: object = info.load()
    except Exception as exc:
        raise LoadProblemError(
            f"importing {info.value!r} raised {describe_exception(exc)}"
        ) from exc
    return loaded


@final
class HookLoader:
    """One pluggy plugin manager over some hook specifications; registers plugins once.

    Thread safety: not thread-safe; the owner serialises calls (the registry holds its lock).
    """

    def __init__(self, project_name: str, specs: Sequence[ModuleType | type]) -> None:
        """Create a loader of ``project_name`` hooks specified in ``specs`` (modules/classes)."""
        self.project_name: Final = project_name
        self._specs = tuple(specs)
        self._manager: pluggy.PluginManager | None = None
        #: id(plugin) -> (plugin, None) when registered, (plugin, problem) when refused; the
        #: plugin is kept so that its id is not reused.
        self._registered: dict[int, tuple[object, LoadProblemError | None]] = {}
        self._results: dict[tuple[int, str], list[Any]] = {}

    @property
    def manager(self) -> pluggy.PluginManager:
        """Return the plugin manager, created on first use (listing kinds never needs it)."""
        if self._manager is None:
            import pluggy

            manager = pluggy.PluginManager(self.project_name)
            for spec in self._specs:
                manager.add_hookspecs(spec)
            self._manager = manager
        return self._manager

    def is_loaded(self) -> bool:
        """Return whether any plugin was registered (so hooks can have implementations)."""
        return self._manager is not None

    def register(self, plugin: object, source: KindSource) -> None:
        """Register ``plugin`` once (several entry points may name one module).

        Raises:
            LoadProblemError: its hooks do not match the specifications (each time).
        """
        key = id(plugin)
        known = self._registered.get(key)
        if known is not None:
            if known[1] is not None:
                raise known[1]
            return
        import pluggy

        name = plugin.__name__ if isinstance(plugin, ModuleType) else None
        name = name or f"{source.distribution}:{source.entry_point}:{key}"
        manager = self.manager
        problem: LoadProblemError | None = None
        try:
            manager.register(plugin, name=name)
            try:
                manager.check_pending()
            except pluggy.PluginValidationError:
                manager.unregister(plugin)
                raise
        except (pluggy.PluginValidationError, ValueError) as exc:
            problem = LoadProblemError(
                f"its hooks do not match {self._spec_names()}: {exc}; "
                f"valid hooks: {quote_sorted(self._hook_names())}"
            )
        self._registered[key] = (plugin, problem)
        if problem is not None:
            raise problem

    def _spec_names(self) -> str:
        return " and ".join(getattr(spec, "__name__", repr(spec)) for spec in self._specs)

    def _hook_names(self) -> list[str]:
        marker = f"{self.project_name}_spec"
        return [
            name
            for spec in self._specs
            for name in dir(spec)
            if hasattr(getattr(spec, name), marker)
        ]

    def call(self, plugin: object, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call the hook of one registered plugin once; return the items its lists hold.

        Raises:
            LoadProblemError: the implementation raised.
        """
        key = (id(plugin), hook_name)
        cached = self._results.get(key)
        if cached is not None:
            return cached
        manager = self.manager
        others = [other for other in manager.get_plugins() if other is not plugin]
        caller = manager.subset_hook_caller(hook_name, remove_plugins=others)
        try:
            returned: list[Iterable[Any] | None] = caller(**kwargs)
        except Exception as exc:
            raise LoadProblemError(f"{hook_name}() raised {describe_exception(exc)}") from exc
        result = [item for items in returned for item in items or ()]
        self._results[key] = result
        return result


@attrs.frozen(kw_only=True)
class Offer:
    """One provider a plugin object offers: checked, or the error that refused it."""

    #: The kind it says it provides (its entry point name when it has no usable ``kind``).
    kind: str
    result: AnyProvider | ProviderLoadError
    #: Whether ``any()``/the required members already failed (so the kind is a guess).
    is_malformed: bool = False


@final
class ProviderLoader:
    """The one path from a plugin object to checked providers.

    Thread safety: not thread-safe; the registry calls it under its lock.
    """

    def __init__(self, hooks: HookLoader, context: Callable[[], ProviderContext]) -> None:
        """Load providers through ``hooks``; ``context`` is what the providers hook receives."""
        self._hooks = hooks
        self._context = context

    def offers(self, plugin: object, source: KindSource) -> list[Offer]:
        """Register ``plugin`` and return every provider its hook offers, each checked.

        Raises:
            ProviderLoadError: the plugin's hooks are invalid or its providers hook raised.
        """
        from ._provider_rules import adapt_provider, validate_provider

        try:
            self._hooks.register(plugin, source)
            raw = self._hooks.call(plugin, _PROVIDERS_HOOK, context=self._context())
        except LoadProblemError as exc:
            raise ProviderLoadError(source.entry_point, source, exc.cause) from exc
        offers: list[Offer] = []
        for provider in raw:
            kind = getattr(provider, "kind", source.entry_point)
            kind = kind if isinstance(kind, str) else source.entry_point
            try:
                adapted = adapt_provider(provider)
            except ArcaflowStepsError as exc:
                error = ProviderLoadError(kind, source, str(exc))
                offers.append(Offer(kind=kind, result=error, is_malformed=True))
                continue
            except Exception as exc:
                cause = f"adapting a provider raised {describe_exception(exc)}"
                error = ProviderLoadError(kind, source, cause)
                offers.append(Offer(kind=kind, result=error, is_malformed=True))
                continue
            kind = str(adapted.kind)
            try:
                validate_provider(adapted)
            except ArcaflowStepsError as exc:
                offers.append(Offer(kind=kind, result=ProviderLoadError(kind, source, str(exc))))
            except Exception as exc:
                cause = f"validating the provider raised {describe_exception(exc)}"
                offers.append(Offer(kind=kind, result=ProviderLoadError(kind, source, cause)))
            else:
                offers.append(Offer(kind=kind, result=adapted))
        return offers

    def from_entry_point(self, info: EntryPointInfo) -> AnyProvider:
        """Return the provider of kind ``info.name`` that the entry point's module offers.

        Raises:
            ProviderLoadError: import, registration or the hook failed, the module does not
                offer the kind exactly once, or the provider breaks the rules.
        """
        kind, source = info.name, info.source
        try:
            plugin = import_entry_point(info)
        except LoadProblemError as exc:
            raise ProviderLoadError(kind, source, exc.cause) from exc
        offers = self.offers(plugin, source)
        for offer in offers:
            if offer.is_malformed:
                assert isinstance(offer.result, ProviderLoadError)
                raise ProviderLoadError(kind, source, offer.result.cause)
        matches = [offer for offer in offers if offer.kind == kind]
        if len(matches) != 1:
            problem = "does not provide" if not matches else f"provides {len(matches)} times"
            raise ProviderLoadError(
                kind,
                source,
                f"module {info.value!r} {problem} kind {kind!r}; its {_PROVIDERS_HOOK} hook "
                f"returned kinds: {quote_sorted(offer.kind for offer in offers)}",
            )
        result = matches[0].result
        if isinstance(result, ProviderLoadError):
            raise result
        return result

    def from_plugins(
        self, plugins: Sequence[object]
    ) -> tuple[dict[str, AnyProvider], dict[str, LoadFailure]]:
        """Return the providers explicit plugin objects offer, by kind, and the failures by
        kind (or plugin name); a kind offered twice is refused and neither is used."""
        candidates: dict[str, list[tuple[KindSource, AnyProvider | ProviderLoadError]]] = {}
        providers: dict[str, AnyProvider] = {}
        failures: dict[str, LoadFailure] = {}
        for index, plugin in enumerate(plugins):
            source = plugin_source(plugin, index)
            try:
                offers = self.offers(plugin, source)
            except ProviderLoadError as exc:
                failures[source.entry_point] = LoadFailure(
                    what="provider", name=source.entry_point, sources=(source,), error=exc
                )
                continue
            for offer in offers:
                candidates.setdefault(offer.kind, []).append((source, offer.result))
        for kind, found in sorted(candidates.items()):
            sources = tuple(source for source, _ in found)
            result: AnyProvider | ArcaflowStepsError = found[0][1]
            if len(found) > 1:
                result = DuplicateKindError(kind, sources)
            if isinstance(result, ArcaflowStepsError):
                failures[kind] = LoadFailure(
                    what="provider", name=kind, sources=sources, error=result
                )
            else:
                providers[kind] = result
        return providers, failures


LoadFailure.__module__ = "arcaflow_steps"
