"""Warm-ups: a provider package starts slow preparation while arcaflow-steps is still starting.

Theory of operation. Before its first step can deploy, ``arcaflow-steps run`` spends about a
tenth of a second importing itself, the providers and their schemas; a plugin's own start (an
interpreter importing its SDK) takes as long again. A warm-up lets the two overlap. A package
declares an entry point in the group ``arcaflow.step_warm_ups``, **named after a kind it
provides**, pointing at a function::

    def warm_up(definitions: Sequence[Mapping[str, Any]]) -> SupportsClose | None: ...

``run`` calls it once per kind, with the raw step definitions of that kind, right after reading
the step files and before it imports any provider, and closes what it returned once every
provider is closed. The contract:

- *A hint, never a decision.* The definitions are not validated: act only on those you fully
  understand and ignore the rest. The step still goes through its provider, which validates it
  and reports problems; whatever the warm-up started must merely be usable, not required.
- *Quick.* Start things (a process, a pull); never wait for them.
- *Owned.* Return an object whose ``close()`` releases what was started (or ``None``). It is
  called once, after the registry closed, also when the run failed or was interrupted.
- *Light to import.* The module is imported before the rest of arcaflow-steps; import the
  standard library and :mod:`arcaflow_steps` errors at module level, nothing heavier.

A warm-up that starts a process as a fork of this one may claim the *start-up seed*
(:func:`arcaflow_steps._start_seed.claim`): a copy of the CLI forked before its imports, so much
smaller. Once every warm-up was called, a seed nobody claimed is released (it exits).

A warm-up is called only when the distribution that declares it also declares the kind's
provider entry point (another package cannot warm up someone else's kind), and not when that
name is blocked (``-p no:NAME``). An exception from loading or calling it is logged on the
``arcaflow_steps`` logger and ignored: a broken warm-up costs time, never a run
(``arcaflow-steps check`` reports it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, final

from ._entry_points import DEFAULT_KIND, KIND_KEY, EntryPointInfo
from ._start_seed import release as release_start_seed

__all__ = [
    "SupportsClose",
    "WarmUps",
    "start_warm_ups",
    "usable_warm_ups",
    "warm_up_problems",
]

_LOGGER_NAME: Final = "arcaflow_steps"


class SupportsClose(Protocol):
    """What a warm-up returns: something to close when the run is over."""

    def close(self) -> None:
        """Release what the warm-up started."""


def _log_failure(what: str, info: EntryPointInfo) -> None:
    import logging  # only on failure: keeps the path to the warm-ups short

    logging.getLogger(_LOGGER_NAME).debug(
        "warm-up %r of %s %s (%s) failed while %s; ignored",
        info.name,
        info.distribution,
        info.version,
        info.value,
        what,
        exc_info=True,
    )


@final
class WarmUps:
    """What the warm-ups of one run returned; :meth:`close` closes each, last started first.

    Thread safety: not for concurrent use; the CLI starts and closes it on its main thread.
    """

    def __init__(self, started: Sequence[tuple[EntryPointInfo, SupportsClose]] = ()) -> None:
        self._started = list(started)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the kinds whose warm-up returned something to close, in start order."""
        return tuple(info.name for info, _ in self._started)

    def close(self) -> None:
        """Close everything the warm-ups returned (idempotent); failures are logged."""
        started, self._started = self._started, []
        for info, handle in reversed(started):
            try:
                handle.close()
            except Exception:
                _log_failure("closing", info)

    def __enter__(self) -> WarmUps:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def usable_warm_ups(
    provider_entry_points: Iterable[EntryPointInfo], warm_up_entry_points: Iterable[EntryPointInfo]
) -> dict[str, EntryPointInfo]:
    """Return kind -> its warm-up, for warm-ups whose distribution also provides that kind.

    A kind declared by several distributions (an error the registry reports) or with several
    warm-ups gets none.
    """
    providers: dict[str, list[str]] = {}
    for info in provider_entry_points:
        providers.setdefault(info.name, []).append(info.distribution)
    warm_ups: dict[str, list[EntryPointInfo]] = {}
    for info in warm_up_entry_points:
        warm_ups.setdefault(info.name, []).append(info)
    return {
        kind: infos[0]
        for kind, infos in warm_ups.items()
        if len(infos) == 1 and providers.get(kind) == [infos[0].distribution]
    }


def start_warm_ups(
    provider_entry_points: Iterable[EntryPointInfo],
    warm_up_entry_points: Iterable[EntryPointInfo],
    definitions: Iterable[Any],
) -> WarmUps:
    """Call the warm-up of each kind found in ``definitions`` (raw step definitions).

    Never raises for a warm-up's failure; the returned :class:`WarmUps` must be closed.
    """
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for definition in definitions:
        if isinstance(definition, Mapping):
            kind = definition.get(KIND_KEY, DEFAULT_KIND)
            if isinstance(kind, str):
                by_kind.setdefault(kind, []).append(definition)
    usable = usable_warm_ups(provider_entry_points, warm_up_entry_points)
    started: list[tuple[EntryPointInfo, SupportsClose]] = []
    try:
        for kind, kind_definitions in by_kind.items():
            info = usable.get(kind)
            if info is None:
                continue
            try:
                handle = info.load()(tuple(kind_definitions))
            except Exception:
                _log_failure("starting", info)
                continue
            if handle is not None:
                started.append((info, handle))
    finally:
        release_start_seed()  # only a warm-up may claim it: nobody will any more
    return WarmUps(started)


def warm_up_problems(
    provider_entry_points: Sequence[EntryPointInfo], warm_up_entry_points: Sequence[EntryPointInfo]
) -> list[tuple[EntryPointInfo, str]]:
    """Return each warm-up ``run`` would skip or fail on, with why (for ``arcaflow-steps check``).

    Imports every warm-up module (but calls nothing).
    """
    usable = usable_warm_ups(provider_entry_points, warm_up_entry_points)
    providers = {info.name: info for info in provider_entry_points}
    problems: list[tuple[EntryPointInfo, str]] = []
    for info in warm_up_entry_points:
        if usable.get(info.name) is not info:
            provider = providers.get(info.name)
            why = (
                f"no installed distribution provides the kind {info.name!r}"
                if provider is None
                else f"the kind {info.name!r} is provided by {provider.distribution}, and only "
                "the providing distribution may warm it up, with one warm-up entry point"
            )
            problems.append((info, f"never called: {why}"))
            continue
        try:
            function = info.load()
        except Exception as exc:  # reported, like a provider that fails to import
            problems.append((info, f"cannot be loaded: {type(exc).__name__}: {exc}"))
            continue
        if not callable(function):
            problems.append((info, f"{info.value!r} is not callable"))
    return problems
