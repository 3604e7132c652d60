"""Resolving a template into plain data once the executor decided what it can read.

The executor knows, from its dependency graph, which ``!oneof`` option resolved first and
whether each ``!wait-optional`` / ``!soft-optional`` field's dependencies resolved; it hands
that knowledge in as :class:`TemplateChoices`. Everything else is evaluation of the
expressions against the run's data (``{"input": …, "steps": {id: {stage: {output: data}}}}``).

Thread safety: the functions keep no state; the root must not change while they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from ._errors import ExpressionEvaluationError, WorkflowError
from ._expressions import evaluate
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional

__all__ = ["TemplateChoices", "resolve_template"]


class TemplateChoices(Protocol):
    """What the executor's graph decided about a template's groups."""

    def chosen_option(self, oneof: OneOf) -> str | None:
        """Return the id of the option of ``oneof`` that resolved first (``None``: none)."""

    def is_present(self, optional: WaitOptional | SoftOptional) -> bool:
        """Return whether the optional field's dependencies resolved."""


class _Omitted:
    """An optional field whose dependencies did not resolve: left out of its map."""

    def __repr__(self) -> str:
        return "<omitted>"


_OMITTED: Final = _Omitted()


def resolve_template(template: Template, root: Mapping[str, Any], choices: TemplateChoices) -> Any:
    """Return ``template`` as plain data: expressions evaluated, groups decided.

    A ``!wait-optional`` / ``!soft-optional`` map value whose dependencies did not resolve
    leaves its key out (a list item likewise; as the whole template: ``None``).

    Raises:
        ExpressionEvaluationError: an expression failed; the message starts with the place
            of the expression in the workflow file.
        WorkflowError: a ``!oneof`` has no resolved option or its option is not an object.
    """
    value = _resolve(template, root, choices)
    return None if value is _OMITTED else value


def _resolve(template: Template, root: Mapping[str, Any], choices: TemplateChoices) -> Any:
    if isinstance(template, Expr):
        return _evaluate(template, root)
    if isinstance(template, WaitOptional | SoftOptional):
        return _resolve(template.expr, root, choices) if choices.is_present(template) else _OMITTED
    if isinstance(template, OneOf):
        return _resolve_oneof(template, root, choices)
    if isinstance(template, dict):
        resolved = {key: _resolve(value, root, choices) for key, value in template.items()}
        return {key: value for key, value in resolved.items() if value is not _OMITTED}
    if isinstance(template, list):
        items = [_resolve(item, root, choices) for item in template]
        return [item for item in items if item is not _OMITTED]
    return template


def _evaluate(expr: Expr, root: Mapping[str, Any]) -> Any:
    try:
        return evaluate(expr.expression, root)
    except ExpressionEvaluationError as exc:
        where = f"{expr.path}: " if expr.path else ""
        raise ExpressionEvaluationError(f"{where}{exc.reason}", expression=exc.expression) from None


def _resolve_oneof(oneof: OneOf, root: Mapping[str, Any], choices: TemplateChoices) -> Any:
    chosen = choices.chosen_option(oneof)
    options = dict(oneof.options)
    if chosen is None or chosen not in options:
        raise WorkflowError(f"{oneof.path}: no option of the !oneof resolved")
    value = _resolve(options[chosen], root, choices)
    if not isinstance(value, Mapping):
        raise WorkflowError(
            f"{oneof.path}: option {chosen!r} of the !oneof is not an object "
            f"(got {type(value).__name__})"
        )
    return {**value, oneof.discriminator: chosen}
