"""Step definitions: keys, validation with paths, defaults, and the runnable cache."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from runner_fakes import FakeProvider, FakeRegistry, FakeRunnable

from arcaflow_steps import (
    SchemaValidationError,
    StepDefinitionError,
    UnknownKindError,
    prepare_step,
)
from arcaflow_steps._step_definition import RunnableCache


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider(FakeRunnable())


@pytest.fixture
def registry(provider: FakeProvider) -> FakeRegistry:
    return FakeRegistry(provider)


def test_definition_is_split_validated_and_defaulted(registry: FakeRegistry) -> None:
    """Run input and stage inputs are validated, defaults applied, inputs per stage in order."""
    prepared = prepare_step(registry, "s", {"kind": "fake", "go": True, "fake": {}})
    assert ("s", "fake", "$.steps.s") == (prepared.step_id, prepared.kind, prepared.path)
    assert {"value": 1} == prepared.run_input
    assert {"fake": {"mode": "x"}} == prepared.provider_input
    assert [("prepare", {"go": True}), ("stop", {})] == list(prepared.stage_inputs.items())
    assert "prepare" == prepared.rules.table.initial_stage


def test_kind_defaults_to_plugin(registry: FakeRegistry) -> None:
    """Without ``kind`` the step is a plugin step; the error names the step and valid kinds."""
    with pytest.raises(UnknownKindError) as excinfo:
        prepare_step(registry, "hello", {"step": "x"})
    assert "unknown provider kind 'plugin' in step 'hello'; valid kinds: 'fake'" == str(
        excinfo.value
    )
    assert "hello" == excinfo.value.step_id


def test_unknown_key_lists_valid_keys(registry: FakeRegistry) -> None:
    """A key that is no keyword and no stage input field is refused with the valid keys."""
    with pytest.raises(StepDefinitionError) as excinfo:
        prepare_step(registry, "s", {"kind": "fake", "go": True, "inptu": 1, "zz": 2})
    assert (
        "unknown keys 'inptu', 'zz' in step 's' of kind 'fake'; valid keys: 'fake', 'go', "
        "'kind', 'stop_if', 'value' @ $.steps.s"
    ) == str(excinfo.value)


def test_missing_required_field_has_the_step_path(registry: FakeRegistry) -> None:
    """A missing required stage input field is reported at the step's path."""
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "s", {"kind": "fake"})
    assert "missing required field 'go' @ $.steps.s" == str(excinfo.value)


def test_problems_are_reported_with_the_given_path(registry: FakeRegistry) -> None:
    """Run input problems come first (the lifecycle depends on the run input), with paths."""
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "s", {"kind": "fake", "value": "x", "go": "maybe"}, path="$")
    assert "expected an integer, got 'x' @ $.value" == str(excinfo.value)
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "s", {"kind": "fake", "value": 2, "go": "maybe"}, path="$")
    assert "expected a boolean, got 'maybe' @ $.go" == str(excinfo.value)


def test_provider_keyword_is_validated_first(registry: FakeRegistry) -> None:
    """An invalid provider keyword fails before anything is loaded."""
    provider = registry.providers["fake"]
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "s", {"kind": "fake", "go": True, "fake": {"mode": 3.5}})
    assert "expected a string, got 3.5 @ $.steps.s.fake.mode" == str(excinfo.value)
    assert [] == provider.loads


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        pytest.param([1], "step 's' must be a mapping, got a list @ $.steps.s", id="list"),
        pytest.param(
            {"kind": 3}, "'kind' of step 's' must be a string, got 3 @ $.steps.s.kind", id="kind"
        ),
    ],
)
def test_malformed_definitions(registry: FakeRegistry, definition: Any, message: str) -> None:
    """A definition that is not a mapping, or a non-string kind, is a StepDefinitionError."""
    with pytest.raises(StepDefinitionError) as excinfo:
        prepare_step(registry, "s", definition)
    assert message == str(excinfo.value)


