"""Arcaflow workflows: workflow files run by the registry and the shared runner.

A workflow file is read into a :class:`WorkflowModel`, planned in a :class:`WorkflowContext`
(:func:`plan_workflow`: every step loaded, every reference, type and dependency checked before
any step starts) and run from the :class:`WorkflowPlan`.

The package imports its parts lazily (PEP 562), as :mod:`arcaflow_steps` does. To export a
name, add it to ``_EXPORTS``, to the ``TYPE_CHECKING`` imports and to ``__all__``;
``tests/workflow/test_public_api.py`` checks the three agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._lazy_exports import lazy_exports

if TYPE_CHECKING:
    from ._context import WorkflowContext, current_workflow_context
    from ._errors import (
        ExpressionError,
        ExpressionEvaluationError,
        ExpressionSyntaxError,
        ExpressionTypeError,
        InvalidWorkflowError,
        WorkflowError,
        WorkflowInputError,
    )
    from ._execute import WorkflowRun
    from ._model import WorkflowModel
    from ._plan import WorkflowPlan, plan_workflow
    from ._plan_records import PlannedOutput, PlannedStep
    from ._result import WorkflowResult
    from ._workflow_file import parse_workflow, read_workflow

__all__ = [
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "InvalidWorkflowError",
    "PlannedOutput",
    "PlannedStep",
    "WorkflowContext",
    "WorkflowError",
    "WorkflowInputError",
    "WorkflowModel",
    "WorkflowPlan",
    "WorkflowResult",
    "WorkflowRun",
    "current_workflow_context",
    "parse_workflow",
    "plan_workflow",
    "read_workflow",
]

#: module (relative to this package) -> the public names it provides.
_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "._context": ("WorkflowContext", "current_workflow_context"),
    "._errors": (
        "ExpressionError",
        "ExpressionEvaluationError",
        "ExpressionSyntaxError",
        "ExpressionTypeError",
        "InvalidWorkflowError",
        "WorkflowError",
        "WorkflowInputError",
    ),
    "._execute": ("WorkflowRun",),
    "._model": ("WorkflowModel",),
    "._plan": ("WorkflowPlan", "plan_workflow"),
    "._plan_records": ("PlannedOutput", "PlannedStep"),
    "._result": ("WorkflowResult",),
    "._workflow_file": ("parse_workflow", "read_workflow"),
}

_SOURCE: Final = {name: module for module, names in _EXPORTS.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCE, __all__)
