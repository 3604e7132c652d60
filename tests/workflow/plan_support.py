"""Helpers shared by the planner tests (not a test module): models built from records, with
expressions parsed from text (the contexts are fixtures in ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from arcaflow_steps.schema import IntSchema, ObjectSchema, PropertySchema, ScopeSchema, StringSchema
from arcaflow_steps.workflow import (
    InvalidWorkflowError,
    WorkflowContext,
    WorkflowModel,
    plan_workflow,
    read_workflow,
)
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._template import Expr, Template

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
HELLO = str(PLUGINS / "plugin_hello.py")
STEPS = str(PLUGINS / "plugin_steps.py")

#: The input scope of the test workflows: ``name`` (required) and ``count`` (default 3).
INPUT = ScopeSchema(
    root="In",
    objects={
        "In": ObjectSchema(
            id="In",
            properties={
                "name": PropertySchema(type=StringSchema(), required=True),
                "count": PropertySchema(type=IntSchema(), default="3"),
            },
        )
    },
)


def expr(text: str) -> Expr:
    """Return ``!expr TEXT``."""
    return Expr(parse_expression(text), "")


def model(
    steps: Mapping[str, Mapping[str, Template]],
    outputs: Mapping[str, Template] | None = None,
    **extra: Any,
) -> WorkflowModel:
    """Return a workflow of these steps; its output is the last dummy step's success by
    default."""
    last = list(steps)[-1]
    extra.setdefault("input", INPUT)
    return WorkflowModel(
        version="v0.2.0",
        steps=steps,
        outputs=outputs or {"success": {"message": expr(f"$.steps.{last}.greet.success")}},
        **extra,
    )


def greet(name: Template = "Arca", **extra: Any) -> dict[str, Template]:
    """Return a dummy step definition."""
    return {"kind": "dummy", "name": name, **extra}


def hello(name: Template = "Arca", **extra: Any) -> dict[str, Template]:
    """Return a plugin step of ``plugin_hello`` (python deployer)."""
    return {"plugin": {"src": HELLO, "deployment_type": "python"}, "input": {"name": name}, **extra}


def read(text: str, directory: Path, name: str = "workflow.yaml") -> WorkflowModel:
    """Write ``text`` (with ``HELLO`` and ``STEPS`` formatted in) to ``directory/name`` and
    read it as a workflow file."""
    path = directory / name
    path.write_text(text.replace("{HELLO}", HELLO).replace("{STEPS}", STEPS))
    return read_workflow(path)


def planning_error(workflow: WorkflowModel, context: WorkflowContext) -> str:
    """Return the message of the InvalidWorkflowError planning raises."""
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan_workflow(workflow, context)
    return str(excinfo.value)
