"""The rules a provider's schemas must follow: one rule set for ``check``, ``run`` and the kit.

A schema is checked the way a plugin's schema is when it arrives over ATP: written in the
Arcaflow form and read back, which checks its meaning — refs resolve, every default parses to
its type, ``min`` is not above ``max``, each object of a scope is declared under its own id.
Property maps must describe exactly the keys they are for (the provider keyword, the run
keyword, a stage's input fields).

``arcaflow-steps check`` (through :func:`~arcaflow_steps._provider_rules.validate_provider`)
checks the provider schema, and the run and stage schemas of a provider that loads with its
default configuration (:func:`default_runnable_problems`); ``prepare_step`` checks the run
schema and the lifecycle's stage input and output schemas once per loaded runnable, before any
user value is validated against them (so a broken default blames the provider, never the
user's file); the conformance kit calls the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import ArcaflowStepsError, quote, quote_sorted
from ._lifecycle import Lifecycle, LifecycleStageWithSchema
from ._schema import PropertySchema, ScopeSchema, StepOutputSchema
from ._schema._parse import parse_property, parse_scope
from ._schema._serialize import serialize_property, serialize_scope

__all__ = [
    "default_runnable_problems",
    "lifecycle_schema_problems",
    "properties_problems",
    "schema_problem",
]


def schema_problem(schema: PropertySchema | ScopeSchema) -> str | None:
    """Return what is wrong with ``schema``'s meaning, or ``None``."""
    try:
        if isinstance(schema, PropertySchema):
            parse_property(serialize_property(schema))
        else:
            parse_scope(serialize_scope(schema))
    except (ArcaflowStepsError, TypeError, ValueError) as exc:
        return str(exc)
    return None


def properties_problems(where: str, properties: object, expected_keys: Iterable[str]) -> list[str]:
    """Return the problems of a property map that must describe exactly ``expected_keys``."""
    if not hasattr(properties, "items") or not hasattr(properties, "keys"):
        return [f"{where} is not a mapping: {properties!r}"]
    problems: list[str] = []
    expected = set(expected_keys)
    keys = set(properties.keys())
    if keys != expected:
        problems.append(
            f"{where} describes {quote_sorted(keys)}; expected exactly {quote_sorted(expected)}"
        )
    for key, value in properties.items():
        if not isinstance(value, PropertySchema):
            problems.append(f"{where}[{quote(key)}] is not a PropertySchema: {value!r}")
            continue
        problem = schema_problem(value)
        if problem is not None:
            problems.append(f"{where}[{quote(key)}] is not a valid schema: {problem}")
    return problems


def lifecycle_schema_problems(lifecycle: Lifecycle[LifecycleStageWithSchema]) -> list[str]:
    """Return the problems of a lifecycle's stage input and output schemas."""
    problems: list[str] = []
    for stage in lifecycle.stages:
        stage_id = quote(stage.id)
        problems += properties_problems(
            f"input schema of stage {stage_id}", stage.input_schema, stage.input_fields
        )
        for output_id, output in stage.outputs.items():
            problems += _output_problems(f"output {quote(output_id)} of stage {stage_id}", output)
        if stage.outputs and not stage.is_terminal and stage.input_only:
            problems.append(
                f"input-only stage {stage_id} declares outputs, but a step never enters it"
            )
    return problems


def _output_problems(where: str, output: Any) -> list[str]:
    if not isinstance(output, StepOutputSchema) or not isinstance(output.schema, ScopeSchema):
        return [f"{where} is not a StepOutputSchema with a ScopeSchema: {output!r}"]
    problem = schema_problem(output.schema)
    return [] if problem is None else [f"{where} is not a valid schema: {problem}"]


def default_runnable_problems(provider: Any) -> list[str]:
    """Return the problems of the run and stage schemas of ``provider`` loaded with its default
    configuration (what ``check`` can see without a step); none when it cannot load so."""
    from ._step_json_schema import runnable_schemas

    try:
        loaded = runnable_schemas(provider)
    except Exception:  # needs its provider keyword (or is broken in a way run will report)
        return []
    return [
        *properties_problems("run_schema()", loaded.run_schema, [provider.run_keyword]),
        *lifecycle_schema_problems(loaded.lifecycle),
    ]
