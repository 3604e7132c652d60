"""arcaflow-steps-shell: the ``shell`` step kind, which runs a command as a step.

The entry point ``shell`` in the group ``arcaflow.step_providers`` names this module; the
registry calls :func:`arcaflow_steps_providers` the first time a ``shell`` step is described,
checked or run.
"""

from __future__ import annotations

from arcaflow_steps import hookimpl

from ._provider import LIFECYCLE, ShellConfig, ShellProvider, ShellStage, ShellStep

__all__ = [
    "LIFECYCLE",
    "ShellConfig",
    "ShellProvider",
    "ShellStage",
    "ShellStep",
    "arcaflow_steps_providers",
]


@hookimpl
def arcaflow_steps_providers() -> list[ShellProvider]:
    """Offer the ``shell`` provider."""
    return [ShellProvider()]
