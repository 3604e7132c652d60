"""``arcaflow-steps check``: import and validate every provider, extension and observer."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import EXIT_INVALID, EXIT_OK, _add_format_option, _add_plugin_options
from ._common import emit, failure_record, make_registry, scan_entry_points

if TYPE_CHECKING:
    from .._entry_points import EntryPointInfo
    from .._loader import LoadFailure
    from .._registry import Registry

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``check``."""
    _add_format_option(parser)
    _add_plugin_options(parser)


def run(args: argparse.Namespace) -> int:
    """Check everything; exit 1 when anything failed, naming distribution, entry point, cause."""
    from .._entry_points import WARM_UP_GROUP
    from .._start_seed import PREPARATIONS_GROUP

    scanned = scan_entry_points(args, WARM_UP_GROUP, PREPARATIONS_GROUP)
    registry = make_registry(args, scanned)
    try:
        warm_ups, warm_up_failures = _check_warm_ups(scanned[0])
        preparations, preparation_failures = _check_seed_preparations(
            scanned[0][PREPARATIONS_GROUP]
        )
        failures = [*registry.check(), *warm_up_failures, *preparation_failures]
        schema_failures = _check_runnable_schemas(registry)
        failures += schema_failures
        broken = {failure.name for failure in schema_failures}
        ok_kinds = [
            provider.kind for provider in registry.loaded_providers() if provider.kind not in broken
        ]
        # What providers load for themselves: "<what>s": [{"<what>": name, "<scope>": scope}].
        extensions = {
            f"{loaded.group.what}s": (loaded.group, loaded.records())
            for loaded in registry.loaded_extensions()
        }
    finally:
        registry.close()
    data = {
        "ok": not failures,
        "kinds": ok_kinds,
        **{title: records for title, (_, records) in extensions.items()},
        "warm_ups": warm_ups,
        "seed_preparations": preparations,
        "failures": [failure_record(failure) for failure in failures],
    }

    def table() -> None:
        from rich.text import Text

        from ._common import console

        out = console()
        for kind in ok_kinds:
            out.print(Text.assemble(("ok      ", "green"), f"kind {kind!r}"))
        for group, records in extensions.values():
            scope_key = group.scope.replace(" ", "_")
            for record in records:
                scope = f" ({group.scope} {record[scope_key]!r})" if scope_key else ""
                out.print(
                    Text.assemble(
                        ("ok      ", "green"), f"{group.what} {record[group.what]!r}{scope}"
                    )
                )
        for kind in warm_ups:
            out.print(Text.assemble(("ok      ", "green"), f"warm-up for kind {kind!r}"))
        for name in preparations:
            out.print(Text.assemble(("ok      ", "green"), f"start-up seed preparation {name!r}"))
        for failure in failures:
            out.print(Text.assemble(("FAILED  ", "bold red"), failure.message))
        summary = f"{len(failures)} problem(s) found" if failures else "everything loads"
        out.print(Text(summary, style="bold red" if failures else "bold green"))

    emit(data, args.format, table)
    return EXIT_INVALID if failures else EXIT_OK


def _check_seed_preparations(
    found: Sequence[EntryPointInfo],
) -> tuple[list[str], list[LoadFailure]]:
    """Return the start-up seed's preparations (``arcaflow.start_seed``) that load, and the
    failures of those the seed would skip (it imports them, and calls each without
    arguments; here nothing is called)."""
    from .._errors import RegistryError
    from .._loader import LoadFailure

    ok: list[str] = []
    failures: list[LoadFailure] = []
    for info in found:
        try:
            function = info.load()
        except Exception as exc:  # reported, like a warm-up that fails to import
            why = f"cannot be loaded: {type(exc).__name__}: {exc}"
        else:
            if callable(function):
                ok.append(info.name)
                continue
            why = f"{info.value!r} is not callable"
        failures.append(
            LoadFailure(
                what="seed preparation",
                name=info.name,
                sources=(info.source,),
                error=RegistryError(
                    f"start-up seed preparation {info.name!r} from {info.source} {why} (the "
                    "seed skips it)"
                ),
            )
        )
    return ok, failures


def _check_runnable_schemas(registry: Registry) -> list[LoadFailure]:
    """Return a failure for each provider whose run or stage schemas, loaded with its default
    configuration, break the schema rules ``run`` and the kit apply."""
    from .._errors import InvalidProviderError
    from .._loader import LoadFailure
    from .._schema_rules import default_runnable_problems

    failures = []
    for provider in registry.loaded_providers():
        problems = default_runnable_problems(provider)
        if problems:
            source = registry.source(provider.kind)
            failures.append(
                LoadFailure(
                    what="provider",
                    name=provider.kind,
                    sources=() if source is None else (source,),
                    error=InvalidProviderError(provider.kind, "; ".join(problems)),
                )
            )
    return failures


def _check_warm_ups(
    found: Mapping[str, Sequence[EntryPointInfo]],
) -> tuple[list[str], list[LoadFailure]]:
    """Return the kinds whose warm-up (``arcaflow.step_warm_ups``) loads, and the failures of
    those ``run`` would skip or fail on (``found``: the scanned entry points by group)."""
    from .._entry_points import PROVIDER_GROUP, WARM_UP_GROUP
    from .._errors import RegistryError
    from .._loader import LoadFailure
    from .._warm_up import warm_up_problems

    problems = warm_up_problems(found[PROVIDER_GROUP], found[WARM_UP_GROUP])
    failing = {info for info, _ in problems}
    ok = [info.name for info in found[WARM_UP_GROUP] if info not in failing]
    return ok, [
        LoadFailure(
            what="warm-up",
            name=info.name,
            sources=(info.source,),
            error=RegistryError(f"warm-up for kind {info.name!r} from {info.source} {why}"),
        )
        for info, why in problems
    ]