def test_runnable_is_loaded_once_per_provider_input(
    registry: FakeRegistry, provider: FakeProvider
) -> None:
    """Steps configuring the provider the same way share one schema load."""
    cache = RunnableCache()
    for step_id in ("a", "b", "c"):
        prepare_step(registry, step_id, {"kind": "fake", "go": True}, cache=cache)
    prepare_step(registry, "d", {"kind": "fake", "go": True, "fake": {"mode": "y"}}, cache=cache)
    assert [{}, {"fake": {"mode": "y"}}] == provider.loads


def test_schema_hint_fields_reach_load_schema(
    registry: FakeRegistry, provider: FakeProvider
) -> None:
    """Stage input fields a provider lists in ``schema_hint_fields`` reach ``load_schema`` raw,
    next to the provider keyword (and key the cache); other names are ignored; the field is
    still validated as stage input."""
    provider.schema_hint_fields = frozenset({"stop_if", "value", "kind", "nonsense"})  # type: ignore[attr-defined]
    cache = RunnableCache()
    definition = {"kind": "fake", "go": True, "value": 1, "stop_if": {"when": "now"}}
    prepared = prepare_step(registry, "a", definition, cache=cache)
    prepare_step(registry, "b", definition, cache=cache)
    prepare_step(registry, "c", {**definition, "stop_if": False}, cache=cache)
    prepare_step(registry, "d", {"kind": "fake", "go": True}, cache=cache)
    assert [{"stop_if": {"when": "now"}}, {"stop_if": False}, {}] == provider.loads
    assert {"stop_if": {"when": "now"}} == prepared.stage_inputs["stop"]
    assert {} == prepared.provider_input  # the validated provider keyword only


def test_deferred_stages_are_neither_validated_nor_hints(
    registry: FakeRegistry, provider: FakeProvider
) -> None:
    """A deferred stage (a workflow stage whose input comes later) is skipped: its fields are
    not validated, not passed as schema hints, and the stage is not in ``stage_inputs``."""
    provider.schema_hint_fields = frozenset({"stop_if"})  # type: ignore[attr-defined]
    definition = {"kind": "fake", "go": "not a bool", "stop_if": object()}
    prepared = prepare_step(
        registry, "a", definition, cache=RunnableCache(), deferred_stages={"prepare", "stop"}
    )
    assert {} == prepared.stage_inputs
    assert [{}] == provider.loads
    with pytest.raises(StepDefinitionError) as excinfo:
        prepare_step(registry, "a", {**definition, "nope": 1}, deferred_stages={"prepare"})
    assert (
        "unknown key 'nope' in step 'a' of kind 'fake'; valid keys: 'fake', 'go', 'kind', "
        "'stop_if', 'value'",
        "$.steps.a",
    ) == (
        excinfo.value.problem,
        excinfo.value.path,
    )


def test_default_cache_is_per_registry(registry: FakeRegistry, provider: FakeProvider) -> None:
    """Without an explicit cache, one cache per registry object is used."""
    prepare_step(registry, "a", {"kind": "fake", "go": True})
    prepare_step(registry, "b", {"kind": "fake", "go": True})
    assert 1 == len(provider.loads)
    prepare_step(FakeRegistry(provider), "c", {"kind": "fake", "go": True})
    assert 2 == len(provider.loads)


def test_concurrent_prepares_load_once(registry: FakeRegistry, provider: FakeProvider) -> None:
    """Many threads preparing steps of one configuration load the runnable once."""
    cache = RunnableCache()
    barrier = threading.Barrier(8)

    def prepare() -> None:
        barrier.wait()
        prepare_step(registry, "s", {"kind": "fake", "go": True}, cache=cache)

    threads = [threading.Thread(target=prepare) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 == len(provider.loads)


def test_failed_load_is_not_cached(registry: FakeRegistry, provider: FakeProvider) -> None:
    """A load that raised is tried again next time."""
    calls: list[int] = []
    original = provider.load_schema

    def flaky(provider_input: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("schema probe failed")
        return original(provider_input)

    provider.load_schema = flaky  # type: ignore[method-assign]
    cache = RunnableCache()
    with pytest.raises(RuntimeError, match=r"^schema probe failed$"):
        prepare_step(registry, "s", {"kind": "fake", "go": True}, cache=cache)
    prepare_step(registry, "s", {"kind": "fake", "go": True}, cache=cache)
    assert 2 == len(calls)
