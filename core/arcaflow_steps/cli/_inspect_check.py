"""``arcaflow-steps check``: import and validate every provider, deployer and observer."""

from __future__ import annotations

import argparse

from . import EXIT_INVALID, EXIT_OK, _add_format_option, _add_plugin_options
from ._common import emit, failure_record, make_registry

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``check``."""
    _add_format_option(parser)
    _add_plugin_options(parser)


def run(args: argparse.Namespace) -> int:
    """Check everything; exit 1 when anything failed, naming distribution, entry point, cause."""
    registry = make_registry(args)
    try:
        failures = registry.check()
        ok_kinds = [provider.kind for provider in registry.loaded_providers()]
        deployers = [
            {"deployer": factory.deployer_name, "deployment_type": factory.deployment_type}
            for factory in registry.deployer_factories()
        ]
    finally:
        registry.close()
    data = {
        "ok": not failures,
        "kinds": ok_kinds,
        "deployers": deployers,
        "failures": [failure_record(failure) for failure in failures],
    }

    def table() -> None:
        from rich.text import Text

        from ._common import console

        out = console()
        for kind in ok_kinds:
            out.print(Text.assemble(("ok      ", "green"), f"kind {kind!r}"))
        for deployer in deployers:
            out.print(
                Text.assemble(
                    ("ok      ", "green"),
                    f"deployer {deployer['deployer']!r} "
                    f"(deployment type {deployer['deployment_type']!r})",
                )
            )
        for failure in failures:
            out.print(Text.assemble(("FAILED  ", "bold red"), failure.message))
        summary = f"{len(failures)} problem(s) found" if failures else "everything loads"
        out.print(Text(summary, style="bold red" if failures else "bold green"))

    emit(data, args.format, table)
    return EXIT_INVALID if failures else EXIT_OK
