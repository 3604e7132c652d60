"""arcaflow-steps-approval: the ``approval`` step kind, a manual gate with a deadline.

The entry point ``approval`` in the group ``arcaflow.step_providers`` names this module; the
registry calls :func:`arcaflow_steps_providers` the first time an ``approval`` step is
described, checked or run.
"""

from __future__ import annotations

from arcaflow_steps import hookimpl

from ._answers import Decision, parse_answer
from ._provider import LIFECYCLE, ApprovalConfig, ApprovalProvider, ApprovalStage, ApprovalStep

__all__ = [
    "LIFECYCLE",
    "ApprovalConfig",
    "ApprovalProvider",
    "ApprovalStage",
    "ApprovalStep",
    "Decision",
    "arcaflow_steps_providers",
    "parse_answer",
]


@hookimpl
def arcaflow_steps_providers() -> list[ApprovalProvider]:
    """Offer the ``approval`` provider."""
    return [ApprovalProvider()]
