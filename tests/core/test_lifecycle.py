"""Lifecycle records, ``Lifecycle.validate`` and the transition table."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcaflow_steps import (
    InvalidLifecycleError,
    Lifecycle,
    LifecycleStage,
    LifecycleStageWithSchema,
)
from arcaflow_steps._lifecycle import TransitionTable
from arcaflow_steps.schema import (
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)


class Stage(enum.StrEnum):
    DEPLOY = "deploy"
    DEPLOY_FAILED = "deploy_failed"
    RUNNING = "running"
    OUTPUTS = "outputs"
    CRASHED = "crashed"
    CANCELLED = "cancelled"


def plugin_like() -> Lifecycle[LifecycleStage]:
    """A lifecycle shaped like the plugin provider's, with an input-only stage."""
    return Lifecycle(
        initial_stage=Stage.DEPLOY,
        stages=(
            LifecycleStage(
                id=Stage.DEPLOY,
                input_fields={"deploy"},
                next_stages={Stage.RUNNING, Stage.DEPLOY_FAILED},
            ),
            LifecycleStage(id=Stage.DEPLOY_FAILED, fatal=True),
            LifecycleStage(
                id=Stage.RUNNING, input_fields={"input"}, next_stages={Stage.OUTPUTS, Stage.CRASHED}
            ),
            LifecycleStage(id=Stage.OUTPUTS),
            LifecycleStage(id=Stage.CRASHED),
            LifecycleStage(
                id=Stage.CANCELLED,
                input_fields={"stop_if"},
                next_stages={Stage.OUTPUTS, Stage.CRASHED},
                input_only=True,
            ),
        ),
    )


def graph(initial: str, **edges: set[str]) -> Lifecycle[LifecycleStage]:
    return Lifecycle(
        initial_stage=initial,
        stages=tuple(LifecycleStage(id=stage, next_stages=nexts) for stage, nexts in edges.items()),
    )


def test_valid_lifecycle_passes() -> None:
    """A DAG with one initial stage and an input-only stage is valid."""
    plugin_like().validate("plugin")


def test_stage_records_convert_and_answer() -> None:
    """Stage fields become frozensets of str; terminal means no next stages and not input-only."""
    stage = LifecycleStage(id="a", input_fields=["x", "y"], next_stages=("b",))
    assert (frozenset({"x", "y"}), frozenset({"b"})) == (stage.input_fields, stage.next_stages)
    assert (False, True) == (stage.is_terminal, LifecycleStage(id="z").is_terminal)
    assert False is LifecycleStage(id="c", input_only=True).is_terminal


def test_lifecycle_queries() -> None:
    """stage(), stage_ids() and terminal_stage_ids() read the declaration."""
    lifecycle = plugin_like()
    assert Stage.RUNNING == lifecycle.stage("running").id
    assert ("deploy", "deploy_failed", "running", "outputs", "crashed", "cancelled") == (
        lifecycle.stage_ids()
    )
    assert frozenset({"deploy_failed", "outputs", "crashed"}) == lifecycle.terminal_stage_ids()
    with pytest.raises(KeyError):
        lifecycle.stage("nope")


def test_with_schema_proxies_and_base() -> None:
    """A stage with schema answers like its stage; base() strips the schemas."""
    scope = ScopeSchema(
        root="O",
        objects={"O": ObjectSchema(id="O", properties={"s": PropertySchema(type=StringSchema())})},
    )
    plain = plugin_like()
    with_schema = Lifecycle(
        initial_stage=plain.initial_stage,
        stages=tuple(
            LifecycleStageWithSchema(
                stage=stage,
                outputs={"success": StepOutputSchema(schema=scope)}
                if stage.id == Stage.OUTPUTS
                else {},
            )
            for stage in plain.stages
        ),
    )
    cancelled = with_schema.stage("cancelled")
    assert (True, False, frozenset({"stop_if"})) == (
        cancelled.input_only,
        cancelled.is_terminal,
        cancelled.input_fields,
    )
    assert plain == with_schema.base()
    with_schema.validate("plugin")
    assert frozenset({"success"}) == TransitionTable.of(with_schema).output_ids["outputs"]


