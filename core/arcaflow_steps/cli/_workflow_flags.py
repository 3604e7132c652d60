"""The flags of ``arcaflow-steps workflow``, parsed by the Go ``flag`` package's rules.

The Go engine's ``arcaflow`` binary parses its command line with Go's ``flag`` package, and
scripts written for it must work unchanged here, so this is a small hand-written parser with
the same rules (argparse cannot do ``-context=DIR`` or ``-debug=false``):

* a flag is ``-name`` or ``--name`` (one or two dashes, the same flag);
* a value flag takes ``-name value`` or ``-name=value`` (the next argument is its value even
  when it starts with ``-``);
* a boolean flag is ``-name`` (true) or ``-name=BOOL`` with Go's ``strconv.ParseBool`` values;
* ``--`` ends the flags; a repeated flag keeps its last value (``-p`` and
  ``-disable-plugin`` collect every value).

Unlike Go, which ignores everything after the first non-flag argument (and exits 2 for an
unknown flag), a positional argument or an unknown flag is a usage error here: exit 1 with a
message that says what is valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from .._errors import ArcaflowStepsError

__all__ = ["USAGE", "UsageError", "WorkflowFlags", "parse_flags"]

#: Go's ``strconv.ParseBool``.
_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_FORMATS: Final = ("json", "yaml")

#: flag name -> attribute of :class:`WorkflowFlags`, for value flags.
_VALUE_FLAGS: Final = {
    "context": "context",
    "workflow": "workflow",
    "input": "input",
    "config": "config",
    "format": "output_format",
}
#: flag name -> attribute, for boolean flags.
_BOOL_FLAGS: Final = {
    "get-namespaces": "get_namespaces",
    "debug": "debug",
    "version": "version",
    "h": "help",
    "help": "help",
}
#: Repeatable value flags (the registry's entry-point blocking options).
_LIST_FLAGS: Final = {"p": "plugin_options", "disable-plugin": "disabled_plugins"}
_ALL_FLAGS: Final = tuple(sorted({*_VALUE_FLAGS, *_BOOL_FLAGS, *_LIST_FLAGS}))

USAGE: Final = """\
usage: arcaflow-steps workflow [-context DIR] [-workflow FILE] [-input FILE] [-config FILE]
                               [-get-namespaces] [-debug] [--format yaml|json] [-version]
                               [-p no:NAME] [-disable-plugin NAME] [-h]

Run an Arcaflow workflow file (a drop-in for the Go engine's `arcaflow` binary).

flags (one or two dashes; -flag value or -flag=value):
  -context DIR        directory relative paths are resolved against (default: .)
  -workflow FILE      workflow file, relative to the context (default: workflow.yaml)
  -input FILE         input data file, relative to the context (default: empty input {})
  -config FILE        engine config file, relative to the context (default: built-in)
  -get-namespaces     print the objects of every step namespace and exit
  -debug              log at debug level (overrides the config's log.level)
  -format yaml|json   stdout document format (default: yaml, as the Go engine)
  -version            print the version and exit
  -p no:NAME          block the entry point NAME (repeatable)
  -disable-plugin NAME
                      block the entry point NAME (repeatable, or comma-separated)
  -h, -help           show this help and exit

exit codes: 0 an output was produced (not an error output); 1 invalid workflow, input,
config, files or usage; 2 the output produced is an error output; 3 the run failed (no
output can be produced); 130/143 interrupted (SIGINT/SIGTERM) before an output.
"""


class UsageError(ArcaflowStepsError, ValueError):
    """The command line of ``arcaflow-steps workflow`` is not valid (exit 1)."""


@attrs.frozen(kw_only=True)
class WorkflowFlags:
    """The parsed command line of ``arcaflow-steps workflow``.

    Thread safety: safe to share (immutable).
    """

    context: str = "."
    workflow: str = "workflow.yaml"
    input: str | None = None
    config: str | None = None
    get_namespaces: bool = False
    debug: bool = False
    version: bool = False
    help: bool = False
    output_format: str = "yaml"
    plugin_options: tuple[str, ...] = ()
    disabled_plugins: tuple[str, ...] = ()


def _parse_bool(flag: str, text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(
        f"invalid boolean value {text!r} for -{flag}; valid values: "
        "1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False"
    )


def parse_flags(argv: Sequence[str]) -> WorkflowFlags:
    """Return the flags of ``argv`` (the arguments after ``workflow``).

    Raises:
        UsageError: an unknown flag, a flag without its value, a bad boolean or format,
            or a positional argument.
    """
    values: dict[str, object] = {}
    lists: dict[str, list[str]] = {attribute: [] for attribute in _LIST_FLAGS.values()}
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            if index < len(argv):
                raise _positional(argv[index])
            break
        if len(token) < 2 or not token.startswith("-"):
            raise _positional(token)
        name = token[2:] if token.startswith("--") else token[1:]
        if not name or name.startswith(("-", "=")):
            raise UsageError(f"bad flag syntax: {token}")
        name, has_value, value = name.partition("=")
        if name in _BOOL_FLAGS:
            values[_BOOL_FLAGS[name]] = _parse_bool(name, value) if has_value else True
            continue
        if name not in _VALUE_FLAGS and name not in _LIST_FLAGS:
            raise UsageError(
                f"flag provided but not defined: -{name}; valid flags: "
                + ", ".join(f"-{flag}" for flag in _ALL_FLAGS)
            )
        if not has_value:
            if index >= len(argv):
                raise UsageError(f"flag needs an argument: -{name}")
            value = argv[index]
            index += 1
        if name in _LIST_FLAGS:
            lists[_LIST_FLAGS[name]].append(value)
        else:
            values[_VALUE_FLAGS[name]] = value
    output_format = values.get("output_format", "yaml")
    if output_format not in _FORMATS:
        raise UsageError(
            f"invalid value {output_format!r} for -format; valid values: 'json', 'yaml'"
        )
    return WorkflowFlags(
        **values,  # type: ignore[arg-type]
        plugin_options=tuple(lists["plugin_options"]),
        disabled_plugins=tuple(lists["disabled_plugins"]),
    )


def _positional(token: str) -> UsageError:
    return UsageError(
        f"unexpected argument {token!r}: 'workflow' takes only flags; give files with "
        "-workflow, -input and -config (see 'arcaflow-steps workflow -h')"
    )
