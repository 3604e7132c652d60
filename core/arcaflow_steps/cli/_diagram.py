"""The lifecycle as a Mermaid flowchart, generated from the lifecycle's transition table."""

from __future__ import annotations

import re
from typing import Any

from .._lifecycle import Lifecycle, TransitionTable

__all__ = ["lifecycle_mermaid"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _node(stage_id: str) -> str:
    return "s_" + _UNSAFE.sub("_", stage_id)


def lifecycle_mermaid(lifecycle: Lifecycle[Any]) -> str:
    """Return a Mermaid ``flowchart`` of the lifecycle.

    The initial stage hangs off a start dot; terminal stages are rounded (fatal ones say so); an
    input-only stage is a hexagon with dotted edges to the stages it influences.
    """
    base = lifecycle.base()
    table = TransitionTable.of(base)
    lines = ["flowchart TD", "    start(( ))"]
    for stage in base.stages:
        stage_id = str(stage.id)
        label = stage_id + (" (fatal)" if stage.fatal else "")
        if stage.input_only:
            opening, closing = "{{", "}}"
        elif table.is_terminal(stage_id):
            opening, closing = "([", "])"
        else:
            opening, closing = "[", "]"
        lines.append(f'    {_node(stage_id)}{opening}"{label}"{closing}')
    lines.append(f"    start --> {_node(base.initial_stage)}")
    for stage in base.stages:
        arrow = "-.->" if stage.input_only else "-->"
        lines.extend(
            f"    {_node(str(stage.id))} {arrow} {_node(target)}"
            for target in sorted(stage.next_stages)
        )
    return "\n".join(lines) + "\n"
