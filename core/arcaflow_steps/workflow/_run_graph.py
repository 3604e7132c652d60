"""The dependency graph of one workflow run: nodes for stages, outputs and consumers.

Nodes (tuples, rendered as the Go engine names them):

* ``("stage", step, stage)`` — ``steps.a.outputs``: the step left the stage with an output;
* ``("output", step, stage, output)`` — ``steps.a.outputs.success``: with that output;
* ``("done", step)`` — the step completed (what ``$.steps.a`` and ``$.steps`` wait for);
* ``("consumer", step, stage)`` — a deferred stage input, ready when its templates can be
  evaluated;
* ``("workflow_output", id)`` — ``outputs.success``;
* ``("group", n)`` / ``("option", n, option_id)`` — ``!oneof`` groups and their options,
  ``!wait-optional`` / ``!soft-optional`` fields (auto-resolving).

Stage, output and done nodes have no dependencies: the executor resolves or fails them from
the runner's events. A template's expression paths become AND edges into its owner (the
consumer, or the group it sits in); ``!oneof`` is an AND edge to a group with OR edges to one
node per option; ``!wait-optional`` a COMPLETION_AND edge, ``!soft-optional`` an OPTIONAL one.

Thread safety: not thread-safe; confine to the executor's thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from .._events import StepEvent, StepEventKind
from ..schema import StepOutputSchema
from ._expressions import expression_paths
from ._graph import DependencyGraph, EdgeKind, GraphChanges, NodeState
from ._plan_records import PlannedOutput, PlannedStep
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional

__all__ = ["Node", "RunGraph", "render_node"]

Node: TypeAlias = tuple[Any, ...]


def render_node(node: Node) -> str:
    """Return the node as the workflow file names it (``steps.a.outputs.success``)."""
    kind, *rest = node
    if kind in ("stage", "output", "done"):
        return ".".join(("steps", *map(str, rest)))
    if kind == "consumer":
        return f"steps.{rest[0]}.{rest[1]} (input)"
    if kind == "workflow_output":
        return f"outputs.{rest[0]}"
    if kind == "missing":
        return str(rest[0])
    return "!" + ".".join(map(str, node))


class RunGraph:
    """The graph of one run, the templates' groups, and the choices made at run time.

    Thread safety: not thread-safe; confine to one thread.
    """

    def __init__(self, steps: Mapping[str, PlannedStep], outputs: Mapping[str, PlannedOutput]):
        self.graph: DependencyGraph[Node] = DependencyGraph()
        #: id(template record) -> its group node (for the choices). A record used twice (a
        #: YAML alias) maps to its last group: both have the same dependencies.
        self._groups: dict[int, Node] = {}
        #: group node of a !oneof -> [(option id, option node)] in file order.
        self._options: dict[Node, list[tuple[str, Node]]] = {}
        #: option node -> when it resolved (the first resolved option wins).
        self._resolved_at: dict[Node, int] = {}
        self._clock = itertools.count()
        self._counter = itertools.count()
        #: Nodes whose dependency names nothing this run has (a bug of the plan), failed at
        #: seal: node -> reason.
        self.missing: dict[Node, str] = {}
        self._steps = steps
        for step_id, step in steps.items():
            self._add_step_nodes(step_id, step)
        for step_id, step in steps.items():
            for stage, fields in step.deferred_inputs.items():
                consumer = ("consumer", step_id, stage)
                self.graph.add_node(consumer)
                self._add_template(consumer, dict(fields))
        for output_id, output in outputs.items():
            node = ("workflow_output", output_id)
            self.graph.add_node(node)
            self._add_template(node, output.template)

    # -- building ----------------------------------------------------------------------------

    def _add_step_nodes(self, step_id: str, step: PlannedStep) -> None:
        self.graph.add_node(("done", step_id))
        for stage in step.prepared.lifecycle.stages:
            self.graph.add_node(("stage", step_id, str(stage.id)))
            for output_id in stage.outputs:
                self.graph.add_node(("output", step_id, str(stage.id), output_id))

    def _add_template(self, owner: Node, template: Template) -> None:
        linked: set[Node] = set()
        self._walk(owner, template, linked)

    def _walk(self, owner: Node, template: Template, linked: set[Node]) -> None:
        if isinstance(template, Expr):
            for path in expression_paths(template.expression):
                for dependency in self._dependencies(path):
                    if dependency not in linked:
                        linked.add(dependency)
                        self.graph.add_edge(owner, dependency, EdgeKind.AND)
        elif isinstance(template, OneOf):
            group = self._group(template, owner, EdgeKind.AND)
            options = self._options[group] = []
            for option_id, option in template.options:
                node = ("option", group[1], option_id)
                self.graph.add_node(node, auto_resolve=True)
                self.graph.add_edge(group, node, EdgeKind.OR)
                options.append((option_id, node))
                self._walk(node, option, set())
        elif isinstance(template, WaitOptional | SoftOptional):
            waits = isinstance(template, WaitOptional)
            group = self._group(
                template, owner, EdgeKind.COMPLETION_AND if waits else EdgeKind.OPTIONAL
            )
            self._walk(group, template.expr, set())
        elif isinstance(template, dict):
            for value in template.values():
                self._walk(owner, value, linked)
        elif isinstance(template, list):
            for item in template:
                self._walk(owner, item, linked)

    def _group(self, template: Any, owner: Node, kind: EdgeKind) -> Node:
        group = ("group", next(self._counter))
        self.graph.add_node(group, auto_resolve=True)
        self.graph.add_edge(owner, group, kind)
        self._groups[id(template)] = group
        return group

    def _dependencies(self, path: tuple[str | int, ...]) -> Iterable[Node]:
        """Return the nodes an expression reading ``path`` waits for (``$.input`` none)."""
        if path and path[0] != "steps":
            return ()
        parts = tuple(str(part) for part in path[1:4])
        if len(parts) == 0:
            return [("done", step_id) for step_id in self._steps]
        if len(parts) == 1:
            node: Node = ("done", parts[0])
        elif len(parts) == 2:
            node = ("stage", *parts)
        else:
            node = ("output", *parts)
        if node not in self.graph:
            missing = ("missing", "$." + ".".join(("steps", *parts)))
            if missing not in self.graph:
                self.graph.add_node(missing)
                self.missing[missing] = f"this run has no {render_node(node)}"
            return [missing]
        return [node]

    # -- run time ----------------------------------------------------------------------------

    def seal(self) -> GraphChanges[Node]:
        """Seal the graph and fail the missing nodes; return every change."""
        first = self.graph.seal()
        changes = [first]
        for missing in self.missing:
            changes.append(self.graph.fail(missing))
        return merge(changes)

    def note_resolved(self, changes: GraphChanges[Node]) -> None:
        """Remember when each option resolved (call for every change, in order)."""
        for node in changes.resolved:
            if node[0] == "option":
                self._resolved_at[node] = next(self._clock)

    def chosen_option(self, oneof: OneOf) -> str | None:
        """Return the option of ``oneof`` that resolved first."""
        group = self._groups.get(id(oneof))
        if group is None:
            return None
        resolved = [
            (self._resolved_at[node], option_id)
            for option_id, node in self._options[group]
            if node in self._resolved_at
        ]
        return min(resolved)[1] if resolved else None

    def is_present(self, optional: WaitOptional | SoftOptional) -> bool:
        """Return whether the optional field's group resolved."""
        group = self._groups.get(id(optional))
        return group is not None and self.graph.state(group) is NodeState.RESOLVED

    def apply_event(
        self, step_id: str, event: StepEvent, data: dict[str, Any]
    ) -> GraphChanges[Node]:
        """Update the step's nodes from one runner event; store a produced output in ``data``
        (``data[step][stage] = {output_id: output}``, what ``$.steps`` reads)."""
        graph = self.graph
        changes: list[GraphChanges[Node]] = []
        kind = event.kind
        if kind is StepEventKind.STAGE_CHANGED and event.previous_stage is not None:
            changes += self._left_stage(
                step_id, event.previous_stage, event.previous_output_id, event.previous_output, data
            )
        elif kind in (StepEventKind.STAGE_UNREACHABLE, StepEventKind.STAGE_FAILED):
            assert event.stage is not None
            changes += [graph.fail(node) for node in self.step_nodes(step_id, event.stage)]
        elif kind is StepEventKind.COMPLETED:
            assert event.stage is not None
            if event.previous_stage is not None and event.previous_stage != event.stage:
                changes += self._left_stage(step_id, event.previous_stage, None, None, data)
            changes += self._left_stage(
                step_id, event.stage, event.previous_output_id, event.previous_output, data
            )
            # Whatever did not happen now never will.
            for stage in self._steps[step_id].prepared.lifecycle.stages:
                changes += [graph.fail(node) for node in self.step_nodes(step_id, str(stage.id))]
            changes.append(graph.resolve(("done", step_id)))
        return merge(changes)

    def _left_stage(
        self, step_id: str, stage: str, output_id: str | None, output: Any, data: dict[str, Any]
    ) -> list[GraphChanges[Node]]:
        """The step left ``stage`` with ``output_id`` (``None``: without output)."""
        graph = self.graph
        nodes = self.step_nodes(step_id, stage)
        changes = []
        if output_id is not None:
            data.setdefault(step_id, {})[stage] = {output_id: output}
            produced = ("output", step_id, stage, output_id)
            if produced in graph:
                changes.append(graph.resolve(produced))
            changes.append(graph.resolve(nodes[0]))
        changes += [graph.fail(node) for node in nodes]  # the others; settled ones stay
        return changes

    def step_nodes(self, step_id: str, stage: str) -> list[Node]:
        """Return the stage node and its output nodes."""
        step = self._steps[step_id]
        outputs: Mapping[str, StepOutputSchema] = step.prepared.lifecycle.stage(stage).outputs
        return [("stage", step_id, stage)] + [
            ("output", step_id, stage, output_id) for output_id in outputs
        ]


def merge(changes: Iterable[GraphChanges[Node]]) -> GraphChanges[Node]:
    """Return the changes one after the other as one."""
    ready: list[Node] = []
    resolved: list[Node] = []
    unresolvable: list[Node] = []
    for change in changes:
        ready += change.ready
        resolved += change.resolved
        unresolvable += change.unresolvable
    return GraphChanges(tuple(ready), tuple(resolved), tuple(unresolvable))
