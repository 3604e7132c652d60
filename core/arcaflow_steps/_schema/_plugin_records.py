"""Frozen records of what a plugin declares: its steps, their outputs and signals."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._display import DisplayValue
from ._frozen import FrozenDict, frozen_map, frozen_strs
from ._records import ScopeSchema

__all__ = ["PluginSchema", "SignalSchema", "StepOutputSchema", "StepSchema"]


@attrs.frozen(kw_only=True)
class StepOutputSchema:
    """One possible output of a step: its data schema and whether it is an error output.

    Thread safety: safe to share (immutable).
    """

    schema: ScopeSchema
    display: DisplayValue | None = None
    error: bool = False


@attrs.frozen(kw_only=True)
class SignalSchema:
    """A signal a step accepts (handler) or sends (emitter), with its data schema.

    Thread safety: safe to share (immutable).
    """

    id: str
    data_schema: ScopeSchema
    display: DisplayValue | None = None


@attrs.frozen(kw_only=True)
class StepSchema:
    """One step of a plugin: its input scope, possible outputs and signals.

    Thread safety: safe to share (immutable).
    """

    id: str
    input: ScopeSchema
    outputs: Mapping[str, StepOutputSchema] = attrs.field(converter=frozen_map)
    signal_handlers: Mapping[str, SignalSchema] = attrs.field(
        factory=FrozenDict, converter=frozen_map
    )
    signal_emitters: Mapping[str, SignalSchema] = attrs.field(
        factory=FrozenDict, converter=frozen_map
    )
    display: DisplayValue | None = None
    #: Keys of optional empty collections that the serialized form had anyway (``[]``/``{}``
    #: rather than absent), so the form round-trips exactly; not part of equality.
    present_empty: frozenset[str] = attrs.field(
        default=frozenset(), eq=False, hash=False, repr=False, converter=frozen_strs
    )


@attrs.frozen(kw_only=True)
class PluginSchema:
    """The schema a plugin declares: its steps by id.

    Thread safety: safe to share (immutable).
    """

    steps: Mapping[str, StepSchema] = attrs.field(converter=frozen_map)


for _cls in (StepOutputSchema, SignalSchema, StepSchema, PluginSchema):
    _cls.__module__ = "arcaflow_steps"
