"""The ``arcaflow-steps`` command line: list, describe, check, schema, run, workflow,
new-provider.

Errors of ours (:class:`~arcaflow_steps.ArcaflowStepsError`) and usage errors print one
line-oriented message without a traceback and exit 1 (2 means an error output); anything
else is a bug and keeps its traceback. Imports are lazy: ``list --format json`` needs only
entry-point metadata, so it imports neither provider code nor rich, PyYAML or cattrs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn

__all__ = [
    "EXIT_ERROR_OUTPUT",
    "EXIT_FATAL",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "build_parser",
    "console_main",
    "installed_version",
    "main",
]

#: Every step produced a non-error output.
EXIT_OK: Final = 0
#: Invalid input (bad step file, unknown kind, failed check) or one of our errors.
EXIT_INVALID: Final = 1
#: A step produced an error output.
EXIT_ERROR_OUTPUT: Final = 2
#: A step ended in a fatal stage of its lifecycle, or the runner had to end it.
EXIT_FATAL: Final = 3
#: ``run --timeout`` was reached and closed the steps still running (as ``timeout(1)``).
EXIT_TIMEOUT: Final = 124

PROG: Final = "arcaflow-steps"

#: Command name -> (module under ``arcaflow_steps.cli`` with ``add_arguments``/``run``, help).
#: Modules are imported only for the command being run (and for ``--help``).
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "list": ("_inspect_list", "list installed step kinds (reads metadata only)"),
    "describe": ("_inspect_describe", "show a kind's keywords, lifecycle and schemas"),
    "check": ("_inspect_check", "import and validate every provider; report every failure"),
    "schema": ("_inspect_schema", "print the JSON Schema of step files (for editors)"),
    "run": ("_run", "run step files and print each step's result"),
    "workflow": ("_workflow", "run an Arcaflow workflow file (the Go engine's flags)"),
    "new-provider": ("new_provider", "scaffold a provider package"),
}


#: Options of every command, also accepted before the command (``-p no:NAME list``); the
#: top-level parser keeps them under its own ``dest`` prefix (a sub-parser's defaults would
#: overwrite a shared one), and :func:`._common.blocked_names` merges both.
_VALUE_OPTIONS: Final = frozenset({"-p", "--disable-plugin"})


def _add_plugin_options(parser: argparse.ArgumentParser, *, dest_prefix: str = "") -> None:
    parser.add_argument(
        "-p",
        dest=f"{dest_prefix}plugin_options",
        action="append",
        default=[],
        metavar="no:NAME",
        help="block the entry point NAME (repeatable; like pytest); "
        "also ARCAFLOW_STEPS_DISABLE_PLUGINS=a,b",
    )
    parser.add_argument(
        "--disable-plugin",
        dest=f"{dest_prefix}disabled_plugins",
        action="append",
        default=[],
        metavar="NAME",
        help="block the entry point NAME (repeatable, or comma-separated)",
    )


def _add_format_option(parser: argparse.ArgumentParser, *, default: str = "table") -> None:
    parser.add_argument(
        "--format",
        choices=("table", "json", "yaml"),
        default=default,
        help=f"output format (default: {default})",
    )


class _VersionAction(argparse.Action):
    """Print the version, looked up only when asked (every other run skips the metadata read)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(f"{PROG} {installed_version()}\n")
        parser.exit()


def installed_version() -> str:
    """Return the installed version of arcaflow-steps (read from its metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arcaflow-steps")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 1 (invalid input): 2 means an error output."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _chosen_command(argv: Sequence[str]) -> str | None:
    index = _command_index(argv)
    return None if index is None else argv[index]


def _command_index(argv: Sequence[str]) -> int | None:
    """Return the position of the command in ``argv`` (None: no known command)."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in _VALUE_OPTIONS:
            index += 1  # the option's value, not the command
        elif not token.startswith("-"):
            return index if token in COMMANDS else None
        index += 1
    return None


