"""The workflow dependency graph: edge kinds, incremental updates, and a naive fixpoint oracle."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcaflow_steps.workflow._graph import DependencyGraph, EdgeKind, GraphChanges, NodeState

AND, CAND, OR, OPT = EdgeKind.AND, EdgeKind.COMPLETION_AND, EdgeKind.OR, EdgeKind.OPTIONAL
W, R, D, U = NodeState.WAITING, NodeState.READY, NodeState.RESOLVED, NodeState.UNRESOLVABLE


def build(
    edges: list[tuple[str, str, EdgeKind]], *, auto: tuple[str, ...] = (), extra: str = ""
) -> DependencyGraph[str]:
    """A graph of the named edges (dependant, dependency, kind); nodes in first-seen order."""
    graph: DependencyGraph[str] = DependencyGraph()
    names = [*extra.split()]
    for dependant, dependency, _ in edges:
        names += [dependency, dependant]
    for name in dict.fromkeys(names):
        graph.add_node(name, auto_resolve=name in auto)
    for dependant, dependency, kind in edges:
        graph.add_edge(dependant, dependency, kind)
    return graph


def states(graph: DependencyGraph[str]) -> dict[str, NodeState]:
    return {node: graph.state(node) for node in graph.nodes()}


def test_and_waits_for_every_dependency_and_fails_with_any() -> None:
    """An AND dependant is ready once all resolved; one unresolvable fails it, with the cause."""
    graph = build([("c", "a", AND), ("c", "b", AND)])
    assert GraphChanges(ready=("a", "b")) == graph.seal()
    assert GraphChanges(resolved=("a",)) == graph.resolve("a")
    assert W == graph.state("c")
    assert GraphChanges(ready=("c",), resolved=("b",)) == graph.resolve("b")

    graph = build([("c", "a", AND), ("c", "b", AND)])
    graph.seal()
    assert GraphChanges(unresolvable=("a", "c")) == graph.fail("a")
    assert "a" == graph.cause("c")
    assert None is graph.cause("a")


def test_completion_and_is_satisfied_by_either_outcome() -> None:
    """A completion-and dependency counts once settled, resolved or not."""
    graph = build([("c", "a", CAND), ("c", "b", CAND)])
    graph.seal()
    graph.fail("a")
    assert W == graph.state("c")
    assert GraphChanges(ready=("c",), resolved=("b",)) == graph.resolve("b")


def test_or_needs_one_and_fails_only_when_all_failed() -> None:
    """One resolved or-dependency suffices; the dependant fails only when every one failed."""
    graph = build([("c", "a", OR), ("c", "b", OR)])
    graph.seal()
    assert GraphChanges(unresolvable=("a",)) == graph.fail("a")
    assert W == graph.state("c")
    assert GraphChanges(unresolvable=("b", "c")) == graph.fail("b")
    assert "b" == graph.root_cause("c")

    graph = build([("c", "a", OR), ("c", "b", OR), ("c", "x", AND)])
    graph.seal()
    graph.resolve("b")
    assert W == graph.state("c")  # the AND dependency still blocks
    graph.fail("a")
    assert GraphChanges(ready=("c",), resolved=("x",)) == graph.resolve("x")


def test_optional_never_blocks() -> None:
    """A node with only optional dependencies is ready at once, whatever they do later."""
    graph = build([("c", "a", OPT)])
    assert GraphChanges(ready=("a", "c")) == graph.seal()
    graph.fail("a")
    assert R == graph.state("c")


def test_auto_resolve_groups_cascade_in_insertion_order() -> None:
    """Auto-resolving groups resolve the moment they are ready, siblings in edge order."""
    graph = build(
        [("g1", "a", AND), ("g2", "a", AND), ("out", "g1", OR), ("out", "g2", OR)],
        auto=("g1", "g2"),
    )
    graph.seal()
    assert GraphChanges(ready=("out",), resolved=("a", "g1", "g2")) == graph.resolve("a")


def test_settled_nodes_do_not_change() -> None:
    """Resolving or failing a settled node changes nothing."""
    graph = build([("c", "a", AND)])
    graph.seal()
    graph.resolve("a")
    assert GraphChanges() == graph.fail("a")
    assert D == graph.state("a")
    graph.fail("c")
    assert GraphChanges() == graph.resolve("c")
    assert U == graph.state("c")


def test_building_mistakes_are_refused() -> None:
    """Duplicates, self-loops, cycles and updates before sealing are errors with the place."""
    graph = build([("b", "a", AND)])
    with pytest.raises(ValueError, match=r"^node 'a' added twice$"):
        graph.add_node("a")
    with pytest.raises(ValueError, match=r"^node 'a' cannot depend on itself$"):
        graph.add_edge("a", "a", AND)
    with pytest.raises(ValueError, match=r"^seal the graph before updating it$"):
        graph.resolve("a")
    graph.add_edge("a", "b", CAND)
    assert ["a", "b", "a"] == graph.find_cycle()
    with pytest.raises(ValueError, match=r"^dependency cycle: 'a' -> 'b' -> 'a'$"):
        graph.seal()


def test_outstanding_lists_what_a_node_still_waits_for() -> None:
    """``outstanding`` names the blocking dependencies not yet satisfied."""
    graph = build([("c", "a", AND), ("c", "b", CAND), ("c", "o", OPT), ("c", "x", OR)])
    graph.seal()
    assert ("a", "b", "x") == graph.outstanding("c")
    graph.fail("b")
    graph.resolve("x")
    assert ("a",) == graph.outstanding("c")


# -- property: the incremental graph equals a naive fixpoint ------------------------------------

KINDS = st.sampled_from([AND, CAND, OR, OPT])


@st.composite
def dags(draw: Any) -> tuple[int, list[tuple[int, int, EdgeKind]], set[int]]:
    """A random DAG: node i depends only on nodes below i."""
    size = draw(st.integers(1, 12))
    edges = []
    for dependant in range(1, size):
        for dependency in draw(st.sets(st.integers(0, dependant - 1), max_size=4)):
            edges.append((dependant, dependency, draw(KINDS)))
    auto = draw(st.sets(st.integers(0, size - 1)))
    return size, edges, auto


def naive(
    size: int,
    edges: list[tuple[int, int, EdgeKind]],
    auto: set[int],
    resolved: set[int],
    failed: set[int],
) -> dict[int, NodeState]:
    """The states by fixpoint iteration from the outside updates alone."""
    state = dict.fromkeys(range(size), W)
    for node in resolved:
        state[node] = D
    for node in failed:
        state[node] = U
    deps: dict[int, list[tuple[int, EdgeKind]]] = {node: [] for node in range(size)}
    for dependant, dependency, kind in edges:
        deps[dependant].append((dependency, kind))

    def ready(node: int) -> bool:
        ors = [state[d] for d, kind in deps[node] if kind is OR]
        return (
            all(state[d] == D for d, kind in deps[node] if kind is AND)
            and all(state[d] in (D, U) for d, kind in deps[node] if kind is CAND)
            and (not ors or D in ors)
        )

    def unresolvable(node: int) -> bool:
        ors = [state[d] for d, kind in deps[node] if kind is OR]
        return any(state[d] == U for d, kind in deps[node] if kind is AND) or (
            bool(ors) and all(s == U for s in ors)
        )

    changed = True
    while changed:
        changed = False
        for node in range(size):
            if state[node] in (D, U):
                continue
            if unresolvable(node) and state[node] != R:
                state[node], changed = U, True
            elif ready(node):
                new = D if node in auto else R
                if state[node] != new:
                    state[node], changed = new, True
    return state


@settings(max_examples=300, deadline=None)
@given(dags(), st.data())
def test_incremental_updates_match_the_naive_fixpoint(dag: Any, data: st.DataObject) -> None:
    """After any sequence of legal updates, every state equals the fixpoint's."""
    size, edges, auto = dag
    graph: DependencyGraph[int] = DependencyGraph()
    for node in range(size):
        graph.add_node(node, auto_resolve=node in auto)
    for dependant, dependency, kind in edges:
        graph.add_edge(dependant, dependency, kind)
    graph.seal()
    resolved: set[int] = set()
    failed: set[int] = set()
    for _ in range(data.draw(st.integers(0, size * 2))):
        open_nodes = [n for n in range(size) if graph.state(n) in (W, R)]
        if not open_nodes:
            break
        node = data.draw(st.sampled_from(open_nodes))
        if graph.state(node) == R and data.draw(st.booleans()):
            changes = graph.resolve(node)
            resolved.add(node)
        else:
            changes = graph.fail(node)
            failed.add(node)
        assert len(set(changes.resolved)) == len(changes.resolved)
        assert {graph.state(n) for n in changes.ready} <= {R}
        assert {graph.state(n) for n in changes.unresolvable} <= {U}
        expected = naive(size, edges, auto, resolved, failed)
        assert expected == {n: graph.state(n) for n in range(size)}


def test_a_long_chain_updates_in_linear_time() -> None:
    """Resolving a 100,000-node auto chain is one pass (no quadratic rescans)."""
    graph: DependencyGraph[int] = DependencyGraph()
    for node in range(100_000):
        graph.add_node(node, auto_resolve=node > 0)
        if node:
            graph.add_edge(node, node - 1, AND)
    graph.seal()
    assert 100_000 == len(graph.resolve(0).resolved)
