"""``arcaflow-steps new-provider NAME``: scaffold a provider package that passes its own tests.

The package is rendered from the template files in ``_templates/provider`` (package data).
Every path and file there may contain the placeholders ``{{kind}}``, ``{{package}}``,
``{{distribution}}``, ``{{class_name}}`` and ``{{version}}``; files named ``*.tmpl`` lose that
suffix, so template Python files are never imported, linted or collected as tests here.

The result is a complete distribution: ``pyproject.toml`` with the entry point named after the
kind, a module with the ``arcaflow_steps_providers`` hookimpl, a provider built on
:class:`arcaflow_steps.authoring.StepProviderBase`, and tests that run the conformance kit. It
installs (``pip install -e DIR``), shows up in ``arcaflow-steps list``, passes ``check``, runs
with ``arcaflow-steps run``, and its tests pass unmodified.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from .._entry_points import KIND_KEY, PROVIDER_GROUP, is_valid_name, scan
from .._errors import ArcaflowStepsError, quote_sorted

__all__ = ["ScaffoldError", "add_parser", "render_provider", "run"]

#: The template tree, relative to this package.
TEMPLATE: Final = ("_templates", "provider")
_SUFFIX: Final = ".tmpl"
_PLACEHOLDER: Final = re.compile(r"\{\{(\w+)\}\}")


class ScaffoldError(ArcaflowStepsError):
    """The package cannot be scaffolded (bad name, target not empty)."""


def add_parser(subparsers: Any) -> None:
    """Add ``new-provider`` to the CLI's sub-parsers."""
    help_text = "scaffold a provider package that passes its own conformance tests"
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "new-provider", help=help_text, description=help_text
    )
    parser.add_argument("name", metavar="NAME", help="the kind, e.g. 'greet' ([a-z][a-z0-9_-]*)")
    parser.add_argument(
        "--directory",
        type=Path,
        default=None,
        help="where to create the package (default: ./arcaflow-steps-NAME)",
    )
    parser.add_argument(
        "--distribution", default=None, help="distribution name (default: arcaflow-steps-NAME)"
    )
    parser.add_argument(
        "--package", default=None, help="import name (default: arcaflow_steps_NAME)"
    )
    parser.set_defaults(handler=run)


#: Keys the scaffold's step definitions already use: ``kind``, its run keyword and its stage
#: input field; a kind of the same name would make its provider keyword collide.
_RESERVED: Final = frozenset({KIND_KEY, "message", "delay"})


def _names(kind: str, distribution: str | None, package: str | None) -> dict[str, str]:
    if not is_valid_name(kind):
        raise ScaffoldError(
            f"provider name {kind!r} is not a valid kind; use lowercase [a-z][a-z0-9_-]*"
        )
    if kind in _RESERVED:
        raise ScaffoldError(
            f"provider name {kind!r} cannot be used: the scaffold's provider keyword is the "
            f"kind, and these keys are taken: {quote_sorted(_RESERVED)}"
        )
    snake = kind.replace("-", "_")
    package = package or f"arcaflow_steps_{snake}"
    if not package.isidentifier():
        raise ScaffoldError(f"package name {package!r} is not a Python identifier")
    return {
        "kind": kind,
        "package": package,
        "distribution": distribution or f"arcaflow-steps-{kind}",
        "class_name": "".join(part.capitalize() for part in re.split(r"[-_]", kind)),
        "version": "0.1.0",
    }


def _render(text: str, names: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: names.get(match[1], match[0]), text)


def _copy(source: Traversable, target: Path, names: dict[str, str], written: list[Path]) -> None:
    for item in sorted(source.iterdir(), key=lambda entry: entry.name):
        if item.name == "__pycache__":
            continue
        name = _render(item.name, names).removesuffix(_SUFFIX)
        path = target / name
        if item.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            _copy(item, path, names, written)
        else:
            path.write_text(_render(item.read_text(encoding="utf-8"), names), encoding="utf-8")
            written.append(path)


def render_provider(
    kind: str,
    directory: Path | None = None,
    *,
    distribution: str | None = None,
    package: str | None = None,
) -> list[Path]:
    """Write the package for ``kind`` into ``directory``; return the files written.

    Raises:
        ScaffoldError: the name is not a valid kind, or ``directory`` exists and is not empty.
    """
    names = _names(kind, distribution, package)
    target = directory if directory is not None else Path(names["distribution"])
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{str(target)!r} exists and is not a directory")
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"directory {str(target)!r} exists and is not empty")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScaffoldError(
            f"cannot create directory {str(target)!r}: {exc.strerror or exc}"
        ) from None
    template = resources.files("arcaflow_steps.cli").joinpath(*TEMPLATE)
    written: list[Path] = []
    _copy(template, target, names, written)
    return written


def run(args: argparse.Namespace) -> int:
    """Scaffold the package and say what to do next."""
    names = _names(args.name, args.distribution, args.package)
    directory = args.directory if args.directory is not None else Path(names["distribution"])
    written = render_provider(
        args.name, directory, distribution=args.distribution, package=args.package
    )
    print(f"created {names['distribution']} (kind {names['kind']!r}) in {directory}:")
    for taken in scan(PROVIDER_GROUP):
        if taken.name == names["kind"]:
            print(
                f"note: kind {taken.name!r} is already provided by {taken.distribution} "
                f"{taken.version}; with both installed, 'arcaflow-steps check' reports the "
                "kind as provided twice",
                file=sys.stderr,
            )
    for path in written:
        print(f"  {path.relative_to(directory)}")
    print(
        "next:\n"
        f"  pip install -e {directory}\n"
        f"  arcaflow-steps list              # shows kind {names['kind']!r}\n"
        "  arcaflow-steps check\n"
        f"  arcaflow-steps run {directory / 'example.yaml'}\n"
        f"  python -m pytest {directory / 'tests'}",
        file=sys.stdout,
    )
    return 0
