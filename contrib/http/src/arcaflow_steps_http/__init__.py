"""arcaflow-steps-http: the ``http`` step kind, which makes one HTTP request as a step.

The entry point ``http`` in the group ``arcaflow.step_providers`` names this module; the
registry calls :func:`arcaflow_steps_providers` the first time an ``http`` step is described,
checked or run.
"""

from __future__ import annotations

from arcaflow_steps import hookimpl

from ._provider import LIFECYCLE, HttpConfig, HttpProvider, HttpStage, HttpStep

__all__ = [
    "LIFECYCLE",
    "HttpConfig",
    "HttpProvider",
    "HttpStage",
    "HttpStep",
    "arcaflow_steps_providers",
]


@hookimpl
def arcaflow_steps_providers() -> list[HttpProvider]:
    """Offer the ``http`` provider."""
    return [HttpProvider()]
