"""The entry-point names a user blocked: ``ARCAFLOW_STEPS_DISABLE_PLUGINS`` plus the command
line's ``-p no:NAME`` / ``--disable-plugin NAME`` values, like pytest's ``-p no:NAME``.

Standard library only: the start-up seed (:mod:`._start_seed`) reads it before the rest of
arcaflow-steps is imported, so a blocked distribution's preparation never runs there either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

__all__ = ["DISABLE_ENV", "mentions_blocking_options", "parse_blocked"]

#: Comma-separated entry-point names that are not loaded, like pytest's ``-p no:NAME``.
DISABLE_ENV: Final = "ARCAFLOW_STEPS_DISABLE_PLUGINS"
#: The command line's blocking options, without their dashes (argparse and Go ``flag`` style).
_BLOCKING_OPTIONS: Final = frozenset({"p", "disable-plugin"})


def parse_blocked(
    environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()
) -> frozenset[str]:
    """Return the blocked entry-point names: ``ARCAFLOW_STEPS_DISABLE_PLUGINS`` plus ``extra``.

    Both accept comma-separated lists; blanks are ignored.
    """
    env = os.environ if environ is None else environ
    names = [*env.get(DISABLE_ENV, "").split(","), *(n for item in extra for n in item.split(","))]
    return frozenset(name.strip() for name in names if name.strip())


def mentions_blocking_options(argv: Sequence[str]) -> bool:
    """Return whether ``argv`` may hold a blocking option anywhere (``-p``, ``-pno:NAME``,
    ``--disable-plugin=NAME``, Go style ``-disable-plugin NAME``, …), before the arguments are
    parsed. Errs on the side of yes: a value that looks like one counts too."""
    for token in argv:
        if token == "--":
            break
        if not token.startswith("-"):
            continue
        name = token.lstrip("-").partition("=")[0]
        if name in _BLOCKING_OPTIONS or (token.startswith("-p") and not token.startswith("--")):
            return True
    return False
