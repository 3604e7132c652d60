"""The workflow layer's errors: a branch of the one tree under ``ArcaflowStepsError``::

    ArcaflowStepsError
    └── WorkflowError                     a workflow cannot be loaded, planned or run
        ├── InvalidWorkflowError          a static problem, found before any step starts:
        │                                 file, YAML, schema, expression, type, reference,
        │                                 cycle (ValueError); the CLI exits 1
        ├── WorkflowInputError            the input does not match the workflow's input
        │                                 schema (ValueError); the CLI exits 1
        └── ExpressionError               an expression problem without a place yet
            ├── ExpressionSyntaxError     the text is not an expression (ValueError)
            ├── ExpressionTypeError       the expression does not fit the schemas (ValueError)
            └── ExpressionEvaluationError evaluating it failed at run time

Expression errors carry no place in the workflow file: whoever knows the place (the loader,
the planner, the executor) turns them into an :class:`InvalidWorkflowError` with its path, or
into a step's or output's failure message.
"""

from __future__ import annotations

from typing import Final

from .._errors import ArcaflowStepsError

__all__ = [
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "InvalidWorkflowError",
    "WorkflowError",
    "WorkflowInputError",
    "quote_expression",
]

_PUBLIC_MODULE: Final = "arcaflow_steps.workflow"
#: Messages quote at most this much of an expression: one of 40,000 characters (a generated
#: file) would otherwise make a one-line error 40,000 characters long.
_MAX_QUOTED: Final = 200


def quote_expression(text: str) -> str:
    """Return ``text`` quoted for a message, shortened with its length when it is long."""
    if len(text) <= _MAX_QUOTED:
        return repr(text)
    return f"{text[: _MAX_QUOTED - 40] + '…'!r} ({len(text)} characters)"


class WorkflowError(ArcaflowStepsError):
    """A workflow cannot be loaded, planned or run."""


class InvalidWorkflowError(WorkflowError, ValueError):
    """A static problem of a workflow, found before any step starts.

    ``path`` is the place in the workflow file, in the file's own terms
    (``steps.b.input.name``; ``""`` for the file as a whole); ``source`` the file name;
    ``line`` and ``column`` (1-based) where that place starts in the file, when known.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str = "",
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problem = problem
        self.path = path
        self.source = source
        self.line = line
        self.column = column
        where = ": ".join(part for part in (source, path) if part)
        text = problem
        if line is not None:  # at the end of the problem's first line
            first, newline, rest = problem.partition("\n")
            text = f"{first} (line {line}, column {column}){newline}{rest}"
        super().__init__(f"{where}: {text}" if where else text)

    def located(self, line: int, column: int) -> InvalidWorkflowError:
        """Return the same problem, placed at ``line`` and ``column`` of its file."""
        return InvalidWorkflowError(
            self.problem, path=self.path, source=self.source, line=line, column=column
        )


class WorkflowInputError(WorkflowError, ValueError):
    """The workflow's input does not match its input schema; the message lists every
    problem with its path (``$.input.count``)."""

    def __init__(self, problem: str, *, source: str | None = None) -> None:
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {problem}" if source else problem)


class ExpressionError(WorkflowError):
    """An expression problem, not yet tied to a place in a workflow file."""

    def __init__(self, reason: str, *, expression: str) -> None:
        self.reason = reason
        self.expression = expression
        super().__init__(f"{reason} (in expression {quote_expression(expression)})")


class ExpressionSyntaxError(ExpressionError, ValueError):
    """The text is not an expression of the language; ``column`` is 1-based (0: unknown)."""

    def __init__(self, reason: str, *, expression: str, column: int = 0) -> None:
        self.column = column
        super().__init__(reason, expression=expression)


class ExpressionTypeError(ExpressionError, ValueError):
    """The expression does not fit the schemas it reads (unknown field, operand types, …)."""


class ExpressionEvaluationError(ExpressionError):
    """Evaluating the expression failed at run time (missing key, index out of range, …)."""


for _error in (
    WorkflowError,
    InvalidWorkflowError,
    WorkflowInputError,
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    ExpressionEvaluationError,
):
    _error.__module__ = _PUBLIC_MODULE
