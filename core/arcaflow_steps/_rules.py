"""What the runner knows about a lifecycle, computed once per lifecycle object.

:class:`LifecycleRules` bundles the lifecycle's
:class:`~arcaflow_steps._lifecycle.TransitionTable` with its output and input schemas, so the
guard and the authoring base look rules up instead of walking stages for every report.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._lifecycle import Lifecycle, LifecycleStageWithSchema, TransitionTable

if TYPE_CHECKING:
    from ._schema import PropertySchema, StepOutputSchema

__all__ = ["LifecycleRules", "rules_for"]

#: How many lifecycles' rules are kept (providers with static lifecycles need one each).
_RULES_CACHE_SIZE: Final = 256


@attrs.frozen(kw_only=True)
class LifecycleRules:
    """Everything the guard needs to know about a lifecycle, computed once per lifecycle.

    Thread safety: safe to share (immutable).
    """

    table: TransitionTable
    #: stage id -> output id -> output schema.
    outputs: Mapping[str, Mapping[str, StepOutputSchema]] = attrs.field(hash=False)
    #: stage id -> input field -> property schema (input-only stages included).
    input_schemas: Mapping[str, Mapping[str, PropertySchema]] = attrs.field(hash=False)
    #: Stage ids in declaration order (input-only stages included).
    stage_order: tuple[str, ...]
    #: Terminal stages whose ``fatal`` flag is set.
    fatal: frozenset[str]

    @classmethod
    def of(cls, lifecycle: Lifecycle[Any]) -> LifecycleRules:
        """Compute the rules of ``lifecycle``."""
        outputs: dict[str, Mapping[str, StepOutputSchema]] = {}
        input_schemas: dict[str, Mapping[str, PropertySchema]] = {}
        fatal: set[str] = set()
        for stage in lifecycle.stages:
            stage_id = str(stage.id)
            if isinstance(stage, LifecycleStageWithSchema):
                outputs[stage_id] = dict(stage.outputs)
                input_schemas[stage_id] = dict(stage.input_schema)
                base = stage.stage
            else:
                outputs[stage_id] = {}
                input_schemas[stage_id] = {}
                base = stage
            if base.fatal:
                fatal.add(stage_id)
        return cls(
            table=TransitionTable.of(lifecycle),
            outputs=outputs,
            input_schemas=input_schemas,
            stage_order=tuple(str(stage.id) for stage in lifecycle.stages),
            fatal=frozenset(fatal),
        )

    def is_error_output(self, stage: str, output_id: str | None) -> bool:
        """Return whether ``output_id`` of ``stage`` is an error output."""
        if output_id is None:
            return False
        schema = self.outputs.get(stage, {}).get(output_id)
        return schema is not None and schema.error

    def fallback_terminal(self, current: str | None, avoid: frozenset[str] = frozenset()) -> str:
        """Return the terminal stage the runner records when it must end a step itself.

        The current stage when it is terminal; otherwise a terminal stage reachable from it
        (from the initial stage before the first report), preferring stages not in ``avoid``
        (already unreachable), then fatal ones, then by id.
        """
        table = self.table
        origin = table.initial_stage if current is None else current
        if table.is_terminal(origin):
            return origin
        candidates = table.terminal_stages_from(origin)
        if not candidates:  # pragma: no cover - a valid lifecycle always reaches a terminal
            candidates = table.terminal_stages() or frozenset({origin})
        return min(candidates, key=lambda stage: (stage in avoid, stage not in self.fatal, stage))


_rules_lock: Final = threading.Lock()
# id(lifecycle) -> (lifecycle, rules); the lifecycle is kept alive so its id stays unique.
_rules_cache: dict[int, tuple[Lifecycle[Any], LifecycleRules]] = {}


def rules_for(lifecycle: Lifecycle[Any]) -> LifecycleRules:
    """Return the rules of ``lifecycle``, computed once per lifecycle object."""
    key = id(lifecycle)
    with _rules_lock:
        cached = _rules_cache.get(key)
        if cached is not None and cached[0] is lifecycle:
            return cached[1]
    rules = LifecycleRules.of(lifecycle)
    with _rules_lock:
        if len(_rules_cache) >= _RULES_CACHE_SIZE:
            _rules_cache.pop(next(iter(_rules_cache)))
        _rules_cache[key] = (lifecycle, rules)
    return rules