#: Commands whose arguments are theirs to parse (``workflow`` follows Go's ``flag`` rules,
#: ``-context=DIR``, which argparse cannot): argparse sees only what comes before them.
_RAW_ARGUMENT_COMMANDS: Final = {"workflow": "workflow_args"}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Return the argument parser; only the command named in ``argv`` gets its full arguments."""
    parser = _ArgumentParser(
        prog=PROG,
        description="Find, check and run arcaflow-steps providers.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the installed version and exit"
    )
    _add_plugin_options(parser, dest_prefix="global_")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv)
    wants_help = not argv or any(token in ("-h", "--help") for token in argv)
    for name, (module_name, help_text) in COMMANDS.items():
        if name != chosen and not (wants_help and chosen is None):
            subparsers.add_parser(name, help=help_text, add_help=False)
            continue
        module = _command_module(module_name)
        if module is None:
            subparsers.add_parser(name, help=f"{help_text} (not available)")
            continue
        if hasattr(module, "add_parser"):  # the kit's new-provider owns its sub-parser
            module.add_parser(subparsers)
            continue
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def _command_module(module_name: str) -> Any:
    try:
        return importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{module_name}":
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    raw_arguments: list[str] | None = None
    index = _command_index(args_list)
    if index is not None and args_list[index] in _RAW_ARGUMENT_COMMANDS:
        args_list, raw_arguments = args_list[: index + 1], args_list[index + 1 :]
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if raw_arguments is not None:
        setattr(args, _RAW_ARGUMENT_COMMANDS[args.command], raw_arguments)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        module = _command_module(COMMANDS[args.command][0])
        run = getattr(module, "run", None)
        if run is None:
            parser.error(f"command {args.command!r} is not available")
        handler = run
    try:
        return int(handler(args))
    except BrokenPipeError:  # e.g. `arcaflow-steps list | head`
        return EXIT_OK
    except KeyboardInterrupt:  # before steps run (e.g. while a plugin's schema loads)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 128 + 2
    except OSError as exc:
        if not _is_output_failure(exc):
            raise  # a bug: keep the traceback
        _discard_stdout()
        print(f"{PROG}: error: cannot write the output: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:
        # Imported here, not at the top: `list` runs without loading the error classes.
        from .._errors import ArcaflowStepsError

        if not isinstance(exc, ArcaflowStepsError):
            raise  # a bug: keep the traceback
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID


def _is_output_failure(error: OSError) -> bool:
    """Return whether ``error`` is stdout refusing our output (a full disk, ``> /dev/full``)."""
    import errno

    return error.filename is None and error.errno in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EIO,
    )


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail (and report) again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real descriptor behind stdout (in-process callers)
        pass


#: Whether the command line runs as the program (:func:`console_main`), not called in-process.
_as_program = False
#: The commands that run steps: they plant a start-up seed (:mod:`arcaflow_steps._start_seed`)
#: that a warm-up may claim (the ``plugin`` kind's makes it its fork server's zygote).
_SEEDED_COMMANDS: Final = frozenset({"run", "workflow"})


def runs_as_program() -> bool:
    """Return whether :func:`console_main` runs the command line (the process ends after it)."""
    return _as_program


def console_main() -> NoReturn:
    """Run the command line as a program (the ``arcaflow-steps`` script) and exit.

    Every step, provider and registry is closed when :func:`main` returns; what is left is
    interpreter shutdown, whose cyclic garbage collection of the ~25,000 objects a run leaves
    costs ~10 ms (5 % of a one-step run). Freezing them skips that pass; atexit handlers still
    run and the streams are still flushed.
    """
    global _as_program
    _as_program = True
    if _chosen_command(sys.argv[1:]) in _SEEDED_COMMANDS:
        from .._blocked_names import mentions_blocking_options
        from .._start_seed import plant

        # first: before the imports that a seed's claimant would not want
        plant(prepare=not mentions_blocking_options(sys.argv[1:]))
    from ._stderr import forgiving

    if sys.stderr is not None:
        sys.stderr = forgiving(sys.stderr)
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before main's own handling (parsing, imports)
        print(f"{PROG}: interrupted", file=sys.stderr)
        code = 128 + 2
    import gc

    gc.freeze()
    sys.exit(code)
