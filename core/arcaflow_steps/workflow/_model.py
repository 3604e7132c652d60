"""The workflow file as records: what ``version: v0.2.0`` files say, checked for shape only.

The loader (``_workflow_file``) builds a :class:`WorkflowModel` from the YAML tree; nothing
here knows providers or schemas of steps. Steps stay raw definitions whose values are
templates (see ``_template``): the planner splits them by the provider's keywords.

Thread safety: safe to share (immutable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from ..schema import ScopeSchema, StepOutputSchema
from ._positions import SourcePositions
from ._template import Template

__all__ = ["SUPPORTED_VERSION", "WorkflowModel"]

#: The one workflow schema version the Go engine 0.21.0 and we support.
SUPPORTED_VERSION: Final = "v0.2.0"


@attrs.frozen(kw_only=True)
class WorkflowModel:
    """A workflow file, read and shape-checked, not yet planned.

    Thread safety: safe to share (immutable).
    """

    version: str
    #: The input schema (``input:``), its objects' defaults and constraints included.
    input: ScopeSchema
    #: step id -> its definition as written (``kind`` absent means ``plugin``), values are
    #: templates; keys in file order.
    steps: Mapping[str, Mapping[str, Template]]
    #: output id -> template of its data (the deprecated ``output:`` becomes ``success``).
    outputs: Mapping[str, Template]
    #: ``outputSchema:`` when given: output id -> schema and error flag (replaces inference).
    output_schema: Mapping[str, StepOutputSchema] | None = None
    #: The file name the workflow was read from, for messages (``workflow.yaml``).
    source: str = "workflow.yaml"
    #: Where the file's values start, for messages (empty when not read from text).
    positions: SourcePositions = attrs.field(factory=SourcePositions, eq=False, repr=False)


WorkflowModel.__module__ = "arcaflow_steps.workflow"
