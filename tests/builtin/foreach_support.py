"""Helpers shared by the foreach provider tests (not a test module).

Workflows are written into a temporary context directory; their plugin steps run the real SDK
plugin ``tests/plugins/plugin_steps.py`` with the python deployer (``{steps}`` in a workflow
text is replaced by its path).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_support import STEPS, descendants, wait_gone

import arcaflow_steps_builtin.dummy as dummy_module
import arcaflow_steps_builtin.foreach as foreach_module
import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import Registry, StepEvent, StepEventKind
from arcaflow_steps.workflow import WorkflowContext, WorkflowPlan, plan_workflow, read_workflow
from arcaflow_steps_builtin.deployers import _hooks as deployers_module
from arcaflow_steps_builtin.deployers._process import live_connection_count

#: An input scope with one string property ``name``.
NAME_INPUT = """
input:
  root: R
  objects:
    R: {id: R, properties: {name: {type: {type_id: string}}}}
"""

#: A sub-workflow: greets ``$.input.name`` with the hello step; output ``success {message}``.
HELLO_SUB = (
    "version: v0.2.0\n"
    + NAME_INPUT
    + """
steps:
  h:
    plugin: {src: "{steps}", deployment_type: python}
    step: hello
    input: {name: !expr $.input.name}
outputs:
  success: {message: !expr $.steps.h.outputs.success.message}
"""
)


@pytest.fixture
def foreach_registry() -> Iterator[Registry]:
    """A fresh registry with the plugin, foreach and dummy providers and the built-in
    deployers; afterwards no plugin process may be left."""
    registry = Registry.from_plugins(
        [plugin_module, deployers_module, foreach_module, dummy_module]
    )
    yield registry
    registry.close()
    assert set() == wait_gone(descendants()), "processes left behind"
    assert 0 == live_connection_count()


def write(directory: Path, name: str, text: str) -> Path:
    """Write a workflow file (``{steps}`` replaced by the test plugin's path)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("{steps}", STEPS))
    return path


def plan(
    directory: Path, registry: Registry, name: str = "workflow.yaml", **context: Any
) -> WorkflowPlan:
    """Read and plan ``directory/name`` with ``directory`` as the context."""
    workflow_context = WorkflowContext(context_dir=directory, registry=registry, **context)
    return plan_workflow(read_workflow(directory / name), workflow_context)


class Intervals:
    """A step observer recording when each step entered and left a stage (monotonic time);
    with ``stage=None``, when each step entered its first stage and when it completed.

    Thread safety: safe to share.
    """

    def __init__(self, stage: str | None) -> None:
        self.stage = stage
        # Guards the two dicts.
        self._lock = threading.Lock()
        self.entered: dict[str, float] = {}
        self.left: dict[str, float] = {}

    def on_event(self, event: StepEvent) -> None:
        now = time.monotonic()
        with self._lock:
            if self.stage is None:
                if event.kind is StepEventKind.STAGE_CHANGED and event.previous_stage is None:
                    self.entered[event.step_id] = now
                elif event.kind is StepEventKind.COMPLETED:
                    self.left[event.step_id] = now
            elif event.kind is StepEventKind.STAGE_CHANGED:
                if event.stage == self.stage:
                    self.entered[event.step_id] = now
                elif event.previous_stage == self.stage:
                    self.left[event.step_id] = now
            elif event.kind is StepEventKind.COMPLETED and event.step_id in self.entered:
                self.left.setdefault(event.step_id, now)

    def forget(self, step_id: str) -> None:
        """Leave ``step_id`` out of :meth:`max_overlap`."""
        with self._lock:
            self.entered.pop(step_id, None)
            self.left.pop(step_id, None)

    def max_overlap(self) -> int:
        """Return the most steps that were in the stage at the same time."""
        with self._lock:
            points = [(time_, 1) for time_ in self.entered.values()]
            points += [(time_, -1) for time_ in self.left.values()]
        current = best = 0
        for _, delta in sorted(points):  # a leave sorts before an enter at the same instant
            current += delta
            best = max(best, current)
        return best
