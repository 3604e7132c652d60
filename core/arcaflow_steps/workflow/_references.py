"""What the expressions of a workflow read: every path checked, every step stage it waits for.

Every root path an expression reads (``expression_paths``) must name something that exists:
``$.input…`` (its fields are the type checker's business), or a stage output of a step,
``$.steps.<id>.<stage>`` (any output of the stage) or ``$.steps.<id>.<stage>.<output id>…``,
where the stage declares outputs and the output id is one of them. ``$`` alone, ``$.steps``
alone and ``$.steps.<id>`` alone name no stage to wait for and are errors, as is a path whose
step part is computed (``$.steps[$.input.which]``). A step stage read this way is what the
consumer waits for (``_cycles``).

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from ._cycles import Node
from ._errors import InvalidWorkflowError
from ._expressions import expression_paths
from ._plan_records import PlannedStep
from ._root_type import stage_output_ids
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional

__all__ = ["ROOT_FIELDS", "References", "template_expressions"]

#: The properties of ``$``.
ROOT_FIELDS: Final = ("input", "steps")


def _listed(names: Iterable[object]) -> str:
    """Return the names sorted and comma-separated, as the type checker lists them."""
    return ", ".join(sorted(str(name) for name in names)) or "none"


def template_expressions(template: Template, path: str) -> Iterator[tuple[Expr, str]]:
    """Yield every expression of ``template`` with its path in the file (``path`` is the
    template's own: ``steps.b.input``; keys add ``.key``, list items ``[i]``, a ``!oneof``
    option ``.one_of.<option id>``)."""
    if isinstance(template, Expr):
        yield template, path
    elif isinstance(template, WaitOptional | SoftOptional):
        yield template.expr, path
    elif isinstance(template, OneOf):
        for option_id, option in template.options:
            yield from template_expressions(option, f"{path}.one_of.{option_id}")
    elif isinstance(template, dict):
        for key, value in template.items():
            yield from template_expressions(value, f"{path}.{key}")
    elif isinstance(template, list):
        for index, item in enumerate(template):
            yield from template_expressions(item, f"{path}[{index}]")


class References:
    """Checks the paths expressions read against the steps of one workflow.

    Thread safety: not thread-safe; confine to one planning call.
    """

    def __init__(self, steps: Mapping[str, PlannedStep], *, source: str) -> None:
        self.steps = steps
        self.source = source
        by_lifecycle: dict[int, dict[str, tuple[str, ...]]] = {}
        self.stage_outputs: dict[str, dict[str, tuple[str, ...]]] = {}
        for step_id, step in steps.items():
            lifecycle = step.prepared.lifecycle
            outputs = by_lifecycle.get(id(lifecycle))
            if outputs is None:
                outputs = by_lifecycle[id(lifecycle)] = stage_output_ids(lifecycle)
            self.stage_outputs[step_id] = outputs

    def _error(self, reason: str, expression: Expr, where: str) -> InvalidWorkflowError:
        return InvalidWorkflowError(
            f"{reason} (in expression {expression.expression.source!r})",
            path=where,
            source=self.source,
        )

    def producers(self, template: Template, where: str) -> list[Node]:
        """Return the step stages ``template`` reads (sorted, no duplicates).

        Raises:
            InvalidWorkflowError: a path names nothing that exists or no stage to wait for.
        """
        found: set[Node] = set()
        for expression, path in template_expressions(template, where):
            for read in expression_paths(expression.expression):
                node = self.producer(read, expression, path)
                if node is not None:
                    found.add(node)
        return sorted(found)

    def producer(self, read: tuple[str | int, ...], expression: Expr, where: str) -> Node | None:
        """Return the step stage one root path waits for (``None`` for ``$.input…``)."""
        if not read:
            raise self._error(
                f"$ alone cannot be read; fields: {_listed(ROOT_FIELDS)}", expression, where
            )
        if read[0] == "input":
            return None
        if read[0] != "steps":
            raise self._error(
                f"$: no field {read[0]!r}; fields: {_listed(ROOT_FIELDS)}", expression, where
            )
        if len(read) == 1:
            raise self._error(
                "a step dependency must name a stage output: $.steps.<id>.<stage>[.<output>]",
                expression,
                where,
            )
        step_id = read[1]
        outputs = self.stage_outputs.get(step_id) if isinstance(step_id, str) else None
        if outputs is None or not isinstance(step_id, str):
            raise self._error(
                f"$.steps: no step {step_id!r}; steps: {_listed(self.steps)}",
                expression,
                where,
            )
        if len(read) == 2:
            raise self._error(
                f"a step dependency must name a stage output: $.steps.{step_id}.<stage>"
                f"[.<output>]; stages: {_listed(outputs)}",
                expression,
                where,
            )
        stage = read[2]
        if not isinstance(stage, str) or stage not in outputs:
            raise self._error(
                f"$.steps.{step_id}: no stage {stage!r} with outputs; stages: {_listed(outputs)}",
                expression,
                where,
            )
        if len(read) > 3 and read[3] not in outputs[stage]:
            raise self._error(
                f"$.steps.{step_id}.{stage}: no output {read[3]!r}; outputs: "
                f"{_listed(outputs[stage])}",
                expression,
                where,
            )
        return step_id, stage
