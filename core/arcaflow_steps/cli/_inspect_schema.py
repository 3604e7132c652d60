"""``arcaflow-steps schema``: the JSON Schema of step files, for editors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import _add_plugin_options
from ._common import make_registry

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``schema``."""
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help="write to this file instead of stdout"
    )
    _add_plugin_options(parser)


def run(args: argparse.Namespace) -> int:
    """Print the schema of step files over every kind that loads; warn about the others."""
    registry = make_registry(args)
    try:
        document = registry.step_definition_json_schema()
        failures = registry.failures()
    finally:
        registry.close()
    for failure in failures:
        # A kind that does not load is left out: say so, or an editor would call its steps
        # unknown without a reason.
        if failure.what == "provider":
            sys.stderr.write(
                f"arcaflow-steps: warning: kind {failure.name!r} left out of the schema: "
                f"{failure.message}\n"
            )
    text = json.dumps(document, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            from .._errors import StepDefinitionError

            reason = exc.strerror or str(exc)
            raise StepDefinitionError(
                f"cannot write the schema to {str(args.output)!r}: {reason}"
            ) from None
    return 0
