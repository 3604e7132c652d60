"""Fixtures shared by the workflow tests: workflow contexts with dummy and real plugin steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import arcaflow_steps_builtin.dummy as dummy_module
import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import Registry
from arcaflow_steps.workflow import WorkflowContext
from arcaflow_steps_builtin.deployers import _hooks as deployers_module
from arcaflow_steps_builtin.deployers._process import live_connection_count


@pytest.fixture(scope="module")
def dummy_context() -> WorkflowContext:
    """A context whose registry has only the dummy provider (instant steps)."""
    return WorkflowContext(context_dir=Path("."), registry=Registry.from_plugins([dummy_module]))


@pytest.fixture
def plugin_context(tmp_path: Path) -> Iterator[WorkflowContext]:
    """A context in ``tmp_path`` with the plugin provider, its deployers and the dummy; no
    plugin connection is left open after the test."""
    registry = Registry.from_plugins([plugin_module, deployers_module, dummy_module])
    yield WorkflowContext(context_dir=tmp_path, registry=registry)
    registry.close()
    assert 0 == live_connection_count()