@pytest.mark.parametrize(
    ("lifecycle", "reason"),
    [
        pytest.param(
            Lifecycle(
                initial_stage="a",
                stages=(LifecycleStage(id="a"), LifecycleStage(id="a")),
            ),
            "stage 'a' is declared more than once",
            id="duplicate",
        ),
        pytest.param(
            graph("a", a={"b", "c"}, b=set()),
            "stage 'a' names unknown next stage 'c'; declared stages: 'a', 'b'",
            id="unknown-next",
        ),
        pytest.param(
            graph("x", a={"b"}, b=set()),
            "initial stage 'x' is not declared; declared stages: 'a', 'b'",
            id="initial-undeclared",
        ),
        pytest.param(
            Lifecycle(
                initial_stage="c",
                stages=(
                    LifecycleStage(id="c", input_only=True, next_stages={"b"}),
                    LifecycleStage(id="b"),
                ),
            ),
            "initial stage 'c' is an input-only stage",
            id="initial-input-only",
        ),
        pytest.param(
            Lifecycle(
                initial_stage="a",
                stages=(
                    LifecycleStage(id="a", next_stages={"c"}),
                    LifecycleStage(id="c", input_only=True, next_stages={"b"}),
                    LifecycleStage(id="b"),
                ),
            ),
            "input-only stage 'c' is named as a next stage; a step never moves into an "
            "input-only stage",
            id="input-only-entered",
        ),
        pytest.param(
            graph("a", a={"c"}, b={"c"}, c=set()),
            "stages 'a', 'b' have no inbound transition; exactly one is allowed, the initial "
            "stage 'a'; unreachable from it: 'b'",
            id="two-initial",
        ),
        pytest.param(
            graph("a", a={"b"}, b=set(), c={"d"}, d=set()),
            "stages 'a', 'c' have no inbound transition; exactly one is allowed, the initial "
            "stage 'a'; unreachable from it: 'c', 'd'",
            id="unreachable",
        ),
        pytest.param(
            graph("a", a={"b"}, b={"c"}, c={"b", "d"}, d=set()),
            "lifecycle has a cycle: 'b' -> 'c' -> 'b'; a lifecycle must be a directed acyclic "
            "graph",
            id="cycle",
        ),
        pytest.param(
            graph("a", a={"a"}),
            "lifecycle has a cycle: 'a' -> 'a'; a lifecycle must be a directed acyclic graph",
            id="self-loop",
        ),
        pytest.param(
            graph("b", a={"b"}, b=set()),
            "initial stage 'b' has an inbound transition; a lifecycle starts at the one stage "
            "nothing leads to",
            id="initial-has-inbound",
        ),
    ],
)
def test_invalid_lifecycle_is_refused(lifecycle: Lifecycle[LifecycleStage], reason: str) -> None:
    """Each broken lifecycle is refused naming the provider, the stage and what is valid."""
    with pytest.raises(InvalidLifecycleError) as excinfo:
        lifecycle.validate("demo")
    assert f"provider 'demo' is invalid: {reason}" == str(excinfo.value)
    assert "demo" == excinfo.value.kind


def test_transition_table_answers_from_the_declaration() -> None:
    """The table allows exactly the declared moves; input-only stages are never entered."""
    table = TransitionTable.of(plugin_like())
    assert table.allows(None, "deploy")
    assert not table.allows(None, "running")
    assert table.allows("deploy", "running")
    assert not table.allows("deploy", "outputs")
    assert not table.allows("outputs", "crashed")
    assert frozenset({"deploy"}) == table.allowed_next(None)
    assert frozenset({"running", "deploy_failed"}) == table.allowed_next("deploy")
    assert (False, True) == (table.has_stage("cancelled"), table.accepts_input("cancelled"))
    assert (True, False) == (table.is_terminal("outputs"), table.is_terminal("cancelled"))
    assert frozenset({"deploy_failed", "outputs", "crashed"}) == table.terminal_stages()


def test_reachability_and_unreachable_after() -> None:
    """Reachable stages include the stage itself; leaving a branch makes its stages unreachable."""
    table = TransitionTable.of(plugin_like())
    assert frozenset({"running", "outputs", "crashed"}) == table.reachable_from("running")
    assert frozenset({"deploy", "deploy_failed"}) == table.unreachable_after("running")
    assert frozenset({"deploy", "running", "outputs", "crashed"}) == table.unreachable_after(
        "deploy_failed"
    )


def test_terminal_stages_from_a_stage() -> None:
    """A stage can still end only in the terminal stages reachable from it (itself if terminal)."""
    table = TransitionTable.of(plugin_like())
    assert frozenset({"outputs", "crashed"}) == table.terminal_stages_from("running")
    assert frozenset({"deploy_failed"}) == table.terminal_stages_from("deploy_failed")
    assert table.terminal_stages() == table.terminal_stages_from("deploy")


@st.composite
def dags(draw: st.DrawFn) -> Lifecycle[LifecycleStage]:
    """A random valid lifecycle: edges go forward only, every stage but the first has a parent."""
    size = draw(st.integers(min_value=1, max_value=8))
    names = [f"s{index}" for index in range(size)]
    edges: dict[str, set[str]] = {name: set() for name in names}
    for index in range(1, size):
        edges[names[draw(st.integers(0, index - 1))]].add(names[index])
        for target in draw(st.sets(st.integers(index + 1, size), max_size=2)):
            if target < size:
                edges[names[index]].add(names[target])
    return graph("s0", **edges)


@given(dags())
def test_forward_graphs_are_valid_and_fully_reachable(lifecycle: Lifecycle[LifecycleStage]) -> None:
    """Every forward-only graph with one root validates, and every stage is reachable."""
    lifecycle.validate("random")
    table = TransitionTable.of(lifecycle)
    assert frozenset(lifecycle.stage_ids()) == table.reachable_from(lifecycle.initial_stage)


@given(dags(), st.data())
def test_any_back_edge_is_a_cycle(
    lifecycle: Lifecycle[LifecycleStage], data: st.DataObject
) -> None:
    """Adding an edge from a stage back to one it is reachable from is refused as a cycle."""
    table = TransitionTable.of(lifecycle)
    source = data.draw(st.sampled_from(lifecycle.stage_ids()))
    target = data.draw(
        st.sampled_from(
            sorted(s for s in lifecycle.stage_ids() if source in table.reachable_from(s))
        )
    )
    edges = {str(stage.id): set(stage.next_stages) for stage in lifecycle.stages}
    edges[source].add(target)
    with pytest.raises(InvalidLifecycleError, match="lifecycle has a cycle: "):
        graph(lifecycle.initial_stage, **edges).validate("random")
