"""The run-time dependency graph of a workflow: which nodes can still come, which are ready.

Theory of operation. A node is a step stage, a stage output, a consumer (a deferred stage
input or a workflow output) or a group (a ``!oneof`` and its options, a ``!wait-optional`` or
``!soft-optional`` field). Each node is in one of four states::

    WAITING --(blocking dependencies satisfied)--> READY --resolve()--> RESOLVED
       \\                                             \\
        +--(a dependency can no longer come)----------+--fail()-----> UNRESOLVABLE

An edge says how a dependant waits for a dependency (the Go engine's dgraph kinds):

* ``AND`` — the dependency must resolve; if it becomes unresolvable, so does the dependant.
* ``COMPLETION_AND`` — the dependency must be settled, resolved *or* unresolvable.
* ``OR`` — one resolved or-dependency suffices (together with all blocking ones); the
  dependant is unresolvable only once every or-dependency is.
* ``OPTIONAL`` — tracked, never blocks.

A node is ready when no ``AND``/``COMPLETION_AND`` dependency is outstanding and, if it has
or-dependencies, one of them resolved. Readiness and resolution are separate: the owner
resolves stage nodes from the runner's events; a node added with ``auto_resolve`` (a group)
resolves itself the moment it is ready.

Updates are incremental: each node keeps counters of its outstanding dependencies, so
resolving or failing a node touches only the edges out of the nodes that change, and returns
what changed (:class:`GraphChanges`). The graph is built first (:meth:`add_node`,
:meth:`add_edge`), then :meth:`seal` settles what is settled without any event.

Thread safety: not thread-safe; confine to one thread (the executor's).
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Hashable, Iterable
from typing import Final, Generic, TypeVar

import attrs

__all__ = ["DependencyGraph", "EdgeKind", "GraphChanges", "NodeState"]

NodeId = TypeVar("NodeId", bound=Hashable)


class NodeState(enum.Enum):
    """Where a node of a :class:`DependencyGraph` stands."""

    WAITING = "waiting"
    READY = "ready"
    RESOLVED = "resolved"
    UNRESOLVABLE = "unresolvable"


class EdgeKind(enum.Enum):
    """How a dependant waits for a dependency."""

    AND = "and"
    COMPLETION_AND = "completion-and"
    OR = "or"
    OPTIONAL = "optional"


_SETTLED: Final = frozenset({NodeState.RESOLVED, NodeState.UNRESOLVABLE})


@attrs.frozen
class GraphChanges(Generic[NodeId]):
    """What one update changed, each list in the order it happened."""

    #: Nodes that became ready (not those added with ``auto_resolve``: they resolved at once).
    ready: tuple[NodeId, ...] = ()
    #: Nodes that resolved, the updated node first, then auto-resolved ones.
    resolved: tuple[NodeId, ...] = ()
    #: Nodes that became unresolvable.
    unresolvable: tuple[NodeId, ...] = ()


class _Node(Generic[NodeId]):
    __slots__ = (
        "auto_resolve",
        "cause",
        "dependants",
        "dependencies",
        "node_id",
        "or_failed",
        "or_resolved",
        "or_total",
        "pending",
        "state",
    )

    def __init__(self, node_id: NodeId, *, auto_resolve: bool) -> None:
        self.node_id = node_id
        self.auto_resolve = auto_resolve
        self.state = NodeState.WAITING
        #: (dependant, kind) in insertion order.
        self.dependants: list[tuple[_Node[NodeId], EdgeKind]] = []
        self.dependencies: list[tuple[_Node[NodeId], EdgeKind]] = []
        #: Outstanding AND and COMPLETION_AND dependencies.
        self.pending = 0
        self.or_total = 0
        self.or_failed = 0
        self.or_resolved = False
        #: The dependency that made this node unresolvable (None: failed from outside).
        self.cause: _Node[NodeId] | None = None

    def is_ready_now(self) -> bool:
        return self.pending == 0 and (self.or_total == 0 or self.or_resolved)


class DependencyGraph(Generic[NodeId]):
    """Nodes, typed dependency edges and their states (see the module docstring).

    Thread safety: not thread-safe; confine to one thread.
    """

    def __init__(self) -> None:
        self._nodes: dict[NodeId, _Node[NodeId]] = {}
        self._sealed = False

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    # -- building ----------------------------------------------------------------------------

    def add_node(self, node_id: NodeId, *, auto_resolve: bool = False) -> None:
        """Add a node; ``auto_resolve`` makes it resolve as soon as it is ready.

        Raises:
            ValueError: the node exists already, or the graph is sealed.
        """
        self._check_building()
        if node_id in self._nodes:
            raise ValueError(f"node {node_id!r} added twice")
        self._nodes[node_id] = _Node(node_id, auto_resolve=auto_resolve)

    def add_edge(self, dependant: NodeId, dependency: NodeId, kind: EdgeKind) -> None:
        """Make ``dependant`` wait for ``dependency`` as ``kind`` says.

        Raises:
            KeyError: a node is unknown.
            ValueError: the graph is sealed, or the edge is a self-loop.
        """
        self._check_building()
        if dependant == dependency:
            raise ValueError(f"node {dependant!r} cannot depend on itself")
        node = self._nodes[dependant]
        target = self._nodes[dependency]
        node.dependencies.append((target, kind))
        target.dependants.append((node, kind))
        if kind in (EdgeKind.AND, EdgeKind.COMPLETION_AND):
            node.pending += 1
        elif kind is EdgeKind.OR:
            node.or_total += 1

    def seal(self) -> GraphChanges[NodeId]:
        """End building: every node without an outstanding dependency becomes ready.

        Raises:
            ValueError: the graph has a cycle (the message names it) or was sealed before.
        """
        self._check_building()
        cycle = self.find_cycle()
        if cycle:
            raise ValueError("dependency cycle: " + " -> ".join(repr(node) for node in cycle))
        self._sealed = True
        changes: _Changes[NodeId] = _Changes()
        for node in list(self._nodes.values()):
            if node.state is NodeState.WAITING and node.is_ready_now():
                self._become_ready(node, changes)
        return changes.freeze()

    def find_cycle(self) -> list[NodeId]:
        """Return one dependency cycle (first node repeated at the end), or ``[]``."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self._nodes, white)
        for start in self._nodes:
            if colour[start] != white:
                continue
            stack: list[tuple[NodeId, int]] = [(start, 0)]
            path: list[NodeId] = [start]
            colour[start] = grey
            while stack:
                node_id, position = stack[-1]
                dependencies = self._nodes[node_id].dependencies
                if position < len(dependencies):
                    stack[-1] = (node_id, position + 1)
                    next_id = dependencies[position][0].node_id
                    if colour[next_id] == grey:
                        return [*path[path.index(next_id) :], next_id]
                    if colour[next_id] == white:
                        colour[next_id] = grey
                        stack.append((next_id, 0))
                        path.append(next_id)
                else:
                    colour[node_id] = black
                    stack.pop()
                    path.pop()
        return []

    def _check_building(self) -> None:
        if self._sealed:
            raise ValueError("the graph is sealed")

    # -- queries -----------------------------------------------------------------------------

    def state(self, node_id: NodeId) -> NodeState:
        """Return the node's state (``KeyError`` if unknown)."""
        return self._nodes[node_id].state

    def edges(self) -> Iterable[tuple[NodeId, NodeId, EdgeKind]]:
        """Return every edge as ``(dependency, dependant, kind)``, in the order added per node."""
        return [
            (dependency.node_id, node.node_id, kind)
            for node in self._nodes.values()
            for dependency, kind in node.dependencies
        ]

    def nodes(self) -> Iterable[NodeId]:
        """Return the node ids in the order they were added."""
        return self._nodes.keys()

    def cause(self, node_id: NodeId) -> NodeId | None:
        """Return the dependency that made the node unresolvable (``None``: failed from outside,
        or not unresolvable)."""
        cause = self._nodes[node_id].cause
        return None if cause is None else cause.node_id

    def root_cause(self, node_id: NodeId) -> NodeId:
        """Follow :meth:`cause` to the node that was failed from outside."""
        node = self._nodes[node_id]
        while node.cause is not None:
            node = node.cause
        return node.node_id

    def outstanding(self, node_id: NodeId) -> tuple[NodeId, ...]:
        """Return the dependencies the node is still waiting for (blocking kinds and or)."""
        node = self._nodes[node_id]
        waiting = []
        for dependency, kind in node.dependencies:
            if kind is EdgeKind.OPTIONAL or dependency.state is NodeState.RESOLVED:
                continue
            if kind is EdgeKind.COMPLETION_AND and dependency.state in _SETTLED:
                continue
            if kind is EdgeKind.OR and (node.or_resolved or dependency.state in _SETTLED):
                continue
            waiting.append(dependency.node_id)
        return tuple(waiting)

    # -- updates -----------------------------------------------------------------------------

    def resolve(self, node_id: NodeId) -> GraphChanges[NodeId]:
        """Resolve the node and update its dependants; a settled node is left as it is.

        Raises:
            KeyError: the node is unknown.
            ValueError: the graph is not sealed yet.
        """
        node = self._updatable(node_id)
        changes: _Changes[NodeId] = _Changes()
        if node.state not in _SETTLED:
            self._resolve(node, changes)
        return changes.freeze()

    def fail(self, node_id: NodeId) -> GraphChanges[NodeId]:
        """Mark the node unresolvable and update its dependants; a settled node is left as
        it is.

        Raises:
            KeyError: the node is unknown.
            ValueError: the graph is not sealed yet.
        """
        node = self._updatable(node_id)
        changes: _Changes[NodeId] = _Changes()
        if node.state not in _SETTLED:
            self._fail(node, changes)
        return changes.freeze()

    def _updatable(self, node_id: NodeId) -> _Node[NodeId]:
        node = self._nodes[node_id]
        if not self._sealed:
            raise ValueError("seal the graph before updating it")
        return node

    def _become_ready(self, node: _Node[NodeId], changes: _Changes[NodeId]) -> None:
        if node.auto_resolve:
            self._resolve(node, changes)
        else:
            node.state = NodeState.READY
            changes.ready.append(node.node_id)

    def _resolve(self, first: _Node[NodeId], changes: _Changes[NodeId]) -> None:
        # Breadth first, so siblings resolve in the order their edges were added.
        todo = collections.deque([first])
        while todo:
            node = todo.popleft()
            node.state = NodeState.RESOLVED
            changes.resolved.append(node.node_id)
            for dependant, kind in node.dependants:
                if dependant.state is not NodeState.WAITING:
                    continue
                if kind is EdgeKind.OR:
                    dependant.or_resolved = True
                elif kind is not EdgeKind.OPTIONAL:
                    dependant.pending -= 1
                if not dependant.is_ready_now():
                    continue
                if dependant.auto_resolve:
                    dependant.state = NodeState.READY  # queued: resolved in turn
                    todo.append(dependant)
                else:
                    dependant.state = NodeState.READY
                    changes.ready.append(dependant.node_id)

    def _fail(self, first: _Node[NodeId], changes: _Changes[NodeId]) -> None:
        todo: collections.deque[tuple[_Node[NodeId], _Node[NodeId] | None]]
        todo = collections.deque([(first, None)])
        while todo:
            node, cause = todo.popleft()
            if node.state in _SETTLED:
                continue
            node.state = NodeState.UNRESOLVABLE
            node.cause = cause
            changes.unresolvable.append(node.node_id)
            for dependant, kind in node.dependants:
                if dependant.state is not NodeState.WAITING:
                    continue
                if kind is EdgeKind.AND:
                    todo.append((dependant, node))
                elif kind is EdgeKind.COMPLETION_AND:
                    dependant.pending -= 1
                    if dependant.is_ready_now():
                        self._become_ready(dependant, changes)
                elif kind is EdgeKind.OR:
                    dependant.or_failed += 1
                    if dependant.or_failed == dependant.or_total and not dependant.or_resolved:
                        todo.append((dependant, node))


@attrs.define
class _Changes(Generic[NodeId]):
    ready: list[NodeId] = attrs.field(factory=list)
    resolved: list[NodeId] = attrs.field(factory=list)
    unresolvable: list[NodeId] = attrs.field(factory=list)

    def freeze(self) -> GraphChanges[NodeId]:
        return GraphChanges(tuple(self.ready), tuple(self.resolved), tuple(self.unresolvable))
