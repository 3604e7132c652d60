"""One rule set for provider schemas: ``check``, ``run`` (prepare_step) and the kit agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from runner_fakes import LIFECYCLE, RUN_SCHEMA, OneProvider

from arcaflow_steps import (
    InvalidProviderError,
    Lifecycle,
    LifecycleStageWithSchema,
    ProviderLoadError,
    Registry,
    hookimpl,
    prepare_step,
)
from arcaflow_steps._provider_rules import validate_provider
from arcaflow_steps.authoring import SimpleRunnableStep, StepProviderBase, without_schemas
from arcaflow_steps.schema import (
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
)
from arcaflow_steps.testing import ConformanceCase, ConformanceError, check_schemas

BAD_SCHEMAS = [
    pytest.param(
        PropertySchema(type=FloatSchema(), default='"sixty"'),
        "default '\"sixty\"' is not a valid value: expected a number, got 'sixty' @ $.default",
        id="default-of-another-type",
    ),
    pytest.param(
        PropertySchema(type=IntSchema(min=10, max=1)),
        "min 10 is greater than max 1; no value can match @ $.type.min",
        id="min-above-max",
    ),
    pytest.param(
        PropertySchema(type=ListSchema(items=StringSchema(min=3, max=2))),
        "min 3 is greater than max 2; no value can match @ $.type.items.min",
        id="nested-min-above-max",
    ),
    pytest.param(
        PropertySchema(
            type=ScopeSchema(
                root="Config", objects={"Config": ObjectSchema(id="Other", properties={})}
            )
        ),
        "object declared as 'Config' has id 'Other'; each object of a scope must be declared "
        "under its own id, so ids are unique @ $.type.objects['Config'].id",
        id="object-id-not-its-key",
    ),
]


class SchemaProvider:
    """An untyped provider whose provider keyword has the schema under test."""

    kind = "schemas"
    provider_keyword = "config"
    run_keyword = "step"

    def __init__(self, schema: PropertySchema) -> None:
        self.schema = schema

    def lifecycle(self) -> Any:
        return without_schemas(LIFECYCLE)

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        return {"config": self.schema}

    def load_schema(self, provider_input: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class Plugin:
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @hookimpl
    def arcaflow_steps_providers(self) -> list[Any]:
        return [self.provider]


@pytest.mark.parametrize(("schema", "problem"), BAD_SCHEMAS)
def test_check_refuses_a_provider_schema_that_cannot_mean_anything(
    schema: PropertySchema, problem: str
) -> None:
    """``check`` (the registry) fails the provider, naming the schema and the problem."""
    expected = (
        f"provider 'schemas' is invalid: provider_schema()['config'] is not a valid schema: "
        f"invalid schema: {problem}"
    )
    with pytest.raises(InvalidProviderError) as excinfo:
        validate_provider(SchemaProvider(schema))
    assert expected == str(excinfo.value)
    registry = Registry.from_plugins([Plugin(SchemaProvider(schema))])
    (failure,) = registry.check()
    assert isinstance(failure.error, ProviderLoadError)
    assert failure.message.endswith(expected)


@pytest.mark.parametrize(("schema", "problem"), BAD_SCHEMAS)
def test_kit_says_what_check_says(schema: PropertySchema, problem: str) -> None:
    """The kit reports the same problem in the same words."""
    with pytest.raises(ConformanceError) as excinfo:
        check_schemas(SchemaProvider(schema), [])
    assert (
        "provider 'schemas' breaks the rule: [schemas are valid] provider_schema()['config'] "
        f"is not a valid schema: invalid schema: {problem}"
    ) == str(excinfo.value)


@attrs.frozen
class TimerConfig:
    """A typed configuration whose default is not of its type (the issue's example)."""

    seconds: float = attrs.field(default="sixty")  # type: ignore[assignment]


class TimerProvider(StepProviderBase[TimerConfig]):
    kind = "timer"
    provider_keyword = "timer"
    run_keyword = "step"
    config_type = TimerConfig

    def lifecycle(self) -> Any:
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: TimerConfig) -> SimpleRunnableStep:
        raise NotImplementedError


def test_typed_default_of_the_wrong_type_fails_check() -> None:
    """A float field with the default 'sixty' fails ``check``, not every user's step."""
    with pytest.raises(InvalidProviderError) as excinfo:
        validate_provider(TimerProvider().any())
    assert (
        "provider 'timer' is invalid: provider_schema()['timer'] is not a valid schema: invalid "
        "schema: default '\"sixty\"' is not a valid value: expected a number, got 'sixty' @ "
        "$.type.objects['TimerConfig'].properties['seconds'].default"
    ) == str(excinfo.value)


def _stage_schema_lifecycle(prop: PropertySchema) -> Lifecycle[LifecycleStageWithSchema]:
    first, *rest = LIFECYCLE.stages
    return Lifecycle(
        initial_stage=LIFECYCLE.initial_stage,
        stages=[attrs.evolve(first, input_schema={"go": prop}), *rest],
    )


class StageSchemaProvider(SchemaProvider):
    """A valid provider schema; the stage input schema of ``prepare`` is the one under test."""

    run_keyword = "value"

    def __init__(self, schema: PropertySchema) -> None:
        super().__init__(PropertySchema(type=StringSchema()))
        self.stage_schema = schema

    def load_schema(self, provider_input: Mapping[str, Any]) -> Any:
        lifecycle = _stage_schema_lifecycle(self.stage_schema)
        return SimpleRunnableStep(lifecycle, RUN_SCHEMA, lambda run_input, run_id: None)


def test_run_blames_the_provider_for_a_broken_stage_input_schema() -> None:
    """``run`` (prepare_step) refuses a stage input schema whose default is not of its type,
    naming the provider, before it validates the user's value against it."""
    provider = StageSchemaProvider(PropertySchema(type=IntSchema(), default='"ten"'))
    with pytest.raises(InvalidProviderError) as excinfo:
        prepare_step(OneProvider(provider), "s", {"kind": "schemas", "go": 3})
    assert (
        "provider 'schemas' is invalid: input schema of stage 'prepare'['go'] is not a valid "
        "schema: invalid schema: default '\"ten\"' is not a valid value: expected an integer, "
        "got 'ten' @ $.default"
    ) == str(excinfo.value)
    with pytest.raises(ConformanceError) as kit_error:
        check_schemas(provider, [ConformanceCase(id="c", definition={"go": True})])
    assert str(excinfo.value).split(": ", 1)[1] in str(kit_error.value)


def test_check_sees_the_stage_schemas_of_a_provider_that_loads_by_default() -> None:
    """``check`` loads a provider with its default configuration and applies the same rules to
    its run and stage schemas; a provider needing its keyword, or a sound one, has none."""
    from arcaflow_steps._schema_rules import default_runnable_problems

    broken = StageSchemaProvider(PropertySchema(type=IntSchema(min=3, max=2)))
    assert [
        "input schema of stage 'prepare'['go'] is not a valid schema: invalid schema: min 3 is "
        "greater than max 2; no value can match @ $.type.min"
    ] == default_runnable_problems(broken)
    assert [] == default_runnable_problems(StageSchemaProvider(PropertySchema(type=IntSchema())))
    registry = Registry.from_entry_points(environ={})
    assert [] == default_runnable_problems(registry.get("dummy"))
    assert [] == default_runnable_problems(registry.get("plugin"))  # needs its src
