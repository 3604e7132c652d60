"""A plugin step gets its ``closure_wait_timeout`` to close, beyond the runner's close timeout
(``GracefulRunningStep.close_grace``, ``_step_closer.py``)."""

from __future__ import annotations

import time

import pytest
from plugin_support import PROMPT, STEPS, plugin, registry, wait_for_stage

from arcaflow_steps import PreparedStep, Registry, StepRunner, prepare_step

__all__ = ["registry"]  # the fixture, imported for pytest

pytestmark = pytest.mark.slow


def _cancellable(registry: Registry, closure_wait_ms: int, answer_after: float) -> PreparedStep:
    return prepare_step(
        registry,
        "c",
        {
            "plugin": plugin(STEPS),
            "step": "cancellable",
            "closure_wait_timeout": closure_wait_ms,
            "input": {"answer_after": answer_after},
        },
    )


def test_close_waits_for_the_closure_wait_timeout_beyond_the_runners(registry: Registry) -> None:
    """The runner forces a step after 1 s; the plugin, cancelled, answers after 2 s, within
    its 4 s closure wait: the step ends with its own answer, not stopped."""
    with StepRunner(close_timeout=1.0) as runner:
        execution = runner.start(_cancellable(registry, 4000, 2.0))
        wait_for_stage(execution, "running")
        started = time.monotonic()
        execution.close()
        result = execution.wait(PROMPT)
        took = time.monotonic() - started
    assert ("outputs", "cancelled", True) == (
        result.stage,
        result.output_id,
        result.output_data["cancelled"],
    )
    assert 2.0 <= took < 4.0


def test_a_plugin_that_answers_after_its_closure_wait_is_stopped(registry: Registry) -> None:
    """The closure wait still bounds the graceful close: an answer due after it is not awaited."""
    with StepRunner(close_timeout=10.0) as runner:
        execution = runner.start(_cancellable(registry, 500, 30.0))
        wait_for_stage(execution, "running")
        started = time.monotonic()
        execution.close()
        result = execution.wait(PROMPT)
        took = time.monotonic() - started
    assert ("closed", "result", {"cancelled": True, "close_requested": True}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )
    assert took < 5.0
