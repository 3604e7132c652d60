"""``arcaflow-steps list``: the installed kinds and extensions, from metadata alone.

Nothing here imports provider code: the kind is the entry point's name. A kind declared by two
distributions is listed under ``failures``, not under ``providers``. Each extension group
(``arcaflow.step_NAMEs``) is listed under ``NAMEs``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._entry_points import (
    GROUP_NAMESPACE,
    PROVIDER_GROUP,
    EntryPointInfo,
    metadata_problems,
    parse_blocked,
    scan_groups,
)
from . import _add_format_option, _add_plugin_options
from ._common import blocked_names, emit

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``list``."""
    _add_format_option(parser)
    _add_plugin_options(parser)


def _record(info: EntryPointInfo, key: str) -> dict[str, Any]:
    return {
        key: info.name,
        "distribution": info.distribution,
        "version": info.version,
        "entry_point": info.name,
        "module": info.value,
    }


def run(args: argparse.Namespace) -> int:
    """List kinds and extensions; exit 0 even when some are unusable (``check`` fails then)."""
    # Metadata only, without a Registry: no pluggy, attrs or error classes on this path.
    blocked_set = parse_blocked(None, blocked_names(args))
    found = scan_groups((PROVIDER_GROUP,), blocked=blocked_set, extensions=True)
    entries = found.pop(PROVIDER_GROUP)
    # "arcaflow.step_backends" -> "backends", one of them a "backend".
    extensions = {
        group.removeprefix(GROUP_NAMESPACE): infos for group, infos in found.items() if infos
    }
    found_problems = metadata_problems(entries)
    problems = {problem.kind for problem in found_problems}
    messages = [str(problem.error()) for problem in found_problems]
    blocked = sorted(blocked_set)
    data: dict[str, Any] = {
        "providers": [_record(info, "kind") for info in entries if info.name not in problems],
        **{
            title: [_record(info, title.removesuffix("s")) for info in infos]
            for title, infos in extensions.items()
        },
        "failures": [
            {
                "kind": problem.kind,
                "distributions": [
                    f"{info.distribution} {info.version}" for info in problem.entry_points
                ],
                "entry_points": [info.name for info in problem.entry_points],
                "error": message,
            }
            for problem, message in zip(found_problems, messages, strict=True)
        ],
        "blocked": blocked,
    }

    def table() -> None:
        from rich.table import Table
        from rich.text import Text

        from ._common import console

        out = console()
        kinds = Table(title="step kinds", title_justify="left")
        for column in ("kind", "distribution", "version", "module", "status"):
            kinds.add_column(column)
        for info in entries:
            # Metadata only: "installed" says nothing about importing; `check` does that.
            status = Text("conflict", style="red") if info.name in problems else Text("installed")
            kinds.add_row(
                Text(info.name),
                Text(info.distribution),
                Text(info.version),
                Text(info.value),
                status,
            )
        out.print(kinds)
        for title, infos in extensions.items():
            listing = Table(title=title, title_justify="left")
            for column in (title.removesuffix("s"), "distribution", "version", "module"):
                listing.add_column(column)
            for info in infos:
                listing.add_row(
                    Text(info.name), Text(info.distribution), Text(info.version), Text(info.value)
                )
            out.print(listing)
        for message in messages:
            out.print(Text.assemble(("problem: ", "red"), message))
        if blocked:
            out.print(Text("blocked: " + ", ".join(blocked)))

    emit(data, args.format, table)
    return 0
