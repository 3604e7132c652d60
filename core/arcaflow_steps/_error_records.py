"""The records errors carry: a validation problem, and where a kind comes from.

Kept apart from :mod:`._errors` so that importing the error classes stays free of attrs: the
code ``arcaflow-steps run`` executes before it calls the warm-ups (:mod:`._warm_up`) imports
the errors but nothing heavier.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["KindSource", "ValidationProblem"]

_PUBLIC_MODULE: Final = "arcaflow_steps"


@attrs.frozen(kw_only=True)
class ValidationProblem:
    """One problem found while validating a value: what was wrong and where.

    Thread safety: safe to share (immutable).
    """

    #: JSONPath-like location of the problem, e.g. ``$.input.count``.
    path: str
    #: What was wrong and what is valid, e.g. ``expected an integer, got 'ten'``.
    message: str

    def __str__(self) -> str:
        return f"{self.message} @ {self.path}"


@attrs.frozen(kw_only=True)
class KindSource:
    """Where a kind comes from: the distribution, its version and the entry point name.

    Thread safety: safe to share (immutable).
    """

    distribution: str
    version: str
    entry_point: str
    module: str = ""

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} (entry point {self.entry_point!r})"


for _record in (ValidationProblem, KindSource):
    _record.__module__ = _PUBLIC_MODULE
