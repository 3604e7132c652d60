"""The built-in ``foreach`` provider (entry point ``foreach``): a sub-workflow per item.

See :mod:`arcaflow_steps_builtin.foreach._provider` for the step definition it accepts and
:mod:`arcaflow_steps_builtin.foreach._running` for what happens in each stage.
"""

from __future__ import annotations

from arcaflow_steps import hookimpl

from ._provider import ForeachProvider, ForeachRunnableStep
from ._running import ForeachRunningStep
from ._stages import FOREACH_LIFECYCLE, ForeachStage, foreach_lifecycle

__all__ = [
    "FOREACH_LIFECYCLE",
    "ForeachProvider",
    "ForeachRunnableStep",
    "ForeachRunningStep",
    "ForeachStage",
    "arcaflow_steps_providers",
    "foreach_lifecycle",
]


@hookimpl
def arcaflow_steps_providers() -> list[ForeachProvider]:
    """Offer the ``foreach`` provider."""
    return [ForeachProvider()]
