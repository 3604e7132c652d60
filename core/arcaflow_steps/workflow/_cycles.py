"""The cycle check: can every step stage a workflow waits for ever come?

Theory of operation: the nodes are step stages, ``(step id, stage id)``. A node *waits for*
other nodes along two kinds of edges:

- lifecycle edges: a stage waits for every stage that lists it among its next stages (the
  provider's ``next_stages``); an input-only stage (the plugin's ``cancelled``) takes input at
  any time and holds up no stage, so it gives no edge;
- expression edges: a deferred stage waits for every stage whose outputs its templates read
  (``$.steps.b.outputs.success.message`` read by ``a``'s ``input`` makes ``a.starting`` wait
  for ``b.outputs``).

A cycle means some stage waits for itself: a depth-first search from every node, steps in file
order and stages in lifecycle order, finds one if there is any, and it is reported as the chain
of waits, each step's run of lifecycle edges shortened to where it enters and leaves the step:
``steps.a.starting -> steps.b.outputs -> steps.b.starting -> steps.a.outputs ->
steps.a.starting`` (``a``'s input reads ``b``'s outputs, ``b``'s input reads ``a``'s).

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

from .._lifecycle import Lifecycle, LifecycleStageWithSchema

__all__ = ["Node", "find_cycle", "shorten_cycle"]

#: A step stage: (step id, stage id).
Node = tuple[str, str]


def _predecessors(
    lifecycle: Lifecycle[LifecycleStageWithSchema],
) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {str(stage.id): [] for stage in lifecycle.stages}
    for stage in lifecycle.stages:
        if stage.input_only:
            continue
        for next_stage in sorted(stage.next_stages):
            found[str(next_stage)].append(str(stage.id))
    return {stage: tuple(before) for stage, before in found.items()}


def find_cycle(
    lifecycles: Mapping[str, Lifecycle[LifecycleStageWithSchema]],
    needs: Mapping[Node, Sequence[Node]],
) -> list[Node] | None:
    """Return a cycle of waits as its nodes (the first repeated at the end), or ``None``.

    ``lifecycles``: step id -> its lifecycle, in file order; ``needs``: a deferred stage ->
    the stages its expressions read.
    """
    by_lifecycle: dict[int, dict[str, tuple[str, ...]]] = {}
    before: dict[str, dict[str, tuple[str, ...]]] = {}
    for step_id, lifecycle in lifecycles.items():
        cached = by_lifecycle.get(id(lifecycle))
        if cached is None:
            cached = by_lifecycle[id(lifecycle)] = _predecessors(lifecycle)
        before[step_id] = cached

    def waits_for(node: Node) -> list[Node]:
        step_id, stage_id = node
        edges = [(step_id, stage) for stage in before[step_id].get(stage_id, ())]
        edges.extend(needs.get(node, ()))
        return edges

    done: set[Node] = set()
    for step_id, lifecycle in lifecycles.items():
        for stage in lifecycle.stages:
            start = (step_id, str(stage.id))
            if start in done:
                continue
            cycle = _search(start, waits_for, done)
            if cycle is not None:
                return cycle
    return None


def _search(
    start: Node, waits_for: Callable[[Node], list[Node]], done: set[Node]
) -> list[Node] | None:
    """Iterative depth-first search from ``start``; ``done`` collects finished nodes."""
    stack: list[tuple[Node, list[Node]]] = [(start, list(reversed(waits_for(start))))]
    on_stack: dict[Node, int] = {start: 0}
    while stack:
        node, pending = stack[-1]
        if not pending:
            stack.pop()
            del on_stack[node]
            done.add(node)
            continue
        target = pending.pop()
        if target in on_stack:
            return [entry[0] for entry in stack[on_stack[target] :]] + [target]
        if target in done:
            continue
        on_stack[target] = len(stack)
        stack.append((target, list(reversed(waits_for(target)))))
    return None


def shorten_cycle(cycle: Sequence[Node], needs: Mapping[Node, Sequence[Node]]) -> list[Node]:
    """Return the cycle as a chain of waits, starting at a stage whose expression is part of
    it, each step's run of lifecycle edges shortened to where it enters and leaves the step
    (the first node repeated at the end)."""
    edges = list(itertools.pairwise(cycle))
    is_expression = [target in needs.get(source, ()) for source, target in edges]
    if True in is_expression:
        first = is_expression.index(True)
        edges = edges[first:] + edges[:first]
        is_expression = is_expression[first:] + is_expression[:first]
    start = edges[0][0]
    kept: list[Node] = [start]
    for (source, target), expression in zip(edges, is_expression, strict=True):
        if expression:
            if kept[-1] != source:
                kept.append(source)
            kept.append(target)
    if len(kept) == 1 or kept[-1] != start:
        kept.append(start)
    return kept
