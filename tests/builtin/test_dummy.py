"""The ``dummy`` provider, through the real entry point, the registry and the runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from arcaflow_steps import (
    Registry,
    RunningStepState,
    SchemaValidationError,
    StepEventKind,
    StepRunner,
    prepare_step,
)
from arcaflow_steps._guard import StepGuard
from arcaflow_steps._rules import LifecycleRules
from arcaflow_steps.testing import ConformanceCase, ProviderConformance
from arcaflow_steps_builtin.dummy import DummyProvider


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.from_entry_points()


def _run(registry: Registry, definition: dict[str, Any]) -> Any:
    prepared = prepare_step(registry, "hello", {"kind": "dummy", **definition})
    with StepRunner() as runner:
        return runner.run_all([prepared])["hello"]


def test_entry_point_provides_dummy(registry: Registry) -> None:
    """The installed distribution registers kind 'dummy' through its own entry point."""
    assert "dummy" == registry.get("dummy").kind


def test_greets_by_name(registry: Registry) -> None:
    """A name yields the success output 'Hello <name>!' in the one stage 'greet'."""
    result = _run(registry, {"name": "Arca"})
    assert ("greet", "success", {"message": "Hello Arca!"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )
    assert not result.is_error
    assert [StepEventKind.STAGE_CHANGED, StepEventKind.COMPLETED] == [
        event.kind for event in result.events
    ]


def test_greets_nickname_with_configured_greeting(registry: Registry) -> None:
    """The nickname is greeted instead of the name, with the provider's greeting."""
    result = _run(registry, {"name": "Arca", "nickname": "Arcy", "dummy": {"greeting": "Hi"}})
    assert {"message": "Hi Arcy!"} == result.output_data


def test_blank_name_is_an_error_output(registry: Registry) -> None:
    """A blank name ends in the error output 'error'."""
    result = _run(registry, {"name": "  "})
    assert ("error", {"error": "cannot greet a blank name"}) == (
        result.output_id,
        result.output_data,
    )
    assert result.is_error


def test_missing_name_is_refused_with_path(registry: Registry) -> None:
    """Without the required name, preparing fails with the step's path."""
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "hello", {"kind": "dummy"})
    assert "missing required field 'name' @ $.steps.hello" == str(excinfo.value)


def test_closed_while_waiting_ends_with_error_output() -> None:
    """Closed before its input arrived, the step ends in 'greet' with the error output."""
    runnable = DummyProvider().any().load_schema({})
    lifecycle = runnable.lifecycle({})
    guard = StepGuard("s", LifecycleRules.of(lifecycle))
    step = runnable.start({}, guard, "s")
    assert RunningStepState.WAITING_FOR_INPUT == step.state()
    step.close()
    step.close()
    result = guard.result()
    assert result is not None
    assert ("greet", "error", {"error": "step closed before it greeted"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )
    assert RunningStepState.FINISHED == step.state()


class TestDummyConformance(ProviderConformance):
    """The dummy provider passes the whole conformance kit."""

    @pytest.fixture
    def provider(self) -> DummyProvider:
        return DummyProvider()

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        return [
            ConformanceCase(
                id="greets",
                definition={"name": "Arca"},
                expected_stage="greet",
                expected_output_id="success",
            ),
            ConformanceCase(
                id="blank-name",
                definition={"name": " ", "dummy": {"greeting": "Hi"}},
                expected_stage="greet",
                expected_output_id="error",
            ),
        ]
