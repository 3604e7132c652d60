"""What the commands share: building the registry from options and printing in each format."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from .._entry_points import EntryPointInfo
    from .._loader import LoadFailure
    from .._registry import Registry

__all__ = [
    "blocked_names",
    "console",
    "emit",
    "failure_record",
    "freeze_start_up_objects",
    "make_registry",
    "plain",
    "scan_entry_points",
]


def blocked_names(args: argparse.Namespace) -> list[str]:
    """Return the entry-point names blocked by ``-p no:NAME`` and ``--disable-plugin NAME``,
    given before or after the command."""
    names: list[str] = [
        *getattr(args, "global_disabled_plugins", []),
        *getattr(args, "disabled_plugins", []),
    ]
    options = [*getattr(args, "global_plugin_options", []), *getattr(args, "plugin_options", [])]
    for option in options:
        if not option.startswith("no:") or not option[3:]:
            from .._errors import StepDefinitionError

            raise StepDefinitionError(
                f"-p takes 'no:NAME' to block the entry point NAME, got {option!r}"
            )
        names.append(option[3:])
    return names


def scan_entry_points(
    args: argparse.Namespace, *groups: str
) -> tuple[dict[str, tuple[EntryPointInfo, ...]], frozenset[str]]:
    """Read the registry's entry-point groups, every extension group and ``groups`` in one
    metadata pass, honouring the blocking options; return them by group, and the blocked
    names."""
    from .._entry_points import REGISTRY_GROUPS, parse_blocked, scan_groups

    blocked = parse_blocked(extra=blocked_names(args))
    found = scan_groups((*REGISTRY_GROUPS, *groups), blocked=blocked, extensions=True)
    return found, blocked


def freeze_start_up_objects() -> None:
    """Exempt every object made so far from garbage collection, right before steps start.

    What start-up made (modules, classes, schemas, the plan) lives until the command ends. Left
    to the collector, its oldest generation is scanned while the steps run, on the thread
    that holds the interpreter lock: a 60-75 ms pause at the first full collection of a
    256-item foreach, and ~100 ms of collector time per run. ``gc.freeze`` moves it all to the
    permanent generation instead, so later collections scan only what the run makes. Only
    when the command line runs as a program (the process ends with the command, so nothing
    needs unfreezing); a caller of :func:`main` keeps its collector as it was.
    """
    import gc

    from . import runs_as_program

    if runs_as_program():
        gc.freeze()


def make_registry(
    args: argparse.Namespace,
    scanned: tuple[dict[str, tuple[EntryPointInfo, ...]], frozenset[str]] | None = None,
) -> Registry:
    """Return a registry of the installed entry points (``scanned`` by
    :func:`scan_entry_points`, or read now), honouring the blocking options."""
    from .._registry import Registry

    found, blocked = scan_entry_points(args) if scanned is None else scanned
    return Registry.from_scan(found, blocked=blocked)


def failure_record(failure: LoadFailure) -> dict[str, Any]:
    """Return a load failure as a plain record (for JSON and YAML)."""
    return {
        failure.what if failure.what != "provider" else "kind": failure.name,
        "distributions": list(failure.distributions),
        "entry_points": [source.entry_point for source in failure.sources],
        "error": failure.message,
    }


def console(stream: TextIO | None = None) -> Console:
    """Return a rich console on ``stream`` (stdout by default); messages are never hard-wrapped."""
    from rich.console import Console

    stream = stream or sys.stdout
    # Piped output is read by people with wide windows and by grep: do not cut names short.
    width = None if stream.isatty() else 160
    return Console(file=stream, width=width, soft_wrap=True, highlight=False)


def plain(value: Any) -> Any:  # noqa: PLR0911 (one return per kind of value)
    """Return ``value`` as plain JSON/YAML data: dicts, lists and scalars (enums as values)."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its value
    if isinstance(value, int):
        return int(value)  # an IntEnum member becomes its value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def emit(data: Any, output_format: str, table: Callable[[], None]) -> None:
    """Print ``data`` as JSON or YAML, or call ``table`` to print the table form."""
    data = plain(data)
    if output_format == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    elif output_format == "yaml":
        import yaml

        from .._yaml12 import Yaml12SafeDumper

        sys.stdout.write(
            yaml.dump(data, Dumper=Yaml12SafeDumper, sort_keys=False, allow_unicode=True)
        )
    else:
        table()
    sys.stdout.flush()
