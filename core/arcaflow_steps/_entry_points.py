"""Entry-point metadata: which kinds and extensions are installed, read without importing them.

Theory of operation: a provider package declares one entry point per kind in the group
``arcaflow.step_providers``, named after the kind; an observer-only package uses
``arcaflow.step_observers`` (any name). Every other ``arcaflow.step_*`` group is a provider's
extension group (:mod:`._extensions`), its entry points named after what they offer. Because the
names carry the meaning, this module can list kinds, spot a kind declared by two distributions
and honour blocked names from the installed metadata alone. Nothing here imports a provider
module; :mod:`._registry` does that on demand and then verifies that the module really provides
what its entry point promised."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from ._blocked_names import DISABLE_ENV, parse_blocked

if TYPE_CHECKING:
    from ._error_records import KindSource
    from ._errors import ArcaflowStepsError

__all__ = [
    "CORE_GROUPS",
    "DEFAULT_KIND",
    "DISABLE_ENV",
    "GROUP_NAMESPACE",
    "KIND_KEY",
    "OBSERVER_GROUP",
    "PROVIDER_GROUP",
    "REGISTRY_GROUPS",
    "WARM_UP_GROUP",
    "EntryPointInfo",
    "MetadataProblem",
    "is_valid_name",
    "metadata_problems",
    "parse_blocked",
    "scan",
    "scan_groups",
]

#: Entry-point group of provider packages; entry points are named after the kind.
PROVIDER_GROUP: Final = "arcaflow.step_providers"
#: Entry-point group of packages that only observe stage events (any name).
OBSERVER_GROUP: Final = "arcaflow.step_observers"
#: The groups a registry is built from.
REGISTRY_GROUPS: Final = (PROVIDER_GROUP, OBSERVER_GROUP)
#: Entry-point group of warm-ups (:mod:`._warm_up`); entry points are named after the kind.
WARM_UP_GROUP: Final = "arcaflow.step_warm_ups"
#: The groups core reads itself; every other group of :data:`GROUP_NAMESPACE` is an extension
#: group some provider loads.
CORE_GROUPS: Final = (PROVIDER_GROUP, OBSERVER_GROUP, WARM_UP_GROUP)
#: The prefix of every arcaflow-steps entry-point group.
GROUP_NAMESPACE: Final = "arcaflow.step_"

#: The key of a step definition that names its kind.
KIND_KEY: Final = "kind"
#: The kind of a step definition without ``kind``.
DEFAULT_KIND: Final = "plugin"

_NAME: Final = re.compile(r"[a-z][a-z0-9_-]*\Z")


def is_valid_name(name: str) -> bool:
    """Return whether ``name`` is usable as a kind or extension name (``[a-z][a-z0-9_-]*``)."""
    return _NAME.match(name) is not None


class EntryPointInfo(NamedTuple):
    """One installed entry point with the distribution that declares it.

    A ``NamedTuple`` rather than an attrs record: ``arcaflow-steps list`` imports this module
    and nothing heavier, and importing attrs alone would cost it a third of a bare scan.

    Thread safety: safe to share (immutable); :meth:`load` imports under Python's import lock.
    """

    group: str
    #: The entry point name: the kind, or the name of what it offers.
    name: str
    #: What it points at, ``module`` or ``module:attribute``.
    value: str
    distribution: str
    version: str

    @property
    def source(self) -> KindSource:
        """Return where this entry point comes from, for messages."""
        from ._error_records import KindSource

        return KindSource(
            distribution=self.distribution,
            version=self.version,
            entry_point=self.name,
            module=self.value,
        )

    def load(self) -> Any:
        """Import and return the module (or attribute) the entry point names."""
        module_name, _, attribute = self.value.partition(":")
        loaded: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            loaded = getattr(loaded, part)
        return loaded


def _distribution_of(entry_point: metadata.EntryPoint) -> tuple[str, str]:
    """Return the distribution name and version of an entry point.

    Reads only the header block of ``METADATA``: ``dist.metadata`` runs the e-mail parser over
    the whole file (long descriptions included), which is most of the time a listing of a
    thousand distributions takes.
    """
    dist = entry_point.dist
    if dist is None:  # pragma: no cover - entry_points() always sets it
        return "<unknown distribution>", "?"
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = version = ""
    for line in text.partition("\n\n")[0].splitlines():
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    if not name or not version:  # unusual metadata: let importlib.metadata parse it
        meta = dist.metadata
        name, version = str(meta["Name"] or name), str(meta["Version"] or version)
    return name, version


def scan(group: str, *, blocked: Iterable[str] = ()) -> tuple[EntryPointInfo, ...]:
    """Return the entry points of ``group``, blocked names left out, sorted by name and source.

    Reads installed metadata only; imports nothing. A distribution found twice on ``sys.path``
    counts once (the first, as ``importlib.metadata`` resolves it).
    """
    return scan_groups((group,), blocked=blocked)[group]


def scan_groups(
    groups: Sequence[str], *, blocked: Iterable[str] = (), extensions: bool = False
) -> dict[str, tuple[EntryPointInfo, ...]]:
    """Return the entry points of several groups, reading every distribution's metadata once.

    With ``extensions``, also every extension group installed (see :data:`CORE_GROUPS`).
    """
    skip = frozenset(blocked)
    everything = metadata.entry_points()  # one pass over the installed distributions
    found: dict[str, list[EntryPointInfo]] = {group: [] for group in groups}
    if extensions:
        for group in sorted(everything.groups):
            if group.startswith(GROUP_NAMESPACE) and group not in CORE_GROUPS:
                found.setdefault(group, [])
    for group, infos in found.items():
        for entry_point in everything.select(group=group):
            if entry_point.name in skip:
                continue
            distribution, version = _distribution_of(entry_point)
            infos.append(
                EntryPointInfo(
                    group=group,
                    name=entry_point.name,
                    value=entry_point.value,
                    distribution=distribution,
                    version=version,
                )
            )
    return {
        group: tuple(
            sorted(
                infos,
                key=lambda info: (info.name, info.distribution.lower(), info.version, info.value),
            )
        )
        for group, infos in found.items()
    }


class MetadataProblem(NamedTuple):
    """A kind that is unusable from metadata alone: declared twice, or not a valid name."""

    kind: str
    entry_points: tuple[EntryPointInfo, ...]
    #: True: declared by several distributions; False: the name is not a valid kind.
    is_duplicate: bool

    def error(self) -> ArcaflowStepsError:
        """Return the error ``Registry.get`` raises for this kind."""
        from ._errors import DuplicateKindError, ProviderLoadError

        sources = [info.source for info in self.entry_points]
        if self.is_duplicate:
            return DuplicateKindError(self.kind, sources)
        return ProviderLoadError(
            self.kind,
            sources[0],
            f"entry point name {self.kind!r} is not a valid kind; use lowercase [a-z][a-z0-9_-]*",
        )


def metadata_problems(provider_entry_points: Iterable[EntryPointInfo]) -> list[MetadataProblem]:
    """Return the kinds declared by more than one distribution or with invalid names, sorted."""
    by_kind: dict[str, list[EntryPointInfo]] = {}
    for info in provider_entry_points:
        by_kind.setdefault(info.name, []).append(info)
    problems = []
    for kind, infos in sorted(by_kind.items()):
        if len(infos) > 1:
            problems.append(MetadataProblem(kind, tuple(infos), is_duplicate=True))
        elif not is_valid_name(kind):
            problems.append(MetadataProblem(kind, tuple(infos), is_duplicate=False))
    return problems
