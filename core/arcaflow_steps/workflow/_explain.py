"""Why a node of a run's graph cannot come: the messages of steps closed early and of failed runs.

``success needs steps.b.greet.success, but step 'b' was closed: its input for stage 'greet'
needs steps.a.greet.success, but step 'a' ended in stage 'greet' with output 'error': cannot
greet a blank name`` — the graph names the dependency that failed first (its root cause), the step's
result says what happened to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._execution import StepExecution
from ._graph import NodeState
from ._run_graph import Node, RunGraph, render_node

__all__ = ["explain"]


def explain(
    graph: RunGraph,
    node: Node,
    executions: Mapping[str, StepExecution],
    blocked: Mapping[str, str],
) -> str:
    """Return ``needs X, but <why X cannot come>`` for an unresolvable node (``still waits
    for …`` for one that may still come).

    ``blocked`` maps the steps closed early to why (``its input for stage …``).
    """
    dependencies = graph.graph
    if dependencies.state(node) is not NodeState.UNRESOLVABLE:
        waiting = ", ".join(map(render_node, dependencies.outstanding(node)))
        return f"still waits for {waiting}"
    cause = dependencies.root_cause(node)
    return f"needs {render_node(cause)}, but {_why(graph, cause, executions, blocked)}"


def _why(
    graph: RunGraph,
    cause: Node,
    executions: Mapping[str, StepExecution],
    blocked: Mapping[str, str],
) -> str:
    if cause in graph.missing:
        return graph.missing[cause]
    if cause[0] not in ("stage", "output", "done"):
        return "it cannot be produced"
    step_id = cause[1]
    if step_id in blocked:
        return f"step {step_id!r} was closed: {blocked[step_id]}"
    execution = executions[step_id]
    result = execution.result()
    if result is None:
        return (
            f"step {step_id!r} is in stage {execution.current_stage()!r} "
            "and can no longer produce it"
        )
    why = f"step {step_id!r} ended in stage {result.stage!r}"
    if result.output_id is not None:
        why += f" with output {result.output_id!r}"
    detail = result.error or _one_text(result.output_data)
    return f"{why}: {detail.splitlines()[0]}" if detail else why


def _one_text(data: Any) -> str | None:
    """Return the message an output carries, else ``None``.

    An output's message is its one field made of text only: a string (``{error: "…"}``), or a
    mapping of strings keyed by what each is about (``{messages: {1: "item 1 failed: …"}}``,
    beside other data: the message of the first key, and how many more there are).
    """
    if not isinstance(data, Mapping):
        return None
    texts = [value for value in data.values() if _is_text(value)]
    if len(texts) != 1:
        return None
    (text,) = texts
    if isinstance(text, str):
        return text
    try:
        key = min(text)
    except TypeError:  # keys of mixed types
        key = min(text, key=str)
    first = text[key]
    more = f" (and {len(text) - 1} more)" if len(text) > 1 else ""
    return f"{first.splitlines()[0] if first else repr(first)}{more}"


def _is_text(value: Any) -> bool:
    """Return whether ``value`` is a string, or a non-empty mapping of strings."""
    if isinstance(value, str):
        return True
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(item, str) for item in value.values())
    )
