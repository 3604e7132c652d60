"""Lifecycle records and the one transition table.

Theory of operation: a provider declares its lifecycle as a set of stages, each naming the
stages it may move to next. That declaration *is* the transition table (h11's "Rule 1"): the
runner asks :class:`TransitionTable` whether a move is legal and never re-encodes transitions in
``if`` chains. A valid lifecycle is a DAG with exactly one stage without inbound edges, which is
the initial stage, and every stage reachable from it. Terminal stages are those with no next
stages; every started step ends in exactly one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import attrs

from ._errors import InvalidLifecycleError, quote, quote_sorted

if TYPE_CHECKING:
    from ._schema import PropertySchema, StepOutputSchema

__all__ = [
    "Lifecycle",
    "LifecycleStage",
    "LifecycleStageWithSchema",
    "TransitionTable",
]


def _frozen_str_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(str(value) for value in values)


@attrs.frozen(kw_only=True)
class LifecycleStage:
    """One stage of a lifecycle: its id, the stage input fields it takes and where it may go.

    Thread safety: safe to share (immutable).
    """

    #: The stage id; providers use ``StrEnum`` members, which are strings.
    id: str
    #: Human names for progress display.
    waiting_name: str = ""
    running_name: str = ""
    finished_name: str = ""
    #: Step-definition keys fed to this stage (the seed's input keyword, generalised to a set).
    input_fields: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_str_set)
    #: The stages this stage may move to. Empty for a terminal stage.
    next_stages: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_str_set)
    #: Whether reaching this stage means the step failed.
    fatal: bool = False
    #: Key under which a workflow layer may expose "this stage finished" (optional).
    finished_keyword: str | None = None
    #: An input-only pseudo-stage (the plugin provider's ``cancelled``): it takes stage input at
    #: any time but a step never moves into it, so it has no inbound transition and is neither
    #: the initial stage nor terminal. ``next_stages`` then lists the stages it can influence.
    input_only: bool = False

    @property
    def is_terminal(self) -> bool:
        """Return whether a step can end in this stage (no next stages, not input-only)."""
        return not self.next_stages and not self.input_only


@attrs.frozen(kw_only=True)
class LifecycleStageWithSchema:
    """A stage plus the schema of its input fields and of the outputs it may produce.

    Thread safety: safe to share (immutable once built).
    """

    stage: LifecycleStage
    #: input field name -> property schema of that field.
    input_schema: Mapping[str, PropertySchema] = attrs.field(factory=dict, hash=False)
    #: output id -> output schema (with its ``error`` flag).
    outputs: Mapping[str, StepOutputSchema] = attrs.field(factory=dict, hash=False)

    @property
    def id(self) -> str:
        """Return the stage id."""
        return self.stage.id

    @property
    def next_stages(self) -> frozenset[str]:
        """Return the stages this stage may move to."""
        return self.stage.next_stages

    @property
    def input_fields(self) -> frozenset[str]:
        """Return the stage input fields."""
        return self.stage.input_fields

    @property
    def input_only(self) -> bool:
        """Return whether this is an input-only pseudo-stage."""
        return self.stage.input_only

    @property
    def is_terminal(self) -> bool:
        """Return whether a step can end in this stage."""
        return self.stage.is_terminal


StageT = TypeVar("StageT", LifecycleStage, LifecycleStageWithSchema)


def _base_stage(stage: LifecycleStage | LifecycleStageWithSchema) -> LifecycleStage:
    return stage.stage if isinstance(stage, LifecycleStageWithSchema) else stage


@attrs.frozen(kw_only=True)
class Lifecycle(Generic[StageT]):
    """The stages a step can go through: a DAG with one initial stage.

    Thread safety: safe to share (immutable).
    """

    initial_stage: str
    stages: tuple[StageT, ...] = attrs.field(converter=tuple)

    def stage(self, stage_id: str) -> StageT:
        """Return the stage with that id; ``KeyError`` if there is none."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def stage_ids(self) -> tuple[str, ...]:
        """Return the stage ids in declaration order."""
        return tuple(str(stage.id) for stage in self.stages)

    def terminal_stage_ids(self) -> frozenset[str]:
        """Return the ids of the stages a step can end in."""
        return frozenset(str(stage.id) for stage in self.stages if stage.is_terminal)

    def base(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return Lifecycle(
            initial_stage=self.initial_stage,
            stages=tuple(_base_stage(stage) for stage in self.stages),
        )

    def validate(self, kind: str) -> None:
        """Raise :class:`InvalidLifecycleError` unless this is a valid DAG with one initial stage.

        Checks, in order: unique stage ids, every next stage exists, the initial stage exists,
        exactly one stage has no inbound edge and it is the initial stage, no cycle, and every
        stage is reachable from the initial stage.
        """
        ids = [str(stage.id) for stage in self.stages]
        duplicates = sorted({stage_id for stage_id in ids if ids.count(stage_id) > 1})
        if duplicates:
            raise InvalidLifecycleError(kind, f"stage {duplicates[0]!r} is declared more than once")
        known = set(ids)
        for stage in self.stages:
            unknown = sorted(stage.next_stages - known)
            if unknown:
                raise InvalidLifecycleError(
                    kind,
                    f"stage {quote(stage.id)} names unknown next stage {quote(unknown[0])}; "
                    f"declared stages: {quote_sorted(known)}",
                )
        if self.initial_stage not in known:
            raise InvalidLifecycleError(
                kind,
                f"initial stage {quote(self.initial_stage)} is not declared; "
                f"declared stages: {quote_sorted(known)}",
            )
        input_only = {str(stage.id) for stage in self.stages if stage.input_only}
        if self.initial_stage in input_only:
            raise InvalidLifecycleError(
                kind, f"initial stage {quote(self.initial_stage)} is an input-only stage"
            )
        inbound = {
            target for stage in self.stages if not stage.input_only for target in stage.next_stages
        }
        entered_input_only = sorted(inbound & input_only)
        if entered_input_only:
            raise InvalidLifecycleError(
                kind,
                f"input-only stage {entered_input_only[0]!r} is named as a next stage; a step "
                "never moves into an input-only stage",
            )
        known -= input_only
        roots = sorted(known - inbound)
        if len(roots) > 1:
            reachable = TransitionTable.of(self).reachable_from(self.initial_stage)
            unreachable = sorted(known - reachable)
            raise InvalidLifecycleError(
                kind,
                f"stages {quote_sorted(roots)} have no inbound transition; exactly one is "
                f"allowed, the initial stage {quote(self.initial_stage)}; unreachable from it: "
                f"{quote_sorted(unreachable)}",
            )
        cycle = _find_cycle(
            {str(stage.id): stage.next_stages for stage in self.stages if not stage.input_only}
        )
        if cycle:
            raise InvalidLifecycleError(
                kind,
                "lifecycle has a cycle: "
                + " -> ".join(repr(s) for s in cycle)
                + "; a lifecycle must be a directed acyclic graph",
            )
        if roots != [self.initial_stage]:
            raise InvalidLifecycleError(
                kind,
                f"initial stage {quote(self.initial_stage)} has an inbound transition; a lifecycle "
                f"starts at the one stage nothing leads to",
            )
        unreachable = sorted(known - TransitionTable.of(self).reachable_from(self.initial_stage))
        if unreachable:  # pragma: no cover - a DAG with one root reaches every stage
            raise InvalidLifecycleError(
                kind,
                f"stage {unreachable[0]!r} is unreachable from initial stage "
                f"{quote(self.initial_stage)}",
            )


def _find_cycle(edges: Mapping[str, frozenset[str]]) -> list[str]:
    """Return one cycle as a list of stage ids (first repeated at the end), or ``[]``."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    parent: dict[str, str] = {}
    for start in sorted(edges):
        if colour[start] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(edges[start]))]
        colour[start] = grey
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = black
                stack.pop()
                continue
            target = pending.pop(0)
            if colour.get(target, black) == grey:
                cycle = [target]
                current = node
                while current != target:
                    cycle.append(current)
                    current = parent[current]
                cycle.append(target)
                return list(reversed(cycle))
            if colour.get(target) == white:
                parent[target] = node
                colour[target] = grey
                stack.append((target, sorted(edges[target])))
    return []


@attrs.frozen(kw_only=True)
class TransitionTable:
    """The one transition table of a lifecycle, precomputed for the runner.

    Thread safety: safe to share (immutable).
    """

    initial_stage: str
    #: stage id -> the stages it may move to.
    next_stages: Mapping[str, frozenset[str]] = attrs.field(hash=False)
    #: stage id -> the output ids it may produce (empty when unknown / schema-less).
    output_ids: Mapping[str, frozenset[str]] = attrs.field(hash=False)
    #: stage id -> stage input fields.
    input_fields: Mapping[str, frozenset[str]] = attrs.field(hash=False)
    #: stage id -> every stage reachable from it (itself included).
    _reachable: Mapping[str, frozenset[str]] = attrs.field(hash=False, alias="reachable")

    @classmethod
    def of(cls, lifecycle: Lifecycle[Any]) -> TransitionTable:
        """Build the table of a lifecycle (which need not have been validated)."""
        next_stages = {
            str(stage.id): frozenset(stage.next_stages)
            for stage in lifecycle.stages
            if not stage.input_only
        }
        output_ids = {
            str(stage.id): frozenset(stage.outputs)
            if isinstance(stage, LifecycleStageWithSchema)
            else frozenset()
            for stage in lifecycle.stages
        }
        input_fields = {str(stage.id): frozenset(stage.input_fields) for stage in lifecycle.stages}
        reachable: dict[str, frozenset[str]] = {}
        for stage_id in next_stages:
            seen: set[str] = set()
            todo = [stage_id]
            while todo:
                current = todo.pop()
                if current in seen:
                    continue
                seen.add(current)
                todo.extend(next_stages.get(current, ()))
            reachable[stage_id] = frozenset(seen)
        return cls(
            initial_stage=lifecycle.initial_stage,
            next_stages=next_stages,
            output_ids=output_ids,
            input_fields=input_fields,
            reachable=reachable,
        )

    def has_stage(self, stage_id: str) -> bool:
        """Return whether a step can be in this stage (declared, not input-only)."""
        return stage_id in self.next_stages

    def accepts_input(self, stage_id: str) -> bool:
        """Return whether the stage (input-only stages included) is declared."""
        return stage_id in self.input_fields

    def is_terminal(self, stage_id: str) -> bool:
        """Return whether the stage is declared and has no next stages."""
        return stage_id in self.next_stages and not self.next_stages[stage_id]

    def allows(self, current: str | None, new: str) -> bool:
        """Return whether a step in ``current`` (None: not started) may move to ``new``."""
        if current is None:
            return new == self.initial_stage
        return new in self.next_stages.get(current, frozenset())

    def allowed_next(self, current: str | None) -> frozenset[str]:
        """Return where a step in ``current`` (None: not started) may move."""
        if current is None:
            return frozenset({self.initial_stage})
        return self.next_stages.get(current, frozenset())

    def reachable_from(self, stage_id: str) -> frozenset[str]:
        """Return every stage reachable from ``stage_id``, itself included."""
        return self._reachable.get(stage_id, frozenset())

    def unreachable_after(self, stage_id: str) -> frozenset[str]:
        """Return the stages that can no longer be reached once a step is in ``stage_id``."""
        return frozenset(self.next_stages) - self.reachable_from(stage_id)

    def terminal_stages(self) -> frozenset[str]:
        """Return the stages with no next stages."""
        return frozenset(stage for stage, nexts in self.next_stages.items() if not nexts)

    def terminal_stages_from(self, stage_id: str) -> frozenset[str]:
        """Return the terminal stages a step in ``stage_id`` can still end in."""
        return self.reachable_from(stage_id) & self.terminal_stages()


TERMINAL_STATE_NAME: Final = "finished"

for _cls in (LifecycleStage, LifecycleStageWithSchema, Lifecycle):
    _cls.__module__ = "arcaflow_steps"
