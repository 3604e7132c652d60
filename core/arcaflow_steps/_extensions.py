"""Extension groups: an entry-point group through which a provider receives plugins of its own.

Theory of operation: core knows providers, not what a provider plugs into itself (the Go
engine's step core does not either; the ``plugin`` provider owns its extension axis). A provider
declares an :class:`ExtensionGroup` — its entry-point group, its hook specifications and the
hook that returns the group's items — and asks its :class:`~arcaflow_steps.ProviderContext` for
it. The registry loads the group with the rules kinds follow (DESIGN.md §4): entry points named
in ``ARCAFLOW_STEPS_DISABLE_PLUGINS`` or ``-p no:NAME`` are skipped; every entry point is
imported and registered on its own, so one broken package is a recorded
:class:`~arcaflow_steps.LoadFailure` and the others keep working; the module of entry point
``N`` must offer an item named ``N`` (one module may serve several entry points); a name offered
twice within one scope is refused (neither is used). A registry built from explicit plugin
objects offers those objects to the group instead of entry points.

A provider that owns extension groups says so with :class:`ExtensionOwner`, so that
``arcaflow-steps check`` loads them and reports their failures, and ``describe`` shows them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, final

import attrs

from ._errors import ArcaflowStepsError, DuplicateExtensionError, ExtensionLoadError, quote_sorted
from ._loader import (
    HookLoader,
    LoadFailure,
    LoadProblemError,
    describe_exception,
    import_entry_point,
    plugin_source,
)

if TYPE_CHECKING:
    from ._entry_points import EntryPointInfo
    from ._error_records import KindSource

__all__ = [
    "ExtensionGroup",
    "ExtensionGroups",
    "ExtensionOwner",
    "ExtensionTable",
    "Extensions",
    "load_extensions",
]


def _no_scope(item: Any) -> str:
    return ""


@attrs.frozen(kw_only=True)
class ExtensionGroup:
    """What a provider loads through its own entry-point group.

    Example, a provider running jobs on backends of several types::

        BACKENDS = ExtensionGroup(
            group="arcaflow.step_backends", what="backend", specs=backend_hookspecs,
            project_name=backend_hookspecs.PROJECT_NAME, hook="acme_backends",
            name_of=lambda backend: backend.name,
            scope="backend type", scope_of=lambda backend: backend.backend_type,
        )

    Thread safety: safe to share (immutable).
    """

    #: The entry-point group; entry points are named after the item they offer.
    group: str
    #: What one item is called in messages (``backend``).
    what: str
    #: The module (or class) of pluggy hook specifications the group's packages implement.
    specs: ModuleType | type
    #: The pluggy project name of those specifications' markers.
    project_name: str
    #: The hook that returns a package's items (a list).
    hook: str
    #: The name of an item; it must equal its entry point's name.
    name_of: Callable[[Any], str]
    #: Names are unique within a scope (``backend type``); empty: unique in the group.
    scope: str = ""
    #: The scope of an item (its backend type).
    scope_of: Callable[[Any], str] = _no_scope


@attrs.frozen(kw_only=True)
class Extensions:
    """The usable items of one extension group, sorted by scope then name, and its failures.

    Thread safety: safe to share (immutable; the items are whatever the packages returned).
    """

    group: ExtensionGroup
    items: tuple[Any, ...]
    failures: tuple[LoadFailure, ...]

    def records(self) -> list[dict[str, str]]:
        """Return one record per item: its name and, when the group has one, its scope."""
        scope_key = self.group.scope.replace(" ", "_")
        return [
            {
                self.group.what: self.group.name_of(item),
                **({scope_key: self.group.scope_of(item)} if scope_key else {}),
            }
            for item in self.items
        ]


@attrs.frozen(kw_only=True)
class ExtensionTable:
    """What ``arcaflow-steps describe`` shows about a provider's extensions.

    Thread safety: safe to share (immutable).
    """

    #: The table title and the key in ``describe --format json`` (``backends``).
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: The JSON/YAML form of the same information.
    data: Any = attrs.field(eq=False)


class ExtensionOwner(Protocol):
    """Optional provider members: the extension groups a provider loads (see the module doc).

    ``arcaflow-steps check`` loads every group a loaded provider declares and reports their
    failures; ``describe KIND`` shows the provider's tables. Optional: implement both, or
    neither; the registry refuses a provider with one of them, or one that is not callable, and
    reads them by name (``_provider_rules.extension_owner``), not with ``isinstance``.

    Thread safety: may be called from any thread; return the same groups every time.
    """

    def extension_groups(self) -> Sequence[ExtensionGroup]:
        """Return the extension groups this provider loads."""

    def extension_tables(self) -> Sequence[ExtensionTable]:
        """Return what ``describe`` shows about the loaded extensions."""


@final
class ExtensionGroups:
    """The extension groups providers asked one registry for, each loaded once.

    Thread safety: safe to share; a group loads under a lock, so it loads once.
    """

    def __init__(
        self, *, entry_points: Mapping[str, Sequence[EntryPointInfo]], blocked: frozenset[str]
    ) -> None:
        """Load groups from ``entry_points`` (a group not there is read from the installed
        metadata), leaving out ``blocked`` names."""
        self._entry_points = dict(entry_points)
        self._blocked = blocked
        self._plugins: tuple[object, ...] | None = None
        # Guards _loaded; held while a group loads.
        self._lock = threading.Lock()
        self._loaded: dict[str, Extensions] = {}

    def use_plugins(self, plugins: Sequence[object]) -> None:
        """Make every group consist of these explicit plugin objects instead of entry points."""
        self._plugins = tuple(plugins)

    def get(self, group: ExtensionGroup) -> Extensions:
        """Return the group, loading it on first call."""
        with self._lock:
            loaded = self._loaded.get(group.group)
            if loaded is None:
                if self._plugins is not None:
                    loaded = load_extensions(group, plugins=self._plugins)
                else:
                    found = self._entry_points.get(group.group)
                    if found is None:  # not scanned with the registry's groups
                        from ._entry_points import scan

                        found = scan(group.group, blocked=self._blocked)
                    loaded = load_extensions(
                        group, entry_points=[e for e in found if e.name not in self._blocked]
                    )
                self._loaded[group.group] = loaded
            return loaded

    def loaded(self) -> tuple[Extensions, ...]:
        """Return the groups loaded so far, sorted by entry-point group."""
        with self._lock:
            return tuple(self._loaded[group] for group in sorted(self._loaded))

    def failures(self) -> list[LoadFailure]:
        """Return the failures of the loaded groups, by group, then by name."""
        return [
            failure
            for loaded in self.loaded()
            for failure in sorted(loaded.failures, key=lambda failure: failure.name)
        ]


def _offered(
    hooks: HookLoader, group: ExtensionGroup, plugin: object, source: KindSource
) -> list[tuple[str, str, Any]]:
    """Return (scope, name, item) for every item ``plugin`` offers; raise LoadProblemError."""
    hook = getattr(plugin, group.hook, None)
    if hook is not None and not hasattr(hook, f"{group.project_name}_impl"):
        # pluggy would silently skip it (e.g. marked with arcaflow_steps.hookimpl instead)
        specs = getattr(group.specs, "__name__", repr(group.specs))
        raise LoadProblemError(
            f"its {group.hook} is not marked as a {group.project_name!r} hook implementation; "
            f"decorate it with the hookimpl marker of {specs}"
        )
    hooks.register(plugin, source)
    found = []
    for item in hooks.call(plugin, group.hook):
        try:
            found.append((str(group.scope_of(item)), str(group.name_of(item)), item))
        except Exception as exc:
            raise LoadProblemError(
                f"a {group.what} is malformed: {describe_exception(exc)}"
            ) from exc
    return found


def load_extensions(
    group: ExtensionGroup,
    *,
    entry_points: Sequence[EntryPointInfo] = (),
    plugins: Sequence[object] = (),
) -> Extensions:
    """Load a group from its entry points (blocked ones already left out) or plugin objects."""
    hooks = HookLoader(group.project_name, (group.specs,))
    failures: list[LoadFailure] = []
    offered: list[tuple[KindSource, str, str, Any]] = []

    def fail(name: str, source: KindSource, cause: str) -> None:
        error = ExtensionLoadError(group.what, name, source, cause)
        failures.append(LoadFailure(what=group.what, name=name, sources=(source,), error=error))

    for info in entry_points:
        try:
            items = _offered(hooks, group, import_entry_point(info), info.source)
        except LoadProblemError as exc:
            fail(info.name, info.source, exc.cause)
            continue
        matches = [(scope, name, item) for scope, name, item in items if name == info.name]
        if not matches:
            fail(
                info.name,
                info.source,
                f"module {info.value!r} does not provide {group.what} {info.name!r}; its "
                f"{group.hook} hook returned {group.what}s: "
                f"{quote_sorted(name for _, name, _ in items)}",
            )
        offered.extend((info.source, scope, name, item) for scope, name, item in matches)
    for index, plugin in enumerate(plugins):
        source = plugin_source(plugin, index)
        try:
            items = _offered(hooks, group, plugin, source)
        except LoadProblemError as exc:
            fail(source.entry_point, source, exc.cause)
            continue
        offered.extend((source, scope, name, item) for scope, name, item in items)
    return Extensions(
        group=group, items=_unique(group, offered, failures), failures=tuple(failures)
    )


def _unique(
    group: ExtensionGroup,
    offered: Iterable[tuple[KindSource, str, str, Any]],
    failures: list[LoadFailure],
) -> tuple[Any, ...]:
    """Return the items whose (scope, name) is offered once, sorted; record the others."""
    grouped: dict[tuple[str, str], list[tuple[KindSource, Any]]] = {}
    for source, scope, name, item in offered:
        grouped.setdefault((scope, name), []).append((source, item))
    usable = []
    for (scope, name), found in sorted(grouped.items()):
        if len(found) == 1:
            usable.append(found[0][1])
            continue
        sources = tuple(source for source, _ in found)
        within = f"{group.scope} {scope!r}" if group.scope else ""
        error: ArcaflowStepsError = DuplicateExtensionError(group.what, name, within, sources)
        failures.append(LoadFailure(what=group.what, name=name, sources=sources, error=error))
    return tuple(usable)


for _cls in (ExtensionGroup, Extensions, ExtensionTable, ExtensionOwner):
    _cls.__module__ = "arcaflow_steps"
