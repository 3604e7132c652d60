"""The built-in functions of the expression language (``intToString``, ``readFile``, …).

Each :class:`Function` has the Arcaflow parameter and result schemas the type checker uses
and the Python callable evaluation calls. ``FUNCTIONS`` maps every built-in name to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ...schema import TypeSchema

__all__ = ["FUNCTIONS", "Function"]


@attrs.frozen(kw_only=True)
class Function:
    """A built-in function: its name, parameter and result types, and its implementation.

    ``call`` raises :class:`~arcaflow_steps.workflow.ExpressionEvaluationError`-worthy
    problems as ``ValueError`` with a message that says what was wrong (the evaluator adds
    the function name and the expression).

    Thread safety: safe to share (immutable).
    """

    name: str
    parameters: tuple[TypeSchema, ...]
    result: TypeSchema
    call: Callable[..., Any] = attrs.field(eq=False, hash=False)
    #: One line for users (shown in type errors and docs).
    description: str = ""


#: Every built-in function by name (filled in ``_functions`` as they are implemented).
FUNCTIONS: Final[Mapping[str, Function]] = {}
